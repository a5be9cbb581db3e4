/* udp.c — UDP datagrams (RFC 768): parse with the length and checksum
 * checks of RFC 1122 §4.1.3 and RFC 8200 §8.1, and emit. A view only; the
 * payload points into the caller's buffer. */
#include "wire/wire.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* The header and the length field: the datagram is its first `length`
 * bytes (more after it is padding and dropped; less is truncated). */
static wire_err parse_header(const uint8_t *d, size_t len, wire_udp *out)
{
    if (len < WIRE_UDP_HDR_LEN)
        return WIRE_TRUNCATED;
    uint16_t ulen = get16(d + 4);
    if (ulen < WIRE_UDP_HDR_LEN)
        return WIRE_BAD_HEADER;
    if (ulen > len)
        return WIRE_TRUNCATED;
    out->sport = get16(d);
    out->dport = get16(d + 2);
    out->csum = get16(d + 6);
    out->payload = d + WIRE_UDP_HDR_LEN;
    out->payload_len = (size_t)ulen - WIRE_UDP_HDR_LEN;
    return WIRE_OK;
}

wire_err wire_udp_parse(const uint8_t *d, size_t len, uint32_t src_ip, uint32_t dst_ip,
                        wire_udp *out)
{
    wire_err e = parse_header(d, len, out);
    if (e != WIRE_OK || out->csum == 0) /* 0: the sender computed none (IPv4 only) */
        return e;
    size_t ulen = out->payload_len + WIRE_UDP_HDR_LEN;
    uint32_t sum = wire_csum_pseudo(src_ip, dst_ip, WIRE_IPPROTO_UDP, (uint16_t)ulen);
    return wire_csum_fold(wire_csum_add(sum, d, ulen)) == 0 ? WIRE_OK : WIRE_BAD_CSUM;
}

wire_err wire_udp_parse6(const uint8_t *d, size_t len, const uint8_t src_ip[16],
                         const uint8_t dst_ip[16], wire_udp *out)
{
    wire_err e = parse_header(d, len, out);
    if (e != WIRE_OK)
        return e;
    if (out->csum == 0) /* RFC 8200 §8.1: mandatory over IPv6 */
        return WIRE_BAD_CSUM;
    size_t ulen = out->payload_len + WIRE_UDP_HDR_LEN;
    return wire_csum6(src_ip, dst_ip, WIRE_IPPROTO_UDP, d, ulen) == 0 ? WIRE_OK : WIRE_BAD_CSUM;
}

size_t wire_udp_emit_header(uint8_t *buf, size_t cap, uint16_t sport, uint16_t dport,
                            size_t payload_len)
{
    if (cap < WIRE_UDP_HDR_LEN || payload_len > 65535 - WIRE_UDP_HDR_LEN)
        return 0;
    put16(buf, sport);
    put16(buf + 2, dport);
    put16(buf + 4, (uint16_t)(payload_len + WIRE_UDP_HDR_LEN));
    put16(buf + 6, 0);
    return WIRE_UDP_HDR_LEN;
}

/* A computed 0 is sent as all ones: 0 on the wire means "none" (RFC 768). */
static void store(uint8_t *d, uint16_t c) { put16(d + 6, c ? c : 0xffff); }

void wire_udp_set_checksum(uint8_t *d, size_t len, uint32_t src_ip, uint32_t dst_ip)
{
    put16(d + 6, 0);
    uint32_t sum = wire_csum_pseudo(src_ip, dst_ip, WIRE_IPPROTO_UDP, (uint16_t)len);
    store(d, wire_csum_fold(wire_csum_add(sum, d, len)));
}

void wire_udp_set_checksum6(uint8_t *d, size_t len, const uint8_t src_ip[16],
                            const uint8_t dst_ip[16])
{
    put16(d + 6, 0);
    store(d, wire_csum6(src_ip, dst_ip, WIRE_IPPROTO_UDP, d, len));
}
