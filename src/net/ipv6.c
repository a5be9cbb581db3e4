/* ipv6.c — IPv6 input and output (RFC 8200), as far as the stack goes
 * today: packets for our addresses (the configured one, the link-local one
 * made from the MAC, their solicited-node groups and all-nodes) reach
 * ICMPv6, which answers echo and neighbour solicitations. TCP over IPv6
 * does not exist yet (issue 10): such packets are counted and dropped. */
#include "net/net.h"

#include <string.h>

bool ipv6_enabled(const net_ctx *n) { return !wire_ipv6addr_is_unspecified(n->cfg->ip6); }

static bool is_ours(const net_ctx *n, const uint8_t a[16])
{
    return memcmp(a, n->cfg->ip6, 16) == 0 || memcmp(a, n->ll6, 16) == 0;
}

/* A destination we take: ours, or one of our groups (net_init). */
static bool accepts(const net_ctx *n, const uint8_t dst[16])
{
    for (int i = 0; i < 3; i++)
        if (memcmp(dst, n->groups6[i], 16) == 0)
            return true;
    return is_ours(n, dst);
}

bool ipv6_wants_mac(const net_ctx *n, const uint8_t mac[6])
{
    if (!ipv6_enabled(n) || mac[0] != 0x33 || mac[1] != 0x33)
        return false;
    for (int i = 0; i < 3; i++)
        if (memcmp(mac, n->group_macs6[i], 6) == 0)
            return true;
    return false;
}

void ipv6_input(net_ctx *n, const uint8_t *src_mac, const uint8_t *p, size_t len)
{
    wire_ipv6 ip;
    wire_ipv6_ext ext;
    if (!ipv6_enabled(n))
        return;
    n->ctr->ip6_in_receives++;
    if (wire_ipv6_parse(p, len, &ip) != WIRE_OK || wire_ipv6_walk(&ip, &ext) != WIRE_OK) {
        n->ctr->ip6_in_hdr_errors++; /* fragments too, until IPv6 reassembly */
        return;
    }
    if (!accepts(n, ip.dst)) {
        n->ctr->ip6_in_addr_errors++;
        return;
    }
    if (wire_ipv6addr_is_multicast(ip.src)) {
        n->ctr->ip6_in_hdr_errors++; /* RFC 4291 §2.7: never a source */
        return;
    }
    if (ext.proto == WIRE_IPPROTO_ICMPV6)
        icmpv6_input(n, src_mac, &ip, ext.payload, ext.payload_len);
    else
        n->ctr->ip6_in_unknown_protos++; /* TCP over IPv6 comes with issue 10 */
}

void ipv6_output(net_ctx *n, const uint8_t dst_mac[6], const uint8_t src[16],
                 const uint8_t dst[16], uint8_t next_header, uint8_t hop_limit, uint8_t *payload,
                 size_t len)
{
    if (len + WIRE_IPV6_HDR_LEN > n->cfg->mtu) {
        n->ctr->ip_out_too_big++;
        return;
    }
    wire_ipv6 h = {.next_header = next_header, .hop_limit = hop_limit, .payload_len = len};
    memcpy(h.src, src, 16);
    memcpy(h.dst, dst, 16);
    uint8_t *pkt = payload - WIRE_IPV6_HDR_LEN;
    wire_ipv6_emit(pkt, WIRE_IPV6_HDR_LEN, &h);
    n->ctr->ip6_out_requests++;
    if (n->cfg->link == SYNACK_LINK_IP) {
        net_transmit(n, pkt, len + WIRE_IPV6_HDR_LEN);
        return;
    }
    uint8_t *frame = pkt - WIRE_ETH_HDR_LEN;
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, dst_mac, n->cfg->mac, WIRE_ETHERTYPE_IPV6);
    net_transmit(n, frame, len + WIRE_IPV6_HDR_LEN + WIRE_ETH_HDR_LEN);
}
