/* arp.c — RFC 826 for Ethernet/IPv4: answer requests for our address,
 * resolve next hops through the neighbour table (neigh.c: the cache with
 * expiry, the queue while resolving, the retry timer), announce our
 * address (gratuitous ARP, RFC 5227 §3).
 *
 * An entry is fresh for ARP_TIMEOUT_NS after it was learnt; a stale one in
 * use is probed at once with requests to its MAC alone, NEIGH_PROBES of
 * them a NEIGH_RETRY_NS apart, and dropped if none is answered, so that
 * the next packet asks everyone again (Linux's ARP: ucast_solicit 3, then
 * broadcast). A next hop that leaves NEIGH_PROBES broadcast requests
 * unanswered is unreachable: connections still opening towards it fail
 * with EHOSTUNREACH instead of waiting out their SYN retries. */
#include "base/prefix.h"
#include "net/net.h"

#include <string.h>

static const uint8_t BROADCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* Built in a frame of its own, not n->buf: a request may go while a
 * packet there is being sent in fragments (frag.c). */
static void send_arp(net_ctx *n, uint16_t op, uint32_t spa, const uint8_t tha[6], uint32_t tpa,
                     const uint8_t eth_dst[6])
{
    wire_arp a = {.op = op, .spa = spa, .tpa = tpa};
    memcpy(a.sha, n->cfg->mac, 6);
    memcpy(a.tha, tha, 6);
    uint8_t frame[WIRE_ETH_HDR_LEN + WIRE_ARP_LEN];
    uint8_t *l3 = frame + WIRE_ETH_HDR_LEN;
    wire_arp_emit(l3, WIRE_ARP_LEN, &a);
    net_send_eth(n, eth_dst, l3, WIRE_ARP_LEN, WIRE_ETHERTYPE_ARP);
}

void arp_input(net_ctx *n, const uint8_t *p, size_t len)
{
    wire_arp a;
    if (wire_arp_parse(p, len, &a) != WIRE_OK) {
        n->ctr->arp_malformed++;
        return;
    }
    if (n->cfg->ip == 0)
        return; /* an IPv6-only stack has no IPv4 neighbours */
    bool for_us = ipv4_own(n, a.tpa); /* never for an impersonated one (addrs4.c) */
    /* RFC 826: merge, and add if addressed to us. */
    synack_addr spa = tcp_addr4(a.spa);
    neigh_learn(n, &n->arp, &spa, a.sha,
                NEIGH_CONFIRMED | NEIGH_OVERRIDE | (for_us ? NEIGH_CREATE : 0));
    if (for_us && a.op == WIRE_ARP_REQUEST) {
        n->ctr->arp_requests_answered++;
        send_arp(n, WIRE_ARP_REPLY, a.tpa, a.sha, a.spa, a.sha);
    }
}

/* Broadcast, or a probe to `mac` alone (the target hardware address
 * stays zero, as in Linux's arp_solicit). */
static void solicit(net_ctx *n, const synack_addr *hop, const uint8_t *mac)
{
    static const uint8_t zero[6] = {0};
    n->ctr->arp_requests_sent++;
    send_arp(n, WIRE_ARP_REQUEST, n->cfg->ip, zero, hop->v4, mac ? mac : BROADCAST);
}

/* Fail the connections opening towards the next hop (through it, for the
 * gateway). */
static void unreachable(net_ctx *n, const synack_addr *hop)
{
    const synack_config *cfg = n->cfg;
    n->ctr->arp_resolve_failed++;
    uint32_t mask = prefix_mask4(cfg->prefix_len);
    tcp_hop_unreachable(n->tcp, hop->v4, cfg->ip & mask, mask,
                        cfg->gateway && hop->v4 == cfg->gateway);
}

void arp_init(net_ctx *n)
{
    neigh_table *t = &n->arp;
    t->ethertype = WIRE_ETHERTYPE_IPV4;
    t->reachable_ns = ARP_TIMEOUT_NS;
    t->first_probe_ns = 0;
    t->drops = &n->ctr->arp_unresolved_drops;
    t->solicit = solicit;
    t->unreachable = unreachable;
}

bool arp_output(net_ctx *n, uint32_t hop, uint8_t *pkt, size_t pkt_len)
{
    synack_addr a = tcp_addr4(hop);
    return neigh_output(n, &n->arp, &a, pkt, pkt_len);
}

void arp_announce(net_ctx *n)
{
    static const uint8_t zero[6] = {0};
    if (n->cfg->link != SYNACK_LINK_ETHERNET || n->cfg->ip == 0)
        return;
    /* RFC 5227 §3: a request with sender and target both our address. */
    send_arp(n, WIRE_ARP_REQUEST, n->cfg->ip, zero, n->cfg->ip, BROADCAST);
}

int arp_add_static(net_ctx *n, uint32_t ip, const uint8_t mac[6])
{
    synack_addr a = tcp_addr4(ip);
    return neigh_add_static(n, &n->arp, &a, mac);
}
