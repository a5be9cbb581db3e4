/*
 * test_undo.c — taking back a window cut that proves spurious (RFC 3708's
 * DSACK detection, Linux's tcp_try_undo_dsack), packet by packet: when
 * the peer reports every retransmission of a recovery (or of a timeout) as
 * a duplicate, cwnd and ssthresh go back to what they were; one
 * retransmission that filled a real hole keeps the cut, and a duplicate of
 * anything the episode did not resend says nothing about it.
 *
 * The connections here have a 40 ms round trip and ten segments in
 * flight; no reordering has been seen, so three SACKed segments above a
 * hole resend it at once.
 */
#include "common/pkt.h"

#include <stdio.h>

#define MSS 1000
#define RTT 40

#define flight(h, n) pkt_sack_flight((h), (n), MSS, RTT)

static void sack(pkt_h *h, uint32_t ack, const uint32_t (*b)[2], int n)
{
    pkt_sack_ack(h, MSS, ack, b, n, PKT_PEER_WND);
}

static synack_tcp_info info(synack_sock *k)
{
    synack_tcp_info i;
    synack_info(k, &i);
    return i;
}

/* Let the stack's timers run, dropping what it sends, until `counter`
 * moves (at most 50 deadlines). */
static void timers_until(pkt_h *h, const uint64_t *counter)
{
    uint64_t was = *counter;
    for (int i = 0; i < 50 && *counter == was; i++) {
        pkt_drain(h);
        pkt_advance(h, pkt_next_deadline_ms(h) + 1);
    }
    pkt_drain(h);
}

/* The n-th undo has happened: the window is back to at least `before`. */
static void assert_undone(pkt_h *h, synack_sock *k, const synack_tcp_info *before, uint64_t n)
{
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), n);
    assert_true(info(k).cwnd >= before->cwnd);
}

/* Segment 0 is late; 1-3 arrive, and 0 is resent at once (recovery). */
static synack_tcp_info recovery_for_a_late_head(pkt_h *h, synack_sock *k)
{
    synack_tcp_info before = info(k);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 4}}, 1);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 1);
    assert_true(info(k).ssthresh < before.cwnd);
    pkt_drain(h);
    return before;
}

/* The original was only late: the peer acknowledges all ten, then reports
 * the copy as a duplicate. The cut is taken back. */
static void spurious_recovery_is_undone(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = recovery_for_a_late_head(h, k);
    pkt_advance(h, 2);
    sack(h, 10, NULL, 0); /* the original came late */
    printf("  cut: cwnd %u ssthresh %u (before: %u, %u)\n", info(k).cwnd, info(k).ssthresh,
           before.cwnd, before.ssthresh);
    assert_true(info(k).cwnd < before.cwnd);
    pkt_advance(h, RTT);
    sack(h, 10, (const uint32_t[][2]){{0, 1}}, 1); /* D-SACK: the copy too */
    printf("  after the DSACK: cwnd %u ssthresh %u\n", info(k).cwnd, info(k).ssthresh);
    assert_undone(h, k, &before, 1);
    assert_int_equal(info(k).ssthresh, before.ssthresh);
}

/* The retransmission filled a real hole: no DSACK comes, the cut stays,
 * and a later duplicate of data the episode never resent does not undo
 * it. */
static void real_loss_keeps_the_cut(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = recovery_for_a_late_head(h, k);
    pkt_advance(h, RTT);
    sack(h, 10, NULL, 0); /* the copy filled the hole */
    uint32_t cut = info(k).ssthresh;
    sack(h, 10, (const uint32_t[][2]){{5, 6}}, 1); /* a duplicate of 5, never resent */
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), 0);
    assert_int_equal(info(k).ssthresh, cut);
    assert_true(info(k).cwnd < before.cwnd);
}

/* The DSACK comes while the recovery still runs (the original and its
 * copy both arrived, the segments after them not yet): the undo ends the
 * recovery too, so the ACKs that follow do not shrink the window again. */
static void undo_during_recovery_ends_it(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = recovery_for_a_late_head(h, k);
    pkt_advance(h, 2);
    sack(h, 4, NULL, 0); /* the original came late; 4-9 still on the way */
    pkt_advance(h, RTT);
    sack(h, 4, (const uint32_t[][2]){{0, 1}}, 1);
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), 1);
    pkt_drain(h);
    sack(h, 6, NULL, 0);
    sack(h, 10, NULL, 0);
    printf("  after the ACKs that follow: cwnd %u (before %u)\n", info(k).cwnd, before.cwnd);
    assert_true(info(k).cwnd >= before.cwnd);
    assert_true(info(k).cwnd <= 2 * before.cwnd); /* slow start, not a recovery's exit */
}

/* Retransmissions after the episode (here a loss probe) are not its own:
 * the late DSACK for the episode's one copy still undoes the cut. */
static void later_retransmissions_do_not_count(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = recovery_for_a_late_head(h, k);
    pkt_advance(h, 2);
    sack(h, 10, NULL, 0); /* the recovery is over */
    static uint8_t two[2 * MSS]; /* two: the probe comes before the RTO */
    assert_int_equal(synack_send(k, two, sizeof two), 2 * MSS);
    timers_until(h, &pkt_counter(h, tcp_loss_probes));
    assert_true(info(k).retransmits >= 2); /* the copy of 0 and the probe */
    assert_int_equal(pkt_counter(h, tcp_timeouts), 0);
    sack(h, 12, (const uint32_t[][2]){{0, 1}}, 1);
    assert_undone(h, k, &before, 1);
}

/* Two holes resent, only one reported as a duplicate: one of them was
 * lost, so the cut stays; the second DSACK shows both were needless. */
static void every_retransmission_must_be_a_duplicate(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = info(k);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 5}, {6, 10}}, 2); /* 0 and 5 missing */
    int resent = 0;
    while (pkt_pending(h))
        resent += pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, PKT_ANY).payload_len ? 1 : 0;
    assert_int_equal(resent, 2);
    pkt_advance(h, 2);
    sack(h, 10, NULL, 0);
    pkt_advance(h, RTT);
    sack(h, 10, (const uint32_t[][2]){{0, 1}}, 1);
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), 0);
    assert_true(info(k).cwnd < before.cwnd);
    sack(h, 10, (const uint32_t[][2]){{5, 6}}, 1);
    assert_undone(h, k, &before, 1);
}

/* A timeout that was only a delay: the ACK for all ten comes after the RTO
 * resent segment 0, and then the DSACK for that copy. The window goes back
 * from one segment to ten. */
static void spurious_timeout_is_undone(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = info(k);
    timers_until(h, &pkt_counter(h, tcp_timeouts));
    assert_int_equal(pkt_counter(h, tcp_timeouts), 1);
    assert_int_equal(info(k).cwnd, MSS);
    sack(h, 10, NULL, 0);
    pkt_drain(h);
    sack(h, 10, (const uint32_t[][2]){{0, 1}}, 1);
    printf("  after the DSACK: cwnd %u (before the timeout %u)\n", info(k).cwnd, before.cwnd);
    assert_undone(h, k, &before, 1);
}

/* Without SACK there are no DSACKs: nothing is ever undone. */
static void no_undo_without_sack(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_sack=0");
    synack_sock *k = flight(h, 10);
    pkt_advance(h, RTT);
    for (int d = 0; d < 3; d++)
        sack(h, 0, NULL, 0);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 1);
    pkt_drain(h);
    sack(h, 10, (const uint32_t[][2]){{0, 1}}, 1); /* not negotiated: ignored */
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), 0);
    assert_true(info(k).cwnd < 10 * MSS);
}


/* ---- review-s11: false undos and what follows an undo ---- */

/* Two holes resent, segment 5 really lost; the network duplicates the ACK
 * that reports the copy of 0 as a duplicate. One DSACK, seen twice, is
 * still one needless retransmission: the cut for 5 stays. */
static void duplicated_dsack_ack_does_not_undo(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = info(k);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 5}, {6, 10}}, 2); /* 0 and 5 missing */
    pkt_drain(h);
    pkt_advance(h, RTT);
    sack(h, 10, NULL, 0);
    pkt_advance(h, 2);
    sack(h, 10, (const uint32_t[][2]){{0, 1}}, 1);
    sack(h, 10, (const uint32_t[][2]){{0, 1}}, 1); /* the same ACK, duplicated */
    printf("  undos %llu, cwnd %u (before %u)\n",
           (unsigned long long)pkt_counter(h, tcp_dsack_undo), info(k).cwnd, before.cwnd);
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), 0);
    assert_true(info(k).cwnd < before.cwnd);
}

/* Segment 5 really lost; the network duplicated segment 3 (never resent),
 * and the peer reports that duplicate. It says nothing about the episode's
 * retransmissions: with the copy of 0 reported too, 5's loss stays. */
static void duplicate_of_an_original_does_not_count(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = info(k);
    pkt_advance(h, RTT);
    sack(h, 0, (const uint32_t[][2]){{1, 5}, {6, 10}}, 2);
    pkt_drain(h);
    pkt_advance(h, RTT);
    sack(h, 10, NULL, 0);
    sack(h, 10, (const uint32_t[][2]){{3, 4}}, 1); /* the network's duplicate of 3 */
    sack(h, 10, (const uint32_t[][2]){{0, 1}}, 1);
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), 0);
    assert_true(info(k).cwnd < before.cwnd);
}

/* A DSACK for part of a retransmission: the rest of it filled a hole. */
static void partial_dsack_does_not_undo(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    synack_tcp_info before = recovery_for_a_late_head(h, k);
    pkt_advance(h, RTT);
    sack(h, 10, NULL, 0);
    wire_tcp_opts o = pkt_opts();
    o.sack[0][0] = h->iss + 1;
    o.sack[0][1] = h->iss + 1 + MSS / 2; /* only the first half was a duplicate */
    o.sack_count = 1;
    pkt_send(h, ACK, h->irs + 1, h->iss + 1 + 10 * MSS, PKT_PEER_WND, NULL, 0, &o);
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), 0);
    assert_true(info(k).cwnd < before.cwnd);
}

/* The timeout was spurious: the originals of 0 and 1 arrive, then the
 * timeout's copy of 0, reported as a duplicate. The undo must not leave
 * go-back-N running with the restored window (RFC 4015 §3.2: SND.NXT =
 * SND.MAX; Linux's undo from Loss unmarks the lost segments): segments
 * 2-9 are on their way, not lost. */
static void undone_timeout_stops_go_back_n(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    for (int i = 0; i < 50 && pkt_counter(h, tcp_timeouts) == 0; i++) {
        pkt_drain(h);
        pkt_advance(h, pkt_next_deadline_ms(h) + 1);
    }
    pkt_drain(h); /* the copy of 0 */
    assert_int_equal(pkt_counter(h, tcp_timeouts), 1);
    uint32_t rtx = info(k).retransmits;
    sack(h, 2, (const uint32_t[][2]){{0, 1}}, 1);
    assert_int_equal(pkt_counter(h, tcp_dsack_undo), 1);
    int resent = 0;
    while (pkt_pending(h)) {
        wire_tcp s = pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, PKT_ANY);
        resent += s.payload_len ? 1 : 0;
    }
    printf("  after the undo: %d segments resent (%u retransmissions)\n", resent,
           info(k).retransmits - rtx);
    assert_int_equal(resent, 0);
}

/* After a timeout, one cumulative ACK for ten segments (the copy filled
 * the only hole) must not open the window to ssthresh at once: such ACKs
 * say nothing about what left the network in the last round trip, and
 * RFC 3465 §2.3 limits the slow start after an RTO (L = 1 SMSS there; the
 * stack's L = 2 SMSS before it counted every byte is the bound here). */
static void slow_start_after_rto_is_not_a_burst(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = flight(h, 10);
    static uint8_t more[30 * MSS];
    assert_true(synack_send(k, more, sizeof more) >= 10 * MSS);
    for (int i = 0; i < 50 && pkt_counter(h, tcp_timeouts) == 0; i++) {
        pkt_drain(h);
        pkt_advance(h, pkt_next_deadline_ms(h) + 1);
    }
    pkt_drain(h);
    assert_int_equal(info(k).cwnd, MSS);
    sack(h, 10, NULL, 0);
    int sent = 0;
    while (pkt_pending(h))
        sent += pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, PKT_ANY).payload_len ? 1 : 0;
    printf("  one ACK for 10 segments after the RTO: cwnd %u, %d segments at once\n",
           info(k).cwnd, sent);
    assert_true(sent <= 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(spurious_recovery_is_undone, pkt_teardown),
        cmocka_unit_test_teardown(real_loss_keeps_the_cut, pkt_teardown),
        cmocka_unit_test_teardown(undo_during_recovery_ends_it, pkt_teardown),
        cmocka_unit_test_teardown(later_retransmissions_do_not_count, pkt_teardown),
        cmocka_unit_test_teardown(every_retransmission_must_be_a_duplicate, pkt_teardown),
        cmocka_unit_test_teardown(spurious_timeout_is_undone, pkt_teardown),
        cmocka_unit_test_teardown(no_undo_without_sack, pkt_teardown),
        cmocka_unit_test_teardown(duplicated_dsack_ack_does_not_undo, pkt_teardown),
        cmocka_unit_test_teardown(duplicate_of_an_original_does_not_count, pkt_teardown),
        cmocka_unit_test_teardown(partial_dsack_does_not_undo, pkt_teardown),
        cmocka_unit_test_teardown(undone_timeout_stops_go_back_n, pkt_teardown),
        cmocka_unit_test_teardown(slow_start_after_rto_is_not_a_burst, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
