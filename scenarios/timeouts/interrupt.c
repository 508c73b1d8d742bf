/* interrupt.c - the self-pipe behind Ctrl+C; see interrupt.h. */
#include "interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "clock.h"

static volatile sig_atomic_t interrupt_signal;
static int wake_pipe[2] = { -1, -1 };

/* A signal handler may only do async-signal-safe things: set a flag of
 * type sig_atomic_t and write(2) are two of them.  The byte in the pipe
 * wakes a program that is waiting in poll() on the read end. */
static void on_interrupt(int signal_number)
{
    int saved_errno = errno;
    interrupt_signal = signal_number;
    if (wake_pipe[1] >= 0 && write(wake_pipe[1], "!", 1) < 0) {
        /* The pipe is full: a wake-up is already waiting.  Nothing to do. */
    }
    errno = saved_errno;
}

bool interrupt_install(void)
{
    if (pipe2(wake_pipe, O_NONBLOCK | O_CLOEXEC) != 0)
        return false;
    /* SA_RESETHAND: the first Ctrl+C asks for a clean stop, a second one
     * kills the program the usual way if the clean stop ever got stuck.
     * No SA_RESTART: a blocking poll() returns at once with EINTR. */
    struct sigaction action = { .sa_handler = on_interrupt, .sa_flags = SA_RESETHAND };
    sigemptyset(&action.sa_mask);
    return sigaction(SIGINT, &action, NULL) == 0 && sigaction(SIGTERM, &action, NULL) == 0;
}

void interrupt_uninstall(void)
{
    for (int i = 0; i < 2; i++) {
        if (wake_pipe[i] >= 0)
            close(wake_pipe[i]);
        wake_pipe[i] = -1;
    }
}

bool timeouts_interrupted(void)
{
    return interrupt_signal != 0;
}

int interrupt_signal_number(void)
{
    return interrupt_signal;
}

const char *interrupt_name(void)
{
    return interrupt_signal == SIGTERM ? "SIGTERM" : "Ctrl+C";
}

int timeouts_wake_fd(void)
{
    return wake_pipe[0];
}

void timeouts_drain_wake_fd(void)
{
    char bytes[16];
    while (wake_pipe[0] >= 0 && read(wake_pipe[0], bytes, sizeof bytes) > 0)
        ;
}

void interrupt_sleep_until(double when)
{
    struct pollfd wake = { timeouts_wake_fd(), POLLIN, 0 };
    double left;
    while (!timeouts_interrupted() && (left = when - clock_now()) > 0)
        poll(&wake, 1, (int)ceil(left * 1000));
}

int interrupt_abort_transfer(void *data, curl_off_t download_total, curl_off_t downloaded,
                             curl_off_t upload_total, curl_off_t uploaded)
{
    (void)data, (void)download_total, (void)downloaded, (void)upload_total, (void)uploaded;
    return timeouts_interrupted();
}
