/*
 * test_burst.c — frames handed over together (synack_input_burst), as a
 * device read that finds many waiting does: a connection's in-order data
 * earns one ACK at the burst's end, at least one per 64 KiB, as Linux's ACK
 * for a GRO-merged run of segments; everything that must not wait (a
 * duplicate ACK, a filled hole, a young connection's quick ACKs, a FIN)
 * still goes at once.
 */
#include "common/pkt.h"

#include <string.h>

#define DELACK "tcp_delack_ms=40 tcp_max_quickacks=0"
#define MSS 1460

static uint8_t full[MSS];

/* `n` full segments from P + first * MSS on. */
static void send_segments(pkt_h *h, uint32_t P, uint32_t S, unsigned first, unsigned n)
{
    memset(full, 'x', sizeof(full));
    for (unsigned i = first; i < first + n; i++)
        pkt_send(h, ACK, P + i * MSS, S, PKT_PEER_WND, full, MSS, NULL);
}

/* Ten full segments in one burst: one ACK, for all of them, at the end
 * (one at a time they would earn five). */
static void burst_in_order_acked_once(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_burst_begin(h);
    send_segments(h, P, S, 0, 10);
    pkt_burst_end(h);
    pkt_expect(h, ACK, S, P + 10 * MSS);
    pkt_expect_none(h);
    pkt_advance(h, 100);
    pkt_expect_none(h); /* nothing left for the delayed-ACK timer */
}

/* A burst longer than 64 KiB is acknowledged as it passes 64 KiB, and the
 * rest at the end: the peer's window never waits on a whole burst. */
static void burst_acked_every_64k(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_burst_begin(h);
    send_segments(h, P, S, 0, 50);
    pkt_burst_end(h);
    unsigned at_64k = (65536 + MSS - 1) / MSS; /* 45 segments */
    pkt_expect(h, ACK, S, P + at_64k * MSS);
    pkt_expect(h, ACK, S, P + 50 * MSS);
    pkt_expect_none(h);
}

/* Out of order inside a burst: the duplicate ACK goes at once (RFC 5681
 * §4.2) and so does the ACK of the segment that fills the hole; the burst
 * owes nothing after them. */
static void burst_out_of_order_acked_at_once(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_burst_begin(h);
    send_segments(h, P, S, 0, 2);
    send_segments(h, P, S, 3, 1); /* segment 2 missing */
    send_segments(h, P, S, 2, 1); /* and here it is */
    pkt_burst_end(h);
    pkt_expect(h, ACK, S, P + 2 * MSS); /* the duplicate ACK, with SACK */
    pkt_expect(h, ACK, S, P + 4 * MSS); /* the hole filled */
    pkt_expect_none(h);
}

/* A young connection's quick ACKs are not held for the burst: the peer's
 * slow start grows by the ACKs it gets. */
static void burst_keeps_quick_acks(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_delack_ms=40 tcp_max_quickacks=16");
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_burst_begin(h);
    send_segments(h, P, S, 0, 3);
    pkt_burst_end(h);
    pkt_expect(h, ACK, S, P + 1 * MSS);
    pkt_expect(h, ACK, S, P + 2 * MSS);
    pkt_expect(h, ACK, S, P + 3 * MSS);
    pkt_expect_none(h);
}

/* Data and then a reset in one burst: the connection is gone at the end,
 * and no ACK is sent for it. */
static void burst_then_reset_sends_nothing(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_burst_begin(h);
    send_segments(h, P, S, 0, 4);
    pkt_send(h, RST, P + 4 * MSS, 0, 0, NULL, 0, NULL);
    pkt_burst_end(h);
    pkt_expect_none(h);
    pkt_advance(h, 100);
    pkt_expect_none(h);
}

/* A FIN at the end of a burst is acknowledged at once, with the data. */
static void burst_ending_in_fin_acked(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_burst_begin(h);
    send_segments(h, P, S, 0, 3);
    pkt_send(h, ACK | FIN, P + 3 * MSS, S, PKT_PEER_WND, NULL, 0, NULL);
    pkt_burst_end(h);
    pkt_expect(h, ACK, S, P + 3 * MSS + 1);
    pkt_expect_none(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(burst_in_order_acked_once, pkt_teardown),
        cmocka_unit_test_teardown(burst_acked_every_64k, pkt_teardown),
        cmocka_unit_test_teardown(burst_out_of_order_acked_at_once, pkt_teardown),
        cmocka_unit_test_teardown(burst_keeps_quick_acks, pkt_teardown),
        cmocka_unit_test_teardown(burst_then_reset_sends_nothing, pkt_teardown),
        cmocka_unit_test_teardown(burst_ending_in_fin_acked, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
