/* icmp.c — ICMP messages (RFC 792): parse any, emit echo request/reply and
 * errors. */
#include "wire/wire.h"

#include <string.h>

#define ICMP_HDR_LEN 8

wire_err wire_icmp_parse(const uint8_t *p, size_t len, wire_icmp *out)
{
    if (len < ICMP_HDR_LEN)
        return WIRE_TRUNCATED;
    if (wire_csum_fold(wire_csum_add(0, p, len)) != 0)
        return WIRE_BAD_CSUM;
    out->type = p[0];
    out->code = p[1];
    out->id = wire_get16(p + 4);
    out->seq = wire_get16(p + 6);
    out->data = p + ICMP_HDR_LEN;
    out->data_len = len - ICMP_HDR_LEN;
    return WIRE_OK;
}

wire_err wire_icmp_parse_quote(const wire_icmp *m, wire_icmp_quote *out)
{
    const uint8_t *q = m->data;
    if (m->data_len < 20)
        return WIRE_TRUNCATED;
    size_t ihl = (size_t)(q[0] & 0x0f) * 4;
    if ((q[0] >> 4) != 4 || ihl < 20)
        return WIRE_BAD_HEADER;
    if (m->data_len < ihl + 8)
        return WIRE_TRUNCATED;
    out->proto = q[9];
    out->src = wire_get32(q + 12);
    out->dst = wire_get32(q + 16);
    out->sport = wire_get16(q + ihl);
    out->dport = wire_get16(q + ihl + 2);
    out->seq = wire_get32(q + ihl + 4);
    out->next_hop_mtu = m->type == WIRE_ICMP_DEST_UNREACH && m->code == WIRE_ICMP_FRAG_NEEDED
                            ? m->seq /* bytes 6-7 of the header */
                            : 0;
    return WIRE_OK;
}

size_t wire_icmp_emit_echo(uint8_t *buf, size_t cap, uint8_t type, uint16_t id,
                           uint16_t seq, const uint8_t *data, size_t data_len)
{
    if (cap < ICMP_HDR_LEN || data_len > cap - ICMP_HDR_LEN)
        return 0;
    /* The data may alias the buffer (a reply built in place): move it first. */
    if (data_len)
        memmove(buf + ICMP_HDR_LEN, data, data_len);
    buf[0] = type;
    buf[1] = 0;
    wire_put16(buf + 2, 0);
    wire_put16(buf + 4, id);
    wire_put16(buf + 6, seq);
    size_t len = ICMP_HDR_LEN + data_len;
    wire_put16(buf + 2, wire_csum_fold(wire_csum_add(0, buf, len)));
    return len;
}

size_t wire_icmp_emit_error(uint8_t *buf, size_t cap, uint8_t type, uint8_t code, uint32_t rest,
                            const uint8_t *quote, size_t quote_len)
{
    if (cap < ICMP_HDR_LEN || quote_len > cap - ICMP_HDR_LEN)
        return 0;
    if (quote_len)
        memmove(buf + ICMP_HDR_LEN, quote, quote_len);
    buf[0] = type;
    buf[1] = code;
    wire_put16(buf + 2, 0);
    wire_put32(buf + 4, rest);
    size_t len = ICMP_HDR_LEN + quote_len;
    wire_put16(buf + 2, wire_csum_fold(wire_csum_add(0, buf, len)));
    return len;
}
