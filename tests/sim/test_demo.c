/* test_demo.c — every `synack demo` scenario ends the way the textbook says.
 *
 * Each test runs one scenario quietly through demo_run (the same code the
 * CLI runs) and checks the states each side went through, how it ended, and
 * that the data arrived intact. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "demo.h"

static void run_family(const char *scenario, int ipv6, demo_result *res) {
    demo_options o;
    memset(&o, 0, sizeof o);
    o.scenario = scenario;
    o.ipv6 = ipv6;
    char err[256] = "";
    int rc = demo_run(&o, res, err, sizeof err);
    if (rc != 0)
        fail_msg("demo_run(%s): %s", scenario, err);
}

static void run(const char *scenario, demo_result *res) { run_family(scenario, 0, res); }

/* The states a side went through, as text, for failure messages. */
static const char *path(const demo_side *s) {
    static char buf[512];
    buf[0] = '\0';
    for (int i = 0; i < s->nstates; i++) {
        strcat(buf, i ? " > " : "");
        strcat(buf, synack_state_name(s->states[i]));
    }
    return buf;
}

static void expect_path(const demo_side *s, const int *want, int n) {
    int at = 0;
    /* `want` must appear in order (other states may come in between) */
    for (int i = 0; i < s->nstates && at < n; i++)
        if (s->states[i] == want[at])
            at++;
    if (at != n)
        fail_msg("%s went %s; expected %s in order", s->name, path(s),
                 synack_state_name(want[at]));
}

static void expect_final(const demo_side *s, int state) {
    if (s->final_state != state)
        fail_msg("%s ended in %s (went %s), expected %s", s->name,
                 synack_state_name(s->final_state), path(s), synack_state_name(state));
}

static void expect_clean(const demo_result *r) {
    for (int i = 0; i < 2; i++) {
        const demo_side *s = &r->side[i];
        if (s->error)
            fail_msg("%s saw error %d", s->name, s->error);
        if (!s->data_ok)
            fail_msg("%s received %llu bytes, not what its peer sent", s->name,
                     (unsigned long long)s->app_received);
    }
    assert_int_equal(r->idle, 1);
}

static void test_lifecycle(void **state) {
    (void)state;
    demo_result r;
    run("lifecycle", &r);
    const int client[] = {SYNACK_SYN_SENT, SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1,
                          SYNACK_FIN_WAIT_2, SYNACK_TIME_WAIT, SYNACK_CLOSED};
    const int server[] = {SYNACK_LISTEN, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED,
                          SYNACK_CLOSE_WAIT, SYNACK_LAST_ACK, SYNACK_CLOSED};
    expect_path(&r.side[DEMO_CLIENT], client, 6);
    expect_path(&r.side[DEMO_SERVER], server, 6);
    expect_final(&r.side[DEMO_CLIENT], SYNACK_CLOSED);
    expect_final(&r.side[DEMO_SERVER], SYNACK_CLOSED);
    expect_clean(&r);
    /* TIME-WAIT lasted 2 x MSL (60 s by default) */
    assert_true(r.end_ns >= 60ull * SIM_SEC);
    assert_true(r.end_ns < 61ull * SIM_SEC);
    assert_int_equal(r.side[DEMO_CLIENT].wire.retransmits, 0);
    assert_int_equal(r.side[DEMO_SERVER].wire.retransmits, 0);
    assert_int_equal(r.side[DEMO_CLIENT].counters.tcp_active_opens, 1);
    assert_int_equal(r.side[DEMO_SERVER].counters.tcp_passive_opens, 1);
}

static void test_simultaneous_open(void **state) {
    (void)state;
    demo_result r;
    run("simultaneous-open", &r);
    const int both[] = {SYNACK_SYN_SENT, SYNACK_SYN_RECEIVED, SYNACK_ESTABLISHED};
    expect_path(&r.side[DEMO_CLIENT], both, 3);
    expect_path(&r.side[DEMO_SERVER], both, 3);
    expect_final(&r.side[DEMO_CLIENT], SYNACK_CLOSED);
    expect_final(&r.side[DEMO_SERVER], SYNACK_CLOSED);
    expect_clean(&r);
}

static void test_simultaneous_close(void **state) {
    (void)state;
    demo_result r;
    run("simultaneous-close", &r);
    const int both[] = {SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, SYNACK_CLOSING,
                        SYNACK_TIME_WAIT, SYNACK_CLOSED};
    expect_path(&r.side[DEMO_CLIENT], both, 5);
    expect_path(&r.side[DEMO_SERVER], both, 5);
    assert_false(demo_visited(&r.side[DEMO_CLIENT], SYNACK_FIN_WAIT_2));
    assert_false(demo_visited(&r.side[DEMO_SERVER], SYNACK_FIN_WAIT_2));
    expect_clean(&r);
}

static void test_half_close(void **state) {
    (void)state;
    demo_result r;
    run("half-close", &r);
    const int client[] = {SYNACK_ESTABLISHED, SYNACK_FIN_WAIT_1, SYNACK_FIN_WAIT_2,
                          SYNACK_TIME_WAIT, SYNACK_CLOSED};
    const int server[] = {SYNACK_ESTABLISHED, SYNACK_CLOSE_WAIT, SYNACK_LAST_ACK,
                          SYNACK_CLOSED};
    expect_path(&r.side[DEMO_CLIENT], client, 5);
    expect_path(&r.side[DEMO_SERVER], server, 4);
    expect_clean(&r);
    /* the server kept sending after the client's FIN */
    assert_true(r.side[DEMO_CLIENT].app_received >= 5000);
    assert_int_equal(r.side[DEMO_CLIENT].eof, 1);
}

static void test_refused(void **state) {
    (void)state;
    demo_result r;
    run("refused", &r);
    const demo_side *c = &r.side[DEMO_CLIENT];
    assert_int_equal(c->error, -ECONNREFUSED);
    assert_true(demo_visited(c, SYNACK_SYN_SENT));
    expect_final(c, SYNACK_CLOSED);
    assert_false(demo_visited(c, SYNACK_ESTABLISHED));
    assert_int_equal(r.side[DEMO_SERVER].nstates, 0);
    assert_int_equal(r.side[DEMO_SERVER].counters.tcp_out_rsts, 1);
}

static void test_lossy(void **state) {
    (void)state;
    demo_result r;
    run("lossy", &r);
    expect_final(&r.side[DEMO_CLIENT], SYNACK_CLOSED);
    expect_final(&r.side[DEMO_SERVER], SYNACK_CLOSED);
    expect_clean(&r);
    assert_true(r.link.lost > 0);
    assert_true(r.side[DEMO_CLIENT].wire.retransmits + r.side[DEMO_SERVER].wire.retransmits > 0);
}

/* path-mtu: the router drops what is too big and says so; the client
 * learns the path MTU once and resends everything at 948 bytes. */
static void test_path_mtu(void **state) {
    (void)state;
    demo_result r;
    run("path-mtu", &r);
    expect_final(&r.side[DEMO_CLIENT], SYNACK_CLOSED);
    expect_final(&r.side[DEMO_SERVER], SYNACK_CLOSED);
    expect_clean(&r);
    assert_int_equal(r.link.dropped_mtu, 3);
    assert_int_equal(r.side[DEMO_CLIENT].counters.icmp_in_dest_unreachs, 3);
    assert_int_equal(r.side[DEMO_CLIENT].counters.tcp_pmtu_reduced, 1);
    assert_int_equal(r.side[DEMO_CLIENT].wire.retransmits, 5);
}

/* Every scenario over IPv6 tells the same story: each side passes through
 * the same states to the same end, with the same error and intact data. */
static void test_ipv6_same_states(void **state) {
    (void)state;
    size_t n;
    const demo_scenario_info *sc = demo_scenarios(&n);
    for (size_t i = 0; i < n; i++) {
        demo_result v4, v6;
        run_family(sc[i].name, 0, &v4);
        run_family(sc[i].name, 1, &v6);
        for (int k = 0; k < 2; k++) {
            const demo_side *a = &v4.side[k], *b = &v6.side[k];
            char want[512];
            snprintf(want, sizeof want, "%s", path(a));
            if (a->nstates != b->nstates || memcmp(a->states, b->states, sizeof a->states))
                fail_msg("%s %s: IPv6 went %s, IPv4 %s", sc[i].name, a->name, path(b), want);
            assert_int_equal(b->final_state, a->final_state);
            assert_int_equal(b->error, a->error);
            assert_int_equal(b->data_ok, a->data_ok);
            assert_int_equal(b->app_received, a->app_received);
            assert_int_equal(b->addr.family, SYNACK_AF_INET6);
            assert_int_equal(b->counters.ip_in_receives, 0); /* no IPv4 at all */
            assert_true(b->counters.ip6_in_receives > 0 || k == DEMO_SERVER);
        }
        assert_int_equal(v6.idle, v4.idle);
    }
}

/* path-mtu over IPv6: a 1280-byte hop (no IPv6 link is smaller) answers
 * with packet too big; the client learns the path MTU once and resends. */
static void test_path_mtu_ipv6(void **state) {
    (void)state;
    demo_result r;
    run_family("path-mtu", 1, &r);
    expect_final(&r.side[DEMO_CLIENT], SYNACK_CLOSED);
    expect_final(&r.side[DEMO_SERVER], SYNACK_CLOSED);
    expect_clean(&r);
    const synack_counters *c = &r.side[DEMO_CLIENT].counters;
    assert_int_equal(r.link.dropped_mtu, 2); /* the third segment fits 1280 */
    assert_int_equal(c->icmp6_in_pkt_too_bigs, 2);
    assert_int_equal(c->icmp_in_dest_unreachs, 0);
    assert_int_equal(c->tcp_pmtu_reduced, 1);
    assert_true(r.side[DEMO_CLIENT].wire.retransmits >= 2);
}

/* The same seed gives the same run; the scenario's link impairments do not
 * depend on anything else. */
static void test_replays_exactly(void **state) {
    (void)state;
    demo_result a, b;
    run("lossy", &a);
    run("lossy", &b);
    assert_int_equal(a.end_ns, b.end_ns);
    assert_int_equal(a.link.sent, b.link.sent);
    assert_int_equal(a.link.lost, b.link.lost);
    assert_int_equal(a.side[0].nstates, b.side[0].nstates);
    assert_memory_equal(&a.side[0].counters, &b.side[0].counters, sizeof a.side[0].counters);
    assert_memory_equal(&a.side[1].counters, &b.side[1].counters, sizeof a.side[1].counters);
}

static void test_sysctl_and_errors(void **state) {
    (void)state;
    demo_result r;
    char err[256];
    demo_options o;
    memset(&o, 0, sizeof o);

    /* a shorter MSL shortens TIME-WAIT */
    const char *knobs[] = {"net.ipv4.tcp_msl=1000"};
    o.sysctl = knobs;
    o.nsysctl = 1;
    assert_int_equal(demo_run(&o, &r, err, sizeof err), 0);
    expect_final(&r.side[DEMO_CLIENT], SYNACK_CLOSED);
    assert_true(r.end_ns < 3ull * SIM_SEC);

    const char *bad[] = {"net.ipv4.no_such_knob=1"};
    o.sysctl = bad;
    assert_int_equal(demo_run(&o, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown"));

    o.sysctl = NULL;
    o.nsysctl = 0;
    o.scenario = "no-such-scenario";
    assert_int_equal(demo_run(&o, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "scenario"));
}

/* The rendered ladder and summary carry what a reader looks for. */
static char *render_family(const char *scenario, int ascii, int ipv6) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    demo_options o;
    memset(&o, 0, sizeof o);
    o.scenario = scenario;
    o.out = f;
    o.style.ascii = ascii;
    o.ipv6 = ipv6;
    demo_result r;
    char err[256];
    assert_int_equal(demo_run(&o, &r, err, sizeof err), 0);
    fclose(f);
    return text;
}

static char *render(const char *scenario, int ascii) { return render_family(scenario, ascii, 0); }

static void expect_text(const char *text, const char *want) {
    if (!strstr(text, want))
        fail_msg("output lacks \"%s\":\n%s", want, text);
}

static void test_ladder_text(void **state) {
    (void)state;
    char *t = render("lifecycle", 0);
    expect_text(t, "t(ms)");
    expect_text(t, "client 10.0.0.1:");
    expect_text(t, "server 10.0.0.2:80");
    expect_text(t, "SYN-SENT      \u2500\u2500SYN seq=0 ");
    expect_text(t, "<mss 1460,sackOK,ts 0/0,ws 7>");
    expect_text(t, "\u25c0\u2500\u2500SYN,ACK seq=0 ack=1 ");
    expect_text(t, "len=18");
    expect_text(t, "FIN,ACK");
    expect_text(t, "TIME-WAIT expired");
    expect_text(t, "SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED");
    expect_text(t, "TcpActiveOpens=1");
    free(t);

    t = render("lossy", 1);
    expect_text(t, "lost");
    expect_text(t, "retransmit (RTO)");
    expect_text(t, "-x ");
    free(t);

    t = render("refused", 1);
    expect_text(t, "RST,ACK seq=0 ack=1");
    expect_text(t, "ECONNREFUSED");
    free(t);

    t = render_family("lifecycle", 0, 1);
    expect_text(t, "synack demo lifecycle --ipv6 (seed 1)");
    expect_text(t, "t(ms)  client [fd00::1]:"); /* the header, not the summary */
    expect_text(t, "server [fd00::2]:80");
    expect_text(t, "<mss 1440,sackOK,ts 0/0,ws 7>");
    expect_text(t, "Ip6InReceives=");
    free(t);

    t = render_family("path-mtu", 1, 1);
    expect_text(t, "1280-byte packets");
    expect_text(t, "[router: too big for MTU 1280, ICMPv6 packet too big]");
    expect_text(t, "dropped: over MTU");
    expect_text(t, "Icmp6InPktTooBigs=2");
    free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lifecycle),
        cmocka_unit_test(test_simultaneous_open),
        cmocka_unit_test(test_simultaneous_close),
        cmocka_unit_test(test_half_close),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_lossy),
        cmocka_unit_test(test_path_mtu),
        cmocka_unit_test(test_ipv6_same_states),
        cmocka_unit_test(test_path_mtu_ipv6),
        cmocka_unit_test(test_replays_exactly),
        cmocka_unit_test(test_sysctl_and_errors),
        cmocka_unit_test(test_ladder_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
