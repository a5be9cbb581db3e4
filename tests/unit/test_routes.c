/* test_routes.c — routes (synack_route_add) on an Ethernet link: the next
 * hop a connect resolves by ARP (IPv4) or Neighbour Solicitation (IPv6)
 * shows which route was chosen — the connected subnet first, then the
 * longest matching prefix, then the default gateway; an on-link route
 * resolves the destination itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "synack.h"
#include "wire/wire.h"

#define US_IP 0x0a000002u   /* 10.0.0.2/24 */
#define GW_DEFAULT 0x0a000001u
#define GW_WIDE 0x0a0000fdu   /* 10.0.0.253: 192.168.0.0/16 */
#define GW_NARROW 0x0a0000feu /* 10.0.0.254: 192.168.50.0/24 */

typedef struct world {
    synack_stack *s;
    uint32_t asked;     /* the last address an ARP request asked for          */
    uint8_t asked6[16]; /* the last target a Neighbour Solicitation asked for */
    uint64_t rng;
} world;

/* A Neighbour Solicitation's target (RFC 4861 §4.3), into w->asked6. */
static void solicited(world *w, const wire_eth *e)
{
    wire_ipv6 ip;
    wire_icmpv6 m;
    wire_nd_ns ns;
    if (wire_ipv6_parse(e->payload, e->payload_len, &ip) == WIRE_OK &&
        ip.next_header == WIRE_IPPROTO_ICMPV6 &&
        wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m) == WIRE_OK &&
        m.type == WIRE_ND_NEIGHBOR_SOLICIT && wire_nd_parse_ns(&m, &ns) == WIRE_OK)
        memcpy(w->asked6, ns.target, 16);
}

static void on_output(void *ctx, const void *frame, size_t len)
{
    world *w = ctx;
    wire_eth e;
    wire_arp a;
    if (wire_eth_parse(frame, len, &e) != WIRE_OK)
        return;
    if (e.type == WIRE_ETHERTYPE_IPV6)
        solicited(w, &e);
    else if (e.type == WIRE_ETHERTYPE_ARP &&
             wire_arp_parse(e.payload, e.payload_len, &a) == WIRE_OK && a.op == WIRE_ARP_REQUEST)
        w->asked = a.tpa;
}

static void on_random(void *ctx, void *buf, size_t len)
{
    world *w = ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        w->rng = w->rng * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(w->rng >> 56);
    }
}

/* A stack at 10.0.0.2/24 and, with ip6 (gateway6 may be NULL), at
 * fd00::2/64, its addresses usable at once (no DAD). */
static world *make6(uint32_t gateway, const char *ip6, const char *gateway6)
{
    static world w;
    memset(&w, 0, sizeof w);
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.ip = US_IP;
    cfg.gateway = gateway;
    synack_addr a;
    if (ip6) {
        assert_int_equal(synack_addr_parse(ip6, &a), 0);
        memcpy(cfg.ip6, a.v6, 16);
        cfg.prefix6_len = 64;
        cfg.net.dad_transmits = 0;
    }
    if (gateway6) {
        assert_int_equal(synack_addr_parse(gateway6, &a), 0);
        memcpy(cfg.gateway6, a.v6, 16);
    }
    const uint8_t mac[6] = {2, 0, 0, 0, 0, 2};
    memcpy(cfg.mac, mac, 6);
    cfg.output = on_output;
    cfg.output_ctx = &w;
    cfg.random = on_random;
    cfg.random_ctx = &w;
    w.s = synack_stack_new(&cfg, 1000000000ull);
    assert_non_null(w.s);
    return &w;
}

static world *make(uint32_t gateway) { return make6(gateway, NULL, NULL); }

static void route(world *w, uint32_t prefix, uint8_t len, uint32_t gateway, int want)
{
    synack_addr p = synack_addr_v4(prefix), g = synack_addr_v4(gateway);
    assert_int_equal(synack_route_add(w->s, &p, len, &g), want);
}

/* Which next hop does a connect to `dst` ask ARP for? 0: none (no route). */
static uint32_t hop_for(world *w, uint32_t dst)
{
    w->asked = 0;
    synack_sock *k = synack_socket(w->s);
    int r = synack_connect(k, dst, 80);
    synack_abort(k);
    return r == 0 ? w->asked : 0;
}

static void longest_prefix_wins(void **state)
{
    (void)state;
    world *w = make(GW_DEFAULT);
    route(w, 0xc0a80000u, 16, GW_WIDE, 0);
    route(w, 0xc0a83200u, 24, GW_NARROW, 0);
    assert_int_equal(hop_for(w, 0xc0a83207u), GW_NARROW); /* 192.168.50.7 */
    assert_int_equal(hop_for(w, 0xc0a80107u), GW_WIDE);   /* 192.168.1.7  */
    assert_int_equal(hop_for(w, 0x08080808u), GW_DEFAULT); /* elsewhere   */
    assert_int_equal(hop_for(w, 0x0a000009u), 0x0a000009u); /* our subnet first */
    synack_stack_free(w->s);
}

/* An on-link route: the destination answers ARP itself. */
static void on_link_route(void **state)
{
    (void)state;
    world *w = make(0);
    synack_addr p = synack_addr_v4(0xac100000u);
    assert_int_equal(synack_route_add(w->s, &p, 16, NULL), 0); /* 172.16.0.0/16 */
    assert_int_equal(hop_for(w, 0xac100505u), 0xac100505u);
    /* No default gateway: elsewhere is unreachable, counted. */
    assert_int_equal(hop_for(w, 0x08080808u), 0);
    synack_stack_free(w->s);
}

static void bad_routes_refused(void **state)
{
    (void)state;
    world *w = make(GW_DEFAULT);
    route(w, 0xc0a80000u, 16, GW_WIDE, 0);
    route(w, 0xc0a80000u, 16, GW_NARROW, -EEXIST);
    route(w, 0xc0a90000u, 16, 0x0b000001u, -ENETUNREACH); /* gateway off our subnet */
    route(w, 0xc0aa0000u, 33, GW_WIDE, -EINVAL);
    for (uint32_t i = 1; i < 16; i++)
        route(w, 0xc0ab0000u + (i << 8), 24, GW_WIDE, 0);
    route(w, 0xc0ac0000u, 16, GW_WIDE, -ENOSPC);
    synack_stack_free(w->s);
}

/* ------------------------------------------------------------ IPv6 */

static synack_addr v6(const char *text)
{
    synack_addr a;
    assert_int_equal(synack_addr_parse(text, &a), 0);
    return a;
}

static void route6(world *w, const char *prefix, uint8_t len, const char *gateway, int want)
{
    synack_addr p = v6(prefix), g;
    if (gateway)
        g = v6(gateway);
    assert_int_equal(synack_route_add(w->s, &p, len, gateway ? &g : NULL), want);
}

/* Does a connect to `dst` solicit `want`? NULL: no route, so nothing is
 * solicited and the SYN is counted in Ip6OutNoRoutes. */
static void hop6_is(world *w, const char *dst, const char *want)
{
    memset(w->asked6, 0, 16);
    uint64_t no_routes = synack_get_counters(w->s)->ip6_out_no_routes;
    synack_addr d = v6(dst);
    synack_sock *k = synack_socket(w->s);
    assert_int_equal(synack_connect_addr(k, &d, 80), 0);
    synack_abort(k);
    if (!want) {
        assert_true(wire_ipv6addr_is_unspecified(w->asked6));
        assert_int_equal(synack_get_counters(w->s)->ip6_out_no_routes, no_routes + 1);
        return;
    }
    synack_addr got = synack_addr_v6(w->asked6), exp = v6(want);
    if (!synack_addr_equal(&got, &exp)) {
        char t[SYNACK_ADDR_TEXT];
        fail_msg("%s: solicited %s, wanted %s", dst, synack_addr_format(&got, t, sizeof t), want);
    }
}

static void longest_prefix_wins6(void **state)
{
    (void)state;
    world *w = make6(GW_DEFAULT, "fd00::2", "fe80::1");
    route6(w, "2001:db8::", 32, "fd00::fd", 0);
    route6(w, "2001:db8:50::", 48, "fe80::fe", 0); /* a router's link-local address */
    hop6_is(w, "2001:db8:50::7", "fe80::fe");
    hop6_is(w, "2001:db8:1::7", "fd00::fd");
    hop6_is(w, "2606:4700::1111", "fe80::1"); /* elsewhere: the default router */
    hop6_is(w, "fd00::9", "fd00::9");          /* our prefix first             */
    synack_stack_free(w->s);
}

/* An on-link route: the destination answers Neighbour Discovery itself;
 * without a default router, elsewhere is unreachable. */
static void on_link_route6(void **state)
{
    (void)state;
    world *w = make6(0, "fd00::2", NULL);
    route6(w, "fd01::", 64, NULL, 0);
    hop6_is(w, "fd01::5", "fd01::5");
    route6(w, "fd02::", 64, "::", 0); /* :: is on-link too */
    hop6_is(w, "fd02::5", "fd02::5");
    hop6_is(w, "2606:4700::1111", NULL);
    synack_stack_free(w->s);
}

static void bad_routes_refused6(void **state)
{
    (void)state;
    world *w = make6(0, "fd00::2", NULL);
    route6(w, "2001:db8::", 32, "fd00::fd", 0);
    route6(w, "2001:db8::", 32, "fd00::fe", -EEXIST);
    route6(w, "2001:db8:ffff::", 32, "fd00::fe", -EEXIST); /* the same /32 */
    route6(w, "2001:db9::", 32, "fd01::1", -ENETUNREACH); /* gateway off our link */
    route6(w, "2001:dba::", 32, "ff02::1", -EINVAL);      /* a group: nobody's hop */
    route6(w, "2001:dbb::", 129, "fd00::fd", -EINVAL);
    synack_addr p = v6("2001:dbc::"), g4 = synack_addr_v4(GW_WIDE);
    assert_int_equal(synack_route_add(w->s, &p, 32, &g4), -EINVAL); /* families differ */
    for (int i = 1; i < 16; i++) {
        char text[32];
        snprintf(text, sizeof text, "2001:dc%x::", i);
        route6(w, text, 32, "fd00::fd", 0);
    }
    route6(w, "2001:dd0::", 32, "fd00::fd", -ENOSPC);
    synack_stack_free(w->s);
    w = make(GW_DEFAULT); /* no cfg.ip6: no IPv6 at all */
    route6(w, "2001:db8::", 32, NULL, -EAFNOSUPPORT);
    synack_stack_free(w->s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(longest_prefix_wins),
        cmocka_unit_test(on_link_route),
        cmocka_unit_test(bad_routes_refused),
        cmocka_unit_test(longest_prefix_wins6),
        cmocka_unit_test(on_link_route6),
        cmocka_unit_test(bad_routes_refused6),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
