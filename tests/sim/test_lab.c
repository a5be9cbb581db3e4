/* test_lab.c — each `synack lab` experiment's conclusion, asserted, over
 * IPv4 and (the prestate &over_ipv6) over IPv6: the same conclusions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"

static int over_ipv6 = 1;

/* The experiment over IPv6 when the test's state is &over_ipv6. Over IPv6
 * its text must name an IPv6 address where it draws a ladder (the server's,
 * from the frames on the link) or says where it connects. */
static lab_result run(void **state, const char *name)
{
    int ipv6 = *state == &over_ipv6;
    char *text = NULL;
    size_t len = 0;
    lab_options o = {ipv6 ? open_memstream(&text, &len) : NULL, 1, ipv6, 0};
    lab_result r;
    assert_int_equal(lab_run(name, &o, &r), 0);
    if (o.out) {
        fclose(o.out);
        bool ladder = !strcmp(name, "why-three-way") || !strcmp(name, "why-four-way");
        bool says = strcmp(name, "tw-reuse") != 0; /* its text names no address */
        if (says && !strstr(text, ladder ? "server [fd00::2]:80" : "[fd00::"))
            fail_msg("%s --ipv6 names no IPv6 endpoint:\n%s", name, text);
        free(text);
    }
    return r;
}

/* lab_connect goes to the server's address of the run's family. */
static void lab_connect_takes_the_family(void **state)
{
    (void)state;
    for (int ipv6 = 0; ipv6 < 2; ipv6++) {
        lab_options o = {NULL, 1, ipv6, 0};
        sim *s = lab_sim_new(&o);
        sim_host *c = sim_add_host(s, "client", 0x0a000001u, NULL);
        sim_host *v = sim_add_host(s, "server", 0x0a000002u, NULL);
        assert_int_equal(sim_link(s, c, v, NULL, NULL), 0);
        synack_sock *k = synack_socket(sim_host_stack(c));
        assert_int_equal(lab_connect(k, v, 80, &o), 0);
        synack_addr remote, want = sim_host_addr(v, ipv6 ? SYNACK_AF_INET6 : SYNACK_AF_INET);
        synack_sock_addrs(k, NULL, NULL, &remote, NULL);
        assert_true(synack_addr_equal(&remote, &want));
        sim_free(s);
    }
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

static double v4_rate = NAN; /* port-exhaustion's steady rate over IPv4 */

static bool within_1pct(double measured, double expected)
{
    return fabs(measured - expected) <= 0.01 * expected;
}

/* What the simulator measured against arithmetic done here, not by the lab:
 * Linux's default ports 32768..60999 each held for 2 x MSL = 60 s. */
static void port_exhaustion(void **state)
{
    const double ports = 60999 - 32768 + 1; /* 28,232 */
    const double tw_s = 2 * 30.0;
    lab_result r = run(state, "port-exhaustion");
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
    v4_rate = lab_fig(&r, "steady_rate_per_min");
    lab_result_free(&r);
}

/* Over IPv6 the same ports and the same TIME-WAIT give the same 28,232 a
 * minute (the default setting alone: the other three take most of the time). */
static void port_exhaustion_ipv6(void **state)
{
    (void)state;
    const double ports = 60999 - 32768 + 1;
    lab_options o = {NULL, 1, 1, 1};
    lab_result r;
    assert_int_equal(lab_run("port-exhaustion", &o, &r), 0);
    assert_true(within_1pct(lab_fig(&r, "steady_rate_per_min"), ports));
    if (!isnan(v4_rate))
        assert_true(lab_fig(&r, "steady_rate_per_min") == v4_rate);
    assert_true(lab_fig(&r, "time_wait_peak") == ports);
    assert_true(isnan(lab_fig(&r, "rate_per_min_wide_range"))); /* not run */
    lab_result_free(&r);
}

/* Clients sharing one address behind a NAT have no IPv6 form here: the
 * experiment refuses to run rather than pretend. */
static void tw_recycle_nat_ipv6_refused(void **state)
{
    (void)state;
    lab_options o = {NULL, 1, 1, 0};
    lab_result r;
    assert_int_equal(lab_run("tw-recycle-nat", &o, &r), -1);
    assert_int_equal(r.nseries, 0);
}

static void why_time_wait(void **state)
{
    lab_result r = run(state, "why-time-wait");
    assert_true(lab_fig(&r, "corrupted_bytes_without_tw") > 0);
    assert_true(lab_fig(&r, "corrupted_bytes_with_tw") == 0);
    assert_true(lab_fig(&r, "corrupted_bytes_without_tw_with_paws") == 0);
    assert_true(lab_fig(&r, "lost_ack_clean_close_with_tw") == 1);
    assert_true(lab_fig(&r, "lost_ack_reset_without_tw") == 1);
    lab_result_free(&r);
}

static void why_three_way(void **state)
{
    lab_result r = run(state, "why-three-way");
    assert_true(lab_fig(&r, "accepted_two_way") == 1);
    assert_true(lab_fig(&r, "bytes_sent_two_way") > 0);
    assert_true(lab_fig(&r, "accepted_three_way") == 0);
    lab_result_free(&r);
}

static void why_four_way(void **state)
{
    lab_result r = run(state, "why-four-way");
    assert_true(lab_fig(&r, "gap_ack_to_fin_s") >= 2.5);
    assert_true(lab_fig(&r, "bytes_after_fin") == 6000);
    lab_result_free(&r);
}

static void tw_reuse(void **state)
{
    lab_result r = run(state, "tw-reuse");
    assert_true(lab_fig(&r, "connect_before_delay_errno") > 0);
    assert_true(lab_fig(&r, "connect_after_delay_errno") == 0);
    assert_true(lab_fig(&r, "reuse_off_connect_after_delay_errno") > 0);
    assert_true(lab_fig(&r, "iss_minus_old_snd_nxt") == 65537);
    assert_true(lab_fig(&r, "stale_dropped_by_paws") >= 1);
    lab_result_free(&r);
}

static void tw_recycle_nat(void **state)
{
    lab_result r = run(state, "tw-recycle-nat");
    assert_true(lab_fig(&r, "syn_dropped_pct_recycle_on") > 0);
    assert_true(lab_fig(&r, "syn_dropped_pct_recycle_off") == 0);
    assert_true(lab_fig(&r, "syn_dropped_pct_single_client_no_offsets") == 0);
    assert_true(lab_fig(&r, "syn_dropped_pct_single_client_random_offsets") > 0);
    lab_result_free(&r);
}

int main(void)
{
#define BOTH(f) cmocka_unit_test(f), cmocka_unit_test_prestate(f, &over_ipv6)
    const struct CMUnitTest tests[] = {
        BOTH(why_time_wait),           BOTH(why_three_way),
        BOTH(why_four_way),            BOTH(tw_reuse),
        cmocka_unit_test(tw_recycle_nat), cmocka_unit_test(tw_recycle_nat_ipv6_refused),
        cmocka_unit_test(lab_connect_takes_the_family),
        cmocka_unit_test(port_exhaustion), cmocka_unit_test(port_exhaustion_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
