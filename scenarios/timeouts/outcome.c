/* outcome.c - what counts as a timeout, an error, a success; see outcome.h. */
#include "outcome.h"

#include <errno.h>

enum timeouts_outcome outcome_of_attempt(CURL *easy, CURLcode result, long status)
{
    if (result == CURLE_OK)
        return status >= 200 && status < 300 ? TIMEOUTS_OK : TIMEOUTS_HTTP_ERROR;
    /* CURLOPT_TIMEOUT_MS ran out: the one result that means "timed out". */
    if (result == CURLE_OPERATION_TIMEDOUT)
        return TIMEOUTS_TIMED_OUT;
    /* libcurl says only that it could not connect; the system's errno
     * tells a refused connection (nobody listening: maybe a restart, worth
     * retrying) from the rest. */
    if (result == CURLE_COULDNT_CONNECT) {
        long os_errno = 0;
        curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno == ECONNREFUSED)
            return TIMEOUTS_REFUSED;
    }
    return TIMEOUTS_TRANSPORT_ERROR;
}

bool outcome_is_failure(enum timeouts_outcome outcome)
{
    return outcome != TIMEOUTS_PENDING && outcome != TIMEOUTS_OK
        && outcome != TIMEOUTS_CANCELLED;
}

const char *outcome_name(enum timeouts_outcome outcome)
{
    switch (outcome) {
    case TIMEOUTS_OK: return "ok";
    case TIMEOUTS_TIMED_OUT: return "timed out";
    case TIMEOUTS_HTTP_ERROR: return "http error";
    case TIMEOUTS_REFUSED: return "connection refused";
    case TIMEOUTS_TRANSPORT_ERROR: return "transport error";
    case TIMEOUTS_CANCELLED: return "cancelled";
    case TIMEOUTS_PENDING: break;
    }
    return "pending";
}
