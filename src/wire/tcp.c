/* tcp.c — TCP header (RFC 9293 §3.1): parse with checksum (IPv4 or IPv6
 * pseudo-header), emit. */
#include "wire/wire.h"

#define TCP_CSUM_OFF 16

/* The pseudo-header's family, for parse(). */
enum { TRUSTED, PSEUDO4, PSEUDO6 };

typedef struct pseudo {
    int kind;
    uint32_t src4, dst4;
    const uint8_t *src6, *dst6;
} pseudo;

static wire_err parse(const uint8_t *seg, size_t len, const pseudo *ph, wire_tcp *out);

wire_err wire_tcp_parse(const uint8_t *seg, size_t len, uint32_t src_ip,
                        uint32_t dst_ip, wire_tcp *out)
{
    const pseudo ph = {.kind = PSEUDO4, .src4 = src_ip, .dst4 = dst_ip};
    return parse(seg, len, &ph, out);
}

wire_err wire_tcp_parse6(const uint8_t *seg, size_t len, const uint8_t src_ip[16],
                         const uint8_t dst_ip[16], wire_tcp *out)
{
    const pseudo ph = {.kind = PSEUDO6, .src6 = src_ip, .dst6 = dst_ip};
    return parse(seg, len, &ph, out);
}

wire_err wire_tcp_parse_trusted(const uint8_t *seg, size_t len, wire_tcp *out)
{
    const pseudo ph = {.kind = TRUSTED};
    return parse(seg, len, &ph, out);
}

/* The pseudo-header's sum for a segment of `len` (<= 0xffff) bytes. */
static uint32_t pseudo_sum(const pseudo *ph, size_t len)
{
    if (ph->kind == PSEUDO6)
        return wire_csum_pseudo6(ph->src6, ph->dst6, WIRE_IPPROTO_TCP, (uint32_t)len);
    return wire_csum_pseudo(ph->src4, ph->dst4, WIRE_IPPROTO_TCP, (uint16_t)len);
}

static wire_err parse(const uint8_t *seg, size_t len, const pseudo *ph, wire_tcp *out)
{
    if (len < WIRE_TCP_HDR_LEN)
        return WIRE_TRUNCATED;
    if (len > 0xffff)
        return WIRE_BAD_HEADER;
    size_t hdr_len = (size_t)(seg[12] >> 4) * 4;
    if (hdr_len < WIRE_TCP_HDR_LEN)
        return WIRE_BAD_HEADER;
    if (hdr_len > len)
        return WIRE_TRUNCATED;
    if (ph->kind != TRUSTED) {
        if (wire_csum_fold(wire_csum_add(pseudo_sum(ph, len), seg, len)) != 0)
            return WIRE_BAD_CSUM;
    }
    wire_err err = wire_tcp_parse_options(seg + WIRE_TCP_HDR_LEN,
                                          hdr_len - WIRE_TCP_HDR_LEN, &out->opt);
    if (err != WIRE_OK)
        return err;

    out->sport = wire_get16(seg);
    out->dport = wire_get16(seg + 2);
    out->seq = wire_get32(seg + 4);
    out->ack = wire_get32(seg + 8);
    out->hdr_len = (uint8_t)hdr_len;
    out->flags = seg[13];
    out->wnd = wire_get16(seg + 14);
    out->urg = wire_get16(seg + 18);
    out->payload = seg + hdr_len;
    out->payload_len = len - hdr_len;
    return WIRE_OK;
}

size_t wire_tcp_emit_header(uint8_t *buf, size_t cap, const wire_tcp *h)
{
    size_t hdr_len = WIRE_TCP_HDR_LEN + wire_tcp_opts_len(&h->opt);
    if (cap < hdr_len)
        return 0;
    wire_put16(buf, h->sport);
    wire_put16(buf + 2, h->dport);
    wire_put32(buf + 4, h->seq);
    wire_put32(buf + 8, h->ack);
    buf[12] = (uint8_t)(hdr_len / 4 << 4);
    buf[13] = h->flags;
    wire_put16(buf + 14, h->wnd);
    wire_put16(buf + TCP_CSUM_OFF, 0);
    wire_put16(buf + 18, h->urg);
    wire_tcp_emit_options(buf + WIRE_TCP_HDR_LEN, &h->opt);
    return hdr_len;
}

static void set_checksum(uint8_t *seg, size_t seg_len, const pseudo *ph)
{
    if (seg_len < WIRE_TCP_HDR_LEN || seg_len > 0xffff)
        return;
    wire_put16(seg + TCP_CSUM_OFF, 0);
    uint32_t sum = pseudo_sum(ph, seg_len);
    wire_put16(seg + TCP_CSUM_OFF, wire_csum_fold(wire_csum_add(sum, seg, seg_len)));
}

void wire_tcp_set_checksum(uint8_t *seg, size_t seg_len, uint32_t src_ip, uint32_t dst_ip)
{
    const pseudo ph = {.kind = PSEUDO4, .src4 = src_ip, .dst4 = dst_ip};
    set_checksum(seg, seg_len, &ph);
}

void wire_tcp_set_checksum6(uint8_t *seg, size_t seg_len, const uint8_t src_ip[16],
                            const uint8_t dst_ip[16])
{
    const pseudo ph = {.kind = PSEUDO6, .src6 = src_ip, .dst6 = dst_ip};
    set_checksum(seg, seg_len, &ph);
}
