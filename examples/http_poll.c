/*
 * http_poll.c — an HTTP/1.1 client on poll over synack's fd API.
 *
 * The client is the usual non-blocking one: connect returns EINPROGRESS,
 * poll for POLLOUT and read SO_ERROR, write the request as poll allows,
 * read the answer until the server closes, then check the status line and
 * Content-Length. synack_fd_* stand where a program calls socket, connect,
 * getsockopt and close. Public headers only (synack.h, synack_rt.h).
 *
 *   http_poll        two runtimes in this process joined by an in-process
 *                    link: a small server thread on one answers GET with
 *                    256 KiB; the client on the other fetches and checks it
 *                    and prints "ok"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "synack_rt.h"

#define BODY (256u * 1024)
#define PORT 8080
#define WAIT_MS 5000

static char body_byte(size_t i) { return (char)('a' + i % 26); }

/* ------------------------------------------------------------ the server */

typedef struct server {
    synack_rt *rt;
    int listener;
} server;

/* One request, one answer, then close (blocking calls: it is not the
 * point of the example). */
static void *serve(void *arg)
{
    server *sv = arg;
    int c = synack_fd_accept(sv->rt, sv->listener, NULL, NULL, 0);
    if (c < 0)
        return NULL;
    char req[1024];
    size_t got = 0;
    while (got < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t n = read(c, req + got, sizeof req - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
        req[got] = 0;
    }
    char head[128];
    int hl = snprintf(head, sizeof head,
                      "HTTP/1.1 200 OK\r\nContent-Length: %u\r\nConnection: close\r\n\r\n", BODY);
    char *out = malloc(BODY);
    for (size_t i = 0; out && i < BODY; i++)
        out[i] = body_byte(i);
    if (out && write(c, head, (size_t)hl) == hl) {
        for (size_t off = 0; off < BODY;) {
            ssize_t n = write(c, out + off, BODY - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    }
    free(out);
    synack_fd_close(sv->rt, c);
    return NULL;
}

/* ------------------------------------------------------------ the client */

/* Wait for `events` on fd; 0 on time out or error. */
static short wait_for(int fd, short events)
{
    struct pollfd p = {.fd = fd, .events = events};
    return poll(&p, 1, WAIT_MS) > 0 ? p.revents : 0;
}

/* GET / from ip:port; the body goes to *body (malloc'd). Returns the HTTP
 * status, or -1 with a message. */
static int http_get(synack_rt *rt, uint32_t ip, uint16_t port, char **body, size_t *len)
{
    int fd = synack_fd_socket(rt, AF_INET, SOCK_NONBLOCK);
    if (fd < 0)
        return perror("socket"), -1;
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(ip)};
    int status = -1;
    char *buf = NULL;
    size_t used = 0, cap = 0;
    if (synack_fd_connect(rt, fd, (struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS) {
        perror("connect");
        goto out;
    }
    int err = 0;
    socklen_t el = sizeof err;
    if (!(wait_for(fd, POLLOUT) & POLLOUT) ||
        synack_fd_getsockopt(rt, fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
        fprintf(stderr, "connect: %s\n", strerror(err ? err : ETIMEDOUT));
        goto out;
    }
    const char req[] = "GET / HTTP/1.1\r\nHost: example\r\nConnection: close\r\n\r\n";
    for (size_t off = 0; off < sizeof req - 1;) {
        ssize_t n = write(fd, req + off, sizeof req - 1 - off);
        if (n < 0 && errno == EAGAIN && (wait_for(fd, POLLOUT) & POLLOUT))
            continue;
        if (n <= 0) {
            perror("write");
            goto out;
        }
        off += (size_t)n;
    }
    for (;;) { /* the answer, to EOF */
        if (cap - used < 65536) {
            cap = cap ? cap * 2 : 1 << 20;
            char *nb = realloc(buf, cap);
            if (!nb)
                goto out;
            buf = nb;
        }
        ssize_t n = read(fd, buf + used, cap - used);
        if (n == 0)
            break;
        if (n < 0 && errno == EAGAIN && (wait_for(fd, POLLIN) & (POLLIN | POLLHUP | POLLERR)))
            continue;
        if (n < 0) {
            perror("read");
            goto out;
        }
        used += (size_t)n;
    }
    char *end = buf ? memmem(buf, used, "\r\n\r\n", 4) : NULL;
    const char *cl = end ? strcasestr(buf, "\r\nContent-Length:") : NULL;
    if (!end || sscanf(buf, "HTTP/1.%*d %d", &status) != 1 || !cl || cl > end) {
        fprintf(stderr, "bad answer\n");
        status = -1;
        goto out;
    }
    size_t want = strtoul(cl + 17, NULL, 10), have = used - (size_t)(end + 4 - buf);
    if (want != have) {
        fprintf(stderr, "Content-Length %zu, got %zu\n", want, have);
        status = -1;
        goto out;
    }
    memmove(buf, end + 4, have);
    *body = buf;
    *len = have;
    buf = NULL;
out:
    free(buf);
    synack_fd_close(rt, fd);
    return status;
}

/* ------------------------------------------------------------ main */

static synack_rt *start(synack_rt_link *link, int side)
{
    synack_rt_config cfg;
    synack_rt_config_init(&cfg);
    cfg.link = link;
    cfg.link_side = side;
    cfg.stack.mac[0] = 2;
    cfg.stack.mac[5] = (uint8_t)(side + 1);
    cfg.stack.ip = 0x0a000001u + (uint32_t)side;
    char err[256];
    synack_rt *rt = synack_rt_new(&cfg, err, sizeof err);
    if (!rt)
        fprintf(stderr, "runtime: %s\n", err);
    else if (synack_rt_start(rt) < 0) {
        fprintf(stderr, "runtime: cannot start\n");
        synack_rt_free(rt);
        rt = NULL;
    }
    return rt;
}

int main(void)
{
    synack_rt_link *link = synack_rt_link_new();
    synack_rt *cli = link ? start(link, 0) : NULL;
    synack_rt *srv = cli ? start(link, 1) : NULL;
    if (!srv)
        return 1;
    server sv = {.rt = srv, .listener = synack_fd_socket(srv, AF_INET, 0)};
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(PORT)};
    if (sv.listener < 0 || synack_fd_bind(srv, sv.listener, (struct sockaddr *)&any, sizeof any) < 0 ||
        synack_fd_listen(srv, sv.listener, 8) < 0)
        return perror("listen"), 1;
    pthread_t th;
    pthread_create(&th, NULL, serve, &sv);
    char *body = NULL;
    size_t len = 0;
    int status = http_get(cli, 0x0a000002u, PORT, &body, &len);
    pthread_join(th, NULL);
    bool ok = status == 200 && len == BODY;
    for (size_t i = 0; ok && i < len; i++)
        ok = body[i] == body_byte(i);
    printf("http_poll: status %d, %zu bytes: %s\n", status, len, ok ? "ok" : "FAILED");
    free(body);
    synack_fd_close(srv, sv.listener);
    synack_rt_free(cli);
    synack_rt_free(srv);
    synack_rt_link_free(link);
    return ok ? 0 : 1;
}
