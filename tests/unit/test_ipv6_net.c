/* test_ipv6_net.c — the stack on an IPv6 link (issue 10, first steps): it
 * answers neighbour solicitations for its addresses (RFC 4861 §7.2.4),
 * duplicate address detection probes included, and ICMPv6 echo (RFC 4443
 * §4.2), from its configured address and from the link-local one made from
 * its MAC; everything else is counted and dropped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <string.h>

#include "synack.h"
#include "wire/wire.h"

static const uint8_t US_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t US[16] = {0xfd, 0x00, [15] = 2};     /* fd00::2 */
static const uint8_t PEER[16] = {0xfd, 0x00, [15] = 1};   /* fd00::1 */
static const uint8_t PEER_LL[16] = {0xfe, 0x80, [15] = 1}; /* fe80::1 */
static const uint8_t UNSPEC[16] = {0};

typedef struct world {
    synack_stack *s;
    uint8_t out[8][2048];
    size_t out_len[8], nout;
} world;

static void on_output(void *ctx, const void *frame, size_t len)
{
    world *w = ctx;
    assert_true(w->nout < 8 && len <= sizeof w->out[0]);
    memcpy(w->out[w->nout], frame, len);
    w->out_len[w->nout++] = len;
}

static void on_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5a, len); /* nothing here depends on secrets */
}

static world *new_world(int ipv6)
{
    static world w;
    memset(&w, 0, sizeof w);
    synack_config cfg;
    synack_config_init(&cfg);
    memcpy(cfg.mac, US_MAC, 6);
    cfg.ip = 0x0a000002u;
    if (ipv6)
        memcpy(cfg.ip6, US, 16);
    cfg.net.dad_transmits = 0; /* addresses usable at once; test_nd.c covers DAD */
    cfg.output = on_output;
    cfg.output_ctx = &w;
    cfg.random = on_random;
    w.s = synack_stack_new(&cfg, 1000000000ull);
    assert_non_null(w.s);
    return &w;
}

static int teardown(void **state)
{
    (void)state;
    return 0;
}

/* An Ethernet frame carrying IPv6 with `icmp` (len bytes) as ICMPv6; the
 * checksum is filled in here. */
static void send_icmpv6(world *w, const uint8_t dmac[6], const uint8_t src[16],
                        const uint8_t dst[16], uint8_t hop, uint8_t *icmp, size_t len)
{
    static uint8_t frame[2048];
    wire_icmpv6_set_checksum(icmp, len, src, dst);
    wire_ipv6 h = {.next_header = WIRE_IPPROTO_ICMPV6, .hop_limit = hop, .payload_len = len};
    memcpy(h.src, src, 16);
    memcpy(h.dst, dst, 16);
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, dmac, PEER_MAC, WIRE_ETHERTYPE_IPV6);
    assert_int_equal(wire_ipv6_emit(frame + WIRE_ETH_HDR_LEN, WIRE_IPV6_HDR_LEN, &h), 40);
    memcpy(frame + WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN, icmp, len);
    synack_input(w->s, frame, WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN + len, 1000000000ull);
}

/* A neighbour solicitation for `target` from `src` (:: for DAD). */
static void send_ns(world *w, const uint8_t src[16], const uint8_t target[16], uint8_t hop)
{
    uint8_t group[16], gmac[6], ns[64];
    wire_ipv6addr_solicited_node(group, target);
    wire_ipv6addr_multicast_mac(gmac, group);
    int dad = wire_ipv6addr_is_unspecified(src);
    size_t len = wire_nd_emit_ns(ns, sizeof ns, src, group, target, dad ? NULL : PEER_MAC);
    assert_true(len > 0);
    send_icmpv6(w, gmac, src, group, hop, ns, len);
}

/* The frame the stack sent: Ethernet to `dmac`, IPv6 `src` -> `dst`, a
 * valid ICMPv6 message, returned parsed (pointing into w->out). */
static wire_icmpv6 sent(world *w, size_t i, const uint8_t dmac[6], const uint8_t src[16],
                        const uint8_t dst[16], uint8_t hop)
{
    assert_true(i < w->nout);
    wire_eth e;
    wire_ipv6 ip;
    wire_icmpv6 m;
    assert_int_equal(wire_eth_parse(w->out[i], w->out_len[i], &e), WIRE_OK);
    assert_memory_equal(e.dst, dmac, 6);
    assert_memory_equal(e.src, US_MAC, 6);
    assert_int_equal(e.type, WIRE_ETHERTYPE_IPV6);
    assert_int_equal(wire_ipv6_parse(e.payload, e.payload_len, &ip), WIRE_OK);
    assert_memory_equal(ip.src, src, 16);
    assert_memory_equal(ip.dst, dst, 16);
    assert_int_equal(ip.hop_limit, hop);
    assert_int_equal(ip.next_header, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m), WIRE_OK);
    return m;
}

static void solicitation_for_our_address_is_answered(void **state)
{
    (void)state;
    world *w = new_world(1);
    send_ns(w, PEER_LL, US, 255);
    assert_int_equal(w->nout, 1);
    wire_icmpv6 m = sent(w, 0, PEER_MAC, US, PEER_LL, 255);
    wire_nd_na na;
    wire_nd_opts o;
    assert_int_equal(wire_nd_parse_na(&m, &na), WIRE_OK);
    assert_int_equal(na.flags, WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE);
    assert_memory_equal(na.target, US, 16);
    assert_int_equal(wire_nd_parse_options(na.opts, na.opts_len, &o), WIRE_OK);
    assert_true(o.has_tlla);
    assert_memory_equal(o.tlla, US_MAC, 6);
    const synack_counters *c = synack_get_counters(w->s);
    assert_int_equal(c->icmp6_in_neigh_solicits, 1);
    assert_int_equal(c->icmp6_out_neigh_adverts, 1);
    synack_stack_free(w->s);
}

/* The link-local address made from the MAC (modified EUI-64) is ours too. */
static void link_local_address_is_ours(void **state)
{
    (void)state;
    world *w = new_world(1);
    uint8_t ll[16];
    wire_ipv6addr_link_local(ll, US_MAC);
    send_ns(w, PEER_LL, ll, 255);
    assert_int_equal(w->nout, 1);
    sent(w, 0, PEER_MAC, ll, PEER_LL, 255);
    synack_stack_free(w->s);
}

/* A duplicate address detection probe (source ::) for our address is
 * answered to all nodes, not solicited (RFC 4861 §7.2.4). */
static void dad_probe_is_answered_to_all_nodes(void **state)
{
    (void)state;
    world *w = new_world(1);
    static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
    static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    send_ns(w, UNSPEC, US, 255);
    assert_int_equal(w->nout, 1);
    wire_icmpv6 m = sent(w, 0, all_nodes_mac, US, all_nodes, 255);
    wire_nd_na na;
    assert_int_equal(wire_nd_parse_na(&m, &na), WIRE_OK);
    assert_int_equal(na.flags, WIRE_ND_NA_OVERRIDE);
    synack_stack_free(w->s);
}

/* Solicitations that RFC 4861 §7.1.1 says to drop, or for another target. */
static void bad_or_foreign_solicitations_are_not_answered(void **state)
{
    (void)state;
    world *w = new_world(1);
    send_ns(w, PEER_LL, US, 64); /* hop limit not 255: maybe from off-link */
    static const uint8_t other[16] = {0xfe, 0x80, [15] = 2}; /* shares our group */
    send_ns(w, PEER_LL, other, 255);
    send_ns(w, PEER_LL, PEER, 255); /* to a group we are not in */
    assert_int_equal(w->nout, 0);
    const synack_counters *c = synack_get_counters(w->s);
    assert_int_equal(c->icmp6_in_errors, 1);
    assert_int_equal(c->icmp6_in_neigh_solicits, 2);
    assert_int_equal(c->eth_not_for_us, 1);
    synack_stack_free(w->s);
}

/* The pinger resolved us first: its solicitation taught us its MAC
 * (RFC 4861 §7.2.3), so the reply goes out at once. */
static void echo_is_answered_from_the_address_pinged(void **state)
{
    (void)state;
    world *w = new_world(1);
    send_ns(w, PEER, US, 255);
    assert_int_equal(w->nout, 1);
    sent(w, 0, PEER_MAC, US, PEER, 255); /* the advertisement */
    uint8_t req[64];
    static const uint8_t data[] = "synack ping";
    size_t len = wire_icmpv6_emit_echo(req, sizeof req, PEER, US, WIRE_ICMPV6_ECHO_REQUEST, 77, 3,
                                       data, sizeof data);
    send_icmpv6(w, US_MAC, PEER, US, 64, req, len);
    assert_int_equal(w->nout, 2);
    wire_icmpv6 m = sent(w, 1, PEER_MAC, US, PEER, 64);
    assert_int_equal(m.type, WIRE_ICMPV6_ECHO_REPLY);
    assert_int_equal(m.body, (77u << 16) | 3);
    assert_int_equal(m.data_len, sizeof data);
    assert_memory_equal(m.data, data, sizeof data);
    assert_int_equal(synack_get_counters(w->s)->icmp6_out_echo_replies, 1);

    synack_stack_free(w->s);
}

/* A reply with no route (the pinger off our prefix, no gateway6) does
 * not go, and is not counted as sent (Ip6OutNoRoutes is). */
static void echo_reply_without_route_is_not_counted(void **state)
{
    (void)state;
    world *w = new_world(1);
    static const uint8_t far[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9}; /* 2001:db8::9 */
    uint8_t req[64];
    size_t len = wire_icmpv6_emit_echo(req, sizeof req, far, US, WIRE_ICMPV6_ECHO_REQUEST, 1, 1,
                                       NULL, 0);
    send_icmpv6(w, US_MAC, far, US, 64, req, len);
    assert_int_equal(w->nout, 0);
    const synack_counters *c = synack_get_counters(w->s);
    assert_int_equal(c->ip6_out_no_routes, 1);
    assert_int_equal(c->icmp6_out_echo_replies, 0);
    synack_stack_free(w->s);
}

/* Without an IPv6 address the stack ignores IPv6; with one, what is not
 * for it is counted. */
static void what_is_not_handled_is_counted(void **state)
{
    (void)state;
    world *w = new_world(0);
    send_ns(w, PEER_LL, US, 255);
    assert_int_equal(w->nout, 0);
    assert_int_equal(synack_get_counters(w->s)->ip6_in_receives, 0);
    synack_stack_free(w->s);

    w = new_world(1);
    uint8_t req[64];
    size_t len = wire_icmpv6_emit_echo(req, sizeof req, PEER, PEER, WIRE_ICMPV6_ECHO_REQUEST, 1, 1,
                                       NULL, 0);
    send_icmpv6(w, US_MAC, PEER, PEER, 64, req, len); /* to an address not ours */
    assert_int_equal(synack_get_counters(w->s)->ip6_in_addr_errors, 1);
    assert_int_equal(w->nout, 0);
    synack_stack_free(w->s);
}

/* An Ethernet frame to `dmac` carrying IPv6 from PEER to US: next header
 * `nh`, then `payload`. */
static void send_ipv6(world *w, const uint8_t dmac[6], uint8_t nh, const uint8_t *payload,
                      size_t len)
{
    static uint8_t frame[2048];
    wire_ipv6 h = {.next_header = nh, .hop_limit = 64, .payload_len = len};
    memcpy(h.src, PEER, 16);
    memcpy(h.dst, US, 16);
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, dmac, PEER_MAC, WIRE_ETHERTYPE_IPV6);
    assert_int_equal(wire_ipv6_emit(frame + WIRE_ETH_HDR_LEN, WIRE_IPV6_HDR_LEN, &h), 40);
    memcpy(frame + WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN, payload, len);
    synack_input(w->s, frame, WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN + len, 1000000000ull);
}

/* A destination options header naming `nh` with one unknown option,
 * 0xde (action 11: discard and answer a unicast destination), then an
 * ICMPv6 message of `type` (checksum set), 16 bytes, into `p`: 24 bytes. */
static size_t behind_unknown_option(uint8_t *p, uint8_t nh, uint8_t type)
{
    const uint8_t dopt[8] = {nh, 0, 0xde, 4, 0, 0, 0, 0};
    memcpy(p, dopt, 8);
    uint8_t *icmp = p + 8;
    memset(icmp, 0, 16);
    icmp[0] = type;
    wire_icmpv6_set_checksum(icmp, 16, PEER, US);
    return 24;
}

/* RFC 4443 §2.4(e.1): no ICMPv6 error about an ICMPv6 error, even when
 * an option in front of it made us drop it (the walk stops there): the
 * headers are skipped by length to find it, through a first fragment's
 * fragment header too. The same option in front of an echo request is
 * answered (code 2, pointing at the option). */
static void no_error_about_an_error_behind_options(void **state)
{
    (void)state;
    world *w = new_world(1);
    send_ns(w, PEER, US, 255); /* the peer's MAC, for what we send */
    uint8_t p[64];
    size_t len = behind_unknown_option(p, WIRE_IPPROTO_ICMPV6, WIRE_ICMPV6_DEST_UNREACH);
    send_ipv6(w, US_MAC, WIRE_IPPROTO_DSTOPTS, p, len);
    /* The same behind a first fragment's header (offset 0, M set). */
    uint8_t f[64] = {0};
    behind_unknown_option(f, WIRE_IPPROTO_FRAGMENT, WIRE_ICMPV6_PARAM_PROBLEM);
    memmove(f + 16, f + 8, 16);
    const uint8_t frag[8] = {WIRE_IPPROTO_ICMPV6, 0, 0, 1, 0, 0, 0, 9};
    memcpy(f + 8, frag, 8);
    send_ipv6(w, US_MAC, WIRE_IPPROTO_DSTOPTS, f, 32);
    const synack_counters *c = synack_get_counters(w->s);
    assert_int_equal(w->nout, 1); /* the advertisement alone */
    assert_int_equal(c->icmp6_out_parm_problems, 0);
    assert_int_equal(c->ip6_in_hdr_errors, 2);

    len = behind_unknown_option(p, WIRE_IPPROTO_ICMPV6, WIRE_ICMPV6_ECHO_REQUEST);
    send_ipv6(w, US_MAC, WIRE_IPPROTO_DSTOPTS, p, len);
    assert_int_equal(w->nout, 2);
    wire_icmpv6 m = sent(w, 1, PEER_MAC, US, PEER, 64);
    assert_int_equal(m.type, WIRE_ICMPV6_PARAM_PROBLEM);
    assert_int_equal(m.code, WIRE_ICMPV6_PP_OPTION);
    assert_int_equal(m.body, 40 + 2);
    assert_int_equal(c->icmp6_out_parm_problems, 1);
    synack_stack_free(w->s);
}

static const uint8_t BROADCAST_MAC[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
static const uint8_t ALL_NODES_MAC[6] = {0x33, 0x33, 0, 0, 0, 1};

/* RFC 4443 §2.4(e.4), (e.5): a packet to our unicast address that came
 * in a link-layer broadcast or multicast frame draws no error, unless it
 * is a parameter problem about an option whose action bits are 10. */
static void no_error_about_a_link_layer_group_frame(void **state)
{
    (void)state;
    world *w = new_world(1);
    send_ns(w, PEER, US, 255);
    const synack_counters *c = synack_get_counters(w->s);
    uint8_t p[64];
    size_t len = behind_unknown_option(p, WIRE_IPPROTO_ICMPV6, WIRE_ICMPV6_ECHO_REQUEST);
    send_ipv6(w, BROADCAST_MAC, WIRE_IPPROTO_DSTOPTS, p, len);
    send_ipv6(w, ALL_NODES_MAC, WIRE_IPPROTO_DSTOPTS, p, len);
    assert_int_equal(w->nout, 1); /* the advertisement alone */
    assert_int_equal(c->icmp6_out_parm_problems, 0);
    assert_int_equal(c->ip6_in_hdr_errors, 2);
    /* Option 0x9e: action 10, answered whatever the destination. */
    p[2] = 0x9e;
    send_ipv6(w, BROADCAST_MAC, WIRE_IPPROTO_DSTOPTS, p, len);
    send_ipv6(w, ALL_NODES_MAC, WIRE_IPPROTO_DSTOPTS, p, len);
    assert_int_equal(w->nout, 3);
    for (size_t i = 1; i < 3; i++) {
        wire_icmpv6 m = sent(w, i, PEER_MAC, US, PEER, 64);
        assert_int_equal(m.type, WIRE_ICMPV6_PARAM_PROBLEM);
        assert_int_equal(m.code, WIRE_ICMPV6_PP_OPTION);
        assert_int_equal(m.body, 40 + 2);
    }
    assert_int_equal(c->icmp6_out_parm_problems, 2);
    /* The frame's addressing does not stick: the next unicast one is
     * answered as ever. */
    p[2] = 0xde;
    send_ipv6(w, US_MAC, WIRE_IPPROTO_DSTOPTS, p, len);
    assert_int_equal(w->nout, 4);
    assert_int_equal(c->icmp6_out_parm_problems, 3);
    synack_stack_free(w->s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(solicitation_for_our_address_is_answered, teardown),
        cmocka_unit_test_teardown(link_local_address_is_ours, teardown),
        cmocka_unit_test_teardown(dad_probe_is_answered_to_all_nodes, teardown),
        cmocka_unit_test_teardown(bad_or_foreign_solicitations_are_not_answered, teardown),
        cmocka_unit_test_teardown(echo_is_answered_from_the_address_pinged, teardown),
        cmocka_unit_test_teardown(what_is_not_handled_is_counted, teardown),
        cmocka_unit_test_teardown(echo_reply_without_route_is_not_counted, teardown),
        cmocka_unit_test_teardown(no_error_about_an_error_behind_options, teardown),
        cmocka_unit_test_teardown(no_error_about_a_link_layer_group_frame, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
