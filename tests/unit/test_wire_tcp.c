/* test_wire_tcp.c — TCP header and options: parse, emit, checksum. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "unit/testutil.h"
#include "wire/wire.h"

#define CLIENT 0x0a090901u /* 10.9.9.1 */
#define SERVER 0x0a090902u /* 10.9.9.2 */

/* A handshake and first data segment with Linux 6.x through a TUN device.
 * SYN, ACK and DATA were sent by Linux (10.9.9.1); SYNACK by a test peer
 * mimicking Linux's option layout. TCP only; checksums are real. */
static const char SYN[] =
    "8d980050 e89e235d 00000000 a002 faf0 e519 0000"
    "020405b4 0402 080a 162791d2 00000000 01 03030a";
static const char SYNACK[] =
    "00508d98 11223344 e89e235e a012 ffff 8b96 0000"
    "020405b4 0402 080a 00001000 162791d2 01 030307";
static const char ACK[] =
    "8d980050 e89e235e 11223345 8010 003f ba23 0000 0101080a 162791d2 00001000";
static const char DATA[] =
    "8d980050 e89e235e 11223345 8018 003f 7644 0000 0101080a 162791d2 00001000 68656c6c6f";

/* Store a correct checksum with the reference routine. */
static void fix_csum(uint8_t *seg, size_t len, uint32_t src, uint32_t dst)
{
    seg[16] = seg[17] = 0;
    wire_put16(seg + 16, ref_csum(seg, len, ref_pseudo(src, dst, 6, len)));
}

static void parse_linux_syn(void **state)
{
    (void)state;
    uint8_t s[64];
    size_t n = hex_decode(SYN, s, sizeof(s));
    wire_tcp t;
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_OK);
    assert_int_equal(t.sport, 36248);
    assert_int_equal(t.dport, 80);
    assert_int_equal(t.seq, 0xe89e235d);
    assert_int_equal(t.ack, 0);
    assert_int_equal(t.hdr_len, 40);
    assert_int_equal(t.flags, 0x02);
    assert_int_equal(t.wnd, 64240);
    assert_int_equal(t.urg, 0);
    assert_int_equal(t.opt.mss, 1460);
    assert_int_equal(t.opt.sack_ok, 1);
    assert_int_equal(t.opt.has_ts, 1);
    assert_int_equal(t.opt.ts_val, 0x162791d2);
    assert_int_equal(t.opt.ts_ecr, 0);
    assert_int_equal(t.opt.wscale, 10);
    assert_int_equal(t.opt.sack_count, 0);
    assert_ptr_equal(t.payload, s + 40);
    assert_int_equal(t.payload_len, 0);
}

static void parse_synack(void **state)
{
    (void)state;
    uint8_t s[64];
    size_t n = hex_decode(SYNACK, s, sizeof(s));
    wire_tcp t;
    assert_int_equal(wire_tcp_parse(s, n, SERVER, CLIENT, &t), WIRE_OK);
    assert_int_equal(t.flags, 0x12);
    assert_int_equal(t.ack, 0xe89e235e);
    assert_int_equal(t.opt.ts_val, 0x1000);
    assert_int_equal(t.opt.ts_ecr, 0x162791d2);
    assert_int_equal(t.opt.wscale, 7);
    /* The pseudo-header binds the addresses: the wrong direction fails. */
    wire_put32(s, 0x00508d98);
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, CLIENT, &t), WIRE_BAD_CSUM);
}

static void parse_linux_ack_and_data(void **state)
{
    (void)state;
    uint8_t s[64];
    size_t n = hex_decode(ACK, s, sizeof(s));
    wire_tcp t;
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_OK);
    assert_int_equal(t.flags, 0x10);
    assert_int_equal(t.hdr_len, 32);
    assert_int_equal(t.wnd, 63);
    assert_int_equal(t.opt.mss, 0);
    assert_int_equal(t.opt.wscale, -1);
    assert_int_equal(t.opt.sack_ok, 0);
    assert_int_equal(t.opt.has_ts, 1);
    assert_int_equal(t.opt.ts_val, 0x162791d2);
    assert_int_equal(t.opt.ts_ecr, 0x1000);
    assert_int_equal(t.payload_len, 0);

    n = hex_decode(DATA, s, sizeof(s));
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_OK);
    assert_int_equal(t.flags, 0x18);
    assert_int_equal(t.payload_len, 5);
    assert_ptr_equal(t.payload, s + 32);
    assert_memory_equal(t.payload, "hello", 5);
}

static void truncated_every_length(void **state)
{
    (void)state;
    const char *segs[] = {SYN, DATA};
    for (size_t k = 0; k < 2; k++) {
        uint8_t s[64];
        size_t n = hex_decode(segs[k], s, sizeof(s));
        for (size_t len = 0; len < n; len++) {
            uint8_t *c = exact_copy(s, len);
            wire_tcp t;
            wire_err e = wire_tcp_parse(c, len, CLIENT, SERVER, &t);
            if (len < (size_t)(s[12] >> 4) * 4)
                assert_int_equal(e, WIRE_TRUNCATED);
            else
                assert_int_equal(e, WIRE_BAD_CSUM);
            free(c);
        }
    }
}

static void bad_checksum_every_bit(void **state)
{
    (void)state;
    uint8_t s[64];
    size_t n = hex_decode(DATA, s, sizeof(s));
    wire_tcp t;
    for (size_t bit = 0; bit < n * 8; bit++) {
        s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_OK);
        s[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    s[16] ^= 0x80;
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_BAD_CSUM);
    s[16] ^= 0x80;
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_OK);
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER + 1, &t), WIRE_BAD_CSUM);
}

static void bad_data_offset(void **state)
{
    (void)state;
    uint8_t s[64];
    size_t n = hex_decode(SYN, s, sizeof(s));
    wire_tcp t;
    for (int doff = 0; doff < 5; doff++) {
        s[12] = (uint8_t)(doff << 4);
        fix_csum(s, n, CLIENT, SERVER);
        assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_BAD_HEADER);
    }
    for (int doff = 11; doff < 16; doff++) { /* past the 40 bytes we have */
        s[12] = (uint8_t)(doff << 4);
        fix_csum(s, n, CLIENT, SERVER);
        assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_TRUNCATED);
    }
    /* doff 5: the options become payload. */
    s[12] = 5 << 4;
    fix_csum(s, n, CLIENT, SERVER);
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_OK);
    assert_int_equal(t.hdr_len, 20);
    assert_int_equal(t.payload_len, 20);
    assert_int_equal(t.opt.mss, 0);
    assert_int_equal(t.opt.has_ts, 0);
}

/* An option running past the header fails the whole segment. */
static void bad_options_in_segment(void **state)
{
    (void)state;
    uint8_t s[64];
    size_t n = hex_decode(SYN, s, sizeof(s));
    s[20 + 18] = 0x04; /* the window scale "03 03 0a": length 4 */
    fix_csum(s, n, CLIENT, SERVER);
    wire_tcp t;
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_BAD_OPTIONS);
    s[20 + 18] = 0x00; /* length 0 */
    fix_csum(s, n, CLIENT, SERVER);
    assert_int_equal(wire_tcp_parse(s, n, CLIENT, SERVER, &t), WIRE_BAD_OPTIONS);
}

/* ---------------------------------------------------------- option parser */

static wire_err opts(const char *hex, wire_tcp_opts *o)
{
    uint8_t b[64];
    size_t n = hex_decode(hex, b, sizeof(b));
    uint8_t *c = exact_copy(b, n);
    memset(o, 0x5a, sizeof(*o)); /* must be cleared by the parser */
    wire_err e = wire_tcp_parse_options(c, n, o);
    free(c);
    return e;
}

static void opts_empty(void **state)
{
    (void)state;
    wire_tcp_opts o;
    assert_int_equal(opts("", &o), WIRE_OK);
    assert_int_equal(o.mss, 0);
    assert_int_equal(o.wscale, -1);
    assert_int_equal(o.sack_ok, 0);
    assert_int_equal(o.has_ts, 0);
    assert_int_equal(o.sack_count, 0);
    assert_int_equal(opts("01010101", &o), WIRE_OK);
    assert_int_equal(o.wscale, -1);
    wire_tcp_opts c;
    memset(&c, 0x77, sizeof(c));
    wire_tcp_opts_clear(&c);
    assert_int_equal(c.mss, 0);
    assert_int_equal(c.wscale, -1);
    assert_int_equal(c.has_ts, 0);
    assert_int_equal(c.sack_ok, 0);
    assert_int_equal(c.sack_count, 0);
    assert_int_equal(c.ts_val, 0);
}

static void opts_bad_lengths(void **state)
{
    (void)state;
    wire_tcp_opts o;
    assert_int_equal(opts("1e00 020405b4", &o), WIRE_BAD_OPTIONS);  /* length 0 */
    assert_int_equal(opts("1e01 020405b4", &o), WIRE_BAD_OPTIONS);  /* length 1 */
    assert_int_equal(opts("0201", &o), WIRE_BAD_OPTIONS);           /* MSS length 1 */
    assert_int_equal(opts("020405", &o), WIRE_BAD_OPTIONS);         /* runs past */
    assert_int_equal(opts("01 01 080a 00000001 000000", &o), WIRE_BAD_OPTIONS);
    assert_int_equal(opts("1eff 0000", &o), WIRE_BAD_OPTIONS);      /* 255 > 4 */
    assert_int_equal(opts("010101 02", &o), WIRE_BAD_OPTIONS);      /* kind, no length */
    assert_int_equal(opts("1e", &o), WIRE_BAD_OPTIONS);
    /* A length landing exactly on the end is fine. */
    assert_int_equal(opts("1e04 0000", &o), WIRE_OK);
}

static void opts_unknown_skipped(void **state)
{
    (void)state;
    wire_tcp_opts o;
    assert_int_equal(opts("1e06 01020304 020405b4 fe02 0303 07", &o), WIRE_OK);
    assert_int_equal(o.mss, 1460);
    assert_int_equal(o.wscale, 7);
    /* The bytes of an unknown option are not read as options: 0x02 0x04 ... */
    assert_int_equal(opts("1e06 0204ffff 0101", &o), WIRE_OK);
    assert_int_equal(o.mss, 0);
}

static void opts_wrong_length_ignored(void **state)
{
    (void)state;
    wire_tcp_opts o;
    assert_int_equal(opts("0203 05 020605b40000 0303 05", &o), WIRE_OK);
    assert_int_equal(o.mss, 0);      /* MSS of length 3 and 6: ignored */
    assert_int_equal(o.wscale, 5);   /* the next option is still read  */
    assert_int_equal(opts("0302 0304 0700 0403 00 080c 0000000100000002 0000", &o), WIRE_OK);
    assert_int_equal(o.wscale, -1);
    assert_int_equal(o.sack_ok, 0);
    assert_int_equal(o.has_ts, 0);
    /* SACK must carry whole 8-byte blocks. */
    assert_int_equal(opts("0509 00000001000000 00", &o), WIRE_OK);
    assert_int_equal(o.sack_count, 0);
    assert_int_equal(opts("0502", &o), WIRE_OK);
    assert_int_equal(o.sack_count, 0);
}

static void opts_eol_stops(void **state)
{
    (void)state;
    wire_tcp_opts o;
    assert_int_equal(opts("0402 00 020405b4 ff", &o), WIRE_OK);
    assert_int_equal(o.sack_ok, 1);
    assert_int_equal(o.mss, 0);
}

static void opts_sack_blocks(void **state)
{
    (void)state;
    wire_tcp_opts o;
    assert_int_equal(opts("0101 050a 00000010 00000020", &o), WIRE_OK);
    assert_int_equal(o.sack_count, 1);
    assert_int_equal(o.sack[0][0], 0x10);
    assert_int_equal(o.sack[0][1], 0x20);
    assert_int_equal(opts("0101 0522 10000000 10000100 20000000 20000100"
                          " 30000000 30000100 fffffff0 00000010", &o), WIRE_OK);
    assert_int_equal(o.sack_count, 4);
    assert_int_equal(o.sack[1][0], 0x20000000);
    assert_int_equal(o.sack[3][0], 0xfffffff0);
    assert_int_equal(o.sack[3][1], 0x10);
}

/* wscale is an int8_t: values above 127 saturate (the TCP layer clamps
 * anything over 14 to 14, RFC 7323 §2.3). */
static void opts_wscale_range(void **state)
{
    (void)state;
    wire_tcp_opts o;
    assert_int_equal(opts("030300", &o), WIRE_OK);
    assert_int_equal(o.wscale, 0);
    assert_int_equal(opts("03030e", &o), WIRE_OK);
    assert_int_equal(o.wscale, 14);
    assert_int_equal(opts("03030f", &o), WIRE_OK);
    assert_int_equal(o.wscale, 15);
    assert_int_equal(opts("0303ff", &o), WIRE_OK);
    assert_int_equal(o.wscale, 127);
}

/* ------------------------------------------------------------- emitters */

static void syn_fields(wire_tcp *h)
{
    memset(h, 0, sizeof(*h));
    h->sport = 36248;
    h->dport = 80;
    h->seq = 0xe89e235d;
    h->flags = 0x02;
    h->wnd = 64240;
    wire_tcp_opts_clear(&h->opt);
    h->opt.mss = 1460;
    h->opt.sack_ok = 1;
    h->opt.has_ts = 1;
    h->opt.ts_val = 0x162791d2;
    h->opt.wscale = 10;
}

/* The emitter reproduces Linux's SYN byte for byte, checksum included. */
static void emit_linux_syn(void **state)
{
    (void)state;
    uint8_t want[64];
    size_t n = hex_decode(SYN, want, sizeof(want));
    wire_tcp h;
    syn_fields(&h);
    h.hdr_len = 99; /* ignored: the options decide */
    assert_int_equal(wire_tcp_opts_len(&h.opt), 20);
    uint8_t buf[64];
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(wire_tcp_emit_header(buf, sizeof(buf), &h), 40);
    assert_int_equal(buf[16], 0);
    assert_int_equal(buf[17], 0);
    wire_tcp_set_checksum(buf, 40, CLIENT, SERVER);
    assert_memory_equal(buf, want, n);
    assert_int_equal(buf[40], 0xee);
}

static void emit_synack_ack_data(void **state)
{
    (void)state;
    uint8_t want[64], buf[64];
    wire_tcp h;
    syn_fields(&h);
    h.sport = 80;
    h.dport = 36248;
    h.seq = 0x11223344;
    h.ack = 0xe89e235e;
    h.flags = 0x12;
    h.wnd = 0xffff;
    h.opt.ts_val = 0x1000;
    h.opt.ts_ecr = 0x162791d2;
    h.opt.wscale = 7;
    size_t n = hex_decode(SYNACK, want, sizeof(want));
    assert_int_equal(wire_tcp_emit_header(buf, sizeof(buf), &h), n);
    wire_tcp_set_checksum(buf, n, SERVER, CLIENT);
    assert_memory_equal(buf, want, n);

    memset(&h, 0, sizeof(h));
    h.sport = 36248;
    h.dport = 80;
    h.seq = 0xe89e235e;
    h.ack = 0x11223345;
    h.flags = 0x10;
    h.wnd = 63;
    wire_tcp_opts_clear(&h.opt);
    h.opt.has_ts = 1;
    h.opt.ts_val = 0x162791d2;
    h.opt.ts_ecr = 0x1000;
    n = hex_decode(ACK, want, sizeof(want));
    assert_int_equal(wire_tcp_emit_header(buf, sizeof(buf), &h), n);
    wire_tcp_set_checksum(buf, n, CLIENT, SERVER);
    assert_memory_equal(buf, want, n);

    h.flags = 0x18;
    n = hex_decode(DATA, want, sizeof(want));
    assert_int_equal(wire_tcp_emit_header(buf, sizeof(buf), &h), 32);
    memcpy(buf + 32, "hello", 5);
    wire_tcp_set_checksum(buf, n, CLIENT, SERVER);
    assert_memory_equal(buf, want, n);
}

static void expect_opts(const wire_tcp_opts *o, const char *hex)
{
    uint8_t want[48], hdr[64];
    size_t n = hex_decode(hex, want, sizeof(want));
    assert_int_equal(wire_tcp_opts_len(o), n);
    assert_int_equal(n % 4, 0);
    wire_tcp h;
    memset(&h, 0, sizeof(h));
    h.opt = *o;
    assert_int_equal(wire_tcp_emit_header(hdr, sizeof(hdr), &h), 20 + n);
    assert_int_equal(hdr[12] >> 4, (20 + n) / 4);
    assert_memory_equal(hdr + 20, want, n);
    uint8_t opt_only[40];
    assert_int_equal(wire_tcp_emit_options(opt_only, o), n);
    assert_memory_equal(opt_only, want, n);
}

static void option_layouts(void **state)
{
    (void)state;
    wire_tcp_opts o;
    wire_tcp_opts_clear(&o);
    expect_opts(&o, "");
    o.mss = 536;
    expect_opts(&o, "02040218");
    o.wscale = 0;
    expect_opts(&o, "02040218 01030300");
    o.sack_ok = 1; /* no timestamps: nop nop sackOK */
    expect_opts(&o, "02040218 01010402 01030300");
    o.wscale = -1;
    expect_opts(&o, "02040218 01010402");
    o.has_ts = 1; /* sackOK rides with ts */
    o.ts_val = 1;
    o.ts_ecr = 2;
    expect_opts(&o, "02040218 0402080a 00000001 00000002");
    o.sack_ok = 0; /* ts without sackOK: nop nop ts */
    o.wscale = 14;
    expect_opts(&o, "02040218 0101080a 00000001 00000002 0103030e");

    /* Non-SYN: nop nop ts, then nop nop sack with as many blocks as fit. */
    wire_tcp_opts_clear(&o);
    o.has_ts = 1;
    o.ts_val = 0xaabbccdd;
    o.ts_ecr = 0x11223344;
    expect_opts(&o, "0101080a aabbccdd 11223344");
    for (int i = 0; i < 4; i++) {
        o.sack[i][0] = 0x1000u * (uint32_t)(i + 1);
        o.sack[i][1] = 0x1000u * (uint32_t)(i + 1) + 0x100;
    }
    o.sack_count = 1;
    expect_opts(&o, "0101080a aabbccdd 11223344 0101050a 00001000 00001100");
    o.sack_count = 4; /* only 3 fit beside timestamps */
    expect_opts(&o, "0101080a aabbccdd 11223344 0101051a 00001000 00001100"
                    "00002000 00002100 00003000 00003100");
    o.has_ts = 0;
    expect_opts(&o, "01010522 00001000 00001100 00002000 00002100"
                    "00003000 00003100 00004000 00004100");
    o.sack_count = 200; /* nonsense count: clamped to 4 */
    assert_int_equal(wire_tcp_opts_len(&o), 36);
}

static void emit_cap_too_small(void **state)
{
    (void)state;
    wire_tcp h;
    syn_fields(&h);
    uint8_t buf[40];
    memset(buf, 0xee, sizeof(buf));
    for (size_t cap = 0; cap < 40; cap++) {
        uint8_t *c = malloc(cap ? cap : 1);
        assert_int_equal(wire_tcp_emit_header(c, cap, &h), 0);
        free(c);
        assert_int_equal(wire_tcp_emit_header(buf, cap, &h), 0);
    }
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0xee);
    uint8_t *c = malloc(40);
    assert_int_equal(wire_tcp_emit_header(c, 40, &h), 40);
    free(c);
    /* set_checksum leaves a too-short segment alone. */
    wire_tcp_set_checksum(buf, 19, CLIENT, SERVER);
    assert_int_equal(buf[16], 0xee);
}

/* Random headers and options survive emit -> checksum -> parse. */
static void round_trip_random(void **state)
{
    (void)state;
    uint64_t rng = 0x5eed;
    uint8_t buf[60 + 100];
    for (int iter = 0; iter < 5000; iter++) {
        wire_tcp h;
        memset(&h, 0, sizeof(h));
        h.sport = (uint16_t)test_rand(&rng);
        h.dport = (uint16_t)test_rand(&rng);
        h.seq = (uint32_t)test_rand(&rng);
        h.ack = (uint32_t)test_rand(&rng);
        h.flags = (uint8_t)test_rand(&rng);
        h.wnd = (uint16_t)test_rand(&rng);
        h.urg = (uint16_t)test_rand(&rng);
        wire_tcp_opts_clear(&h.opt);
        uint64_t r = test_rand(&rng);
        if (r & 1) { /* SYN-style options */
            h.opt.mss = (uint16_t)(r >> 8);
            h.opt.wscale = (r & 2) ? (int8_t)((r >> 24) % 15) : -1;
            h.opt.sack_ok = (r >> 2) & 1;
        } else {
            h.opt.sack_count = (uint8_t)((r >> 8) % 5);
        }
        h.opt.has_ts = (r >> 3) & 1;
        h.opt.ts_val = (uint32_t)test_rand(&rng);
        h.opt.ts_ecr = (uint32_t)test_rand(&rng);
        for (int i = 0; i < 4; i++) {
            h.opt.sack[i][0] = (uint32_t)test_rand(&rng);
            h.opt.sack[i][1] = (uint32_t)test_rand(&rng);
        }
        size_t ol = wire_tcp_opts_len(&h.opt);
        assert_true(ol <= WIRE_TCP_MAX_OPT_LEN);
        assert_int_equal(ol % 4, 0);
        size_t hl = wire_tcp_emit_header(buf, sizeof(buf), &h);
        assert_int_equal(hl, 20 + ol);
        size_t plen = (size_t)(test_rand(&rng) % 101);
        for (size_t i = 0; i < plen; i++)
            buf[hl + i] = (uint8_t)test_rand(&rng);
        uint32_t src = (uint32_t)test_rand(&rng), dst = (uint32_t)test_rand(&rng);
        wire_tcp_set_checksum(buf, hl + plen, src, dst);
        assert_int_equal(ref_csum(buf, hl + plen, ref_pseudo(src, dst, 6, hl + plen)), 0);

        wire_tcp t;
        assert_int_equal(wire_tcp_parse(buf, hl + plen, src, dst, &t), WIRE_OK);
        assert_int_equal(t.sport, h.sport);
        assert_int_equal(t.dport, h.dport);
        assert_int_equal(t.seq, h.seq);
        assert_int_equal(t.ack, h.ack);
        assert_int_equal(t.flags, h.flags);
        assert_int_equal(t.wnd, h.wnd);
        assert_int_equal(t.urg, h.urg);
        assert_int_equal(t.hdr_len, hl);
        assert_int_equal(t.payload_len, plen);
        assert_int_equal(t.opt.mss, h.opt.mss);
        assert_int_equal(t.opt.wscale, h.opt.wscale);
        assert_int_equal(t.opt.sack_ok, h.opt.sack_ok);
        assert_int_equal(t.opt.has_ts, h.opt.has_ts);
        if (h.opt.has_ts) {
            assert_int_equal(t.opt.ts_val, h.opt.ts_val);
            assert_int_equal(t.opt.ts_ecr, h.opt.ts_ecr);
        }
        size_t fit = h.opt.sack_count;
        if (fit > (h.opt.has_ts ? 3u : 4u))
            fit = h.opt.has_ts ? 3 : 4;
        assert_int_equal(t.opt.sack_count, fit);
        for (size_t i = 0; i < fit; i++) {
            assert_int_equal(t.opt.sack[i][0], h.opt.sack[i][0]);
            assert_int_equal(t.opt.sack[i][1], h.opt.sack[i][1]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_linux_syn),
        cmocka_unit_test(parse_synack),
        cmocka_unit_test(parse_linux_ack_and_data),
        cmocka_unit_test(truncated_every_length),
        cmocka_unit_test(bad_checksum_every_bit),
        cmocka_unit_test(bad_data_offset),
        cmocka_unit_test(bad_options_in_segment),
        cmocka_unit_test(opts_empty),
        cmocka_unit_test(opts_bad_lengths),
        cmocka_unit_test(opts_unknown_skipped),
        cmocka_unit_test(opts_wrong_length_ignored),
        cmocka_unit_test(opts_eol_stops),
        cmocka_unit_test(opts_sack_blocks),
        cmocka_unit_test(opts_wscale_range),
        cmocka_unit_test(emit_linux_syn),
        cmocka_unit_test(emit_synack_ack_data),
        cmocka_unit_test(option_layouts),
        cmocka_unit_test(emit_cap_too_small),
        cmocka_unit_test(round_trip_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
