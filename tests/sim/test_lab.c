/* test_lab.c — each `synack lab` experiment's conclusion, asserted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>

#include "lab.h"

static lab_result run(const char *name)
{
    lab_options o = {NULL, 1};
    lab_result r;
    assert_int_equal(lab_run(name, &o, &r), 0);
    return r;
}

static void port_exhaustion(void **state)
{
    (void)state;
    lab_result r = run("port-exhaustion");
    double rate = lab_fig(&r, "steady_rate_per_min");
    assert_true(fabs(rate - 28232) <= 0.01 * 28232);
    assert_true(lab_fig(&r, "expected_per_min") == 28232);
    assert_true(lab_fig(&r, "rate_per_min_tw_reuse") > 2 * rate);
    assert_true(lab_fig(&r, "rate_per_min_wide_range") > rate);
    assert_true(lab_fig(&r, "rate_per_min_short_msl") > rate);
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
