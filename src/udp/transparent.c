/* transparent.c — sockets that take datagrams to any address of a prefix
 * and ports of a range (a user-space NAT or relay impersonating those
 * addresses, like Linux's IP_TRANSPARENT with a TPROXY rule). They are
 * consulted last, after every socket bound to one of our addresses, and
 * kept in a list: a relay has a handful. The most specific wins: the
 * longest prefix, then the narrowest port range. */
#include "udp/udp.h"

#include <errno.h>
#include <string.h>

/* Is `u` more specific than `best`? */
static bool narrower(const synack_udp *u, const synack_udp *best)
{
    if (!best || u->prefix_len != best->prefix_len)
        return !best || u->prefix_len > best->prefix_len;
    return u->port_hi - u->port_lo < best->port_hi - best->port_lo;
}

/* A connected transparent socket takes only its peer's datagrams; src
 * NULL (is any socket there at all?) asks nothing of the peer. */
static bool from_its_peer(const synack_udp *u, const synack_addr *src, uint16_t sport)
{
    return !u->connected || !src || (sport == u->rport && udp_addr_eq(src, &u->raddr));
}

synack_udp *udp_lookup_transparent(udp_ctx *c, const synack_addr *src, uint16_t sport,
                                   const synack_addr *dst, uint16_t port)
{
    synack_udp *best = NULL;
    for (synack_udp *u = c->transparent; u; u = u->tnext)
        if (port >= u->port_lo && port <= u->port_hi &&
            prefix_covers(&u->prefix, u->prefix_len, dst) && from_its_peer(u, src, sport) &&
            narrower(u, best))
            best = u;
    return best;
}

int udp_bind_any(synack_udp *u, const synack_addr *prefix, uint8_t prefix_len, uint16_t lo,
                 uint16_t hi)
{
    udp_ctx *c = u->ctx;
    uint8_t max = u->family == SYNACK_AF_INET6 ? 128 : 32;
    if (u->lport || u->transparent || u->connected || !prefix || prefix->family != u->family ||
        prefix_len > max || lo == 0 || lo > hi)
        return -EINVAL;
    for (synack_udp *t = c->transparent; t; t = t->tnext)
        if (t->prefix_len == prefix_len && prefix_covers(&t->prefix, prefix_len, prefix) &&
            lo <= t->port_hi && t->port_lo <= hi)
            return -EADDRINUSE;
    u->prefix = *prefix;
    u->prefix_len = prefix_len;
    u->port_lo = lo;
    u->port_hi = hi;
    u->transparent = true;
    u->tnext = c->transparent;
    c->transparent = u;
    return 0;
}
