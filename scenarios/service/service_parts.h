/*
 * service_parts.h - what service.c, service_http.c and service_upstream.c
 * share with each other and not with the programs.
 */
#ifndef ASYNCLAB_SERVICE_PARTS_H
#define ASYNCLAB_SERVICE_PARTS_H

#include "service.h"

/* The lock of the counts and the trace (struct service says what it guards). */
static inline void service_lock(struct service *service)
{
    pthread_mutex_lock(&service->lock);
}

static inline void service_unlock(struct service *service)
{
    pthread_mutex_unlock(&service->lock);
}

/* Queues `body` (malloc'd; freed here whatever happens) as the request's
 * reply with its status and content type; a 405 says which method would
 * do, a 503 closes the connection. */
enum MHD_Result service_queue_reply(struct service_request *request, unsigned status,
                                    const char *content_type, char *body);

#endif
