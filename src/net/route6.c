/* route6.c — where an IPv6 packet goes and from which of our addresses, for
 * a host with one prefix, a few routes (synack_route_add, as route4.c's)
 * and at most one default router: RFC 4861 §5.2's next-hop determination
 * with a longest-prefix match before the default router, and the part of
 * RFC 6724's source selection that matters with two addresses (the
 * link-local one for link-scope destinations, rule 2). */
#include "base/prefix.h"
#include "net/net.h"

#include <errno.h>
#include <string.h>

/* Link-local and multicast destinations are on the link (RFC 4291 §2.5.6,
 * §2.7: we only send to link-scope groups), and so is our prefix. */
static bool on_link(const net_ctx *n, const uint8_t dst[16])
{
    return wire_ipv6addr_is_link_local(dst) || wire_ipv6addr_is_multicast(dst) ||
           prefix_match6(dst, n->cfg->ip6, n->cfg->prefix6_len);
}

int net_route_add6(net_ctx *n, const uint8_t prefix[16], uint8_t len, const uint8_t gateway[16])
{
    static const uint8_t none[16];
    if (!ipv6_enabled(n))
        return -EAFNOSUPPORT;
    if (len > 128)
        return -EINVAL;
    if (!gateway)
        gateway = none;
    /* A next hop must be a neighbour, as Linux's "invalid gateway": in our
     * prefix, or link-local (what routers usually advertise, RFC 4861 §4.2).
     * Multicast is nobody's next hop. */
    if (wire_ipv6addr_is_multicast(gateway))
        return -EINVAL;
    if (!wire_ipv6addr_is_unspecified(gateway) && !on_link(n, gateway))
        return -ENETUNREACH;
    for (uint8_t i = 0; i < n->nroutes6; i++)
        if (n->routes6[i].len == len && prefix_match6(n->routes6[i].net, prefix, len))
            return -EEXIST;
    if (n->nroutes6 == NET_MAX_ROUTES6)
        return -ENOSPC;
    net_route6 *r = &n->routes6[n->nroutes6++];
    memcpy(r->net, prefix, 16);
    memcpy(r->gateway, gateway, 16);
    r->len = len;
    return 0;
}

/* The longest route covering `dst`, or NULL. */
static const net_route6 *longest_route(const net_ctx *n, const uint8_t dst[16])
{
    const net_route6 *best = NULL;
    for (uint8_t i = 0; i < n->nroutes6; i++) {
        const net_route6 *r = &n->routes6[i];
        if (prefix_match6(dst, r->net, r->len) && (!best || r->len > best->len))
            best = r;
    }
    return best;
}

const uint8_t *ipv6_next_hop(const net_ctx *n, const uint8_t dst[16])
{
    if (on_link(n, dst))
        return dst;
    const net_route6 *r = longest_route(n, dst);
    if (r) /* an on-link route's destinations answer Neighbour Discovery themselves */
        return wire_ipv6addr_is_unspecified(r->gateway) ? dst : r->gateway;
    if (wire_ipv6addr_is_unspecified(n->cfg->gateway6))
        return NULL;
    return n->cfg->gateway6; /* §5.2: the default router */
}

const uint8_t *ipv6_source_for(const net_ctx *n, const uint8_t dst[16])
{
    bool link_scope = wire_ipv6addr_is_link_local(dst) || wire_ipv6addr_is_multicast(dst);
    const own6 *o = &n->addr6[link_scope ? OWN6_LL : OWN6_CFG];
    return o->state == SYNACK_ADDR6_PREFERRED ? o->a : NULL;
}
