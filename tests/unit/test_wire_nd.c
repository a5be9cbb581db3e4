/* test_wire_nd.c — Neighbour Discovery (RFC 4861) messages, options and
 * validation, and the IPv6 address helpers (RFC 4291, RFC 2464). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

/* A neighbour solicitation as a host sends it, written out field by field
 * from RFC 4861 §4.3 and RFC 8200 §3: 52:54:00:12:34:56, whose link-local
 * address is fe80::5054:ff:fe12:3456, asks for fe80::2 at the solicited-node
 * group ff02::1:ff00:2. The checksum was summed by hand (by a separate
 * script, not by synack). */
static const char NS_FRAME[] =
    /* Ethernet: 33:33 + the group's last 4 bytes, our MAC, IPv6 */
    "3333ff000002 525400123456 86dd"
    /* IPv6: version 6, payload 32, next header 58, hop limit 255 */
    "60000000 0020 3a ff"
    "fe800000000000005054 00fffe123456"
    "ff020000000000000000 0001ff000002"
    /* ICMPv6: type 135, code 0, checksum, reserved */
    "87 00 7220 00000000"
    /* target fe80::2 */
    "fe800000000000000000000000000002"
    /* source link-layer address option: type 1, length 1 (8 bytes) */
    "01 01 525400123456";

/* The advertisement that answers it: S and O set, target link-layer
 * address 02:00:00:00:00:02, checksum summed by hand. */
static const char NA_MSG[] =
    "88 00 945e 60000000"
    "fe800000000000000000000000000002"
    "02 01 020000000002";

static const uint8_t MAC[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t MAC2[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t LL[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x50, 0x54, 0, 0xff, 0xfe, 0x12, 0x34, 0x56};
static const uint8_t LL2[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t SNM2[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 2};
static const uint8_t UNSPEC[16] = {0};
static const uint8_t ALL_NODES[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t GLOBAL[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

/* Parse `m` as an ICMPv6 message from src to dst; the test fails if not. */
static wire_icmpv6 parsed(const uint8_t *m, size_t len, const uint8_t *src, const uint8_t *dst)
{
    wire_icmpv6 v;
    assert_int_equal(wire_icmpv6_parse(m, len, src, dst, &v), WIRE_OK);
    return v;
}

static void known_ns_frame(void **state)
{
    (void)state;
    uint8_t f[128];
    size_t n = hex_decode(NS_FRAME, f, sizeof(f));
    assert_int_equal(n, 14 + 40 + 32);
    wire_eth e;
    assert_int_equal(wire_eth_parse(f, n, &e), WIRE_OK);
    const uint8_t *ip = e.payload;
    assert_int_equal(ip[6], WIRE_IPPROTO_ICMPV6);
    wire_icmpv6 v = parsed(ip + 40, 32, ip + 8, ip + 24);
    assert_int_equal(v.type, WIRE_ND_NEIGHBOR_SOLICIT);
    assert_int_equal(wire_nd_validate(&v, ip + 8, ip + 24, ip[7]), WIRE_ND_VALID);
    wire_nd_ns ns;
    assert_int_equal(wire_nd_parse_ns(&v, &ns), WIRE_OK);
    assert_memory_equal(ns.target, LL2, 16);
    assert_ptr_equal(ns.opts, ip + 40 + 24);
    assert_int_equal(ns.opts_len, 8);
    wire_nd_opts o;
    assert_int_equal(wire_nd_parse_options(ns.opts, ns.opts_len, &o), WIRE_OK);
    assert_int_equal(o.has_slla, 1);
    assert_memory_equal(o.slla, MAC, 6);
    assert_int_equal(o.has_tlla, 0);
    /* The addresses in the frame are the helpers' answers. */
    uint8_t a[16], mac[6];
    wire_ipv6addr_link_local(a, MAC);
    assert_memory_equal(ip + 8, a, 16);
    wire_ipv6addr_solicited_node(a, ns.target);
    assert_memory_equal(ip + 24, a, 16);
    wire_ipv6addr_multicast_mac(mac, a);
    assert_memory_equal(e.dst, mac, 6);
    /* And the emitter writes the same bytes. */
    uint8_t buf[64];
    assert_int_equal(wire_nd_emit_ns(buf, sizeof(buf), LL, SNM2, LL2, MAC), 32);
    assert_memory_equal(buf, ip + 40, 32);
}

static void known_na(void **state)
{
    (void)state;
    uint8_t m[32];
    assert_int_equal(hex_decode(NA_MSG, m, sizeof(m)), 32);
    wire_icmpv6 v = parsed(m, 32, LL2, LL);
    assert_int_equal(wire_nd_validate(&v, LL2, LL, 255), WIRE_ND_VALID);
    wire_nd_na na;
    assert_int_equal(wire_nd_parse_na(&v, &na), WIRE_OK);
    assert_int_equal(na.flags, WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE);
    assert_memory_equal(na.target, LL2, 16);
    wire_nd_opts o;
    assert_int_equal(wire_nd_parse_options(na.opts, na.opts_len, &o), WIRE_OK);
    assert_int_equal(o.has_tlla, 1);
    assert_int_equal(o.has_slla, 0);
    assert_memory_equal(o.tlla, MAC2, 6);
    /* Reserved bits set by the sender are not flags. */
    uint8_t r[32];
    memcpy(r, m, 32);
    r[4] |= 0x1f;
    r[5] = 0xff;
    wire_icmpv6_set_checksum(r, 32, LL2, LL);
    v = parsed(r, 32, LL2, LL);
    assert_int_equal(wire_nd_parse_na(&v, &na), WIRE_OK);
    assert_int_equal(na.flags, WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE);
    uint8_t buf[64];
    assert_int_equal(wire_nd_emit_na(buf, sizeof(buf), LL2, LL,
                                     WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE, LL2, MAC2), 32);
    assert_memory_equal(buf, m, 32);
}

static void ns_na_round_trip(void **state)
{
    (void)state;
    uint8_t buf[64];
    /* DAD: from ::, no source link-layer option. */
    size_t n = wire_nd_emit_ns(buf, sizeof(buf), UNSPEC, SNM2, LL2, NULL);
    assert_int_equal(n, 24);
    wire_icmpv6 v = parsed(buf, n, UNSPEC, SNM2);
    assert_int_equal(wire_nd_validate(&v, UNSPEC, SNM2, 255), WIRE_ND_VALID);
    wire_nd_ns ns;
    assert_int_equal(wire_nd_parse_ns(&v, &ns), WIRE_OK);
    assert_memory_equal(ns.target, LL2, 16);
    assert_int_equal(ns.opts_len, 0);
    /* Every flag combination (other bits are not sent). */
    for (unsigned f = 0; f < 256; f++) {
        const uint8_t *dst = (f & WIRE_ND_NA_SOLICITED) ? LL : ALL_NODES;
        n = wire_nd_emit_na(buf, sizeof(buf), LL2, dst, (uint8_t)f, GLOBAL, (f & 1) ? MAC2 : NULL);
        assert_int_equal(n, (f & 1) ? 32 : 24);
        v = parsed(buf, n, LL2, dst);
        assert_int_equal(wire_nd_validate(&v, LL2, dst, 255), WIRE_ND_VALID);
        wire_nd_na na;
        assert_int_equal(wire_nd_parse_na(&v, &na), WIRE_OK);
        assert_int_equal(na.flags, f & 0xe0);
        assert_int_equal(buf[4], f & 0xe0);
        assert_memory_equal(na.target, GLOBAL, 16);
        wire_nd_opts o;
        assert_int_equal(wire_nd_parse_options(na.opts, na.opts_len, &o), WIRE_OK);
        assert_int_equal(o.has_tlla, f & 1);
    }
    /* Too small a buffer: nothing. */
    for (size_t cap = 0; cap < 32; cap++)
        assert_int_equal(wire_nd_emit_ns(buf, cap, LL, SNM2, LL2, MAC), 0);
    for (size_t cap = 0; cap < 24; cap++)
        assert_int_equal(wire_nd_emit_na(buf, cap, LL, SNM2, 0, LL2, NULL), 0);
}

/* A router advertisement with a prefix, an MTU and an unknown option. */
static const char RA_MSG[] =
    "86 00 0000 40 c0 0708 0000ea60 000003e8"
    "03 04 40 c0 00278d00 00093a80 00000000 20010db8000000010000000000000000"
    "05 01 0000 000005dc"
    "99 01 000000000000"
    "01 01 525400abcdef";

static void ra_parse(void **state)
{
    (void)state;
    uint8_t m[96];
    size_t n = hex_decode(RA_MSG, m, sizeof(m));
    wire_icmpv6_set_checksum(m, n, LL, ALL_NODES);
    wire_icmpv6 v = parsed(m, n, LL, ALL_NODES);
    assert_int_equal(wire_nd_validate(&v, LL, ALL_NODES, 255), WIRE_ND_VALID);
    wire_nd_ra ra;
    assert_int_equal(wire_nd_parse_ra(&v, &ra), WIRE_OK);
    assert_int_equal(ra.cur_hop_limit, 64);
    assert_int_equal(ra.flags, WIRE_ND_RA_MANAGED | WIRE_ND_RA_OTHER);
    assert_int_equal(ra.router_lifetime, 1800);
    assert_int_equal(ra.reachable_time, 60000);
    assert_int_equal(ra.retrans_timer, 1000);
    assert_int_equal(ra.opts_len, n - 16);
    wire_nd_opts o;
    assert_int_equal(wire_nd_parse_options(ra.opts, ra.opts_len, &o), WIRE_OK);
    assert_int_equal(o.has_mtu, 1);
    assert_int_equal(o.mtu, 1500);
    assert_int_equal(o.prefixes, 1);
    assert_int_equal(o.unknown, 1);
    assert_int_equal(o.has_slla, 1);
    uint8_t mac[6] = {0x52, 0x54, 0x00, 0xab, 0xcd, 0xef};
    assert_memory_equal(o.slla, mac, 6);
    /* The prefix, read by walking. */
    size_t off = 0;
    wire_nd_opt opt;
    assert_int_equal(wire_nd_opt_next(ra.opts, ra.opts_len, &off, &opt), 1);
    assert_int_equal(opt.type, WIRE_NDOPT_PREFIX);
    assert_int_equal(opt.len, 32);
    wire_nd_prefix pi;
    assert_int_equal(wire_nd_parse_prefix(&opt, &pi), WIRE_OK);
    assert_int_equal(pi.prefix_len, 64);
    assert_int_equal(pi.flags, WIRE_ND_PREFIX_ONLINK | WIRE_ND_PREFIX_AUTO);
    assert_int_equal(pi.valid_lifetime, 2592000);
    assert_int_equal(pi.preferred_lifetime, 604800);
    uint8_t want[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1};
    assert_memory_equal(pi.prefix, want, 16);
    assert_int_equal(wire_nd_opt_next(ra.opts, ra.opts_len, &off, &opt), 1);
    assert_int_equal(opt.type, WIRE_NDOPT_MTU);
    assert_int_equal(wire_nd_parse_prefix(&opt, &pi), WIRE_BAD_HEADER);
    /* A prefix option of the wrong size is not read. */
    wire_nd_opt small = {.type = WIRE_NDOPT_PREFIX, .p = ra.opts, .len = 24};
    assert_int_equal(wire_nd_parse_prefix(&small, &pi), WIRE_BAD_HEADER);
}

static void rs_parse(void **state)
{
    (void)state;
    uint8_t m[16];
    size_t n = hex_decode("85 00 0000 00000000 01 01 525400123456", m, sizeof(m));
    wire_icmpv6_set_checksum(m, n, LL, ALL_NODES);
    wire_icmpv6 v = parsed(m, n, LL, ALL_NODES);
    assert_int_equal(wire_nd_validate(&v, LL, ALL_NODES, 255), WIRE_ND_VALID);
    wire_nd_rs rs;
    assert_int_equal(wire_nd_parse_rs(&v, &rs), WIRE_OK);
    assert_ptr_equal(rs.opts, m + 8);
    assert_int_equal(rs.opts_len, 8);
    /* From :: an RS must not carry a source link-layer option (§6.1.1). */
    wire_icmpv6_set_checksum(m, n, UNSPEC, ALL_NODES);
    v = parsed(m, n, UNSPEC, ALL_NODES);
    assert_int_equal(wire_nd_validate(&v, UNSPEC, ALL_NODES, 255), WIRE_ND_UNSPEC_WITH_SLLA);
    /* Without it, it may. */
    wire_icmpv6_set_checksum(m, 8, UNSPEC, ALL_NODES);
    v = parsed(m, 8, UNSPEC, ALL_NODES);
    assert_int_equal(wire_nd_validate(&v, UNSPEC, ALL_NODES, 255), WIRE_ND_VALID);
}

/* Each parser refuses the wrong type and a short fixed part. */
static void parsers_truncated_and_wrong_type(void **state)
{
    (void)state;
    uint8_t m[64];
    memset(m, 0, sizeof(m));
    const struct { uint8_t type; size_t fixed; } t[] = {
        {WIRE_ND_ROUTER_SOLICIT, 8}, {WIRE_ND_ROUTER_ADVERT, 16},
        {WIRE_ND_NEIGHBOR_SOLICIT, 24}, {WIRE_ND_NEIGHBOR_ADVERT, 24},
    };
    for (size_t i = 0; i < 4; i++) {
        for (size_t len = 4; len <= 40; len++) {
            m[0] = t[i].type;
            uint8_t *c = exact_copy(m, len);
            wire_icmpv6_set_checksum(c, len, LL, LL2);
            wire_icmpv6 v = parsed(c, len, LL, LL2);
            wire_err want = len < t[i].fixed ? WIRE_TRUNCATED : WIRE_OK;
            wire_nd_rs rs;
            wire_nd_ra ra;
            wire_nd_ns ns;
            wire_nd_na na;
            wire_err got[4] = {wire_nd_parse_rs(&v, &rs), wire_nd_parse_ra(&v, &ra),
                               wire_nd_parse_ns(&v, &ns), wire_nd_parse_na(&v, &na)};
            for (size_t j = 0; j < 4; j++)
                assert_int_equal(got[j], j == i ? want : WIRE_BAD_HEADER);
            /* Past the fixed part the zeros are an option of length 0. */
            assert_int_equal(wire_nd_validate(&v, LL, LL2, 255),
                             len < t[i].fixed    ? WIRE_ND_TOO_SHORT
                             : len == t[i].fixed ? WIRE_ND_VALID
                                                 : WIRE_ND_BAD_OPTION);
            free(c);
        }
    }
}

/* Every way to be invalid, each from a message that is valid otherwise. */
static void validation_failures(void **state)
{
    (void)state;
    uint8_t m[64];
    size_t n = wire_nd_emit_ns(m, sizeof(m), LL, SNM2, LL2, MAC);
    wire_icmpv6 v = parsed(m, n, LL, SNM2);
    assert_int_equal(wire_nd_validate(&v, LL, SNM2, 255), WIRE_ND_VALID);
    for (unsigned hl = 0; hl < 255; hl++)
        assert_int_equal(wire_nd_validate(&v, LL, SNM2, (uint8_t)hl), WIRE_ND_BAD_HOP_LIMIT);
    wire_icmpv6 bad = v;
    bad.code = 1;
    assert_int_equal(wire_nd_validate(&bad, LL, SNM2, 255), WIRE_ND_BAD_CODE);
    bad = v;
    bad.len = 23;
    assert_int_equal(wire_nd_validate(&bad, LL, SNM2, 255), WIRE_ND_TOO_SHORT);
    /* An option cut short by the length: runs past the end. */
    bad = v;
    bad.len = 30;
    assert_int_equal(wire_nd_validate(&bad, LL, SNM2, 255), WIRE_ND_BAD_OPTION);
    m[25] = 0; /* option length 0 */
    assert_int_equal(wire_nd_validate(&v, LL, SNM2, 255), WIRE_ND_BAD_OPTION);
    m[25] = 1;
    bad.type = 137; /* redirect, and others: not handled here */
    assert_int_equal(wire_nd_validate(&bad, LL, SNM2, 255), WIRE_ND_NOT_ND);
    bad.type = WIRE_ICMPV6_ECHO_REQUEST;
    assert_int_equal(wire_nd_validate(&bad, LL, SNM2, 255), WIRE_ND_NOT_ND);
    /* Multicast target, in an NS and an NA. */
    n = wire_nd_emit_ns(m, sizeof(m), LL, SNM2, ALL_NODES, MAC);
    v = parsed(m, n, LL, SNM2);
    assert_int_equal(wire_nd_validate(&v, LL, SNM2, 255), WIRE_ND_TARGET_MULTICAST);
    n = wire_nd_emit_na(m, sizeof(m), LL, LL2, 0, SNM2, MAC);
    v = parsed(m, n, LL, LL2);
    assert_int_equal(wire_nd_validate(&v, LL, LL2, 255), WIRE_ND_TARGET_MULTICAST);
    /* DAD with a source link-layer option; DAD not to a solicited-node group. */
    n = wire_nd_emit_ns(m, sizeof(m), UNSPEC, SNM2, LL2, MAC);
    v = parsed(m, n, UNSPEC, SNM2);
    assert_int_equal(wire_nd_validate(&v, UNSPEC, SNM2, 255), WIRE_ND_UNSPEC_WITH_SLLA);
    n = wire_nd_emit_ns(m, sizeof(m), UNSPEC, LL2, LL2, NULL);
    v = parsed(m, n, UNSPEC, LL2);
    assert_int_equal(wire_nd_validate(&v, UNSPEC, LL2, 255), WIRE_ND_DAD_NOT_SOLICITED_NODE);
    n = wire_nd_emit_ns(m, sizeof(m), UNSPEC, ALL_NODES, LL2, NULL);
    v = parsed(m, n, UNSPEC, ALL_NODES);
    assert_int_equal(wire_nd_validate(&v, UNSPEC, ALL_NODES, 255), WIRE_ND_DAD_NOT_SOLICITED_NODE);
    /* Solicited NA to a multicast address. */
    n = wire_nd_emit_na(m, sizeof(m), LL2, ALL_NODES, WIRE_ND_NA_SOLICITED, LL2, MAC2);
    v = parsed(m, n, LL2, ALL_NODES);
    assert_int_equal(wire_nd_validate(&v, LL2, ALL_NODES, 255), WIRE_ND_SOLICITED_TO_MULTICAST);
    /* RA from a global address. */
    uint8_t ra[16];
    hex_decode("86 00 0000 40 00 0708 00000000 00000000", ra, sizeof(ra));
    wire_icmpv6_set_checksum(ra, 16, GLOBAL, ALL_NODES);
    v = parsed(ra, 16, GLOBAL, ALL_NODES);
    assert_int_equal(wire_nd_validate(&v, GLOBAL, ALL_NODES, 255), WIRE_ND_RA_NOT_LINK_LOCAL);
    assert_int_equal(wire_nd_validate(&v, LL, ALL_NODES, 255), WIRE_ND_VALID);
}

static void option_walk_edges(void **state)
{
    (void)state;
    uint8_t o[64] = {0};
    size_t off = 0;
    wire_nd_opt opt;
    /* Empty: at the end at once. */
    assert_int_equal(wire_nd_opt_next(o, 0, &off, &opt), 0);
    wire_nd_opts s;
    assert_int_equal(wire_nd_parse_options(o, 0, &s), WIRE_OK);
    assert_int_equal(s.has_slla + s.has_tlla + s.has_mtu + s.prefixes + s.unknown, 0);
    /* One byte, or a zero length: malformed. */
    o[0] = 1;
    o[1] = 0;
    for (size_t len = 1; len <= 8; len++) {
        off = 0;
        assert_int_equal(wire_nd_opt_next(o, len, &off, &opt), -1);
        assert_int_equal(wire_nd_parse_options(o, len, &s), WIRE_BAD_OPTIONS);
    }
    /* Length 2 (16 bytes) in 8..15 bytes: runs past the end. */
    memset(o, 0, sizeof(o));
    o[0] = 200;
    o[1] = 2;
    for (size_t len = 2; len < 16; len++) {
        off = 0;
        uint8_t *c = exact_copy(o, len);
        assert_int_equal(wire_nd_opt_next(c, len, &off, &opt), -1);
        assert_int_equal(off, 0);
        free(c);
    }
    off = 0;
    assert_int_equal(wire_nd_opt_next(o, 16, &off, &opt), 1);
    assert_int_equal(opt.type, 200);
    assert_int_equal(opt.len, 16);
    assert_ptr_equal(opt.p, o);
    assert_int_equal(off, 16);
    assert_int_equal(wire_nd_opt_next(o, 16, &off, &opt), 0);
    /* Unknown, then SLLA, TLLA, a second SLLA (ignored), an MTU of the
     * wrong size (ignored), then a good MTU. */
    size_t n = hex_decode("c8 01 000000000000"
                          "01 01 525400123456"
                          "02 01 020000000002"
                          "01 01 aaaaaaaaaaaa"
                          "05 02 0000 00000500 0000000000000000"
                          "05 01 0000 00000578", o, sizeof(o));
    assert_int_equal(n, 56);
    assert_int_equal(wire_nd_parse_options(o, n, &s), WIRE_OK);
    assert_int_equal(s.unknown, 1);
    assert_int_equal(s.has_slla, 1);
    assert_memory_equal(s.slla, MAC, 6);
    assert_int_equal(s.has_tlla, 1);
    assert_memory_equal(s.tlla, MAC2, 6);
    assert_int_equal(s.has_mtu, 1);
    assert_int_equal(s.mtu, 1400);
    /* Known types of the wrong size are ignored, not counted as unknown;
     * a redirected header (type 4) is known and skipped. */
    uint8_t w[64];
    size_t wn = hex_decode("03 03 40c0 00000000 00000000 00000000 0000000000000000"
                           "02 02 020000000002 0000000000000000"
                           "01 02 525400123456 0000000000000000"
                           "04 01 000000000000", w, sizeof(w));
    assert_int_equal(wire_nd_parse_options(w, wn, &s), WIRE_OK);
    assert_int_equal(s.prefixes + s.unknown + s.has_slla + s.has_tlla + s.has_mtu, 0);
    /* A second TLLA does not replace the first. */
    wn = hex_decode("02 01 020000000002 02 01 aaaaaaaaaaaa", w, sizeof(w));
    assert_int_equal(wire_nd_parse_options(w, wn, &s), WIRE_OK);
    assert_memory_equal(s.tlla, MAC2, 6);
    /* A zero length in any option fails the whole list. */
    const size_t starts[] = {0, 8, 16, 24, 32, 48};
    for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
        uint8_t c[64];
        memcpy(c, o, n);
        c[starts[i] + 1] = 0;
        assert_int_equal(wire_nd_parse_options(c, n, &s), WIRE_BAD_OPTIONS);
    }
    /* Every truncation of the list: fine only at an option boundary. */
    for (size_t len = 0; len <= n; len++) {
        uint8_t *c = exact_copy(o, len);
        wire_err want = (len % 8 == 0 && len != 40) ? WIRE_OK : WIRE_BAD_OPTIONS;
        assert_int_equal(wire_nd_parse_options(c, len, &s), want);
        free(c);
    }
}

static void address_helpers(void **state)
{
    (void)state;
    uint8_t a[16], mac[6];
    /* MAC 52:54:00:12:34:56 → fe80::5054:ff:fe12:3456 (U/L bit 0x02 flipped). */
    wire_ipv6addr_link_local(a, MAC);
    assert_memory_equal(a, LL, 16);
    /* 02:00:00:00:00:02 (locally administered) → fe80::ff:fe00:2. */
    wire_ipv6addr_link_local(a, MAC2);
    uint8_t want[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 2};
    assert_memory_equal(a, want, 16);
    /* 2001:db8::1:2:3 → ff02::1:ff02:3. */
    const uint8_t x[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3};
    const uint8_t sx[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 2, 0, 3};
    wire_ipv6addr_solicited_node(a, x);
    assert_memory_equal(a, sx, 16);
    assert_true(wire_ipv6addr_is_solicited_node(a));
    memcpy(a, x, 16);
    wire_ipv6addr_solicited_node(a, a); /* in place */
    assert_memory_equal(a, sx, 16);
    /* ...and its group MAC 33:33:ff:02:00:03. */
    wire_ipv6addr_multicast_mac(mac, sx);
    const uint8_t smac[6] = {0x33, 0x33, 0xff, 0x02, 0x00, 0x03};
    assert_memory_equal(mac, smac, 6);
    wire_ipv6addr_multicast_mac(mac, ALL_NODES);
    const uint8_t amac[6] = {0x33, 0x33, 0, 0, 0, 1};
    assert_memory_equal(mac, amac, 6);
}

static void address_classes(void **state)
{
    (void)state;
    const uint8_t loop[16] = {[15] = 1};
    const uint8_t fe80[16] = {0xfe, 0x80};
    const uint8_t febf[16] = {0xfe, 0xbf, [15] = 9};
    const uint8_t fec0[16] = {0xfe, 0xc0};
    const uint8_t fe40[16] = {0xfe, 0x40};
    const uint8_t ff00[16] = {0xff};
    const uint8_t fe_ff[16] = {0xfe, 0xff};
    const uint8_t two[16] = {[15] = 2};
    const uint8_t hi1[16] = {[0] = 1, [15] = 1};
    const struct { const uint8_t *a; int mc, un, ll, lo, sn; } t[] = {
        {UNSPEC, 0, 1, 0, 0, 0}, {loop, 0, 0, 0, 1, 0},  {two, 0, 0, 0, 0, 0},
        {hi1, 0, 0, 0, 0, 0},    {fe80, 0, 0, 1, 0, 0},  {febf, 0, 0, 1, 0, 0},
        {LL, 0, 0, 1, 0, 0},     {fec0, 0, 0, 0, 0, 0},  {fe40, 0, 0, 0, 0, 0},
        {fe_ff, 0, 0, 0, 0, 0},  {ff00, 1, 0, 0, 0, 0},  {ALL_NODES, 1, 0, 0, 0, 0},
        {SNM2, 1, 0, 0, 0, 1},   {GLOBAL, 0, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        assert_int_equal(wire_ipv6addr_is_multicast(t[i].a), t[i].mc);
        assert_int_equal(wire_ipv6addr_is_unspecified(t[i].a), t[i].un);
        assert_int_equal(wire_ipv6addr_is_link_local(t[i].a), t[i].ll);
        assert_int_equal(wire_ipv6addr_is_loopback(t[i].a), t[i].lo);
        assert_int_equal(wire_ipv6addr_is_solicited_node(t[i].a), t[i].sn);
    }
    /* ff02::1:fe00:2 is one bit away from a solicited-node group. */
    uint8_t near[16];
    memcpy(near, SNM2, 16);
    near[12] = 0xfe;
    assert_int_equal(wire_ipv6addr_is_solicited_node(near), 0);
    memcpy(near, SNM2, 16);
    near[1] = 0x05; /* ff05: site scope */
    assert_int_equal(wire_ipv6addr_is_solicited_node(near), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_ns_frame),
        cmocka_unit_test(known_na),
        cmocka_unit_test(ns_na_round_trip),
        cmocka_unit_test(ra_parse),
        cmocka_unit_test(rs_parse),
        cmocka_unit_test(parsers_truncated_and_wrong_type),
        cmocka_unit_test(validation_failures),
        cmocka_unit_test(option_walk_edges),
        cmocka_unit_test(address_helpers),
        cmocka_unit_test(address_classes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
