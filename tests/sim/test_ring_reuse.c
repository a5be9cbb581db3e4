/*
 * test_ring_reuse.c — a bulk receiver that keeps up reuses its receive
 * ring (mem.c's spare rings), even after other connections have left
 * grown rings behind.
 *
 * A stack keeps emptied rings as spares, within a budget of tcp_rmem[2] +
 * tcp_wmem[2] bytes, and hands one out again only for a ring of exactly
 * its size. An application that drains its receive ring after every
 * segment empties that ring again and again; if the stack turns the
 * emptied ring away instead of keeping it, every segment costs an
 * allocation and a free of tcp_rmem[2] bytes (6 MiB by default: 4 Gbit/s
 * fell to 0.1 Gbit/s out of `synack netns` under ASan, commit 65b84d3).
 * That is what happened when rings of a size nobody asks for any more —
 * the grown send rings of finished uploads — held the budget.
 *
 * Here, with tcp_rmem[2] = 2 MiB and tcp_wmem[2] = 1 MiB (a 3 MiB
 * budget), the stack under test first uploads over two connections at
 * once, whose send rings grow to 1 MiB and stay behind as spares when
 * they finish (2 MiB of the budget). Then it downloads 24 MiB, reading
 * everything after each 0.5 ms of virtual time: its receive ring grows to
 * 2 MiB and empties many times, yet is allocated at that size only a
 * handful of times. Its allocator counts allocations by size. (Before the
 * fix: 25 allocations of 2 MiB here, and 1 without the uploads — the
 * stale spares are what it takes.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define READER_IP 0x0a000001u
#define PEER_IP 0x0a000002u
#define RMEM_MAX (2u << 20)
#define WMEM_MAX (1u << 20)
#define UPLOADS 2
#define UPLOAD_BYTES (4u << 20)
#define DOWNLOAD_BYTES (24u << 20)

/* The reader stack's allocator: libc's, counting the allocations of the
 * two largest ring sizes. */
typedef struct counts {
    uint32_t rmem_max, wmem_max;
} counts;

static void tally(counts *n, size_t size)
{
    n->rmem_max += size == RMEM_MAX;
    n->wmem_max += size == WMEM_MAX;
}

static void *count_malloc(void *ctx, size_t size)
{
    tally(ctx, size);
    return malloc(size);
}

static void *count_realloc(void *ctx, void *p, size_t size)
{
    tally(ctx, size);
    return realloc(p, size);
}

static void count_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static uint8_t pattern(uint32_t off) { return (uint8_t)(off * 13 + (off >> 12)); }

typedef struct upload {
    synack_sock *c, *a;
    uint32_t sent, got;
    bool closed;
} upload;

static void step(sim *s) { sim_run_until(s, sim_now(s) + SIM_MS / 2); }

/* The reader sends UPLOAD_BYTES on each of UPLOADS connections at once;
 * the peer reads and closes when it has everything, the reader closes
 * when all of its data is acknowledged. */
static void upload_all(sim *s, synack_stack *reader, synack_stack *peer)
{
    synack_sock *l = synack_socket(peer);
    assert_int_equal(synack_bind(l, 80), 0);
    assert_int_equal(synack_listen(l, 8), 0);
    upload u[UPLOADS] = {0};
    for (int i = 0; i < UPLOADS; i++) {
        u[i].c = synack_socket(reader);
        assert_int_equal(synack_connect(u[i].c, PEER_IP, 80), 0);
    }
    static uint8_t buf[1 << 16];
    int closed = 0;
    while (closed < UPLOADS && sim_now(s) < 60 * SIM_SEC) {
        synack_sock *a;
        while ((a = synack_accept(l, NULL))) {
            uint16_t rport, lport;
            synack_sock_name(a, NULL, NULL, NULL, &rport);
            for (int i = 0; i < UPLOADS; i++) {
                synack_sock_name(u[i].c, NULL, &lport, NULL, NULL);
                if (lport == rport)
                    u[i].a = a;
            }
        }
        for (int i = 0; i < UPLOADS; i++) {
            ssize_t n;
            while (u[i].sent < UPLOAD_BYTES &&
                   (n = synack_send(u[i].c, buf, UPLOAD_BYTES - u[i].sent < sizeof buf
                                                         ? UPLOAD_BYTES - u[i].sent
                                                         : sizeof buf)) > 0)
                u[i].sent += (uint32_t)n;
            while (u[i].a && (n = synack_recv(u[i].a, buf, sizeof buf)) > 0)
                u[i].got += (uint32_t)n;
            if (!u[i].closed && u[i].got == UPLOAD_BYTES) {
                int snd = 0;
                synack_getopt(u[i].c, SYNACK_SO_SNDBUF, &snd);
                assert_int_equal(snd, WMEM_MAX); /* it grew to the max */
                synack_close(u[i].a);
                synack_close(u[i].c);
                u[i].closed = true;
                closed++;
            }
        }
        step(s);
    }
    assert_int_equal(closed, UPLOADS);
    synack_close(l);
    sim_run_until(s, sim_now(s) + 2 * SIM_SEC); /* the FINs, and their ACKs */
}

static void bulk_receiver_reuses_its_ring(void **state)
{
    (void)state;
    counts n = {0};
    sim *s = sim_new(11);
    synack_config cfg;
    synack_config_init(&cfg);
    assert_int_equal(synack_config_set(&cfg, "tcp_rmem", "4096 131072 2097152"), 0);
    assert_int_equal(synack_config_set(&cfg, "tcp_wmem", "4096 16384 1048576"), 0);
    sim_host *ph = sim_add_host(s, "peer", PEER_IP, &cfg);
    cfg.alloc = (synack_allocator){count_malloc, count_realloc, count_free, &n};
    sim_host *rh = sim_add_host(s, "reader", READER_IP, &cfg);
    sim_link(s, rh, ph, NULL, NULL);
    synack_stack *reader = sim_host_stack(rh), *peer = sim_host_stack(ph);

    upload_all(s, reader, peer);
    printf("uploads: %u allocations of %u bytes (send rings at the max)\n", n.wmem_max, WMEM_MAX);
    assert_true(n.wmem_max >= UPLOADS);
    n.rmem_max = 0;

    /* The download: the peer sends, the reader reads everything each step. */
    synack_sock *l = synack_socket(reader);
    assert_int_equal(synack_bind(l, 81), 0);
    assert_int_equal(synack_listen(l, 8), 0);
    synack_sock *c = synack_socket(peer), *a = NULL;
    assert_int_equal(synack_connect(c, READER_IP, 81), 0);
    static uint8_t buf[1 << 16];
    uint32_t sent = 0, got = 0;
    bool bad = false;
    int rcvbuf_max = 0;
    while (got < DOWNLOAD_BYTES && sim_now(s) < 120 * SIM_SEC) {
        ssize_t r;
        for (;;) {
            uint32_t k = DOWNLOAD_BYTES - sent < sizeof buf ? DOWNLOAD_BYTES - sent : sizeof buf;
            for (uint32_t j = 0; j < k; j++)
                buf[j] = pattern(sent + j);
            if (k == 0 || (r = synack_send(c, buf, k)) <= 0)
                break;
            sent += (uint32_t)r;
        }
        if (!a)
            a = synack_accept(l, NULL);
        while (a && (r = synack_recv(a, buf, sizeof buf)) > 0) {
            for (ssize_t j = 0; j < r; j++)
                bad |= buf[j] != pattern(got + (uint32_t)j);
            got += (uint32_t)r;
        }
        int rcv = 0;
        if (a && synack_getopt(a, SYNACK_SO_RCVBUF, &rcv) == 0 && rcv > rcvbuf_max)
            rcvbuf_max = rcv;
        step(s);
    }
    printf("download: %u of %u bytes in %.3f s virtual, receive buffer up to %d, "
           "%u allocations of %u bytes\n",
           got, DOWNLOAD_BYTES, (double)sim_now(s) / SIM_SEC, rcvbuf_max, n.rmem_max, RMEM_MAX);
    sim_free(s); /* before the verdict: a failure leaks nothing */
    assert_int_equal(got, DOWNLOAD_BYTES);
    assert_false(bad);
    assert_int_equal(rcvbuf_max, RMEM_MAX); /* the ring did grow to tcp_rmem[2] */
    assert_true(n.rmem_max >= 1);
    assert_true(n.rmem_max <= 3); /* not one per drained segment */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bulk_receiver_reuses_its_ring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
