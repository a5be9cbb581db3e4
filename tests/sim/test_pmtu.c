/*
 * test_pmtu.c — the path MTU drops in the middle of a transfer (a route
 * change onto a tunnel): from 1500 to 1000 bytes on the client's way to the
 * server (over IPv6 to 1280, the least an IPv6 link may take). With a
 * router that says so (ICMP fragmentation needed, ICMPv6 packet too big)
 * the transfer goes on at the new size within a round trip; with a black
 * hole (no ICMP) it goes on only with tcp_mtu_probing; over many seeds with
 * loss, duplication and reordering, in both families, every byte still
 * arrives in order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u
#define ROUTER_IP 0x0a0000feu
#define TOTAL (2u << 20)

typedef struct world {
    sim *s;
    sim_host *client, *server;
    synack_sock *l, *c, *a;
    uint32_t sent, got;
    int bad;
} world;

static uint8_t pattern(uint32_t off) { return (uint8_t)(off * 13 + (off >> 8)); }

static void pump(world *w)
{
    uint8_t buf[16384];
    while (w->sent < TOTAL) {
        uint32_t n = TOTAL - w->sent < sizeof buf ? TOTAL - w->sent : (uint32_t)sizeof buf;
        for (uint32_t i = 0; i < n; i++)
            buf[i] = pattern(w->sent + i);
        ssize_t r = synack_send(w->c, buf, n);
        if (r <= 0)
            break;
        w->sent += (uint32_t)r;
    }
    if (!w->a)
        w->a = synack_accept(w->l, NULL);
    ssize_t r;
    while (w->a && (r = synack_recv(w->a, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < r; i++)
            w->bad |= buf[i] != pattern(w->got + (uint32_t)i);
        w->got += (uint32_t)r;
    }
}

/* Run until done or `limit_s` of virtual time; returns the seconds taken,
 * or -1. At 50 ms, mid-transfer, the client's way to the server drops to MTU 1000. */
static int use_gso; /* the stacks hand 64 KiB segments to a device that cuts them */
static int use_ipv6; /* the client connects to the server's IPv6 address */

static double transfer(uint64_t seed, const char *probing, int icmp, double loss, world *w)
{
    memset(w, 0, sizeof *w);
    w->s = sim_new(seed);
    sim_set_ipv6(w->s, use_ipv6);
    synack_config cfg;
    synack_config_init(&cfg);
    assert_int_equal(synack_config_set(&cfg, "tcp_mtu_probing", probing), 0);
    if (use_gso)
        cfg.gso_max = 65535;
    w->client = sim_add_host(w->s, "client", CLIENT_IP, &cfg);
    w->server = sim_add_host(w->s, "server", SERVER_IP, &cfg);
    sim_link_params p = sim_link_params_default();
    p.mtu = use_gso ? 0 : p.mtu; /* GSO: the link takes the 64 KiB segments whole */
    p.delay_ns = 5 * SIM_MS;
    p.bandwidth_bps = 100000000;
    p.loss = loss;
    p.duplicate = loss / 2;
    p.reorder = loss;
    p.reorder_delay_ns = 2 * SIM_MS;
    sim_link(w->s, w->client, w->server, &p, &p);
    w->l = synack_socket(sim_host_stack(w->server));
    synack_bind(w->l, 80);
    synack_listen(w->l, 8);
    w->c = synack_socket(sim_host_stack(w->client));
    synack_addr to = sim_host_addr(w->server, use_ipv6 ? SYNACK_AF_INET6 : SYNACK_AF_INET);
    assert_int_equal(synack_connect_addr(w->c, &to, 80), 0);
    int dropped = 0;
    while (sim_now(w->s) < 120 * SIM_SEC && w->got < TOTAL) {
        if (!dropped && sim_now(w->s) >= 50 * SIM_MS) {
            p.mtu = use_ipv6 ? 1280 : 1000;
            p.mtu_icmp_from = icmp ? ROUTER_IP : 0;
            if (icmp && use_ipv6)
                p.mtu_icmp_from6[0] = 0xfd, p.mtu_icmp_from6[15] = 0xfe; /* fd00::fe */
            sim_link_set(w->s, w->client, w->server, &p);
            dropped = 1;
        }
        pump(w);
        sim_run_until(w->s, sim_now(w->s) + SIM_MS);
    }
    return w->got == TOTAL ? (double)sim_now(w->s) / SIM_SEC : -1;
}

static uint64_t counter(world *w, size_t which)
{
    return synack_counter_value(synack_get_counters(sim_host_stack(w->client)), which);
}

static size_t counter_index(const char *name)
{
    for (size_t i = 0; i < synack_counter_count(); i++)
        if (!strcmp(synack_counter_name(i), name))
            return i;
    fail_msg("no counter %s", name);
    return 0;
}

/* A router that sends "fragmentation needed": the client learns the MTU and
 * the transfer barely slows down. */
static void icmp_teaches_the_path_mtu(void **state)
{
    (void)state;
    world w;
    double secs = transfer(1, "0", 1, 0, &w);
    printf("2 MiB with an MTU drop and ICMP: %.2f s\n", secs);
    assert_true(secs > 0 && secs < 1);
    assert_false(w.bad);
    assert_int_equal(counter(&w, counter_index("TcpExtSynackPMTUReduced")), 1);
    assert_true(counter(&w, counter_index(use_ipv6 ? "Icmp6InPktTooBigs" : "IcmpInDestUnreachs")) > 0);
    synack_tcp_info info;
    synack_info(w.c, &info);
    assert_int_equal(synack_sock_state(w.c), SYNACK_ESTABLISHED);
    sim_free(w.s);
}

/* A black hole: without tcp_mtu_probing the connection stalls; with it the
 * third timeout halves the segment size and the transfer completes. */
static void black_hole_needs_mtu_probing(void **state)
{
    (void)state;
    world w;
    double stalled = transfer(2, "0", 0, 0, &w);
    assert_true(stalled < 0);
    assert_true(w.got < TOTAL);
    sim_free(w.s);
    double secs = transfer(2, "1", 0, 0, &w);
    printf("2 MiB through a black hole with tcp_mtu_probing=1: %.2f s\n", secs);
    assert_true(secs > 0);
    assert_false(w.bad);
    assert_int_equal(counter(&w, counter_index("TcpExtSynackPMTUBlackHole")), 1);
    sim_free(w.s);
}

/* Loss, duplication and reordering on both ways, and the MTU drop, over
 * many seeds: every byte arrives, in order, every time. */
static void mtu_drop_under_impairment(void **state)
{
    (void)state;
    for (uint64_t seed = 100; seed < 120; seed++) {
        world w;
        use_ipv6 = (seed >> 1) & 1;
        double secs = transfer(seed, "1", (int)(seed & 1), 0.01, &w);
        if (secs < 0 || w.bad)
            fail_msg("seed %llu (IPv%d): %u of %u bytes%s", (unsigned long long)seed,
                     use_ipv6 ? 6 : 4, w.got, TOTAL, w.bad ? ", corrupted" : "");
        sim_free(w.s);
    }
    use_ipv6 = 0;
}

/* The same over IPv6: packet too big from a 1280-byte hop, or a black hole. */
static void ipv6_path_mtu(void **state)
{
    use_ipv6 = 1;
    icmp_teaches_the_path_mtu(state);
    black_hole_needs_mtu_probing(state);
    use_ipv6 = 0;
}

/* With GSO the stack builds 64 KiB segments for the device to cut at the
 * link's MTU: once the path MTU is known, segments must fit the path. */
static void gso_follows_the_path_mtu(void **state)
{
    use_gso = 1;
    icmp_teaches_the_path_mtu(state);
    black_hole_needs_mtu_probing(state);
    use_gso = 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(icmp_teaches_the_path_mtu),
        cmocka_unit_test(black_hole_needs_mtu_probing),
        cmocka_unit_test(mtu_drop_under_impairment),
        cmocka_unit_test(ipv6_path_mtu),
        cmocka_unit_test(gso_follows_the_path_mtu),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
