/* test_rst_5961.c — resets and the blind-attack defences of RFC 5961
 * (§3 RST, §4 SYN, §5 ACK, §7 challenge ACK limit), as RFC 9293 §3.10.7.4
 * orders them, and RST in every state that takes one. */
#include "common/pkt.h"

#include <errno.h>

/* RST exactly at RCV.NXT: the connection is reset (RFC 5961 §3.2 case 1). */
static void rst_at_rcv_nxt_resets(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t id = pkt_id(k), P = h->irs + 1;
    pkt_events(h, k);
    pkt_send(h, RST, P, 0, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "LISTEN > SYN-RECEIVED > ESTABLISHED > CLOSED");
    assert_true(pkt_events(h, k) & SYNACK_EV_ERROR);
    char b[4];
    assert_int_equal(synack_recv(k, b, sizeof(b)), -ECONNRESET);
    assert_int_equal(synack_send(k, "x", 1), -ECONNRESET);
    assert_int_equal(synack_sock_error(k), -ECONNRESET);
    assert_int_equal(pkt_counter(h, tcp_estab_resets), 1);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
}

/* RST in the window but not at RCV.NXT: challenge ACK, connection stays
 * (RFC 5961 §3.2 case 3). */
static void rst_in_window_gets_challenge_ack(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, RST, P + 1, 0, 0, NULL, 0, NULL);
    pkt_expect(h, ACK, S, P);
    pkt_expect_none(h);
    pkt_advance(h, 500); /* one challenge ACK per connection per 500 ms */
    pkt_send(h, RST | ACK, P + 60000, S, 0, NULL, 0, NULL);
    pkt_expect(h, ACK, S, P);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_int_equal(synack_sock_error(k), 0);
    assert_int_equal(pkt_counter(h, tcp_challenge_acks), 2);
    /* The real peer answers the challenge with an exact RST. */
    pkt_send(h, RST, P, 0, 0, NULL, 0, NULL);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ECONNRESET);
}

/* RST outside the window: dropped without a word (RFC 5961 §3.2 case 2). */
static void rst_outside_window_dropped(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t P = h->irs + 1;
    pkt_send(h, RST, P - 1, 0, 0, NULL, 0, NULL);
    pkt_send(h, RST, P + 1000000, 0, 0, NULL, 0, NULL);
    pkt_send(h, RST | ACK, P - 70000, h->iss + 1, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_int_equal(pkt_counter(h, tcp_rst_out_of_window), 3);
    assert_int_equal(pkt_counter(h, tcp_challenge_acks), 0);
}

/* SYN in a synchronized state: challenge ACK whatever its sequence number
 * (RFC 5961 §4.2); the connection stays. */
static void syn_in_established_gets_challenge_ack(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, P + 10, 0, 65535, NULL, 0, &o); /* in the window */
    pkt_expect(h, ACK, S, P);
    pkt_advance(h, 500); /* one challenge ACK per connection per 500 ms */
    pkt_send(h, SYN, P, 0, 65535, NULL, 0, &o);      /* at RCV.NXT */
    pkt_expect(h, ACK, S, P);
    pkt_send(h, SYN, P - 5000, 0, 65535, NULL, 0, &o); /* outside */
    pkt_expect(h, ACK, S, P);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_int_equal(pkt_counter(h, tcp_syn_challenge), 2);
    assert_int_equal(synack_sock_error(k), 0);
    /* A SYN,ACK too. */
    pkt_advance(h, 500);
    pkt_send(h, SYN | ACK, P + 10, S, 65535, NULL, 0, &o);
    pkt_expect(h, ACK, S, P);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
}

/* An ACK for data never sent, by a hundred bytes or by one: ACK back, drop
 * the segment and its data (RFC 9293 §3.10.7.4 fifth; RFC 5961 §5.2). */
static void ack_of_unsent_data_dropped(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    char b[4];
    const uint32_t beyond[] = {100, 1}; /* SND.MAX is S: nothing sent yet */
    for (int n = 0; n < 2; n++) {
        pkt_send(h, ACK | PSH, P, S + beyond[n], 65535, "zz", 2, NULL);
        pkt_expect(h, ACK, S, P);
        pkt_expect_none(h);
        assert_int_equal(synack_recv(k, b, sizeof(b)), -EAGAIN);
        assert_int_equal(pkt_counter(h, tcp_ack_unsent_data), n + 1);
    }
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.snd_una, S);
    assert_int_equal(i.snd_nxt, S);
    /* The same data with a sane ACK is taken. */
    pkt_send(h, ACK | PSH, P, S, 65535, "zz", 2, NULL);
    pkt_expect(h, ACK, S, P + 2);
    assert_int_equal(synack_recv(k, b, sizeof(b)), 2);
}

/* An ACK older than SND.UNA - MAX.SND.WND: ACK back and drop (RFC 5961 §5.2). */
static void ack_too_old_dropped(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S - 70000, 65535, "zz", 2, NULL);
    pkt_expect(h, ACK, S, P);
    pkt_expect_none(h);
    char b[4];
    assert_int_equal(synack_recv(k, b, sizeof(b)), -EAGAIN);
    assert_int_equal(pkt_counter(h, tcp_old_ack), 1);
    /* An old but acceptable ACK (a duplicate) does not drop the data. */
    pkt_send(h, ACK | PSH, P, S - 100, 65535, "zz", 2, NULL);
    pkt_expect(h, ACK, S, P + 2);
}

/* Data outside the window: ACK with where we are, drop (§3.10.7.4 first). */
static void segment_outside_window_acked(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P + 1000000, S, 65535, "far", 3, NULL);
    pkt_expect(h, ACK, S, P);
    pkt_send(h, ACK | PSH, P - 10, S, 65535, "old", 3, NULL); /* entirely old */
    pkt_expect(h, ACK, S, P);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_out_of_window), 2);
    assert_int_equal(synack_readable(k), 0);
    /* A segment without ACK in a synchronized state is dropped silently. */
    pkt_send(h, PSH, P, 0, 65535, "noack", 5, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_readable(k), 0);
}

/* One challenge ACK per connection per tcp_invalid_ratelimit (Linux's
 * per-socket limit): a burst of forged RSTs draws one answer. */
static void challenge_ack_rate_limited_per_connection(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, RST, P + 1, 0, 0, NULL, 0, NULL);
    pkt_expect(h, ACK, S, P);
    for (uint32_t i = 2; i < 10; i++) {
        pkt_advance(h, 50);
        pkt_send(h, i % 2 ? RST : SYN, P + i, 0, 0, NULL, 0, NULL);
    }
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_challenge_acks), 1);
    assert_int_equal(pkt_counter(h, tcp_challenge_ack_skipped), 8);
    pkt_advance(h, 100); /* 500 ms after the first */
    pkt_send(h, RST, P + 11, 0, 0, NULL, 0, NULL);
    pkt_expect(h, ACK, S, P);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
}

/* RFC 5961 §7, stack-wide: each second allows a random number of challenge
 * ACKs in [limit/2, 3 limit/2), not a fixed count an attacker could use to
 * tell whether a guessed connection exists (CVE-2016-5696). Eight
 * connections each draw one challenge per second against limit 4. */
static void challenge_ack_limit_is_random_per_second(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_challenge_ack_limit=4");
    synack_sock *l = pkt_listen(h, 80, 16);
    uint32_t S[8];
    for (int c = 0; c < 8; c++) {
        h->peer_port = (uint16_t)(40000 + c);
        pkt_passive_open(h, l);
        S[c] = h->iss + 1;
    }
    uint32_t P = h->irs + 1;
    int seen[8] = {0}, distinct = 0;
    uint64_t before = 0;
    for (int sec = 0; sec < 30; sec++) {
        pkt_advance(h, 1000);
        for (int c = 0; c < 8; c++) {
            h->peer_port = (uint16_t)(40000 + c);
            pkt_send(h, RST, P + 1, 0, 0, NULL, 0, NULL);
        }
        uint64_t sent = pkt_counter(h, tcp_challenge_acks) - before;
        before = pkt_counter(h, tcp_challenge_acks);
        assert_in_range(sent, 2, 5); /* [4/2, 3 x 4/2) */
        distinct += !seen[sent]++;
        pkt_drain(h);
    }
    assert_true(distinct >= 3); /* it varies */
    (void)S;
}

/* RST at RCV.NXT in each synchronized state. */
static void rst_in_close_wait(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t P = h->irs + 1;
    pkt_to_close_wait(h);
    pkt_send(h, RST, P + 1, 0, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ECONNRESET);
}

static void rst_in_fin_wait_1_and_2(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t P = h->irs + 1;
    pkt_to_fin_wait_1(h, k);
    pkt_send(h, RST, P, 0, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, pkt_id(k)),
                        "LISTEN > SYN-RECEIVED > ESTABLISHED > FIN-WAIT-1 > CLOSED");
    assert_int_equal(synack_sock_error(k), -ECONNRESET);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX); /* no FIN retransmission */

    h->peer_port = 40001;
    synack_sock *l2 = synack_socket(h->s);
    synack_bind(l2, 81);
    synack_listen(l2, 8);
    h->port = 81;
    k = pkt_passive_open(h, l2);
    pkt_to_fin_wait_2(h, k);
    assert_int_equal(synack_sock_state(k), SYNACK_FIN_WAIT_2);
    pkt_send(h, RST, P, 0, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ECONNRESET);
}

static void rst_in_closing_and_last_ack(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t P = h->irs + 1;
    pkt_to_closing(h, k);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSING);
    pkt_send(h, RST, P + 1, 0, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), 0); /* RFC 9293: just enter CLOSED */

    h->peer_port = 40001;
    synack_sock *l2 = synack_socket(h->s);
    synack_bind(l2, 81);
    synack_listen(l2, 8);
    h->port = 81;
    k = pkt_passive_open(h, l2);
    pkt_to_last_ack(h, k);
    assert_int_equal(synack_sock_state(k), SYNACK_LAST_ACK);
    pkt_send(h, RST, P + 1, 0, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), 0);
}

/* TIME-WAIT: a RST ends it by default; with tcp_rfc1337=1 it is ignored
 * (RFC 1337 TIME-WAIT assassination). */
static void rst_in_time_wait(void **state)
{
    for (int rfc1337 = 0; rfc1337 <= 1; rfc1337++) {
        pkt_h *h = pkt_new(rfc1337 ? "tcp_msl=1000 tcp_rfc1337=1" : "tcp_msl=1000");
        synack_sock *k = pkt_established(h);
        uint32_t P = h->irs + 1;
        pkt_to_time_wait_at_once(h, k);
        assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
        pkt_send(h, RST, P + 1, 0, 0, NULL, 0, NULL);
        pkt_expect_none(h);
        assert_int_equal(synack_sock_state(k), rfc1337 ? SYNACK_TIME_WAIT : SYNACK_CLOSED);
        assert_int_equal(pkt_counter(h, tcp_tw_kill_rst), rfc1337 ? 0 : 1);
        assert_int_equal(synack_sock_error(k), 0);
        pkt_free(h);
    }
    *state = NULL;
}

/* RST in an active SYN-RECEIVED (simultaneous open): connection refused. */
static void rst_in_active_syn_received(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
    h->port = pkt_peek_sport(h);
    uint32_t iss = pkt_expect(h, SYN, PKT_ANY, 0).seq;
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, NULL);
    pkt_expect(h, SYN | ACK, iss, 1001);
    pkt_send(h, RST, 1001, 0, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, pkt_id(k)), "CLOSED > SYN-SENT > SYN-RECEIVED > CLOSED");
    assert_int_equal(synack_sock_error(k), -ECONNREFUSED);
}

/* A new SYN in a passive SYN-RECEIVED (not the retransmitted one): back to
 * LISTEN, i.e. the child goes (RFC 9293 §3.10.7.4 fourth). */
static void other_syn_in_passive_syn_received(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, NULL);
    pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    uint32_t child = pkt_other_conn(h, pkt_id(l));
    pkt_send(h, SYN, 1005, 0, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, child), "LISTEN > SYN-RECEIVED > CLOSED");
    assert_int_equal(synack_sock_state(l), SYNACK_LISTEN);
}

/* An ACK in SYN-RECEIVED that does not acknowledge our SYN: RST seq=SEG.ACK
 * (§3.10.7.4 fifth), and the half-open connection stays. */
static void bad_ack_in_syn_received(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, NULL);
    uint32_t iss = pkt_expect(h, SYN | ACK, PKT_ANY, 1001).seq;
    pkt_send(h, ACK, 1001, iss + 7, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, iss + 7, 0);
    pkt_expect_none(h);
    pkt_send(h, ACK, 1001, iss, 65535, NULL, 0, NULL); /* acknowledges nothing */
    pkt_expect(h, RST, iss, 0);
    pkt_expect_none(h);
    assert_null(synack_accept(l, NULL));
    pkt_send(h, ACK, 1001, iss + 1, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_non_null(synack_accept(l, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(rst_at_rcv_nxt_resets, pkt_teardown),
        cmocka_unit_test_teardown(rst_in_window_gets_challenge_ack, pkt_teardown),
        cmocka_unit_test_teardown(rst_outside_window_dropped, pkt_teardown),
        cmocka_unit_test_teardown(syn_in_established_gets_challenge_ack, pkt_teardown),
        cmocka_unit_test_teardown(ack_of_unsent_data_dropped, pkt_teardown),
        cmocka_unit_test_teardown(ack_too_old_dropped, pkt_teardown),
        cmocka_unit_test_teardown(segment_outside_window_acked, pkt_teardown),
        cmocka_unit_test_teardown(challenge_ack_rate_limited_per_connection, pkt_teardown),
        cmocka_unit_test_teardown(challenge_ack_limit_is_random_per_second, pkt_teardown),
        cmocka_unit_test_teardown(rst_in_close_wait, pkt_teardown),
        cmocka_unit_test_teardown(rst_in_fin_wait_1_and_2, pkt_teardown),
        cmocka_unit_test_teardown(rst_in_closing_and_last_ack, pkt_teardown),
        cmocka_unit_test_teardown(rst_in_time_wait, pkt_teardown),
        cmocka_unit_test_teardown(rst_in_active_syn_received, pkt_teardown),
        cmocka_unit_test_teardown(other_syn_in_passive_syn_received, pkt_teardown),
        cmocka_unit_test_teardown(bad_ack_in_syn_received, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
