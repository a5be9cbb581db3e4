/* test_preload_totals.c — the per-connection segment totals `synack run`'s
 * summary mode keeps in the preloaded library (src/preload/totals.c,
 * compiled in here): sums per connection, start-over and forget, and the
 * table staying right through growth and many deletions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "preload/totals.c"

static void seg(uint32_t id, int in, uint32_t len, int rexmit, uint64_t t)
{
    synack_trace_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = in ? SYNACK_TRACE_SEG_IN : SYNACK_TRACE_SEG_OUT;
    ev.conn_id = id;
    ev.seg.len = len;
    ev.retransmit = (uint8_t)rexmit;
    ev.time_ns = t;
    sp_totals_add(&ev);
}

static int drained;
static void count_drained(const sp_totals *t) { (void)t; drained++; }

/* Segments out (new and retransmitted) and in add up per connection;
 * take starts them over (keeping the last time) or forgets. */
static void sums_take_and_forget(void **state)
{
    (void)state;
    seg(7, 0, 100, 0, 10);
    seg(7, 0, 100, 1, 20);
    seg(7, 1, 50, 0, 30);
    seg(8, 0, 1, 0, 40);
    sp_totals t;
    assert_true(sp_totals_take(7, &t, false));
    assert_int_equal(t.sent, 100);
    assert_int_equal(t.rexmit, 1);
    assert_int_equal(t.segs, 2);
    assert_int_equal(t.received, 50);
    assert_int_equal(t.t_last, 30);
    assert_true(sp_totals_take(7, &t, true));
    assert_int_equal(t.segs, 0);
    assert_int_equal(t.t_last, 30);
    assert_false(sp_totals_take(7, &t, false));
    assert_true(sp_totals_take(8, &t, false));
    assert_int_equal(t.sent, 1);
    drained = 0;
    seg(9, 1, 5, 0, 50);
    sp_totals_drain(count_drained); /* 8 has nothing new; 9 has */
    assert_int_equal(drained, 1);
    assert_false(sp_totals_take(9, &t, false));
}

/* 20000 connections come and go in a random order, the table growing and
 * shifting entries back on every deletion: each one's sum stays its own. */
static void many_connections(void **state)
{
    (void)state;
    enum { N = 20000 };
    static uint64_t want[N + 1];
    static uint8_t live[N + 1];
    memset(want, 0, sizeof want);
    memset(live, 0, sizeof live);
    uint64_t x = 88172645463325252ull;
    for (int step = 0; step < 200000; step++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        uint32_t id = 1 + (uint32_t)(x % N);
        if ((x >> 32) % 4 == 0 && live[id]) {
            sp_totals t;
            assert_true(sp_totals_take(id, &t, true));
            assert_int_equal(t.sent, want[id]);
            want[id] = 0;
            live[id] = 0;
        } else {
            seg(id, 0, id % 1000 + 1, 0, (uint64_t)step);
            want[id] += id % 1000 + 1;
            live[id] = 1;
        }
    }
    for (uint32_t id = 1; id <= N; id++) {
        sp_totals t;
        assert_int_equal(sp_totals_take(id, &t, true), live[id]);
        if (live[id])
            assert_int_equal(t.sent, want[id]);
    }
    assert_int_equal(used, 0);
    sp_totals_drain(count_drained);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sums_take_and_forget),
        cmocka_unit_test(many_connections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
