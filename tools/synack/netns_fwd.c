/* netns_fwd.c — host listeners that forward into the namespace (see
 * netns_fwd.h). */
#define _GNU_SOURCE
#include "netns_fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fmt.h"
#include "opts.h"
#include "watch.h"

struct fwd {
    watch w; /* first: epoll's data.ptr */
    fwd_spec spec;
    int fd;
    synack_stack *s;
    uint32_t ns_ip;
    relay_ctx *rc;
};

int fwd_parse(const char *text, fwd_spec *out)
{
    memset(out, 0, sizeof *out);
    out->text = text;
    char buf[96];
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        return -1;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash++ = '\0';
        if (!strcmp(slash, "udp"))
            out->udp = 1;
        else if (strcmp(slash, "tcp"))
            return -1;
    }
    char *parts[3];
    int n = 0;
    for (char *save = NULL, *p = strtok_r(buf, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        if (n == 3)
            return -1;
        parts[n++] = p;
    }
    if (n < 2 || (n == 3 && synack_ip_parse(parts[0], &out->host_ip) < 0))
        return -1;
    long hp, np;
    if (opts_long(parts[n - 2], 1, 65535, &hp) < 0 || opts_long(parts[n - 1], 1, 65535, &np) < 0)
        return -1;
    out->host_port = (uint16_t)hp;
    out->ns_port = (uint16_t)np;
    return 0;
}

/* One accepted host connection: open its twin into the namespace. */
static void forward_one(fwd *f, int fd, const struct sockaddr_in *peer)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* the relay adds no delay */
    synack_sock *k = synack_socket(f->s);
    int rc = k ? synack_connect(k, f->ns_ip, f->spec.ns_port) : -ENOMEM;
    if (rc < 0) {
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        close(fd);
        if (k)
            synack_abort(k);
        fprintf(stderr, "synack netns: -p %s: cannot connect into the namespace: %s\n",
                f->spec.text, fmt_errno(rc));
        return;
    }
    synack_setopt(k, SYNACK_TCP_NODELAY, 1);
    char from[FMT_ENDPOINT_LEN], to[FMT_ENDPOINT_LEN], label[128];
    snprintf(label, sizeof label, "%s -> %s",
             fmt_endpoint(ntohl(peer->sin_addr.s_addr), ntohs(peer->sin_port), from),
             fmt_endpoint(f->ns_ip, f->spec.ns_port, to));
    relay_start(f->rc, k, fd, label, RELAY_HOST_CONNECTED); /* accepted */
}

static void on_accept(watch *w, uint32_t events)
{
    (void)events;
    fwd *f = (fwd *)w;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_in peer;
        socklen_t len = sizeof peer;
        int fd = accept4(f->fd, (struct sockaddr *)&peer, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED)
                fprintf(stderr, "synack netns: -p %s: accept: %s\n", f->spec.text,
                        strerror(errno));
            return;
        }
        forward_one(f, fd, &peer);
    }
}

fwd *fwd_open(const fwd_spec *spec, int epfd, synack_stack *s, uint32_t ns_ip, relay_ctx *rc,
              char *err, size_t errlen)
{
    fwd *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *f = (fwd){.w.fn = on_accept, .spec = *spec, .s = s, .ns_ip = ns_ip, .rc = rc};
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(spec->host_port),
                            .sin_addr.s_addr = htonl(spec->host_ip)};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &f->w};
    if (f->fd < 0 || setsockopt(f->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(f->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(f->fd, 128) < 0 ||
        epoll_ctl(epfd, EPOLL_CTL_ADD, f->fd, &ev) < 0) {
        char ip[16];
        snprintf(err, errlen, "-p %s: cannot listen on %s:%u: %s", spec->text,
                 fmt_ip(spec->host_ip, ip), spec->host_port, strerror(errno));
        fwd_close(f);
        return NULL;
    }
    return f;
}

void fwd_close(fwd *f)
{
    if (!f)
        return;
    if (f->fd >= 0)
        close(f->fd);
    free(f);
}
