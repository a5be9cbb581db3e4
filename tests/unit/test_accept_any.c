/* test_accept_any.c — accept-any (synack_listen_any, synack_impersonate,
 * synack_add_address, held SYNs): one stack on a bare-IP link, a scripted
 * peer that sends to addresses the stack is not, and the exact answers. */
#include "common/pkt.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define FAR 0x5db8d822u  /* 93.184.216.34: a host the stack impersonates */
#define ALSO 0x0a000003u /* 10.0.0.3: an extra address of the stack's own */

/* A TCP segment from the peer's port sport to dst:dport (IPv4). */
static void send_from(pkt_h *h, uint16_t sport, uint32_t dst, uint16_t dport, uint8_t flags,
                      uint32_t seq, uint32_t ack)
{
    uint8_t pkt[WIRE_IPV4_HDR_LEN + 64];
    uint8_t *seg = pkt + WIRE_IPV4_HDR_LEN;
    wire_tcp t = {.sport = sport, .dport = dport, .seq = seq, .ack = ack, .flags = flags,
                  .wnd = 65535, .opt = pkt_opts_mss(1460)};
    size_t hl = wire_tcp_emit_header(seg, 64, &t);
    wire_tcp_set_checksum(seg, hl, PKT_PEER, dst);
    wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, PKT_PEER, dst, WIRE_IPPROTO_TCP, 64, 1, hl);
    synack_input(h->s, pkt, WIRE_IPV4_HDR_LEN + hl, h->now);
}

/* ... from the peer's port 40000. */
static void send_to(pkt_h *h, uint32_t dst, uint16_t dport, uint8_t flags, uint32_t seq,
                    uint32_t ack)
{
    send_from(h, 40000, dst, dport, flags, seq, ack);
}

/* Pop the next frame: its IPv4 header into *ip; false when none. */
static bool pop(pkt_h *h, wire_ipv4 *ip)
{
    if (!h->qlen)
        return false;
    size_t i = h->qhead;
    memcpy(h->last, h->q[i].data, h->q[i].len);
    size_t len = h->q[i].len;
    free(h->q[i].data);
    h->qhead = (h->qhead + 1) % PKT_QMAX;
    h->qlen--;
    return wire_ipv4_parse(h->last, len, ip) == WIRE_OK;
}

/* The next frame is TCP from src:sport to the peer: returned parsed. */
static wire_tcp expect_tcp_from(pkt_h *h, uint32_t src, uint16_t sport, uint8_t flags)
{
    wire_ipv4 ip;
    assert_true(pop(h, &ip));
    assert_int_equal(ip.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(ip.src, src);
    assert_int_equal(ip.dst, PKT_PEER);
    wire_tcp t;
    assert_int_equal(wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t), WIRE_OK);
    assert_int_equal(t.sport, sport);
    assert_int_equal(t.flags, flags);
    return t;
}

static pkt_h *impersonating(void)
{
    pkt_h *h = pkt_new(NULL);
    synack_addr all = synack_addr_v4(0);
    assert_int_equal(synack_impersonate(h->s, &all, 0), 0);
    return h;
}

static synack_sock *any_listener(pkt_h *h, uint16_t lo, uint16_t hi, unsigned flags)
{
    synack_sock *l = synack_socket(h->s);
    synack_addr all = synack_addr_v4(0);
    assert_int_equal(synack_listen_any(l, &all, 0, lo, hi, 16, flags), 0);
    return l;
}

/* A SYN to a host we impersonate opens a connection whose local end is
 * that host: the original destination, and every answer comes from it. */
static void syn_to_any_address_opens_from_it(void **state)
{
    pkt_h *h = *state = impersonating();
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
    assert_int_equal(local.v4, FAR);
    assert_int_equal(lport, 443);
    assert_int_equal(remote.v4, PKT_PEER);
    assert_int_equal(synack_send(k, "hi", 2), 2);
    wire_tcp d = expect_tcp_from(h, FAR, 443, ACK | PSH);
    assert_int_equal(d.payload_len, 2);
}

/* Without synack_impersonate the address is not ours: dropped, unanswered. */
static void not_impersonated_is_dropped(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    any_listener(h, 1, 65535, 0);
    uint64_t before = synack_get_counters(h->s)->ip_in_addr_errors;
    send_to(h, FAR, 443, SYN, 1000, 0);
    pkt_expect_none(h);
    assert_int_equal(synack_get_counters(h->s)->ip_in_addr_errors, before + 1);
}

/* Outside the listener's port range, an impersonated host answers as a
 * host with nothing on that port: a RST from it. */
static void port_outside_range_is_reset_by_that_host(void **state)
{
    pkt_h *h = *state = impersonating();
    any_listener(h, 80, 80, 0);
    send_to(h, FAR, 81, SYN, 1000, 0);
    wire_tcp r = expect_tcp_from(h, FAR, 81, RST | ACK);
    assert_int_equal(r.ack, 1001);
    send_to(h, FAR, 80, SYN, 2000, 0);
    expect_tcp_from(h, FAR, 80, SYN | ACK);
}

/* A listener on a port of our own address wins over the any-listener for
 * our address, but never takes SYNs to an impersonated one. */
static void port_listener_only_for_own_addresses(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_sock *any = any_listener(h, 1, 65535, 0);
    synack_sock *own = pkt_listen(h, 80, 8);
    send_to(h, PKT_US, 80, SYN, 1000, 0);
    wire_tcp sa = expect_tcp_from(h, PKT_US, 80, SYN | ACK);
    send_to(h, PKT_US, 80, ACK, 1001, sa.seq + 1);
    assert_non_null(synack_accept(own, NULL));
    assert_null(synack_accept(any, NULL));
    send_to(h, FAR, 80, SYN, 5000, 0);
    sa = expect_tcp_from(h, FAR, 80, SYN | ACK);
    send_to(h, FAR, 80, ACK, 5001, sa.seq + 1);
    assert_null(synack_accept(own, NULL));
    assert_non_null(synack_accept(any, NULL));
}

/* HOLD_SYN: the SYN waits, unanswered, in the accept queue (a repeat of it
 * is dropped); confirming sends the SYN,ACK and the handshake completes. */
static void held_syn_confirmed(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_sock *l = any_listener(h, 1, 65535, SYNACK_LISTEN_HOLD_SYN);
    send_to(h, FAR, 22, SYN, 1000, 0);
    pkt_expect_none(h);
    assert_true(pkt_events(h, l) & SYNACK_EV_ACCEPT);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_RECEIVED);
    send_to(h, FAR, 22, SYN, 1000, 0); /* the peer's retransmission */
    pkt_expect_none(h);
    assert_int_equal(synack_drop_count(h->s, SYNACK_DROP_SYN_HELD), 1);
    pkt_advance(h, 10000); /* no timer answers for the application */
    pkt_expect_none(h);
    assert_int_equal(synack_accept_confirm(k), 0);
    wire_tcp sa = expect_tcp_from(h, FAR, 22, SYN | ACK);
    assert_int_equal(sa.ack, 1001);
    assert_int_equal(synack_accept_confirm(k), -EINVAL); /* once */
    send_to(h, FAR, 22, ACK, 1001, sa.seq + 1);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_true(pkt_events(h, k) & SYNACK_EV_CONNECTED);
}

/* Refused with a RST: the peer sees "connection refused" to its SYN. */
static void held_syn_refused_with_rst(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_sock *l = any_listener(h, 1, 65535, SYNACK_LISTEN_HOLD_SYN);
    send_to(h, FAR, 22, SYN, 1000, 0);
    synack_sock *k = synack_accept(l, NULL);
    uint32_t id = pkt_id(k);
    assert_int_equal(synack_accept_refuse(k, SYNACK_REFUSE_RST), 0);
    wire_tcp r = expect_tcp_from(h, FAR, 22, RST | ACK);
    assert_int_equal(r.ack, 1001);
    pkt_expect_none(h);
    assert_string_equal(pkt_last_cause(h, id), "SYN refused by the application");
}

/* Refused as unreachable: ICMP destination unreachable from our own
 * address (a router's), quoting the SYN's addresses, ports and sequence. */
static void held_syn_refused_with_icmp(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_sock *l = any_listener(h, 1, 65535, SYNACK_LISTEN_HOLD_SYN);
    send_to(h, FAR, 22, SYN, 1000, 0);
    synack_sock *k = synack_accept(l, NULL);
    assert_int_equal(synack_accept_refuse(k, SYNACK_REFUSE_HOST_UNREACH), 0);
    wire_ipv4 ip;
    assert_true(pop(h, &ip));
    assert_int_equal(ip.proto, WIRE_IPPROTO_ICMP);
    assert_int_equal(ip.src, PKT_US);
    assert_int_equal(ip.dst, PKT_PEER);
    wire_icmp m;
    assert_int_equal(wire_icmp_parse(ip.payload, ip.payload_len, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMP_DEST_UNREACH);
    assert_int_equal(m.code, 1);
    wire_icmp_quote q;
    assert_int_equal(wire_icmp_parse_quote(&m, &q), WIRE_OK);
    assert_int_equal(q.src, PKT_PEER);
    assert_int_equal(q.dst, FAR);
    assert_int_equal(q.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(q.sport, 40000);
    assert_int_equal(q.dport, 22);
    assert_int_equal(q.seq, 1000);
    pkt_expect_none(h);
    assert_int_equal(synack_get_counters(h->s)->icmp_out_dest_unreachs, 1);
}

/* A connection that was never held cannot be refused. */
static void refuse_needs_a_held_syn(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(synack_accept_refuse(k, SYNACK_REFUSE_RST), -EINVAL);
    assert_int_equal(synack_accept_confirm(k), -EINVAL);
    assert_int_equal(synack_accept_refuse(k, 99), -EINVAL);
    synack_close(k);
}

/* An added address is ours: ARP-free here (bare IP), but echo is answered
 * from it and a port listener takes SYNs to it. */
static void added_address_is_own(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_addr also = synack_addr_v4(ALSO);
    assert_int_equal(synack_add_address(h->s, &also), 0);
    assert_int_equal(synack_add_address(h->s, &also), -EEXIST);
    synack_addr bad = synack_addr_v4(0x7f000001u);
    assert_int_equal(synack_add_address(h->s, &bad), -EINVAL);
    synack_sock *l = pkt_listen(h, 80, 8);
    send_to(h, ALSO, 80, SYN, 1000, 0);
    wire_tcp sa = expect_tcp_from(h, ALSO, 80, SYN | ACK);
    send_to(h, ALSO, 80, ACK, 1001, sa.seq + 1);
    assert_non_null(synack_accept(l, NULL));
}

/* Echo to an impersonated host is answered from that host. */
static void echo_answered_from_impersonated_address(void **state)
{
    pkt_h *h = *state = impersonating();
    uint8_t pkt[WIRE_IPV4_HDR_LEN + 64];
    uint8_t data[4] = {1, 2, 3, 4};
    size_t len = wire_icmp_emit_echo(pkt + WIRE_IPV4_HDR_LEN, 64, WIRE_ICMP_ECHO_REQUEST, 7, 1,
                                     data, sizeof data);
    wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, PKT_PEER, FAR, WIRE_IPPROTO_ICMP, 64, 1, len);
    synack_input(h->s, pkt, WIRE_IPV4_HDR_LEN + len, h->now);
    wire_ipv4 ip;
    assert_true(pop(h, &ip));
    assert_int_equal(ip.proto, WIRE_IPPROTO_ICMP);
    assert_int_equal(ip.src, FAR);
    assert_int_equal(ip.dst, PKT_PEER);
    assert_int_equal(ip.payload[0], WIRE_ICMP_ECHO_REPLY);
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

/* We close first on an impersonated host's connection: its TIME-WAIT
 * belongs to that host's 4-tuple. A repeat of the peer's FIN (our ACK of
 * it lost) is acknowledged again from that host, as RFC 9293 §3.10.7.4
 * asks of TIME-WAIT, and a SYN to our own address from the same ports is a
 * new connection, not this one's TIME-WAIT. */
static void time_wait_of_an_impersonated_host_is_its_own(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_sock *l = any_listener(h, 1, 65535, 0);
    synack_sock *k = handshake_on_far_443(h, l);
    synack_close(k);
    wire_tcp fin = expect_tcp_from(h, FAR, 443, FIN | ACK);
    send_to(h, FAR, 443, FIN | ACK, 1001, fin.seq + 1);
    wire_tcp ack = expect_tcp_from(h, FAR, 443, ACK);
    assert_int_equal(ack.ack, 1002);
    assert_int_equal(synack_time_wait_count(h->s), 1);
    send_to(h, FAR, 443, FIN | ACK, 1001, fin.seq + 1); /* the peer repeats its FIN */
    ack = expect_tcp_from(h, FAR, 443, ACK);
    assert_int_equal(ack.ack, 1002);
    send_to(h, PKT_US, 443, SYN, 500, 0); /* below the old RCV.NXT: no TIME-WAIT's */
    wire_tcp sa = expect_tcp_from(h, PKT_US, 443, SYN | ACK);
    assert_int_equal(sa.ack, 501);
    assert_int_equal(synack_time_wait_count(h->s), 1);
}

#define CLIENT 0xc6336409u /* 198.51.100.9: a relay's client, not an address of ours */

static synack_sock *transparent_socket(pkt_h *h)
{
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(synack_setopt(k, SYNACK_IP_TRANSPARENT, 1), 0);
    return k;
}

/* SYNACK_IP_TRANSPARENT: a connection leaves from an address that is not
 * ours, from the port bound there, and the answers to it (impersonated)
 * reach it: a relay's connection that keeps its client's address. */
static void transparent_connect_leaves_from_the_bound_address(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_sock *k = transparent_socket(h);
    synack_addr client = synack_addr_v4(CLIENT);
    assert_int_equal(synack_bind_addr(k, &client, 5555), 0);
    assert_int_equal(synack_connect(k, PKT_PEER, 80), 0);
    wire_tcp syn = expect_tcp_from(h, CLIENT, 5555, SYN);
    send_from(h, 80, CLIENT, 5555, SYN | ACK, 7000, syn.seq + 1);
    wire_tcp ack = expect_tcp_from(h, CLIENT, 5555, ACK);
    assert_int_equal(ack.ack, 7001);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    synack_addr local, remote;
    uint16_t lport, rport;
    synack_sock_addrs(k, &local, &lport, &remote, &rport);
    assert_int_equal(local.v4, CLIENT);
    assert_int_equal(lport, 5555);
    assert_int_equal(synack_send(k, "hi", 2), 2);
    wire_tcp d = expect_tcp_from(h, CLIENT, 5555, ACK | PSH);
    assert_int_equal(d.payload_len, 2);
}

/* Port 0 on a transparent address: connect picks a port there. */
static void transparent_port_zero_is_picked_at_connect(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_sock *k = transparent_socket(h);
    synack_addr client = synack_addr_v4(CLIENT);
    assert_int_equal(synack_bind_addr(k, &client, 0), 0);
    assert_int_equal(synack_connect(k, PKT_PEER, 80), 0);
    wire_ipv4 ip;
    assert_true(pop(h, &ip));
    assert_int_equal(ip.src, CLIENT);
    wire_tcp syn;
    assert_int_equal(wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &syn), WIRE_OK);
    assert_int_equal(syn.flags, SYN);
    assert_true(syn.sport >= 32768 && syn.sport <= 60999);
}

/* Two connections from one transparent address and port: the 4-tuple
 * decides, at connect (-EADDRINUSE only for the same peer and port). */
static void transparent_tuple_in_use_is_refused_at_connect(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_addr client = synack_addr_v4(CLIENT);
    synack_sock *a = transparent_socket(h), *b = transparent_socket(h);
    assert_int_equal(synack_bind_addr(a, &client, 5555), 0);
    assert_int_equal(synack_bind_addr(b, &client, 5555), 0);
    assert_int_equal(synack_connect(a, PKT_PEER, 80), 0);
    assert_int_equal(synack_connect(b, PKT_PEER, 80), -EADDRINUSE);
    assert_int_equal(synack_connect(b, PKT_PEER, 81), 0);
    expect_tcp_from(h, CLIENT, 5555, SYN);
    expect_tcp_from(h, CLIENT, 5555, SYN);
}

/* Without the option an address not ours is refused; with it, only a
 * unicast one, set before bind, and never to listen on. */
static void transparent_rules(void **state)
{
    pkt_h *h = *state = impersonating();
    synack_addr client = synack_addr_v4(CLIENT);
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(synack_bind_addr(k, &client, 5555), -EADDRNOTAVAIL);
    assert_int_equal(synack_setopt(k, SYNACK_IP_TRANSPARENT, 1), 0);
    int v = 0;
    assert_int_equal(synack_getopt(k, SYNACK_IP_TRANSPARENT, &v), 0);
    assert_int_equal(v, 1);
    /* multicast, loopback, "this network", reserved, our subnet's broadcast */
    const uint32_t never[] = {0xe0000001u, 0x7f000001u, 0x00010203u, 0xf0000001u,
                              PKT_US | 0xffu};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++) {
        synack_addr a = synack_addr_v4(never[i]);
        assert_int_equal(synack_bind_addr(k, &a, 5555), -EADDRNOTAVAIL);
    }
    assert_int_equal(synack_bind_addr(k, &client, 5555), 0);
    assert_int_equal(synack_setopt(k, SYNACK_IP_TRANSPARENT, 0), -EINVAL);
    assert_int_equal(synack_listen(k, 8), -EINVAL);
    synack_close(k);
    synack_sock *own = transparent_socket(h); /* our own address: an ordinary bind */
    synack_addr us = synack_addr_v4(PKT_US);
    assert_int_equal(synack_bind_addr(own, &us, 8080), 0);
    assert_int_equal(synack_listen(own, 8), 0);
}

/* A transparent address the stack does not take packets to could never
 * hear its answers: refused at bind, not left to time out. */
static void transparent_needs_an_address_the_stack_takes(void **state)
{
    pkt_h *h = *state = pkt_new(NULL); /* impersonating nothing */
    synack_sock *k = transparent_socket(h);
    synack_addr client = synack_addr_v4(CLIENT), also = synack_addr_v4(ALSO);
    assert_int_equal(synack_bind_addr(k, &client, 5555), -EADDRNOTAVAIL);
    assert_int_equal(synack_add_address(h->s, &also), 0);
    assert_int_equal(synack_bind_addr(k, &also, 5555), 0); /* an added address of ours */
    assert_int_equal(synack_connect(k, PKT_PEER, 80), 0);
    expect_tcp_from(h, ALSO, 5555, SYN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(syn_to_any_address_opens_from_it, pkt_teardown),
        cmocka_unit_test_teardown(not_impersonated_is_dropped, pkt_teardown),
        cmocka_unit_test_teardown(port_outside_range_is_reset_by_that_host, pkt_teardown),
        cmocka_unit_test_teardown(port_listener_only_for_own_addresses, pkt_teardown),
        cmocka_unit_test_teardown(held_syn_confirmed, pkt_teardown),
        cmocka_unit_test_teardown(held_syn_refused_with_rst, pkt_teardown),
        cmocka_unit_test_teardown(held_syn_refused_with_icmp, pkt_teardown),
        cmocka_unit_test_teardown(refuse_needs_a_held_syn, pkt_teardown),
        cmocka_unit_test_teardown(added_address_is_own, pkt_teardown),
        cmocka_unit_test_teardown(echo_answered_from_impersonated_address, pkt_teardown),
        cmocka_unit_test_teardown(time_wait_of_an_impersonated_host_is_its_own, pkt_teardown),
        cmocka_unit_test_teardown(transparent_connect_leaves_from_the_bound_address, pkt_teardown),
        cmocka_unit_test_teardown(transparent_port_zero_is_picked_at_connect, pkt_teardown),
        cmocka_unit_test_teardown(transparent_tuple_in_use_is_refused_at_connect, pkt_teardown),
        cmocka_unit_test_teardown(transparent_rules, pkt_teardown),
        cmocka_unit_test_teardown(transparent_needs_an_address_the_stack_takes, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
