/*
 * echo_epoll.c — an echo server on epoll over synack's fd API.
 *
 * The sockets are file descriptors: the server is the usual non-blocking
 * epoll loop (accept4, read, write, EPOLLOUT when a write falls short),
 * with synack_fd_* only where a program would call socket, bind, listen,
 * accept4 and close. Uses the public headers only (synack.h, synack_rt.h).
 *
 *   echo_epoll                      two runtimes in this process joined by
 *                                   an in-process link: the server on one,
 *                                   4 clients on the other each send 1 MiB
 *                                   and check the echo; prints "ok"
 *   echo_epoll --tap IF IP [PORT]   serve on a TAP interface (root), e.g.
 *                                   echo_epoll --tap tap0 10.77.0.2 7
 *                                   (then: ip addr add 10.77.0.1/24 dev tap0;
 *                                   ip link set tap0 up; nc 10.77.0.2 7)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "synack_rt.h"

#define CLIENTS 4
#define BYTES (1u << 20)

/* ------------------------------------------------------------ the server */

typedef struct conn {
    int fd;
    char pending[65536]; /* read but not yet echoed */
    size_t len, off;
} conn;

static atomic_int stop; /* set by a signal, or by the demo when its clients end */
static int live; /* connections open (the server thread's own count) */

static void on_signal(int sig) { (void)sig; stop = 1; }

static void drop(synack_rt *rt, conn *c)
{
    synack_fd_close(rt, c->fd); /* also leaves the epoll set */
    free(c);
    live--;
}

/* Echo what is readable; when a write falls short, wait for EPOLLOUT. */
static void serve(synack_rt *rt, int ep, conn *c)
{
    for (;;) {
        while (c->off < c->len) {
            ssize_t w = write(c->fd, c->pending + c->off, c->len - c->off);
            if (w < 0 && errno == EAGAIN) {
                struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
                epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                return;
            }
            if (w < 0) {
                drop(rt, c);
                return;
            }
            c->off += (size_t)w;
        }
        ssize_t n = read(c->fd, c->pending, sizeof c->pending);
        if (n < 0 && errno == EAGAIN) {
            struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
            epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
            return;
        }
        if (n <= 0) { /* EOF or reset */
            drop(rt, c);
            return;
        }
        c->len = (size_t)n;
        c->off = 0;
    }
}

/* Take every waiting connection; returns how many. */
static int accept_all(synack_rt *rt, int ep, int lfd)
{
    for (int taken = 0;; taken++) {
        int fd = synack_fd_accept(rt, lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return taken; /* EAGAIN: none left */
        conn *c = calloc(1, sizeof *c);
        if (!c) {
            synack_fd_close(rt, fd);
            continue;
        }
        c->fd = fd;
        live++;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
}

/* A non-blocking listener on `port`, or -1. */
static int open_listener(synack_rt *rt, uint16_t port)
{
    int lfd = synack_fd_socket(rt, AF_INET, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct sockaddr_in any = {.sin_family = AF_INET, .sin_port = htons(port)};
    int one = 1;
    if (lfd < 0 || synack_fd_setsockopt(rt, lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        synack_fd_bind(rt, lfd, (struct sockaddr *)&any, sizeof any) < 0 ||
        synack_fd_listen(rt, lfd, 64) < 0) {
        perror("echo_epoll: listen");
        return -1;
    }
    return lfd;
}

/* Echo on listener `lfd` until `stop` (or, when `max_conns` is nonzero,
 * until that many connections came and went). Closes the listener. */
static void run_server(synack_rt *rt, int lfd, int max_conns)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &lev);
    int accepted = 0;
    while (!stop) {
        struct epoll_event evs[32];
        int n = epoll_wait(ep, evs, 32, 200);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.ptr)
                serve(rt, ep, evs[i].data.ptr);
            else
                accepted += accept_all(rt, ep, lfd);
        }
        if (max_conns && accepted >= max_conns && live == 0)
            break; /* the demo's clients came and went */
    }
    synack_fd_close(rt, lfd);
    close(ep);
}

/* ------------------------------------------------------- the demo clients */

typedef struct client {
    synack_rt *rt;
    int id;
    int ok;
} client;

static void *send_all(void *arg)
{
    int fd = *(int *)arg;
    char buf[16384];
    for (size_t sent = 0; sent < BYTES;) {
        size_t n = BYTES - sent < sizeof buf ? BYTES - sent : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)((sent + i) * 31 >> 3);
        ssize_t w = write(fd, buf, n);
        if (w <= 0)
            break;
        sent += (size_t)w;
    }
    shutdown(fd, SHUT_WR); /* the kernel's own call on the descriptor */
    return NULL;
}

static void *run_client(void *arg)
{
    client *c = arg;
    int fd = synack_fd_socket(c->rt, AF_INET, SOCK_CLOEXEC);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(7),
                             .sin_addr.s_addr = htonl(0x0a000002)};
    if (fd < 0 || synack_fd_connect(c->rt, fd, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("echo_epoll: connect");
        return NULL;
    }
    pthread_t writer;
    pthread_create(&writer, NULL, send_all, &fd);
    char buf[16384];
    size_t got = 0;
    int same = 1;
    for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0; got += (size_t)n)
        for (ssize_t i = 0; i < n; i++)
            same &= buf[i] == (char)((got + (size_t)i) * 31 >> 3);
    pthread_join(writer, NULL);
    synack_fd_close(c->rt, fd);
    c->ok = same && got == BYTES;
    return NULL;
}

static synack_rt *make_rt(synack_rt_config *cfg)
{
    char err[256];
    synack_rt *rt = synack_rt_new(cfg, err, sizeof err);
    if (!rt)
        fprintf(stderr, "echo_epoll: %s\n", err);
    else if (synack_rt_start(rt) < 0)
        perror("echo_epoll: start");
    return rt;
}

typedef struct server_args {
    synack_rt *rt;
    int lfd;
} server_args;

static void *server_thread(void *arg)
{
    server_args *a = arg;
    run_server(a->rt, a->lfd, CLIENTS);
    return NULL;
}

static int demo(void)
{
    synack_rt_link *link = synack_rt_link_new();
    synack_rt *rt[2];
    for (int side = 0; side < 2; side++) {
        synack_rt_config cfg;
        synack_rt_config_init(&cfg);
        cfg.link = link;
        cfg.link_side = side;
        cfg.stack.mac[0] = 2;
        cfg.stack.mac[5] = (uint8_t)(side + 1);
        cfg.stack.ip = 0x0a000001u + (uint32_t)side;
        rt[side] = make_rt(&cfg);
        if (!rt[side])
            return 1;
    }
    /* Listening before any client starts: a connect never races the listen. */
    server_args sa = {.rt = rt[1], .lfd = open_listener(rt[1], 7)};
    if (sa.lfd < 0)
        return 1;
    pthread_t srv, cli[CLIENTS];
    pthread_create(&srv, NULL, server_thread, &sa);
    client c[CLIENTS];
    int ok = 1;
    for (int i = 0; i < CLIENTS; i++) {
        c[i] = (client){.rt = rt[0], .id = i};
        pthread_create(&cli[i], NULL, run_client, &c[i]);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(cli[i], NULL);
        ok &= c[i].ok;
    }
    stop = 1; /* a client that failed never comes: do not wait for it */
    pthread_join(srv, NULL);
    synack_rt_free(rt[0]);
    synack_rt_free(rt[1]);
    synack_rt_link_free(link);
    printf("echo_epoll: %d clients echoed %u bytes each: %s\n", CLIENTS, BYTES, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}

static int tap(const char *ifname, const char *ip, uint16_t port)
{
    synack_rt_config cfg;
    synack_rt_config_init(&cfg);
    cfg.device = SYNACK_RT_TAP;
    cfg.ifname = ifname;
    cfg.stack.mac[0] = 2;
    cfg.stack.mac[5] = 0x42;
    if (synack_ip_parse(ip, &cfg.stack.ip) < 0) {
        fprintf(stderr, "echo_epoll: bad address %s\n", ip);
        return 2;
    }
    synack_rt *rt = make_rt(&cfg);
    if (!rt)
        return 1;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int lfd = open_listener(rt, port);
    if (lfd >= 0)
        run_server(rt, lfd, 0);
    synack_rt_free(rt);
    return lfd >= 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "--tap") == 0)
        return tap(argv[2], argv[3], (uint16_t)(argc > 4 ? atoi(argv[4]) : 7));
    if (argc > 1) {
        fprintf(stderr, "usage: echo_epoll [--tap IFNAME IP [PORT]]\n");
        return 2;
    }
    return demo();
}
