/* test_close.c — closing (RFC 9293 §3.10.4 CLOSE, §3.6, the FIN branches of
 * §3.10.7.4, TIME-WAIT and the orphaned FIN-WAIT-2 limit). */
#include "common/pkt.h"

#include <errno.h>

/* Every test here: MSL 1 s (TIME-WAIT 2 s), orphaned FIN-WAIT-2 for 3 s,
 * and a 1 s RTO floor so retransmission times are round. */
#define KNOBS "tcp_msl=1000 tcp_fin_timeout=3 tcp_rto_min_ms=1000"

/* ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT → CLOSED after exactly 2 MSL. */
static void active_close(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), S = h->iss + 1, P = h->irs + 1;

    assert_int_equal(synack_shutdown(k, SYNACK_SHUT_WR), 0);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_1);
    assert_int_equal(synack_send(k, "x", 1), -EPIPE);

    pkt_send(h, ACK, P, S + 1, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_2);
    /* Not orphaned: FIN-WAIT-2 waits for the peer as long as it takes. */
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
    pkt_advance(h, 10000);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_2);

    pkt_send(h, FIN | ACK, P, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 1);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    char b[4];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 0);
    assert_int_equal(pkt_counter(h, tcp_time_waited), 1);

    pkt_advance(h, 1999);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    pkt_advance(h, 1);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_string_equal(pkt_last_cause(h, id), "2MSL timeout");
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "LISTEN > SYN-RECEIVED > ESTABLISHED > FIN-WAIT-1 > "
                                            "FIN-WAIT-2 > TIME-WAIT > CLOSED");
    assert_int_equal(synack_sock_error(k), 0);
    synack_close(k);
    pkt_expect_none(h);
}

/* The same after close(): the stack finishes on its own. */
static void active_close_orphaned(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), S = h->iss + 1, P = h->irs + 1;
    synack_close(k);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_send(h, ACK, P, S + 1, 65535, NULL, 0, NULL);
    pkt_send(h, FIN | ACK, P, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 1);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "LISTEN > SYN-RECEIVED > ESTABLISHED > FIN-WAIT-1 > "
                                            "FIN-WAIT-2 > TIME-WAIT");
    pkt_advance(h, 2000);
    assert_string_equal(pkt_last_cause(h, id), "2MSL timeout");
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
    /* The port is free again: a segment for the old connection meets the listener. */
    pkt_send(h, ACK, P + 1, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, S + 1, 0);
}

/* FIN-WAIT-1 → CLOSING → TIME-WAIT: both FINs cross (§3.6 figure 13). */
static void simultaneous_close(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_to_closing(h, k); /* the peer's FIN does not yet acknowledge ours */
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSING);
    pkt_send(h, ACK, P + 1, S + 1, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    assert_string_equal(pkt_history(h, pkt_id(k)), "LISTEN > SYN-RECEIVED > ESTABLISHED > "
                                                   "FIN-WAIT-1 > CLOSING > TIME-WAIT");
    pkt_advance(h, 1999);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    pkt_advance(h, 1);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
}

/* In CLOSING our FIN is retransmitted until the peer acknowledges it. */
static void closing_retransmits_fin(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_to_closing(h, k);
    pkt_advance(h, 1000);
    pkt_expect(h, FIN | ACK, S, P + 1);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSING);
}

/* FIN-WAIT-1 receiving FIN+ACK of our FIN goes straight to TIME-WAIT. */
static void fin_wait_1_fin_ack_to_time_wait(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    pkt_to_time_wait_at_once(h, k);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, pkt_id(k)), "LISTEN > SYN-RECEIVED > ESTABLISHED > "
                                                   "FIN-WAIT-1 > TIME-WAIT");
}

/* ESTABLISHED → CLOSE-WAIT → LAST-ACK → CLOSED; recv sees EOF. */
static void passive_close(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), S = h->iss + 1, P = h->irs + 1;
    pkt_events(h, k);
    pkt_to_close_wait(h);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSE_WAIT);
    assert_true(pkt_events(h, k) & SYNACK_EV_READABLE);
    char b[8];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 0);
    assert_int_equal(synack_recv(k, b, sizeof(b)), 0);
    /* We may still send in CLOSE-WAIT. */
    assert_int_equal(synack_send(k, "bye", 3), 3);
    pkt_expect(h, ACK | PSH, S, P + 1);
    pkt_send(h, ACK, P + 1, S + 3, 65535, NULL, 0, NULL);
    pkt_expect_none(h);

    synack_close(k);
    pkt_expect(h, FIN | ACK, S + 3, P + 1);
    pkt_expect_none(h);
    pkt_send(h, ACK, P + 1, S + 4, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "LISTEN > SYN-RECEIVED > ESTABLISHED > CLOSE-WAIT > "
                                            "LAST-ACK > CLOSED");
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
    pkt_send(h, ACK, P + 1, S + 4, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, S + 4, 0); /* gone: the listener answers */
}

/* LAST-ACK retransmits its FIN on RTO. */
static void last_ack_retransmits_fin(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_to_last_ack(h, k);
    assert_int_equal(synack_sock_state(k), SYNACK_LAST_ACK);
    pkt_advance(h, 999);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, FIN | ACK, S, P + 1);
    pkt_send(h, ACK, P + 1, S + 1, 65535, NULL, 0, NULL);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), 0);
}

/* shutdown(SHUT_WR): our side is done, theirs keeps talking. */
static void half_close_keeps_receiving(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_to_fin_wait_1(h, k);
    /* Data that does not yet acknowledge the FIN. */
    pkt_send(h, ACK | PSH, P, S, 65535, "abc", 3, NULL);
    pkt_expect(h, ACK, S + 1, P + 3);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_1);
    pkt_send(h, ACK | PSH, P + 3, S + 1, 65535, "defg", 4, NULL);
    pkt_expect(h, ACK, S + 1, P + 7);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_2);
    pkt_send(h, ACK | PSH, P + 7, S + 1, 65535, "hi", 2, NULL);
    pkt_expect(h, ACK, S + 1, P + 9);
    char b[16];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 9);
    assert_memory_equal(b, "abcdefghi", 9);
    assert_int_equal(synack_recv(k, b, sizeof(b)), -EAGAIN);
    pkt_expect_none(h); /* reading 9 bytes of a 64 KiB window announces nothing */
    pkt_send(h, FIN | ACK, P + 9, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 10);
    assert_int_equal(synack_recv(k, b, sizeof(b)), 0);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
}

/* TIME-WAIT re-ACKs a retransmitted FIN and restarts its 2MSL timer. */
static void time_wait_reacks_fin(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_to_time_wait_at_once(h, k);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    pkt_advance(h, 1500);
    pkt_send(h, FIN | ACK, P, S + 1, 65535, NULL, 0, NULL); /* our ACK was lost */
    pkt_expect(h, ACK, S + 1, P + 1);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_tw_fin_reacked), 1);
    pkt_advance(h, 1999); /* 3.5 s after entering: the first timer would have fired */
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    pkt_advance(h, 1);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    pkt_expect_none(h);
}

/* An orphaned FIN-WAIT-2 is closed after tcp_fin_timeout. */
static void orphan_fin_wait_2_times_out(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), S = h->iss + 1, P = h->irs + 1;
    synack_close(k);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_send(h, ACK, P, S + 1, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "LISTEN > SYN-RECEIVED > ESTABLISHED > FIN-WAIT-1 > "
                                            "FIN-WAIT-2");
    pkt_advance(h, 2999);
    assert_string_equal(pkt_last_cause(h, id), "rcv ACK of FIN");
    pkt_advance(h, 1);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "LISTEN > SYN-RECEIVED > ESTABLISHED > FIN-WAIT-1 > "
                                            "FIN-WAIT-2 > CLOSED");
    assert_string_equal(pkt_last_cause(h, id), "tcp_fin_timeout");
    assert_int_equal(pkt_counter(h, tcp_fin_timeouts), 1);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
}

/* close() when already in FIN-WAIT-2 (after shutdown) starts the same limit. */
static void close_in_fin_wait_2_starts_timeout(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k);
    pkt_to_fin_wait_2(h, k);
    pkt_advance(h, 5000);
    synack_close(k);
    pkt_expect_none(h);
    pkt_advance(h, 2999);
    assert_string_equal(pkt_last_cause(h, id), "rcv ACK of FIN");
    pkt_advance(h, 1);
    assert_string_equal(pkt_last_cause(h, id), "tcp_fin_timeout");
}

/* Data arriving for an orphan nobody will read: RST (Linux's behaviour). */
static void data_after_close_resets(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), S = h->iss + 1, P = h->irs + 1;
    synack_close(k);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_send(h, ACK | PSH, P, S + 1, 65535, "late", 4, NULL);
    pkt_expect(h, RST | ACK, S + 1, P);
    pkt_expect_none(h);
    assert_string_equal(pkt_last_cause(h, id), "data after close");
    assert_int_equal(pkt_counter(h, tcp_abort_on_data), 1);
}

/* close() with unread data: RST instead of FIN (RFC 2525 §2.17). */
static void close_with_unread_data_resets(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S, 65535, "unread", 6, NULL);
    pkt_expect(h, ACK, S, P + 6);
    synack_close(k);
    pkt_expect(h, RST | ACK, S, P + 6);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "LISTEN > SYN-RECEIVED > ESTABLISHED > CLOSED");
    assert_int_equal(pkt_counter(h, tcp_abort_on_close), 1);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
    pkt_send(h, ACK, P + 6, S, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, S, 0);
}

/* abort(): RST and nothing left (§3.10.5). */
static void abort_resets_and_frees(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, "queued", 6), 6);
    pkt_expect(h, ACK | PSH, S, P);
    synack_abort(k);
    pkt_expect(h, RST | ACK, S + 6, P);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "LISTEN > SYN-RECEIVED > ESTABLISHED > CLOSED");
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX); /* no retransmission */
    pkt_advance(h, 5000);
    pkt_expect_none(h);
}

/* The FIN is retransmitted on RTO with backoff, like data. */
static void fin_retransmitted_on_rto(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_to_fin_wait_1(h, k);
    pkt_advance(h, 999);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_expect_none(h);
    pkt_advance(h, 1999);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_retrans_segs), 2);
    pkt_send(h, ACK, P, S + 1, 65535, NULL, 0, NULL);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_2);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
}

/* Data queued before close goes first; the FIN rides on the last segment. */
static void fin_follows_queued_data(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 0, NULL, 0, NULL); /* the peer's window closes */
    assert_int_equal(synack_send(k, "tail", 4), 4);
    pkt_expect_none(h);
    synack_shutdown(k, SYNACK_SHUT_WR);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_1);
    pkt_send(h, ACK, P, S, 65535, NULL, 0, NULL); /* and reopens */
    wire_tcp d = pkt_expect(h, FIN | PSH | ACK, S, P);
    assert_int_equal(d.payload_len, 4);
    assert_memory_equal(d.payload, "tail", 4);
    pkt_send(h, ACK, P, S + 5, 65535, NULL, 0, NULL);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_2);
}

/* A FIN-bearing segment with data: the data is delivered, then EOF. */
static void fin_with_data(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, FIN | PSH | ACK, P, S, 65535, "last", 4, NULL);
    pkt_expect(h, ACK, S, P + 5);
    pkt_expect_none(h);
    char b[8];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 4);
    assert_memory_equal(b, "last", 4);
    assert_int_equal(synack_recv(k, b, sizeof(b)), 0);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSE_WAIT);
}

/* shutdown(SHUT_WR) in SYN-RECEIVED (simultaneous open): the FIN waits for
 * the handshake to complete, then goes out. */
static void shutdown_in_syn_received(void **state)
{
    pkt_h *h = *state = pkt_new(KNOBS);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
    h->port = pkt_peek_sport(h);
    uint32_t S = pkt_expect(h, SYN, PKT_ANY, 0).seq + 1, P = 1001;
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, NULL);
    pkt_expect(h, SYN | ACK, S - 1, P);
    assert_int_equal(synack_shutdown(k, SYNACK_SHUT_WR), 0);
    pkt_expect_none(h);
    pkt_send(h, ACK, P, S, 65535, NULL, 0, NULL);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, pkt_id(k)), "CLOSED > SYN-SENT > SYN-RECEIVED > "
                                                   "ESTABLISHED > FIN-WAIT-1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(active_close, pkt_teardown),
        cmocka_unit_test_teardown(active_close_orphaned, pkt_teardown),
        cmocka_unit_test_teardown(simultaneous_close, pkt_teardown),
        cmocka_unit_test_teardown(closing_retransmits_fin, pkt_teardown),
        cmocka_unit_test_teardown(fin_wait_1_fin_ack_to_time_wait, pkt_teardown),
        cmocka_unit_test_teardown(passive_close, pkt_teardown),
        cmocka_unit_test_teardown(last_ack_retransmits_fin, pkt_teardown),
        cmocka_unit_test_teardown(half_close_keeps_receiving, pkt_teardown),
        cmocka_unit_test_teardown(time_wait_reacks_fin, pkt_teardown),
        cmocka_unit_test_teardown(orphan_fin_wait_2_times_out, pkt_teardown),
        cmocka_unit_test_teardown(close_in_fin_wait_2_starts_timeout, pkt_teardown),
        cmocka_unit_test_teardown(data_after_close_resets, pkt_teardown),
        cmocka_unit_test_teardown(close_with_unread_data_resets, pkt_teardown),
        cmocka_unit_test_teardown(abort_resets_and_frees, pkt_teardown),
        cmocka_unit_test_teardown(fin_retransmitted_on_rto, pkt_teardown),
        cmocka_unit_test_teardown(fin_follows_queued_data, pkt_teardown),
        cmocka_unit_test_teardown(fin_with_data, pkt_teardown),
        cmocka_unit_test_teardown(shutdown_in_syn_received, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
