/* net.c — frames in and out of the interface: Ethernet demux on input, the
 * device hand-off on output, and TCP's emit hook. */
#include "net/net.h"

#include <stdlib.h>
#include <string.h>

void net_init(net_ctx *n, const synack_config *cfg, synack_counters *ctr, tcp_ctx *tcp)
{
    n->cfg = cfg;
    n->ctr = ctr;
    n->tcp = tcp;
    /* The reassembly hash key, derived from TCP's secret hash key (SipHash
     * as a PRF) rather than drawn from the random hook, whose sequence the
     * rest of the stack's secrets follow. */
    n->reasm_key.k0 = siphash24(&tcp->hash_key, "ipv4 reasm 0", 12);
    n->reasm_key.k1 = siphash24(&tcp->hash_key, "ipv4 reasm 1", 12);
    n->flow_key.k0 = siphash24(&tcp->hash_key, "ipv6 flow 0", 11);
    n->flow_key.k1 = siphash24(&tcp->hash_key, "ipv6 flow 1", 11);
    n->frag_key.k0 = siphash24(&tcp->hash_key, "ipv6 frag 0", 11);
    n->frag_key.k1 = siphash24(&tcp->hash_key, "ipv6 frag 1", 11);
    reasm_init(n);
    addr6_init(n);
    static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
    memcpy(n->groups6[0], all_nodes, 16);
    wire_ipv6addr_solicited_node(n->groups6[1], n->addr6[OWN6_CFG].a);
    wire_ipv6addr_solicited_node(n->groups6[2], n->addr6[OWN6_LL].a);
    for (int i = 0; i < 3; i++)
        wire_ipv6addr_multicast_mac(n->group_macs6[i], n->groups6[i]);
    arp_init(n);
    nd_init(n);
}

void net_free(net_ctx *n)
{
    reasm_free(n);
    neigh_free(n, &n->arp);
    neigh_free(n, &n->nd);
}

void net_timers(net_ctx *n)
{
    neigh_timers(n, &n->arp);
    neigh_timers(n, &n->nd);
    addr6_timers(n);
    reasm_timers(n);
}

static uint64_t earlier(uint64_t a, uint64_t b) { return a < b ? a : b; }

uint64_t net_next_deadline(const net_ctx *n)
{
    uint64_t neigh = earlier(neigh_next_deadline(&n->arp), neigh_next_deadline(&n->nd));
    return earlier(earlier(neigh, addr6_next_deadline(n)), reasm_next_deadline(n));
}

void net_flatten(net_ctx *n, uint8_t *pkt, size_t len)
{
    if (!n->tail)
        return;
    uint8_t *at = pkt + len - n->tail_len;
    memcpy(at, n->tail[0].base, n->tail[0].len);
    if (n->tail[1].len)
        memcpy(at + n->tail[0].len, n->tail[1].base, n->tail[1].len);
    n->tail = NULL;
}

void net_transmit(net_ctx *n, const uint8_t *frame, size_t len)
{
    n->ctr->out_frames++;
    n->in_output = true;
    if (n->tail && n->cfg->output_v) {
        synack_iov v[3] = {{.base = (void *)frame, .len = len - n->tail_len}, n->tail[0],
                           n->tail[1]};
        n->cfg->output_v(n->cfg->output_ctx, v, v[2].len ? 3 : 2, len);
    } else {
        net_flatten(n, (uint8_t *)frame, len);
        n->cfg->output(n->cfg->output_ctx, frame, len);
    }
    n->in_output = false;
}

void net_send_eth(net_ctx *n, const uint8_t dst[6], uint8_t *l3, size_t len, uint16_t type)
{
    uint8_t *frame = l3 - WIRE_ETH_HDR_LEN;
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, dst, n->cfg->mac, type);
    net_transmit(n, frame, len + WIRE_ETH_HDR_LEN);
}

void net_emit_tcp(void *ctx, const synack_addr *src, const synack_addr *dst, uint8_t *seg,
                  size_t len)
{
    if (dst->family == SYNACK_AF_INET6)
        ipv6_send_tcp(ctx, src->v6, dst->v6, seg, len);
    else
        ipv4_output_from(ctx, src->v4, dst->v4, WIRE_IPPROTO_TCP, seg, len);
}

void net_emit_tcp_tail(void *ctx, const synack_addr *src, const synack_addr *dst, uint8_t *hdr,
                       size_t hl, const synack_iov tail[2])
{
    net_ctx *n = ctx;
    n->tail = tail;
    n->tail_len = tail[0].len + tail[1].len;
    net_emit_tcp(ctx, src, dst, hdr, hl + n->tail_len);
    n->tail = NULL; /* sent, held (flattened), or dropped */
}

static bool for_us(const net_ctx *n, const uint8_t *dst)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    return memcmp(dst, n->cfg->mac, 6) == 0 || memcmp(dst, bcast, 6) == 0 ||
           ipv6_wants_mac(n, dst);
}

void net_input(net_ctx *n, const uint8_t *frame, size_t len)
{
    n->ctr->in_frames++;
    if (n->cfg->link == SYNACK_LINK_IP) {
        if (len && frame[0] >> 4 == 6)
            ipv6_input(n, frame, len);
        else
            ipv4_input(n, frame, len);
        return;
    }
    wire_eth eth;
    if (wire_eth_parse(frame, len, &eth) != WIRE_OK) {
        n->ctr->eth_truncated++;
        return;
    }
    if (!for_us(n, eth.dst)) {
        n->ctr->eth_not_for_us++;
        return;
    }
    n->l2_group = eth.dst[0] & 1; /* the I/G bit: multicast, broadcast */
    switch (eth.type) {
    case WIRE_ETHERTYPE_IPV4:
        ipv4_input(n, eth.payload, eth.payload_len);
        break;
    case WIRE_ETHERTYPE_ARP:
        arp_input(n, eth.payload, eth.payload_len);
        break;
    case WIRE_ETHERTYPE_IPV6:
        if (ipv6_enabled(n))
            ipv6_input(n, eth.payload, eth.payload_len);
        else
            n->ctr->eth_unknown_type++; /* no IPv6 address: not spoken here */
        break;
    default:
        n->ctr->eth_unknown_type++;
        break;
    }
    n->l2_group = false;
}
