/* fake_server.c - a server that answers badly or never; see fake_server.h. */
#include "fake_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Reads until the request's blank line (or the client goes away). */
static void read_request(int fd)
{
    char request[2048];
    size_t length = 0;
    while (length < sizeof request - 1) {
        ssize_t got = recv(fd, request + length, sizeof request - 1 - length, 0);
        if (got <= 0)
            return;
        length += (size_t)got;
        request[length] = '\0';
        if (strstr(request, "\r\n\r\n") != NULL)
            return;
    }
}

/* The child: serves connections one after another until it is killed. */
static void serve(int listener, const char *reply)
{
    for (;;) {
        int fd = accept(listener, NULL, NULL);
        if (fd < 0)
            continue;
        if (reply == NULL)
            continue;  /* never answers, never closes: the fd stays open */
        read_request(fd);
        send(fd, reply, strlen(reply), MSG_NOSIGNAL);
        close(fd);
    }
}

int test_fake_server_start(struct fake_server *server, const char *reply)
{
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0 };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, (struct sockaddr *)&address, sizeof address) != 0
        || listen(listener, 64) != 0
        || getsockname(listener, (struct sockaddr *)&address, &length) != 0) {
        perror("fake server: cannot listen");
        if (listener >= 0)
            close(listener);
        return -1;
    }
    snprintf(server->url, sizeof server->url, "http://127.0.0.1:%d", ntohs(address.sin_port));
    pid_t parent = getpid();
    server->pid = fork();
    if (server->pid < 0) {
        perror("fake server: cannot fork");
        close(listener);
        return -1;
    }
    if (server->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);  /* a crashed test leaves no server behind */
        if (getppid() == parent)
            serve(listener, reply);
        _exit(0);
    }
    close(listener);  /* the child listens; it was bound before the fork */
    return 0;
}

int test_fake_server_stop(struct fake_server *server)
{
    if (server->pid > 0) {
        kill(server->pid, SIGKILL);
        waitpid(server->pid, NULL, 0);
    }
    server->pid = 0;
    return 0;
}
