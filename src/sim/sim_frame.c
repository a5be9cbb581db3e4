/* sim_frame.c — a lenient frame summary for traces, IPv4 and IPv6 (no
 * checksums checked, every length checked). */
#include "sim/sim.h"

#include <string.h>

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void parse_options(const uint8_t *p, size_t len, synack_seg_info *seg) {
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == 0)
            break;
        if (kind == 1) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            break;
        uint8_t olen = p[i + 1];
        if (olen < 2 || i + olen > len)
            break;
        const uint8_t *o = p + i + 2;
        switch (kind) {
        case 2:
            if (olen == 4)
                seg->mss = rd16(o);
            break;
        case 3:
            if (olen == 3)
                seg->wscale = (int8_t)(o[0] > 127 ? 127 : o[0]);
            break;
        case 4:
            if (olen == 2)
                seg->sack_ok = 1;
            break;
        case 5:
            for (size_t b = 0; b + 8 <= (size_t)olen - 2 && seg->sack_blocks < 4; b += 8) {
                seg->sack[seg->sack_blocks][0] = rd32(o + b);
                seg->sack[seg->sack_blocks][1] = rd32(o + b + 4);
                seg->sack_blocks++;
            }
            break;
        case 8:
            if (olen == 10) {
                seg->has_ts = 1;
                seg->ts_val = rd32(o);
                seg->ts_ecr = rd32(o + 4);
            }
            break;
        }
        i += olen;
    }
}

static void parse_tcp(const uint8_t *t, size_t tlen, sim_frame_info *out) {
    if (tlen < 20)
        return;
    size_t doff = (size_t)(t[12] >> 4) * 4;
    if (doff < 20 || doff > tlen)
        return;
    out->is_tcp = 1;
    out->src_port = rd16(t);
    out->dst_port = rd16(t + 2);
    out->seg.seq = rd32(t + 4);
    out->seg.ack = rd32(t + 8);
    out->seg.flags = t[13];
    out->seg.wnd = rd16(t + 14);
    out->seg.len = (uint32_t)(tlen - doff);
    parse_options(t + 20, doff - 20, &out->seg);
}

/* ICMP and ICMPv6 alike: type and code lead (RFC 792, RFC 4443 §2.1). */
static void parse_icmp(const uint8_t *p, size_t len, sim_frame_info *out) {
    if (len < 4)
        return;
    out->is_icmp = 1;
    out->icmp_type = p[0];
    out->icmp_code = p[1];
}

static void parse_upper(uint8_t proto, uint8_t icmp_proto, const uint8_t *p, size_t len,
                        sim_frame_info *out) {
    if (proto == 6)
        parse_tcp(p, len, out);
    else if (proto == icmp_proto)
        parse_icmp(p, len, out);
}

static void parse_ipv4(const uint8_t *ip, size_t avail, sim_frame_info *out) {
    if (avail < 20 || (ip[0] >> 4) != 4)
        return;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = rd16(ip + 2);
    if (ihl < 20 || ihl > avail)
        return;
    if (total > avail || total < ihl)
        total = avail;
    out->is_ipv4 = 1;
    out->src_ip = rd32(ip + 12);
    out->dst_ip = rd32(ip + 16);
    out->src = synack_addr_v4(out->src_ip);
    out->dst = synack_addr_v4(out->dst_ip);
    parse_upper(ip[9], 1, ip + ihl, total - ihl, out);
}

/* RFC 8200 §4: past hop-by-hop, routing and destination options headers
 * (8 x (1 + length) bytes each) and a first fragment's header (8 bytes)
 * to the upper layer; a later fragment has none. */
static void parse_ipv6(const uint8_t *ip, size_t avail, sim_frame_info *out) {
    if (avail < 40 || (ip[0] >> 4) != 6)
        return;
    size_t total = 40 + (size_t)rd16(ip + 4);
    if (total > avail)
        total = avail;
    out->is_ipv6 = 1;
    out->src = synack_addr_v6(ip + 8);
    out->dst = synack_addr_v6(ip + 24);
    uint8_t proto = ip[6];
    size_t off = 40;
    while ((proto == 0 || proto == 43 || proto == 60 || proto == 44) && off + 8 <= total) {
        const uint8_t *h = ip + off;
        if (proto == 44 && (rd16(h + 2) & 0xfff8) != 0)
            return;
        size_t hlen = proto == 44 ? 8 : ((size_t)h[1] + 1) * 8;
        proto = h[0];
        off += hlen;
    }
    if (off <= total)
        parse_upper(proto, 58, ip + off, total - off, out);
}

void sim_frame_parse(const uint8_t *f, size_t len, sim_frame_info *out) {
    memset(out, 0, sizeof *out);
    out->seg.wscale = -1;
    if (len < 14)
        return;
    uint16_t type = rd16(f + 12);
    if (type == 0x0806)
        out->is_arp = 1;
    else if (type == 0x0800)
        parse_ipv4(f + 14, len - 14, out);
    else if (type == 0x86dd)
        parse_ipv6(f + 14, len - 14, out);
}
