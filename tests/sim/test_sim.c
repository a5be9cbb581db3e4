/* test_sim.c — the simulator's links, clock and capture, checked with raw
 * frames injected on a link (the stacks only receive them). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "dev/pcap.h"
#include "sim/sim.h"

#define MAX_SEEN 20000

typedef struct seen {
    int n;
    sim_link_event ev[MAX_SEEN];
    uint64_t t[MAX_SEEN], arrival[MAX_SEEN], id[MAX_SEEN];
    size_t len[MAX_SEEN];
    int corrupt_diffs; /* bytes that differ in CORRUPT traces */
    uint8_t last_sent[2048];
} seen;

static void on_trace(void *ctx, const sim_trace *t) {
    seen *s = ctx;
    if (t->kind != SIM_TRACE_LINK || s->n >= MAX_SEEN)
        return;
    s->ev[s->n] = t->link_event;
    s->t[s->n] = t->time_ns;
    s->arrival[s->n] = t->arrival_ns;
    s->id[s->n] = t->frame_id;
    s->len[s->n] = t->len;
    s->n++;
    if (t->link_event == SIM_LINK_SEND && t->len <= sizeof s->last_sent)
        memcpy(s->last_sent, t->frame, t->len);
    if (t->link_event == SIM_LINK_CORRUPT)
        for (size_t i = 0; i < t->len; i++)
            s->corrupt_diffs += t->frame[i] != s->last_sent[i];
}

static int count(const seen *s, sim_link_event ev) {
    int n = 0;
    for (int i = 0; i < s->n; i++)
        n += s->ev[i] == ev;
    return n;
}

typedef struct world {
    sim *s;
    sim_host *a, *b;
    seen seen;
} world;

static world *make(uint64_t seed, const sim_link_params *p) {
    world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    w->s = sim_new(seed);
    assert_non_null(w->s);
    w->a = sim_add_host(w->s, "a", 0x0a000001u, NULL);
    w->b = sim_add_host(w->s, "b", 0x0a000002u, NULL);
    assert_non_null(w->a);
    assert_non_null(w->b);
    assert_int_equal(sim_link(w->s, w->a, w->b, p, p), 0);
    sim_set_trace(w->s, on_trace, &w->seen);
    return w;
}

static void destroy(world *w) {
    sim_free(w->s);
    free(w);
}

/* An Ethernet frame from a to b of `len` bytes (an unknown EtherType, so
 * the receiving stack just counts and drops it). */
static void inject(world *w, size_t len, uint8_t fill) {
    uint8_t f[2048];
    assert_true(len <= sizeof f && len >= 14);
    memset(f, fill, len);
    memcpy(f, sim_host_mac(w->b), 6);
    memcpy(f + 6, sim_host_mac(w->a), 6);
    f[12] = 0x88;
    f[13] = 0xb5; /* local experimental EtherType */
    sim_inject(w->a, f, len);
}

static uint64_t in_frames(world *w) { return synack_get_counters(sim_host_stack(w->b))->in_frames; }

static void test_delay(void **state) {
    (void)state;
    sim_link_params p = sim_link_params_default();
    p.delay_ns = 3 * SIM_MS;
    world *w = make(1, &p);
    inject(w, 100, 0);
    assert_int_equal(in_frames(w), 0); /* never delivered synchronously */
    sim_run_until(w->s, 3 * SIM_MS - 1);
    assert_int_equal(in_frames(w), 0);
    sim_run_until(w->s, 3 * SIM_MS);
    assert_int_equal(in_frames(w), 1);
    assert_int_equal(w->seen.arrival[0], 3 * SIM_MS);
    assert_int_equal(sim_now(w->s), 3 * SIM_MS);
    destroy(w);
}

static void test_bandwidth_and_queue(void **state) {
    (void)state;
    sim_link_params p = sim_link_params_default();
    p.delay_ns = 0;
    p.bandwidth_bps = 12000000; /* a 1500-byte frame takes 1 ms */
    p.queue_bytes = 4500;       /* the frame on the wire and two waiting */
    world *w = make(1, &p);
    for (int i = 0; i < 5; i++)
        inject(w, 1500, 0);
    /* first serializes at once, two wait, two are tail-dropped */
    assert_int_equal(count(&w->seen, SIM_LINK_SEND), 3);
    assert_int_equal(count(&w->seen, SIM_LINK_DROP_QUEUE), 2);
    assert_int_equal(w->seen.arrival[0], 1 * SIM_MS);
    assert_int_equal(w->seen.arrival[1], 2 * SIM_MS);
    assert_int_equal(w->seen.arrival[2], 3 * SIM_MS);
    sim_run_until(w->s, 10 * SIM_MS);
    assert_int_equal(in_frames(w), 3);
    destroy(w);
}

static void test_mtu(void **state) {
    (void)state;
    sim_link_params p = sim_link_params_default();
    p.mtu = 576;
    world *w = make(1, &p);
    inject(w, 14 + 576, 0);
    inject(w, 14 + 577, 0);
    assert_int_equal(count(&w->seen, SIM_LINK_SEND), 1);
    assert_int_equal(count(&w->seen, SIM_LINK_DROP_MTU), 1);
    destroy(w);
}

static void test_loss_dup_corrupt_reorder(void **state) {
    (void)state;
    sim_link_params p = sim_link_params_default();
    p.loss = 0.2;
    p.duplicate = 0.1;
    p.corrupt = 0.1;
    p.reorder = 0.1;
    p.reorder_delay_ns = 5 * SIM_MS;
    world *w = make(42, &p);
    const int n = 2000;
    for (int i = 0; i < n; i++)
        inject(w, 200, (uint8_t)i);
    int lost = count(&w->seen, SIM_LINK_LOSS);
    int dup = count(&w->seen, SIM_LINK_DUPLICATE);
    int cor = count(&w->seen, SIM_LINK_CORRUPT);
    int reo = count(&w->seen, SIM_LINK_REORDER);
    assert_int_equal(count(&w->seen, SIM_LINK_SEND), n);
    assert_in_range(lost, n * 15 / 100, n * 25 / 100);
    assert_in_range(dup, (n - lost) * 6 / 100, (n - lost) * 14 / 100);
    assert_in_range(cor, (n - lost) * 6 / 100, (n - lost) * 14 / 100);
    assert_in_range(reo, (n - lost) * 6 / 100, (n - lost) * 14 / 100);
    assert_int_equal(w->seen.corrupt_diffs, cor); /* exactly one byte each */
    for (int i = 0; i < w->seen.n; i++)
        if (w->seen.ev[i] == SIM_LINK_REORDER)
            assert_in_range(w->seen.arrival[i], 1 * SIM_MS + 1, 6 * SIM_MS);
    sim_run_until(w->s, 100 * SIM_MS);
    assert_int_equal(in_frames(w), (uint64_t)(n - lost + dup));
    const sim_stats *st = sim_get_stats(w->s);
    assert_int_equal(st->lost, (uint64_t)lost);
    assert_int_equal(st->delivered, (uint64_t)(n - lost + dup));
    destroy(w);
}

static void test_same_seed_same_fate(void **state) {
    (void)state;
    sim_link_params p = sim_link_params_default();
    p.loss = 0.3;
    world *x = make(7, &p), *y = make(7, &p), *z = make(8, &p);
    for (int i = 0; i < 500; i++) {
        inject(x, 100, 0);
        inject(y, 100, 0);
        inject(z, 100, 0);
    }
    assert_int_equal(x->seen.n, y->seen.n);
    assert_memory_equal(x->seen.ev, y->seen.ev, sizeof x->seen.ev[0] * (size_t)x->seen.n);
    int differ = x->seen.n != z->seen.n ||
                 memcmp(x->seen.ev, z->seen.ev, sizeof x->seen.ev[0] * (size_t)x->seen.n);
    assert_true(differ);
    destroy(x);
    destroy(y);
    destroy(z);
}

typedef struct order_log {
    sim *s;
    char buf[16];
    int n;
    uint64_t t[16];
} order_log;

static order_log *g_log_for_cb; /* only within one test; set before use */

static void mark(void *ctx) {
    const char *tag = ctx;
    order_log *l = g_log_for_cb;
    l->t[l->n] = sim_now(l->s);
    l->buf[l->n++] = tag[0];
}

static void test_callbacks_in_order(void **state) {
    (void)state;
    world *w = make(1, NULL);
    order_log l;
    memset(&l, 0, sizeof l);
    l.s = w->s;
    g_log_for_cb = &l;
    sim_at(w->s, 20, mark, "c");
    sim_at(w->s, 10, mark, "a");
    sim_at(w->s, 10, mark, "b");
    sim_at_host(w->b, 30, mark, "d");
    assert_int_equal(sim_run_idle(w->s, SIM_SEC), 1);
    assert_string_equal(l.buf, "abcd");
    assert_int_equal(l.t[0], 10);
    assert_int_equal(l.t[2], 20);
    assert_int_equal(l.t[3], 30);
    assert_int_equal(sim_step(w->s), 0);
    destroy(w);
}

static void test_pcap_file(void **state) {
    (void)state;
    char path[] = "/tmp/synack-test-sim-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    world *w = make(1, NULL);
    assert_int_equal(sim_set_pcap(w->s, path), 0);
    inject(w, 60, 0xab);
    sim_run_until(w->s, 5 * SIM_MS);
    inject(w, 70, 0xcd);
    assert_int_equal(sim_set_pcap(w->s, NULL), 0);
    destroy(w);

    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t buf[512];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    unlink(path);
    assert_int_equal(n, 24 + 16 + 60 + 16 + 70);
    const uint8_t magic_ns_le[4] = {0x4d, 0x3c, 0xb2, 0xa1};
    assert_memory_equal(buf, magic_ns_le, 4);
    assert_int_equal(buf[20], PCAP_LINKTYPE_ETHERNET);
    /* second record: 5 ms = 0 s + 5000000 ns, 70 bytes */
    const uint8_t *r2 = buf + 24 + 16 + 60;
    uint32_t sec = (uint32_t)r2[0] | (uint32_t)r2[1] << 8 | (uint32_t)r2[2] << 16 | (uint32_t)r2[3] << 24;
    uint32_t ns = (uint32_t)r2[4] | (uint32_t)r2[5] << 8 | (uint32_t)r2[6] << 16 | (uint32_t)r2[7] << 24;
    assert_int_equal(sec, 0);
    assert_int_equal(ns, 5000000);
    assert_int_equal(r2[8], 70);
    assert_int_equal(r2[16 + 20], 0xcd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay),
        cmocka_unit_test(test_bandwidth_and_queue),
        cmocka_unit_test(test_mtu),
        cmocka_unit_test(test_loss_dup_corrupt_reorder),
        cmocka_unit_test(test_same_seed_same_fate),
        cmocka_unit_test(test_callbacks_in_order),
        cmocka_unit_test(test_pcap_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
