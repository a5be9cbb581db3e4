/* test_timewait.c — the compact TIME-WAIT table and its input rules, as
 * packet conversations (tests/common/pkt.h). */
#include "common/pkt.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

/* The heap's live bytes, from the address sanitizer the tests build with. */
#if defined(__SANITIZE_ADDRESS__)
#define SYNACK_TEST_HEAP_BYTES 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SYNACK_TEST_HEAP_BYTES 1
#endif
#endif
#if SYNACK_TEST_HEAP_BYTES
size_t __sanitizer_get_current_allocated_bytes(void); /* the sanitizer's runtime */
#endif

/* A passive connection with timestamps; the peer's TSval starts at 5000. */
static synack_sock *open_ts(pkt_h *h, synack_sock *l, uint32_t *ours)
{
    h->irs = PKT_PEER_ISS;
    wire_tcp_opts o = pkt_opts_ts(5000, 0);
    pkt_send(h, SYN, h->irs, 0, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1);
    assert_true(sa.opt.has_ts);
    h->iss = sa.seq;
    *ours = sa.opt.ts_val;
    o = pkt_opts_ts(5001, *ours);
    pkt_send(h, ACK, h->irs + 1, h->iss + 1, PKT_PEER_WND, NULL, 0, &o);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    return k;
}

/* We close first: FIN, the peer's ACK, the peer's FIN, our ACK: TIME-WAIT.
 * With `ts` the peer's segments carry TSval 7002 and echo `ours`. */
static void close_to_time_wait(pkt_h *h, synack_sock *k, bool ts, uint32_t ours)
{
    wire_tcp_opts o = pkt_opts_ts(7002, ours);
    pkt_to_time_wait(h, k, ts ? &o : NULL);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
}

/* The peer opens a connection to `l` from the next port; the application
 * closes it at once and the four-way close leaves it, orphaned, in
 * TIME-WAIT. */
static void orphan_to_time_wait(pkt_h *h, synack_sock *l)
{
    h->peer_port++;
    synack_sock *k = pkt_passive_open(h, l);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    synack_close(k);
    pkt_expect(h, FIN | ACK, S, P);
    pkt_send(h, FIN | ACK, P, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 1);
}

/* What a busy server relies on: closed connections in TIME-WAIT cost their
 * small records, not connections (a TCB is ~1 KB, its buffers 144 KiB), so
 * a million of them cannot exhaust memory. Measured as the heap's growth
 * (the sanitizer's count of live bytes) while 1,024 connections are opened,
 * closed and left in TIME-WAIT, against what synack.h promises: an entry of
 * synack_time_wait_entry_size() bytes (under 64) plus a 4-byte hash slot
 * each, and at most one slab of 256 entries allocated ahead. */
static void time_wait_costs_records_not_connections(void **state)
{
#if SYNACK_TEST_HEAP_BYTES
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 8);
    orphan_to_time_wait(h, l); /* the first slab and every lazy allocation */
    size_t before = __sanitizer_get_current_allocated_bytes();
    enum { N = 1024 };
    for (int i = 1; i < N; i++)
        orphan_to_time_wait(h, l);
    size_t grown = __sanitizer_get_current_allocated_bytes() - before;
    assert_int_equal(synack_time_wait_count(h->s), N);
    size_t entry = synack_time_wait_entry_size();
    assert_true(entry < 64);
    size_t bound = (size_t)N * (entry + 4) + 256 * entry;
    if (grown > bound)
        fail_msg("%d connections in TIME-WAIT grew the heap by %zu bytes (%zu each); "
                 "records of %zu bytes allow %zu",
                 N, grown, grown / N, entry, bound);
    /* And they all expire: the memory is the records', for 2MSL only. */
    pkt_advance(h, 60000);
    assert_int_equal(synack_time_wait_count(h->s), 0);
#else
    (void)state;
    skip(); /* needs the sanitizer's heap count: `make test` builds with it */
#endif
}

/* Entering TIME-WAIT frees the connection: an orphaned one leaves only the
 * record, which answers for it and expires after 2MSL. */
static void orphan_leaves_only_a_record(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_msl=1000");
    synack_sock *l = pkt_listen(h, 80, 4);
    synack_sock *k = pkt_passive_open(h, l);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    synack_close(k); /* orphaned from here on */
    pkt_expect(h, FIN | ACK, S, P);
    pkt_send(h, FIN | ACK, P, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 1);
    assert_int_equal(synack_time_wait_count(h->s), 1);
    assert_int_equal(pkt_counter(h, tcp_time_waited), 1);
    /* The retransmitted FIN is answered by the record. */
    pkt_advance(h, 500);
    pkt_send(h, FIN | ACK, P, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 1);
    assert_int_equal(pkt_counter(h, tcp_tw_fin_reacked), 1);
    pkt_advance(h, 1999);
    assert_int_equal(synack_time_wait_count(h->s), 1);
    pkt_advance(h, 1);
    assert_int_equal(synack_time_wait_count(h->s), 0);
    /* Gone: a segment now meets CLOSED and a RST. */
    pkt_send(h, ACK, P + 1, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, RST, S + 1, PKT_ANY);
    synack_close(l);
}

/* The application's handle reads TIME-WAIT, still reads buffered data, and
 * turns CLOSED when the record expires. */
static void handle_keeps_working(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_msl=1000");
    synack_sock *l = pkt_listen(h, 80, 4);
    synack_sock *k = pkt_passive_open(h, l);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_to_fin_wait_1(h, k);
    pkt_send(h, FIN | ACK, P, S + 1, 65535, "hello", 5, NULL);
    pkt_expect(h, ACK, S + 1, P + 6);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    char b[16];
    assert_int_equal(synack_recv(k, b, sizeof b), 5);
    assert_memory_equal(b, "hello", 5);
    assert_int_equal(synack_recv(k, b, sizeof b), 0);
    assert_int_equal(synack_send(k, "x", 1), -EPIPE);
    pkt_advance(h, 2000);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_true(pkt_events(h, k) & SYNACK_EV_CLOSED);
    synack_close(k);
    synack_close(l);
}

/* PAWS: a segment whose timestamp is older than TS.Recent is answered with
 * an ACK and counted, and does not end TIME-WAIT. */
static void paws_in_time_wait(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_msl=1000");
    synack_sock *l = pkt_listen(h, 80, 4);
    uint32_t ours;
    synack_sock *k = open_ts(h, l, &ours);
    close_to_time_wait(h, k, true, ours);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    wire_tcp_opts old = pkt_opts_ts(4000, ours);
    pkt_send(h, RST, P + 1, 0, 0, NULL, 0, &old); /* old timestamp: PAWS protects */
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    pkt_send(h, ACK, P + 1, S + 1, 65535, "zz", 2, &old);
    wire_tcp a = pkt_expect(h, ACK, S + 1, P + 1);
    assert_true(a.opt.has_ts);
    assert_int_equal(a.opt.ts_ecr, 7002);
    assert_true(pkt_counter(h, tcp_tw_paws_rejected) >= 1);
    synack_close(k);
    synack_close(l);
}

/* Duplicate ACKs from TIME-WAIT are rate-limited (tcp_invalid_ratelimit). */
static void acks_rate_limited(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_msl=10000");
    synack_sock *l = pkt_listen(h, 80, 4);
    synack_sock *k = pkt_passive_open(h, l);
    close_to_time_wait(h, k, false, 0);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, ACK, P + 100, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 1);
    pkt_send(h, ACK, P + 100, S + 1, 65535, NULL, 0, NULL);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_tw_ack_skipped), 1);
    pkt_advance(h, 500);
    pkt_send(h, ACK, P + 100, S + 1, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 1);
    synack_close(k);
    synack_close(l);
}

/* RFC 6191 / RFC 1122 §4.2.2.13: a SYN beyond RCV.NXT starts a new
 * incarnation, with our ISN above the old SND.NXT. */
static void syn_reopens_with_higher_isn(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 4);
    synack_sock *k = pkt_passive_open(h, l);
    close_to_time_wait(h, k, false, 0);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    synack_close(k);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, P + 100000, 0, 65535, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, P + 100001);
    assert_int_equal(sa.seq, S + 1 + 65535 + 2);
    assert_int_equal(pkt_counter(h, tcp_tw_syn_reopen), 1);
    assert_int_equal(synack_time_wait_count(h->s), 0);
    synack_close(l);
}

/* A SYN below RCV.NXT (and no newer timestamp) may be an old duplicate:
 * TIME-WAIT answers with an ACK and stays. */
static void old_syn_does_not_reopen(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 4);
    synack_sock *k = pkt_passive_open(h, l);
    close_to_time_wait(h, k, false, 0);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    pkt_send(h, SYN, P - 10, 0, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, S + 1, P + 1);
    assert_int_equal(synack_sock_state(k), SYNACK_TIME_WAIT);
    assert_int_equal(synack_time_wait_count(h->s), 1);
    synack_close(k);
    synack_close(l);
}

/* A SYN with a newer timestamp reopens even below RCV.NXT (Linux's rule). */
static void newer_timestamp_reopens(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 4);
    uint32_t ours;
    synack_sock *k = open_ts(h, l, &ours);
    close_to_time_wait(h, k, true, ours);
    uint32_t P = h->irs + 1;
    wire_tcp_opts o = pkt_opts_ts(9000, 0);
    pkt_send(h, SYN, P - 10, 0, 65535, NULL, 0, &o);
    pkt_expect(h, SYN | ACK, PKT_ANY, P - 9);
    assert_int_equal(pkt_counter(h, tcp_tw_syn_reopen), 1);
    synack_close(k);
    synack_close(l);
}

/* tcp_max_tw_buckets: when full, TIME-WAIT is skipped and counted. */
static void table_full_skips_time_wait(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_max_tw_buckets=0");
    synack_sock *l = pkt_listen(h, 80, 4);
    synack_sock *k = pkt_passive_open(h, l);
    pkt_to_time_wait_at_once(h, k); /* but the table is full */
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(pkt_counter(h, tcp_tw_overflow), 1);
    assert_int_equal(synack_time_wait_count(h->s), 0);
    synack_close(k);
    synack_close(l);
}

/* A listener cannot bind a port TIME-WAIT holds unless SO_REUSEADDR. */
static void reuseaddr_over_time_wait(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *l = pkt_listen(h, 80, 4);
    synack_sock *k = pkt_passive_open(h, l);
    close_to_time_wait(h, k, false, 0);
    synack_close(k);
    synack_close(l);
    synack_sock *l2 = synack_socket(h->s);
    assert_int_equal(synack_bind(l2, 80), -EADDRINUSE);
    synack_setopt(l2, SYNACK_SO_REUSEADDR, 1);
    assert_int_equal(synack_bind(l2, 80), 0);
    assert_int_equal(synack_listen(l2, 4), 0);
    synack_close(l2);
}

/* tcp_tw_reuse: with one ephemeral port, a connect while it is in TIME-WAIT
 * fails until 1 s after the last timestamp, then takes the 4-tuple over. */
static void tw_reuse_rules(void **state)
{
    for (int reuse = 0; reuse <= 1; reuse++) {
        pkt_h *h = pkt_new(reuse ? "ip_local_port_range=40000,40000 tcp_tw_reuse=1"
                                 : "ip_local_port_range=40000,40000 tcp_tw_reuse=0");
        *state = h;
        synack_sock *k = synack_socket(h->s);
        assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
        h->port = 40000;
        wire_tcp syn = pkt_expect(h, SYN, PKT_ANY, 0);
        assert_true(syn.opt.has_ts);
        h->iss = syn.seq;
        h->irs = PKT_PEER_ISS;
        wire_tcp_opts o = pkt_opts_ts(7000, syn.opt.ts_val);
        pkt_send(h, SYN | ACK, h->irs, h->iss + 1, 65535, NULL, 0, &o);
        pkt_expect(h, ACK, h->iss + 1, h->irs + 1);
        close_to_time_wait(h, k, true, syn.opt.ts_val);
        synack_close(k);
        synack_sock *k2 = synack_socket(h->s);
        assert_int_equal(pkt_connect(h, k2, h->peer_port), -EADDRNOTAVAIL);
        pkt_advance(h, 1000);
        int rc = pkt_connect(h, k2, h->peer_port);
        if (!reuse) {
            assert_int_equal(rc, -EADDRNOTAVAIL);
        } else {
            assert_int_equal(rc, 0);
            wire_tcp s2 = pkt_expect(h, SYN, PKT_ANY, 0);
            assert_int_equal(s2.seq, h->iss + 2 + 65535 + 2);
            assert_int_equal(pkt_counter(h, tcp_tw_recycled), 1);
        }
        synack_close(k2);
        pkt_free(h);
        *state = NULL;
    }
}

/* tcp_timestamps=1 gives each 4-tuple its own offset; 2 gives none. */
static void timestamp_offsets(void **state)
{
    uint32_t val[2];
    for (int mode = 1; mode <= 2; mode++) {
        pkt_h *h = pkt_new(mode == 1 ? "tcp_timestamps=1" : "tcp_timestamps=2");
        *state = h;
        synack_sock *k = synack_socket(h->s);
        assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
        h->port = 0;
        wire_tcp t;
        assert_true(pkt_parse(h, h->q[h->qhead].data, h->q[h->qhead].len, &t));
        val[mode - 1] = t.opt.ts_val;
        pkt_drain(h);
        synack_abort(k);
        pkt_free(h);
        *state = NULL;
    }
    assert_int_equal(val[1], (uint32_t)(PKT_T0 / PKT_MS)); /* no offset: the clock itself */
    assert_int_not_equal(val[0], val[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(time_wait_costs_records_not_connections, pkt_teardown),
        cmocka_unit_test_teardown(orphan_leaves_only_a_record, pkt_teardown),
        cmocka_unit_test_teardown(handle_keeps_working, pkt_teardown),
        cmocka_unit_test_teardown(paws_in_time_wait, pkt_teardown),
        cmocka_unit_test_teardown(acks_rate_limited, pkt_teardown),
        cmocka_unit_test_teardown(syn_reopens_with_higher_isn, pkt_teardown),
        cmocka_unit_test_teardown(old_syn_does_not_reopen, pkt_teardown),
        cmocka_unit_test_teardown(newer_timestamp_reopens, pkt_teardown),
        cmocka_unit_test_teardown(table_full_skips_time_wait, pkt_teardown),
        cmocka_unit_test_teardown(reuseaddr_over_time_wait, pkt_teardown),
        cmocka_unit_test_teardown(tw_reuse_rules, pkt_teardown),
        cmocka_unit_test_teardown(timestamp_offsets, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
