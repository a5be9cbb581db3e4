/*
 * test_rack.c — RACK time-based loss detection (RFC 8985 §6), packet by
 * packet, against RFC 6675's DupThresh (tcp_recovery=0): reordering within
 * the reordering window is waited out, a segment SACKed past is resent by
 * the reordering timer once the window has passed, a lost retransmission
 * is found by time, DSACK widens the window, and the per-segment records
 * exist only while data is in flight (an idle connection's serve the next).
 *
 * Every connection here has a 40 ms round trip (its handshake's sample),
 * so the reordering window is min_RTT / 4 = 10 ms.
 */
#include "common/pkt.h"

#include <stdlib.h>
#include <string.h>

#define MSS 1000
#define RTT 40

/* An established connection with SACK whose handshake took RTT ms, with
 * `n` segments written and sent in one flight (at one instant). */
#define flight(h, n) pkt_sack_flight((h), (n), MSS, RTT)

#define SEG(n) (h->iss + 1 + (uint32_t)(n) * MSS)

/* An ACK of everything below segment `ack` with SACK blocks [from, to)
 * in segments (pairs; `n` of them). */
static void sack(pkt_h *h, uint32_t ack, const uint32_t (*b)[2], int n)
{
    pkt_sack_ack(h, MSS, ack, b, n, PKT_PEER_WND);
}

/* Ten segments; a round trip later segment 1 arrives before 0 (the
 * network reordered them, no loss), then 3, 4 and 5 arrive while 2 is
 * still on its way: three SACKed segments above a hole. */
static void reordered_twice(pkt_h *h)
{
    flight(h, 10);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 2}}, 1);
    pkt_expect_none(h);
    sack(h, 2, NULL, 0); /* 0 came late */
    pkt_expect_none(h);
    sack(h, 2, (const uint32_t[][2]){{3, 4}}, 1);
    sack(h, 2, (const uint32_t[][2]){{3, 5}}, 1);
    sack(h, 2, (const uint32_t[][2]){{3, 6}}, 1);
}

/* While RACK waits out the reordering window, what the peer SACKs has left
 * the network: each newly SACKed segment makes room for one new one (the
 * window bounds the pipe, as Linux's packets in flight), where RFC 3042's
 * limited transmit stopped after two. Nothing is resent meanwhile. */
static void sacked_segments_make_room_before_recovery(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    static uint8_t more[20 * MSS];
    assert_int_equal(synack_send(k, more, sizeof more), (ssize_t)sizeof more);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 2}}, 1);
    sack(h, 2, NULL, 0); /* 0 came late: reordering seen */
    pkt_drain(h);
    synack_tcp_info i;
    synack_info(k, &i);
    uint32_t next = i.snd_nxt;
    for (uint32_t top = 4; top <= 8; top++) {
        sack(h, 2, (const uint32_t[][2]){{3, top}}, 1);
        wire_tcp seg = pkt_expect(h, PKT_ANY_FLAGS, next, PKT_ANY);
        assert_int_equal(seg.payload_len, MSS);
        next += MSS;
        pkt_expect_none(h);
    }
    assert_int_equal(pkt_counter(h, tcp_retrans_segs), 0);
}

/* RFC 8985 §6.2 step 2-3: once reordering has been seen, three SACKed
 * segments above a hole are not enough; the hole gets the reordering
 * window, and when it arrives within it nothing was resent for nothing. */
static void reordering_within_the_window_is_not_retransmitted(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    reordered_twice(h);
    assert_int_equal(pkt_counter(h, tcp_sack_reorder), 1);
    pkt_expect_none(h); /* DupThresh would resend 2 here (the next test) */
    pkt_advance(h, 5);
    sack(h, 6, NULL, 0); /* 2 arrives, 5 ms late */
    pkt_advance(h, 20);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_retrans_segs), 0);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 0);
}

/* The same conversation with RACK off: the third duplicate resends 2. */
static void dupthresh_retransmits_the_reordered_segment(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_recovery=0");
    reordered_twice(h);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(2), PKT_ANY);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 1);
}

/* RFC 8985 §6.2 step 5: when the hole does not fill, the reordering timer
 * resends it once the window (10 ms) has passed, not at the RTO. */
static void reordering_timer_resends_after_the_window(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    reordered_twice(h);
    pkt_advance(h, 9);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(2), PKT_ANY);
    assert_int_equal(pkt_counter(h, tcp_rack_reo_timeouts), 1);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 1);
    assert_int_equal(pkt_counter(h, tcp_timeouts), 0);
}

/* With RACK off, RFC 6675's IsLost decides by SACKed bytes: one ACK
 * SACKing three segments above a hole ((DupThresh - 1) * SMSS + 1 bytes)
 * is enough, on the first duplicate. */
static void dupthresh_counts_sacked_bytes(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_recovery=0");
    flight(h, 10);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 3}}, 1);
    pkt_expect_none(h); /* two segments: not yet */
    sack(h, 0, (const uint32_t[][2]){{1, 4}}, 1);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(0), PKT_ANY);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 1);
}

/* A single segment SACKed above a hole: DupThresh never gets its three
 * duplicates from a flight of four; RACK resends the hole when the
 * reordering window after the SACKed segment's round trip has passed. */
static void one_sack_past_a_hole_is_resent_after_the_window(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    flight(h, 4);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 2}}, 1);
    pkt_expect_none(h);
    pkt_advance(h, 9);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(0), PKT_ANY);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_rack_reo_timeouts), 1);
}

static void dupthresh_waits_for_the_probe(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_recovery=0");
    flight(h, 4);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 2}}, 1);
    pkt_advance(h, 10);
    pkt_expect_none(h);
}

/* Segments 0 and 2 are lost and resent in that order; the copy of 2
 * arrives a round trip later, the copy of 0 does not. It was sent before
 * a copy that was delivered: lost too (RFC 8985 §6.2), resent at once.
 * The sequence rule (RACK off) sees no data sent after the copy of 0
 * delivered and leaves it to the RTO. */
static int lost_copy_resends(const char *knobs)
{
    pkt_h *h = pkt_new(knobs);
    flight(h, 10);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{3, 10}, {1, 2}}, 2);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(0), PKT_ANY);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(2), PKT_ANY);
    pkt_expect_none(h);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 10}}, 1);
    int resent = 0;
    while (pkt_pending(h))
        resent += pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, PKT_ANY).seq == SEG(0);
    assert_int_equal(pkt_counter(h, tcp_lost_retransmit), resent);
    assert_int_equal(pkt_counter(h, tcp_timeouts), 0);
    pkt_free(h);
    return resent;
}

static void lost_retransmission_found_by_time(void **state)
{
    (void)state;
    assert_int_equal(lost_copy_resends(NULL), 1);
    assert_int_equal(lost_copy_resends("tcp_recovery=0"), 0);
}

/* Segments 0 and 4 are lost; 1-3 are SACKed, and 0 is resent. The copy's
 * cumulative ACK carries no SACK block and nothing resent is left, but the
 * copy left a round trip after 4 did: 4 is lost too (RFC 8985 §6.2), resent
 * at once, not a timeout later. */
static void loss_older_than_a_delivered_copy_is_found_without_sack(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    flight(h, 5);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 4}}, 1);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(0), PKT_ANY);
    pkt_expect_none(h);
    pkt_advance(h, RTT);
    sack(h, 4, NULL, 0);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(4), PKT_ANY);
    assert_int_equal(pkt_counter(h, tcp_timeouts), 0);
}

/* Drain what the stack sent; 1 if a segment started at `seq`. */
static int sent_seq(pkt_h *h, uint32_t seq)
{
    int found = 0;
    while (pkt_pending(h))
        found |= pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, PKT_ANY).seq == seq;
    return found;
}

/* After a timeout the scoreboard is forgotten and go-back-N resends 1 and
 * 2 together; 2's copy is SACKed, 1's is not: 1's copy is lost (sent
 * before a delivered one, RFC 8985 §6.2) and goes again at once, as in
 * Linux's Loss state, not at a second, doubled, timeout. */
static void lost_copy_after_a_timeout_is_resent(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    flight(h, 4);
    for (int i = 0; i < 100 && !pkt_counter(h, tcp_timeouts); i++) {
        pkt_advance(h, 10);
        sent_seq(h, 0);
    }
    assert_int_equal(pkt_counter(h, tcp_timeouts), 1);
    pkt_advance(h, RTT);
    sack(h, 1, NULL, 0);
    assert_true(sent_seq(h, SEG(2)));
    pkt_advance(h, RTT);
    sack(h, 1, (const uint32_t[][2]){{2, 3}}, 1);
    assert_true(sent_seq(h, SEG(1)));
    assert_int_equal(pkt_counter(h, tcp_timeouts), 1);
}

/* Fast recovery resends holes 0, 2, 4 and 6, and all four copies are lost.
 * After the timeout go-back-N resends 0; its ACK (1 segment window, now 2)
 * shows the old copies of 2, 4 and 6 lost, but those lie at and above
 * SND.NXT: go-back-N sends them in order within the window, each once,
 * not RACK's resend on top of it. */
static void after_a_timeout_go_back_n_resends_in_order(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    flight(h, 10);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 2}, {3, 4}, {5, 6}, {7, 10}}, 4);
    pkt_drain(h);
    for (int i = 0; i < 100 && !pkt_counter(h, tcp_timeouts); i++) {
        pkt_advance(h, 10);
        pkt_drain(h);
    }
    assert_int_equal(pkt_counter(h, tcp_timeouts), 1);
    pkt_advance(h, RTT);
    sack(h, 1, (const uint32_t[][2]){{3, 4}, {5, 6}, {7, 10}}, 3);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(1), PKT_ANY);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(2), PKT_ANY);
    pkt_expect_none(h);
}

/* RFC 8985 §6.2 step 3: a DSACK says a retransmission was needless; the
 * window grows by a quarter of min_RTT per round with one: 20 ms. */
static void dsack_widens_the_window(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    flight(h, 10);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 2}}, 1);
    sack(h, 2, NULL, 0);
    sack(h, 2, (const uint32_t[][2]){{0, 1}}, 1); /* D-SACK: 0 arrived twice */
    assert_int_equal(pkt_counter(h, tcp_dsack_recv), 1);
    sack(h, 2, (const uint32_t[][2]){{3, 4}}, 1);
    sack(h, 2, (const uint32_t[][2]){{3, 5}}, 1);
    sack(h, 2, (const uint32_t[][2]){{3, 6}}, 1);
    pkt_advance(h, 19);
    pkt_expect_none(h); /* 10 ms would have resent it */
    pkt_advance(h, 1);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(2), PKT_ANY);
}

/* Reordering RACK itself hid: before any reordering is seen, three SACKed
 * segments above a hole resend it at once, before its late original can
 * show up, so step 2 never sees the original's delivery. The DSACK for the
 * needless copy is the sign, and counts as reordering seen (as Linux's
 * SACK tagging takes it): the next hole gets the reordering window. */
static void dsack_of_a_resent_segment_shows_reordering(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 4}}, 1);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(0), PKT_ANY); /* no reordering seen: at once */
    pkt_drain(h);
    pkt_advance(h, 2);
    sack(h, 10, NULL, 0);                          /* the original came late */
    pkt_advance(h, RTT);
    sack(h, 10, (const uint32_t[][2]){{0, 1}}, 1); /* D-SACK: the copy arrived too */
    assert_int_equal(pkt_counter(h, tcp_sack_reorder), 1);
    static uint8_t more[10 * MSS];
    assert_int_equal(synack_send(k, more, sizeof more), (ssize_t)sizeof more);
    pkt_drain(h);
    pkt_advance(h, RTT);
    sack(h, 10, (const uint32_t[][2]){{11, 14}}, 1);
    while (pkt_pending(h)) /* new data may go; 10 waits for the window */
        assert_int_not_equal(pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, PKT_ANY).seq, SEG(10));
    pkt_advance(h, 20); /* 20 ms after one DSACK round */
    pkt_expect(h, PKT_ANY_FLAGS, SEG(10), PKT_ANY);
}

/* tcp_recovery=3 keeps the window static: the DSACK changes nothing. */
static void static_window_ignores_dsack(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_recovery=3");
    flight(h, 10);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 2}}, 1);
    sack(h, 2, NULL, 0);
    sack(h, 2, (const uint32_t[][2]){{0, 1}}, 1);
    sack(h, 2, (const uint32_t[][2]){{3, 6}}, 1);
    pkt_advance(h, 10);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(2), PKT_ANY);
}

/* A peer SACKs the head it does not hold (a lie, or it reneged), then
 * sends duplicate ACKs without blocks. RACK finds nothing to time; the
 * third duplicate still starts recovery, as without RACK, so the loss
 * probe stops moving with every duplicate and the RTO resends the head.
 * Found by fuzz_ack: the connection waited forever. */
static void duplicates_without_blocks_still_count(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    flight(h, 10);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{0, 2}}, 1);
    int head = 0;
    for (int i = 0; i < 200 && !head; i++) {
        pkt_advance(h, 5);
        sack(h, 0, NULL, 0);
        while (pkt_pending(h))
            head += pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, PKT_ANY).seq == SEG(0);
    }
    assert_int_equal(head, 1);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 1);
}

/* Drain what was sent: copies of the segment at `hole`, and of anything
 * else below `top` (the peer holds it). */
static void count_resent(pkt_h *h, uint32_t hole, uint32_t top, int *head, int *other)
{
    while (pkt_pending(h)) {
        wire_tcp r = pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, PKT_ANY);
        if (r.payload_len && r.seq == hole)
            (*head)++;
        else if (r.payload_len && (int32_t)(r.seq - top) < 0)
            (*other)++;
    }
}

/* The records start small and grow with the flight: with reordering
 * seen, `segs` segments in flight, the oldest late and all the others
 * SACKed. RACK waits the window, then resends the hole once and nothing
 * the peer holds. Had the records stopped short, the newest would have
 * absorbed the rest and RFC 6675's IsLost resent the hole at once. */
/* Keep the send buffer full. */
static void top_up(synack_sock *k)
{
    static uint8_t more[64 * 1024];
    while (synack_send(k, more, sizeof more) > 0)
        ;
}

static void late_head_of_a_flight(void **state, uint32_t segs)
{
    pkt_h *h = *state = pkt_new("tcp_wmem=4096,4194304,4194304 tcp_rmem=4096,131072,6291456");
    synack_sock *k = pkt_sack_flight_ws(h, 10, MSS, RTT, 7);
    top_up(k);
    pkt_drain(h);
    pkt_advance(h, RTT);
    uint16_t wnd = PKT_PEER_WND; /* x 128: 8 MiB */
    pkt_sack_ack(h, MSS, 0, (const uint32_t[][2]){{1, 2}}, 1, wnd);
    pkt_sack_ack(h, MSS, 2, NULL, 0, wnd); /* reordering seen */
    pkt_drain(h);
    uint32_t una = 2;
    synack_tcp_info i;
    do { /* slow start: more out per ACK than acknowledged */
        pkt_sack_ack(h, MSS, ++una, NULL, 0, wnd);
        top_up(k);
        pkt_drain(h);
        synack_info(k, &i);
    } while (i.unacked < segs * MSS);
    uint32_t top = una + i.unacked / MSS;
    pkt_advance(h, RTT);
    pkt_sack_ack(h, MSS, una, (const uint32_t[][2]){{una + 1, top}}, 1, wnd);
    int head = 0, other = 0;
    count_resent(h, SEG(una), SEG(top), &head, &other); /* new data may go */
    assert_int_equal(head, 0); /* within the reordering window */
    pkt_advance(h, 10);
    count_resent(h, SEG(una), SEG(top), &head, &other);
    assert_int_equal(head, 1);
    assert_int_equal(other, 0);
}

/* Fifty: the records grew from 32 to 64. */
static void records_grow_with_the_flight(void **state) { late_head_of_a_flight(state, 50); }

/* A bulk flight at a gigabit and 10 ms: 2,000 segments, past the 1,024
 * records the flight once stopped at (reordering then cost bench_loss
 * four fifths of its rate at a large window). */
static void records_cover_a_large_window(void **state) { late_head_of_a_flight(state, 2000); }

static void *plain_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return malloc(n);
}
static void *no_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return p ? NULL : malloc(n);
}
static void plain_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

/* Without memory to grow (realloc fails) the records stop at 32 and the
 * newest absorbs the rest: RFC 6675's IsLost helps while those untimed
 * bytes are outstanding, and only then. Once SND.UNA passes them, a late
 * segment gets RACK's reordering window again (the flag stuck for the
 * rest of a long transfer once cost bench_loss 70% under reordering). */
static void overflow_ends_when_acknowledged(void **state)
{
    pkt_allocator = (synack_allocator){plain_malloc, no_realloc, plain_free, NULL};
    pkt_h *h = *state = pkt_new("tcp_wmem=4096,262144,262144");
    pkt_allocator = (synack_allocator){0};
    synack_sock *k = flight(h, 10);
    static uint8_t more[70 * MSS];
    assert_int_equal(synack_send(k, more, 50 * MSS), 50 * MSS);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 2}}, 1);
    sack(h, 2, NULL, 0); /* reordering seen */
    pkt_drain(h);
    synack_tcp_info i;
    uint32_t una = 2;
    do { /* slow start until all 60 are out: more than 32 in flight */
        sack(h, ++una, NULL, 0);
        pkt_drain(h);
        synack_info(k, &i);
    } while (una + i.unacked / MSS < 60);
    assert_true(i.unacked > 32 * MSS);
    sack(h, 59, NULL, 0);
    assert_int_equal(synack_send(k, more, 20 * MSS), 20 * MSS); /* 60..79, timed */
    pkt_drain(h);
    pkt_advance(h, RTT);
    sack(h, 60, NULL, 0); /* past the untimed bytes */
    sack(h, 60, (const uint32_t[][2]){{61, 65}}, 1);
    int head = 0, other = 0;
    count_resent(h, SEG(60), SEG(65), &head, &other);
    assert_int_equal(head, 0); /* RACK's window, not IsLost */
    pkt_advance(h, 10);
    count_resent(h, SEG(60), SEG(65), &head, &other);
    assert_int_equal(head, 1);
    assert_int_equal(other, 0);
}

/* The records come with a flight and leave the connection when all of it
 * is acknowledged: an idle connection carries none (issue 13). The stack
 * keeps a few first-size arrays for the next flight, so a request/response
 * connection does not allocate one per exchange. `busy`: blocks the first
 * flight added; `left`: what stays once it is acknowledged (the emptied
 * send ring and the records, kept by the stack as spares); `again`:
 * allocations a second flight makes. Everything is freed with the stack. */
static void blocks_in_flight(const char *knobs, long *busy, long *left, long *again)
{
    pkt_allocator = pkt_counting_allocator;
    long before = pkt_live_blocks;
    pkt_h *h = pkt_new(knobs);
    pkt_allocator = (synack_allocator){0};
    synack_sock *k = flight(h, 0);
    long idle = pkt_live_blocks;
    static uint8_t data[3 * MSS];
    assert_int_equal(synack_send(k, data, sizeof data), (ssize_t)sizeof data);
    pkt_drain(h);
    *busy = pkt_live_blocks - idle;
    pkt_advance(h, RTT);
    sack(h, 1, NULL, 0);
    assert_int_equal(pkt_live_blocks - idle, *busy); /* still in flight */
    sack(h, 3, NULL, 0);
    *left = pkt_live_blocks - idle;
    long calls = pkt_allocations;
    assert_int_equal(synack_send(k, data, sizeof data), (ssize_t)sizeof data);
    pkt_drain(h);
    pkt_advance(h, RTT);
    sack(h, 6, NULL, 0);
    *again = pkt_allocations - calls;
    pkt_free(h);
    assert_int_equal(pkt_live_blocks, before);
}

static void records_leave_the_connection_when_all_is_acknowledged(void **state)
{
    (void)state;
    long busy, left, again, busy_off, left_off, again_off;
    blocks_in_flight(NULL, &busy, &left, &again);
    blocks_in_flight("tcp_recovery=0", &busy_off, &left_off, &again_off);
    assert_int_equal(busy_off, 1);        /* the send ring */
    assert_int_equal(busy, busy_off + 1); /* and the records */
    assert_int_equal(left, left_off + 1); /* the records: the stack's spare now */
    assert_int_equal(again_off, 0);       /* the spare ring came back ... */
    assert_int_equal(again, 0);           /* ... and so did the records */
}


/* Allocations a second connection's first flight makes once a first
 * connection's flight is all acknowledged (both with SACK, which is what
 * makes records). */
static long second_flight_allocations(const char *knobs)
{
    pkt_allocator = pkt_counting_allocator;
    pkt_h *h = pkt_new(knobs);
    pkt_allocator = (synack_allocator){0};
    flight(h, 3);
    pkt_advance(h, RTT);
    sack(h, 3, NULL, 0); /* the first connection is idle now */
    synack_sock *k = synack_socket(h->s); /* the second: ours, to the peer, with SACK */
    assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
    h->port = pkt_peek_sport(h);
    h->iss = pkt_expect(h, SYN, PKT_ANY, 0).seq;
    h->irs = PKT_PEER_ISS;
    wire_tcp_opts o = pkt_opts_mss(MSS);
    o.sack_ok = 1;
    pkt_advance(h, RTT);
    pkt_send(h, SYN | ACK, h->irs, h->iss + 1, PKT_PEER_WND, NULL, 0, &o);
    pkt_expect(h, ACK, h->iss + 1, h->irs + 1);
    static uint8_t data[3 * MSS];
    long calls = pkt_allocations;
    assert_int_equal(synack_send(k, data, sizeof data), (ssize_t)sizeof data);
    pkt_drain(h);
    calls = pkt_allocations - calls;
    pkt_free(h);
    return calls;
}

/* The records an acknowledged flight leaves go to the stack, not stay
 * with its idle connection: the next connection's flight takes them
 * rather than allocating its own, as with RACK off (no records at all). */
static void an_idle_connections_records_serve_the_next(void **state)
{
    (void)state;
    assert_int_equal(second_flight_allocations(NULL), second_flight_allocations("tcp_recovery=0"));
}

/* review-s11: the network duplicated segment 2 (never resent) and the
 * peer reports the duplicate. Nothing was reordered and nothing resent:
 * Linux skips such a DSACK (tcp_dsack_seen: more duplicates than
 * retransmissions is dubious). Counted as reordering seen, it would keep
 * RACK's window open for the connection's life: a later loss with three
 * segments SACKed above it waits for the reordering timer instead of
 * being resent at once. */
static void dsack_of_a_never_resent_segment_is_not_reordering(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    (void)k;
    pkt_advance(h, RTT);
    sack(h, 5, (const uint32_t[][2]){{2, 3}}, 1); /* the network's duplicate of 2 */
    assert_int_equal(pkt_counter(h, tcp_sack_reorder), 0);
    /* Segment 5 lost, 6-8 SACKed: resent at once, as without a window. */
    sack(h, 5, (const uint32_t[][2]){{6, 9}}, 1);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 1);
    pkt_expect(h, PKT_ANY_FLAGS, SEG(5), PKT_ANY);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(dsack_of_a_never_resent_segment_is_not_reordering, pkt_teardown),
        cmocka_unit_test_teardown(reordering_within_the_window_is_not_retransmitted, pkt_teardown),
        cmocka_unit_test_teardown(dupthresh_retransmits_the_reordered_segment, pkt_teardown),
        cmocka_unit_test_teardown(sacked_segments_make_room_before_recovery, pkt_teardown),
        cmocka_unit_test_teardown(reordering_timer_resends_after_the_window, pkt_teardown),
        cmocka_unit_test_teardown(dupthresh_counts_sacked_bytes, pkt_teardown),
        cmocka_unit_test_teardown(one_sack_past_a_hole_is_resent_after_the_window, pkt_teardown),
        cmocka_unit_test_teardown(dupthresh_waits_for_the_probe, pkt_teardown),
        cmocka_unit_test(lost_retransmission_found_by_time),
        cmocka_unit_test_teardown(dsack_widens_the_window, pkt_teardown),
        cmocka_unit_test_teardown(static_window_ignores_dsack, pkt_teardown),
        cmocka_unit_test_teardown(dsack_of_a_resent_segment_shows_reordering, pkt_teardown),
        cmocka_unit_test_teardown(duplicates_without_blocks_still_count, pkt_teardown),
        cmocka_unit_test_teardown(loss_older_than_a_delivered_copy_is_found_without_sack,
                                  pkt_teardown),
        cmocka_unit_test_teardown(lost_copy_after_a_timeout_is_resent, pkt_teardown),
        cmocka_unit_test_teardown(after_a_timeout_go_back_n_resends_in_order, pkt_teardown),
        cmocka_unit_test_teardown(records_grow_with_the_flight, pkt_teardown),
        cmocka_unit_test(an_idle_connections_records_serve_the_next),
        cmocka_unit_test_teardown(records_cover_a_large_window, pkt_teardown),
        cmocka_unit_test_teardown(overflow_ends_when_acknowledged, pkt_teardown),
        cmocka_unit_test(records_leave_the_connection_when_all_is_acknowledged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
