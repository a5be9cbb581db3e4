/* fuzz_icmpv6.c — libFuzzer target: the ICMPv6 and Neighbour Discovery
 * parsers of src/wire (no stack).
 *
 * Input: [flags: 1][source: 16][destination: 16][hop limit: 1][message].
 * With flags bit 0 set the message's checksum is fixed first, so the fuzzer
 * reaches past the checksum; otherwise it is taken as it comes. The message
 * is parsed from an exact-size heap copy so any read past it is caught, then
 * run through the quote parser, ND validation, the ND parsers and the option
 * walk, and re-emitted. Broken invariants trap:
 *   - a message whose checksum was fixed parses;
 *   - a quote with has_upper has the 8 bytes behind it;
 *   - a message ND validation passes parses as its type, with options that
 *     parse; one refused for its options has options that do not;
 *   - the option walk moves forward by whole, non-zero multiples of 8;
 *   - every emitted message parses back to what was put in;
 *   - derived addresses fall in their classes.
 * Build: make fuzz. Corpus: tests/fuzz/corpus_icmpv6. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static uint8_t out_buf[2048];

static void check_walk(const uint8_t *opts, size_t len)
{
    size_t off = 0, prev = 0;
    wire_nd_opt o;
    int r;
    while ((r = wire_nd_opt_next(opts, len, &off, &o)) > 0) {
        CHECK(o.len >= 8 && o.len % 8 == 0 && off == prev + o.len && off <= len);
        CHECK(o.p == opts + prev && o.type == opts[prev]);
        wire_nd_prefix pi;
        if (wire_nd_parse_prefix(&o, &pi) == WIRE_OK)
            CHECK(o.type == WIRE_NDOPT_PREFIX && o.len == 32 && pi.prefix_len == o.p[2]);
        prev = off;
    }
    CHECK(r == 0 ? off == len : off == prev);
    wire_nd_opts s;
    CHECK((wire_nd_parse_options(opts, len, &s) == WIRE_OK) == (r == 0));
}

static void check_quote(const wire_icmpv6 *m)
{
    wire_icmpv6_quote q;
    wire_err e = wire_icmpv6_parse_quote(m, &q);
    if (e != WIRE_OK)
        return;
    CHECK(m->type >= 1 && m->type <= 4 && m->data_len >= 40);
    CHECK(!q.has_upper || m->data_len >= 48);
    CHECK(q.mtu == (m->type == WIRE_ICMPV6_PACKET_TOO_BIG ? m->body : 0));
    CHECK(memcmp(q.src, m->data + 8, 16) == 0 && memcmp(q.dst, m->data + 24, 16) == 0);
}

/* The options of an ND message of a known type, or NULL. */
static const uint8_t *nd_opts(const wire_icmpv6 *m, size_t *len)
{
    wire_nd_ns ns;
    wire_nd_na na;
    wire_nd_rs rs;
    wire_nd_ra ra;
    if (wire_nd_parse_ns(m, &ns) == WIRE_OK)
        return *len = ns.opts_len, ns.opts;
    if (wire_nd_parse_na(m, &na) == WIRE_OK)
        return *len = na.opts_len, na.opts;
    if (wire_nd_parse_rs(m, &rs) == WIRE_OK)
        return *len = rs.opts_len, rs.opts;
    if (wire_nd_parse_ra(m, &ra) == WIRE_OK)
        return *len = ra.opts_len, ra.opts;
    return NULL;
}

static void check_nd(const wire_icmpv6 *m, const uint8_t *src, const uint8_t *dst, uint8_t hop)
{
    wire_nd_invalid why = wire_nd_validate(m, src, dst, hop);
    size_t olen = 0;
    const uint8_t *opts = nd_opts(m, &olen);
    wire_nd_opts s;
    if (why == WIRE_ND_VALID) {
        CHECK(opts && hop == 255 && m->code == 0);
        CHECK(wire_nd_parse_options(opts, olen, &s) == WIRE_OK);
    } else if (why == WIRE_ND_BAD_OPTION) {
        CHECK(opts && wire_nd_parse_options(opts, olen, &s) == WIRE_BAD_OPTIONS);
    } else if (why == WIRE_ND_NOT_ND) {
        CHECK(!opts);
    }
    if (opts)
        check_walk(opts, olen);
    /* An NS or NA re-emitted from what was read reads back the same. */
    wire_nd_ns ns;
    wire_nd_na na;
    wire_icmpv6 back;
    if (wire_nd_parse_ns(m, &ns) == WIRE_OK) {
        size_t n = wire_nd_emit_ns(out_buf, sizeof(out_buf), src, dst, ns.target, src);
        CHECK(n == 32 && wire_icmpv6_parse(out_buf, n, src, dst, &back) == WIRE_OK);
        CHECK(wire_nd_parse_ns(&back, &ns) == WIRE_OK && memcmp(ns.target, m->msg + 8, 16) == 0);
    }
    if (wire_nd_parse_na(m, &na) == WIRE_OK) {
        uint8_t flags = na.flags;
        size_t n = wire_nd_emit_na(out_buf, sizeof(out_buf), src, dst, flags, na.target, NULL);
        CHECK(n == 24 && wire_icmpv6_parse(out_buf, n, src, dst, &back) == WIRE_OK);
        CHECK(wire_nd_parse_na(&back, &na) == WIRE_OK && na.flags == flags);
    }
}

/* Quote the message as if it were the offending packet, and echo it. */
static void check_emitters(const uint8_t *msg, size_t len, const uint8_t *src, const uint8_t *dst)
{
    wire_icmpv6 back;
    size_t n = wire_icmpv6_emit_param_problem(out_buf, sizeof(out_buf), dst, src, 0, 6, msg, len);
    size_t quote = len < WIRE_ICMPV6_MAX_QUOTE ? len : WIRE_ICMPV6_MAX_QUOTE;
    CHECK(n == 8 + quote && wire_icmpv6_parse(out_buf, n, dst, src, &back) == WIRE_OK);
    CHECK(back.data_len == quote && memcmp(back.data, msg, quote) == 0 && back.body == 6);
    check_quote(&back);
    if (len <= sizeof(out_buf) - 8) {
        n = wire_icmpv6_emit_echo(out_buf, sizeof(out_buf), src, dst, WIRE_ICMPV6_ECHO_REPLY,
                                  0x1234, (uint16_t)len, msg, len);
        CHECK(n == 8 + len && wire_icmpv6_parse(out_buf, n, src, dst, &back) == WIRE_OK);
        CHECK(back.body == (0x12340000u | (uint16_t)len));
    }
}

static void check_addresses(const uint8_t *a)
{
    uint8_t x[16], mac[6];
    wire_ipv6addr_solicited_node(x, a);
    CHECK(wire_ipv6addr_is_solicited_node(x) && wire_ipv6addr_is_multicast(x));
    CHECK(memcmp(x + 13, a + 13, 3) == 0);
    wire_ipv6addr_multicast_mac(mac, x);
    CHECK(mac[0] == 0x33 && mac[1] == 0x33 && mac[2] == 0xff);
    wire_ipv6addr_link_local(x, a);
    CHECK(wire_ipv6addr_is_link_local(x) && !wire_ipv6addr_is_multicast(x));
    CHECK(!(wire_ipv6addr_is_unspecified(a) && wire_ipv6addr_is_loopback(a)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 34)
        return 0;
    uint8_t flags = data[0], src[16], dst[16];
    memcpy(src, data + 1, 16);
    memcpy(dst, data + 17, 16);
    uint8_t hop = data[33];
    size_t len = size - 34;
    uint8_t *msg = malloc(len ? len : 1);
    if (!msg)
        abort();
    memcpy(msg, data + 34, len);
    if ((flags & 1) && len >= 4)
        wire_icmpv6_set_checksum(msg, len, src, dst);
    wire_icmpv6 m;
    wire_err e = wire_icmpv6_parse(msg, len, src, dst, &m);
    if ((flags & 1) && len >= 4)
        CHECK(e == WIRE_OK);
    if (e == WIRE_OK) {
        CHECK(m.msg == msg && m.len == len && m.data + m.data_len == msg + len);
        check_quote(&m);
        check_nd(&m, src, dst, hop);
    }
    check_walk(msg, len);
    check_emitters(msg, len, src, dst);
    check_addresses(src);
    free(msg);
    return 0;
}
