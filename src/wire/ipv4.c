/* ipv4.c — IPv4 header (RFC 791). Options are skipped; fragments are told
 * apart (WIRE_FRAGMENT) for the reassembly in net/reasm.c, and made of a
 * header for net/frag.c. */
#include "wire/wire.h"

#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_OFFSET_MASK 0x1fff

wire_err wire_ipv4_parse(const uint8_t *p, size_t len, wire_ipv4 *out)
{
    if (len < WIRE_IPV4_HDR_LEN)
        return WIRE_TRUNCATED;
    if (p[0] >> 4 != 4)
        return WIRE_BAD_HEADER;
    size_t hdr_len = (size_t)(p[0] & 0x0f) * 4;
    if (hdr_len < WIRE_IPV4_HDR_LEN)
        return WIRE_BAD_HEADER;
    if (hdr_len > len)
        return WIRE_TRUNCATED;
    uint16_t total_len = wire_get16(p + 2);
    if (total_len > len)
        return WIRE_TRUNCATED;
    if (total_len < hdr_len)
        return WIRE_BAD_HEADER;
    if (wire_csum_fold(wire_csum_add(0, p, hdr_len)) != 0)
        return WIRE_BAD_CSUM;
    uint16_t frag = wire_get16(p + 6);
    out->hdr_len = (uint8_t)hdr_len;
    out->tos = p[1];
    out->total_len = total_len;
    out->id = wire_get16(p + 4);
    out->ttl = p[8];
    out->proto = p[9];
    out->src = wire_get32(p + 12);
    out->dst = wire_get32(p + 16);
    out->payload = p + hdr_len;
    out->payload_len = (size_t)total_len - hdr_len;
    out->frag_offset = (uint16_t)((frag & IP_OFFSET_MASK) * 8);
    out->more_frags = (frag & IP_FLAG_MF) != 0;
    return out->more_frags || out->frag_offset ? WIRE_FRAGMENT : WIRE_OK;
}

size_t wire_ipv4_emit(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst,
                      uint8_t proto, uint8_t ttl, uint16_t id, size_t payload_len)
{
    if (cap < WIRE_IPV4_HDR_LEN || payload_len > 0xffff - WIRE_IPV4_HDR_LEN)
        return 0;
    buf[0] = 0x45;
    buf[1] = 0;
    wire_put16(buf + 2, (uint16_t)(WIRE_IPV4_HDR_LEN + payload_len));
    wire_put16(buf + 4, id);
    wire_put16(buf + 6, IP_FLAG_DF);
    buf[8] = ttl;
    buf[9] = proto;
    wire_put16(buf + 10, 0);
    wire_put32(buf + 12, src);
    wire_put32(buf + 16, dst);
    wire_put16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, WIRE_IPV4_HDR_LEN)));
    return WIRE_IPV4_HDR_LEN;
}

size_t wire_ipv4_set_fragment(uint8_t *hdr, size_t offset, int more)
{
    if (offset % 8 != 0 || offset / 8 > IP_OFFSET_MASK)
        return 0;
    wire_put16(hdr + 6, (uint16_t)((more ? IP_FLAG_MF : 0) | offset / 8));
    wire_put16(hdr + 10, 0);
    wire_put16(hdr + 10, wire_csum_fold(wire_csum_add(0, hdr, WIRE_IPV4_HDR_LEN)));
    return WIRE_IPV4_HDR_LEN;
}
