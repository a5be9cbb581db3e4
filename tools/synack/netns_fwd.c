/* netns_fwd.c — host listeners that forward into the namespace (see
 * netns_fwd.h), and what the TCP and UDP forwards share: the -p syntax,
 * the host socket, the target in the namespace. */
#define _GNU_SOURCE
#include "netns_fwd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
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
    synack_addr to; /* fwd_target */
    fwd_ns ns;
    relay_ctx *rc;
};

/* The HOSTPORT:NSPORT at `p` (NUL-terminated) into out. 0, or -1. */
static int parse_ports(char *p, fwd_spec *out)
{
    char *colon = strchr(p, ':');
    long hp, np;
    if (!colon)
        return -1;
    *colon = '\0';
    if (opts_long(p, 1, 65535, &hp) < 0 || opts_long(colon + 1, 1, 65535, &np) < 0)
        return -1;
    out->host_port = (uint16_t)hp;
    out->ns_port = (uint16_t)np;
    return 0;
}

int fwd_parse(const char *text, fwd_spec *out)
{
    memset(out, 0, sizeof *out);
    out->text = text;
    out->host = synack_addr_v4(0);
    char buf[96];
    if (snprintf(buf, sizeof buf, "%s", text) >= (int)sizeof buf)
        return -1;
    char *slash = strchr(buf, '/'), *ports = buf;
    if (slash) {
        *slash++ = '\0';
        if (!strcmp(slash, "udp"))
            out->udp = 1;
        else if (strcmp(slash, "tcp"))
            return -1;
    }
    if (buf[0] == '[') { /* an IPv6 address: its colons are not separators */
        char *end = strchr(buf, ']');
        if (!end || end[1] != ':')
            return -1;
        *end = '\0';
        if (synack_addr_parse(buf + 1, &out->host) < 0 || out->host.family != SYNACK_AF_INET6)
            return -1;
        ports = end + 2;
    } else {
        char *first = strchr(buf, ':');
        if (first && strchr(first + 1, ':')) { /* three parts: HOSTIP first */
            uint32_t ip;
            *first = '\0';
            if (synack_ip_parse(buf, &ip) < 0)
                return -1;
            out->host = synack_addr_v4(ip);
            ports = first + 1;
        }
    }
    return parse_ports(ports, out);
}

synack_addr fwd_target(const fwd_spec *spec, const fwd_ns *ns)
{
    if (spec->host.family == SYNACK_AF_INET6 && ns->ipv6)
        return synack_addr_v6(ns->ip6);
    return synack_addr_v4(ns->ip);
}

int fwd_host_socket(const fwd_spec *spec, int type)
{
    struct sockaddr_storage ss;
    socklen_t len;
    memset(&ss, 0, sizeof ss);
    int v6 = spec->host.family == SYNACK_AF_INET6, one = 1;
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(spec->host_port);
        memcpy(&a->sin6_addr, spec->host.v6, 16);
        len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons(spec->host_port);
        a->sin_addr.s_addr = htonl(spec->host.v4);
        len = sizeof *a;
    }
    int fd = socket(ss.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if ((v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
        (type == SOCK_STREAM && setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) ||
        bind(fd, (struct sockaddr *)&ss, len) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

synack_addr fwd_peer_addr(const struct sockaddr_storage *ss, uint16_t *port)
{
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        *port = ntohs(a->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
            uint32_t v4;
            memcpy(&v4, a->sin6_addr.s6_addr + 12, 4);
            return synack_addr_v4(ntohl(v4));
        }
        return synack_addr_v6(a->sin6_addr.s6_addr);
    }
    const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
    *port = ntohs(a->sin_port);
    return synack_addr_v4(ntohl(a->sin_addr.s_addr));
}

/* An IPv4 address the namespace routes through its default route, to us:
 * not 0/8, loopback, link-local, multicast or beyond (class E, broadcast),
 * and not in the namespace's own subnet. */
static bool routed_back4(const fwd_ns *ns, uint32_t a)
{
    uint32_t mask = ns->prefix ? 0xffffffffu << (32 - ns->prefix) : 0;
    return (a >> 24) != 0 && (a >> 24) != 127 && (a >> 16) != 0xa9fe && (a >> 28) < 0xe &&
           (a & mask) != (ns->ip & mask);
}

/* The same for IPv6: a global (or unique-local) unicast address outside
 * the namespace's /64. */
static bool routed_back6(const fwd_ns *ns, const uint8_t a[16])
{
    static const uint8_t loop[16] = {[15] = 1};
    return a[0] != 0xff && !(a[0] == 0xfe && (a[1] & 0xc0) == 0x80) && memcmp(a, loop, 16) != 0 &&
           memcmp(a, (const uint8_t[16]){0}, 12) != 0 && memcmp(a, ns->ip6, 8) != 0;
}

synack_addr fwd_gateway(const fwd_ns *ns, int family)
{
    return family == SYNACK_AF_INET6 ? synack_addr_v6(ns->gw6) : synack_addr_v4(ns->gw);
}

synack_addr fwd_source(const fwd_ns *ns, const synack_addr *client, const synack_addr *to)
{
    bool routed = client->family == to->family &&
                  (to->family == SYNACK_AF_INET6 ? routed_back6(ns, client->v6)
                                                 : routed_back4(ns, client->v4));
    return routed ? *client : fwd_gateway(ns, to->family);
}

/* k connects to the namespace from `from`: the client's address and port
 * (SYNACK_IP_TRANSPARENT), or a port of our choosing there when that one
 * is taken or its flow would belong to another thread; the gateway's, as
 * any connection of ours, when `from` is the gateway. */
static int connect_from(fwd *f, synack_sock *k, const synack_addr *from, uint16_t port)
{
    synack_addr gw = fwd_gateway(&f->ns, f->to.family);
    if (!synack_addr_equal(from, &gw)) {
        const synack_steer *st = &synack_stack_config(f->s)->steer;
        if (synack_steer_flow(st, 6, from, port, &f->to, f->spec.ns_port) != 0)
            port = 0; /* TCP forwards live in member 0 */
        if (synack_setopt(k, SYNACK_IP_TRANSPARENT, 1) < 0 ||
            synack_bind_addr(k, from, port) < 0)
            return -EINVAL;
    }
    return synack_connect_addr(k, &f->to, f->spec.ns_port);
}

/* One accepted host connection: open its twin into the namespace. */
static void forward_one(fwd *f, int fd, const struct sockaddr_storage *peer)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* the relay adds no delay */
    relay_host_cc_accepted(f->rc, fd, peer);
    uint16_t cport;
    synack_addr client = fwd_peer_addr(peer, &cport);
    synack_addr from = fwd_source(&f->ns, &client, &f->to);
    synack_sock *k = synack_socket(f->s);
    int rc = k ? connect_from(f, k, &from, cport) : -ENOMEM;
    if (rc == -EADDRINUSE) { /* that 4-tuple is taken: another port there */
        synack_abort(k);
        k = synack_socket(f->s);
        rc = k ? connect_from(f, k, &from, 0) : -ENOMEM;
    }
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
    /* What the server inside sees, where it is not the client itself (the
     * gateway, or another port): to match the line with the server's log. */
    synack_addr seen, to;
    uint16_t seen_port, to_port;
    synack_sock_addrs(k, &seen, &seen_port, &to, &to_port);
    char a[FMT_ENDPOINT_LEN], b[FMT_ENDPOINT_LEN], c[FMT_ENDPOINT_LEN], as[80] = "";
    if (seen_port != cport || !synack_addr_equal(&seen, &client))
        snprintf(as, sizeof as, " (seen as %s)", fmt_addr_endpoint(&seen, seen_port, c));
    char label[RELAY_LABEL_LEN];
    snprintf(label, sizeof label, "%s -> %s%s", fmt_addr_endpoint(&client, cport, a),
             fmt_addr_endpoint(&f->to, f->spec.ns_port, b), as);
    relay_set_host_peer(relay_start(f->rc, k, fd, label, RELAY_HOST_CONNECTED), peer);
}

static void on_accept(watch *w, uint32_t events)
{
    (void)events;
    fwd *f = (fwd *)w;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage peer;
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

fwd *fwd_open(const fwd_spec *spec, int epfd, synack_stack *s, const fwd_ns *ns, relay_ctx *rc,
              char *err, size_t errlen)
{
    fwd *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    *f = (fwd){.w.fn = on_accept, .spec = *spec, .s = s, .to = fwd_target(spec, ns), .ns = *ns,
               .rc = rc};
    f->fd = fwd_host_socket(spec, SOCK_STREAM);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &f->w};
    if (f->fd < 0 || listen(f->fd, 128) < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, f->fd, &ev) < 0) {
        char ep[FMT_ENDPOINT_LEN];
        snprintf(err, errlen, "-p %s: cannot listen on %s: %s", spec->text,
                 fmt_addr_endpoint(&spec->host, spec->host_port, ep), strerror(errno));
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
