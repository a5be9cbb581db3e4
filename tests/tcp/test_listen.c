/* test_listen.c — passive open (RFC 9293 §3.10.7.2 LISTEN, §3.5 figure 7) and
 * segments to a closed port (§3.10.7.1): one stack, a scripted peer. */
#include "common/pkt.h"

#include <errno.h>

/* LISTEN → SYN-RECEIVED → ESTABLISHED, and accept() hands the child over. */
static void syn_synack_ack_accept(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    assert_string_equal(pkt_history(h, pkt_id(l)), "CLOSED > LISTEN");

    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    /* The peer offered only MSS: we answer with MSS and nothing else. */
    assert_int_equal(sa.opt.mss, 1460);
    assert_int_equal(sa.opt.wscale, -1);
    assert_false(sa.opt.sack_ok);
    assert_false(sa.opt.has_ts);
    assert_int_equal(sa.wnd, 65535);
    assert_int_equal(sa.payload_len, 0);
    pkt_expect_none(h);
    uint32_t child = pkt_other_conn(h, pkt_id(l));
    assert_string_equal(pkt_history(h, child), "LISTEN > SYN-RECEIVED");
    assert_null(synack_accept(l, NULL)); /* not established yet */

    pkt_send(h, ACK, 1001, sa.seq + 1, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, child), "LISTEN > SYN-RECEIVED > ESTABLISHED");
    assert_true(pkt_events(h, l) & SYNACK_EV_ACCEPT);
    int err = 1;
    synack_sock *k = synack_accept(l, &err);
    assert_non_null(k);
    assert_int_equal(err, 0);
    assert_int_equal(pkt_id(k), child);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_null(synack_accept(l, &err));
    assert_int_equal(err, -EAGAIN);
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 1);

    synack_tcp_info i;
    assert_int_equal(synack_info(k, &i), 0);
    assert_int_equal(i.snd_mss, 1460);
    assert_int_equal(i.snd_wnd, 65535);
    assert_int_equal(i.snd_wscale, 0);
    assert_int_equal(i.rcv_wscale, 0);
    assert_false(i.sack_ok);
    assert_false(i.timestamps);
    assert_int_equal(synack_sock_state(l), SYNACK_LISTEN);
}

/* A SYN offering everything gets everything back (RFC 7323 §1.3, RFC 2018 §2). */
static void synack_mirrors_all_options(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1400);
    o.wscale = 7;
    o.sack_ok = 1;
    o.has_ts = 1;
    o.ts_val = 4242;
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    assert_int_equal(sa.opt.mss, 1460);
    assert_int_equal(sa.opt.wscale, 7); /* 6 MiB tcp_rmem[2] needs a shift of 7 */
    assert_true(sa.opt.sack_ok);
    assert_true(sa.opt.has_ts);
    assert_int_equal(sa.opt.ts_ecr, 4242);
    assert_int_equal(sa.wnd, 65535); /* a SYN's window is never scaled */
}

/* Each option is mirrored on its own: only sackOK, only wscale, only TS. */
static void synack_mirrors_each_option_alone(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    pkt_listen(h, 80, 8);

    wire_tcp_opts o = pkt_opts();
    o.sack_ok = 1;
    h->peer_port = 40001;
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    assert_int_equal(sa.opt.mss, 1460); /* MSS always */
    assert_int_equal(sa.opt.wscale, -1);
    assert_true(sa.opt.sack_ok);
    assert_false(sa.opt.has_ts);

    o = pkt_opts();
    o.wscale = 2;
    h->peer_port = 40002;
    pkt_send(h, SYN, 2000, 0, 65535, NULL, 0, &o);
    sa = pkt_expect(h, SYN | ACK, PKT_ANY, 2001);
    assert_int_equal(sa.opt.mss, 1460);
    assert_int_equal(sa.opt.wscale, 7);
    assert_false(sa.opt.sack_ok);
    assert_false(sa.opt.has_ts);

    o = pkt_opts();
    o.has_ts = 1;
    o.ts_val = 77;
    h->peer_port = 40003;
    pkt_send(h, SYN, 3000, 0, 65535, NULL, 0, &o);
    sa = pkt_expect(h, SYN | ACK, PKT_ANY, 3001);
    assert_int_equal(sa.opt.mss, 1460);
    assert_int_equal(sa.opt.wscale, -1);
    assert_false(sa.opt.sack_ok);
    assert_true(sa.opt.has_ts);
    assert_int_equal(sa.opt.ts_ecr, 77);
    pkt_expect_none(h);
}

/* The SYN,ACK was lost: the peer's retransmitted SYN gets it again. */
static void retransmitted_syn_gets_synack_again(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    uint32_t iss = pkt_expect(h, SYN | ACK, PKT_ANY, 1001).seq;
    pkt_advance(h, 500);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    pkt_expect(h, SYN | ACK, iss, 1001);
    pkt_expect_none(h);
    uint32_t child = pkt_other_conn(h, pkt_id(l));
    assert_string_equal(pkt_history(h, child), "LISTEN > SYN-RECEIVED");
    pkt_send(h, ACK, 1001, iss + 1, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_non_null(synack_accept(l, NULL));
}

/* RST in a passive SYN-RECEIVED: the child goes, the listener stays
 * (RFC 9293 §3.10.7.4 second, SYN-RECEIVED). */
static void rst_in_syn_received_drops_child(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    uint32_t iss = pkt_expect(h, SYN | ACK, PKT_ANY, 1001).seq;
    uint32_t child = pkt_other_conn(h, pkt_id(l));

    pkt_send(h, RST, 1001, 0, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, child), "LISTEN > SYN-RECEIVED > CLOSED");
    assert_int_equal(synack_sock_state(l), SYNACK_LISTEN);
    assert_null(synack_accept(l, NULL));
    assert_int_equal(pkt_counter(h, tcp_estab_resets), 0);
    /* Nothing of it remains: its ACK now meets the listener, which resets it. */
    pkt_send(h, ACK, 1001, iss + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, iss + 1, 0);
    pkt_expect_none(h);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
    /* And the listener still accepts a new connection. */
    synack_sock *k = pkt_passive_open(h, l);
    assert_non_null(k);
}

/* SYN,ACK retransmitted at 1 s, then 2 s later (RFC 6298 §5.5), then the
 * child is dropped once tcp_synack_retries are spent. */
static void synack_retries_then_drop(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_synack_retries=2");
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    uint32_t iss = pkt_expect(h, SYN | ACK, PKT_ANY, 1001).seq;
    uint32_t child = pkt_other_conn(h, pkt_id(l));

    pkt_advance(h, 999);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, SYN | ACK, iss, 1001);
    pkt_advance(h, 1999);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, SYN | ACK, iss, 1001);
    assert_int_equal(pkt_counter(h, tcp_retrans_segs), 2);
    pkt_advance(h, 3999);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, child), "LISTEN > SYN-RECEIVED");
    pkt_advance(h, 1);
    pkt_expect_none(h); /* dropped silently, as Linux does */
    assert_string_equal(pkt_history(h, child), "LISTEN > SYN-RECEIVED > CLOSED");
    assert_int_equal(synack_sock_state(l), SYNACK_LISTEN);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
    /* A late ACK finds no child. */
    pkt_send(h, ACK, 1001, iss + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, iss + 1, 0);
    assert_null(synack_accept(l, NULL));
}

/* Accept queue full: the SYN is dropped and counted. */
static void backlog_overflow_drops_syn(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 1);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    uint32_t iss = pkt_expect(h, SYN | ACK, PKT_ANY, 1001).seq;
    pkt_send(h, ACK, 1001, iss + 1, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_listen_overflows), 0);

    h->peer_port = 40001; /* a second client while the first is not accepted */
    pkt_send(h, SYN, 5000, 0, 65535, NULL, 0, &o);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_listen_overflows), 1);
    assert_int_equal(pkt_counter(h, tcp_listen_drops), 1);

    /* Once the queue has room, the retransmitted SYN is answered. */
    assert_non_null(synack_accept(l, NULL));
    pkt_send(h, SYN, 5000, 0, 65535, NULL, 0, &o);
    pkt_expect(h, SYN | ACK, PKT_ANY, 5001);
}

/* A bare ACK to a listener: RST with seq = SEG.ACK, no ACK bit (§3.10.7.2). */
static void ack_to_listener_gets_rst(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    pkt_send(h, ACK, 1000, 123456, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, 123456, 0);
    pkt_expect_none(h);
    /* A RST to a listener is ignored; so is a segment with neither SYN nor ACK. */
    pkt_send(h, RST, 1000, 0, 0, NULL, 0, NULL);
    pkt_send(h, FIN, 1000, 0, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(l), SYNACK_LISTEN);
    assert_string_equal(pkt_history(h, pkt_id(l)), "CLOSED > LISTEN");
}

/* CLOSED (§3.10.7.1): no listener, no connection. */
static void closed_port_resets(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    h->port = 81;
    wire_tcp_opts o = pkt_opts_mss(1460);
    /* A SYN: RST,ACK with seq 0 and ack = SEG.SEQ + SEG.LEN. */
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    wire_tcp r = pkt_expect(h, RST | ACK, 0, 1001);
    assert_int_equal(r.wnd, 0);
    assert_int_equal(r.payload_len, 0);
    /* Data with FIN and no ACK: the ack covers payload and FIN. */
    pkt_send(h, FIN, 7000, 0, 65535, "hello", 5, NULL);
    pkt_expect(h, RST | ACK, 0, 7006);
    /* Anything with an ACK: RST with seq = SEG.ACK, no ACK bit. */
    pkt_send(h, ACK | PSH, 7000, 99999, 65535, "hello", 5, NULL);
    pkt_expect(h, RST, 99999, 0);
    pkt_send(h, SYN | ACK, 7000, 5555, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, 5555, 0);
    /* A RST is never answered. */
    pkt_send(h, RST, 7000, 0, 0, NULL, 0, NULL);
    pkt_send(h, RST | ACK, 7000, 5, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_no_port), 6);
    assert_int_equal(pkt_counter(h, tcp_out_rsts), 4);
}

/* LISTEN → CLOSED by close(); a SYN afterwards meets a closed port. */
static void close_listener(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    uint32_t id = pkt_id(l);
    /* One half-open child: it goes silently with its listener. */
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    uint32_t child = pkt_other_conn(h, id);
    assert_int_equal(synack_close(l), 0);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "CLOSED > LISTEN > CLOSED");
    assert_string_equal(pkt_history(h, child), "LISTEN > SYN-RECEIVED > CLOSED");
    h->peer_port = 40001;
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    pkt_expect(h, RST | ACK, 0, 1001);
}

/* Data arriving right after the handshake, before accept(), is kept for
 * the application (the child is not an orphan). */
static void data_before_accept_is_kept(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    uint32_t iss = pkt_expect(h, SYN | ACK, PKT_ANY, 1001).seq;
    pkt_send(h, ACK, 1001, iss + 1, 65535, NULL, 0, NULL);
    pkt_send(h, ACK | PSH, 1001, iss + 1, 65535, "early", 5, NULL);
    pkt_expect(h, ACK, iss + 1, 1006);
    pkt_expect_none(h);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    char buf[16];
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "early", 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(syn_synack_ack_accept, pkt_teardown),
        cmocka_unit_test_teardown(synack_mirrors_all_options, pkt_teardown),
        cmocka_unit_test_teardown(synack_mirrors_each_option_alone, pkt_teardown),
        cmocka_unit_test_teardown(retransmitted_syn_gets_synack_again, pkt_teardown),
        cmocka_unit_test_teardown(rst_in_syn_received_drops_child, pkt_teardown),
        cmocka_unit_test_teardown(synack_retries_then_drop, pkt_teardown),
        cmocka_unit_test_teardown(backlog_overflow_drops_syn, pkt_teardown),
        cmocka_unit_test_teardown(ack_to_listener_gets_rst, pkt_teardown),
        cmocka_unit_test_teardown(closed_port_resets, pkt_teardown),
        cmocka_unit_test_teardown(close_listener, pkt_teardown),
        cmocka_unit_test_teardown(data_before_accept_is_kept, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
