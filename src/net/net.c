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
    reasm_init(n);
    wire_ipv6addr_link_local(n->ll6, cfg->mac);
    static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
    memcpy(n->groups6[0], all_nodes, 16);
    wire_ipv6addr_solicited_node(n->groups6[1], cfg->ip6);
    wire_ipv6addr_solicited_node(n->groups6[2], n->ll6);
    for (int i = 0; i < 3; i++)
        wire_ipv6addr_multicast_mac(n->group_macs6[i], n->groups6[i]);
}

void net_free(net_ctx *n)
{
    reasm_free(n);
    for (int i = 0; i < ARP_ENTRIES; i++)
        for (int j = 0; j < n->arp[i].npending; j++)
            mem_free(&n->cfg->alloc, n->arp[i].pending[j]);
}

void net_transmit(net_ctx *n, const uint8_t *frame, size_t len)
{
    n->ctr->out_frames++;
    n->in_output = true;
    n->cfg->output(n->cfg->output_ctx, frame, len);
    n->in_output = false;
}

void net_emit_tcp(void *ctx, const synack_addr *dst, uint8_t *seg, size_t len)
{
    if (dst->family == SYNACK_AF_INET6)
        ipv6_send(ctx, dst->v6, WIRE_IPPROTO_TCP, seg, len);
    else
        ipv4_output(ctx, dst->v4, WIRE_IPPROTO_TCP, seg, len);
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
            ipv6_input(n, NULL, frame, len);
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
    switch (eth.type) {
    case WIRE_ETHERTYPE_IPV4:
        ipv4_input(n, eth.payload, eth.payload_len);
        break;
    case WIRE_ETHERTYPE_ARP:
        arp_input(n, eth.payload, eth.payload_len);
        break;
    case WIRE_ETHERTYPE_IPV6:
        if (ipv6_enabled(n))
            ipv6_input(n, eth.src, eth.payload, eth.payload_len);
        else
            n->ctr->eth_unknown_type++; /* no IPv6 address: not spoken here */
        break;
    default:
        n->ctr->eth_unknown_type++;
        break;
    }
}
