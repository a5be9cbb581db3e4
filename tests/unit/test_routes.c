/* test_routes.c — IPv4 routes (synack_route_add) on an Ethernet link: the
 * next hop a connect resolves by ARP shows which route was chosen — the
 * connected subnet first, then the longest matching prefix, then the
 * default gateway; an on-link route resolves the destination itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "synack.h"
#include "wire/wire.h"

#define US_IP 0x0a000002u   /* 10.0.0.2/24 */
#define GW_DEFAULT 0x0a000001u
#define GW_WIDE 0x0a0000fdu   /* 10.0.0.253: 192.168.0.0/16 */
#define GW_NARROW 0x0a0000feu /* 10.0.0.254: 192.168.50.0/24 */

typedef struct world {
    synack_stack *s;
    uint32_t asked; /* the last address an ARP request asked for */
    uint64_t rng;
} world;

static void on_output(void *ctx, const void *frame, size_t len)
{
    world *w = ctx;
    wire_eth e;
    wire_arp a;
    if (wire_eth_parse(frame, len, &e) == WIRE_OK && e.type == WIRE_ETHERTYPE_ARP &&
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

static world *make(uint32_t gateway)
{
    static world w;
    memset(&w, 0, sizeof w);
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.ip = US_IP;
    cfg.gateway = gateway;
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
    synack_addr v6 = synack_addr_v6((const uint8_t[16]){0x20, 0x01, 0x0d, 0xb8});
    assert_int_equal(synack_route_add(w->s, &v6, 32, NULL), -EAFNOSUPPORT);
    synack_stack_free(w->s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(longest_prefix_wins),
        cmocka_unit_test(on_link_route),
        cmocka_unit_test(bad_routes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
