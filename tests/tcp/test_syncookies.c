/* test_syncookies.c — SYN cookies (RFC 4987 §3.6, Linux's tcp_syncookies):
 * once a listener's SYN queue (its backlog) is full, a SYN is answered
 * with no state kept, and the ACK that echoes the cookie opens the
 * connection with the MSS, window scale, SACK and timestamps the SYN asked
 * for; a forged or stale cookie opens nothing. */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

/* A listener with backlog 1 whose SYN queue is taken by a half-open
 * connection from port 40000: the next SYN meets a full queue. */
static synack_sock *full_listener(pkt_h *h)
{
    synack_sock *l = pkt_listen(h, 80, 1);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    h->peer_port = 40001;
    return l;
}

static void cookie_when_the_syn_queue_is_full(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = full_listener(h);
    wire_tcp_opts o = pkt_opts_mss(1400);
    pkt_send(h, SYN, 5000, 0, 65535, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 5001);
    assert_int_equal(sa.opt.mss, 1460);           /* ours, as always */
    assert_int_equal(sa.opt.wscale, -1);          /* no timestamps: no room for it */
    assert_false(sa.opt.sack_ok);
    assert_int_equal(pkt_counter(h, tcp_syncookies_sent), 1);

    /* The ACK echoing the cookie opens it: ESTABLISHED, ready to accept. */
    pkt_send(h, ACK | PSH, 5001, sa.seq + 1, 65535, "hello", 5, NULL);
    pkt_drain(h); /* the data's ACK, now or delayed */
    assert_int_equal(pkt_counter(h, tcp_syncookies_recv), 1);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    synack_tcp_info i;
    synack_info(k, &i);
    /* The table's value at or below 1400: Linux's IPv4 and IPv6 tables. */
    assert_int_equal(i.snd_mss, pkt_ipv6(h) ? 1220 : 1300);
    assert_int_equal(i.iss, sa.seq);
    assert_int_equal(i.irs, 5000);
    char buf[8];
    assert_int_equal(synack_recv(k, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    /* It works both ways. */
    assert_int_equal(synack_send(k, "ok", 2), 2);
    pkt_expect(h, PKT_ANY_FLAGS, sa.seq + 1, 5006);
}

/* With timestamps, the TSval carries the peer's window scale and
 * SACK-permitted, so the cookie connection loses neither. */
static void cookie_keeps_options_in_the_timestamp(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = full_listener(h);
    wire_tcp_opts o = pkt_opts_ts(777, 0);
    o.wscale = 5;
    o.sack_ok = 1;
    pkt_send(h, SYN, 5000, 0, 65535, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 5001);
    assert_true(sa.opt.has_ts);
    assert_true(sa.opt.wscale >= 0);
    assert_true(sa.opt.sack_ok);
    assert_int_equal(sa.opt.ts_ecr, 777);
    wire_tcp_opts a = pkt_opts_ts(778, sa.opt.ts_val);
    a.mss = 0;
    pkt_send(h, ACK, 5001, sa.seq + 1, 100, NULL, 0, &a);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    synack_tcp_info i;
    synack_info(k, &i);
    assert_int_equal(i.snd_wscale, 5);
    assert_true(i.sack_ok);
    assert_true(i.timestamps);
    assert_int_equal(i.snd_wnd, 100u << 5); /* the ACK's window, scaled */
    assert_int_equal(i.snd_mss, (pkt_ipv6(h) ? 1440 : 1460) - 12);
}

/* An ACK whose cookie is wrong, or one that comes too late, opens nothing
 * and is answered like any stray ACK to a listener: RST. */
static void forged_or_stale_cookie_is_refused(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = full_listener(h);
    pkt_send(h, SYN, 5000, 0, 65535, NULL, 0, NULL);
    uint32_t cookie = pkt_expect(h, SYN | ACK, PKT_ANY, 5001).seq;
    uint32_t forged = cookie + (100u << 24); /* a cookie from 100 minutes away */
    pkt_send(h, ACK, 5001, forged + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, forged + 1, 0);
    assert_int_equal(pkt_counter(h, tcp_syncookies_failed), 1);
    pkt_send(h, ACK, 5002, cookie + 1, 65535, NULL, 0, NULL); /* not the SYN's seq + 1 */
    pkt_expect(h, RST, cookie + 1, 0);
    assert_int_equal(pkt_counter(h, tcp_syncookies_failed), 2);
    pkt_advance(h, 121000); /* past two minutes */
    pkt_drain(h);
    pkt_send(h, ACK, 5001, cookie + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, cookie + 1, 0);
    assert_null(synack_accept(l, NULL));
    assert_int_equal(pkt_counter(h, tcp_syncookies_recv), 0);
}

/* tcp_syncookies=0: a full SYN queue drops the SYN (counted). */
static void without_cookies_a_full_queue_drops(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_syncookies=0");
    full_listener(h);
    pkt_send(h, SYN, 5000, 0, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_syncookies_sent), 0);
    assert_int_equal(pkt_counter(h, tcp_listen_drops), 1);
    assert_int_equal(synack_drop_count(h->s, SYNACK_DROP_LISTEN_QUEUE_FULL), 1);
}

/* tcp_syncookies=2: every SYN gets a cookie, even with room. */
static void always_cookies(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_syncookies=2");
    synack_sock *l = pkt_listen(h, 80, 8);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, NULL);
    uint32_t cookie = pkt_expect(h, SYN | ACK, PKT_ANY, 1001).seq;
    assert_int_equal(pkt_counter(h, tcp_syncookies_sent), 1);
    assert_int_equal(pkt_next_deadline_ms(h), UINT64_MAX); /* nothing to retransmit: no state */
    pkt_send(h, ACK, 1001, cookie + 1, 65535, NULL, 0, NULL);
    assert_non_null(synack_accept(l, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(cookie_when_the_syn_queue_is_full, pkt_teardown),
        cmocka_unit_test_teardown(cookie_keeps_options_in_the_timestamp, pkt_teardown),
        cmocka_unit_test_teardown(forged_or_stale_cookie_is_refused, pkt_teardown),
        cmocka_unit_test_teardown(without_cookies_a_full_queue_drops, pkt_teardown),
        cmocka_unit_test_teardown(always_cookies, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
