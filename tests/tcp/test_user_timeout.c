/* test_user_timeout.c — per-socket knobs that reach into the timers and the
 * congestion control: TCP_USER_TIMEOUT (Linux's semantics: time, not
 * tcp_retries2 or TCP_KEEPCNT, decides when an unanswered peer is given
 * up), TCP_CONGESTION by name, and SO_RCVBUF/SO_SNDBUF on a connection. */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

/* Unacknowledged data: retransmissions back off as usual, but the one
 * that would run past the user timeout is cut short to end there, with
 * ETIMEDOUT and no reset (as Linux's tcp_write_err). */
static void data_unacknowledged_past_the_user_timeout(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000 tcp_retries2=15");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_USER_TIMEOUT, 2500), 0);
    int v = 0;
    assert_int_equal(synack_getopt(k, SYNACK_TCP_USER_TIMEOUT, &v), 0);
    assert_int_equal(v, 2500);
    assert_int_equal(synack_send(k, "data", 4), 4);
    pkt_expect(h, ACK | PSH, S, P);
    pkt_advance(h, 1000);
    assert_int_equal(pkt_expect(h, ACK | PSH, S, P).payload_len, 4);
    pkt_advance(h, 1499); /* the next RTO (2 s) would come at 3000 */
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    pkt_advance(h, 1);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ETIMEDOUT);
    assert_string_equal(pkt_last_cause(h, pkt_id(k)), "TCP_USER_TIMEOUT expired");
    assert_int_equal(pkt_counter(h, tcp_abort_on_timeout), 1);
}

/* With SACK a loss probe may come before the RTO (two segments out: after
 * 2 SRTT) or in its place (one segment). Neither carries the connection
 * past the user timeout: the RTO after a probe ends there too, and a probe
 * due then is not sent. */
static void loss_probe_ends_at_the_user_timeout(int segs)
{
    pkt_h *h = pkt_new(NULL);
    synack_sock *k = pkt_sack_flight(h, 0, 1000, 40);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_USER_TIMEOUT, 150), 0);
    static uint8_t data[2000];
    assert_int_equal(synack_send(k, data, (size_t)segs * 1000), segs * 1000);
    pkt_drain(h);
    pkt_advance(h, 149);
    pkt_drain(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    pkt_advance(h, 1);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ETIMEDOUT);
    assert_int_equal(pkt_counter(h, tcp_loss_probes), segs == 2 ? 1 : 0);
    pkt_free(h);
}

static void loss_probes_end_at_the_user_timeout(void **state)
{
    (void)state;
    loss_probe_ends_at_the_user_timeout(1);
    loss_probe_ends_at_the_user_timeout(2);
}

/* An ACK that moves SND.UNA is progress: the user timeout starts over. */
static void progress_restarts_the_user_timeout(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_USER_TIMEOUT, 1500), 0);
    assert_int_equal(synack_send(k, "abcd", 4), 4);
    pkt_expect(h, ACK | PSH, S, P);
    pkt_advance(h, 1000);
    pkt_expect(h, ACK | PSH, S, P);
    pkt_advance(h, 200);
    pkt_send(h, ACK, P, S + 2, 65535, NULL, 0, NULL); /* half of it */
    pkt_drain(h);
    pkt_advance(h, 1400); /* 2600 ms after the first send */
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    pkt_drain(h);
    pkt_advance(h, 100); /* 1500 ms after the progress */
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ETIMEDOUT);
}

/* Without it, the same connection outlives 2.5 s on tcp_retries2. */
static void no_user_timeout_keeps_retrying(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_rto_min_ms=1000 tcp_retries2=15");
    synack_sock *k = pkt_established(h);
    assert_int_equal(synack_send(k, "data", 4), 4);
    pkt_advance(h, 10000);
    pkt_drain(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
}

/* Keepalive with a user timeout: once a probe went unanswered, the silence
 * since the peer's last segment decides, not TCP_KEEPCNT (Linux). */
static void keepalive_ends_at_the_user_timeout(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_KEEPIDLE, 10), 0);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_KEEPINTVL, 5), 0);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_KEEPCNT, 9), 0);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_USER_TIMEOUT, 12000), 0);
    assert_int_equal(synack_setopt(k, SYNACK_SO_KEEPALIVE, 1), 0);
    pkt_advance(h, 10000);
    pkt_expect(h, ACK, S - 1, P); /* the first probe */
    pkt_expect_none(h);
    pkt_advance(h, 5000); /* 15 s of silence: past 12 s */
    pkt_expect(h, RST | ACK, S, P);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ETIMEDOUT);
}

/* A negative user timeout is refused. */
static void user_timeout_rejects_negative(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_USER_TIMEOUT, -1), -EINVAL);
    synack_close(k);
}

/* TCP_CONGESTION: by name, ENOENT for a name not known; a listener's
 * choice goes to the connections it accepts. */
static void congestion_by_name(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    assert_string_equal(synack_congestion(l), "cubic"); /* the sysctl's */
    assert_int_equal(synack_set_congestion(l, "bbr-ish"), -ENOENT);
    assert_int_equal(synack_set_congestion(l, "reno"), 0);
    assert_string_equal(synack_congestion(l), "reno");
    synack_sock *k = pkt_passive_open(h, l);
    assert_string_equal(synack_congestion(k), "reno");
    assert_int_equal(synack_set_congestion(k, "cubic"), 0);
    assert_string_equal(synack_congestion(k), "cubic");
}

/* SO_RCVBUF on a connection: a ring that exists grows at once, and the
 * larger window is announced. */
static void receive_buffer_grows_on_a_connection(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S, 65535, "hello", 5, NULL);
    wire_tcp a = pkt_expect(h, ACK, S, P + 5); /* holds the ring */
    (void)a;
    pkt_drain(h);
    assert_int_equal(synack_setopt(k, SYNACK_SO_RCVBUF, 600000), 0);
    int v = 0;
    assert_int_equal(synack_getopt(k, SYNACK_SO_RCVBUF, &v), 0);
    assert_int_equal(v, 600000);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_true(i.rcv_wnd > 300000);
    assert_int_equal(synack_setopt(k, SYNACK_SO_SNDBUF, 300000), 0);
    assert_int_equal(synack_getopt(k, SYNACK_SO_SNDBUF, &v), 0);
    assert_int_equal(v, 300000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(data_unacknowledged_past_the_user_timeout, pkt_teardown),
        cmocka_unit_test(loss_probes_end_at_the_user_timeout),
        cmocka_unit_test_teardown(progress_restarts_the_user_timeout, pkt_teardown),
        cmocka_unit_test_teardown(no_user_timeout_keeps_retrying, pkt_teardown),
        cmocka_unit_test_teardown(keepalive_ends_at_the_user_timeout, pkt_teardown),
        cmocka_unit_test_teardown(user_timeout_rejects_negative, pkt_teardown),
        cmocka_unit_test_teardown(congestion_by_name, pkt_teardown),
        cmocka_unit_test_teardown(receive_buffer_grows_on_a_connection, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
