/* test_data.c — the data path: in-order and out-of-order delivery (RFC 9293
 * §3.10.7.4 seventh, RFC 2018 SACK blocks), segmentation by MSS, the
 * receive window (trimming, §3.8.6) and window scaling (RFC 7323 §2). */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

/* Passive open where the peer's SYN carries `o` and window `wnd` (also the
 * window of its third ACK). */
static synack_sock *established_with(pkt_h *h, synack_sock *l, uint16_t wnd,
                                     const wire_tcp_opts *o)
{
    h->irs = PKT_PEER_ISS;
    pkt_send(h, SYN, h->irs, 0, wnd, NULL, 0, o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1);
    h->iss = sa.seq;
    pkt_send(h, ACK, h->irs + 1, h->iss + 1, wnd, NULL, 0, NULL);
    pkt_expect_none(h);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    return k;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(seed + i * 7);
}

/* In-order data is delivered and acknowledged at once. */
static void in_order_delivery(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_events(h, k);
    pkt_send(h, ACK | PSH, P, S, 65535, "hello", 5, NULL);
    wire_tcp a = pkt_expect(h, ACK, S, P + 5);
    assert_int_equal(a.wnd, 65535); /* 128 KiB free, no scaling: the field saturates */
    assert_int_equal(a.payload_len, 0);
    pkt_expect_none(h);
    assert_true(pkt_events(h, k) & SYNACK_EV_READABLE);
    assert_int_equal(synack_readable(k), 5);
    pkt_send(h, ACK, P + 5, S, 65535, " world", 6, NULL);
    pkt_expect(h, ACK, S, P + 11);
    char b[32];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 11);
    assert_memory_equal(b, "hello world", 11);
    assert_int_equal(synack_recv(k, b, sizeof(b)), -EAGAIN);
    /* A retransmission of delivered data is acknowledged, not delivered twice. */
    pkt_send(h, ACK | PSH, P, S, 65535, "hello", 5, NULL);
    pkt_expect(h, ACK, S, P + 11);
    pkt_expect_none(h);
    assert_int_equal(synack_readable(k), 0);
    /* Overlapping old and new bytes: only the new part is delivered. */
    pkt_send(h, ACK | PSH, P + 6, S, 65535, "world!", 6, NULL);
    pkt_expect(h, ACK, S, P + 12);
    assert_int_equal(synack_recv(k, b, sizeof(b)), 1);
    assert_int_equal(b[0], '!');
}

/* A segment at RCV.NXT corrupted on the way is dropped and counted, into
 * an empty ring or one holding data, and leaves nothing behind: the right
 * segment then delivers its own bytes. So does one that a later step
 * refuses (an ACK of data never sent, RFC 5961 §5.2). */
static void corrupt_data_at_rcv_nxt_leaves_nothing(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    h->corrupt_next = 1 + 2;
    pkt_send(h, ACK | PSH, P, S, 65535, "hello", 5, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_in_csum_errors), 1);
    assert_int_equal(synack_readable(k), 0);
    pkt_send(h, ACK | PSH, P, S, 65535, "hello", 5, NULL);
    pkt_expect(h, ACK, S, P + 5);

    h->corrupt_next = 1 + 3; /* the ring holds "hello" now */
    pkt_send(h, ACK | PSH, P + 5, S, 65535, " world", 6, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_in_csum_errors), 2);
    assert_int_equal(synack_readable(k), 5);
    pkt_send(h, ACK | PSH, P + 5, S + 100, 65535, "XXXXXX", 6, NULL);
    pkt_expect(h, ACK, S, P + 5);
    assert_int_equal(synack_readable(k), 5);
    pkt_send(h, ACK | PSH, P + 5, S, 65535, " world", 6, NULL);
    pkt_expect(h, ACK, S, P + 11);
    char b[32];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 11);
    assert_memory_equal(b, "hello world", 11);
    assert_int_equal(pkt_counter(h, tcp_in_csum_errors), 2);
}

/* Held out-of-order bytes sit in the ring's free space: a corrupt segment
 * that would fill the hole and run over them touches nothing (a receiver
 * that copied while it checked could overwrite them). The held bytes
 * survive, and the right segment delivers everything in order. */
static void corrupt_fill_leaves_held_data(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK | PSH, P, S, 65535, "abc", 3, NULL); /* the ring holds data */
    pkt_expect(h, ACK, S, P + 3);
    pkt_send(h, ACK | PSH, P + 8, S, 65535, "world", 5, NULL);
    pkt_expect(h, ACK, S, P + 3);
    h->corrupt_next = 1 + 7; /* in the part that overlaps "world" */
    pkt_send(h, ACK | PSH, P + 3, S, 65535, "helloWORLD", 10, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_in_csum_errors), 1);
    pkt_send(h, ACK | PSH, P + 3, S, 65535, "hello", 5, NULL);
    pkt_expect(h, ACK, S, P + 13);
    char b[32];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 13);
    assert_memory_equal(b, "abchelloworld", 13);
}

/* Out-of-order segments are held; each draws a duplicate ACK; filling the
 * hole delivers everything in order with one cumulative ACK. */
static void out_of_order_reassembly(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P + 5, S, 65535, "world", 5, NULL);
    wire_tcp d = pkt_expect(h, ACK, S, P);
    assert_int_equal(d.opt.sack_count, 0); /* SACK was not negotiated */
    pkt_send(h, ACK, P + 10, S, 65535, "!!", 2, NULL);
    pkt_expect(h, ACK, S, P);
    pkt_expect_none(h);
    assert_int_equal(synack_readable(k), 0);
    char b[32];
    assert_int_equal(synack_recv(k, b, sizeof(b)), -EAGAIN);
    assert_int_equal(pkt_counter(h, tcp_ofo_queue), 2);

    pkt_send(h, ACK, P, S, 65535, "hello", 5, NULL);
    pkt_expect(h, ACK, S, P + 12);
    pkt_expect_none(h);
    assert_int_equal(synack_recv(k, b, sizeof(b)), 12);
    assert_memory_equal(b, "helloworld!!", 12);
}

/* With SACK agreed, the duplicate ACKs report what we hold (RFC 2018 §4),
 * the most recent block first; a FIN beyond the hole is held until the
 * hole fills. */
static void out_of_order_with_sack(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1460);
    o.sack_ok = 1;
    synack_sock *k = established_with(h, l, 65535, &o);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P + 10, S, 65535, "ccccc", 5, NULL);
    wire_tcp d = pkt_expect(h, ACK, S, P);
    assert_int_equal(d.opt.sack_count, 1);
    assert_int_equal(d.opt.sack[0][0], P + 10);
    assert_int_equal(d.opt.sack[0][1], P + 15);
    pkt_send(h, ACK | FIN, P + 20, S, 65535, "eeeee", 5, NULL);
    d = pkt_expect(h, ACK, S, P);
    assert_int_equal(d.opt.sack_count, 2);
    assert_int_equal(d.opt.sack[0][0], P + 20);
    assert_int_equal(d.opt.sack[0][1], P + 25);
    assert_int_equal(d.opt.sack[1][0], P + 10);
    assert_int_equal(d.opt.sack[1][1], P + 15);
    pkt_send(h, ACK, P + 5, S, 65535, "bbbbb", 5, NULL); /* merges with [10,15) */
    d = pkt_expect(h, ACK, S, P);
    assert_int_equal(d.opt.sack_count, 2);
    assert_int_equal(d.opt.sack[0][0], P + 5);
    assert_int_equal(d.opt.sack[0][1], P + 15);
    pkt_send(h, ACK, P, S, 65535, "aaaaa", 5, NULL);
    d = pkt_expect(h, ACK, S, P + 15);
    assert_int_equal(d.opt.sack_count, 1);
    pkt_send(h, ACK, P + 15, S, 65535, "ddddd", 5, NULL);
    d = pkt_expect(h, ACK, S, P + 26); /* the held FIN counts now the hole is filled */
    assert_int_equal(d.opt.sack_count, 0);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSE_WAIT);
    char b[32];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 25);
    assert_memory_equal(b, "aaaaabbbbbcccccdddddeeeee", 25);
    assert_int_equal(synack_recv(k, b, sizeof(b)), 0);
}

/* Sending: segments of the peer's MSS, PSH on the last, within cwnd. */
static void send_segments_by_mss(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h); /* peer MSS 1460 */
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t data[3000];
    fill(data, sizeof(data), 1);
    assert_int_equal(synack_send(k, data, sizeof(data)), 3000);
    wire_tcp s1 = pkt_expect(h, ACK, S, P);
    assert_int_equal(s1.payload_len, 1460);
    assert_memory_equal(s1.payload, data, 1460);
    assert_int_equal(s1.wnd, 65535);
    wire_tcp s2 = pkt_expect(h, ACK, S + 1460, P);
    assert_int_equal(s2.payload_len, 1460);
    assert_memory_equal(s2.payload, data + 1460, 1460);
    wire_tcp s3 = pkt_expect(h, ACK | PSH, S + 2920, P);
    assert_int_equal(s3.payload_len, 80);
    assert_memory_equal(s3.payload, data + 2920, 80);
    pkt_expect_none(h);
    pkt_send(h, ACK, P, S + 3000, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.snd_una, S + 3000);
    assert_int_equal(i.unacked, 0);
    assert_int_equal(i.bytes_acked, 3000);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX); /* nothing in flight */
}

/* The peer's window limits what we send; its ACK opens room for more. A
 * sliver of window below half the largest window seen is not used (sender
 * silly window avoidance, RFC 9293 §3.8.6.2.1). */
static void send_within_peer_window(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1000);
    synack_sock *k = established_with(h, l, 1500, &o);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t data[4000];
    fill(data, sizeof(data), 3);
    assert_int_equal(synack_send(k, data, sizeof(data)), 4000);
    assert_int_equal(pkt_expect(h, ACK, S, P).payload_len, 1000);
    pkt_expect_none(h); /* 500 bytes of window left: below 1500 / 2, wait */
    pkt_send(h, ACK, P, S + 1000, 1500, NULL, 0, NULL); /* right edge moves to S+2500 */
    assert_int_equal(pkt_expect(h, ACK, S + 1000, P).payload_len, 1000);
    pkt_expect_none(h);
    pkt_send(h, ACK, P, S + 2000, 3000, NULL, 0, NULL); /* right edge S+5000 */
    assert_int_equal(pkt_expect(h, ACK, S + 2000, P).payload_len, 1000);
    wire_tcp last = pkt_expect(h, ACK | PSH, S + 3000, P);
    assert_int_equal(last.payload_len, 1000);
    assert_memory_equal(last.payload, data + 3000, 1000);
    pkt_expect_none(h);
}

/* A window sliver is used once it is at least half the largest window the
 * peer offered, and the persist timer pushes one out if nothing else will. */
static void sws_sliver_sent_by_persist(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1000);
    synack_sock *k = established_with(h, l, 1500, &o);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    static uint8_t data[3000];
    fill(data, sizeof(data), 4);
    assert_int_equal(synack_send(k, data, sizeof(data)), 3000);
    assert_int_equal(pkt_expect(h, ACK, S, P).payload_len, 1000);
    pkt_expect_none(h); /* 500 of window for 2000 waiting bytes: a sliver */
    pkt_send(h, ACK, P, S + 1000, 400, NULL, 0, NULL); /* 400 < 1500/2: hold */
    pkt_expect_none(h);
    pkt_advance(h, 1100); /* the persist timer (RTO 1 s) forces the sliver out */
    wire_tcp probe = pkt_expect(h, ACK, S + 1000, P);
    assert_true(probe.payload_len >= 1 && probe.payload_len <= 400);
}

/* A connection with a 4,096-byte receive buffer, no window scaling and
 * the peer's MSS 1,000 (ours stays 1,460), and the peer's first 2,048 bytes
 * received and acknowledged: window 2,048 announced. */
static synack_sock *small_buffer_half_full(pkt_h **hp, uint8_t *data)
{
    pkt_h *h = *hp = pkt_new("tcp_window_scaling=0");
    synack_sock *l = pkt_listen(h, 80, 8);
    assert_int_equal(synack_setopt(l, SYNACK_SO_RCVBUF, 4096), 0);
    wire_tcp_opts o = pkt_opts_mss(1000);
    synack_sock *k = established_with(h, l, 8000, &o);
    fill(data, 4096, 9);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P, S, 8000, data, 2048, NULL);
    assert_int_equal(pkt_expect(h, ACK, S, P + 2048).wnd, 2048);
    return k;
}

/* Receiver silly window avoidance (RFC 9293 §3.8.6.2.2): once the window
 * is closed, reading a little does not reopen it by a little; it reopens
 * when min(buffer / 2, MSS) is free. Until then every ACK, including those
 * sent anyway, keeps the right edge where it was ("move it usefully or not
 * at all"), so the peer never sends a silly small segment into a sliver. */
static void receiver_sws_avoidance(void **state)
{
    static uint8_t data[4096], buf[4096];
    pkt_h *h;
    synack_sock *k = small_buffer_half_full(&h, data);
    *state = h;
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P + 2048, S, 8000, data + 2048, 2048, NULL);
    wire_tcp a = pkt_expect(h, ACK, S, P + 4096);
    assert_int_equal(a.wnd, 0); /* full */
    assert_int_equal(synack_recv(k, buf, 100), 100);
    pkt_expect_none(h); /* 100 bytes free: not worth announcing */
    pkt_send(h, ACK, P + 4096, S, 8000, NULL, 0, NULL); /* a probe-like ACK */
    pkt_expect_none(h);
    /* A retransmitted segment draws an ACK at once; it still says 0, not 100. */
    pkt_send(h, ACK, P + 4000, S, 8000, data + 4000, 96, NULL);
    assert_int_equal(pkt_expect(h, ACK, S, P + 4096).wnd, 0);
    assert_int_equal(synack_recv(k, buf, 1000), 1000); /* 1100 free: under min(2048, MSS 1460) */
    pkt_expect_none(h);
    pkt_send(h, ACK, P + 4000, S, 8000, data + 4000, 96, NULL);
    assert_int_equal(pkt_expect(h, ACK, S, P + 4096).wnd, 0);
    assert_int_equal(synack_recv(k, buf, 500), 500); /* 1600 free */
    wire_tcp u = pkt_expect(h, ACK, S, P + 4096); /* min(2048, MSS) reached: window update */
    assert_int_equal(u.wnd, 1600); /* all of it */
    pkt_expect_none(h);
}

/* A reader that keeps up does not cost an extra segment per read: the
 * window update of its own goes out only once the window we announced has
 * fallen to half of what we could announce (Linux's tcp_cleanup_rbuf);
 * until then the peer's data is what the next ACK answers. */
static void window_update_waits_for_half_the_buffer(void **state)
{
    static uint8_t data[4096], buf[4096];
    pkt_h *h;
    synack_sock *k = small_buffer_half_full(&h, data);
    *state = h;
    uint32_t S = h->iss + 1, P = h->irs + 1;
    /* 1,500 read: 3,548 free, more than an MSS beyond the 2,048 announced,
     * but 2,048 is more than half of 3,548: no segment for that. */
    assert_int_equal(synack_recv(k, buf, 1500), 1500);
    pkt_expect_none(h);
    pkt_advance(h, 200); /* nothing is owed later either */
    pkt_expect_none(h);
    /* The rest read: 4,096 free, twice the 2,048 announced: update. */
    assert_int_equal(synack_recv(k, buf, sizeof(buf)), 548);
    assert_int_equal(pkt_expect(h, ACK, S, P + 2048).wnd, 4096);
    pkt_expect_none(h);
}

/* Data past our window's right edge is trimmed; the ACK says how much was
 * taken and that the window is now closed (RFC 9293 §3.10.7.4 first). */
static void data_beyond_window_trimmed(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = synack_socket(h->s);
    assert_int_equal(synack_setopt(l, SYNACK_SO_RCVBUF, 4096), 0);
    synack_bind(l, 80);
    synack_listen(l, 8);
    h->port = 80;
    h->irs = 1000;
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, NULL);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    assert_int_equal(sa.wnd, 4096);
    uint32_t S = sa.seq + 1, P = 1001;
    pkt_send(h, ACK, P, S, 65535, NULL, 0, NULL);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);

    static uint8_t data[5000];
    fill(data, sizeof(data), 9);
    pkt_send(h, ACK, P, S, 65535, data, 3000, NULL);
    assert_int_equal(pkt_expect(h, ACK, S, P + 3000).wnd, 1096);
    pkt_send(h, ACK, P + 3000, S, 65535, data + 3000, 2000, NULL);
    assert_int_equal(pkt_expect(h, ACK, S, P + 4096).wnd, 0);
    pkt_expect_none(h);
    assert_int_equal(synack_readable(k), 4096);

    /* Zero window: a segment with data is not acceptable; we ACK. */
    pkt_send(h, ACK, P + 4096, S, 65535, data + 4096, 100, NULL);
    assert_int_equal(pkt_expect(h, ACK, S, P + 4096).wnd, 0);
    pkt_expect_none(h);
    assert_int_equal(synack_readable(k), 4096);

    /* Reading reopens the window, and the stack says so. */
    static uint8_t b[5000];
    assert_int_equal(synack_recv(k, b, sizeof(b)), 4096);
    assert_memory_equal(b, data, 4096);
    assert_int_equal(pkt_expect(h, ACK, S, P + 4096).wnd, 4096);
    pkt_expect_none(h);
    pkt_send(h, ACK, P + 4096, S, 65535, data + 4096, 904, NULL);
    pkt_expect(h, ACK, S, P + 5000);
    assert_int_equal(synack_recv(k, b, sizeof(b)), 904);
    assert_memory_equal(b, data + 4096, 904);
}

/* Window scaling: the peer's shift applies to every window after the
 * handshake, never to the SYN's (RFC 7323 §2.2, §2.3). */
static void window_scaling_after_handshake(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1000);
    o.wscale = 2;
    h->irs = 1000;
    pkt_send(h, SYN, 1000, 0, 1000, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    assert_int_equal(sa.opt.wscale, 7);
    assert_int_equal(sa.wnd, 65535); /* our SYN,ACK window: unscaled */
    uint32_t S = sa.seq + 1, P = 1001;
    pkt_send(h, ACK, P, S, 1000, NULL, 0, NULL); /* 1000 << 2 = 4000 bytes */
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.snd_wscale, 2);
    assert_int_equal(i.snd_wnd, 4000);

    static uint8_t data[6000];
    fill(data, sizeof(data), 5);
    assert_int_equal(synack_send(k, data, sizeof(data)), 6000);
    assert_int_equal(pkt_expect(h, ACK, S, P).payload_len, 1000);
    assert_int_equal(pkt_expect(h, ACK, S + 1000, P).payload_len, 1000);
    assert_int_equal(pkt_expect(h, ACK, S + 2000, P).payload_len, 1000);
    wire_tcp w = pkt_expect(h, ACK, S + 3000, P);
    assert_int_equal(w.payload_len, 1000);
    pkt_expect_none(h);
    /* Our own windows are announced scaled by 7. */
    assert_int_equal(w.wnd, 131072 >> 7);
    pkt_send(h, ACK | PSH, P, S, 1000, "x", 1, NULL);
    assert_int_equal(pkt_expect(h, ACK, S + 4000, P + 1).wnd, (131072 - 1) >> 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(in_order_delivery, pkt_teardown),
        cmocka_unit_test_teardown(corrupt_data_at_rcv_nxt_leaves_nothing, pkt_teardown),
        cmocka_unit_test_teardown(corrupt_fill_leaves_held_data, pkt_teardown),
        cmocka_unit_test_teardown(out_of_order_reassembly, pkt_teardown),
        cmocka_unit_test_teardown(out_of_order_with_sack, pkt_teardown),
        cmocka_unit_test_teardown(send_segments_by_mss, pkt_teardown),
        cmocka_unit_test_teardown(send_within_peer_window, pkt_teardown),
        cmocka_unit_test_teardown(sws_sliver_sent_by_persist, pkt_teardown),
        cmocka_unit_test_teardown(receiver_sws_avoidance, pkt_teardown),
        cmocka_unit_test_teardown(window_update_waits_for_half_the_buffer, pkt_teardown),
        cmocka_unit_test_teardown(data_beyond_window_trimmed, pkt_teardown),
        cmocka_unit_test_teardown(window_scaling_after_handshake, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
