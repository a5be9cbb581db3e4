/* test_steer.c — steered groups (synack_steer): which stack owns a frame,
 * the ports a stack of a group picks, and groups that carry connections
 * end to end: one client against a group of two servers sharing an
 * address, and a group of two clients against one server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "synack.h"
#include "wire/wire.h"

#define US 0x0a000002u   /* the group's address */
#define PEER 0x0a000001u
#define MS 1000000ull

static const synack_steer TWO = {.count = 2, .index = 0, .key = {0x0123456789abcdefull, 42}};

/* ------------------------------------------------------------ frames */

static size_t ipv4_frame(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
                         uint16_t dport, uint16_t frag)
{
    uint8_t l4[20] = {0};
    l4[0] = (uint8_t)(sport >> 8), l4[1] = (uint8_t)sport;
    l4[2] = (uint8_t)(dport >> 8), l4[3] = (uint8_t)dport;
    size_t n = wire_ipv4_emit(f, 64, src, dst, proto, 64, 7, sizeof l4);
    if (frag)
        f[6] = (uint8_t)(frag >> 8), f[7] = (uint8_t)frag;
    memcpy(f + n, l4, sizeof l4);
    return n + sizeof l4;
}

static size_t ipv6_frame(uint8_t *f, uint8_t last_src, uint8_t last_dst, uint8_t proto,
                         uint16_t sport, uint16_t dport)
{
    memset(f, 0, 80);
    f[0] = 0x60;
    f[5] = 20;
    f[6] = proto;
    f[7] = 64;
    f[8] = 0xfd, f[23] = last_src;
    f[24] = 0xfd, f[39] = last_dst;
    f[40] = (uint8_t)(sport >> 8), f[41] = (uint8_t)sport;
    f[42] = (uint8_t)(dport >> 8), f[43] = (uint8_t)dport;
    return 60;
}

static int owner_ip(const synack_steer *st, const uint8_t *f, size_t n)
{
    return synack_steer_owner(st, SYNACK_LINK_IP, f, n);
}

/* Both directions of a TCP flow name the same stack, of either family; and
 * flows spread over the group. */
static void tcp_flows_are_symmetric_and_spread(void **state)
{
    (void)state;
    synack_steer st = TWO;
    st.count = 3;
    unsigned seen[3] = {0};
    for (uint16_t p = 1000; p < 1600; p++) {
        uint8_t a[80], b[80];
        size_t na = ipv4_frame(a, PEER, US, WIRE_IPPROTO_TCP, p, 80, 0);
        size_t nb = ipv4_frame(b, US, PEER, WIRE_IPPROTO_TCP, 80, p, 0);
        int o = owner_ip(&st, a, na);
        assert_in_range(o, 0, 2);
        assert_int_equal(owner_ip(&st, b, nb), o);
        synack_addr peer = synack_addr_v4(PEER), us = synack_addr_v4(US);
        assert_int_equal(synack_steer_flow(&st, WIRE_IPPROTO_TCP, &us, 80, &peer, p), o);
        na = ipv4_frame(a, PEER, US, WIRE_IPPROTO_UDP, p, 53, 0);
        assert_int_equal(synack_steer_flow(&st, WIRE_IPPROTO_UDP, &peer, 7, &us, 9),
                         owner_ip(&st, a, na));
        seen[o]++;
        na = ipv6_frame(a, 1, 2, WIRE_IPPROTO_TCP, p, 443);
        nb = ipv6_frame(b, 2, 1, WIRE_IPPROTO_TCP, 443, p);
        assert_int_equal(owner_ip(&st, a, na), owner_ip(&st, b, nb));
    }
    for (int i = 0; i < 3; i++)
        assert_in_range(seen[i], 150, 250); /* 600 flows: about 200 each */
}

/* UDP and fragments go by addresses alone: every datagram between two
 * hosts, and every fragment of one, reaches the same stack. */
static void udp_and_fragments_go_by_addresses(void **state)
{
    (void)state;
    uint8_t f[80];
    size_t n = ipv4_frame(f, PEER, US, WIRE_IPPROTO_UDP, 5353, 53, 0);
    int o = owner_ip(&TWO, f, n);
    int differs = 0;
    for (uint16_t p = 1; p < 200; p++) {
        n = ipv4_frame(f, PEER, US, WIRE_IPPROTO_UDP, p, 53, 0);
        assert_int_equal(owner_ip(&TWO, f, n), o);
        n = ipv4_frame(f, PEER, US, WIRE_IPPROTO_TCP, p, 80, 0x2000 /* MF */);
        assert_int_equal(owner_ip(&TWO, f, n), o);
        n = ipv4_frame(f, PEER, US, WIRE_IPPROTO_TCP, p, 80, 0x0010 /* offset */);
        assert_int_equal(owner_ip(&TWO, f, n), o);
        n = ipv4_frame(f, PEER, US, WIRE_IPPROTO_TCP, p, 80, 0x4000 /* DF only: whole */);
        differs += owner_ip(&TWO, f, n) != o;
    }
    assert_true(differs > 50); /* whole TCP segments do go by ports */
    n = ipv6_frame(f, 1, 2, WIRE_IPPROTO_UDP, 5353, 53);
    int o6 = owner_ip(&TWO, f, n);
    for (uint16_t p = 1; p < 200; p++) { /* IPv6: a fragment header, any offset */
        uint8_t g[96];
        ipv6_frame(g, 1, 2, WIRE_IPPROTO_FRAGMENT, 0, 0);
        uint8_t fh[8] = {WIRE_IPPROTO_TCP, 0, (uint8_t)(p >> 5), (uint8_t)(p << 3 | 1)};
        memcpy(g + 40, fh, 8);
        g[48] = (uint8_t)(p >> 8), g[49] = (uint8_t)p, g[50] = 0, g[51] = 80;
        assert_int_equal(owner_ip(&TWO, g, 68), o6);
    }
}

/* An ICMP error goes to the stack of the flow it quotes (our segment, sent
 * the other way), whoever sent the error. */
static void icmp_errors_follow_the_quoted_flow(void **state)
{
    (void)state;
    for (uint16_t p = 2000; p < 2100; p++) {
        uint8_t seg[80], f[160];
        size_t ns = ipv4_frame(seg, US, PEER, WIRE_IPPROTO_TCP, p, 80, 0);
        int want = owner_ip(&TWO, seg, ns);
        uint8_t icmp[8 + 48] = {WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH};
        memcpy(icmp + 8, seg, 28);
        size_t n = wire_ipv4_emit(f, 64, 0x0a0000feu, US, WIRE_IPPROTO_ICMP, 64, 1, 36);
        memcpy(f + n, icmp, 36);
        assert_int_equal(owner_ip(&TWO, f, n + 36), want);

        ns = ipv6_frame(seg, 2, 1, WIRE_IPPROTO_TCP, p, 80);
        uint8_t f6[160];
        size_t n6 = ipv6_frame(f6, 9, 2, WIRE_IPPROTO_ICMPV6, 0, 0);
        f6[40] = 1; /* destination unreachable */
        f6[41] = 4, f6[42] = 0, f6[43] = 0;
        memset(f6 + 44, 0, 4);
        memcpy(f6 + 48, seg, ns);
        f6[5] = (uint8_t)(8 + ns);
        assert_int_equal(owner_ip(&TWO, f6, 48 + ns), owner_ip(&TWO, seg, ns));
        (void)n6;
    }
}

/* ARP and Neighbour Discovery: a request or solicitation to stack 0 (one
 * answer), a reply or advertisement to every stack. */
static void neighbours_reach_the_right_stacks(void **state)
{
    (void)state;
    uint8_t f[64] = {0};
    f[12] = 0x08, f[13] = 0x06;
    f[14 + 7] = WIRE_ARP_REQUEST;
    synack_steer st = TWO;
    st.index = 1;
    assert_int_equal(synack_steer_owner(&st, SYNACK_LINK_ETHERNET, f, 42), 0);
    f[14 + 7] = WIRE_ARP_REPLY;
    assert_int_equal(synack_steer_owner(&st, SYNACK_LINK_ETHERNET, f, 42), SYNACK_STEER_ALL);
    uint8_t g[80];
    size_t n = ipv6_frame(g, 1, 2, WIRE_IPPROTO_ICMPV6, 0, 0);
    g[40] = 135; /* neighbour solicitation */
    assert_int_equal(owner_ip(&st, g, n), 0);
    g[40] = 136; /* neighbour advertisement */
    assert_int_equal(owner_ip(&st, g, n), SYNACK_STEER_ALL);
    g[40] = 134; /* router advertisement */
    assert_int_equal(owner_ip(&st, g, n), SYNACK_STEER_ALL);
}

/* Anything it cannot read goes to stack 0 (which drops and counts it); a
 * stack alone owns everything. */
static void malformed_frames_go_to_stack_zero(void **state)
{
    (void)state;
    uint8_t f[80];
    size_t n = ipv4_frame(f, PEER, US, WIRE_IPPROTO_TCP, 1234, 80, 0);
    for (size_t cut = 0; cut < n; cut++) {
        int o = owner_ip(&TWO, f, cut);
        assert_true(o == 0 || o == 1);
        if (cut < WIRE_IPV4_HDR_LEN)
            assert_int_equal(o, 0);
    }
    for (uint16_t port = 1; port < 64; port++) { /* IHL 16 bytes: below the minimum */
        n = ipv4_frame(f, PEER, US, WIRE_IPPROTO_TCP, port, 80, 0);
        f[0] = 0x44;
        f[16] = (uint8_t)port; /* what would be read as addresses */
        assert_int_equal(owner_ip(&TWO, f, n), 0);
    }
    f[0] = 0x4f; /* IHL 60 bytes: past the frame's end of 40 */
    assert_int_equal(owner_ip(&TWO, f, 40), 0);
    f[0] = 0x00;
    assert_int_equal(owner_ip(&TWO, f, n), 0);
    size_t n6 = ipv6_frame(f, 1, 2, WIRE_IPPROTO_HOPOPTS, 0, 0);
    f[41] = 200; /* an extension header longer than the packet */
    assert_int_equal(owner_ip(&TWO, f, n6), 0);
    synack_steer one = TWO;
    one.count = 1;
    n = ipv4_frame(f, PEER, US, WIRE_IPPROTO_TCP, 1234, 80, 0);
    assert_int_equal(owner_ip(&one, f, n), 0);
    assert_int_equal(owner_ip(NULL, f, n), 0);
}

/* ------------------------------------------------------------ groups */

#define QMAX 512
#define NSTACK 3 /* [0] the lone stack, [1] and [2] the group */

typedef struct frame { uint8_t *data; size_t len; int from; } frame;

typedef struct fabric {
    synack_stack *s[NSTACK];
    synack_steer steer[NSTACK];
    frame q[QMAX];
    size_t head, len;
    uint64_t now, rng;
    unsigned misowned; /* frames of a group stack's flow that hash to its sibling */
} fabric;

typedef struct port { fabric *f; int id; } port;

static void out(void *ctx, const void *data, size_t len)
{
    port *p = ctx;
    fabric *f = p->f;
    assert_true(f->len < QMAX);
    frame *fr = &f->q[(f->head + f->len++) % QMAX];
    fr->data = malloc(len);
    memcpy(fr->data, data, len);
    fr->len = len;
    fr->from = p->id;
    int o = synack_steer_owner(&TWO, SYNACK_LINK_IP, data, len);
    if (p->id > 0 && o != p->id - 1)
        f->misowned++;
}

static void rnd(void *ctx, void *buf, size_t len)
{
    fabric *f = ((port *)ctx)->f;
    for (size_t i = 0; i < len; i++) {
        f->rng = f->rng * 6364136223846793005ull + 1442695040888963407ull;
        ((uint8_t *)buf)[i] = (uint8_t)(f->rng >> 56);
    }
}

static port ports[NSTACK];

/* Stack 0 is PEER; stacks 1 and 2 are US, a group of two. */
static fabric *fabric_new(void)
{
    fabric *f = calloc(1, sizeof *f);
    f->now = 1000 * MS;
    f->rng = 7;
    for (int i = 0; i < NSTACK; i++) {
        ports[i] = (port){f, i};
        synack_config cfg;
        synack_config_init(&cfg);
        cfg.link = SYNACK_LINK_IP;
        cfg.ip = i == 0 ? PEER : US;
        cfg.output = out;
        cfg.output_ctx = &ports[i];
        cfg.random = rnd;
        cfg.random_ctx = &ports[i];
        if (i > 0) {
            cfg.steer = TWO;
            cfg.steer.index = (uint32_t)i - 1;
        }
        synack_config_set(&cfg, "ip_local_port_range", "20000 20999");
        f->s[i] = synack_stack_new(&cfg, f->now);
        assert_non_null(f->s[i]);
    }
    return f;
}

/* Deliver every queued frame: the lone stack's to the group member that
 * owns it, the group's to the lone stack. */
static void deliver(fabric *f)
{
    while (f->len) {
        frame fr = f->q[f->head];
        f->head = (f->head + 1) % QMAX;
        f->len--;
        int to = 0;
        if (fr.from == 0) {
            int o = synack_steer_owner(&TWO, SYNACK_LINK_IP, fr.data, fr.len);
            assert_true(o != SYNACK_STEER_ALL);
            to = 1 + o;
        }
        synack_input(f->s[to], fr.data, fr.len, f->now);
        free(fr.data);
    }
}

static void fabric_free(fabric *f)
{
    deliver(f);
    for (int i = 0; i < NSTACK; i++)
        synack_stack_free(f->s[i]);
    free(f);
}

/* One client, a group of two servers listening on the same port: every
 * connection is accepted by the stack its flow hashes to, and no stack
 * answers another's flow. */
static void a_group_serves_one_address(void **state)
{
    (void)state;
    fabric *f = fabric_new();
    synack_sock *l[2];
    for (int i = 0; i < 2; i++) {
        l[i] = synack_socket(f->s[1 + i]);
        assert_int_equal(synack_bind(l[i], 80), 0);
        assert_int_equal(synack_listen(l[i], 128), 0);
    }
    synack_addr server = synack_addr_v4(US);
    unsigned accepted[2] = {0};
    for (int n = 0; n < 100; n++) {
        synack_sock *c = synack_socket(f->s[0]);
        assert_int_equal(synack_connect_addr(c, &server, 80), 0);
        deliver(f);
        assert_int_equal(synack_sock_state(c), SYNACK_ESTABLISHED);
        synack_sock *a = NULL;
        for (int i = 0; i < 2 && !a; i++)
            if ((a = synack_accept(l[i], NULL)) != NULL)
                accepted[i]++;
        assert_non_null(a);
        assert_int_equal(synack_send(c, "q", 1), 1);
        deliver(f);
        char b;
        assert_int_equal(synack_recv(a, &b, 1), 1);
        synack_close(c);
        synack_close(a);
        deliver(f);
    }
    assert_in_range(accepted[0], 25, 75);
    assert_int_equal(accepted[0] + accepted[1], 100);
    for (int i = 1; i < NSTACK; i++) {
        assert_int_equal(synack_drop_count(f->s[i], SYNACK_DROP_STEER_FOREIGN), 0);
        assert_int_equal(synack_get_counters(f->s[i])->tcp_out_rsts, 0);
    }
    assert_int_equal(f->misowned, 0);
    fabric_free(f);
}

/* A group of two clients: each picks ports whose flows hash to itself, so
 * every answer comes back to the stack that opened the connection. */
static void a_group_picks_its_own_ports(void **state)
{
    (void)state;
    fabric *f = fabric_new();
    synack_sock *l = synack_socket(f->s[0]);
    assert_int_equal(synack_bind(l, 80), 0);
    assert_int_equal(synack_listen(l, 256), 0);
    synack_addr peer = synack_addr_v4(PEER);
    for (int n = 0; n < 100; n++) {
        synack_sock *c = synack_socket(f->s[1 + n % 2]);
        assert_int_equal(synack_connect_addr(c, &peer, 80), 0);
        deliver(f);
        assert_int_equal(synack_sock_state(c), SYNACK_ESTABLISHED);
        synack_sock *a = synack_accept(l, NULL);
        assert_non_null(a);
        synack_close(a);
        synack_close(c);
        deliver(f);
    }
    assert_int_equal(f->misowned, 0);
    for (int i = 1; i < NSTACK; i++)
        assert_int_equal(synack_get_counters(f->s[i])->tcp_active_opens, 50);
    fabric_free(f);
}

/* A segment of a flow that hashes to the sibling (a TCP segment that came
 * in fragments, reassembled by the addresses' owner) is dropped and
 * counted: no RST, no SYN,ACK that would break the owner's connection. */
static void a_foreign_segment_is_dropped_not_answered(void **state)
{
    (void)state;
    fabric *f = fabric_new();
    for (int i = 1; i < NSTACK; i++) {
        synack_sock *l = synack_socket(f->s[i]);
        assert_int_equal(synack_bind(l, 80), 0);
        assert_int_equal(synack_listen(l, 16), 0);
    }
    uint16_t sport = 30000;
    uint8_t fr[80];
    size_t n;
    int o;
    do { /* a SYN whose flow is stack 1's (index 0)... */
        n = ipv4_frame(fr, PEER, US, WIRE_IPPROTO_TCP, ++sport, 80, 0);
        o = owner_ip(&TWO, fr, n);
    } while (o != 0);
    wire_tcp t = {.sport = sport, .dport = 80, .seq = 1, .flags = SYNACK_SYN, .wnd = 65535};
    uint8_t pkt[80];
    size_t hl = wire_tcp_emit_header(pkt + 20, 60, &t);
    wire_tcp_set_checksum(pkt + 20, hl, PEER, US);
    wire_ipv4_emit(pkt, 20, PEER, US, WIRE_IPPROTO_TCP, 64, 1, hl);
    synack_input(f->s[2], pkt, 20 + hl, f->now); /* ...handed to stack 2 */
    assert_int_equal(f->len, 0);
    assert_int_equal(synack_drop_count(f->s[2], SYNACK_DROP_STEER_FOREIGN), 1);
    synack_input(f->s[1], pkt, 20 + hl, f->now); /* its owner answers */
    assert_int_equal(f->len, 1);
    fabric_free(f);
}

/* A group member's index must lie inside the group. */
static void an_index_outside_the_group_is_refused(void **state)
{
    (void)state;
    fabric *f = fabric_new();
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.output = out;
    cfg.output_ctx = &ports[0];
    cfg.random = rnd;
    cfg.random_ctx = &ports[0];
    cfg.steer = TWO;
    cfg.steer.index = 2;
    assert_null(synack_stack_new(&cfg, 0));
    cfg.steer.index = 1;
    synack_stack *s = synack_stack_new(&cfg, 0);
    assert_non_null(s);
    synack_stack_free(s);
    fabric_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tcp_flows_are_symmetric_and_spread),
        cmocka_unit_test(udp_and_fragments_go_by_addresses),
        cmocka_unit_test(icmp_errors_follow_the_quoted_flow),
        cmocka_unit_test(neighbours_reach_the_right_stacks),
        cmocka_unit_test(malformed_frames_go_to_stack_zero),
        cmocka_unit_test(a_group_serves_one_address),
        cmocka_unit_test(a_group_picks_its_own_ports),
        cmocka_unit_test(a_foreign_segment_is_dropped_not_answered),
        cmocka_unit_test(an_index_outside_the_group_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
