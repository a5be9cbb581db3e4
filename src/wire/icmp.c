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

size_t wire_icmp_emit_error(uint8_t *buf, size_t cap, uint8_t type, uint8_t code,
                            const uint8_t *quote, size_t quote_len)
{
    if (cap < ICMP_HDR_LEN || quote_len > cap - ICMP_HDR_LEN)
        return 0;
    if (quote_len)
        memmove(buf + ICMP_HDR_LEN, quote, quote_len);
    buf[0] = type;
    buf[1] = code;
    memset(buf + 2, 0, 6);
    size_t len = ICMP_HDR_LEN + quote_len;
    wire_put16(buf + 2, wire_csum_fold(wire_csum_add(0, buf, len)));
    return len;
}
