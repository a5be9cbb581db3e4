/* test_busy_poll.c — synack netns's adaptive busy-poll window
 * (tools/synack/busy_poll.c): it grows while traffic's gaps are a little
 * longer than it, shrinks when sleeps are long, and stays within its
 * bounds, so a round trip through the relay is caught polling while idle
 * connections cost no CPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "busy_poll.h"

#define US 1000ull

static void starts_at_start_and_is_capped_by_max(void **state)
{
    (void)state;
    busy_poll p;
    busy_poll_init(&p, 50 * US, 200 * US);
    assert_int_equal(p.ns, 50 * US);
    busy_poll_init(&p, 50 * US, 20 * US); /* --busy-poll 20: never above it */
    assert_int_equal(p.ns, 20 * US);
    busy_poll_learn(&p, 5 * US, 1);
    assert_int_equal(p.ns, 20 * US);
}

static void zero_never_polls(void **state)
{
    (void)state;
    busy_poll p;
    busy_poll_init(&p, 50 * US, 0); /* --busy-poll 0 */
    assert_int_equal(p.ns, 0);
    busy_poll_learn(&p, 1 * US, 1);
    assert_int_equal(p.ns, 0);
    busy_poll_learn(&p, 1000 * US, 1);
    assert_int_equal(p.ns, 0);
}

/* A host server that answers 80 µs after the request: the 50 µs window
 * misses it, the loop sleeps 30 µs and wakes with the answer; from then on
 * the window covers it. */
static void a_miss_by_a_little_doubles_it(void **state)
{
    (void)state;
    busy_poll p;
    busy_poll_init(&p, 50 * US, 200 * US);
    busy_poll_learn(&p, 30 * US, 1);
    assert_int_equal(p.ns, 100 * US);
    busy_poll_learn(&p, 90 * US, 1);
    assert_int_equal(p.ns, 200 * US);
    busy_poll_learn(&p, 150 * US, 1); /* never past the most it may poll */
    assert_int_equal(p.ns, 200 * US);
}

/* Traffic that stops: the sleep after the window outlasts any window, so
 * polling was wasted; the window halves back, not below where it started. */
static void long_sleeps_halve_it_down_to_start(void **state)
{
    (void)state;
    busy_poll p;
    busy_poll_init(&p, 50 * US, 400 * US);
    busy_poll_learn(&p, 10 * US, 1);
    busy_poll_learn(&p, 10 * US, 1);
    busy_poll_learn(&p, 10 * US, 1);
    assert_int_equal(p.ns, 400 * US);
    busy_poll_learn(&p, 401 * US, 1);
    assert_int_equal(p.ns, 200 * US);
    busy_poll_learn(&p, 5000 * US, 0); /* a timer's wake-up after a long sleep */
    assert_int_equal(p.ns, 100 * US);
    busy_poll_learn(&p, 1000000 * US, 1);
    busy_poll_learn(&p, 1000000 * US, 1);
    assert_int_equal(p.ns, 50 * US);
}

/* A timer that ends a short sleep (a delayed ACK due, say) is not traffic
 * the window missed: nothing changes. A sleep exactly as long as the most
 * the window may be still counts as a miss. */
static void a_short_timeout_teaches_nothing(void **state)
{
    (void)state;
    busy_poll p;
    busy_poll_init(&p, 50 * US, 200 * US);
    busy_poll_learn(&p, 40 * US, 0);
    assert_int_equal(p.ns, 50 * US);
    busy_poll_learn(&p, 200 * US, 1);
    assert_int_equal(p.ns, 100 * US);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_at_start_and_is_capped_by_max),
        cmocka_unit_test(zero_never_polls),
        cmocka_unit_test(a_miss_by_a_little_doubles_it),
        cmocka_unit_test(long_sleeps_halve_it_down_to_start),
        cmocka_unit_test(a_short_timeout_teaches_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
