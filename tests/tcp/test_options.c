/*
 * test_options.c — socket options and shutdown(SHUT_RD) as an application
 * sees them: what a listener passes on, what accept reports, and that a
 * receive side shut down keeps the peer moving instead of stalling it.
 */
#include "common/pkt.h"

#include <string.h>

/* SHUT_RD: data keeps being acknowledged with the window open, and dropped;
 * recv says end of stream. */
static void shut_rd_drops_data_without_closing_the_window(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    synack_sock *k = pkt_passive_open(h, l);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_shutdown(k, SYNACK_SHUT_RD), 0);
    static uint8_t data[1000];
    wire_tcp first = {0};
    for (int i = 0; i < 200; i++) { /* 200 kB: more than the 128 kB buffer */
        pkt_send(h, ACK, P + (uint32_t)i * 1000, S, PKT_PEER_WND, data, sizeof(data), NULL);
        wire_tcp a = pkt_expect(h, ACK, S, P + (uint32_t)(i + 1) * 1000);
        if (i == 0)
            first = a;
        assert_int_equal(a.wnd, first.wnd); /* never shrinks */
    }
    char buf[16];
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 0);
    assert_int_equal(pkt_counter(h, tcp_rcv_buf_drop), 0);
}

/* Keepalive set on a listener applies to what it accepts. */
static void listener_options_carry_over(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    assert_int_equal(synack_setopt(l, SYNACK_TCP_KEEPIDLE, 10), 0);
    assert_int_equal(synack_setopt(l, SYNACK_SO_KEEPALIVE, 1), 0);
    synack_sock *k = pkt_passive_open(h, l);
    int v = 0;
    assert_int_equal(synack_getopt(k, SYNACK_SO_KEEPALIVE, &v), 0);
    assert_int_equal(v, 1);
    pkt_advance(h, 10000);
    pkt_expect(h, ACK, h->iss, h->irs + 1); /* the probe: SND.UNA - 1 */
}

/* Data and FIN that arrive before accept() are announced by accept. */
static void accept_reports_what_came_first(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    h->irs = PKT_PEER_ISS;
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, h->irs, 0, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1);
    uint32_t S = sa.seq + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, NULL);
    pkt_send(h, ACK | PSH | FIN, P, S, PKT_PEER_WND, "hi", 2, NULL);
    pkt_drain(h);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    assert_true(pkt_events(h, k) & SYNACK_EV_READABLE);
    char buf[8];
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 2);
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(shut_rd_drops_data_without_closing_the_window, pkt_teardown),
        cmocka_unit_test_teardown(listener_options_carry_over, pkt_teardown),
        cmocka_unit_test_teardown(accept_reports_what_came_first, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
