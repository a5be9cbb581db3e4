/* ipv4.c — RFC 791 input and output: verify, reassemble fragments
 * (reasm.c), deliver to ICMP, TCP or UDP, and wrap outgoing payloads with a route
 * to the subnet or the gateway (fragmented, for echo replies, by frag.c). */
#include "base/prefix.h"
#include "net/net.h"

static uint32_t netmask(const synack_config *cfg) { return prefix_mask4(cfg->prefix_len); }

/* A source no packet from the network may carry (Linux logs these as
 * "martian source" and drops them in routing): this host's own address
 * (the LAND attack), loopback unless we are on it, "this network", and
 * multicast, broadcast or reserved addresses, which can open nothing and
 * would have us answer a whole subnet. */
static bool directed_broadcast(const synack_config *cfg, uint32_t a)
{
    uint32_t mask = netmask(cfg);
    return mask != 0xffffffffu && mask != 0xfffffffeu && (a & mask) == (cfg->ip & mask) &&
           (a & ~mask) == ~mask;
}

static bool martian_source(const net_ctx *n, uint32_t src)
{
    const synack_config *cfg = n->cfg;
    bool loopback = (src >> 24) == 127 && (cfg->ip >> 24) != 127;
    return ipv4_own(n, src) || loopback || (src >> 24) == 0 || (src >> 28) >= 0xe ||
           directed_broadcast(cfg, src);
}

bool ipv4_may_send_from(const net_ctx *n, uint32_t a)
{
    return ipv4_takes(n, a) && ipv4_unicast(a) && !directed_broadcast(n->cfg, a);
}

void ipv4_deliver(net_ctx *n, const uint8_t *hdr, uint32_t src, uint32_t dst, uint8_t proto,
                  const uint8_t *p, size_t len)
{
    switch (proto) {
    case WIRE_IPPROTO_TCP: {
        synack_addr from = tcp_addr4(src), to = tcp_addr4(dst);
        tcp_input(n->tcp, &from, &to, p, len, ipv4_own(n, dst));
        break;
    }
    case WIRE_IPPROTO_ICMP:
        icmp_input(n, src, dst, p, len);
        break;
    case WIRE_IPPROTO_UDP:
        udp4_deliver(n, hdr, src, dst, p, len);
        break;
    default:
        n->ctr->ip_in_unknown_protos++;
        break;
    }
}

void ipv4_input(net_ctx *n, const uint8_t *p, size_t len)
{
    wire_ipv4 ip;
    n->ctr->ip_in_receives++;
    wire_err e = wire_ipv4_parse(p, len, &ip);
    switch (e) {
    case WIRE_OK:
    case WIRE_FRAGMENT:
        break;
    case WIRE_TRUNCATED:
        n->ctr->ip_in_truncated++;
        return;
    case WIRE_BAD_CSUM:
        n->ctr->ip_in_csum_errors++;
        return;
    default:
        n->ctr->ip_in_hdr_errors++;
        return;
    }
    /* Not ours nor impersonated: taken only for a transparent UDP socket (udp.c). */
    if (!ipv4_takes(n, ip.dst) && !net_udp_takes4(n, &ip, e)) {
        n->ctr->ip_in_addr_errors++;
        return;
    }
    if (martian_source(n, ip.src)) {
        n->ctr->ip_in_martians++;
        return;
    }
    if (e == WIRE_FRAGMENT)
        reasm4_input(n, &ip, p); /* delivers the datagram once it is whole */
    else
        ipv4_deliver(n, p, ip.src, ip.dst, ip.proto, ip.payload, ip.payload_len);
}

bool ipv4_transmit(net_ctx *n, uint32_t hop, uint8_t *pkt, size_t len)
{
    if (n->cfg->link != SYNACK_LINK_IP)
        return arp_output(n, hop, pkt, len);
    net_transmit(n, pkt, len);
    return true;
}

bool ipv4_output(net_ctx *n, uint32_t dst, uint8_t proto, uint8_t *payload, size_t len)
{
    return ipv4_output_from(n, n->cfg->ip, dst, proto, payload, len);
}

bool ipv4_output_from(net_ctx *n, uint32_t src, uint32_t dst, uint8_t proto, uint8_t *payload,
                      size_t len)
{
    const synack_config *cfg = n->cfg;
    uint32_t hop;
    if (len + WIRE_IPV4_HDR_LEN > (cfg->gso_max > cfg->mtu ? cfg->gso_max : cfg->mtu)) {
        n->ctr->ip_out_too_big++;
        return false;
    }
    if (!ipv4_route(n, dst, &hop))
        return false;
    uint8_t *pkt = payload - WIRE_IPV4_HDR_LEN;
    wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, src, dst, proto, (uint8_t)cfg->net.ip_default_ttl,
                   n->ip_id++, len);
    return ipv4_transmit(n, hop, pkt, len + WIRE_IPV4_HDR_LEN);
}
