/* test_accept_any6.c — accept-any over IPv6 (synack_impersonate with an
 * IPv6 prefix, synack_listen_any on ::/0, held SYNs): one stack on a
 * bare-IP link as fd00::2, a scripted peer fd00::1 that sends to
 * addresses the stack is not, and the exact answers, checksummed with the
 * IPv6 pseudo-header of the address they came from. (That Neighbour
 * Discovery never answers for an impersonated address: test_nd.c.) */
#include "common/pkt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static synack_addr a6(const char *text)
{
    synack_addr a;
    assert_int_equal(synack_addr_parse(text, &a), 0);
    assert_int_equal(a.family, SYNACK_AF_INET6);
    return a;
}

#define FAR a6("2001:db8::80") /* a host the stack impersonates */

/* A TCP segment from the peer to dst:dport. */
static void send_to(pkt_h *h, synack_addr dst, uint16_t dport, uint8_t flags, uint32_t seq,
                    uint32_t ack)
{
    uint8_t seg[64];
    wire_tcp t = {.sport = 40000, .dport = dport, .seq = seq, .ack = ack, .flags = flags,
                  .wnd = 65535, .opt = pkt_opts_mss(1440)};
    size_t hl = wire_tcp_emit_header(seg, sizeof seg, &t);
    wire_tcp_set_checksum6(seg, hl, h->peer.v6, dst.v6);
    pkt_send_ip_to(h, NULL, &dst, WIRE_IPPROTO_TCP, seg, hl);
}

/* Pop the next frame: its IPv6 header into *ip. */
static void pop6(pkt_h *h, wire_ipv6 *ip)
{
    size_t len = pkt_pop(h);
    assert_int_equal(wire_ipv6_parse(h->last, len, ip), WIRE_OK);
}

/* The next frame is TCP from src:sport to the peer, its checksum right
 * for that source: returned parsed. */
static wire_tcp expect_tcp_from(pkt_h *h, synack_addr src, uint16_t sport, uint8_t flags)
{
    wire_ipv6 ip;
    pop6(h, &ip);
    assert_int_equal(ip.next_header, WIRE_IPPROTO_TCP);
    assert_memory_equal(ip.src, src.v6, 16);
    assert_memory_equal(ip.dst, h->peer.v6, 16);
    wire_tcp t;
    assert_int_equal(wire_tcp_parse6(ip.payload, ip.payload_len, ip.src, ip.dst, &t), WIRE_OK);
    assert_int_equal(t.sport, sport);
    assert_int_equal(t.flags, flags);
    return t;
}

static pkt_h *impersonating(const char *prefix, uint8_t len)
{
    pkt_h *h = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_addr p = a6(prefix);
    assert_int_equal(synack_impersonate(h->s, &p, len), 0);
    return h;
}

static synack_sock *any_listener(pkt_h *h, uint16_t lo, uint16_t hi, unsigned flags)
{
    synack_sock *l = synack_socket(h->s);
    synack_addr all = a6("::");
    assert_int_equal(synack_listen_any(l, &all, 0, lo, hi, 16, flags), 0);
    return l;
}

/* A SYN to a host we impersonate opens a connection whose local end is
 * that host, and every segment comes from it. */
static void syn_to_impersonated_opens_from_it(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    synack_sock *l = any_listener(h, 1, 65535, 0);
    send_to(h, FAR, 443, SYN, 1000, 0);
    wire_tcp sa = expect_tcp_from(h, FAR, 443, SYN | ACK);
    assert_int_equal(sa.ack, 1001);
    send_to(h, FAR, 443, ACK, 1001, sa.seq + 1);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    synack_addr local, remote;
    uint16_t lport, rport;
    synack_sock_addrs(k, &local, &lport, &remote, &rport);
    assert_int_equal(local.family, SYNACK_AF_INET6);
    assert_memory_equal(local.v6, FAR.v6, 16);
    assert_int_equal(lport, 443);
    assert_memory_equal(remote.v6, h->peer.v6, 16);
    assert_int_equal(synack_send(k, "hi", 2), 2);
    wire_tcp d = expect_tcp_from(h, FAR, 443, ACK | PSH);
    assert_int_equal(d.payload_len, 2);
}

/* The peer opens FAR:443 (ISS 1000) through listener l: the accepted handle. */
static synack_sock *handshake_on_far_443(pkt_h *h, synack_sock *l)
{
    send_to(h, FAR, 443, SYN, 1000, 0);
    wire_tcp sa = expect_tcp_from(h, FAR, 443, SYN | ACK);
    send_to(h, FAR, 443, ACK, 1001, sa.seq + 1);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    return k;
}

/* An ICMPv6 error about a segment sent from an impersonated address
 * reaches its connection: packet too big (RFC 8201) has what is in
 * flight sent again at once, cut to the new path MTU. */
static void icmpv6_error_reaches_impersonated_connection(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    synack_sock *l = any_listener(h, 1, 65535, 0);
    synack_sock *k = handshake_on_far_443(h, l);
    static uint8_t data[1400];
    assert_int_equal(synack_send(k, data, sizeof data), (int)sizeof data);
    wire_tcp d = expect_tcp_from(h, FAR, 443, ACK | PSH);
    assert_int_equal(d.payload_len, sizeof data);
    static uint8_t sent[1500], msg[1500];
    size_t sent_len = WIRE_IPV6_HDR_LEN + ((size_t)h->last[4] << 8 | h->last[5]);
    memcpy(sent, h->last, sent_len);
    synack_addr far = FAR;
    size_t len = wire_icmpv6_emit_packet_too_big(msg, sizeof msg, h->peer.v6, far.v6, 1280,
                                                 sent, sent_len);
    pkt_send_ip_to(h, NULL, &far, WIRE_IPPROTO_ICMPV6, msg, len);
    wire_tcp again = expect_tcp_from(h, FAR, 443, ACK);
    assert_int_equal(again.seq, d.seq);
    assert_int_equal(again.payload_len, 1280 - WIRE_IPV6_HDR_LEN - WIRE_TCP_HDR_LEN);
}

/* Outside every impersonated prefix an address is not ours: dropped,
 * unanswered, counted; inside one it is taken. */
static void not_impersonated_is_dropped(void **state)
{
    pkt_h *h = *state = impersonating("2001:db8:1::", 48);
    any_listener(h, 1, 65535, 0);
    uint64_t before = pkt_counter(h, ip6_in_addr_errors);
    send_to(h, FAR, 443, SYN, 1000, 0);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, ip6_in_addr_errors), before + 1);
    send_to(h, a6("2001:db8:1:ffff::5"), 443, SYN, 1000, 0);
    expect_tcp_from(h, a6("2001:db8:1:ffff::5"), 443, SYN | ACK);
    assert_int_equal(pkt_counter(h, ip6_in_addr_errors), before + 1);
}

/* No group is anyone's host: ::/0 does not make the stack answer an echo
 * to a multicast group it is not in (it would come from a group). */
static void multicast_is_never_impersonated(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    synack_addr group = a6("ff0e::1234");
    uint8_t req[64];
    static const uint8_t data[2] = {'h', 'i'};
    size_t len = wire_icmpv6_emit_echo(req, sizeof req, h->peer.v6, group.v6,
                                       WIRE_ICMPV6_ECHO_REQUEST, 7, 1, data, sizeof data);
    uint64_t before = pkt_counter(h, ip6_in_addr_errors);
    pkt_send_ip_to(h, NULL, &group, WIRE_IPPROTO_ICMPV6, req, len);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, ip6_in_addr_errors), before + 1);
}

/* Outside the listener's port range, an impersonated host answers as a
 * host with nothing on that port: a RST from it. */
static void port_outside_range_is_reset_by_that_host(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    any_listener(h, 80, 80, 0);
    send_to(h, FAR, 81, SYN, 1000, 0);
    wire_tcp r = expect_tcp_from(h, FAR, 81, RST | ACK);
    assert_int_equal(r.ack, 1001);
    send_to(h, FAR, 80, SYN, 2000, 0);
    expect_tcp_from(h, FAR, 80, SYN | ACK);
}

/* A port listener takes SYNs to our own address (before the
 * any-listener), never to an impersonated one. */
static void port_listener_only_for_own_address(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    synack_sock *any = any_listener(h, 1, 65535, 0);
    synack_sock *own = pkt_listen(h, 80, 8);
    send_to(h, h->us, 80, SYN, 1000, 0);
    wire_tcp sa = expect_tcp_from(h, h->us, 80, SYN | ACK);
    send_to(h, h->us, 80, ACK, 1001, sa.seq + 1);
    assert_non_null(synack_accept(own, NULL));
    assert_null(synack_accept(any, NULL));
    send_to(h, FAR, 80, SYN, 5000, 0);
    sa = expect_tcp_from(h, FAR, 80, SYN | ACK);
    send_to(h, FAR, 80, ACK, 5001, sa.seq + 1);
    assert_null(synack_accept(own, NULL));
    assert_non_null(synack_accept(any, NULL));
}

/* HOLD_SYN: the SYN waits, unanswered; confirming sends the SYN,ACK from
 * the impersonated address and the handshake completes. */
static void held_syn_confirmed(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    synack_sock *l = any_listener(h, 1, 65535, SYNACK_LISTEN_HOLD_SYN);
    send_to(h, FAR, 22, SYN, 1000, 0);
    pkt_expect_none(h);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_RECEIVED);
    send_to(h, FAR, 22, SYN, 1000, 0); /* the peer's retransmission */
    pkt_expect_none(h);
    assert_int_equal(synack_drop_count(h->s, SYNACK_DROP_SYN_HELD), 1);
    assert_int_equal(synack_accept_confirm(k), 0);
    wire_tcp sa = expect_tcp_from(h, FAR, 22, SYN | ACK);
    assert_int_equal(sa.ack, 1001);
    send_to(h, FAR, 22, ACK, 1001, sa.seq + 1);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_true(pkt_events(h, k) & SYNACK_EV_CONNECTED);
}

/* Refused with a RST, from the impersonated address. */
static void held_syn_refused_with_rst(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    synack_sock *l = any_listener(h, 1, 65535, SYNACK_LISTEN_HOLD_SYN);
    send_to(h, FAR, 22, SYN, 1000, 0);
    synack_sock *k = synack_accept(l, NULL);
    assert_int_equal(synack_accept_refuse(k, SYNACK_REFUSE_RST), 0);
    wire_tcp r = expect_tcp_from(h, FAR, 22, RST | ACK);
    assert_int_equal(r.ack, 1001);
    pkt_expect_none(h);
}

/* Refused as unreachable: ICMPv6 destination unreachable (RFC 4443 §3.1)
 * from our own address, as from a router, quoting the SYN rebuilt. */
static void refused_with(pkt_h *h, int how, uint8_t code)
{
    synack_sock *l = any_listener(h, 1, 65535, SYNACK_LISTEN_HOLD_SYN);
    send_to(h, FAR, 22, SYN, 1000, 0);
    synack_sock *k = synack_accept(l, NULL);
    assert_int_equal(synack_accept_refuse(k, how), 0);
    wire_ipv6 ip;
    pop6(h, &ip);
    assert_int_equal(ip.next_header, WIRE_IPPROTO_ICMPV6);
    assert_memory_equal(ip.src, h->us.v6, 16);
    assert_memory_equal(ip.dst, h->peer.v6, 16);
    wire_icmpv6 m;
    assert_int_equal(wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMPV6_DEST_UNREACH);
    assert_int_equal(m.code, code);
    wire_icmpv6_quote q;
    assert_int_equal(wire_icmpv6_parse_quote(&m, &q), WIRE_OK);
    assert_memory_equal(q.src, h->peer.v6, 16);
    assert_memory_equal(q.dst, FAR.v6, 16);
    assert_int_equal(q.next_header, WIRE_IPPROTO_TCP);
    assert_true(q.has_upper);
    assert_int_equal(q.sport, 40000);
    assert_int_equal(q.dport, 22);
    assert_int_equal(q.seq, 1000);
    pkt_expect_none(h);
    synack_close(l);
    pkt_expect_none(h);
}

static void held_syn_refused_with_icmpv6(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    refused_with(h, SYNACK_REFUSE_HOST_UNREACH, 3);   /* address unreachable */
    refused_with(h, SYNACK_REFUSE_NET_UNREACH, 0);    /* no route */
    refused_with(h, SYNACK_REFUSE_ADMIN_PROHIBITED, 1);
    assert_int_equal(pkt_counter(h, icmp6_out_dest_unreachs), 3);
}

/* Echo to an impersonated host is answered from that host. */
static void echo_answered_from_impersonated_address(void **state)
{
    pkt_h *h = *state = impersonating("2001:db8::", 32);
    uint8_t req[64];
    static const uint8_t data[4] = {1, 2, 3, 4};
    size_t len = wire_icmpv6_emit_echo(req, sizeof req, h->peer.v6, FAR.v6,
                                       WIRE_ICMPV6_ECHO_REQUEST, 7, 1, data, sizeof data);
    synack_addr far = FAR;
    pkt_send_ip_to(h, NULL, &far, WIRE_IPPROTO_ICMPV6, req, len);
    wire_ipv6 ip;
    pop6(h, &ip);
    assert_int_equal(ip.next_header, WIRE_IPPROTO_ICMPV6);
    assert_memory_equal(ip.src, FAR.v6, 16);
    assert_memory_equal(ip.dst, h->peer.v6, 16);
    wire_icmpv6 m;
    assert_int_equal(wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMPV6_ECHO_REPLY);
}

/* The prefix's length is checked; at most 8 prefixes. */
static void impersonate_limits(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_addr p = a6("2001:db8::");
    assert_int_equal(synack_impersonate(h->s, &p, 129), -EINVAL);
    for (int i = 0; i < 8; i++)
        assert_int_equal(synack_impersonate(h->s, &p, 64), 0);
    assert_int_equal(synack_impersonate(h->s, &p, 64), -ENOSPC);
    assert_int_equal(synack_add_address(h->s, &p), -EAFNOSUPPORT);
}

/* Our TIME-WAIT on an impersonated host's connection is that host's: the
 * peer's repeated FIN is acknowledged again from it (test_accept_any.c has
 * the IPv4 case and the rest). */
static void time_wait_of_an_impersonated_host_is_its_own(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    synack_sock *l = any_listener(h, 1, 65535, 0);
    synack_sock *k = handshake_on_far_443(h, l);
    synack_close(k);
    wire_tcp fin = expect_tcp_from(h, FAR, 443, FIN | ACK);
    send_to(h, FAR, 443, FIN | ACK, 1001, fin.seq + 1);
    expect_tcp_from(h, FAR, 443, ACK);
    assert_int_equal(synack_time_wait_count(h->s), 1);
    send_to(h, FAR, 443, FIN | ACK, 1001, fin.seq + 1);
    wire_tcp ack = expect_tcp_from(h, FAR, 443, ACK);
    assert_int_equal(ack.ack, 1002);
}

/* SYNACK_IP_TRANSPARENT over IPv6: a connection from an impersonated
 * address that is not ours, its SYN and ACK from it; a link-local one,
 * which nothing impersonates, is refused at bind. */
static void transparent_connect_leaves_from_the_bound_address(void **state)
{
    pkt_h *h = *state = impersonating("::", 0);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(synack_setopt(k, SYNACK_IP_TRANSPARENT, 1), 0);
    synack_addr client = a6("2001:db8::77"), ll = a6("fe80::9");
    assert_int_equal(synack_bind_addr(k, &ll, 5555), -EADDRNOTAVAIL);
    assert_int_equal(synack_bind_addr(k, &client, 5555), 0);
    assert_int_equal(synack_connect_addr(k, &h->peer, 80), 0);
    wire_tcp syn = expect_tcp_from(h, client, 5555, SYN);
    uint8_t seg[64];
    wire_tcp t = {.sport = 80, .dport = 5555, .seq = 7000, .ack = syn.seq + 1,
                  .flags = SYN | ACK, .wnd = 65535, .opt = pkt_opts_mss(1440)};
    size_t hl = wire_tcp_emit_header(seg, sizeof seg, &t);
    wire_tcp_set_checksum6(seg, hl, h->peer.v6, client.v6);
    pkt_send_ip_to(h, NULL, &client, WIRE_IPPROTO_TCP, seg, hl);
    wire_tcp ack = expect_tcp_from(h, client, 5555, ACK);
    assert_int_equal(ack.ack, 7001);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(syn_to_impersonated_opens_from_it, pkt_teardown),
        cmocka_unit_test_teardown(icmpv6_error_reaches_impersonated_connection, pkt_teardown),
        cmocka_unit_test_teardown(not_impersonated_is_dropped, pkt_teardown),
        cmocka_unit_test_teardown(multicast_is_never_impersonated, pkt_teardown),
        cmocka_unit_test_teardown(port_outside_range_is_reset_by_that_host, pkt_teardown),
        cmocka_unit_test_teardown(port_listener_only_for_own_address, pkt_teardown),
        cmocka_unit_test_teardown(held_syn_confirmed, pkt_teardown),
        cmocka_unit_test_teardown(held_syn_refused_with_rst, pkt_teardown),
        cmocka_unit_test_teardown(held_syn_refused_with_icmpv6, pkt_teardown),
        cmocka_unit_test_teardown(echo_answered_from_impersonated_address, pkt_teardown),
        cmocka_unit_test_teardown(impersonate_limits, pkt_teardown),
        cmocka_unit_test_teardown(time_wait_of_an_impersonated_host_is_its_own, pkt_teardown),
        cmocka_unit_test_teardown(transparent_connect_leaves_from_the_bound_address, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
