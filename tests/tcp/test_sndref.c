/* test_sndref.c — synack_send_ref: bytes sent by reference go out from the
 * application's memory (a retransmission shows what the memory holds
 * then), in stream order with copied bytes around them, and each
 * reference is released when all of it is acknowledged, when the
 * connection ends, or (copied into the send buffer) at close. */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

static uint8_t pattern[65536];

static void fill_pattern(void) { pkt_fill_pattern(pattern, sizeof pattern); }

/* Acknowledge everything the stack sends until `total` bytes past `base`
 * are acknowledged (the window opens as slow start goes). */
static void ack_until(pkt_h *h, uint32_t base, uint32_t total)
{
    static uint8_t sink[1 << 20];
    uint32_t top = 0;
    while (top < total) {
        uint32_t t = pkt_collect(h, sink, base);
        assert_true(t > top);
        top = t;
        pkt_send(h, ACK, h->irs + 1, base + top, PKT_PEER_WND, NULL, 0, NULL);
    }
}

/* The bytes leave from where they lie: change them before the
 * retransmission and the retransmission carries the change. Released when
 * acknowledged, with SYNACK_EV_REFS_DONE. */
static void referenced_bytes_are_not_copied(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new("gather=1");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t mine[1000];
    memcpy(mine, pattern, sizeof mine);
    assert_int_equal(synack_send_ref(k, mine, sizeof mine), 1000);
    wire_tcp seg = pkt_expect(h, ACK | PSH, S, P);
    assert_int_equal(seg.payload_len, 1000);
    assert_memory_equal(seg.payload, pattern, 1000);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.send_queued, 1000);
    synack_sockstat st;
    synack_get_sockstat(h->s, &st);
    assert_int_equal(st.mem_bytes, 0); /* no send ring */
    mine[0] ^= 0xff;
    pkt_advance(h, 1000); /* the retransmission timeout */
    seg = pkt_expect(h, ACK | PSH, S, P);
    assert_int_equal(seg.payload[0], pattern[0] ^ 0xff);
    pkt_drain(h);
    assert_int_equal(synack_send_refs_done(k), 0);
    pkt_events(h, k);
    pkt_send(h, ACK, P, S + 1000, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send_refs_done(k), 1);
    assert_true(pkt_events(h, k) & SYNACK_EV_REFS_DONE);
    synack_info(k, &i);
    assert_int_equal(i.send_queued, 0);
}

/* Copied and referenced bytes interleaved go out in the order they were
 * queued, whether a segment's payload is one piece, two, or many (copied
 * into the segment then), with right checksums, gathered or not. */
static void order_is_kept_with_copies(const char *knobs)
{
    fill_pattern();
    pkt_h *h = pkt_new(knobs);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    /* The peer's window holds everything back until all is queued. */
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    static const uint32_t len[] = {500, 1000, 700, 300, 20, 30, 40, 2000, 3};
    uint32_t at = 0;
    for (size_t n = 0; n < sizeof len / sizeof len[0]; n++) {
        ssize_t r = n % 2 ? synack_send_ref(k, pattern + at, len[n])
                          : synack_send(k, pattern + at, len[n]);
        assert_int_equal(r, len[n]);
        at += len[n];
    }
    pkt_drain(h); /* window probes */
    static uint8_t got[65536];
    memset(got, 0, sizeof got);
    pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(pkt_collect(h, got, S), at);
    assert_memory_equal(got, pattern, at);
    /* Acknowledged piece by piece: the references go in order. */
    assert_int_equal(synack_send_refs_done(k), 0);
    pkt_send(h, ACK, P, S + 1499, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send_refs_done(k), 0);
    pkt_send(h, ACK, P, S + 1500, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send_refs_done(k), 1);
    pkt_send(h, ACK, P, S + 2549, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send_refs_done(k), 2);
    pkt_send(h, ACK, P, S + 2550, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send_refs_done(k), 3);
    pkt_send(h, ACK, P, S + at, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send_refs_done(k), 4);
    pkt_free(h);
}
static void order_is_kept_gathered(void **state)
{
    (void)state;
    order_is_kept_with_copies("gather=1");
}
static void order_is_kept_copied(void **state)
{
    (void)state;
    order_is_kept_with_copies(NULL);
}

/* A reset ends every reference: nothing will be sent again. */
static void reset_releases_every_reference(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send_ref(k, pattern, 100), 100);
    assert_int_equal(synack_send_ref(k, pattern + 100, 100), 100);
    pkt_drain(h);
    pkt_events(h, k);
    pkt_send(h, RST, P, S, 0, NULL, 0, NULL);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_send_refs_done(k), 2);
    assert_true(pkt_events(h, k) & SYNACK_EV_REFS_DONE);
    assert_int_equal(synack_send_ref(k, pattern, 100), -ECONNRESET);
}

/* Close copies what is still referenced: the memory is the application's
 * again at once, and what goes out after is what it held at close. */
static void close_keeps_a_copy(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 2000, NULL, 0, NULL); /* room for some of it */
    static uint8_t mine[3000];
    memcpy(mine, pattern, sizeof mine);
    assert_int_equal(synack_send(k, pattern + 5000, 10), 10);
    assert_int_equal(synack_send_ref(k, mine, sizeof mine), 3000);
    assert_int_equal(synack_send(k, pattern + 6000, 10), 10);
    static uint8_t got[4096];
    uint32_t first = pkt_collect(h, got, S);
    assert_true(first >= 1000 && first < 2000);
    assert_int_equal(synack_close(k), 0);
    memset(mine, 0xee, sizeof mine);
    pkt_drain(h);
    pkt_send(h, ACK, P, S + first, PKT_PEER_WND, NULL, 0, NULL);
    uint32_t top = 0;
    wire_tcp seg;
    while (pkt_pending(h)) {
        size_t len = pkt_pop(h);
        assert_true(pkt_parse(h, h->last, len, &seg));
        memcpy(got + (seg.seq - S), seg.payload, seg.payload_len);
        top = seg.seq - S + (uint32_t)seg.payload_len;
    }
    assert_true(seg.flags & FIN);
    assert_int_equal(top, 3020);
    assert_memory_equal(got, pattern + 5000, 10);
    assert_memory_equal(got + 10, pattern, 3000);
    assert_memory_equal(got + 3010, pattern + 6000, 10);
}

/* Bounded: 64 references at once, and at most tcp_wmem[2] bytes (a
 * longer one is taken in part). Zero bytes take no reference. */
static void references_are_bounded(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new("tcp_wmem=4096,16384,40000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    assert_int_equal(synack_send_ref(k, pattern, 0), 0);
    assert_int_equal(synack_send_ref(k, pattern, 50000), 40000);
    assert_int_equal(synack_send_ref(k, pattern, 1), -EAGAIN);
    pkt_drain(h); /* window probes */
    pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, NULL);
    ack_until(h, S, 40000);
    assert_int_equal(synack_send_refs_done(k), 1);
    pkt_send(h, ACK, P, S + 40000, 0, NULL, 0, NULL);
    for (int i = 0; i < 64; i++)
        assert_int_equal(synack_send_ref(k, pattern + i, 1), 1);
    assert_int_equal(synack_send_ref(k, pattern, 1), -EAGAIN);
    assert_int_equal(synack_send(k, pattern, 1), 1); /* copies still go */
    pkt_send(h, ACK, P, S + 40000, PKT_PEER_WND, NULL, 0, NULL);
    static uint8_t got[128];
    assert_int_equal(pkt_collect(h, got, S + 40000), 65);
    assert_memory_equal(got, pattern, 64);
    pkt_send(h, ACK, P, S + 40010, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send_refs_done(k), 11);
    assert_int_equal(synack_send_ref(k, pattern, 1), 1); /* room again */
}

/* The table of references lives only while some are outstanding: once all
 * are released it goes back to the stack, and the next reference (this
 * connection's or another's) takes it again without allocating. */
static void tables_are_reused(void **state)
{
    fill_pattern();
    pkt_allocator = pkt_counting_allocator;
    pkt_h *h = *state = pkt_new(NULL);
    pkt_allocator = (synack_allocator){0};
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send_ref(k, pattern, 100), 100);
    pkt_drain(h);
    pkt_send(h, ACK, P, S + 100, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send_refs_done(k), 1);
    long before = pkt_allocations;
    for (uint32_t i = 1; i <= 10; i++) {
        assert_int_equal(synack_send_ref(k, pattern, 100), 100);
        pkt_drain(h);
        pkt_send(h, ACK, P, S + 100 + i * 100, PKT_PEER_WND, NULL, 0, NULL);
        assert_int_equal(synack_send_refs_done(k), 1 + i);
    }
    assert_int_equal(pkt_allocations, before);
}

/* A busy stack is not a stack out of memory: above tcp_mem[0] (where
 * autotuning stops) the copy at close is still made, and the close is a
 * close, not a reset; only tcp_mem's hard limit refuses it. */
static void close_copies_under_load(void **state)
{
    fill_pattern();
    pkt_h *h = *state = pkt_new("tcp_mem=1,100000,100000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL); /* nothing goes yet */
    assert_int_equal(synack_send_ref(k, pattern, 20000), 20000);
    pkt_drain(h);
    uint32_t id = pkt_id(k);
    assert_int_equal(synack_close(k), 0);
    assert_string_equal(pkt_last_cause(h, id), "shutdown");
    assert_int_equal(pkt_counter(h, tcp_abort_on_memory), 0);
    pkt_expect_none(h);

    pkt_h *full = pkt_new("tcp_mem=1,2,3");
    k = pkt_established(full);
    pkt_send(full, ACK, full->irs + 1, full->iss + 1, 0, NULL, 0, NULL);
    assert_int_equal(synack_send_ref(k, pattern, 20000), 20000);
    pkt_drain(full);
    id = pkt_id(k);
    assert_int_equal(synack_close(k), 0);
    assert_string_equal(pkt_last_cause(full, id), "close without memory for data sent by reference");
    pkt_expect(full, RST | ACK, PKT_ANY, PKT_ANY);
    pkt_free(full);
}

/* A random mix of copies and references, a peer that loses a tenth of
 * the segments, SACKs (or not) and shrinks its window, time that jumps,
 * and a close at a random moment: every byte that leaves is the byte
 * written there, a reference is released only once all of it is
 * acknowledged (its memory is scribbled over at once, and at close all of
 * it), and every reference acknowledged in full is released. */
#define MIX_MAX (1u << 21)
static uint8_t mix_truth[MIX_MAX], mix_mem[MIX_MAX], mix_held[MIX_MAX];
typedef struct { uint32_t at, len; } mix_span;
static mix_span mix_ref[100000];
static uint64_t mix_rng;

static uint32_t mix_rand(uint32_t n)
{
    mix_rng ^= mix_rng << 13;
    mix_rng ^= mix_rng >> 7;
    mix_rng ^= mix_rng << 17;
    return (uint32_t)(mix_rng % n);
}

/* The peer takes what came: checks each byte, loses some. Returns false at
 * our FIN or RST (*fin set at the FIN: its offset). */
static bool mix_receive(pkt_h *h, uint32_t S, bool closed, bool lossy, int64_t *fin)
{
    while (pkt_pending(h)) {
        size_t len = pkt_pop(h);
        wire_tcp seg;
        assert_true(pkt_parse(h, h->last, len, &seg));
        if (seg.flags & RST) {
            assert_true(closed); /* only a close without memory may reset */
            return false;
        }
        uint32_t off = seg.seq - S;
        assert_memory_equal(seg.payload, mix_truth + off, seg.payload_len);
        if (lossy && mix_rand(10) == 0)
            continue;
        memset(mix_held + off, 1, seg.payload_len);
        if (seg.flags & FIN) {
            assert_true(closed);
            *fin = off + (int64_t)seg.payload_len;
        }
    }
    return true;
}

static void mix_run(uint64_t seed)
{
    mix_rng = seed;
    memcpy(mix_mem, mix_truth, sizeof mix_mem);
    memset(mix_held, 0, sizeof mix_held);
    pkt_h *h = pkt_new(seed % 2 ? "gather=1" : NULL);
    synack_sock *k = (seed / 2) % 2 ? pkt_sack_flight(h, 0, 1000, 10) : pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    uint32_t queued = 0, nref = 0, released = 0, cum = 0;
    int close_at = seed % 3 ? 200 + (int)(seed * 97 % 3000) : -1;
    bool closed = false;
    int64_t fin = -1;
    for (int step = 0; step < 4000 + 2000 && !(fin >= 0 && cum == fin); step++) {
        bool draining = step >= 4000;
        if (draining && !closed) {
            assert_int_equal(synack_close(k), 0);
            memset(mix_mem, 0xee, sizeof mix_mem); /* all of it is the application's again */
            closed = true;
        }
        uint32_t r = mix_rand(100);
        if (draining) {
            pkt_advance(h, 300);
        } else if (step == close_at) {
            if (mix_rand(2))
                assert_int_equal(synack_shutdown(k, SYNACK_SHUT_WR), 0);
            assert_int_equal(synack_close(k), 0);
            memset(mix_mem, 0xee, sizeof mix_mem);
            closed = true;
        } else if (!closed && r < 10 && queued < MIX_MAX - 70000) {
            uint32_t len = 1 + mix_rand(mix_rand(4) ? 3000 : 40000);
            bool by_ref = mix_rand(2);
            ssize_t n = by_ref ? synack_send_ref(k, mix_mem + queued, len)
                               : synack_send(k, mix_truth + queued, len);
            if (n == -EAGAIN)
                continue;
            assert_true(n > 0);
            if (by_ref)
                mix_ref[nref++] = (mix_span){queued, (uint32_t)n};
            queued += (uint32_t)n;
        } else if (r < 45) {
            pkt_advance(h, mix_rand(4) == 0 ? 1000 + mix_rand(3000) : mix_rand(50));
        }
        if (!mix_receive(h, S, closed, !draining, &fin))
            break;
        while (cum < queued && mix_held[cum])
            cum++;
        wire_tcp_opts so = pkt_opts(); /* SACK blocks above cum */
        for (uint32_t i = cum; i < queued && so.sack_count < 3;) {
            while (i < queued && !mix_held[i])
                i++;
            uint32_t b = i;
            while (i < queued && mix_held[i])
                i++;
            if (i > b) {
                so.sack[so.sack_count][0] = S + b;
                so.sack[so.sack_count][1] = S + i;
                so.sack_count++;
            }
        }
        r = mix_rand(20);
        uint16_t wnd = draining ? PKT_PEER_WND : r == 0 ? 0 : r == 1 ? (uint16_t)(1 + mix_rand(3000)) : PKT_PEER_WND;
        pkt_send(h, ACK, P, S + cum + (fin >= 0 && cum == fin), wnd, NULL, 0, &so);
        if (closed)
            continue;
        uint32_t done = synack_send_refs_done(k);
        for (; released < done; released++) {
            assert_true(mix_ref[released].at + mix_ref[released].len <= cum);
            memset(mix_mem + mix_ref[released].at, 0xee, mix_ref[released].len);
        }
        assert_true(released == nref || mix_ref[released].at + mix_ref[released].len > cum);
    }
    assert_true(fin >= 0 && cum == fin); /* everything arrived, and the FIN */
    pkt_free(h);
}

static void random_mix_keeps_every_byte(void **state)
{
    (void)state;
    for (uint32_t i = 0; i < MIX_MAX; i++)
        mix_truth[i] = (uint8_t)(i * 7 + (i >> 8) + (i >> 16) * 13);
    for (uint64_t seed = 1; seed <= 40; seed++)
        mix_run(seed * 7919);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(referenced_bytes_are_not_copied, pkt_teardown),
        cmocka_unit_test(order_is_kept_gathered),
        cmocka_unit_test(order_is_kept_copied),
        cmocka_unit_test_teardown(reset_releases_every_reference, pkt_teardown),
        cmocka_unit_test_teardown(close_keeps_a_copy, pkt_teardown),
        cmocka_unit_test_teardown(references_are_bounded, pkt_teardown),
        cmocka_unit_test_teardown(tables_are_reused, pkt_teardown),
        cmocka_unit_test_teardown(close_copies_under_load, pkt_teardown),
        cmocka_unit_test(random_mix_keeps_every_byte),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
