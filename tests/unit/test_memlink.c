/* test_memlink.c — the in-memory link: frames arrive intact and in order
 * across the ring's wrap, a full inbox drops and counts, and two stacks
 * joined by it handshake and move data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "dev/memlink.h"

/* A fake "stack": memlink only passes the pointer to synack_input, so the
 * order and bytes are checked through a real stack's counters instead.
 * Here the ring itself is exercised through memlink_output and pending. */
static void ring_wraps_and_drops(void **state)
{
    (void)state;
    memlink *m = memlink_new(256);
    assert_non_null(m);
    synack_config cfg;
    synack_config_init(&cfg);
    memlink_config(m, MEMLINK_A, &cfg);
    uint8_t frame[100];
    memset(frame, 7, sizeof frame);
    /* 100-byte frames take 104-byte records: two fit in 256, a third drops. */
    memlink_output(cfg.output_ctx, frame, sizeof frame);
    memlink_output(cfg.output_ctx, frame, sizeof frame);
    memlink_output(cfg.output_ctx, frame, sizeof frame);
    assert_int_equal(memlink_pending(m, MEMLINK_B), 2);
    assert_int_equal(memlink_get_stats(m, MEMLINK_B)->dropped, 1);
    assert_int_equal(memlink_get_stats(m, MEMLINK_B)->queued, 2);
    /* Too large for the ring at all. */
    uint8_t big[300] = {0};
    memlink_output(cfg.output_ctx, big, sizeof big);
    assert_int_equal(memlink_get_stats(m, MEMLINK_B)->dropped, 2);
    /* No stack attached: nothing is delivered, nothing lost. */
    assert_int_equal(memlink_pump(m, 0, 0), 0);
    assert_int_equal(memlink_pending_all(m), 2);
    memlink_free(m);
}

static uint64_t rng_state[2] = {1, 2};
static void rnd(void *ctx, void *buf, size_t len)
{
    uint64_t *x = ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        *x = *x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(*x >> 56);
    }
}

/* Two stacks joined by `m` (offloads on or off), a listener on the second
 * and a connection from the first, accepted. `sndbuf` > 0 fixes the
 * client's send buffer. Returns the accepted socket; *client gets the other. */
static synack_sock *connected_pair(memlink *m, synack_stack *st[2], int offload, int sndbuf,
                                   synack_sock **client, uint64_t *now)
{
    static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    const uint32_t ip[2] = {0x0a000001, 0x0a000002};
    for (int i = 0; i < 2; i++) {
        synack_config cfg;
        synack_config_init(&cfg);
        memcpy(cfg.mac, mac[i], 6);
        cfg.ip = ip[i];
        cfg.random = rnd;
        cfg.random_ctx = &rng_state[i];
        if (offload) {
            cfg.checksum_offload = 1;
            cfg.gso_max = 65535;
        }
        memlink_config(m, i, &cfg);
        st[i] = synack_stack_new(&cfg, 0);
        assert_non_null(st[i]);
        memlink_attach(m, i, st[i]);
        assert_ptr_equal(memlink_stack(m, i), st[i]);
    }
    assert_int_equal(synack_arp_add(st[0], ip[1], mac[1]), 0);
    assert_int_equal(synack_arp_add(st[1], ip[0], mac[0]), 0);
    synack_sock *l = synack_socket(st[1]), *c = synack_socket(st[0]), *s = NULL;
    if (sndbuf)
        assert_int_equal(synack_setopt(c, SYNACK_SO_SNDBUF, sndbuf), 0);
    assert_int_equal(synack_bind(l, 80), 0);
    assert_int_equal(synack_listen(l, 4), 0);
    assert_int_equal(synack_connect(c, ip[1], 80), 0);
    *now = 1000;
    for (int i = 0; i < 10 && !s; i++) {
        memlink_pump(m, *now += 1000, 0);
        s = synack_accept(l, NULL);
    }
    assert_non_null(s);
    assert_int_equal(synack_sock_state(c), SYNACK_ESTABLISHED);
    *client = c;
    return s;
}

static void two_stacks_transfer(void **state)
{
    (void)state;
    /* A small ring (64 KiB) so records wrap many times during 2 MB, and a
     * fixed 16 KiB send buffer (no autotuning), so the flight can never
     * outgrow it. */
    memlink *m = memlink_new(64 << 10);
    assert_non_null(m);
    synack_stack *st[2];
    synack_sock *c;
    uint64_t now;
    synack_sock *s = connected_pair(m, st, 0, 16384, &c, &now);

    const size_t total = 2u << 20;
    static uint8_t buf[65536];
    size_t sent = 0, got = 0;
    int bad = 0;
    for (int round = 0; round < 100000 && got < total; round++) {
        while (sent < total) {
            size_t want = total - sent < 5000 ? total - sent : 5000;
            uint8_t chunk[5000];
            for (size_t i = 0; i < want; i++)
                chunk[i] = (uint8_t)((sent + i) * 7 + ((sent + i) >> 11));
            ssize_t n = synack_send(c, chunk, want);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        memlink_pump(m, now += 10000, round % 3); /* batches of 0 (all), 1, 2 */
        ssize_t n;
        while ((n = synack_recv(s, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < n; i++)
                bad |= buf[i] != (uint8_t)((got + (size_t)i) * 7 + ((got + (size_t)i) >> 11));
            got += (size_t)n;
        }
    }
    assert_int_equal(got, total);
    assert_false(bad);
    const memlink_stats *sb = memlink_get_stats(m, MEMLINK_B);
    /* 16 KiB of send buffer in flight never fills a 64 KiB ring. */
    assert_int_equal(sb->dropped + memlink_get_stats(m, MEMLINK_A)->dropped, 0);
    assert_int_equal(synack_get_counters(st[0])->tcp_retrans_segs, 0);
    assert_true(sb->frames > total / 1460);
    assert_int_equal(sb->frames + memlink_pending(m, MEMLINK_B), sb->queued);
    synack_stack_free(st[0]);
    synack_stack_free(st[1]);
    memlink_free(m);
}

/* With the offloads Linux's lo uses (no TCP checksums, 64 KiB segments
 * handed whole to the other stack), data still arrives intact, segments are
 * far larger than the MTU, and pure ACKs (no payload) are built correctly. */
static void offloaded_transfer(void **state)
{
    (void)state;
    memlink *m = memlink_new(4 << 20);
    assert_non_null(m);
    synack_stack *st[2];
    synack_sock *c;
    uint64_t now;
    synack_sock *s = connected_pair(m, st, 1, 0, &c, &now);
    const size_t total = 4u << 20;
    static uint8_t buf[65536];
    size_t sent = 0, got = 0;
    int bad = 0;
    for (int round = 0; round < 100000 && got < total; round++) {
        while (sent < total) {
            uint8_t chunk[8192];
            size_t want = total - sent < sizeof chunk ? total - sent : sizeof chunk;
            for (size_t i = 0; i < want; i++)
                chunk[i] = (uint8_t)((sent + i) * 13 + ((sent + i) >> 9));
            ssize_t n = synack_send(c, chunk, want);
            if (n <= 0)
                break;
            sent += (size_t)n;
        }
        memlink_pump(m, now += 10000, 0);
        ssize_t n;
        while ((n = synack_recv(s, buf, sizeof buf)) > 0) {
            for (ssize_t i = 0; i < n; i++)
                bad |= buf[i] != (uint8_t)((got + (size_t)i) * 13 + ((got + (size_t)i) >> 9));
            got += (size_t)n;
        }
    }
    assert_int_equal(got, total);
    assert_false(bad);
    const memlink_stats *sb = memlink_get_stats(m, MEMLINK_B);
    assert_true(sb->frames < total / 1460); /* far fewer, larger frames than the MTU allows */
    assert_int_equal(synack_get_counters(st[1])->tcp_in_csum_errors, 0);
    for (int i = 0; i < 2; i++)
        synack_stack_free(st[i]);
    memlink_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ring_wraps_and_drops),
        cmocka_unit_test(two_stacks_transfer),
        cmocka_unit_test(offloaded_transfer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
