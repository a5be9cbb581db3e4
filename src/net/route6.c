/* route6.c — where an IPv6 packet goes and from which of our addresses, for
 * a host with one prefix and at most one default router: RFC 4861 §5.2's
 * next-hop determination, and the part of RFC 6724's source selection that
 * matters with two addresses (the link-local one for link-scope
 * destinations, rule 2). */
#include "base/prefix.h"
#include "net/net.h"

#include <string.h>

/* Link-local and multicast destinations are on the link (RFC 4291 §2.5.6,
 * §2.7: we only send to link-scope groups), and so is our prefix. */
static bool on_link(const net_ctx *n, const uint8_t dst[16])
{
    return wire_ipv6addr_is_link_local(dst) || wire_ipv6addr_is_multicast(dst) ||
           prefix_match6(dst, n->cfg->ip6, n->cfg->prefix6_len);
}

const uint8_t *ipv6_next_hop(const net_ctx *n, const uint8_t dst[16])
{
    if (on_link(n, dst))
        return dst;
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
