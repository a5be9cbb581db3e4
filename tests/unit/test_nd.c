/* test_nd.c — IPv6 Neighbour Discovery for what the stack sends (RFC 4861
 * §7.2-7.3), its routing (§5.2) and Duplicate Address Detection of its own
 * addresses (RFC 4862 §5.4), as packet conversations: a neighbour pings,
 * the stack's reply waits for resolution; a SYN waits likewise, and fails
 * with EHOSTUNREACH when its next hop never answers; and so on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "stack/stack.h"
#include "synack.h"
#include "wire/wire.h"

#define S 1000000000ull
#define T0 (1 * S)
#define MAX_OUT 300 /* a full neighbour queue of replies fits */

static const uint8_t US_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t OTHER_MAC[6] = {0x02, 0, 0, 0, 0, 0x03};
static const uint8_t ROUTER_MAC[6] = {0x02, 0, 0, 0, 0, 0xfe};
static const uint8_t US[16] = {0xfd, 0x00, [15] = 2};          /* fd00::2 */
static const uint8_t PEER[16] = {0xfd, 0x00, [15] = 1};        /* fd00::1 */
static const uint8_t PEER2[16] = {0xfd, 0x00, [15] = 3};       /* fd00::3 */
static const uint8_t FAR[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 9}; /* 2001:db8::9 */
static const uint8_t ROUTER_LL[16] = {0xfe, 0x80, [15] = 1};   /* fe80::1 */
static const uint8_t UNSPEC[16] = {0};
static const uint8_t ALL_NODES[16] = {0xff, 0x02, [15] = 1};

typedef struct world {
    synack_stack *s;
    uint64_t now;
    int link;
    uint8_t out[MAX_OUT][2048];
    size_t out_len[MAX_OUT], nout;
    uint8_t ll[16]; /* the stack's link-local address */
} world;

/* One frame the stack sent, taken apart. */
typedef struct sent_frame {
    uint8_t eth_dst[6];
    wire_ipv6 ip;
    wire_icmpv6 m; /* when ip.next_header is ICMPv6 */
} sent_frame;

static void on_output(void *ctx, const void *frame, size_t len)
{
    world *w = ctx;
    assert_true(w->nout < MAX_OUT && len <= sizeof w->out[0]);
    memcpy(w->out[w->nout], frame, len);
    w->out_len[w->nout++] = len;
}

static void on_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5a, len);
}

static world W;

/* A stack with fd00::2/64 on an Ethernet (or IP) link, DAD probes as given,
 * and `gateway6` (NULL: none). */
static world *new_world(unsigned dad, int link, const uint8_t *gateway6)
{
    world *w = &W;
    memset(w, 0, sizeof *w);
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.link = link;
    memcpy(cfg.mac, US_MAC, 6);
    cfg.ip = 0x0a000002u;
    memcpy(cfg.ip6, US, 16);
    if (gateway6)
        memcpy(cfg.gateway6, gateway6, 16);
    cfg.net.dad_transmits = dad;
    cfg.output = on_output;
    cfg.output_ctx = w;
    cfg.random = on_random;
    w->now = T0;
    w->link = link;
    w->s = synack_stack_new(&cfg, T0);
    assert_non_null(w->s);
    wire_ipv6addr_link_local(w->ll, US_MAC);
    return w;
}

static int teardown(void **state)
{
    (void)state;
    synack_stack_free(W.s);
    W.s = NULL;
    return 0;
}

static void at(world *w, uint64_t t)
{
    w->now = t;
    synack_poll(w->s, t);
}

/* An IPv6 packet from `smac` carrying ICMPv6 `icmp` (checksum set here). */
static void send_icmpv6(world *w, const uint8_t smac[6], const uint8_t dmac[6],
                        const uint8_t src[16], const uint8_t dst[16], uint8_t hop, uint8_t *icmp,
                        size_t len)
{
    static uint8_t frame[2048];
    wire_icmpv6_set_checksum(icmp, len, src, dst);
    wire_ipv6 h = {.next_header = WIRE_IPPROTO_ICMPV6, .hop_limit = hop, .payload_len = len};
    memcpy(h.src, src, 16);
    memcpy(h.dst, dst, 16);
    size_t eth = w->link == SYNACK_LINK_IP ? 0 : WIRE_ETH_HDR_LEN;
    if (eth)
        wire_eth_emit(frame, WIRE_ETH_HDR_LEN, dmac, smac, WIRE_ETHERTYPE_IPV6);
    assert_int_equal(wire_ipv6_emit(frame + eth, WIRE_IPV6_HDR_LEN, &h), 40);
    memcpy(frame + eth + WIRE_IPV6_HDR_LEN, icmp, len);
    synack_input(w->s, frame, eth + WIRE_IPV6_HDR_LEN + len, w->now);
}

static void ping(world *w, const uint8_t smac[6], const uint8_t src[16], const uint8_t dst[16],
                 uint16_t seq)
{
    uint8_t req[64];
    static const uint8_t data[2] = {'h', 'i'};
    size_t len = wire_icmpv6_emit_echo(req, sizeof req, src, dst, WIRE_ICMPV6_ECHO_REQUEST, 7, seq,
                                       data, sizeof data);
    send_icmpv6(w, smac, US_MAC, src, dst, 64, req, len);
}

/* A solicitation for `target` from `src` (with `slla` as option, or none). */
static void send_ns(world *w, const uint8_t smac[6], const uint8_t src[16],
                    const uint8_t target[16], const uint8_t *slla)
{
    uint8_t group[16], gmac[6], ns[64];
    wire_ipv6addr_solicited_node(group, target);
    wire_ipv6addr_multicast_mac(gmac, group);
    size_t len = wire_nd_emit_ns(ns, sizeof ns, src, group, target, slla);
    send_icmpv6(w, smac, gmac, src, group, 255, ns, len);
}

/* An advertisement for `target` from `src` to `dst` (to us, or all nodes). */
static void send_na(world *w, const uint8_t smac[6], const uint8_t src[16],
                    const uint8_t dst[16], uint8_t flags, const uint8_t target[16],
                    const uint8_t *tlla)
{
    uint8_t na[64], dmac[6];
    if (wire_ipv6addr_is_multicast(dst))
        wire_ipv6addr_multicast_mac(dmac, dst);
    else
        memcpy(dmac, US_MAC, 6);
    size_t len = wire_nd_emit_na(na, sizeof na, src, dst, flags, target, tlla);
    send_icmpv6(w, smac, dmac, src, dst, 255, na, len);
}

/* Frame i, parsed (and checked to be well formed, from our MAC). */
static sent_frame sent(const world *w, size_t i)
{
    assert_true(i < w->nout);
    sent_frame f;
    memset(&f, 0, sizeof f);
    const uint8_t *p = w->out[i];
    size_t len = w->out_len[i];
    if (w->link != SYNACK_LINK_IP) {
        wire_eth e;
        assert_int_equal(wire_eth_parse(p, len, &e), WIRE_OK);
        assert_memory_equal(e.src, US_MAC, 6);
        assert_int_equal(e.type, WIRE_ETHERTYPE_IPV6);
        memcpy(f.eth_dst, e.dst, 6);
        p = e.payload;
        len = e.payload_len;
    }
    assert_int_equal(wire_ipv6_parse(p, len, &f.ip), WIRE_OK);
    if (f.ip.next_header == WIRE_IPPROTO_ICMPV6)
        assert_int_equal(wire_icmpv6_parse(f.ip.payload, f.ip.payload_len, f.ip.src, f.ip.dst,
                                           &f.m),
                         WIRE_OK);
    return f;
}

/* Frame i is a solicitation for `target` from `src`: to its solicited-node
 * group (multicast, `mac` NULL) or to `mac` and `target` (a refresh). */
static void is_ns(const world *w, size_t i, const uint8_t src[16], const uint8_t target[16],
                  const uint8_t *mac)
{
    sent_frame f = sent(w, i);
    uint8_t group[16], gmac[6];
    wire_ipv6addr_solicited_node(group, target);
    wire_ipv6addr_multicast_mac(gmac, group);
    assert_int_equal(f.m.type, WIRE_ND_NEIGHBOR_SOLICIT);
    assert_int_equal(f.ip.hop_limit, 255);
    assert_memory_equal(f.ip.src, src, 16);
    assert_memory_equal(f.ip.dst, mac ? target : group, 16);
    assert_memory_equal(f.eth_dst, mac ? mac : gmac, 6);
    wire_nd_ns ns;
    wire_nd_opts o;
    assert_int_equal(wire_nd_parse_ns(&f.m, &ns), WIRE_OK);
    assert_memory_equal(ns.target, target, 16);
    assert_int_equal(wire_nd_parse_options(ns.opts, ns.opts_len, &o), WIRE_OK);
    if (wire_ipv6addr_is_unspecified(src)) {
        assert_false(o.has_slla); /* RFC 4862 §5.4.2 */
    } else {
        assert_true(o.has_slla); /* RFC 4861 §7.2.2 */
        assert_memory_equal(o.slla, US_MAC, 6);
    }
}

/* Frame i is an echo reply with `seq` from `src` to `dst`, to `mac`. */
static void is_reply(const world *w, size_t i, const uint8_t *mac, const uint8_t src[16],
                     const uint8_t dst[16], uint16_t seq)
{
    sent_frame f = sent(w, i);
    assert_int_equal(f.m.type, WIRE_ICMPV6_ECHO_REPLY);
    assert_int_equal(f.m.body & 0xffff, seq);
    assert_memory_equal(f.ip.src, src, 16);
    assert_memory_equal(f.ip.dst, dst, 16);
    if (mac)
        assert_memory_equal(f.eth_dst, mac, 6);
}

static const synack_counters *ctr(const world *w) { return synack_get_counters(w->s); }

/* ---------------------------------------------------------------- resolution */

/* Three replies to an unknown neighbour wait behind one solicitation; its
 * advertisement releases them, in order. */
static void replies_wait_for_resolution_in_order(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    for (uint16_t seq = 1; seq <= 3; seq++)
        ping(w, PEER_MAC, PEER, US, seq);
    assert_int_equal(w->nout, 1);
    is_ns(w, 0, US, PEER, NULL);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE, PEER, PEER_MAC);
    assert_int_equal(w->nout, 4);
    for (uint16_t seq = 1; seq <= 3; seq++)
        is_reply(w, seq, PEER_MAC, US, PEER, seq);
    assert_int_equal(ctr(w)->icmp6_out_neigh_solicits, 1);
    assert_int_equal(ctr(w)->icmp6_in_neigh_adverts, 1);
    assert_int_equal(ctr(w)->nd_unresolved_drops, 0);
    /* Resolved: the next reply goes at once, no solicitation. */
    ping(w, PEER_MAC, PEER, US, 4);
    assert_int_equal(w->nout, 5);
    is_reply(w, 4, PEER_MAC, US, PEER, 4);
}

/* At most NEIGH_QUEUE_MAX (256) packets wait per neighbour: the oldest
 * go, counted. */
static void queue_is_bounded(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    for (uint16_t seq = 1; seq <= NEIGH_QUEUE_MAX + 2; seq++)
        ping(w, PEER_MAC, PEER, US, seq);
    assert_int_equal(ctr(w)->nd_unresolved_drops, 2);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    assert_int_equal(w->nout, 1 + NEIGH_QUEUE_MAX);
    is_reply(w, 1, PEER_MAC, US, PEER, 3);
    is_reply(w, NEIGH_QUEUE_MAX, PEER_MAC, US, PEER, NEIGH_QUEUE_MAX + 2);
}

/* Solicitations at 0, 1 and 2 s (Linux: MAX_MULTICAST_SOLICIT 3,
 * RETRANS_TIMER 1 s); at 3 s the neighbour is given up and what waited is
 * dropped and counted. A late advertisement creates nothing. */
static void silent_neighbour_is_given_up(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    ping(w, PEER_MAC, PEER, US, 1);
    ping(w, PEER_MAC, PEER, US, 2);
    assert_int_equal(synack_next_deadline(w->s), T0 + S);
    at(w, T0 + S - 1);
    assert_int_equal(w->nout, 1);
    at(w, T0 + S);
    at(w, T0 + 2 * S);
    assert_int_equal(w->nout, 3);
    for (size_t i = 0; i < 3; i++)
        is_ns(w, i, US, PEER, NULL);
    assert_int_equal(ctr(w)->nd_resolve_failed, 0);
    at(w, T0 + 3 * S);
    assert_int_equal(w->nout, 3);
    assert_int_equal(ctr(w)->nd_resolve_failed, 1);
    assert_int_equal(ctr(w)->nd_unresolved_drops, 2);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    assert_int_equal(w->nout, 3);
    ping(w, PEER_MAC, PEER, US, 3); /* unknown again: resolved anew */
    assert_int_equal(w->nout, 4);
    is_ns(w, 3, US, PEER, NULL);
}

/* REACHABLE for 30 s after a solicited advertisement; then STALE: still
 * used; its first use starts DELAY, and 5 s later (on the timer, traffic
 * or not) PROBE sends a unicast solicitation to the MAC held (§7.3.3). A
 * solicited answer makes it REACHABLE again: no more probes. Left unused
 * while stale for another 30 s, it is resolved anew on its next use. */
static void entry_goes_stale_is_probed_and_confirmed(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    ping(w, PEER_MAC, PEER, US, 1);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    assert_int_equal(w->nout, 2);
    at(w, T0 + 29 * S);
    ping(w, PEER_MAC, PEER, US, 2);
    assert_int_equal(w->nout, 3); /* fresh: the reply alone */
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX);
    at(w, T0 + 31 * S);
    ping(w, PEER_MAC, PEER, US, 3);
    assert_int_equal(w->nout, 4); /* stale: used; DELAY, the probe waits 5 s */
    is_reply(w, 3, PEER_MAC, US, PEER, 3);
    assert_int_equal(synack_next_deadline(w->s), T0 + 36 * S);
    at(w, T0 + 36 * S - 1);
    assert_int_equal(w->nout, 4);
    at(w, T0 + 36 * S);
    assert_int_equal(w->nout, 5);
    is_ns(w, 4, US, PEER, PEER_MAC); /* unicast, to the MAC we hold */
    assert_int_equal(synack_next_deadline(w->s), T0 + 37 * S);
    at(w, T0 + 36 * S + S / 2);
    ping(w, PEER_MAC, PEER, US, 4);
    assert_int_equal(w->nout, 6); /* probing: still used, no extra probe */
    is_reply(w, 5, PEER_MAC, US, PEER, 4);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX); /* REACHABLE */
    at(w, T0 + 40 * S);
    ping(w, PEER_MAC, PEER, US, 5);
    assert_int_equal(w->nout, 7);
    assert_int_equal(ctr(w)->icmp6_out_neigh_solicits, 2);
    /* Fresh until 66.5 s, stale until 96.5 s: unused that long, it is
     * held and asked for anew. */
    at(w, T0 + 97 * S);
    ping(w, PEER_MAC, PEER, US, 6);
    assert_int_equal(w->nout, 8);
    is_ns(w, 7, US, PEER, NULL);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    assert_int_equal(w->nout, 9);
    is_reply(w, 8, PEER_MAC, US, PEER, 6);
}

/* §7.3.3: MAX_UNICAST_SOLICIT (3) probes RETRANS_TIMER (1 s) apart go
 * unanswered (the neighbour's MAC is gone): a second after the last the
 * entry is deleted, and the next packet waits for a resolution to the
 * solicited-node group, which fails like any other. Meanwhile replies go
 * to the MAC held, never after. */
static void unanswered_probes_delete_the_entry(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    ping(w, PEER_MAC, PEER, US, 1);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    w->nout = 0;
    for (uint16_t t = 31; t <= 38; t++) {
        at(w, T0 + t * S);
        ping(w, OTHER_MAC, PEER, US, t);
        size_t i = 0;
        if (t >= 36) /* the probe, on the timer, before the reply */
            is_ns(w, i++, US, PEER, PEER_MAC);
        is_reply(w, i++, PEER_MAC, US, PEER, t);
        assert_int_equal(w->nout, i);
        w->nout = 0;
    }
    assert_int_equal(synack_next_deadline(w->s), T0 + 39 * S);
    at(w, T0 + 39 * S);
    assert_int_equal(w->nout, 0);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX); /* gone */
    ping(w, OTHER_MAC, PEER, US, 39);
    assert_int_equal(w->nout, 1); /* held; asked for to everyone */
    is_ns(w, 0, US, PEER, NULL);
    at(w, T0 + 40 * S);
    at(w, T0 + 41 * S);
    assert_int_equal(w->nout, 3);
    is_ns(w, 2, US, PEER, NULL);
    at(w, T0 + 42 * S);
    assert_int_equal(w->nout, 3);
    assert_int_equal(ctr(w)->nd_resolve_failed, 1);
    assert_int_equal(ctr(w)->nd_unresolved_drops, 1);
    assert_int_equal(ctr(w)->icmp6_out_neigh_solicits, 1 + 3 + 3);
}

/* An impersonated address (synack_impersonate) is never advertised, as
 * ARP never answers for one: the neighbour that has it is not shadowed.
 * Neither a solicitation to its group nor one straight to it (a refresh)
 * is answered, while ours still is; an echo to it is answered from it. */
static void impersonated_address_is_not_advertised(void **state)
{
    world *w = *state = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    synack_addr all = {.family = SYNACK_AF_INET6};
    assert_int_equal(synack_impersonate(w->s, &all, 0), 0);
    send_ns(w, PEER_MAC, PEER, PEER2, PEER_MAC);
    uint8_t ns[64];
    size_t len = wire_nd_emit_ns(ns, sizeof ns, PEER, PEER2, PEER2, PEER_MAC);
    send_icmpv6(w, PEER_MAC, US_MAC, PEER, PEER2, 255, ns, len);
    assert_int_equal(w->nout, 0);
    assert_int_equal(ctr(w)->icmp6_out_neigh_adverts, 0);
    send_ns(w, PEER_MAC, PEER, US, PEER_MAC); /* ours: answered */
    assert_int_equal(w->nout, 1);
    assert_int_equal(sent(w, 0).m.type, WIRE_ND_NEIGHBOR_ADVERT);
    ping(w, PEER_MAC, PEER, PEER2, 1);
    assert_int_equal(w->nout, 2);
    sent_frame f = sent(w, 1);
    assert_int_equal(f.m.type, WIRE_ICMPV6_ECHO_REPLY);
    assert_memory_equal(f.ip.src, PEER2, 16);
}

/* A solicitation for our address teaches us its sender's MAC (§7.2.3): the
 * advertisement and later replies go straight to it. One for another
 * target teaches nothing. */
static void solicitation_source_is_learnt(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    send_ns(w, PEER_MAC, PEER, US, PEER_MAC);
    assert_int_equal(w->nout, 1);
    sent_frame f = sent(w, 0);
    assert_int_equal(f.m.type, WIRE_ND_NEIGHBOR_ADVERT);
    assert_memory_equal(f.eth_dst, PEER_MAC, 6);
    assert_memory_equal(f.ip.dst, PEER, 16);
    ping(w, PEER_MAC, PEER, US, 1);
    assert_int_equal(w->nout, 2);
    is_reply(w, 1, PEER_MAC, US, PEER, 1);
    send_ns(w, OTHER_MAC, PEER2, PEER, OTHER_MAC); /* not for us */
    ping(w, OTHER_MAC, PEER2, US, 2);
    assert_int_equal(w->nout, 3);
    is_ns(w, 2, US, PEER2, NULL);
}

/* §7.2.5: an advertisement without override does not replace a known MAC;
 * one with override does. */
static void advert_override_rules(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    ping(w, PEER_MAC, PEER, US, 1);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    send_na(w, OTHER_MAC, PEER, ALL_NODES, 0, PEER, OTHER_MAC);
    ping(w, PEER_MAC, PEER, US, 2);
    is_reply(w, w->nout - 1, PEER_MAC, US, PEER, 2);
    send_na(w, OTHER_MAC, PEER, ALL_NODES, WIRE_ND_NA_OVERRIDE, PEER, OTHER_MAC);
    ping(w, PEER_MAC, PEER, US, 3);
    is_reply(w, w->nout - 1, OTHER_MAC, US, PEER, 3);
}

/* ---------------------------------------------------------------- routing */

/* Off the link, the reply goes through gateway6: the router is resolved
 * (from the link-local address), never the destination. */
static void off_link_goes_through_the_gateway(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, ROUTER_LL);
    ping(w, ROUTER_MAC, FAR, US, 1);
    assert_int_equal(w->nout, 1);
    is_ns(w, 0, w->ll, ROUTER_LL, NULL);
    send_na(w, ROUTER_MAC, ROUTER_LL, w->ll, WIRE_ND_NA_SOLICITED | WIRE_ND_NA_ROUTER, ROUTER_LL,
            ROUTER_MAC);
    assert_int_equal(w->nout, 2);
    is_reply(w, 1, ROUTER_MAC, US, FAR, 1);
}

static void off_link_without_gateway_is_dropped(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    ping(w, ROUTER_MAC, FAR, US, 1);
    assert_int_equal(w->nout, 0);
    assert_int_equal(ctr(w)->ip6_out_no_routes, 1);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX);
}

/* On an IP link (TUN) there is no Neighbour Discovery and no DAD: the
 * addresses are usable at once and replies go straight out. */
static void ip_link_sends_without_nd(void **state)
{
    (void)state;
    world *w = new_world(1, SYNACK_LINK_IP, NULL);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_PREFERRED);
    ping(w, NULL, PEER, US, 1);
    assert_int_equal(w->nout, 1);
    is_reply(w, 0, NULL, US, PEER, 1);
    assert_int_equal(ctr(w)->icmp6_out_neigh_solicits, 0);
}

/* The API TCP over IPv6 will use: the source it picks, and a packet held
 * while resolving is a copy (the caller's buffer is reused at once). */
static void ipv6_send_picks_source_and_copies(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, ROUTER_LL);
    net_ctx *n = &w->s->net;
    assert_memory_equal(ipv6_source_for(n, PEER), US, 16);
    assert_memory_equal(ipv6_source_for(n, FAR), US, 16);
    assert_memory_equal(ipv6_source_for(n, ROUTER_LL), w->ll, 16);
    static uint8_t buf[256];
    for (uint8_t i = 1; i <= 2; i++) {
        memset(buf + 64, i, 20);
        ipv6_send(n, PEER, 253, buf + 64, 20); /* RFC 3692's experimental protocol */
    }
    memset(buf, 0, sizeof buf);
    assert_int_equal(w->nout, 1);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    assert_int_equal(w->nout, 3);
    for (uint8_t i = 1; i <= 2; i++) {
        sent_frame f = sent(w, i);
        assert_int_equal(f.ip.next_header, 253);
        assert_int_equal(f.ip.hop_limit, 64);
        assert_memory_equal(f.ip.src, US, 16);
        assert_int_equal(f.ip.payload_len, 20);
        assert_int_equal(f.ip.payload[0], i);
        assert_int_equal(f.ip.payload[19], i);
    }
}

/* ---------------------------------------------------------------- TCP */

/* A SYN to an on-link IPv6 peer waits for its resolution, then goes from
 * cfg.ip6 with a checksum over that source. */
static void tcp_syn_waits_for_resolution(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    synack_sock *k = synack_socket(w->s);
    synack_addr peer = synack_addr_v6(PEER);
    assert_int_equal(synack_connect_addr(k, &peer, 80), 0);
    assert_int_equal(w->nout, 1);
    is_ns(w, 0, US, PEER, NULL);
    send_na(w, PEER_MAC, PEER, US, WIRE_ND_NA_SOLICITED, PEER, PEER_MAC);
    assert_int_equal(w->nout, 2);
    sent_frame f = sent(w, 1);
    assert_memory_equal(f.eth_dst, PEER_MAC, 6);
    assert_int_equal(f.ip.next_header, WIRE_IPPROTO_TCP);
    assert_memory_equal(f.ip.src, US, 16);
    wire_tcp t;
    assert_int_equal(wire_tcp_parse6(f.ip.payload, f.ip.payload_len, f.ip.src, f.ip.dst, &t),
                     WIRE_OK);
    assert_int_equal(t.flags, SYNACK_SYN);
    assert_int_equal(t.dport, 80);
    synack_abort(k);
}

/* A next hop that never answers fails the connections opening towards it
 * (EHOSTUNREACH, as for ARP): the peer itself on the link, or the default
 * router for an off-link peer. */
static void tcp_connect_fails_when_the_hop_is_silent(void **state)
{
    (void)state;
    world *w = new_world(0, SYNACK_LINK_ETHERNET, ROUTER_LL);
    synack_sock *near = synack_socket(w->s), *far = synack_socket(w->s);
    synack_addr a = synack_addr_v6(PEER), b = synack_addr_v6(FAR);
    assert_int_equal(synack_connect_addr(near, &a, 80), 0);
    assert_int_equal(synack_connect_addr(far, &b, 80), 0);
    assert_int_equal(w->nout, 2);
    is_ns(w, 0, US, PEER, NULL);
    is_ns(w, 1, w->ll, ROUTER_LL, NULL);
    for (uint64_t t = 1; t <= 3; t++)
        at(w, T0 + t * S);
    assert_int_equal(ctr(w)->nd_resolve_failed, 2);
    assert_int_equal(synack_sock_state(near), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(near), -EHOSTUNREACH);
    assert_int_equal(synack_sock_state(far), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(far), -EHOSTUNREACH);
    synack_close(near);
    synack_close(far);
}

/* ---------------------------------------------------------------- DAD */

/* Both addresses start tentative: the first poll (due at once) sends a
 * probe from :: to each solicited-node group; until a second later the
 * addresses neither answer nor take packets; then they are ours. */
static void dad_passes_after_a_second(void **state)
{
    (void)state;
    world *w = new_world(1, SYNACK_LINK_ETHERNET, NULL);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_TENTATIVE);
    assert_int_equal(synack_addr6_state(w->s, w->ll), SYNACK_ADDR6_TENTATIVE);
    assert_int_equal(synack_addr6_state(w->s, PEER), SYNACK_ADDR6_NONE);
    assert_int_equal(synack_next_deadline(w->s), T0);
    at(w, T0);
    assert_int_equal(w->nout, 2);
    is_ns(w, 0, UNSPEC, US, NULL);
    is_ns(w, 1, UNSPEC, w->ll, NULL);
    assert_int_equal(ctr(w)->icmp6_out_neigh_solicits, 2);
    assert_int_equal(synack_next_deadline(w->s), T0 + S);
    /* Tentative: no echo, no advertisement, and no source to send from. */
    at(w, T0 + S / 2);
    ping(w, PEER_MAC, PEER, US, 1);
    send_ns(w, PEER_MAC, PEER, US, PEER_MAC);
    assert_int_equal(w->nout, 2);
    assert_int_equal(ctr(w)->ip6_in_addr_errors, 1);
    assert_null(ipv6_source_for(&w->s->net, PEER));
    at(w, T0 + S);
    assert_int_equal(w->nout, 2);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_PREFERRED);
    assert_int_equal(synack_addr6_state(w->s, w->ll), SYNACK_ADDR6_PREFERRED);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX);
    send_ns(w, PEER_MAC, PEER, US, PEER_MAC);
    ping(w, PEER_MAC, PEER, US, 2);
    assert_int_equal(w->nout, 4);
    is_reply(w, 3, PEER_MAC, US, PEER, 2);
    assert_int_equal(ctr(w)->ip6_dad_failures, 0);
}

/* Another node advertises our tentative address: it is a duplicate, never
 * used; the link-local one passes on its own. */
static void dad_fails_on_an_advertisement(void **state)
{
    (void)state;
    world *w = new_world(1, SYNACK_LINK_ETHERNET, NULL);
    at(w, T0);
    send_na(w, OTHER_MAC, US, ALL_NODES, WIRE_ND_NA_OVERRIDE, US, OTHER_MAC);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_DUPLICATE);
    assert_int_equal(ctr(w)->ip6_dad_failures, 1);
    at(w, T0 + S);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_DUPLICATE);
    assert_int_equal(synack_addr6_state(w->s, w->ll), SYNACK_ADDR6_PREFERRED);
    size_t before = w->nout;
    ping(w, PEER_MAC, PEER, US, 1);
    send_ns(w, PEER_MAC, PEER, US, PEER_MAC);
    assert_int_equal(w->nout, before);
    assert_null(ipv6_source_for(&w->s->net, PEER));
    assert_non_null(ipv6_source_for(&w->s->net, ROUTER_LL));
}

/* Another node's DAD probe for the same tentative address (§5.4.3). */
static void dad_fails_on_another_probe(void **state)
{
    (void)state;
    world *w = new_world(1, SYNACK_LINK_ETHERNET, NULL);
    at(w, T0);
    send_ns(w, OTHER_MAC, UNSPEC, w->ll, NULL);
    assert_int_equal(synack_addr6_state(w->s, w->ll), SYNACK_ADDR6_DUPLICATE);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_TENTATIVE);
    assert_int_equal(ctr(w)->ip6_dad_failures, 1);
    assert_int_equal(w->nout, 2); /* no answer to it */
}

/* dad_transmits is a knob (Linux's name); 0 turns DAD off. */
static void dad_knob(void **state)
{
    (void)state;
    synack_config cfg;
    synack_config_init(&cfg);
    assert_int_equal(cfg.net.dad_transmits, 1);
    assert_int_equal(synack_config_set(&cfg, "net.ipv6.conf.all.dad_transmits", "0"), 0);
    assert_int_equal(cfg.net.dad_transmits, 0);
    assert_int_equal(synack_config_set(&cfg, "net.ipv6.conf.default.dad_transmits", "2"), 0);
    assert_int_equal(synack_config_set(&cfg, "dad_transmits", "256"), -EINVAL);
    char buf[4096];
    synack_config_dump(&cfg, buf, sizeof buf);
    assert_non_null(strstr(buf, "net.ipv6.conf.all.dad_transmits = 2\n"));
    world *w = new_world(0, SYNACK_LINK_ETHERNET, NULL);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_PREFERRED);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX);
    at(w, T0 + S);
    assert_int_equal(w->nout, 0);
}

/* Two probes a second apart, the verdict a second after the second. */
static void dad_transmits_two(void **state)
{
    (void)state;
    world *w = new_world(2, SYNACK_LINK_ETHERNET, NULL);
    at(w, T0);
    at(w, T0 + S);
    assert_int_equal(w->nout, 4);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_TENTATIVE);
    at(w, T0 + 2 * S);
    assert_int_equal(synack_addr6_state(w->s, US), SYNACK_ADDR6_PREFERRED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(replies_wait_for_resolution_in_order, teardown),
        cmocka_unit_test_teardown(queue_is_bounded, teardown),
        cmocka_unit_test_teardown(silent_neighbour_is_given_up, teardown),
        cmocka_unit_test_teardown(entry_goes_stale_is_probed_and_confirmed, teardown),
        cmocka_unit_test_teardown(unanswered_probes_delete_the_entry, teardown),
        cmocka_unit_test_teardown(solicitation_source_is_learnt, teardown),
        cmocka_unit_test_teardown(impersonated_address_is_not_advertised, teardown),
        cmocka_unit_test_teardown(advert_override_rules, teardown),
        cmocka_unit_test_teardown(off_link_goes_through_the_gateway, teardown),
        cmocka_unit_test_teardown(off_link_without_gateway_is_dropped, teardown),
        cmocka_unit_test_teardown(ip_link_sends_without_nd, teardown),
        cmocka_unit_test_teardown(ipv6_send_picks_source_and_copies, teardown),
        cmocka_unit_test_teardown(tcp_syn_waits_for_resolution, teardown),
        cmocka_unit_test_teardown(tcp_connect_fails_when_the_hop_is_silent, teardown),
        cmocka_unit_test_teardown(dad_passes_after_a_second, teardown),
        cmocka_unit_test_teardown(dad_fails_on_an_advertisement, teardown),
        cmocka_unit_test_teardown(dad_fails_on_another_probe, teardown),
        cmocka_unit_test_teardown(dad_knob, teardown),
        cmocka_unit_test_teardown(dad_transmits_two, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
