/* test_timers.c — retransmission timeout (RFC 6298: initial 1 s, sampling,
 * backoff, Karn), giving up (tcp_retries2), fast retransmit (RFC 5681
 * §3.2) and zero-window probing (RFC 9293 §3.8.6.1). */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

/* Expect nothing for `ms` - 1, then exactly one retransmission of `seq`. */
#define expect_rexmit_after(h, ms, flags, seq, ack, len)                      \
    do {                                                                      \
        pkt_advance((h), (ms) - 1);                                           \
        pkt_expect_none(h);                                                   \
        pkt_advance((h), 1);                                                  \
        assert_int_equal(pkt_expect((h), (flags), (seq), (ack)).payload_len, (len)); \
        pkt_expect_none(h);                                                   \
    } while (0)

/* RTO doubles on each timeout (RFC 6298 §5.5); Karn: the ACK of a
 * retransmitted segment gives no RTT sample, but ends the backoff. */
static void rto_backoff_and_karn(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    synack_tcp_info i;
    synack_info(k, &i);
    uint32_t rtt0 = i.rtt_us;
    assert_int_equal(i.rto_ms, 1000);

    assert_int_equal(synack_send(k, "data", 4), 4);
    pkt_expect(h, ACK | PSH, S, P);
    expect_rexmit_after(h, 1000, ACK | PSH, S, P, 4);
    expect_rexmit_after(h, 2000, ACK | PSH, S, P, 4);
    expect_rexmit_after(h, 4000, ACK | PSH, S, P, 4);
    synack_info(k, &i);
    assert_int_equal(i.backoff, 3);
    assert_int_equal(i.rto_ms, 8000);
    assert_int_equal(pkt_counter(h, tcp_timeouts), 3);
    assert_int_equal(pkt_counter(h, tcp_retrans_segs), 3);

    pkt_advance(h, 500);
    pkt_send(h, ACK, P, S + 4, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    synack_info(k, &i);
    assert_int_equal(i.rtt_us, rtt0); /* 7.5 s is not a sample: ambiguous */
    assert_int_equal(i.backoff, 0);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);

    /* Fresh data times out after the base RTO again. */
    assert_int_equal(synack_send(k, "more", 4), 4);
    pkt_expect(h, ACK | PSH, S + 4, P);
    expect_rexmit_after(h, 1000, ACK | PSH, S + 4, P, 4);
}

/* Without any RTT sample the RTO is 1 s (RFC 6298 §2.1), even above the
 * 200 ms floor. The SYN was retransmitted, so the handshake gave no sample. */
static void initial_rto_is_one_second(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
    h->port = pkt_peek_sport(h);
    uint32_t S = pkt_expect(h, SYN, PKT_ANY, 0).seq + 1, P = 1001;
    expect_rexmit_after(h, 1000, SYN, S - 1, 0, 0);
    pkt_send(h, SYN | ACK, 1000, S, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S, P);
    assert_int_equal(synack_send(k, "x", 1), 1);
    pkt_expect(h, ACK | PSH, S, P);
    expect_rexmit_after(h, 1000, ACK | PSH, S, P, 1);
}

/* connect() whose SYN,ACK comes back after `ms`: the first RTT sample.
 * Sets *S and *P to our and the peer's next seq. */
static synack_sock *connect_rtt(pkt_h *h, uint64_t ms, uint32_t *S, uint32_t *P)
{
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
    h->port = pkt_peek_sport(h);
    *S = pkt_expect(h, SYN, PKT_ANY, 0).seq + 1;
    *P = 1001;
    pkt_advance(h, ms);
    pkt_send(h, SYN | ACK, 1000, *S, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, *S, *P);
    return k;
}

/* A measured RTT sets the RTO: SRTT + 4 RTTVAR (RFC 6298 §2.2). */
static void rto_from_measured_rtt(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint32_t S, P;
    synack_sock *k = connect_rtt(h, 100, &S, &P);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.rtt_us, 100000);
    assert_int_equal(i.rttvar_us, 50000);
    assert_int_equal(i.rto_ms, 300);
    assert_int_equal(synack_send(k, "x", 1), 1);
    pkt_expect(h, ACK | PSH, S, P);
    expect_rexmit_after(h, 300, ACK | PSH, S, P, 1);
    expect_rexmit_after(h, 600, ACK | PSH, S, P, 1);
}

/* Later samples move SRTT by 1/8 and RTTVAR by 1/4 of the difference
 * (RFC 6298 §2.3), and a sample ends with the ACK that covers the timed
 * segment (§3), not with an ACK of part of it (here after 50 ms). After
 * 100 ms then 200 ms, SRTT = 112.5 ms, RTTVAR = (3 x 50 + 100) / 4 =
 * 62.5 ms, so the next segment is resent after 112.5 + 4 x 62.5 = 362.5 ms,
 * rounded up. */
static void rto_follows_later_samples(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    uint32_t S, P;
    synack_sock *k = connect_rtt(h, 100, &S, &P);
    assert_int_equal(synack_send(k, "0123456789", 10), 10);
    pkt_expect(h, ACK | PSH, S, P);
    pkt_advance(h, 50);
    pkt_send(h, ACK, P, S + 5, 65535, NULL, 0, NULL);
    pkt_advance(h, 150);
    pkt_send(h, ACK, P, S + 10, 65535, NULL, 0, NULL);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.rtt_us, 112500);
    assert_int_equal(i.rttvar_us, 62500);
    assert_int_equal(synack_send(k, "y", 1), 1);
    pkt_expect(h, ACK | PSH, S + 10, P);
    expect_rexmit_after(h, 363, ACK | PSH, S + 10, P, 1);
}

/* The RTO never goes below tcp_rto_min_ms (Linux's 200 ms by default):
 * not with an RTT of ~0, nor with a 50 ms one, whose SRTT + 4 RTTVAR is
 * 150 ms. */
static void rto_floor(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h); /* handshake RTT ~0 */
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, "x", 1), 1);
    pkt_expect(h, ACK | PSH, S, P);
    expect_rexmit_after(h, 200, ACK | PSH, S, P, 1);
    h->peer_port++;
    k = connect_rtt(h, 50, &S, &P);
    assert_int_equal(synack_send(k, "x", 1), 1);
    pkt_expect(h, ACK | PSH, S, P);
    expect_rexmit_after(h, 200, ACK | PSH, S, P, 1);
}

/* tcp_retries2 timeouts in a row: the connection dies with ETIMEDOUT,
 * without a RST. */
static void retries_exhausted(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000 tcp_retries2=2");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, "data", 4), 4);
    pkt_expect(h, ACK | PSH, S, P);
    expect_rexmit_after(h, 1000, ACK | PSH, S, P, 4);
    expect_rexmit_after(h, 2000, ACK | PSH, S, P, 4);
    pkt_advance(h, 3999);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    pkt_advance(h, 1);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_true(pkt_events(h, k) & SYNACK_EV_ERROR);
    assert_int_equal(synack_send(k, "x", 1), -ETIMEDOUT);
    assert_int_equal(pkt_counter(h, tcp_abort_on_timeout), 1);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
}

/* Only the first unacknowledged segment is resent on a timeout; the rest
 * follow as ACKs come back (RFC 5681 §3.1, slow start from one segment). */
static void timeout_resends_one_segment(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t data[3000];
    memset(data, 'q', sizeof(data));
    assert_int_equal(synack_send(k, data, sizeof(data)), 3000);
    pkt_expect(h, ACK, S, P);
    pkt_expect(h, ACK, S + 1460, P);
    pkt_expect(h, ACK | PSH, S + 2920, P);
    expect_rexmit_after(h, 1000, ACK, S, P, 1460);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.cwnd, 1460);
    /* Slow start: one segment acknowledged, cwnd grows to two. */
    pkt_send(h, ACK, P, S + 1460, 65535, NULL, 0, NULL);
    assert_int_equal(pkt_expect(h, ACK, S + 1460, P).payload_len, 1460);
    assert_int_equal(pkt_expect(h, ACK | PSH, S + 2920, P).payload_len, 80);
    pkt_expect_none(h);
    synack_info(k, &i);
    assert_int_equal(i.cwnd, 2920);
}

/* Three duplicate ACKs: fast retransmit of the first unacknowledged segment. */
static void fast_retransmit(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t data[5 * 1460];
    memset(data, 'f', sizeof(data));
    assert_int_equal(synack_send(k, data, sizeof(data)), (ssize_t)sizeof(data));
    for (int i = 0; i < 5; i++)
        pkt_expect(h, i == 4 ? ACK | PSH : ACK, S + 1460u * i, P);
    pkt_send(h, ACK, P, S + 1460, 65535, NULL, 0, NULL); /* first arrives */
    pkt_send(h, ACK, P, S + 1460, 65535, NULL, 0, NULL); /* dup 1 */
    pkt_send(h, ACK, P, S + 1460, 65535, NULL, 0, NULL); /* dup 2 */
    pkt_expect_none(h);
    pkt_send(h, ACK, P, S + 1460, 65535, NULL, 0, NULL); /* dup 3 */
    assert_int_equal(pkt_expect(h, ACK, S + 1460, P).payload_len, 1460);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_fast_retrans), 1);
    pkt_send(h, ACK, P, S + 5 * 1460, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
}

/* Zero window: nothing is sent; probes go out at RTO intervals with
 * backoff; a peer answering them keeps the connection alive however long
 * (RFC 1122 §4.2.2.17); the window update releases the data. */
static void zero_window_persist(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000 tcp_retries2=2");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_send(k, "abc", 3), 3);
    pkt_expect_none(h);
    uint32_t gap = 1000;
    for (int probe = 0; probe < 5; probe++, gap *= 2) {
        pkt_advance(h, gap - 1);
        pkt_expect_none(h);
        pkt_advance(h, 1);
        wire_tcp p = pkt_expect(h, ACK, S, P);
        assert_int_equal(p.payload_len, 1);
        assert_int_equal(p.payload[0], 'a');
        pkt_expect_none(h);
        pkt_send(h, ACK, P, S, 0, NULL, 0, NULL); /* still closed */
        pkt_expect_none(h);
        assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    }
    pkt_advance(h, 100);
    pkt_send(h, ACK, P, S, 65535, NULL, 0, NULL); /* the window opens */
    wire_tcp d = pkt_expect(h, ACK | PSH, S, P);
    assert_int_equal(d.payload_len, 3);
    assert_memory_equal(d.payload, "abc", 3);
    pkt_expect_none(h);
    pkt_send(h, ACK, P, S + 3, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_int_equal(synack_sock_error(k), 0);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
}

/* The peer takes the probe byte: the rest follows when the window opens. */
static void zero_window_probe_accepted(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    assert_int_equal(synack_send(k, "abc", 3), 3);
    pkt_advance(h, 1000);
    assert_int_equal(pkt_expect(h, ACK, S, P).payload_len, 1);
    pkt_send(h, ACK, P, S + 1, 0, NULL, 0, NULL); /* took it, closed again */
    pkt_expect_none(h);
    pkt_send(h, ACK, P, S + 1, 100, NULL, 0, NULL);
    wire_tcp d = pkt_expect(h, ACK | PSH, S + 1, P);
    assert_int_equal(d.payload_len, 2);
    assert_memory_equal(d.payload, "bc", 2);
    (void)k;
}

/* Probes nobody answers are retransmissions like any other: after
 * tcp_retries2 of them the connection gives up. */
static void zero_window_unanswered_probes_give_up(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000 tcp_retries2=2");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    assert_int_equal(synack_send(k, "abc", 3), 3);
    expect_rexmit_after(h, 1000, ACK, S, P, 1);
    expect_rexmit_after(h, 2000, ACK, S, P, 1);
    expect_rexmit_after(h, 4000, ACK, S, P, 1);
    pkt_advance(h, 7999);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    pkt_advance(h, 1);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ETIMEDOUT);
}

/* An orphan (the application closed it) stuck behind a window its peer
 * keeps closed does not live forever: its probes count even when answered,
 * and after tcp_orphan_retries of them (0: 8, as Linux) it is reset. A
 * connection the application still holds keeps probing (above). */
static void orphan_behind_zero_window_gives_up(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000 tcp_rto_max_ms=4000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    assert_int_equal(synack_send(k, "abc", 3), 3);
    uint32_t id = pkt_id(k);
    synack_close(k);
    int probes = 0;
    for (int i = 0; i < 60 && !strstr(pkt_history(h, id), "> CLOSED"); i++) {
        pkt_advance(h, 1000);
        while (pkt_pending(h)) {
            assert_int_equal(pkt_expect(h, PKT_ANY_FLAGS, S, P).payload_len, 1);
            probes++;
            pkt_send(h, ACK, P, S, 0, NULL, 0, NULL); /* still closed */
        }
    }
    assert_int_equal(probes, 8);
    assert_string_equal(pkt_last_cause(h, id), "retransmissions exhausted");
    assert_int_equal(pkt_counter(h, tcp_abort_on_timeout), 1);
}

/* A FIN alone meeting a closed window is retransmitted on the RTO like any
 * segment, not re-sent on every zero-window ACK. */
static void fin_into_zero_window(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    pkt_to_fin_wait_1(h, k);
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL); /* not taken */
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    expect_rexmit_after(h, 1000, FIN | ACK, S, P, 0);
    pkt_send(h, ACK, P, S + 1, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(rto_backoff_and_karn, pkt_teardown),
        cmocka_unit_test_teardown(initial_rto_is_one_second, pkt_teardown),
        cmocka_unit_test_teardown(rto_from_measured_rtt, pkt_teardown),
        cmocka_unit_test_teardown(rto_follows_later_samples, pkt_teardown),
        cmocka_unit_test_teardown(rto_floor, pkt_teardown),
        cmocka_unit_test_teardown(retries_exhausted, pkt_teardown),
        cmocka_unit_test_teardown(timeout_resends_one_segment, pkt_teardown),
        cmocka_unit_test_teardown(fast_retransmit, pkt_teardown),
        cmocka_unit_test_teardown(zero_window_persist, pkt_teardown),
        cmocka_unit_test_teardown(zero_window_probe_accepted, pkt_teardown),
        cmocka_unit_test_teardown(zero_window_unanswered_probes_give_up, pkt_teardown),
        cmocka_unit_test_teardown(orphan_behind_zero_window_gives_up, pkt_teardown),
        cmocka_unit_test_teardown(fin_into_zero_window, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
