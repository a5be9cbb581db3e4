/*
 * test_sim6.c — the simulator over IPv6: the addresses it hands out (and
 * the DAD it skips for them), the static neighbour entries sim_link adds, a
 * smaller-MTU hop answering IPv6 with ICMPv6 packet too big (and IPv4 with
 * fragmentation needed, each only in its own family), frame summaries of
 * IPv6 and ICMPv6, and the IPv4-only NAT box dropping IPv6.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u
#define ROUTER_IP 0x0a0000feu
#define TOTAL 20000u

typedef struct world {
    sim *s;
    sim_host *client, *server;
    synack_sock *l, *c, *a;
    uint32_t sent, got;
    int bad;
    /* what the link carried */
    int frames, ipv6_frames, nd_frames, tcp6_frames, drop_mtu, over_1280;
    int addrs_ok; /* every IPv6 TCP frame between the hosts' addresses */
} world;

static uint8_t pattern(uint32_t off) { return (uint8_t)(off * 7 + (off >> 9)); }

static void on_trace(void *ctx, const sim_trace *t)
{
    world *w = ctx;
    if (t->kind != SIM_TRACE_LINK)
        return;
    const sim_frame_info *fi = &t->info;
    if (t->link_event == SIM_LINK_DROP_MTU)
        w->drop_mtu++;
    if (t->link_event != SIM_LINK_SEND)
        return;
    w->frames++;
    w->ipv6_frames += fi->is_ipv6;
    w->nd_frames += fi->is_icmp && fi->icmp_type >= 133 && fi->icmp_type <= 137;
    w->over_1280 += t->len > 14 + 1280;
    if (fi->is_ipv6 && fi->is_tcp) {
        w->tcp6_frames++;
        synack_addr c = sim_host_addr(w->client, SYNACK_AF_INET6);
        synack_addr s = sim_host_addr(w->server, SYNACK_AF_INET6);
        int fwd = synack_addr_equal(&fi->src, &c) && synack_addr_equal(&fi->dst, &s);
        int back = synack_addr_equal(&fi->src, &s) && synack_addr_equal(&fi->dst, &c);
        w->addrs_ok &= fwd || back;
    }
}

static void pump(world *w)
{
    uint8_t buf[8192];
    while (w->c && w->sent < TOTAL) {
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

/* Two IPv6 hosts (sim_set_ipv6), the client's way to the server through
 * `to_server`; the server listens on port 80. */
static void open_world(world *w, const sim_link_params *to_server)
{
    memset(w, 0, sizeof *w);
    w->addrs_ok = 1;
    w->s = sim_new(6);
    sim_set_ipv6(w->s, 1);
    w->client = sim_add_host(w->s, "client", CLIENT_IP, NULL);
    w->server = sim_add_host(w->s, "server", SERVER_IP, NULL);
    assert_non_null(w->client);
    assert_non_null(w->server);
    assert_int_equal(sim_link(w->s, w->client, w->server, to_server, NULL), 0);
    sim_set_trace(w->s, on_trace, w);
    w->l = synack_socket(sim_host_stack(w->server));
    assert_int_equal(synack_bind(w->l, 80), 0);
    assert_int_equal(synack_listen(w->l, 8), 0);
}

/* Connect over IPv6 at once (no DAD wait) and move TOTAL bytes. */
static void transfer(world *w)
{
    synack_addr to = sim_host_addr(w->server, SYNACK_AF_INET6);
    w->c = synack_socket(sim_host_stack(w->client));
    assert_int_equal(synack_connect_addr(w->c, &to, 80), 0);
    while (sim_now(w->s) < 10 * SIM_SEC && w->got < TOTAL) {
        pump(w);
        sim_run_until(w->s, sim_now(w->s) + SIM_MS);
    }
}

static const synack_counters *ctr(sim_host *h) { return synack_get_counters(sim_host_stack(h)); }

/* fd00::<index + 1>, usable at once, reached without Neighbour Discovery. */
static void hosts_get_ipv6_addresses(void **state)
{
    (void)state;
    world w;
    open_world(&w, NULL);
    char text[SYNACK_ADDR_TEXT];
    synack_addr c = sim_host_addr(w.client, SYNACK_AF_INET6);
    synack_addr s = sim_host_addr(w.server, SYNACK_AF_INET6);
    assert_string_equal(synack_addr_format(&c, text, sizeof text), "fd00::1");
    assert_string_equal(synack_addr_format(&s, text, sizeof text), "fd00::2");
    synack_addr i = sim_ip6_for_index(1);
    assert_true(synack_addr_equal(&i, &s));
    assert_int_equal(sim_host_addr(w.server, SYNACK_AF_INET).v4, SERVER_IP);
    assert_int_equal(synack_addr6_state(sim_host_stack(w.client), c.v6), SYNACK_ADDR6_PREFERRED);
    transfer(&w);
    assert_int_equal(w.got, TOTAL);
    assert_false(w.bad);
    assert_int_equal(w.frames, w.ipv6_frames);
    assert_int_equal(w.frames, w.tcp6_frames);
    assert_true(w.addrs_ok);
    assert_int_equal(w.nd_frames, 0); /* static entries: no solicitation */
    assert_int_equal(ctr(w.client)->icmp6_out_neigh_solicits, 0);
    synack_addr none = {0};
    assert_int_equal(synack_neigh_add(sim_host_stack(w.client), &none, sim_host_mac(w.server)),
                     -EINVAL);
    sim_free(w.s);
}

/* Without sim_set_ipv6 a host has no IPv6 address; with its own cfg.ip6 it
 * keeps it and the caller's dad_transmits: tentative for a second, its
 * probe on the link. */
static void own_ip6_keeps_dad(void **state)
{
    (void)state;
    world w;
    memset(&w, 0, sizeof w);
    w.s = sim_new(1);
    sim_set_trace(w.s, on_trace, &w);
    sim_host *v4 = sim_add_host(w.s, "v4", CLIENT_IP, NULL);
    assert_int_equal(sim_host_addr(v4, SYNACK_AF_INET6).family, 0);
    synack_config cfg;
    synack_config_init(&cfg);
    synack_addr mine;
    assert_int_equal(synack_addr_parse("2001:db8::7", &mine), 0);
    memcpy(cfg.ip6, mine.v6, 16);
    sim_set_ipv6(w.s, 1); /* the caller's address wins */
    sim_host *h = sim_add_host(w.s, "v6", SERVER_IP, &cfg);
    synack_addr got = sim_host_addr(h, SYNACK_AF_INET6);
    assert_true(synack_addr_equal(&got, &mine));
    assert_int_equal(sim_link(w.s, v4, h, NULL, NULL), 0);
    assert_int_equal(synack_addr6_state(sim_host_stack(h), mine.v6), SYNACK_ADDR6_TENTATIVE);
    sim_run_until(w.s, 2 * SIM_SEC);
    assert_int_equal(synack_addr6_state(sim_host_stack(h), mine.v6), SYNACK_ADDR6_PREFERRED);
    assert_true(w.nd_frames >= 1); /* the DAD probes */
    sim_free(w.s);
}

/* A hop of MTU 1280 with a router: ICMPv6 packet too big reaches the
 * client, to its MAC and address, and the transfer goes on at 1280. */
static void ptb_hop_teaches_the_path_mtu(void **state)
{
    (void)state;
    sim_link_params p = sim_link_params_default();
    p.mtu = 1280;
    synack_addr router;
    assert_int_equal(synack_addr_parse("fd00::fe", &router), 0);
    memcpy(p.mtu_icmp_from6, router.v6, 16);
    world w;
    open_world(&w, &p);
    transfer(&w);
    assert_int_equal(w.got, TOTAL);
    assert_false(w.bad);
    assert_true(w.drop_mtu >= 1);
    const synack_counters *c = ctr(w.client);
    assert_int_equal(c->icmp6_in_pkt_too_bigs, (uint64_t)w.drop_mtu);
    assert_int_equal(c->icmp6_in_csum_errors, 0);
    assert_int_equal(c->eth_not_for_us, 0);
    assert_int_equal(c->tcp_pmtu_reduced, 1);
    synack_tcp_info info;
    assert_int_equal(synack_info(w.c, &info), 0);
    assert_true(info.snd_mss <= 1280 - 40 - 20);
    sim_free(w.s);
}

/* Each family's router answers only its own family: an IPv4 source alone
 * leaves IPv6 a black hole, and the IPv6 one leaves IPv4 silent. */
static void each_family_its_own_icmp(void **state)
{
    (void)state;
    sim_link_params p = sim_link_params_default();
    p.mtu = 1280;
    p.mtu_icmp_from = ROUTER_IP;
    world w;
    open_world(&w, &p);
    transfer(&w);
    assert_true(w.got < TOTAL);
    assert_true(w.drop_mtu >= 1);
    assert_int_equal(ctr(w.client)->icmp6_in_pkt_too_bigs, 0);
    assert_int_equal(ctr(w.client)->icmp_in_dest_unreachs, 0);
    sim_free(w.s);

    p = sim_link_params_default();
    p.mtu = 1000;
    p.mtu_icmp_from6[0] = 0xfd;
    p.mtu_icmp_from6[15] = 0xfe;
    open_world(&w, &p);
    w.c = synack_socket(sim_host_stack(w.client));
    assert_int_equal(synack_connect(w.c, SERVER_IP, 80), 0); /* over IPv4 */
    while (sim_now(w.s) < 5 * SIM_SEC && w.got < TOTAL) {
        pump(&w);
        sim_run_until(w.s, sim_now(w.s) + SIM_MS);
    }
    assert_true(w.got < TOTAL);
    assert_int_equal(ctr(w.client)->icmp_in_dest_unreachs, 0);
    assert_int_equal(ctr(w.client)->icmp6_in_pkt_too_bigs, 0);
    sim_free(w.s);
}

/* ------------------------------------------------------------ frame summaries */

static size_t ipv6_frame(uint8_t *f, uint8_t next, const uint8_t *payload, size_t plen)
{
    memset(f, 0, 54);
    f[12] = 0x86;
    f[13] = 0xdd;
    uint8_t *ip = f + 14;
    ip[0] = 0x60;
    ip[4] = (uint8_t)(plen >> 8);
    ip[5] = (uint8_t)plen;
    ip[6] = next;
    ip[7] = 64;
    ip[8] = 0xfd;
    ip[23] = 1; /* fd00::1 */
    ip[24] = 0xfd;
    ip[39] = 2; /* fd00::2 */
    memcpy(ip + 40, payload, plen);
    return 54 + plen;
}

static void frame_summaries_read_ipv6(void **state)
{
    (void)state;
    uint8_t f[256], p[64];
    sim_frame_info fi;
    /* hop-by-hop options (8 bytes, next: TCP), then a SYN 40001 -> 80 */
    memset(p, 0, sizeof p);
    p[0] = 6;
    uint8_t *tcp = p + 8;
    tcp[0] = 0x9c;
    tcp[1] = 0x41;
    tcp[3] = 80;
    tcp[7] = 9;     /* seq 9 */
    tcp[12] = 0x60; /* 24 bytes: an MSS option */
    tcp[13] = SYNACK_SYN;
    tcp[20] = 2;
    tcp[21] = 4;
    tcp[22] = 0x05;
    tcp[23] = 0xa0;
    sim_frame_parse(f, ipv6_frame(f, 0, p, 8 + 24), &fi);
    assert_true(fi.is_ipv6 && fi.is_tcp && !fi.is_ipv4);
    assert_int_equal(fi.src_port, 40001);
    assert_int_equal(fi.dst_port, 80);
    assert_int_equal(fi.seg.seq, 9);
    assert_int_equal(fi.seg.mss, 1440);
    assert_int_equal(fi.src_ip, 0);
    char text[SYNACK_ADDR_TEXT];
    assert_string_equal(synack_addr_format(&fi.src, text, sizeof text), "fd00::1");
    assert_string_equal(synack_addr_format(&fi.dst, text, sizeof text), "fd00::2");
    /* a later fragment: no upper-layer header to read */
    memset(p, 0, sizeof p);
    p[0] = 6;
    p[3] = 0x08; /* offset 1 (8 bytes) */
    sim_frame_parse(f, ipv6_frame(f, 44, p, 8 + 24), &fi);
    assert_true(fi.is_ipv6 && !fi.is_tcp);
    /* ICMPv6 packet too big and a neighbour solicitation */
    memset(p, 0, sizeof p);
    p[0] = 2;
    sim_frame_parse(f, ipv6_frame(f, 58, p, 48), &fi);
    assert_true(fi.is_ipv6 && fi.is_icmp && !fi.is_tcp);
    assert_int_equal(fi.icmp_type, 2);
    p[0] = 135;
    sim_frame_parse(f, ipv6_frame(f, 58, p, 24), &fi);
    assert_int_equal(fi.icmp_type, 135);
    /* truncated: a header that claims more than the frame has */
    sim_frame_parse(f, 14 + 30, &fi);
    assert_false(fi.is_ipv6);
}

/* ------------------------------------------------------------ the NAT box */

static void nat_drops_ipv6(void **state)
{
    (void)state;
    sim *s = sim_new(1);
    sim_set_ipv6(s, 1);
    sim_nat_params np = sim_nat_params_default();
    sim_host *nat = sim_add_nat(s, "nat", 0x0a000001u, &np);
    sim_host *in = sim_add_host(s, "inside", np.inside_ip + 9, NULL);
    sim_host *out = sim_add_host(s, "outside", 0x0a000002u, NULL);
    assert_int_equal(sim_host_addr(nat, SYNACK_AF_INET6).family, 0); /* no IPv6 */
    assert_int_equal(sim_link(s, in, nat, NULL, NULL), 0);
    assert_int_equal(sim_link(s, nat, out, NULL, NULL), 0);
    uint8_t f[256], p[64];
    memset(p, 0, sizeof p);
    p[12] = 0x50;
    p[13] = SYNACK_SYN;
    size_t len = ipv6_frame(f, 6, p, 20);
    memcpy(f, sim_host_mac(nat), 6);
    memcpy(f + 6, sim_host_mac(in), 6);
    sim_inject(in, f, len);
    sim_run_until(s, SIM_SEC);
    const sim_nat_stats *st = sim_nat_get_stats(nat);
    assert_int_equal(st->dropped_ipv6, 1);
    assert_int_equal(st->out_translated, 0);
    assert_int_equal(st->dropped_other, 0);
    assert_int_equal(synack_get_counters(sim_host_stack(out))->in_frames, 0);
    sim_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hosts_get_ipv6_addresses),
        cmocka_unit_test(own_ip6_keeps_dad),
        cmocka_unit_test(ptb_hop_teaches_the_path_mtu),
        cmocka_unit_test(each_family_its_own_icmp),
        cmocka_unit_test(frame_summaries_read_ipv6),
        cmocka_unit_test(nat_drops_ipv6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
