/* test_lab.c — each `synack lab` experiment's conclusion, asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "lab.h"

static lab_result run(const char *name)
{
    lab_options o = {NULL, 1};
    lab_result r;
    assert_int_equal(lab_run(name, &o, &r), 0);
    return r;
}

/* The series point at x (NaN when the series or the point is missing). */
static double series_at(const lab_result *r, const char *name, double x)
{
    for (int i = 0; i < r->nseries; i++) {
        if (strcmp(r->series[i].name, name) != 0)
            continue;
        for (size_t j = 0; j < r->series[i].n; j++)
            if (r->series[i].x[j] == x)
                return r->series[i].y[j];
    }
    return NAN;
}

static bool within_1pct(double measured, double expected)
{
    return fabs(measured - expected) <= 0.01 * expected;
}

/* What the simulator measured against arithmetic done here, not by the lab:
 * Linux's default ports 32768..60999 each held for 2 x MSL = 60 s. */
static void port_exhaustion(void **state)
{
    (void)state;
    const double ports = 60999 - 32768 + 1; /* 28,232 */
    const double tw_s = 2 * 30.0;
    lab_result r = run("port-exhaustion");
    /* One connection per port per TIME-WAIT: 28,232 a minute. */
    assert_true(within_1pct(lab_fig(&r, "steady_rate_per_min"), ports * 60 / tw_s));
    assert_true(lab_fig(&r, "expected_per_min") == ports * 60 / tw_s);
    /* Every port ends in TIME-WAIT before the first one expires at 60 s:
     * the peak is the whole range, and the plot shows it all along. */
    assert_true(lab_fig(&r, "time_wait_peak") == ports);
    const char *tw = "TIME-WAIT entries (client)";
    for (double sec = 10; sec < 60; sec += 10)
        assert_true(series_at(&r, tw, sec) == ports);
    assert_true(series_at(&r, tw, 0) == 0);
    /* A 1,024..65,535 range: 64,512 ports a minute. */
    assert_true(within_1pct(lab_fig(&r, "rate_per_min_wide_range"), (65535 - 1024 + 1) * 60 / tw_s));
    /* tcp_msl=5000: TIME-WAIT 10 s, so six times the ports a minute. */
    assert_true(within_1pct(lab_fig(&r, "rate_per_min_short_msl"), ports * 60 / 10));
    /* tcp_tw_reuse=1: only the client's own 5 connects a millisecond limit it. */
    assert_true(within_1pct(lab_fig(&r, "rate_per_min_tw_reuse"), 5 * 1000 * 60));
    lab_result_free(&r);
}

static void why_time_wait(void **state)
{
    (void)state;
    lab_result r = run("why-time-wait");
    assert_true(lab_fig(&r, "corrupted_bytes_without_tw") > 0);
    assert_true(lab_fig(&r, "corrupted_bytes_with_tw") == 0);
    assert_true(lab_fig(&r, "corrupted_bytes_without_tw_with_paws") == 0);
    assert_true(lab_fig(&r, "lost_ack_clean_close_with_tw") == 1);
    assert_true(lab_fig(&r, "lost_ack_reset_without_tw") == 1);
    lab_result_free(&r);
}

static void why_three_way(void **state)
{
    (void)state;
    lab_result r = run("why-three-way");
    assert_true(lab_fig(&r, "accepted_two_way") == 1);
    assert_true(lab_fig(&r, "bytes_sent_two_way") > 0);
    assert_true(lab_fig(&r, "accepted_three_way") == 0);
    lab_result_free(&r);
}

static void why_four_way(void **state)
{
    (void)state;
    lab_result r = run("why-four-way");
    assert_true(lab_fig(&r, "gap_ack_to_fin_s") >= 2.5);
    assert_true(lab_fig(&r, "bytes_after_fin") == 6000);
    lab_result_free(&r);
}

static void tw_reuse(void **state)
{
    (void)state;
    lab_result r = run("tw-reuse");
    assert_true(lab_fig(&r, "connect_before_delay_errno") > 0);
    assert_true(lab_fig(&r, "connect_after_delay_errno") == 0);
    assert_true(lab_fig(&r, "reuse_off_connect_after_delay_errno") > 0);
    assert_true(lab_fig(&r, "iss_minus_old_snd_nxt") == 65537);
    assert_true(lab_fig(&r, "stale_dropped_by_paws") >= 1);
    lab_result_free(&r);
}

static void tw_recycle_nat(void **state)
{
    (void)state;
    lab_result r = run("tw-recycle-nat");
    assert_true(lab_fig(&r, "syn_dropped_pct_recycle_on") > 0);
    assert_true(lab_fig(&r, "syn_dropped_pct_recycle_off") == 0);
    assert_true(lab_fig(&r, "syn_dropped_pct_single_client_no_offsets") == 0);
    assert_true(lab_fig(&r, "syn_dropped_pct_single_client_random_offsets") > 0);
    lab_result_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(why_time_wait),  cmocka_unit_test(why_three_way),
        cmocka_unit_test(why_four_way),   cmocka_unit_test(tw_reuse),
        cmocka_unit_test(tw_recycle_nat), cmocka_unit_test(port_exhaustion),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
