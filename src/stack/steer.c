/* steer.c — synack_steer_owner: which stack of a steered group a received
 * frame belongs to. It runs before any stack sees the frame, on every
 * frame, so it reads only the few fields it needs, each bounds-checked;
 * whatever it cannot make sense of goes to stack 0, which drops and counts
 * it like any malformed frame. */
#include "base/steer.h"
#include "wire/wire.h"

#include <stdbool.h>

#define TO_ZERO 0

static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static int ip_owner(const synack_steer *st, const uint8_t *p, size_t len, bool quoted);

/* The transport ends: TCP by ports, everything else by addresses. An ICMP
 * error goes where the packet it quotes (ours, sent the other way) goes. */
static int transport_owner(const synack_steer *st, const uint8_t *src, const uint8_t *dst,
                           size_t alen, uint8_t proto, bool frag, const uint8_t *l4, size_t len,
                           bool quoted)
{
    if (!frag && proto == WIRE_IPPROTO_TCP && len >= 4)
        return (int)steer_owner(st, src, be16(l4), dst, be16(l4 + 2), alen);
    bool icmp_error = !frag && !quoted && len >= 8 &&
                      ((proto == WIRE_IPPROTO_ICMP && (l4[0] == WIRE_ICMP_DEST_UNREACH ||
                                                      l4[0] == WIRE_ICMP_TIME_EXCEEDED ||
                                                      l4[0] == WIRE_ICMP_PARAM_PROBLEM)) ||
                       (proto == WIRE_IPPROTO_ICMPV6 && l4[0] >= 1 && l4[0] <= 4));
    if (icmp_error)
        return ip_owner(st, l4 + 8, len - 8, true);
    return (int)steer_owner(st, src, 0, dst, 0, alen);
}

static int ipv4_owner(const synack_steer *st, const uint8_t *p, size_t len, bool quoted)
{
    if (len < WIRE_IPV4_HDR_LEN)
        return TO_ZERO;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if (ihl < WIRE_IPV4_HDR_LEN || ihl > len)
        return TO_ZERO;
    bool frag = (be16(p + 6) & 0x3fff) != 0; /* MF or an offset */
    return transport_owner(st, p + 12, p + 16, 4, p[9], frag, p + ihl, len - ihl, quoted);
}

/* Neighbour Discovery: solicitations to stack 0, which answers them;
 * advertisements (and redirects) to every stack, each of which may be
 * waiting to resolve that neighbour. */
static int nd_owner(uint8_t type)
{
    return type == 134 || type == 136 || type == 137 ? SYNACK_STEER_ALL : TO_ZERO;
}

static int ipv6_owner(const synack_steer *st, const uint8_t *p, size_t len, bool quoted)
{
    if (len < WIRE_IPV6_HDR_LEN)
        return TO_ZERO;
    uint8_t proto = p[6];
    size_t off = WIRE_IPV6_HDR_LEN;
    bool frag = false;
    for (int n = 0; n < WIRE_IPV6_MAX_EXT; n++) {
        size_t ext;
        if (proto == WIRE_IPPROTO_HOPOPTS || proto == WIRE_IPPROTO_ROUTING ||
            proto == WIRE_IPPROTO_DSTOPTS) {
            if (len - off < 8)
                return TO_ZERO;
            ext = ((size_t)p[off + 1] + 1) * 8;
        } else if (proto == WIRE_IPPROTO_FRAGMENT) {
            if (len - off < 8)
                return TO_ZERO;
            frag = frag || (be16(p + off + 2) & 0xfff9) != 0; /* an atomic fragment is whole */
            ext = 8;
        } else if (proto == WIRE_IPPROTO_AH) {
            if (len - off < 8)
                return TO_ZERO;
            ext = ((size_t)p[off + 1] + 2) * 4;
        } else {
            break;
        }
        if (ext > len - off)
            return TO_ZERO;
        proto = p[off];
        off += ext;
    }
    if (proto == WIRE_IPPROTO_ICMPV6 && !frag && len - off >= 1 && p[off] >= 133 &&
        p[off] <= 137)
        return nd_owner(p[off]);
    if (proto == WIRE_IPPROTO_ICMPV6 && !frag && len - off >= 1 &&
        (p[off] == 130 || p[off] == 131 || p[off] == 132 || p[off] == 143))
        return TO_ZERO; /* multicast listener messages: no flow */
    return transport_owner(st, p + 8, p + 24, 16, proto, frag, p + off, len - off, quoted);
}

static int ip_owner(const synack_steer *st, const uint8_t *p, size_t len, bool quoted)
{
    if (len < 1)
        return TO_ZERO;
    switch (p[0] >> 4) {
    case 4:
        return ipv4_owner(st, p, len, quoted);
    case 6:
        return ipv6_owner(st, p, len, quoted);
    default:
        return TO_ZERO;
    }
}

/* ARP: requests to stack 0, which answers; replies to every stack. */
static int arp_owner(const uint8_t *p, size_t len)
{
    return len >= 8 && be16(p + 6) == WIRE_ARP_REPLY ? SYNACK_STEER_ALL : TO_ZERO;
}

int synack_steer_flow(const synack_steer *st, int proto, const synack_addr *a, uint16_t aport,
                      const synack_addr *b, uint16_t bport)
{
    if (!st || !steer_active(st) || !a || !b || a->family != b->family)
        return TO_ZERO;
    return (int)steer_flow_owner(st, proto == WIRE_IPPROTO_TCP, a, aport, b, bport);
}

int synack_steer_owner(const synack_steer *st, int link, const void *frame, size_t len)
{
    if (!st || !steer_active(st) || !frame)
        return TO_ZERO;
    const uint8_t *p = frame;
    if (link == SYNACK_LINK_IP)
        return ip_owner(st, p, len, false);
    if (len < WIRE_ETH_HDR_LEN)
        return TO_ZERO;
    uint16_t type = be16(p + 12);
    p += WIRE_ETH_HDR_LEN;
    len -= WIRE_ETH_HDR_LEN;
    if (type == WIRE_ETHERTYPE_ARP)
        return arp_owner(p, len);
    if (type == WIRE_ETHERTYPE_IPV4 || type == WIRE_ETHERTYPE_IPV6)
        return ip_owner(st, p, len, false);
    return TO_ZERO;
}
