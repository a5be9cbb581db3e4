/* udpopt.c — a UDP socket's options and names, as Linux answers them.
 * Runtime thread. */
#define _GNU_SOURCE
#include "rt/rt.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* Linux's rmem_max and wmem_max (and _default), and its floors for a
 * socket's buffers (SOCK_MIN_RCVBUF, SOCK_MIN_SNDBUF on x86-64). */
#define RT_UDP_BUF_MAX 212992
#define RT_UDP_RCVBUF_MIN 2304
#define RT_UDP_SNDBUF_MIN 4608

/* As sock_setsockopt: capped at the maximum, then doubled, then floored. */
static int buffer_size(int v, int floor)
{
    long d = 2L * (v < 0 ? 0 : v > RT_UDP_BUF_MAX ? RT_UDP_BUF_MAX : v);
    return d < floor ? floor : (int)d;
}

static int flag(rt_sock *r, unsigned bit, int v)
{
    if (v)
        r->udp_opts |= bit;
    else
        r->udp_opts &= ~bit;
    return 0;
}

int rt_udp_setsockopt(rt_sock *r, rt_cmd *c)
{
    int v = 0;
    if (c->level == IPPROTO_IPV6 && r->family != AF_INET6)
        return -ENOPROTOOPT;
    if (!c->cval || c->clen < (socklen_t)sizeof v)
        return -EINVAL;
    memcpy(&v, c->cval, sizeof v);
    if (c->level == SOL_SOCKET) {
        switch (c->name) {
        case SO_RCVBUF:
            return synack_udp_setopt(r->udp, SYNACK_UDP_RCVBUF, buffer_size(v, RT_UDP_RCVBUF_MIN));
        case SO_SNDBUF:
            r->udp_sndbuf = buffer_size(v, RT_UDP_SNDBUF_MIN);
            return 0;
        case SO_REUSEADDR: return flag(r, RT_UDP_REUSEADDR, v);
        case SO_BROADCAST: return flag(r, RT_UDP_BROADCAST, v);
        case SO_REUSEPORT:
            r->reuseport = v != 0;
            return 0;
        default: return -ENOPROTOOPT;
        }
    }
    if (c->level == IPPROTO_IPV6 && c->name == IPV6_V6ONLY) {
        r->v6only = v != 0; /* a UDP socket here is one family anyway */
        return 0;
    }
    return -ENOPROTOOPT;
}

static int put_int(rt_cmd *c, int v)
{
    socklen_t n = *c->len < (socklen_t)sizeof v ? *c->len : (socklen_t)sizeof v;
    memcpy(c->val, &v, n);
    *c->len = n;
    return 0;
}

static int socket_level(rt_sock *r, rt_cmd *c)
{
    int v = 0;
    switch (c->name) {
    case SO_TYPE: return put_int(c, SOCK_DGRAM);
    case SO_DOMAIN: return put_int(c, r->family);
    case SO_PROTOCOL: return put_int(c, IPPROTO_UDP);
    case SO_ACCEPTCONN: return put_int(c, 0);
    case SO_ERROR: return put_int(c, rt_udp_take_error(r));
    case SO_RCVBUF:
        synack_udp_getopt(r->udp, SYNACK_UDP_RCVBUF, &v);
        return put_int(c, v);
    case SO_SNDBUF: return put_int(c, r->udp_sndbuf);
    case SO_REUSEADDR: return put_int(c, (r->udp_opts & RT_UDP_REUSEADDR) != 0);
    case SO_BROADCAST: return put_int(c, (r->udp_opts & RT_UDP_BROADCAST) != 0);
    case SO_REUSEPORT: return put_int(c, r->reuseport);
    default: return -ENOPROTOOPT;
    }
}

int rt_udp_getsockopt(synack_rt *rt, rt_sock *r, rt_cmd *c)
{
    (void)rt;
    if (c->level == SOL_SOCKET)
        return socket_level(r, c);
    if (c->level == IPPROTO_IPV6 && r->family == AF_INET6 && c->name == IPV6_V6ONLY)
        return put_int(c, r->v6only);
    return -ENOPROTOOPT;
}

/* A connected socket bound to any address shows the address its
 * datagrams leave from, as Linux's (the stack's own). */
static bool is_any(const synack_addr *a)
{
    static const uint8_t zero[16];
    return a->family == SYNACK_AF_INET6 ? memcmp(a->v6, zero, 16) == 0 : a->v4 == 0;
}

static synack_addr source_of(synack_rt *rt, rt_sock *r, synack_addr a)
{
    if (!r->udp_connected || !is_any(&a))
        return a;
    const synack_config *cfg = synack_stack_config(rt->stack);
    return a.family == SYNACK_AF_INET6 ? synack_addr_v6(cfg->ip6) : synack_addr_v4(cfg->ip);
}

int rt_udp_name(synack_rt *rt, rt_sock *r, rt_cmd *c)
{
    struct sockaddr_storage *ss = c->val;
    if (c->how) { /* the peer */
        if (!r->udp_connected)
            return -ENOTCONN;
        return (int)rt_addr_to_sockaddr(&r->raddr, r->rport, r->family, ss);
    }
    synack_addr a;
    uint16_t port = 0;
    synack_udp_local(r->udp, &a, &port);
    if (!port) /* not bound yet: the family's any address */
        a = r->bound;
    a = source_of(rt, r, a);
    return (int)rt_addr_to_sockaddr(&a, port, r->family, ss);
}
