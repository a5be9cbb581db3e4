/* test_busy_poll.c — synack netns's adaptive busy-poll window
 * (tools/synack/busy_poll.c): it grows while the gaps between bursts are a
 * little longer than it and no longer than its most, shrinks after longer
 * gaps, and stays within its bounds, so a round trip through the relay is
 * caught polling while traffic with long gaps costs no more CPU. */
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
    busy_poll_init(&p, 50 * US, 20 * US); /* --busy-poll 20: that long, fixed */
    assert_int_equal(p.ns, 20 * US);
    busy_poll_learn(&p, 15 * US);
    assert_int_equal(p.ns, 20 * US);
    busy_poll_learn(&p, 500 * US);
    assert_int_equal(p.ns, 20 * US);
}

static void zero_never_polls(void **state)
{
    (void)state;
    busy_poll p;
    busy_poll_init(&p, 50 * US, 0); /* --busy-poll 0 */
    assert_int_equal(p.ns, 0);
    busy_poll_learn(&p, 1 * US);
    assert_int_equal(p.ns, 0);
    busy_poll_learn(&p, 1000 * US);
    assert_int_equal(p.ns, 0);
}

/* A host server that answers 80 µs after the request: the 50 µs window
 * misses it, and from the next gap on a 100 µs window covers it; answers
 * after 150 µs take it to 200, and it goes no further. */
static void a_gap_it_missed_within_max_doubles_it(void **state)
{
    (void)state;
    busy_poll p;
    busy_poll_init(&p, 50 * US, 200 * US);
    busy_poll_learn(&p, 80 * US);
    assert_int_equal(p.ns, 100 * US);
    busy_poll_learn(&p, 150 * US);
    assert_int_equal(p.ns, 200 * US);
    busy_poll_learn(&p, 200 * US); /* as long as max: still worth covering */
    assert_int_equal(p.ns, 200 * US);
}

/* Answers 240 µs apart, past the most (200): no window would catch them,
 * so the window does not climb (it would poll 200 µs for nothing each
 * time), and one that had climbed comes back down. */
static void gaps_past_max_halve_it_down_to_start(void **state)
{
    (void)state;
    busy_poll p;
    busy_poll_init(&p, 50 * US, 200 * US);
    for (int i = 0; i < 10; i++)
        busy_poll_learn(&p, 240 * US);
    assert_int_equal(p.ns, 50 * US);
    busy_poll_learn(&p, 100 * US);
    busy_poll_learn(&p, 150 * US);
    assert_int_equal(p.ns, 200 * US);
    busy_poll_learn(&p, 201 * US);
    assert_int_equal(p.ns, 100 * US);
    busy_poll_learn(&p, 400 * US);
    assert_int_equal(p.ns, 50 * US);
    busy_poll_learn(&p, 1000000 * US);
    assert_int_equal(p.ns, 50 * US);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(starts_at_start_and_is_capped_by_max),
        cmocka_unit_test(zero_never_polls),
        cmocka_unit_test(a_gap_it_missed_within_max_doubles_it),
        cmocka_unit_test(gaps_past_max_halve_it_down_to_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
