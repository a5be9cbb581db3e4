/*
 * test_delack_nagle.c — when ACKs wait and when small segments wait:
 * delayed ACK (RFC 9293 §3.8.6.3, Linux's 40 ms), Nagle (§3.7.4), cork,
 * the write-write-read stall guard, keepalive (RFC 1122 §4.2.3.6) and
 * PAWS (RFC 7323 §5).
 */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

/* Delayed ACKs as they are once a connection's quick ACKs are spent (the
 * tests of quick ACKs themselves turn them on). */
#define DELACK "tcp_delack_ms=40 tcp_max_quickacks=0"

/* One small segment: the ACK waits 40 ms for data to ride on. */
static void lone_segment_ack_delayed_40ms(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "hello", 5, NULL);
    pkt_expect_none(h);
    pkt_advance(h, 39);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, ACK, S, P + 5);
    assert_int_equal(pkt_counter(h, tcp_delayed_acks), 1);
}

/* The reply carries the ACK: no separate segment at all. */
static void reply_piggybacks_the_ack(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "ping", 4, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_send(k, "pong", 4), 4);
    wire_tcp r = pkt_expect(h, ACK | PSH, S, P + 4);
    assert_int_equal(r.payload_len, 4);
    pkt_advance(h, 100);
    pkt_expect_none(h);
}

/* Every second full-sized segment is ACKed at once. */
static void second_full_segment_acked_at_once(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t seg[1460];
    memset(seg, 'x', sizeof(seg));
    pkt_send(h, ACK, P, S, PKT_PEER_WND, seg, sizeof(seg), NULL);
    pkt_expect_none(h);
    pkt_send(h, ACK, P + 1460, S, PKT_PEER_WND, seg, sizeof(seg), NULL);
    pkt_expect(h, ACK, S, P + 2920);
    pkt_expect_none(h);
}

/* Out-of-order data is ACKed at once (a duplicate ACK), and so is the
 * segment that fills the hole (RFC 5681 §4.2). */
static void out_of_order_and_hole_fill_acked_at_once(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P + 10, S, PKT_PEER_WND, "0123456789", 10, NULL);
    pkt_expect(h, ACK, S, P);
    pkt_send(h, ACK, P, S, PKT_PEER_WND, "abcdefghij", 10, NULL);
    pkt_expect(h, ACK, S, P + 20);
}

/* A segment that repeats data we hold is a retransmission: our ACK was
 * lost or is late, so it is answered at once, not 40 ms later, whether it
 * is all old or carries new bytes after the old ones (RFC 9293
 * §3.10.7.4 first: "send an acknowledgment"). */
static void retransmission_acked_at_once(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "hello", 5, NULL);
    pkt_expect_none(h); /* a lone segment: its ACK is delayed */
    pkt_advance(h, 40);
    pkt_expect(h, ACK, S, P + 5);
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "hello", 5, NULL); /* all old */
    pkt_expect(h, ACK, S, P + 5);
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "hello world", 11, NULL); /* old, then new */
    pkt_expect(h, ACK, S, P + 11);
    pkt_expect_none(h);
}

/* Nagle: while a small segment is unacknowledged, the next small write
 * waits; the ACK releases it. */
static void nagle_holds_second_small_segment(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    h->nagle = 1;
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, "aaaa", 4), 4);
    pkt_expect(h, ACK | PSH, S, P);
    assert_int_equal(synack_send(k, "bbbb", 4), 4);
    assert_int_equal(synack_send(k, "cccc", 4), 4);
    pkt_expect_none(h);
    pkt_send(h, ACK, P, S + 4, PKT_PEER_WND, NULL, 0, NULL);
    wire_tcp r = pkt_expect(h, ACK | PSH, S + 4, P);
    assert_int_equal(r.payload_len, 8); /* the two writes coalesced */
    assert_memory_equal(r.payload, "bbbbcccc", 8);
}

/* TCP_NODELAY turns Nagle off. */
static void nodelay_sends_at_once(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    h->nagle = 1;
    synack_sock *k = pkt_established(h);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_NODELAY, 1), 0);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, "aaaa", 4), 4);
    pkt_expect(h, ACK | PSH, S, P);
    assert_int_equal(synack_send(k, "bbbb", 4), 4);
    pkt_expect(h, ACK | PSH, S + 4, P);
}

/* Turning TCP_NODELAY on sends what Nagle was holding, at once (Linux's
 * tcp_sock_set_nodelay pushes the pending frames). */
static void nodelay_on_pushes_held_data(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    h->nagle = 1;
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, "aaaa", 4), 4);
    pkt_expect(h, ACK | PSH, S, P);
    assert_int_equal(synack_send(k, "bbbb", 4), 4);
    pkt_expect_none(h); /* Nagle: "aaaa" is not acknowledged */
    assert_int_equal(synack_setopt(k, SYNACK_TCP_NODELAY, 1), 0);
    wire_tcp r = pkt_expect(h, ACK | PSH, S + 4, P);
    assert_memory_equal(r.payload, "bbbb", 4);
}

/* Uncorking sends what was corked even while Nagle would hold it (a small
 * segment in flight): Linux pushes with TCP_NAGLE_PUSH. What is written
 * after the uncork meets Nagle again. */
static void uncork_pushes_past_nagle(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    h->nagle = 1;
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, "aaaa", 4), 4);
    pkt_expect(h, ACK | PSH, S, P);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_CORK, 1), 0);
    assert_int_equal(synack_send(k, "bbbb", 4), 4);
    pkt_expect_none(h);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_CORK, 0), 0);
    wire_tcp r = pkt_expect(h, ACK | PSH, S + 4, P);
    assert_memory_equal(r.payload, "bbbb", 4);
    assert_int_equal(synack_send(k, "cccc", 4), 4);
    pkt_expect_none(h); /* Nagle again: "bbbb" is not acknowledged */
}

/* TCP_CORK holds partial segments until uncorked. */
static void cork_holds_until_uncork(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_CORK, 1), 0);
    assert_int_equal(synack_send(k, "head", 4), 4);
    assert_int_equal(synack_send(k, "body", 4), 4);
    pkt_expect_none(h);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_CORK, 0), 0);
    wire_tcp r = pkt_expect(h, ACK | PSH, S, P);
    assert_memory_equal(r.payload, "headbody", 8);
}

/* The write-write-read stall: the peer sent the first half of a request
 * and waits (Nagle) for our ACK before sending the rest; our application
 * read it and has nothing to say yet. The ACK must go at once, not after
 * the delayed-ACK timer. */
static void read_without_reply_acks_at_once(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "GET / HTTP/1.1\r\n", 16, NULL);
    pkt_expect_none(h); /* nobody read it yet: the ACK may wait */
    char buf[64];
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 16);
    pkt_expect(h, ACK, S, P + 16);
}

/* Quick ACKs (Linux's quickack mode): a connection's first data segments
 * are acknowledged one by one, at once, tcp_max_quickacks of them; then
 * ACKs are delayed again. */
static void first_segments_acked_at_once(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_delack_ms=40 tcp_max_quickacks=3");
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    for (uint32_t i = 0; i < 3; i++) {
        pkt_send(h, ACK | PSH, P + i * 10, S, PKT_PEER_WND, "0123456789", 10, NULL);
        pkt_expect(h, ACK, S, P + (i + 1) * 10);
    }
    pkt_send(h, ACK | PSH, P + 30, S, PKT_PEER_WND, "0123456789", 10, NULL);
    pkt_expect_none(h); /* spent: this one waits */
    pkt_advance(h, 40);
    pkt_expect(h, ACK, S, P + 40);
}

/* A silence longer than the RTO brings quick ACKs back (a sender
 * restarting after idle); a shorter one does not. */
static void quick_acks_again_after_idle(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_delack_ms=40 tcp_max_quickacks=1");
    pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "a", 1, NULL);
    pkt_expect(h, ACK, S, P + 1);
    pkt_advance(h, 100); /* well under the RTO (1 s at least) */
    pkt_send(h, ACK | PSH, P + 1, S, PKT_PEER_WND, "b", 1, NULL);
    pkt_expect_none(h);
    pkt_advance(h, 40);
    pkt_expect(h, ACK, S, P + 2);
    pkt_advance(h, 5000); /* longer than the RTO */
    pkt_send(h, ACK | PSH, P + 2, S, PKT_PEER_WND, "c", 1, NULL);
    pkt_expect(h, ACK, S, P + 3);
}

/* Request/response mode has no quick ACKs: the answer carries them. */
static void no_quick_acks_in_request_response_mode(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_delack_ms=40");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_ACK_DELAY, 2000), 0);
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "ping", 4, NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_send(k, "pong", 4), 4);
    pkt_expect(h, ACK | PSH, S, P + 4);
}

/* The SYN,ACK can offer no more than 64 KiB, however large the buffer.
 * Reading the first small request must not send a window update for that
 * alone: the answer carries the larger window (seen in request/response
 * mode, where the read itself sends no ACK). */
static void first_read_sends_no_window_update(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    synack_sock *l = pkt_listen(h, h->port, 4);
    wire_tcp_opts o = pkt_opts_mss(1460);
    o.wscale = 7;
    h->irs = PKT_PEER_ISS;
    pkt_send(h, SYN, h->irs, 0, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1);
    assert_int_equal(sa.wnd, 65535);
    assert_true(sa.opt.wscale > 0);
    h->iss = sa.seq;
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, NULL);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_ACK_DELAY, 2000), 0);
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "GET /\r\n", 7, NULL);
    pkt_expect_none(h);
    char buf[16];
    assert_int_equal(synack_recv(k, buf, sizeof buf), 7);
    pkt_expect_none(h);
    assert_int_equal(synack_send(k, "200\r\n", 5), 5);
    wire_tcp a = pkt_expect(h, ACK | PSH, S, P + 7);
    assert_true((uint32_t)a.wnd << sa.opt.wscale > 65535); /* the larger window, told */
    synack_close(l);
}

/* Request/response mode (SYNACK_TCP_ACK_DELAY): a read request waits for
 * the answer to carry its ACK; without an answer the ACK goes after the
 * socket's own bound, not at the read and not after 40 ms. */
static void ack_delay_lets_the_answer_carry_the_ack(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_ACK_DELAY, 200001), -EINVAL);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_ACK_DELAY, 2000), 0);
    int v = 0;
    assert_int_equal(synack_getopt(k, SYNACK_TCP_ACK_DELAY, &v), 0);
    assert_int_equal(v, 2000);
    char buf[64];
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "ping", 4, NULL);
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 4);
    pkt_expect_none(h); /* read, and no ACK of its own */
    assert_int_equal(synack_send(k, "pong", 4), 4);
    pkt_expect(h, ACK | PSH, S, P + 4); /* the answer carries it */
    pkt_send(h, ACK | PSH, P + 4, S + 4, PKT_PEER_WND, "ping", 4, NULL);
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 4);
    pkt_advance(h, 1);
    pkt_expect_none(h);
    pkt_advance(h, 1); /* no answer within 2 ms: the ACK goes alone */
    pkt_expect(h, ACK, S + 4, P + 8);
    assert_int_equal(pkt_counter(h, tcp_delayed_acks), 1);
}

/* In that mode the peer's FIN is acknowledged by our FIN when the
 * application closes within the bound: a three-segment close. Without an
 * answer the ACK goes alone after the bound. */
static void ack_delay_lets_our_fin_carry_the_ack(void **state)
{
    pkt_h *h = *state = pkt_new(DELACK);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_ACK_DELAY, 2000), 0);
    pkt_send(h, ACK | FIN, P, S, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSE_WAIT);
    pkt_expect_none(h);
    assert_int_equal(synack_shutdown(k, SYNACK_SHUT_WR), 0);
    pkt_expect(h, ACK | FIN, S, P + 1);
    pkt_expect_none(h);

    pkt_h *h2 = pkt_new(DELACK);
    synack_sock *k2 = pkt_established(h2);
    S = h2->iss + 1, P = h2->irs + 1;
    assert_int_equal(synack_setopt(k2, SYNACK_TCP_ACK_DELAY, 2000), 0);
    pkt_send(h2, ACK | FIN, P, S, PKT_PEER_WND, NULL, 0, NULL);
    pkt_advance(h2, 1);
    pkt_expect_none(h2);
    pkt_advance(h2, 1);
    pkt_expect(h2, ACK, S, P + 1);
    pkt_free(h2);
}

/* Keepalive: after the idle time a probe at SND.UNA - 1; answered probes
 * keep the connection; keep_cnt unanswered ones end it with ETIMEDOUT. */
static void keepalive_kills_a_dead_peer(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_TCP_KEEPIDLE, 10), 0);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_KEEPINTVL, 2), 0);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_KEEPCNT, 3), 0);
    assert_int_equal(synack_setopt(k, SYNACK_SO_KEEPALIVE, 1), 0);
    pkt_advance(h, 9999);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, ACK, S - 1, P);
    /* An answer resets the count and the idle period. */
    pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, NULL);
    pkt_advance(h, 2000);
    pkt_expect_none(h);
    pkt_advance(h, 8000);
    pkt_expect(h, ACK, S - 1, P);
    for (int i = 0; i < 2; i++) {
        pkt_advance(h, 2000);
        pkt_expect(h, ACK, S - 1, P);
    }
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    pkt_advance(h, 2000);
    pkt_expect(h, RST | ACK, S, P);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ETIMEDOUT);
    assert_int_equal(pkt_counter(h, tcp_keepalive_probes), 4);
}

/* TCP_KEEPIDLE set after SO_KEEPALIVE (the order programs use) takes
 * effect at once, counted from the peer's last segment, as Linux's
 * tcp_sock_set_keepidle; a time already passed probes now. */
static void keepidle_after_keepalive_rearms(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_setopt(k, SYNACK_SO_KEEPALIVE, 1), 0); /* 7200 s */
    pkt_advance(h, 3000);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_KEEPIDLE, 5), 0);
    pkt_advance(h, 1999);
    pkt_expect_none(h);
    pkt_advance(h, 1);
    pkt_expect(h, ACK, S - 1, P);
    pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, NULL);
    pkt_advance(h, 6000);
    pkt_expect(h, ACK, S - 1, P); /* 5 s after the answer */
    pkt_send(h, ACK, P, S, PKT_PEER_WND, NULL, 0, NULL);
    pkt_advance(h, 4000);
    assert_int_equal(synack_setopt(k, SYNACK_TCP_KEEPIDLE, 2), 0);
    pkt_advance(h, 0);
    pkt_expect(h, ACK, S - 1, P); /* overdue: at once */
}

/* A passive connection with timestamps: the peer's SYN says TSval 5000,
 * its ACK 5010 and its first data, "new" (3 bytes), 5020. `t` is left as
 * the peer's options; *S and *P are our and the peer's next seq. */
static synack_sock *ts_connection(pkt_h *h, wire_tcp_opts *t, uint32_t *S, uint32_t *P)
{
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1460);
    o.has_ts = 1;
    o.ts_val = 5000;
    *P = PKT_PEER_ISS;
    pkt_send(h, SYN, *P, 0, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, *P + 1);
    assert_true(sa.opt.has_ts);
    assert_int_equal(sa.opt.ts_ecr, 5000);
    *S = sa.seq + 1;
    *t = pkt_opts();
    t->has_ts = 1;
    t->ts_val = 5010;
    t->ts_ecr = sa.opt.ts_val;
    pkt_send(h, ACK, *P + 1, *S, PKT_PEER_WND, NULL, 0, t);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    t->ts_val = 5020;
    pkt_send(h, ACK | PSH, *P + 1, *S, PKT_PEER_WND, "new", 3, t);
    assert_int_equal(pkt_expect(h, ACK, *S, *P + 4).opt.ts_ecr, 5020);
    *P += 4;
    return k;
}

/* PAWS: with timestamps in use, a segment whose TSval is older than
 * TS.Recent is an old duplicate: dropped, re-ACKed and counted. */
static void paws_drops_old_timestamp(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    wire_tcp_opts t;
    uint32_t S, P;
    synack_sock *k = ts_connection(h, &t, &S, &P);
    /* An old duplicate with a fresh-looking sequence number: TSval 4000. */
    t.ts_val = 4000;
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "old", 3, &t);
    wire_tcp ack = pkt_expect(h, ACK, S, P);
    assert_int_equal(ack.opt.ts_ecr, 5020);
    assert_int_equal(pkt_counter(h, tcp_paws_estab), 1);
    char buf[8];
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 3);
    assert_memory_equal(buf, "new", 3);
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), -EAGAIN);
}

/* RFC 7323 §4.3: TS.Recent follows only the segment at the left window
 * edge. The duplicate ACK an out-of-order segment draws echoes the last
 * in-order segment's TSval, not the newer one, so the peer's RTT samples
 * include the time the missing data took; the segment that fills the hole
 * is echoed. */
static void out_of_order_timestamp_not_echoed(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    wire_tcp_opts t;
    uint32_t S, P;
    ts_connection(h, &t, &S, &P);
    t.ts_val = 5030;
    pkt_send(h, ACK | PSH, P + 6, S, PKT_PEER_WND, "later", 5, &t); /* a 6-byte hole */
    assert_int_equal(pkt_expect(h, ACK, S, P).opt.ts_ecr, 5020);
    t.ts_val = 5040;
    pkt_send(h, ACK | PSH, P, S, PKT_PEER_WND, "hole!!", 6, &t);
    assert_int_equal(pkt_expect(h, ACK, S, P + 11).opt.ts_ecr, 5040);
    pkt_expect_none(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(lone_segment_ack_delayed_40ms, pkt_teardown),
        cmocka_unit_test_teardown(reply_piggybacks_the_ack, pkt_teardown),
        cmocka_unit_test_teardown(second_full_segment_acked_at_once, pkt_teardown),
        cmocka_unit_test_teardown(out_of_order_and_hole_fill_acked_at_once, pkt_teardown),
        cmocka_unit_test_teardown(retransmission_acked_at_once, pkt_teardown),
        cmocka_unit_test_teardown(nagle_holds_second_small_segment, pkt_teardown),
        cmocka_unit_test_teardown(nodelay_sends_at_once, pkt_teardown),
        cmocka_unit_test_teardown(nodelay_on_pushes_held_data, pkt_teardown),
        cmocka_unit_test_teardown(uncork_pushes_past_nagle, pkt_teardown),
        cmocka_unit_test_teardown(cork_holds_until_uncork, pkt_teardown),
        cmocka_unit_test_teardown(read_without_reply_acks_at_once, pkt_teardown),
        cmocka_unit_test_teardown(first_segments_acked_at_once, pkt_teardown),
        cmocka_unit_test_teardown(quick_acks_again_after_idle, pkt_teardown),
        cmocka_unit_test_teardown(no_quick_acks_in_request_response_mode, pkt_teardown),
        cmocka_unit_test_teardown(first_read_sends_no_window_update, pkt_teardown),
        cmocka_unit_test_teardown(ack_delay_lets_the_answer_carry_the_ack, pkt_teardown),
        cmocka_unit_test_teardown(ack_delay_lets_our_fin_carry_the_ack, pkt_teardown),
        cmocka_unit_test_teardown(keepalive_kills_a_dead_peer, pkt_teardown),
        cmocka_unit_test_teardown(keepidle_after_keepalive_rearms, pkt_teardown),
        cmocka_unit_test_teardown(paws_drops_old_timestamp, pkt_teardown),
        cmocka_unit_test_teardown(out_of_order_timestamp_not_echoed, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
