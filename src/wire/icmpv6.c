/* icmpv6.c — ICMPv6 messages (RFC 4443): parse any and verify its checksum,
 * emit echo request/reply and the four error messages, read an error's quote. */
#include "wire/wire.h"

#include <string.h>

#define IPV6_HDR_LEN 40

wire_err wire_icmpv6_parse(const uint8_t *p, size_t len, const uint8_t src[16],
                           const uint8_t dst[16], wire_icmpv6 *out)
{
    if (len < 4)
        return WIRE_TRUNCATED;
    uint32_t sum = wire_csum_add(wire_csum_pseudo6(src, dst, WIRE_IPPROTO_ICMPV6, (uint32_t)len), p, len);
    if (wire_csum_fold(sum) != 0)
        return WIRE_BAD_CSUM;
    out->type = p[0];
    out->code = p[1];
    out->msg = p;
    out->len = len;
    if (len >= WIRE_ICMPV6_HDR_LEN) {
        out->body = wire_get32(p + 4);
        out->data = p + WIRE_ICMPV6_HDR_LEN;
        out->data_len = len - WIRE_ICMPV6_HDR_LEN;
    } else {
        out->body = 0;
        out->data = p + len;
        out->data_len = 0;
    }
    return WIRE_OK;
}

void wire_icmpv6_set_checksum(uint8_t *msg, size_t len, const uint8_t src[16],
                              const uint8_t dst[16])
{
    wire_put16(msg + 2, 0);
    uint32_t sum = wire_csum_add(wire_csum_pseudo6(src, dst, WIRE_IPPROTO_ICMPV6, (uint32_t)len), msg, len);
    wire_put16(msg + 2, wire_csum_fold(sum));
}

/* The 8-byte header (checksum 0) in front of `data`, which may alias buf. */
static size_t emit_with_data(uint8_t *buf, size_t cap, uint8_t type, uint8_t code,
                             uint32_t body, const uint8_t *data, size_t data_len)
{
    if (cap < WIRE_ICMPV6_HDR_LEN || data_len > cap - WIRE_ICMPV6_HDR_LEN)
        return 0;
    if (data_len)
        memmove(buf + WIRE_ICMPV6_HDR_LEN, data, data_len);
    buf[0] = type;
    buf[1] = code;
    wire_put16(buf + 2, 0);
    wire_put32(buf + 4, body);
    return WIRE_ICMPV6_HDR_LEN + data_len;
}

size_t wire_icmpv6_emit_echo(uint8_t *buf, size_t cap, const uint8_t src[16],
                             const uint8_t dst[16], uint8_t type, uint16_t id,
                             uint16_t seq, const uint8_t *data, size_t data_len)
{
    size_t n = emit_with_data(buf, cap, type, 0, (uint32_t)id << 16 | seq, data, data_len);
    if (n)
        wire_icmpv6_set_checksum(buf, n, src, dst);
    return n;
}

size_t wire_icmpv6_emit_error(uint8_t *buf, size_t cap, const uint8_t src[16],
                              const uint8_t dst[16], uint8_t type, uint8_t code,
                              uint32_t body, const uint8_t *pkt, size_t pkt_len)
{
    size_t quote = pkt_len < WIRE_ICMPV6_MAX_QUOTE ? pkt_len : WIRE_ICMPV6_MAX_QUOTE;
    size_t n = emit_with_data(buf, cap, type, code, body, pkt, quote);
    if (n)
        wire_icmpv6_set_checksum(buf, n, src, dst);
    return n;
}

size_t wire_icmpv6_emit_dest_unreach(uint8_t *buf, size_t cap, const uint8_t src[16],
                                     const uint8_t dst[16], uint8_t code,
                                     const uint8_t *pkt, size_t pkt_len)
{
    if (code > 6)
        return 0;
    return wire_icmpv6_emit_error(buf, cap, src, dst, WIRE_ICMPV6_DEST_UNREACH, code, 0, pkt,
                                  pkt_len);
}

size_t wire_icmpv6_emit_packet_too_big(uint8_t *buf, size_t cap, const uint8_t src[16],
                                       const uint8_t dst[16], uint32_t mtu,
                                       const uint8_t *pkt, size_t pkt_len)
{
    return wire_icmpv6_emit_error(buf, cap, src, dst, WIRE_ICMPV6_PACKET_TOO_BIG, 0, mtu, pkt,
                                  pkt_len);
}

size_t wire_icmpv6_emit_time_exceeded(uint8_t *buf, size_t cap, const uint8_t src[16],
                                      const uint8_t dst[16], uint8_t code,
                                      const uint8_t *pkt, size_t pkt_len)
{
    if (code > 1)
        return 0;
    return wire_icmpv6_emit_error(buf, cap, src, dst, WIRE_ICMPV6_TIME_EXCEEDED, code, 0, pkt,
                                  pkt_len);
}

size_t wire_icmpv6_emit_param_problem(uint8_t *buf, size_t cap, const uint8_t src[16],
                                      const uint8_t dst[16], uint8_t code, uint32_t pointer,
                                      const uint8_t *pkt, size_t pkt_len)
{
    if (code > 3)
        return 0;
    return wire_icmpv6_emit_error(buf, cap, src, dst, WIRE_ICMPV6_PARAM_PROBLEM, code, pointer,
                                  pkt, pkt_len);
}

/* Next Header values that are extension headers (RFC 8200 §4, RFC 7045's
 * list) or "no next header": the upper-layer header is not right after. */
static int is_extension(uint8_t nh)
{
    switch (nh) {
    case 0:   /* hop-by-hop options */
    case 43:  /* routing */
    case 44:  /* fragment */
    case 50:  /* ESP */
    case 51:  /* AH */
    case 59:  /* no next header */
    case 60:  /* destination options */
    case 135: /* mobility */
    case 139: /* HIP */
    case 140: /* shim6 */
    case 253: /* experiments (RFC 3692) */
    case 254:
        return 1;
    default:
        return 0;
    }
}

static int is_error_type(uint8_t type)
{
    return type >= WIRE_ICMPV6_DEST_UNREACH && type <= WIRE_ICMPV6_PARAM_PROBLEM;
}

wire_err wire_icmpv6_parse_quote(const wire_icmpv6 *m, wire_icmpv6_quote *out)
{
    if (!is_error_type(m->type))
        return WIRE_BAD_HEADER;
    if (m->len < WIRE_ICMPV6_HDR_LEN || m->data_len < IPV6_HDR_LEN)
        return WIRE_TRUNCATED;
    const uint8_t *q = m->data;
    if ((q[0] >> 4) != 6)
        return WIRE_BAD_HEADER;
    memset(out, 0, sizeof(*out));
    out->next_header = q[6];
    memcpy(out->src, q + 8, 16);
    memcpy(out->dst, q + 24, 16);
    if (!is_extension(out->next_header) && m->data_len >= IPV6_HDR_LEN + 8) {
        const uint8_t *u = q + IPV6_HDR_LEN;
        out->has_upper = 1;
        out->sport = wire_get16(u);
        out->dport = wire_get16(u + 2);
        out->seq = wire_get32(u + 4);
    }
    if (m->type == WIRE_ICMPV6_PACKET_TOO_BIG)
        out->mtu = m->body;
    return WIRE_OK;
}
