/* test_hostile.c — segments a careless or hostile peer sends, and what a
 * connection must survive: a retransmission never resends beyond what was
 * sent or beyond the peer's window, a forged segment never moves TS.Recent,
 * a bound port answers like a closed one, and martian or contradictory SYNs
 * never open a connection. */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

/* ------------------------------------------------------------ retransmission bounds */

/* A listener on port 80 and one connection accepted from it, the peer
 * offering `mss`, SACK-permitted if `sack`, and window `wnd`. */
static synack_sock *accepted(pkt_h *h, uint16_t mss, int sack, uint16_t wnd)
{
    synack_sock *l = pkt_listen(h, 80, 8);
    h->irs = PKT_PEER_ISS;
    wire_tcp_opts o = pkt_opts_mss(mss);
    o.sack_ok = (uint8_t)sack;
    pkt_send(h, SYN, h->irs, 0, wnd, NULL, 0, &o);
    h->iss = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1).seq;
    pkt_send(h, ACK, h->irs + 1, h->iss + 1, wnd, NULL, 0, NULL);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    return k;
}

/* Three duplicate ACKs against a 1,000-byte window: the fast retransmit
 * resends the 1,000 bytes that were sent, not a full MSS of queued data,
 * and the peer's ACK of them is then accepted (issue 9, defect 1). */
static void fast_retransmit_stays_in_what_was_sent(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = accepted(h, 1460, 0, 1000); /* the peer offers 1,000 bytes */
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t data[5000];
    memset(data, 'x', sizeof(data));
    assert_int_equal(synack_send(k, data, sizeof(data)), (ssize_t)sizeof(data));
    assert_int_equal(pkt_expect(h, PKT_ANY_FLAGS, S, P).payload_len, 1000);
    pkt_expect_none(h);
    for (int i = 0; i < 3; i++)
        pkt_send(h, ACK, P, S, 1000, NULL, 0, NULL);
    wire_tcp r = pkt_expect(h, PKT_ANY_FLAGS, S, P);
    assert_int_equal(r.payload_len, 1000);
    pkt_expect_none(h);
    pkt_send(h, ACK, P, S + 1000, 1000, NULL, 0, NULL);
    assert_int_equal(pkt_counter(h, tcp_ack_unsent_data), 0);
    assert_int_equal(pkt_expect(h, PKT_ANY_FLAGS, S + 1000, P).payload_len, 1000);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
}

/* The peer's window shrinks below what is in flight (RFC 9293 §3.8.6
 * allows it): a fast retransmission then resends only what the window
 * holds now, 500 bytes, not the whole first segment. */
static void retransmission_fits_a_shrunken_window(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = accepted(h, 1000, 0, PKT_PEER_WND);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t data[2000];
    memset(data, 'w', sizeof(data));
    assert_int_equal(synack_send(k, data, sizeof(data)), (ssize_t)sizeof(data));
    assert_int_equal(pkt_expect(h, PKT_ANY_FLAGS, S, P).payload_len, 1000);
    assert_int_equal(pkt_expect(h, PKT_ANY_FLAGS, S + 1000, P).payload_len, 1000);
    pkt_send(h, ACK, P, S, 500, NULL, 0, NULL); /* window update: 500 */
    pkt_expect_none(h);
    for (int i = 0; i < 3; i++)
        pkt_send(h, ACK, P, S, 500, NULL, 0, NULL);
    assert_int_equal(pkt_expect(h, PKT_ANY_FLAGS, S, P).payload_len, 500);
    pkt_expect_none(h);
}

/* The peer SACKs everything but the first segment, then, once that is
 * resent, acknowledges only it: it has thrown away what it SACKed
 * (reneging, RFC 2018 §8). The sender must send that data again, soon, not
 * skip it forever (issue 9, defect 3). */
static void sack_reneging_resends_the_data(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = accepted(h, 1000, 1, PKT_PEER_WND);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t data[4000];
    assert_int_equal(synack_send(k, data, sizeof(data)), (ssize_t)sizeof(data));
    for (uint32_t i = 0; i < 4; i++)
        pkt_expect(h, PKT_ANY_FLAGS, S + i * 1000, P);
    wire_tcp_opts sk = pkt_opts();
    sk.sack_count = 1;
    for (uint32_t i = 1; i < 4; i++) { /* three duplicate ACKs, SACKing 2..i+1 */
        sk.sack[0][0] = S + 1000;
        sk.sack[0][1] = S + 1000 + i * 1000;
        pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, &sk);
    }
    assert_int_equal(pkt_expect(h, PKT_ANY_FLAGS, S, P).payload_len, 1000);
    pkt_drain(h);
    pkt_send(h, ACK, P, S + 1000, PKT_PEER_WND, NULL, 0, NULL); /* no SACK: reneged */
    assert_int_equal(pkt_counter(h, tcp_sack_reneging), 1);
    pkt_drain(h);
    pkt_advance(h, 250);
    wire_tcp r = pkt_expect(h, PKT_ANY_FLAGS, S + 1000, P);
    assert_int_equal(r.payload_len, 1000);
}

/* ------------------------------------------------------------ TS.Recent */

/* A segment whose ACK is above SND.NXT is answered and dropped; its TSval
 * must not become TS.Recent, or the next genuine segment would fail PAWS
 * (RFC 7323 §4.3, RFC 5961 §5; issue 9, defect 2). */
static void forged_ack_does_not_move_ts_recent(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    h->irs = PKT_PEER_ISS;
    wire_tcp_opts o = pkt_opts_ts(5000, 0);
    pkt_send(h, SYN, h->irs, 0, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1);
    h->iss = sa.seq;
    uint32_t ours = sa.opt.ts_val, S = h->iss + 1, P = h->irs + 1;
    o = pkt_opts_ts(5001, ours);
    pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, &o);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);

    o = pkt_opts_ts(900000000, ours); /* forged: far in the future */
    pkt_send(h, ACK, P, S + 100000, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp a = pkt_expect(h, ACK, S, P);
    assert_int_equal(a.opt.ts_ecr, 5001); /* the forged TSval is not echoed */
    assert_int_equal(pkt_counter(h, tcp_ack_unsent_data), 1);

    o = pkt_opts_ts(5002, ours);
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "hello", 5, &o);
    assert_int_equal(pkt_counter(h, tcp_paws_estab), 0);
    char buf[8];
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 5);
}

/* ------------------------------------------------------------ closed ports */

/* A socket bound to a port but neither listening nor connected is a
 * closed port to the network: RST for a SYN and for an ACK
 * (RFC 9293 §3.10.7.1; issue 9, defect 4). */
static void bound_port_answers_like_a_closed_one(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(synack_bind(k, 8080), 0);
    h->port = 8080;
    pkt_send(h, SYN, 1000, 0, PKT_PEER_WND, NULL, 0, NULL);
    pkt_expect(h, RST | ACK, 0, 1001);
    pkt_send(h, ACK, 1001, 7777, PKT_PEER_WND, NULL, 0, NULL);
    pkt_expect(h, RST, 7777, PKT_ANY);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_no_port), 2);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
}

/* ------------------------------------------------------------ SYNs that open nothing */

/* SYN+FIN is no way to open a connection; Linux drops it (issue 9,
 * defect 5). */
static void listener_drops_syn_fin(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    pkt_listen(h, 80, 8);
    pkt_send(h, SYN | FIN, 1000, 0, PKT_PEER_WND, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 0);
    assert_int_equal(synack_drop_count(h->s, SYNACK_DROP_SYN_FIN), 1);
}

/* A SYN to the listener on port 80 from `src`, as pkt_send builds one. */
static void syn_from(pkt_h *h, uint32_t src)
{
    static uint8_t pkt[WIRE_IPV4_HDR_LEN + 60];
    wire_tcp t = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYN, .wnd = 65535};
    t.opt = pkt_opts_mss(1460);
    uint8_t *seg = pkt + WIRE_IPV4_HDR_LEN;
    size_t hl = wire_tcp_emit_header(seg, sizeof(pkt) - WIRE_IPV4_HDR_LEN, &t);
    wire_tcp_set_checksum(seg, hl, src, PKT_US);
    wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, src, PKT_US, WIRE_IPPROTO_TCP, 64, 1, hl);
    synack_input(h->s, pkt, WIRE_IPV4_HDR_LEN + hl, h->now);
}

/* SYNs from our own address (LAND), broadcast (limited and our /24's),
 * multicast, "this network" and loopback open nothing and are answered
 * with nothing: dropped at IP and counted (issue 9, defect 5). */
static void martian_sources_open_nothing(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    pkt_listen(h, 80, 8);
    const uint32_t martians[] = {
        PKT_US, 0xffffffffu, 0x0a0000ffu, 0xe0000001u, 0xef010203u, 0xf0000001u,
        0x00000000u, 0x7f000001u,
    };
    size_t n = sizeof(martians) / sizeof(martians[0]);
    for (size_t i = 0; i < n; i++)
        syn_from(h, martians[i]);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, ip_in_martians), n);
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 0);
    /* A neighbour on the same /24 still gets in (its SYN,ACK goes to it). */
    syn_from(h, 0x0a000003u);
    assert_int_equal(pkt_pending(h), 1);
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 1);
    pkt_drain(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(fast_retransmit_stays_in_what_was_sent, pkt_teardown),
        cmocka_unit_test_teardown(retransmission_fits_a_shrunken_window, pkt_teardown),
        cmocka_unit_test_teardown(sack_reneging_resends_the_data, pkt_teardown),
        cmocka_unit_test_teardown(forged_ack_does_not_move_ts_recent, pkt_teardown),
        cmocka_unit_test_teardown(bound_port_answers_like_a_closed_one, pkt_teardown),
        cmocka_unit_test_teardown(listener_drops_syn_fin, pkt_teardown),
        cmocka_unit_test_teardown(martian_sources_open_nothing, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
