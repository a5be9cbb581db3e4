/* test_handshake.c — active open (RFC 9293 §3.10.1 OPEN, §3.10.7.3
 * SYN-SENT), simultaneous open (§3.5 figure 8) and connect() errors. */
#include "common/pkt.h"

#include <errno.h>

/* connect() from a fresh socket: the SYN it sends, addressed from our
 * ephemeral port. Leaves h->port and h->iss set. */
static synack_sock *connect_syn(pkt_h *h, wire_tcp *syn_out)
{
    synack_sock *k = synack_socket(h->s);
    assert_non_null(k);
    assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
    uint16_t lport;
    synack_sock_name(k, NULL, &lport, NULL, NULL);
    assert_true(lport >= 32768 && lport <= 60999);
    h->port = lport;
    wire_tcp syn = pkt_expect(h, SYN, PKT_ANY, 0);
    h->iss = syn.seq;
    h->irs = PKT_PEER_ISS;
    pkt_expect_none(h);
    if (syn_out)
        *syn_out = syn;
    return k;
}

/* CLOSED → SYN-SENT → ESTABLISHED. The SYN offers everything we support. */
static void connect_syn_synack_ack(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    wire_tcp syn;
    synack_sock *k = connect_syn(h, &syn);
    assert_int_equal(syn.opt.mss, 1460);
    assert_true(syn.opt.sack_ok);
    assert_true(syn.opt.has_ts);
    assert_int_equal(syn.opt.ts_ecr, 0);
    assert_int_equal(syn.opt.wscale, 7);
    assert_int_equal(syn.wnd, 65535);
    assert_int_equal(syn.payload_len, 0);
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_SENT);
    assert_string_equal(pkt_history(h, pkt_id(k)), "CLOSED > SYN-SENT");
    assert_int_equal(pkt_counter(h, tcp_active_opens), 1);

    wire_tcp_opts o = pkt_opts_mss(1000);
    pkt_send(h, SYN | ACK, 1000, h->iss + 1, 5000, NULL, 0, &o);
    wire_tcp a = pkt_expect(h, ACK, h->iss + 1, 1001);
    assert_false(a.opt.has_ts); /* the peer did not offer timestamps */
    assert_int_equal(a.opt.sack_count, 0);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, pkt_id(k)), "CLOSED > SYN-SENT > ESTABLISHED");
    assert_true(pkt_events(h, k) & SYNACK_EV_CONNECTED);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.snd_mss, 1000);
    assert_int_equal(i.snd_wnd, 5000);
    assert_int_equal(i.rcv_wscale, 0); /* no wscale from the peer: no scaling either way */
    assert_int_equal(i.irs, 1000);
    assert_int_equal(i.rcv_nxt, 1001);
    assert_int_equal(i.snd_una, h->iss + 1);
    assert_int_equal(synack_sock_error(k), 0);
}

/* With timestamps agreed, the ACK carries them and echoes the peer's. */
static void connect_with_timestamps_echoes(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = connect_syn(h, NULL);
    wire_tcp_opts o = pkt_opts_mss(1460);
    o.has_ts = 1;
    o.ts_val = 900;
    o.ts_ecr = 0;
    o.wscale = 3;
    o.sack_ok = 1;
    pkt_send(h, SYN | ACK, 1000, h->iss + 1, 5000, NULL, 0, &o);
    wire_tcp a = pkt_expect(h, ACK, h->iss + 1, 1001);
    assert_true(a.opt.has_ts);
    assert_int_equal(a.opt.ts_ecr, 900);
    assert_int_equal(a.wnd, 131072 >> 7); /* scaled now, with our shift of 7 */
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.snd_wscale, 3);
    assert_int_equal(i.rcv_wscale, 7);
    assert_int_equal(i.snd_wnd, 5000); /* the SYN,ACK's window is not scaled */
    assert_int_equal(i.snd_mss, 1460 - 12);
    assert_true(i.sack_ok);
    assert_true(i.timestamps);
}

/* RST,ACK acknowledging our SYN: connection refused. */
static void rst_ack_refuses(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = connect_syn(h, NULL);
    pkt_send(h, RST | ACK, 0, h->iss + 1, 0, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_string_equal(pkt_history(h, pkt_id(k)), "CLOSED > SYN-SENT > CLOSED");
    unsigned ev = pkt_events(h, k);
    assert_true(ev & SYNACK_EV_ERROR);
    assert_false(ev & SYNACK_EV_CONNECTED);
    char b[4];
    assert_int_equal(synack_recv(k, b, sizeof(b)), -ECONNREFUSED);
    assert_int_equal(synack_sock_error(k), -ECONNREFUSED);
    assert_int_equal(pkt_counter(h, tcp_attempt_fails), 1);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX); /* no SYN retransmission left */
    synack_close(k);
}

/* A RST without ACK, or whose ACK does not cover our SYN, is ignored in
 * SYN-SENT (RFC 9293 §3.10.7.3; RFC 5961 §3.2 makes it a blind-attack guard). */
static void rst_without_acceptable_ack_ignored(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = connect_syn(h, NULL);
    pkt_send(h, RST, 0, 0, 0, NULL, 0, NULL);
    pkt_send(h, RST | ACK, 0, h->iss, 0, NULL, 0, NULL);       /* acks nothing */
    pkt_send(h, RST | ACK, 0, h->iss + 2, 0, NULL, 0, NULL);   /* acks the future */
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_SENT);
    assert_int_equal(synack_sock_error(k), 0);
    /* The handshake still completes. */
    pkt_send(h, SYN | ACK, 1000, h->iss + 1, 5000, NULL, 0, NULL);
    pkt_expect(h, ACK, h->iss + 1, 1001);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
}

/* An ACK outside (ISS, SND.NXT] in SYN-SENT: RST with seq = SEG.ACK, and
 * the connection attempt goes on. */
static void unacceptable_ack_in_syn_sent(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = connect_syn(h, NULL);
    pkt_send(h, SYN | ACK, 1000, h->iss + 5, 5000, NULL, 0, NULL);
    pkt_expect(h, RST, h->iss + 5, 0);
    pkt_send(h, ACK, 1000, h->iss, 5000, NULL, 0, NULL);
    pkt_expect(h, RST, h->iss, 0);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_SENT);
    /* A segment with neither SYN nor RST nor ACK is dropped. */
    pkt_send(h, PSH, 1000, 0, 5000, "x", 1, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_SENT);
}

/* SYN retransmitted at 1, 2, 4 s, then ETIMEDOUT 8 s later (RFC 6298 §5.5). */
static void syn_retries_then_etimedout(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_syn_retries=3");
    synack_sock *k = connect_syn(h, NULL);
    uint32_t gaps[] = {1000, 2000, 4000};
    for (int i = 0; i < 3; i++) {
        pkt_advance(h, gaps[i] - 1);
        pkt_expect_none(h);
        pkt_advance(h, 1);
        wire_tcp s = pkt_expect(h, SYN, h->iss, 0);
        assert_int_equal(s.opt.mss, 1460); /* options on every SYN */
        assert_true(s.opt.has_ts);
        pkt_expect_none(h);
    }
    assert_int_equal(pkt_counter(h, tcp_retrans_segs), 3);
    pkt_advance(h, 7999);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_SENT);
    pkt_advance(h, 1);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_true(pkt_events(h, k) & SYNACK_EV_ERROR);
    assert_int_equal(synack_sock_error(k), -ETIMEDOUT);
    assert_int_equal(pkt_counter(h, tcp_attempt_fails), 1);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
}

/* Karn: the RTT of a retransmitted SYN is not sampled; the initial RTO stays. */
static void synack_after_retransmit_not_timed(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = connect_syn(h, NULL);
    pkt_advance(h, 1000);
    pkt_expect(h, SYN, h->iss, 0);
    pkt_advance(h, 10);
    pkt_send(h, SYN | ACK, 1000, h->iss + 1, 5000, NULL, 0, NULL);
    pkt_expect(h, ACK, h->iss + 1, 1001);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.rtt_us, 0); /* a 10 ms sample would be wrong: ambiguous */
    assert_int_equal(i.rto_ms, 1000);
}

/* SYN-SENT → SYN-RECEIVED → ESTABLISHED: both sides open at once. */
static void simultaneous_open(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = connect_syn(h, NULL);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 5000, NULL, 0, &o); /* the peer's own SYN crosses ours */
    wire_tcp sa = pkt_expect(h, SYN | ACK, h->iss, 1001);
    assert_int_equal(sa.opt.mss, 1460);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, pkt_id(k)), "CLOSED > SYN-SENT > SYN-RECEIVED");
    /* The SYN,ACK is retransmitted if the peer stays silent. */
    pkt_advance(h, 1000);
    pkt_expect(h, SYN | ACK, h->iss, 1001);
    /* The peer's SYN,ACK (its answer to our SYN) completes it. */
    pkt_send(h, SYN | ACK, 1000, h->iss + 1, 5000, NULL, 0, &o);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, pkt_id(k)),
                        "CLOSED > SYN-SENT > SYN-RECEIVED > ESTABLISHED");
    assert_true(pkt_events(h, k) & SYNACK_EV_CONNECTED);
    assert_int_equal(synack_send(k, "hi", 2), 2);
    pkt_expect(h, ACK | PSH, h->iss + 1, 1001);
}

/* The same with a plain ACK from the peer. */
static void simultaneous_open_plain_ack(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = connect_syn(h, NULL);
    pkt_send(h, SYN, 1000, 0, 5000, NULL, 0, NULL);
    pkt_expect(h, SYN | ACK, h->iss, 1001);
    pkt_send(h, ACK, 1001, h->iss + 1, 5000, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
}

/* SYN-SENT → CLOSED by close(): nothing is sent, the retransmission stops. */
static void close_in_syn_sent(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = connect_syn(h, NULL);
    uint32_t id = pkt_id(k);
    synack_close(k);
    pkt_expect_none(h);
    assert_string_equal(pkt_history(h, id), "CLOSED > SYN-SENT > CLOSED");
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX);
    pkt_advance(h, 5000);
    pkt_expect_none(h);
    /* A late SYN,ACK meets a closed port. */
    pkt_send(h, SYN | ACK, 1000, h->iss + 1, 5000, NULL, 0, NULL);
    pkt_expect(h, RST, h->iss + 1, 0);
}

/* One ephemeral port: a second connect to the same peer has no tuple left. */
static void port_range_exhausted(void **state)
{
    pkt_h *h = *state = pkt_new("ip_local_port_range=40500,40500");
    synack_sock *a = synack_socket(h->s);
    assert_int_equal(pkt_connect(h, a, 80), 0);
    uint16_t lport;
    synack_sock_name(a, NULL, &lport, NULL, NULL);
    assert_int_equal(lport, 40500);
    h->port = 40500;
    h->peer_port = 80;
    pkt_expect(h, SYN, PKT_ANY, 0);
    synack_sock *b = synack_socket(h->s);
    assert_int_equal(pkt_connect(h, b, 80), -EADDRNOTAVAIL);
    assert_int_equal(synack_sock_state(b), SYNACK_CLOSED);
    pkt_expect_none(h);
    /* Another destination port is another 4-tuple: allowed. */
    assert_int_equal(pkt_connect(h, b, 81), 0);
    h->peer_port = 81;
    pkt_expect(h, SYN, PKT_ANY, 0);
    /* connect on a connected socket. */
    assert_int_equal(pkt_connect(h, a, 82), -EISCONN);
}

/* Two sockets bound to one port: the second connect to the same peer would
 * duplicate a live 4-tuple. */
static void connect_used_tuple(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *a = synack_socket(h->s);
    synack_sock *b = synack_socket(h->s);
    assert_int_equal(synack_bind(a, 5000), 0);
    assert_int_equal(synack_bind(b, 5000), 0); /* nothing uses the port yet */
    assert_int_equal(pkt_connect(h, a, 80), 0);
    h->port = 5000;
    h->peer_port = 80;
    pkt_expect(h, SYN, PKT_ANY, 0);
    assert_int_equal(pkt_connect(h, b, 80), -EADDRINUSE);
    assert_int_equal(synack_sock_state(b), SYNACK_CLOSED);
    pkt_expect_none(h);
    /* A third socket cannot even bind: the port is in use now. */
    synack_sock *c = synack_socket(h->s);
    assert_int_equal(synack_bind(c, 5000), -EADDRINUSE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(connect_syn_synack_ack, pkt_teardown),
        cmocka_unit_test_teardown(connect_with_timestamps_echoes, pkt_teardown),
        cmocka_unit_test_teardown(rst_ack_refuses, pkt_teardown),
        cmocka_unit_test_teardown(rst_without_acceptable_ack_ignored, pkt_teardown),
        cmocka_unit_test_teardown(unacceptable_ack_in_syn_sent, pkt_teardown),
        cmocka_unit_test_teardown(syn_retries_then_etimedout, pkt_teardown),
        cmocka_unit_test_teardown(synack_after_retransmit_not_timed, pkt_teardown),
        cmocka_unit_test_teardown(simultaneous_open, pkt_teardown),
        cmocka_unit_test_teardown(simultaneous_open_plain_ack, pkt_teardown),
        cmocka_unit_test_teardown(close_in_syn_sent, pkt_teardown),
        cmocka_unit_test_teardown(port_range_exhausted, pkt_teardown),
        cmocka_unit_test_teardown(connect_used_tuple, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
