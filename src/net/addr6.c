/* addr6.c — our IPv6 addresses (cfg.ip6, and the link-local one made from
 * the MAC) and their Duplicate Address Detection, RFC 4862 §5.4.
 *
 * On an Ethernet link each address starts tentative: on the stack's first
 * poll (its first deadline is its creation time) a neighbour solicitation
 * for it goes from :: to its solicited-node group, whose traffic we take
 * already (§5.4.2); dad_transmits of them, RetransTimer apart, and one
 * RetransTimer after the last with no answer the address is ours
 * (preferred). Meanwhile it is no source and packets to it are not taken,
 * except the solicitations and advertisements DAD itself listens for: an
 * advertisement for it, or a solicitation for it from :: (another node's
 * DAD), makes it a duplicate, never used (§5.4.3, §5.4.4). Linux's random
 * delay before the first probe is left out, so a run is reproducible. */
#include "net/net.h"

#include <string.h>

#define HEADROOM 64 /* IPv6 and Ethernet headers go in front */

void addr6_init(net_ctx *n)
{
    const synack_config *cfg = n->cfg;
    memcpy(n->addr6[OWN6_CFG].a, cfg->ip6, 16);
    wire_ipv6addr_link_local(n->addr6[OWN6_LL].a, cfg->mac);
    /* §5.4: DAD runs on links with multicast, not on a point-to-point TUN. */
    bool dad = cfg->link == SYNACK_LINK_ETHERNET && cfg->net.dad_transmits > 0;
    for (int i = 0; i < 2; i++) {
        own6 *o = &n->addr6[i];
        o->state = !ipv6_enabled(n) ? SYNACK_ADDR6_NONE
                   : dad            ? SYNACK_ADDR6_TENTATIVE
                                    : SYNACK_ADDR6_PREFERRED;
        o->dad_sent = 0;
        o->dad_at = n->now;
    }
}

bool addr6_ours(const net_ctx *n, const uint8_t a[16])
{
    for (int i = 0; i < 2; i++)
        if (n->addr6[i].state != SYNACK_ADDR6_NONE && memcmp(n->addr6[i].a, a, 16) == 0)
            return true;
    return false;
}

own6 *addr6_find(net_ctx *n, const uint8_t a[16])
{
    for (int i = 0; i < 2; i++)
        if (n->addr6[i].state != SYNACK_ADDR6_NONE && memcmp(n->addr6[i].a, a, 16) == 0)
            return &n->addr6[i];
    return NULL;
}

bool addr6_usable(const net_ctx *n, const uint8_t a[16])
{
    for (int i = 0; i < 2; i++)
        if (n->addr6[i].state == SYNACK_ADDR6_PREFERRED && memcmp(n->addr6[i].a, a, 16) == 0)
            return true;
    return false;
}

void addr6_duplicate(net_ctx *n, own6 *o)
{
    if (o->state != SYNACK_ADDR6_TENTATIVE)
        return;
    o->state = SYNACK_ADDR6_DUPLICATE;
    n->ctr->ip6_dad_failures++;
}

/* §5.4.2: a solicitation for the address from ::, without a source
 * link-layer option, to its solicited-node group. */
static void probe(net_ctx *n, own6 *o)
{
    static const uint8_t unspecified[16] = {0};
    uint8_t group[16], mac[6];
    wire_ipv6addr_solicited_node(group, o->a);
    wire_ipv6addr_multicast_mac(mac, group);
    uint8_t *out = n->buf + HEADROOM;
    size_t len = wire_nd_emit_ns(out, sizeof(n->buf) - HEADROOM, unspecified, group, o->a, NULL);
    if (!len)
        return;
    n->ctr->icmp6_out_neigh_solicits++;
    ipv6_output(n, mac, unspecified, group, WIRE_IPPROTO_ICMPV6, 255, out, len);
}

void addr6_timers(net_ctx *n)
{
    for (int i = 0; i < 2; i++) {
        own6 *o = &n->addr6[i];
        if (o->state != SYNACK_ADDR6_TENTATIVE || o->dad_at > n->now)
            continue;
        if (o->dad_sent >= n->cfg->net.dad_transmits) {
            o->state = SYNACK_ADDR6_PREFERRED; /* nobody objected: unique */
            continue;
        }
        o->dad_sent++;
        o->dad_at = n->now + ND_RETRANS_NS;
        probe(n, o);
    }
}

uint64_t addr6_next_deadline(const net_ctx *n)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < 2; i++)
        if (n->addr6[i].state == SYNACK_ADDR6_TENTATIVE && n->addr6[i].dad_at < best)
            best = n->addr6[i].dad_at;
    return best;
}
