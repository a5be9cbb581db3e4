/* ndisc.c — Neighbour Discovery (RFC 4861) on Ethernet links: the IPv6
 * side of the neighbour table (neigh.c), and the solicitations and
 * advertisements that feed it.
 *
 *  - Resolving sends a solicitation for the next hop to its solicited-node
 *    group with our source link-layer option (§7.2.2), each RETRANS_TIMER
 *    (1 s), MAX_MULTICAST_SOLICIT (3) times; then the hop is unreachable
 *    and its packets are dropped (NdUnresolvedDrops, NdResolveFailed).
 *  - An entry is REACHABLE for REACHABLE_TIME (30 s) after a solicited
 *    advertisement, then STALE; a stale entry in use gets unicast
 *    solicitations from DELAY_FIRST_PROBE_TIME (5 s) after its first use,
 *    MAX_UNICAST_SOLICIT (3) of them RETRANS_TIMER (1 s) apart, and is
 *    deleted if none is answered a second after the last (§7.3.3, without
 *    upper-layer hints): the next packet resolves the neighbour afresh.
 *  - Advertisements update entries as §7.2.5 says (solicited: reachable;
 *    override: take the new MAC; neither: a different MAC only makes the
 *    entry stale) and never create one. A solicitation for our address
 *    with a source link-layer option creates or updates its sender's
 *    entry, stale (§7.2.3), and is answered to its sender (§7.2.4). */
#include "net/net.h"

#include <string.h>

#define HEADROOM 64 /* IPv6 and Ethernet headers go in front */
#define NS_MAX_LEN 32 /* a solicitation with a source link-layer option */

static synack_addr addr6(const uint8_t a[16])
{
    synack_addr x = {.family = SYNACK_AF_INET6};
    memcpy(x.v6, a, 16);
    return x;
}

/* A solicitation for `hop`: to its solicited-node group when `mac` is
 * NULL, else to `mac` and `hop` itself (a probe of a stale entry). From
 * the address we would send to `hop` from, else from the other one. Built
 * in a frame of its own, not n->buf: it may go while a packet there is
 * being sent in fragments (frag.c). */
static void solicit(net_ctx *n, const synack_addr *hop, const uint8_t *mac)
{
    const uint8_t *src = ipv6_source_for(n, hop->v6);
    if (!src)
        src = addr6_usable(n, n->addr6[OWN6_CFG].a) ? n->addr6[OWN6_CFG].a
              : addr6_usable(n, n->addr6[OWN6_LL].a) ? n->addr6[OWN6_LL].a
                                                      : NULL;
    if (!src)
        return; /* nothing to ask from yet: the hop fails after its probes */
    uint8_t group[16], gmac[6];
    const uint8_t *dst = hop->v6;
    if (!mac) {
        wire_ipv6addr_solicited_node(group, hop->v6);
        wire_ipv6addr_multicast_mac(gmac, group);
        dst = group;
        mac = gmac;
    }
    uint8_t frame[HEADROOM + NS_MAX_LEN];
    uint8_t *out = frame + HEADROOM;
    size_t len = wire_nd_emit_ns(out, NS_MAX_LEN, src, dst, hop->v6, n->cfg->mac);
    if (!len)
        return;
    n->ctr->icmp6_out_neigh_solicits++;
    ipv6_output(n, mac, src, dst, WIRE_IPPROTO_ICMPV6, 255, out, len);
}

/* Fail the connections opening towards the next hop (through it, for the
 * default router), as arp.c does for IPv4. */
static void unreachable(net_ctx *n, const synack_addr *hop)
{
    const synack_config *cfg = n->cfg;
    n->ctr->nd_resolve_failed++;
    bool gateway = !wire_ipv6addr_is_unspecified(cfg->gateway6) &&
                   memcmp(hop->v6, cfg->gateway6, 16) == 0;
    /* TCP: connections opening towards this hop fail (EHOSTUNREACH) */
    tcp_hop_unreachable6(n->tcp, hop->v6, cfg->prefix6_len, gateway);
}

void nd_init(net_ctx *n)
{
    neigh_table *t = &n->nd;
    t->ethertype = WIRE_ETHERTYPE_IPV6;
    t->reachable_ns = ND_REACHABLE_NS;
    t->first_probe_ns = ND_DELAY_NS;
    t->drops = &n->ctr->nd_unresolved_drops;
    t->solicit = solicit;
    t->unreachable = unreachable;
}

/* §7.2.4: advertise `target` (ours) to the solicitor, solicited, or to all
 * nodes when it was a DAD probe (an unspecified source). */
static void advertise(net_ctx *n, const uint8_t target[16], const uint8_t solicitor[16])
{
    static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
    bool dad = wire_ipv6addr_is_unspecified(solicitor);
    const uint8_t *to = dad ? all_nodes : solicitor;
    uint8_t flags = WIRE_ND_NA_OVERRIDE | (dad ? 0 : WIRE_ND_NA_SOLICITED);
    uint8_t *out = n->buf + HEADROOM;
    size_t len = wire_nd_emit_na(out, sizeof(n->buf) - HEADROOM, target, to, flags, target,
                                 n->cfg->mac);
    if (!len)
        return;
    n->ctr->icmp6_out_neigh_adverts++;
    /* The solicitor is on the link whatever our prefix says: straight to it. */
    ipv6_output_hop(n, to, target, to, WIRE_IPPROTO_ICMPV6, 255, out, len);
}

void nd_solicit_input(net_ctx *n, const wire_ipv6 *ip, const wire_icmpv6 *m)
{
    wire_nd_ns ns;
    wire_nd_opts o;
    n->ctr->icmp6_in_neigh_solicits++;
    if (wire_nd_validate(m, ip->src, ip->dst, ip->hop_limit) != WIRE_ND_VALID ||
        wire_nd_parse_ns(m, &ns) != WIRE_OK ||
        wire_nd_parse_options(ns.opts, ns.opts_len, &o) != WIRE_OK) {
        n->ctr->icmp6_in_errors++; /* §7.1.1 */
        return;
    }
    own6 *us = addr6_find(n, ns.target);
    if (!us)
        return; /* not for us: nothing to learn either (§7.2.3) */
    bool dad = wire_ipv6addr_is_unspecified(ip->src);
    if (us->state == SYNACK_ADDR6_TENTATIVE) {
        if (dad)
            addr6_duplicate(n, us); /* RFC 4862 §5.4.3: someone else's DAD */
        return;                     /* else: not ours yet, no answer */
    }
    if (us->state != SYNACK_ADDR6_PREFERRED)
        return;
    if (!dad && o.has_slla) {
        synack_addr a = addr6(ip->src);
        neigh_learn(n, &n->nd, &a, o.slla, NEIGH_CREATE | NEIGH_OVERRIDE);
    }
    advertise(n, ns.target, ip->src);
}

void nd_advert_input(net_ctx *n, const wire_ipv6 *ip, const wire_icmpv6 *m)
{
    wire_nd_na na;
    wire_nd_opts o;
    n->ctr->icmp6_in_neigh_adverts++;
    if (wire_nd_validate(m, ip->src, ip->dst, ip->hop_limit) != WIRE_ND_VALID ||
        wire_nd_parse_na(m, &na) != WIRE_OK ||
        wire_nd_parse_options(na.opts, na.opts_len, &o) != WIRE_OK) {
        n->ctr->icmp6_in_errors++; /* §7.1.2 */
        return;
    }
    own6 *us = addr6_find(n, na.target);
    if (us) {
        addr6_duplicate(n, us); /* RFC 4862 §5.4.4, if it is still tentative */
        return;
    }
    unsigned how = (na.flags & WIRE_ND_NA_SOLICITED ? NEIGH_CONFIRMED : 0) |
                   (na.flags & WIRE_ND_NA_OVERRIDE ? NEIGH_OVERRIDE : 0);
    synack_addr a = addr6(na.target);
    neigh_learn(n, &n->nd, &a, o.has_tlla ? o.tlla : NULL, how);
}
