/* udp.c — the interface layer's side of UDP: datagrams in to the UDP
 * layer, an ICMP port unreachable (RFC 1122 §4.1.3.1, RFC 792; RFC 4443
 * §3.1 code 4) for those no socket takes, the IP layer's question whether a
 * packet to an address that is not ours is for a transparent socket, and
 * datagrams out (source address, checksum, fragments). */
#include "base/prefix.h"
#include "net/net.h"

#include <errno.h>
#include <string.h>

#define ICMP_QUOTE_MAX (576 - WIRE_IPV4_HDR_LEN - 8) /* RFC 1812 §4.3.2.3 */

/* Broadcast, multicast, reserved or "this network": no socket's, and never
 * an ICMP error about (RFC 1122 §3.2.2). */
static bool group4(const net_ctx *n, uint32_t dst)
{
    uint8_t len = n->cfg->prefix_len > 32 ? 32 : n->cfg->prefix_len;
    uint32_t mask = prefix_mask4(len);
    bool directed = len < 31 && (dst & mask) == (n->cfg->ip & mask) && (dst & ~mask) == ~mask;
    return dst == 0 || (dst >> 28) >= 0xe || directed;
}

/* ----------------------------------------------------------- transparent */

bool net_udp_takes4(net_ctx *n, const wire_ipv4 *ip, wire_err e)
{
    if (ip->proto != WIRE_IPPROTO_UDP || e != WIRE_OK || ip->payload_len < WIRE_UDP_HDR_LEN ||
        group4(n, ip->dst))
        return false; /* fragments to such addresses are not reassembled */
    synack_addr dst = tcp_addr4(ip->dst);
    return udp_takes(n->udp, &dst, wire_get16(ip->payload + 2));
}

bool net_udp_takes6(net_ctx *n, const wire_ipv6 *ip, const wire_ipv6_ext *ext, wire_err e)
{
    if (e != WIRE_OK || ext->proto != WIRE_IPPROTO_UDP || ext->frag.present ||
        ext->payload_len < WIRE_UDP_HDR_LEN || wire_ipv6addr_is_multicast(ip->dst))
        return false;
    synack_addr dst = {.family = SYNACK_AF_INET6};
    memcpy(dst.v6, ip->dst, 16);
    return udp_takes(n->udp, &dst, wire_get16(ext->payload + 2));
}

/* ----------------------------------------------------------- input */

/* RFC 1122 §4.1.3.1: port unreachable, quoting the header and as much of
 * the datagram as 576 bytes allow (RFC 792 asks for 8). */
static void port_unreachable4(net_ctx *n, const uint8_t *hdr, size_t hdr_len, uint32_t src,
                              size_t len)
{
    size_t quote = hdr_len + len;
    if (quote > ICMP_QUOTE_MAX)
        quote = ICMP_QUOTE_MAX;
    uint8_t *out = n->buf + 64;
    size_t olen = wire_icmp_emit_error(out, sizeof(n->buf) - 64, WIRE_ICMP_DEST_UNREACH,
                                       WIRE_ICMP_PORT_UNREACH, 0, hdr, quote);
    if (!olen || !icmp_error_allowed(n))
        return;
    n->ctr->icmp_out_dest_unreachs++;
    ipv4_output(n, src, WIRE_IPPROTO_ICMP, out, olen);
}

void udp4_deliver(net_ctx *n, const uint8_t *hdr, uint32_t src, uint32_t dst,
                  const uint8_t *p, size_t len)
{
    if (group4(n, dst))
        return; /* not taken (ipv4_input lets none in) */
    synack_addr from = tcp_addr4(src), to = tcp_addr4(dst);
    bool ours = dst == n->cfg->ip;
    if (udp_input(n->udp, &from, &to, ours, p, len) == UDP_NO_PORT && !n->l2_group)
        port_unreachable4(n, hdr, (size_t)(p - hdr), src, len);
}

void udp6_deliver(net_ctx *n, const wire_ipv6 *ip, const uint8_t *p, size_t len)
{
    if (wire_ipv6addr_is_multicast(ip->dst))
        return; /* no multicast sockets */
    synack_addr from = {.family = SYNACK_AF_INET6}, to = {.family = SYNACK_AF_INET6};
    memcpy(from.v6, ip->src, 16);
    memcpy(to.v6, ip->dst, 16);
    bool ours = addr6_usable(n, ip->dst);
    if (udp_input(n->udp, &from, &to, ours, p, len) == UDP_NO_PORT)
        icmpv6_error(n, ip->payload - WIRE_IPV6_HDR_LEN, WIRE_IPV6_HDR_LEN + ip->payload_len,
                     WIRE_ICMPV6_DEST_UNREACH, WIRE_ICMPV6_PORT_UNREACH, 0);
}

/* ----------------------------------------------------------- output */

static int emit4(net_ctx *n, const synack_addr *src, uint32_t dst, uint8_t *d, size_t len)
{
    uint32_t from = src ? src->v4 : n->cfg->ip, hop;
    if (!from || !ipv4_route(n, dst, &hop))
        return -ENETUNREACH;
    if (!n->cfg->checksum_offload) /* 0: none, allowed over IPv4 (RFC 768) */
        wire_udp_set_checksum(d, len, from, dst);
    return ipv4_output_frag_from(n, from, dst, WIRE_IPPROTO_UDP, d, len) ? 0 : -EAGAIN;
}

static int emit6(net_ctx *n, const synack_addr *src, const uint8_t dst[16], uint8_t *d,
                 size_t len)
{
    const uint8_t *from = src ? src->v6 : ipv6_source_for(n, dst);
    if (!ipv6_enabled(n) || !from)
        return -ENETUNREACH;
    if (!ipv6_next_hop(n, dst)) {
        n->ctr->ip6_out_no_routes++;
        return -ENETUNREACH;
    }
    wire_udp_set_checksum6(d, len, from, dst); /* mandatory (RFC 8200 §8.1) */
    return ipv6_send_frag(n, from, dst, WIRE_IPPROTO_UDP, IPV6_HOP_LIMIT, d, len) ? 0 : -EAGAIN;
}

int net_emit_udp(void *ctx, const synack_addr *src, const synack_addr *dst, uint8_t *dgram,
                 size_t len)
{
    net_ctx *n = ctx;
    if (dst->family == SYNACK_AF_INET6)
        return emit6(n, src, dst->v6, dgram, len);
    return emit4(n, src, dst->v4, dgram, len);
}

/* ----------------------------------------------------------- ICMP errors */

void net_udp_icmp4(net_ctx *n, const wire_icmp *m, const wire_icmp_quote *q)
{
    udp_icmp_report r = {.local = tcp_addr4(q->src), .remote = tcp_addr4(q->dst),
                         .lport = q->sport, .rport = q->dport, .type = m->type,
                         .code = m->code};
    udp_icmp_error(n->udp, &r);
}

void net_udp_icmp6(net_ctx *n, const wire_icmpv6 *m, const wire_icmpv6_quote *q)
{
    udp_icmp_report r = {.local = {.family = SYNACK_AF_INET6},
                         .remote = {.family = SYNACK_AF_INET6},
                         .lport = q->sport, .rport = q->dport, .type = m->type,
                         .code = m->code};
    memcpy(r.local.v6, q->src, 16);
    memcpy(r.remote.v6, q->dst, 16);
    udp_icmp_error(n->udp, &r);
}
