/* faulty_server.c - a server that misbehaves on purpose; see faulty_server.h. */
#include "faulty_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* The clients open a handful of connections; more are refused. */
#define MAX_CONNECTIONS 256
#define REQUEST_MAX 8192

struct connection {
    int fd;
    char request[REQUEST_MAX];
    size_t length;
    bool answered;   /* the fault was delivered; silence from now on */
};

static const char HEALTH_REPLY[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n";
static const char PROMISED_BODY[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n";
static const char GARBAGE[] = "this is not HTTP at all\r\n\x01\x02\x03\r\n\r\n";
static const char STATUS_500[] =
    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 6\r\n\r\nbroken";

const char *faulty_fault_name(enum faulty_fault fault)
{
    switch (fault) {
    case FAULTY_SILENT: return "silent";
    case FAULTY_HEADERS_THEN_SILENCE: return "headers-then-silence";
    case FAULTY_GARBAGE: return "garbage";
    case FAULTY_STATUS_500: return "status-500";
    case FAULTY_CLOSE_AFTER_HEADERS: return "close-after-headers";
    }
    return "?";
}

static void send_all(int fd, const char *data, size_t length)
{
    while (length > 0) {
        ssize_t sent = send(fd, data, length, MSG_NOSIGNAL);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent <= 0)
            return;
        data += sent;
        length -= (size_t)sent;
    }
}

/* Answers one complete request; returns false when the connection is to be
 * closed now. */
static bool answer(struct faulty_server *server, struct connection *connection)
{
    if (strncmp(connection->request, "GET /health ", 12) == 0) {
        send_all(connection->fd, HEALTH_REPLY, sizeof HEALTH_REPLY - 1);
        connection->length = 0;  /* keep-alive: the next request may follow */
        return true;
    }
    server->faulted++;
    connection->answered = true;
    switch (server->fault) {
    case FAULTY_SILENT:
        return true;
    case FAULTY_HEADERS_THEN_SILENCE:
        send_all(connection->fd, PROMISED_BODY, sizeof PROMISED_BODY - 1);
        return true;
    case FAULTY_GARBAGE:
        send_all(connection->fd, GARBAGE, sizeof GARBAGE - 1);
        return false;
    case FAULTY_STATUS_500:
        send_all(connection->fd, STATUS_500, sizeof STATUS_500 - 1);
        connection->answered = false;
        connection->length = 0;
        return true;
    case FAULTY_CLOSE_AFTER_HEADERS:
        send_all(connection->fd, PROMISED_BODY, sizeof PROMISED_BODY - 1);
        return false;
    }
    return false;
}

/* The request is complete at the blank line after the headers, plus the
 * body its Content-Length announces (the clients' POSTs have one). */
static bool request_complete(const struct connection *connection)
{
    const char *end = strstr(connection->request, "\r\n\r\n");
    if (end == NULL)
        return false;
    size_t header_length = (size_t)(end - connection->request) + 4;
    const char *length_header = strcasestr(connection->request, "\r\nContent-Length:");
    size_t body_length = 0;
    if (length_header != NULL && length_header < end)
        body_length = (size_t)strtoul(length_header + 17, NULL, 10);
    return connection->length >= header_length + body_length;
}

/* Reads what arrived; returns false when the connection is over. */
static bool serve(struct faulty_server *server, struct connection *connection)
{
    char *free_space = connection->request + connection->length;
    size_t room = sizeof connection->request - connection->length - 1;
    ssize_t got = recv(connection->fd, free_space, room, 0);
    if (got < 0 && errno == EINTR)
        return true;
    if (got <= 0 || room == 0)
        return false;
    if (connection->answered)
        return true;   /* whatever else it sends is ignored */
    connection->length += (size_t)got;
    connection->request[connection->length] = '\0';
    return request_complete(connection) ? answer(server, connection) : true;
}

static void *serve_until_stopped(void *argument)
{
    struct faulty_server *server = argument;
    struct connection *connections = calloc(MAX_CONNECTIONS, sizeof *connections);
    int count = 0;
    while (connections != NULL) {
        struct pollfd fds[MAX_CONNECTIONS + 2];
        fds[0] = (struct pollfd){ server->stop_pipe[0], POLLIN, 0 };
        fds[1] = (struct pollfd){ server->listen_fd, POLLIN, 0 };
        for (int i = 0; i < count; i++)
            fds[i + 2] = (struct pollfd){ connections[i].fd, POLLIN, 0 };
        if (poll(fds, (nfds_t)count + 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        for (int i = count - 1; i >= 0; i--) {
            if (fds[i + 2].revents && !serve(server, &connections[i])) {
                close(connections[i].fd);
                connections[i] = connections[--count];
            }
        }
        if (fds[1].revents) {
            int fd = accept4(server->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd >= 0 && count < MAX_CONNECTIONS)
                connections[count++] = (struct connection){ .fd = fd };
            else if (fd >= 0)
                close(fd);
        }
    }
    for (int i = 0; i < count; i++)
        close(connections[i].fd);
    free(connections);
    return NULL;
}

int faulty_server_start(struct faulty_server *server, enum faulty_fault fault)
{
    memset(server, 0, sizeof *server);
    server->fault = fault;
    server->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0 };
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (server->listen_fd < 0
        || bind(server->listen_fd, (struct sockaddr *)&address, sizeof address) != 0
        || listen(server->listen_fd, 16) != 0
        || getsockname(server->listen_fd, (struct sockaddr *)&address, &length) != 0
        || pipe2(server->stop_pipe, O_CLOEXEC) != 0) {
        perror("faulty_server_start");
        if (server->listen_fd >= 0)
            close(server->listen_fd);
        return -1;
    }
    snprintf(server->url, sizeof server->url, "http://127.0.0.1:%d", ntohs(address.sin_port));
    if (pthread_create(&server->thread, NULL, serve_until_stopped, server) != 0) {
        fprintf(stderr, "faulty_server_start: cannot start its thread\n");
        close(server->listen_fd);
        close(server->stop_pipe[0]);
        close(server->stop_pipe[1]);
        return -1;
    }
    return 0;
}

int faulty_server_stop(struct faulty_server *server)
{
    (void)!write(server->stop_pipe[1], "x", 1);
    pthread_join(server->thread, NULL);
    close(server->listen_fd);
    close(server->stop_pipe[0]);
    close(server->stop_pipe[1]);
    return server->faulted;
}
