/* test_ipv6.c — what is particular to TCP over IPv6 (every other
 * conversation runs in both families through SYNACK_PKT_FAMILY=6): which
 * listener takes which family, binding and connecting by address, the MSS
 * an IPv6 path allows, martian sources, and the two families side by side
 * on the same ports. */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

static synack_addr addr(const char *text)
{
    synack_addr a;
    assert_int_equal(synack_addr_parse(text, &a), 0);
    return a;
}

/* A peer's SYN in the given family: answered with a SYN,ACK (true) or a
 * RST (false). The harness speaks `h->family`; switch it for the one SYN. */
static uint32_t time_waits(const pkt_h *h)
{
    synack_sockstat st;
    synack_get_sockstat(h->s, &st);
    return st.tw;
}

static bool syn_answered(pkt_h *h, int family)
{
    int was = h->family;
    synack_addr peer = h->peer;
    h->family = family;
    h->peer = family == SYNACK_AF_INET6 ? addr(PKT_PEER6) : synack_addr_v4(PKT_PEER);
    synack_addr us = h->us;
    h->us = family == SYNACK_AF_INET6 ? addr(PKT_US6) : synack_addr_v4(PKT_US);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    wire_tcp r = pkt_expect(h, PKT_ANY_FLAGS, PKT_ANY, 1001);
    h->family = was;
    h->peer = peer;
    h->us = us;
    h->peer_port++; /* the next SYN is another connection */
    return r.flags == (SYN | ACK);
}

/* synack_bind takes both families, like Linux's [::]; an address picks one. */
static void listeners_take_the_families_they_are_bound_to(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_sock *both = pkt_listen(h, 80, 8);
    assert_true(syn_answered(h, SYNACK_AF_INET));
    assert_true(syn_answered(h, SYNACK_AF_INET6));
    synack_close(both);

    synack_sock *v4 = synack_socket(h->s);
    synack_addr any4 = synack_addr_v4(0);
    assert_int_equal(synack_bind_addr(v4, &any4, 80), 0);
    assert_int_equal(synack_listen(v4, 8), 0);
    assert_true(syn_answered(h, SYNACK_AF_INET));
    assert_false(syn_answered(h, SYNACK_AF_INET6));

    /* A listener taking both families cannot join it on the port; one
     * taking IPv6 only can: then each family has its listener. */
    synack_sock *dual = synack_socket(h->s);
    assert_int_equal(synack_bind(dual, 80), -EADDRINUSE);
    synack_sock *v6 = synack_socket(h->s);
    assert_int_equal(synack_setopt(v6, SYNACK_IPV6_V6ONLY, 1), 0);
    synack_addr any6 = addr("::");
    assert_int_equal(synack_bind_addr(v6, &any6, 80), 0);
    assert_int_equal(synack_listen(v6, 8), 0);
    assert_true(syn_answered(h, SYNACK_AF_INET));
    assert_true(syn_answered(h, SYNACK_AF_INET6));
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 5);
    synack_close(v4); /* now IPv4 has no listener on 80 */
    assert_false(syn_answered(h, SYNACK_AF_INET));
    assert_true(syn_answered(h, SYNACK_AF_INET6));
    synack_addr got;
    uint16_t port;
    synack_sock_addrs(v6, &got, &port, NULL, NULL);
    assert_true(synack_addr_equal(&got, &h->us));
    assert_int_equal(port, 80);
}

/* Binding needs an address the stack has; connecting, a family it has. */
static void bind_and_connect_check_the_address(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_sock *k = synack_socket(h->s);
    synack_addr other = addr("fd00::99"), mcast = addr("ff02::1"), any = addr("::");
    assert_int_equal(synack_bind_addr(k, &other, 80), -EADDRNOTAVAIL);
    assert_int_equal(synack_connect_addr(k, &mcast, 80), -EINVAL);
    assert_int_equal(synack_connect_addr(k, &any, 80), -EINVAL);
    assert_int_equal(synack_setopt(k, SYNACK_IPV6_V6ONLY, 1), 0);
    synack_addr us = addr(PKT_US6);
    assert_int_equal(synack_bind_addr(k, &us, 5000), 0);
    assert_int_equal(synack_setopt(k, SYNACK_IPV6_V6ONLY, 0), -EINVAL); /* after bind */
    synack_sock *b0 = synack_socket(h->s);
    assert_int_equal(synack_bind_addr(b0, &any, 0), 0);
    assert_int_equal(synack_setopt(b0, SYNACK_IPV6_V6ONLY, 1), -EINVAL); /* after bind to port 0 */
    synack_close(b0);
    assert_int_equal(synack_connect(k, PKT_PEER, 80), -EAFNOSUPPORT);
    assert_int_equal(pkt_connect(h, k, 80), 0);
    h->port = 5000;
    h->peer_port = 80;
    pkt_expect(h, SYN, PKT_ANY, 0);
    synack_abort(k);
    pkt_drain(h);

    pkt_h *v4only = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_sock *j = synack_socket(v4only->s);
    assert_int_equal(synack_connect_addr(j, &other, 80), -ENETUNREACH);
    pkt_expect_none(v4only);
    pkt_free(v4only);
}

/* IPv6's header is 20 bytes longer: on a 1500-byte link we announce MSS
 * 1440 (RFC 8200 §8.3) and send at most 1440 bytes a segment, whatever
 * the peer announced. */
static void mss_fits_the_ipv6_header(void **state)
{
    pkt_h *h = *state = pkt_new_family("link_mtu=1500", SYNACK_AF_INET6);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    assert_int_equal(sa.opt.mss, 1440);
    pkt_send(h, ACK, 1001, sa.seq + 1, 65535, NULL, 0, NULL);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    static uint8_t data[2000];
    assert_int_equal(synack_send(k, data, sizeof(data)), (ssize_t)sizeof(data));
    wire_tcp r = pkt_expect(h, ACK, sa.seq + 1, 1001);
    assert_int_equal(r.payload_len, 1440);
    r = pkt_expect(h, ACK | PSH, sa.seq + 1 + 1440, 1001);
    assert_int_equal(r.payload_len, 560);
}

/* A SYN from `src` to our IPv6 address on port 80. */
static void syn6_from(pkt_h *h, const char *src)
{
    synack_addr from = addr(src);
    uint8_t seg[60];
    wire_tcp t = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYN, .wnd = 65535};
    t.opt = pkt_opts_mss(1440);
    size_t hl = wire_tcp_emit_header(seg, sizeof(seg), &t);
    wire_tcp_set_checksum6(seg, hl, from.v6, h->us.v6);
    pkt_send_ip(h, &from, WIRE_IPPROTO_TCP, seg, hl);
}

/* SYNs from our own address (LAND), loopback, no address, an IPv4-mapped
 * address or a multicast group open nothing and are answered with nothing. */
static void martian_sources_open_nothing(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    pkt_listen(h, 80, 8);
    const char *martians[] = {PKT_US6, "::1", "::", "::ffff:10.0.0.1"};
    for (size_t i = 0; i < 4; i++)
        syn6_from(h, martians[i]);
    syn6_from(h, "ff02::1");
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, ip_in_martians), 4);
    assert_int_equal(pkt_counter(h, ip6_in_hdr_errors), 1); /* the multicast source */
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 0);
    syn6_from(h, "fd00::3"); /* a neighbour still gets in */
    assert_int_equal(pkt_pending(h), 1);
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 1);
    pkt_drain(h);
}

/* One port, two peers that differ only in family: two connections, each
 * to its TIME-WAIT entry, neither disturbing the other. */
static void families_share_ports_without_mixing(void **state)
{
    pkt_h *h = *state = pkt_new_family("tcp_timestamps=0", SYNACK_AF_INET6);
    synack_sock *l = pkt_listen(h, 80, 8);
    synack_sock *k6 = pkt_passive_open(h, l);
    uint32_t iss6 = h->iss;
    h->family = SYNACK_AF_INET;
    h->us = synack_addr_v4(PKT_US);
    h->peer = synack_addr_v4(PKT_PEER);
    synack_sock *k4 = pkt_passive_open(h, l); /* the same ports */
    assert_int_equal(synack_info(k4, &(synack_tcp_info){0}), 0);
    synack_addr a4, a6;
    synack_sock_addrs(k4, NULL, NULL, &a4, NULL);
    synack_sock_addrs(k6, NULL, NULL, &a6, NULL);
    assert_int_equal(a4.family, SYNACK_AF_INET);
    assert_int_equal(a6.family, SYNACK_AF_INET6);
    /* Both go to TIME-WAIT (we close first, the peer's FIN follows). */
    pkt_to_time_wait(h, k4, NULL);
    assert_int_equal(time_waits(h), 1);
    h->family = SYNACK_AF_INET6;
    h->us = addr(PKT_US6);
    h->peer = addr(PKT_PEER6);
    h->iss = iss6;
    h->irs = PKT_PEER_ISS;
    pkt_to_time_wait(h, k6, NULL);
    assert_int_equal(time_waits(h), 2);
    /* A segment to the IPv6 entry is answered over IPv6 from it alone. */
    pkt_send(h, ACK, h->irs + 5, h->iss + 2, 65535, NULL, 0, NULL);
    pkt_expect(h, ACK, h->iss + 2, h->irs + 2);
    pkt_expect_none(h);
    /* 2MSL later both are gone. */
    pkt_advance(h, 60001);
    assert_int_equal(time_waits(h), 0);
    synack_close(k4);
    synack_close(k6);
}

/* RFC 8200 §4: a SYN behind a hop-by-hop and a destination options header
 * (PadN only) reaches the listener; behind an option whose type says
 * "discard, and send a parameter problem" (action 10) it opens nothing,
 * and the ICMPv6 parameter problem points at that option. */
static void tcp_behind_extension_headers(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    pkt_listen(h, 80, 8);
    uint8_t pkt[16 + 60];
    /* Hop-by-hop: next = destination options (60), length 0 (8 bytes), PadN of 4. */
    const uint8_t hbh[8] = {60, 0, 1, 4, 0, 0, 0, 0};
    /* Destination options: next = TCP, PadN of 4 (or option 0x93 for the refusal). */
    uint8_t dst[8] = {WIRE_IPPROTO_TCP, 0, 1, 4, 0, 0, 0, 0};
    wire_tcp t = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYN, .wnd = 65535};
    t.opt = pkt_opts_mss(1440);
    size_t hl = wire_tcp_emit_header(pkt + 16, sizeof pkt - 16, &t);
    wire_tcp_set_checksum6(pkt + 16, hl, h->peer.v6, h->us.v6);
    memcpy(pkt, hbh, 8);
    memcpy(pkt + 8, dst, 8);
    pkt_send_ip(h, NULL, 0 /* hop-by-hop */, pkt, 16 + hl);
    pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 1);
    dst[2] = 0x93; /* an unknown option, action 10: discard, parameter problem */
    memcpy(pkt + 8, dst, 8);
    pkt_send_ip(h, NULL, 0, pkt, 16 + hl);
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 1);
    assert_int_equal(pkt_pending(h), 1);
    const uint8_t *f = h->q[h->qhead].data;
    assert_int_equal(f[6], WIRE_IPPROTO_ICMPV6);
    assert_int_equal(f[40], WIRE_ICMPV6_PARAM_PROBLEM);
    assert_int_equal(f[41], WIRE_ICMPV6_PP_OPTION);
    assert_int_equal(wire_get32(f + 44), 40 + 8 + 2); /* the option's type byte */
    pkt_drain(h);
}

/* A stack with no IPv4 address speaks no IPv4: connecting to an IPv4 peer
 * fails at once, and an IPv4 SYN (even to 0.0.0.0) opens nothing. */
static void an_ipv6_only_stack_refuses_ipv4(void **state)
{
    pkt_h *h = *state = pkt_new_family("no_ipv4=1", SYNACK_AF_INET6);
    pkt_listen(h, 80, 8);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(synack_connect(k, PKT_PEER, 80), -ENETUNREACH);
    for (int i = 0; i < 2; i++) {
        uint32_t dst = i ? 0 : PKT_US;
        uint8_t pkt[WIRE_IPV4_HDR_LEN + 60];
        wire_tcp t = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYN, .wnd = 65535};
        t.opt = pkt_opts_mss(1460);
        size_t hl = wire_tcp_emit_header(pkt + WIRE_IPV4_HDR_LEN, 60, &t);
        wire_tcp_set_checksum(pkt + WIRE_IPV4_HDR_LEN, hl, PKT_PEER, dst);
        wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, PKT_PEER, dst, WIRE_IPPROTO_TCP, 64, 1, hl);
        synack_input(h->s, pkt, WIRE_IPV4_HDR_LEN + hl, h->now);
    }
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_passive_opens), 0);
    assert_int_equal(pkt_counter(h, ip_in_addr_errors), 2);
    assert_true(syn_answered(h, SYNACK_AF_INET6)); /* IPv6 still works */
}

/* ::ffff:10.0.0.1 is an IPv4 peer: a socket taking both families connects
 * to it over IPv4 (as Linux does); an IPv6-only one cannot reach it. */
static void a_v4_mapped_peer_is_reached_over_ipv4(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_sock *v6only = synack_socket(h->s);
    synack_addr mapped = addr("::ffff:10.0.0.1"), any6 = addr("::");
    assert_int_equal(synack_setopt(v6only, SYNACK_IPV6_V6ONLY, 1), 0);
    assert_int_equal(synack_bind_addr(v6only, &any6, 5000), 0);
    assert_int_equal(synack_connect_addr(v6only, &mapped, 80), -ENETUNREACH);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(synack_connect_addr(k, &mapped, 80), 0);
    h->family = SYNACK_AF_INET;
    h->us = synack_addr_v4(PKT_US);
    h->peer = synack_addr_v4(PKT_PEER);
    h->port = pkt_peek_sport(h);
    h->peer_port = 80;
    pkt_expect(h, SYN, PKT_ANY, 0); /* an IPv4 SYN to 10.0.0.1 */
    synack_addr remote;
    synack_sock_addrs(k, NULL, NULL, &remote, NULL);
    assert_int_equal(remote.family, SYNACK_AF_INET);
    assert_int_equal(remote.v4, PKT_PEER);
}

/* RFC 9293 §3.7.1: a SYN without MSS means 536 over IPv4, 1220 over IPv6. */
static void default_mss_by_family(void **state)
{
    for (int f = 0; f < 2; f++) {
        pkt_h *h = *state = pkt_new_family("tcp_timestamps=0", f ? SYNACK_AF_INET6 : SYNACK_AF_INET);
        synack_sock *l = pkt_listen(h, 80, 8);
        pkt_send(h, SYN, 1000, 0, 65535, NULL, 0, NULL);
        wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, 1001);
        pkt_send(h, ACK, 1001, sa.seq + 1, 65535, NULL, 0, NULL);
        synack_sock *k = synack_accept(l, NULL);
        assert_non_null(k);
        synack_tcp_info i;
        synack_info(k, &i);
        assert_int_equal(i.snd_mss, f ? 1220 : 536);
        pkt_free(h);
        *state = NULL;
    }
}

static uint32_t last_flow_label(const pkt_h *h)
{
    return (uint32_t)(h->last[1] & 0x0f) << 16 | (uint32_t)h->last[2] << 8 | h->last[3];
}

/* RFC 6437: every segment of a connection carries the same flow label,
 * never 0; another connection (here: another peer port) another one. */
static void a_connection_has_one_flow_label(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_sock *k = pkt_established(h); /* its SYN,ACK was the last frame */
    uint32_t label = last_flow_label(h);
    assert_int_not_equal(label, 0);
    assert_int_equal(synack_send(k, "x", 1), 1);
    pkt_expect(h, ACK | PSH, h->iss + 1, h->irs + 1);
    assert_int_equal(last_flow_label(h), label);
    h->peer_port++;
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN, 5000, 0, 65535, NULL, 0, &o);
    pkt_expect(h, SYN | ACK, PKT_ANY, 5001);
    assert_int_not_equal(last_flow_label(h), label);
    assert_int_not_equal(last_flow_label(h), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(listeners_take_the_families_they_are_bound_to, pkt_teardown),
        cmocka_unit_test_teardown(bind_and_connect_check_the_address, pkt_teardown),
        cmocka_unit_test_teardown(mss_fits_the_ipv6_header, pkt_teardown),
        cmocka_unit_test_teardown(martian_sources_open_nothing, pkt_teardown),
        cmocka_unit_test_teardown(families_share_ports_without_mixing, pkt_teardown),
        cmocka_unit_test_teardown(a_connection_has_one_flow_label, pkt_teardown),
        cmocka_unit_test_teardown(tcp_behind_extension_headers, pkt_teardown),
        cmocka_unit_test_teardown(an_ipv6_only_stack_refuses_ipv4, pkt_teardown),
        cmocka_unit_test_teardown(a_v4_mapped_peer_is_reached_over_ipv4, pkt_teardown),
        cmocka_unit_test_teardown(default_mss_by_family, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
