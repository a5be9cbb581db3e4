/* test_reasm.c — IPv4 fragment reassembly (RFC 791 §3.2, RFC 815; overlaps
 * dropped as RFC 5722 and Linux since 4.19). The peer sends a TCP SYN to a
 * listener or an ICMP echo request in fragments; the stack's answer (a
 * SYN,ACK, an echo reply with the same data, an ICMP time exceeded, or
 * nothing) and the reassembly counters are checked exactly. */
#include "common/pkt.h"

#include "net/net.h" /* reasm_dgram, reasm_frag: the sizes the limit charges */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ECHO_ID 0x4242
#define ECHO_SEQ 7

/* ------------------------------------------------------------ the peer's fragments */

/* Send bytes [off, off + len) of a datagram's payload as one fragment from
 * the peer to us, identification `id`, MF as `more`. */
static void frag_send(pkt_h *h, uint8_t proto, uint16_t id, const uint8_t *payload, size_t off,
                      size_t len, int more)
{
    uint8_t pkt[WIRE_IPV4_HDR_LEN + 2048];
    assert_true(len <= sizeof(pkt) - WIRE_IPV4_HDR_LEN);
    assert_int_equal(wire_ipv4_emit(pkt, sizeof(pkt), PKT_PEER, PKT_US, proto, 64, id, len),
                     WIRE_IPV4_HDR_LEN);
    assert_true(off % 8 == 0 && off / 8 <= 0x1fff);
    wire_put16(pkt + 6, (uint16_t)((more ? 0x2000 : 0) | off / 8));
    wire_put16(pkt + 10, 0);
    wire_put16(pkt + 10, wire_csum_fold(wire_csum_add(0, pkt, WIRE_IPV4_HDR_LEN)));
    if (len)
        memcpy(pkt + WIRE_IPV4_HDR_LEN, payload + off, len);
    synack_input(h->s, pkt, WIRE_IPV4_HDR_LEN + len, h->now);
}

/* A datagram's payload cut in pieces of `piece` bytes (the last one
 * shorter): how many pieces, and the bounds of piece i. */
static size_t npieces(size_t len, size_t piece) { return (len + piece - 1) / piece; }

static void send_piece(pkt_h *h, uint8_t proto, uint16_t id, const uint8_t *p, size_t len,
                       size_t piece, size_t i)
{
    size_t off = i * piece, n = len - off < piece ? len - off : piece;
    frag_send(h, proto, id, p, off, n, off + n < len);
}

/* An echo request with `n` data bytes (byte i is i * 7 + 3). */
static size_t echo_request(uint8_t *buf, size_t cap, size_t n)
{
    static uint8_t data[4096];
    assert_true(n <= sizeof(data));
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    size_t len = wire_icmp_emit_echo(buf, cap, WIRE_ICMP_ECHO_REQUEST, ECHO_ID, ECHO_SEQ, data, n);
    assert_int_equal(len, 8 + n);
    return len;
}

/* A SYN from the peer to port 80: MSS 1460 and timestamps, 36 bytes. */
static size_t syn_segment(uint8_t *buf, size_t cap)
{
    wire_tcp t = {.sport = 40000, .dport = 80, .seq = PKT_PEER_ISS, .flags = SYN, .wnd = 65535};
    t.opt = pkt_opts_ts(12345, 0);
    t.hdr_len = (uint8_t)(WIRE_TCP_HDR_LEN + wire_tcp_opts_len(&t.opt));
    size_t hl = wire_tcp_emit_header(buf, cap, &t);
    assert_int_equal(hl, 36);
    wire_tcp_set_checksum(buf, hl, PKT_PEER, PKT_US);
    return hl;
}

/* ------------------------------------------------------------ what the stack sends */

/* Pop the next frame: IPv4/ICMP from us to the peer, parsed. */
static wire_icmp pop_icmp(pkt_h *h, uint8_t *copy, size_t cap)
{
    assert_true(pkt_pending(h) > 0);
    size_t len = h->q[h->qhead].len;
    assert_true(len <= cap);
    memcpy(copy, h->q[h->qhead].data, len);
    free(h->q[h->qhead].data);
    h->qhead = (h->qhead + 1) % PKT_QMAX;
    h->qlen--;
    wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(copy, len, &ip), WIRE_OK);
    assert_int_equal(ip.proto, WIRE_IPPROTO_ICMP);
    assert_int_equal(ip.src, PKT_US);
    assert_int_equal(ip.dst, PKT_PEER);
    wire_icmp m;
    assert_int_equal(wire_icmp_parse(ip.payload, ip.payload_len, &m), WIRE_OK);
    return m;
}

/* The echo reply to echo_request(n): same id, seq and data. */
static void expect_echo_reply(pkt_h *h, size_t n)
{
    static uint8_t frame[4096];
    wire_icmp m = pop_icmp(h, frame, sizeof(frame));
    assert_int_equal(m.type, WIRE_ICMP_ECHO_REPLY);
    assert_int_equal(m.id, ECHO_ID);
    assert_int_equal(m.seq, ECHO_SEQ);
    assert_int_equal(m.data_len, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(m.data[i], (uint8_t)(i * 7 + 3));
}

/* Pop the fragments of one datagram from us to the peer, in order (RFC
 * 791: DF clear, one identification, offsets adding up, MF on all but the
 * last, data a multiple of 8 bytes but in the last, each within the MTU of
 * 1500) and put their data together in `buf`: its length. */
static size_t pop_fragments(pkt_h *h, uint8_t *buf, size_t cap, uint16_t *id)
{
    size_t total = 0;
    for (int more = 1; more;) {
        assert_true(pkt_pending(h) > 0);
        const uint8_t *f = h->q[h->qhead].data;
        size_t len = h->q[h->qhead].len;
        assert_true(len <= 1500);
        wire_ipv4 ip;
        assert_int_equal(wire_ipv4_parse(f, len, &ip), WIRE_FRAGMENT);
        assert_int_equal(wire_get16(f + 6) & 0x4000, 0);
        assert_int_equal(ip.proto, WIRE_IPPROTO_ICMP);
        assert_int_equal(ip.src, PKT_US);
        assert_int_equal(ip.dst, PKT_PEER);
        if (total == 0)
            *id = ip.id;
        assert_int_equal(ip.id, *id);
        assert_int_equal(ip.frag_offset, total);
        assert_true(ip.payload_len <= cap - total);
        memcpy(buf + total, ip.payload, ip.payload_len);
        total += ip.payload_len;
        more = ip.more_frags;
        if (more)
            assert_int_equal(ip.payload_len % 8, 0);
        free(h->q[h->qhead].data);
        h->qhead = (h->qhead + 1) % PKT_QMAX;
        h->qlen--;
    }
    return total;
}

/* The echo reply to echo_request(n), in fragments: put together, its
 * checksum right, the request's id, seq and data. Their identification. */
static uint16_t expect_fragmented_echo_reply(pkt_h *h, size_t n)
{
    static uint8_t whole[65536];
    uint16_t id;
    size_t len = pop_fragments(h, whole, sizeof(whole), &id);
    wire_icmp m;
    assert_int_equal(wire_icmp_parse(whole, len, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMP_ECHO_REPLY);
    assert_int_equal(m.id, ECHO_ID);
    assert_int_equal(m.seq, ECHO_SEQ);
    assert_int_equal(m.data_len, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(m.data[i], (uint8_t)(i * 7 + 3));
    return id;
}

/* ------------------------------------------------------------ counters */

typedef struct counts {
    uint64_t reqds, oks, fails, timeout, overlaps, time_excds;
} counts;

static counts now_counts(pkt_h *h)
{
    return (counts){pkt_counter(h, ip_reasm_reqds),   pkt_counter(h, ip_reasm_oks),
                    pkt_counter(h, ip_reasm_fails),   pkt_counter(h, ip_reasm_timeout),
                    pkt_counter(h, ip_reasm_overlaps), pkt_counter(h, icmp_out_time_excds)};
}

/* Exactly these reassembly counters since `c0` (and no header errors). */
#define expect_counts(h, c0, ...) expect_counts_at((h), (c0), (counts){__VA_ARGS__}, __LINE__)
static void expect_counts_at(pkt_h *h, counts c0, counts want, int line)
{
    counts c = now_counts(h);
    counts d = {c.reqds - c0.reqds,       c.oks - c0.oks,           c.fails - c0.fails,
                c.timeout - c0.timeout,   c.overlaps - c0.overlaps, c.time_excds - c0.time_excds};
    if (memcmp(&d, &want, sizeof(d)) != 0)
        fail_msg("line %d: reqds/oks/fails/timeout/overlaps/time_excds moved by "
                 "%llu/%llu/%llu/%llu/%llu/%llu, expected %llu/%llu/%llu/%llu/%llu/%llu",
                 line, (unsigned long long)d.reqds, (unsigned long long)d.oks,
                 (unsigned long long)d.fails, (unsigned long long)d.timeout,
                 (unsigned long long)d.overlaps, (unsigned long long)d.time_excds,
                 (unsigned long long)want.reqds, (unsigned long long)want.oks,
                 (unsigned long long)want.fails, (unsigned long long)want.timeout,
                 (unsigned long long)want.overlaps, (unsigned long long)want.time_excds);
    assert_int_equal(pkt_counter(h, ip_in_hdr_errors), 0);
    assert_int_equal(pkt_counter(h, ip_in_truncated), 0);
}

/* Datagrams held and the bytes they are charged. */
static void expect_held(pkt_h *h, uint32_t datagrams, uint64_t bytes)
{
    synack_sockstat st;
    synack_get_sockstat(h->s, &st);
    assert_int_equal(st.frag_inuse, datagrams);
    if (bytes != (uint64_t)PKT_ANY)
        assert_int_equal(st.frag_memory, bytes);
}

/* What one datagram of `nfrags` fragments holding `bytes` of payload costs. */
static uint64_t cost(size_t nfrags, size_t bytes)
{
    return sizeof(reasm_dgram) + nfrags * sizeof(reasm_frag) + bytes;
}

/* The same with its first fragment, which keeps its 20-byte header too. */
static uint64_t cost_first(size_t nfrags, size_t bytes)
{
    return cost(nfrags, bytes) + WIRE_IPV4_HDR_LEN;
}

/* ------------------------------------------------------------ whole datagrams */

/* A SYN in three fragments, in order (16 + 16 + 4 bytes): the listener
 * answers exactly as it answers an unfragmented SYN, options and all. */
static void syn_in_order(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    pkt_listen(h, 80, 8);
    uint8_t syn[64];
    size_t len = syn_segment(syn, sizeof(syn));
    counts c0 = now_counts(h);
    frag_send(h, WIRE_IPPROTO_TCP, 1, syn, 0, 16, 1);
    frag_send(h, WIRE_IPPROTO_TCP, 1, syn, 16, 16, 1);
    pkt_expect_none(h);
    expect_held(h, 1, cost_first(2, 32));
    assert_int_equal(pkt_next_deadline_ms(h), 30000); /* ipfrag_time */
    frag_send(h, WIRE_IPPROTO_TCP, 1, syn, 32, len - 32, 0);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, PKT_PEER_ISS + 1);
    assert_int_equal(sa.opt.mss, 1460);
    assert_true(sa.opt.has_ts);
    assert_int_equal(sa.opt.ts_ecr, 12345);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 3, .oks = 1);
    expect_held(h, 0, 0);
    assert_int_equal(pkt_counter(h, tcp_in_segs), 1);
}

/* An echo request in 9 fragments of 8 bytes, last first: answered once the
 * first (offset 0) closes the last hole. */
static void echo_reversed(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof(req), 64);
    counts c0 = now_counts(h);
    for (size_t i = npieces(len, 8); i-- > 0;) {
        pkt_expect_none(h);
        send_piece(h, WIRE_IPPROTO_ICMP, 9, req, len, 8, i);
    }
    expect_echo_reply(h, 64);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 9, .oks = 1);
    expect_held(h, 0, 0);
}

/* Two echo requests (ids 1 and 2) in 9 fragments each, shuffled and
 * interleaved: each answered with its own data when its own last hole
 * closes. */
static void echo_shuffled_interleaved(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint8_t req[512];
    size_t len = echo_request(req, sizeof(req), 200); /* 208 bytes: 8 x 24 + 16 */
    assert_int_equal(npieces(len, 24), 9);
    static const size_t order[9] = {4, 8, 0, 6, 2, 7, 1, 5, 3};
    counts c0 = now_counts(h);
    for (size_t k = 0; k < 9; k++) {
        send_piece(h, WIRE_IPPROTO_ICMP, 1, req, len, 24, order[k]);
        if (k < 8)
            send_piece(h, WIRE_IPPROTO_ICMP, 2, req, len, 24, order[8 - k]);
    }
    expect_echo_reply(h, 200); /* id 1 complete */
    pkt_expect_none(h);
    expect_held(h, 1, PKT_ANY);
    send_piece(h, WIRE_IPPROTO_ICMP, 2, req, len, 24, order[0]);
    expect_echo_reply(h, 200);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 18, .oks = 2);
    expect_held(h, 0, 0);
}

/* The same identification from another protocol is another datagram
 * (RFC 791: the key is source, destination, protocol and identification). */
static void key_includes_protocol(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof(req), 24); /* 32 bytes */
    counts c0 = now_counts(h);
    frag_send(h, WIRE_IPPROTO_ICMP, 5, req, 0, 16, 1);
    frag_send(h, WIRE_IPPROTO_TCP, 5, req, 16, 16, 0); /* ICMP's bytes, as TCP */
    pkt_expect_none(h);
    expect_held(h, 2, PKT_ANY);
    frag_send(h, WIRE_IPPROTO_ICMP, 5, req, 16, len - 16, 0);
    expect_echo_reply(h, 24);
    pkt_expect_none(h);
    expect_held(h, 1, cost(1, 16));
    expect_counts(h, c0, .reqds = 3, .oks = 1);
}

/* ------------------------------------------------------------ refused */

/* Any overlap drops the whole datagram and is counted (RFC 5722's rule);
 * fragments of it that come later start a new one, which cannot complete. */
static void overlap_drops_datagram(void **state)
{
    static const struct {
        size_t off[2], len[2];
    } cases[] = {
        {{0, 8}, {16, 16}},  /* the second begins inside the first   */
        {{8, 0}, {16, 16}},  /* the second ends inside the first     */
        {{0, 0}, {16, 8}},   /* same offset, shorter: not a duplicate */
        {{0, 8}, {24, 8}},   /* the second lies inside the first     */
        {{8, 0}, {8, 24}},   /* the second covers the first          */
    };
    uint8_t req[128];
    size_t len = echo_request(req, sizeof(req), 64); /* 72 bytes */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pkt_h *h = pkt_new(NULL);
        *state = h;
        counts c0 = now_counts(h);
        frag_send(h, WIRE_IPPROTO_ICMP, 3, req, cases[i].off[0], cases[i].len[0], 1);
        frag_send(h, WIRE_IPPROTO_ICMP, 3, req, cases[i].off[1], cases[i].len[1], 1);
        expect_counts(h, c0, .reqds = 2, .fails = 1, .overlaps = 1);
        expect_held(h, 0, 0);
        for (size_t off = 32; off < len; off += 8)
            frag_send(h, WIRE_IPPROTO_ICMP, 3, req, off, 8, off + 8 < len);
        pkt_expect_none(h);
        expect_held(h, 1, cost(5, 40));
        pkt_free(h);
        *state = NULL;
    }
}

/* An exact copy of a fragment held is dropped and counted (as Linux does),
 * and the datagram goes on to complete: one answer, not two. */
static void duplicate_ignored(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof(req), 64);
    counts c0 = now_counts(h);
    send_piece(h, WIRE_IPPROTO_ICMP, 4, req, len, 16, 0);
    send_piece(h, WIRE_IPPROTO_ICMP, 4, req, len, 16, 4); /* the last: 8 bytes */
    send_piece(h, WIRE_IPPROTO_ICMP, 4, req, len, 16, 0);
    send_piece(h, WIRE_IPPROTO_ICMP, 4, req, len, 16, 4);
    expect_counts(h, c0, .reqds = 4, .fails = 2);
    expect_held(h, 1, cost_first(2, 24));
    for (size_t i = 1; i < 4; i++)
        send_piece(h, WIRE_IPPROTO_ICMP, 4, req, len, 16, i);
    expect_echo_reply(h, 64);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 7, .oks = 1, .fails = 2);
    expect_held(h, 0, 0);
}

/* REASM_MAX_FRAGS (256) fragments make a datagram; one more drops it. */
#define MAXF 256
static void too_many_fragments(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    static uint8_t req[4096];
    size_t len = echo_request(req, sizeof(req), MAXF * 8 - 8);
    counts c0 = now_counts(h);
    for (size_t i = 0; i < MAXF; i++)
        send_piece(h, WIRE_IPPROTO_ICMP, 6, req, len, 8, i);
    /* Reassembled; the 2 KiB reply is over the MTU: in two fragments. */
    expect_counts(h, c0, .reqds = MAXF, .oks = 1);
    expect_fragmented_echo_reply(h, MAXF * 8 - 8);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, ip_frag_creates), 2);

    len = echo_request(req, sizeof(req), (MAXF + 1) * 8 - 8);
    c0 = now_counts(h);
    for (size_t i = 0; i < MAXF; i++)
        send_piece(h, WIRE_IPPROTO_ICMP, 7, req, len, 8, i);
    expect_held(h, 1, cost_first(MAXF, MAXF * 8));
    send_piece(h, WIRE_IPPROTO_ICMP, 7, req, len, 8, MAXF);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = MAXF + 1, .fails = 1);
    expect_held(h, 0, 0);
}

/* `ping -s 3000`: the request comes in fragments of 1480 bytes, and the
 * 3008-byte reply, over the MTU, goes in fragments too (RFC 792 wants the
 * data back; RFC 791 §3.2): 1480 + 1480 + 48 bytes, DF clear, one fresh
 * identification each. Counted as Linux counts: IpFragOKs a datagram,
 * IpFragCreates a fragment; the reply once. */
static void big_echo_reply_in_fragments(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    static uint8_t req[4096];
    size_t len = echo_request(req, sizeof(req), 3000);
    uint16_t first_id = 0;
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < npieces(len, 1480); i++)
            send_piece(h, WIRE_IPPROTO_ICMP, (uint16_t)(20 + round), req, len, 1480, i);
        uint16_t lens[3] = {0};
        for (size_t i = 0; i < 3 && i < pkt_pending(h); i++)
            lens[i] = (uint16_t)h->q[(h->qhead + i) % PKT_QMAX].len;
        assert_int_equal(pkt_pending(h), 3);
        assert_int_equal(lens[0], 1500);
        assert_int_equal(lens[1], 1500);
        assert_int_equal(lens[2], 20 + 48);
        uint16_t id = expect_fragmented_echo_reply(h, 3000);
        if (round == 0)
            first_id = id;
        else
            assert_int_not_equal(id, first_id);
        pkt_expect_none(h);
    }
    assert_int_equal(pkt_counter(h, icmp_out_echo_reps), 2);
    assert_int_equal(pkt_counter(h, ip_frag_oks), 2);
    assert_int_equal(pkt_counter(h, ip_frag_creates), 6);
    assert_int_equal(pkt_counter(h, ip_frag_fails), 0);
    assert_int_equal(pkt_counter(h, ip_out_too_big), 0);
    assert_int_equal(pkt_counter(h, ip6_frag_oks), 0);
}

/* A reply with nowhere to go (no route: the peer off our subnet, no
 * gateway) is not counted as sent, fragmented or not. */
static void echo_reply_without_route_not_counted(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint8_t req[64];
    size_t len = echo_request(req, sizeof(req), 16);
    synack_addr far = {.family = SYNACK_AF_INET, .v4 = 0xc0000201u}; /* 192.0.2.1 */
    pkt_send_ip(h, &far, WIRE_IPPROTO_ICMP, req, len);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, ip_out_no_routes), 1);
    assert_int_equal(pkt_counter(h, icmp_out_echo_reps), 0);
}

/* Lengths RFC 791 forbids, each dropped and counted; with a datagram held,
 * the datagram goes too. */
static void bad_lengths(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    static uint8_t zero[65536];
    counts c0 = now_counts(h);
    /* More fragments follow, yet not a multiple of 8 bytes. */
    frag_send(h, WIRE_IPPROTO_ICMP, 10, zero, 0, 12, 1);
    expect_counts(h, c0, .reqds = 1, .fails = 1);
    expect_held(h, 0, 0);
    /* Empty. */
    frag_send(h, WIRE_IPPROTO_ICMP, 11, zero, 16, 0, 0);
    expect_counts(h, c0, .reqds = 2, .fails = 2);
    /* Past 65535 bytes with the header: 65512 + 8 + 20 > 65535, while
     * 65504 + 8 + 20 fits and is held. */
    frag_send(h, WIRE_IPPROTO_ICMP, 12, zero, 65512, 8, 0);
    expect_counts(h, c0, .reqds = 3, .fails = 3);
    expect_held(h, 0, 0);
    frag_send(h, WIRE_IPPROTO_ICMP, 12, zero, 65504, 8, 0);
    expect_counts(h, c0, .reqds = 4, .fails = 3);
    expect_held(h, 1, cost(1, 8));
    /* That datagram then gets a bad fragment: dropped whole. */
    frag_send(h, WIRE_IPPROTO_ICMP, 12, zero, 0, 20, 1);
    expect_counts(h, c0, .reqds = 5, .fails = 4);
    expect_held(h, 0, 0);
    pkt_expect_none(h);
}

/* Two last fragments that disagree on the length, a fragment past the
 * length the last one set, a last one before a fragment held: the datagram
 * is dropped each time. */
static void inconsistent_lengths(void **state)
{
    static const struct {
        size_t off[2], len[2];
        int more[2];
    } cases[] = {
        {{24, 40}, {8, 8}, {0, 0}},  /* two different ends       */
        {{24, 40}, {8, 8}, {0, 1}},  /* data beyond the end       */
        {{40, 24}, {8, 8}, {1, 0}},  /* an end before data held   */
    };
    static uint8_t zero[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        pkt_h *h = pkt_new(NULL);
        *state = h;
        counts c0 = now_counts(h);
        frag_send(h, WIRE_IPPROTO_ICMP, 13, zero, 8, 8, 1); /* [0, 8) never comes */
        frag_send(h, WIRE_IPPROTO_ICMP, 13, zero, cases[i].off[0], cases[i].len[0],
                  cases[i].more[0]);
        expect_held(h, 1, cost(2, 16));
        frag_send(h, WIRE_IPPROTO_ICMP, 13, zero, cases[i].off[1], cases[i].len[1],
                  cases[i].more[1]);
        expect_counts(h, c0, .reqds = 3, .fails = 1);
        expect_held(h, 0, 0);
        pkt_expect_none(h);
        pkt_free(h);
        *state = NULL;
    }
}

/* A fragment for another host is not ours to reassemble. */
static void not_for_us(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint8_t pkt[WIRE_IPV4_HDR_LEN + 16] = {0};
    wire_ipv4_emit(pkt, sizeof(pkt), PKT_PEER, PKT_US + 1, WIRE_IPPROTO_ICMP, 64, 1, 16);
    wire_put16(pkt + 6, 0x2000);
    wire_put16(pkt + 10, 0);
    wire_put16(pkt + 10, wire_csum_fold(wire_csum_add(0, pkt, WIRE_IPV4_HDR_LEN)));
    counts c0 = now_counts(h);
    synack_input(h->s, pkt, sizeof(pkt), h->now);
    assert_int_equal(pkt_counter(h, ip_in_addr_errors), 1);
    expect_counts(h, c0, .reqds = 0);
    expect_held(h, 0, 0);
}

/* ------------------------------------------------------------ time */

/* Not whole after ipfrag_time (30 s): dropped, counted, memory returned,
 * and the source told with ICMP time exceeded, code 1, quoting the first
 * fragment's header and 8 bytes of its data (RFC 792; as Linux). */
static void timeout_sends_time_exceeded(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof(req), 64);
    counts c0 = now_counts(h);
    send_piece(h, WIRE_IPPROTO_ICMP, 20, req, len, 24, 0);
    pkt_advance(h, 1000);
    send_piece(h, WIRE_IPPROTO_ICMP, 20, req, len, 24, 2);
    expect_held(h, 1, cost_first(2, 48));
    assert_int_equal(pkt_next_deadline_ms(h), 29000); /* from the first fragment */
    pkt_advance(h, 28999);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 2);
    pkt_advance(h, 1);
    static uint8_t frame[256];
    wire_icmp m = pop_icmp(h, frame, sizeof(frame));
    assert_int_equal(m.type, WIRE_ICMP_TIME_EXCEEDED);
    assert_int_equal(m.code, WIRE_ICMP_EXC_FRAGTIME);
    assert_int_equal(m.data_len, WIRE_IPV4_HDR_LEN + 8);
    /* The quote is the first fragment's header as sent: 44 bytes long,
     * id 20, MF at offset 0, from the peer to us. */
    assert_int_equal(m.data[0], 0x45);
    assert_int_equal(wire_get16(m.data + 2), WIRE_IPV4_HDR_LEN + 24);
    assert_int_equal(wire_get16(m.data + 4), 20);
    assert_int_equal(wire_get16(m.data + 6), 0x2000);
    assert_int_equal(m.data[9], WIRE_IPPROTO_ICMP);
    assert_int_equal(wire_get32(m.data + 12), PKT_PEER);
    assert_int_equal(wire_get32(m.data + 16), PKT_US);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, m.data, WIRE_IPV4_HDR_LEN)), 0);
    assert_memory_equal(m.data + WIRE_IPV4_HDR_LEN, req, 8);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 2, .fails = 1, .timeout = 1, .time_excds = 1);
    expect_held(h, 0, 0);
    assert_int_equal(synack_next_deadline(h->s), UINT64_MAX);
    /* The missing fragment, late: a new datagram, held, never answered. */
    send_piece(h, WIRE_IPPROTO_ICMP, 20, req, len, 24, 1);
    pkt_expect_none(h);
    expect_held(h, 1, cost(1, 24));
}

/* Without its first fragment a datagram times out silently; ipfrag_time
 * sets when. */
/* Spoofed first fragments must not make us a reflector: time exceeded
 * goes under Linux's global ICMP limit (here a burst of 2, then 1/s). */
static void time_exceeded_is_rate_limited(void **state)
{
    pkt_h *h = *state = pkt_new("icmp_msgs_burst=2 icmp_msgs_per_sec=1");
    uint8_t req[128];
    size_t len = echo_request(req, sizeof(req), 64);
    for (uint16_t id = 30; id < 33; id++)
        send_piece(h, WIRE_IPPROTO_ICMP, id, req, len, 24, 0);
    pkt_advance(h, 30000);
    static uint8_t frame[256];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pop_icmp(h, frame, sizeof(frame)).type, WIRE_ICMP_TIME_EXCEEDED);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, icmp_out_time_excds), 2);
    assert_int_equal(pkt_counter(h, icmp_out_rate_limited), 1);
}

static void timeout_without_first_fragment(void **state)
{
    pkt_h *h = *state = pkt_new("ipfrag_time=5");
    pkt_listen(h, 80, 8);
    uint8_t syn[64];
    size_t len = syn_segment(syn, sizeof(syn));
    counts c0 = now_counts(h);
    send_piece(h, WIRE_IPPROTO_TCP, 21, syn, len, 16, 1);
    send_piece(h, WIRE_IPPROTO_TCP, 21, syn, len, 16, 2);
    assert_int_equal(pkt_next_deadline_ms(h), 5000);
    pkt_advance(h, 4999);
    expect_held(h, 1, cost(2, 20));
    pkt_advance(h, 1);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 2, .fails = 1, .timeout = 1);
    expect_held(h, 0, 0);
}

/* No ICMP error about an ICMP error (RFC 1122 §3.2.2): a fragmented
 * destination unreachable times out silently, first fragment and all. */
static void timeout_of_icmp_error_is_silent(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint8_t quote[48] = {0x45}, msg[64];
    size_t len = wire_icmp_emit_error(msg, sizeof(msg), WIRE_ICMP_DEST_UNREACH, 3, 0, quote,
                                      sizeof(quote));
    assert_int_equal(len, 56);
    counts c0 = now_counts(h);
    send_piece(h, WIRE_IPPROTO_ICMP, 22, msg, len, 32, 0);
    pkt_advance(h, 30000);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 1, .fails = 1, .timeout = 1);
    expect_held(h, 0, 0);
}

/* ------------------------------------------------------------ memory */

/* ipfrag_high_thresh bounds the bytes held, never exceeded: with room for
 * exactly one datagram, a fragment of a second is dropped and counted while
 * the first is held, and reassembled once the first is gone. */
static void memory_limit(void **state)
{
    uint8_t req[1024];
    size_t len = echo_request(req, sizeof(req), 768); /* 776: 3 x 256 + 8 */
    char knob[64];
    snprintf(knob, sizeof(knob), "ipfrag_high_thresh=%llu", (unsigned long long)cost_first(4, 776));
    pkt_h *h = *state = pkt_new(knob);
    counts c0 = now_counts(h);
    for (size_t i = 0; i < 3; i++)
        send_piece(h, WIRE_IPPROTO_ICMP, 30, req, len, 256, i);
    expect_held(h, 1, cost_first(3, 768));
    send_piece(h, WIRE_IPPROTO_ICMP, 31, req, len, 256, 3); /* another datagram */
    expect_counts(h, c0, .reqds = 4, .fails = 1);
    expect_held(h, 1, cost_first(3, 768));
    send_piece(h, WIRE_IPPROTO_ICMP, 30, req, len, 256, 3);
    expect_echo_reply(h, 768);
    expect_held(h, 0, 0);
    for (size_t i = 0; i < 4; i++)
        send_piece(h, WIRE_IPPROTO_ICMP, 31, req, len, 256, i);
    expect_echo_reply(h, 768);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 9, .oks = 2, .fails = 1);
    expect_held(h, 0, 0);
}

/* ipfrag_high_thresh 0: no reassembly at all (Linux's meaning too). */
static void memory_limit_zero(void **state)
{
    pkt_h *h = *state = pkt_new("ipfrag_high_thresh=0");
    uint8_t req[128];
    size_t len = echo_request(req, sizeof(req), 24);
    counts c0 = now_counts(h);
    send_piece(h, WIRE_IPPROTO_ICMP, 32, req, len, 16, 0);
    send_piece(h, WIRE_IPPROTO_ICMP, 32, req, len, 16, 1);
    pkt_expect_none(h);
    expect_counts(h, c0, .reqds = 2, .fails = 2);
    expect_held(h, 0, 0);
    assert_int_equal(synack_next_deadline(h->s), UINT64_MAX);
}

/* The knobs have Linux's names, defaults and dump lines. */
static void knobs(void **state)
{
    (void)state;
    synack_config cfg;
    synack_config_init(&cfg);
    assert_int_equal(cfg.net.ipfrag_high_thresh, 4194304);
    assert_int_equal(cfg.net.ipfrag_time, 30);
    assert_int_equal(synack_config_set(&cfg, "net.ipv4.ipfrag_time", "60"), 0);
    assert_int_equal(cfg.net.ipfrag_time, 60);
    assert_int_not_equal(synack_config_set(&cfg, "ipfrag_time", "0"), 0);
    assert_int_equal(synack_config_set(&cfg, "ipfrag_high_thresh", "262144"), 0);
    assert_int_equal(cfg.net.ipfrag_high_thresh, 262144);
    char buf[4096];
    synack_config_dump(&cfg, buf, sizeof(buf));
    assert_non_null(strstr(buf, "net.ipv4.ipfrag_high_thresh = 262144\n"));
    assert_non_null(strstr(buf, "net.ipv4.ipfrag_time = 60\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(syn_in_order, pkt_teardown),
        cmocka_unit_test_teardown(echo_reversed, pkt_teardown),
        cmocka_unit_test_teardown(echo_shuffled_interleaved, pkt_teardown),
        cmocka_unit_test_teardown(key_includes_protocol, pkt_teardown),
        cmocka_unit_test_teardown(overlap_drops_datagram, pkt_teardown),
        cmocka_unit_test_teardown(duplicate_ignored, pkt_teardown),
        cmocka_unit_test_teardown(big_echo_reply_in_fragments, pkt_teardown),
        cmocka_unit_test_teardown(echo_reply_without_route_not_counted, pkt_teardown),
        cmocka_unit_test_teardown(too_many_fragments, pkt_teardown),
        cmocka_unit_test_teardown(bad_lengths, pkt_teardown),
        cmocka_unit_test_teardown(inconsistent_lengths, pkt_teardown),
        cmocka_unit_test_teardown(not_for_us, pkt_teardown),
        cmocka_unit_test_teardown(timeout_sends_time_exceeded, pkt_teardown),
        cmocka_unit_test_teardown(timeout_without_first_fragment, pkt_teardown),
        cmocka_unit_test_teardown(time_exceeded_is_rate_limited, pkt_teardown),
        cmocka_unit_test_teardown(timeout_of_icmp_error_is_silent, pkt_teardown),
        cmocka_unit_test_teardown(memory_limit, pkt_teardown),
        cmocka_unit_test_teardown(memory_limit_zero, pkt_teardown),
        cmocka_unit_test(knobs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
