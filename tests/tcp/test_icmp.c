/* test_icmp.c — ICMP errors about our segments (src/tcp/icmp_error.c):
 * "fragmentation needed" lowers the path MTU and resends at the new size
 * (RFC 1191), a hard error ends a connection still opening, a soft one is
 * reported only if the connection times out (RFC 1122 §4.2.3.9), and an
 * error quoting a sequence number we did not send is ignored (RFC 5927).
 * Over IPv6 (SYNACK_PKT_FAMILY=6) the same tests send the ICMPv6 errors
 * that mean the same (RFC 4443, RFC 8201): "packet too big" 20 bytes larger,
 * for IPv6's longer header, so segment sizes stay the same. */
#include "common/pkt.h"

#include <errno.h>
#include <string.h>

#define ROUTER 0x0a0000feu /* 10.0.0.254: a hop on the path */
#define ROUTER6 "fd00::fe"

/* The ICMPv6 error that means what ICMP's (type, code) means for TCP. */
static void icmpv6_meaning(uint8_t *type, uint8_t *code, uint32_t *mtu)
{
    if (*type == WIRE_ICMP_DEST_UNREACH && *code == WIRE_ICMP_FRAG_NEEDED) {
        *type = WIRE_ICMPV6_PACKET_TOO_BIG;
        *code = 0;
        *mtu += 20;
    } else if (*type == WIRE_ICMP_DEST_UNREACH) { /* port (hard), else host (soft) */
        *type = WIRE_ICMPV6_DEST_UNREACH;
        *code = *code == 3 ? 4 : 3;
    } else {
        *type = WIRE_ICMPV6_PARAM_PROBLEM;
        *code = 0;
    }
}

/* The ICMPv6 form of icmp_error below. */
static void icmpv6_error(pkt_h *h, uint8_t type, uint8_t code, uint32_t mtu, uint32_t seq)
{
    icmpv6_meaning(&type, &code, &mtu);
    uint8_t quote[WIRE_IPV6_HDR_LEN + 8] = {0}, icmp[8 + sizeof(quote)];
    wire_ipv6 ip = {.next_header = WIRE_IPPROTO_TCP, .hop_limit = 63, .payload_len = 1460};
    memcpy(ip.src, h->us.v6, 16);
    memcpy(ip.dst, h->peer.v6, 16);
    wire_ipv6_emit(quote, sizeof(quote), &ip);
    uint8_t *tcp = quote + WIRE_IPV6_HDR_LEN;
    wire_put16(tcp, h->port);
    wire_put16(tcp + 2, h->peer_port);
    wire_put32(tcp + 4, seq);
    synack_addr router;
    assert_int_equal(synack_addr_parse(ROUTER6, &router), 0);
    size_t ilen = wire_icmpv6_emit_error(icmp, sizeof(icmp), router.v6, h->us.v6, type, code,
                                         mtu, quote, sizeof(quote));
    assert_int_equal(ilen, sizeof(icmp));
    pkt_send_ip(h, &router, WIRE_IPPROTO_ICMPV6, icmp, ilen);
}

/* An ICMP error from ROUTER quoting our segment to the peer with `seq`. */
static void icmp_error(pkt_h *h, uint8_t type, uint8_t code, uint16_t mtu, uint32_t seq)
{
    if (pkt_ipv6(h)) {
        icmpv6_error(h, type, code, mtu, seq);
        return;
    }
    pkt_icmp4_error(h, ROUTER, type, code, mtu, seq);
}

static uint8_t data[8192];

static void frag_needed(pkt_h *h, uint16_t mtu, uint32_t seq)
{
    icmp_error(h, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, mtu, seq);
}

/* Three segments in flight; a router says the path takes 1300 bytes:
 * everything unacknowledged goes again, in 1260-byte segments. */
static void frag_needed_resends_at_the_new_size(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, data, 3000), 3000);
    pkt_expect(h, ACK, S, P);
    pkt_expect(h, ACK, S + 1460, P);
    pkt_expect(h, ACK | PSH, S + 2920, P);
    frag_needed(h, 1300, S);
    uint32_t sizes[] = {1260, 1260, 480};
    uint32_t seq = S;
    for (int i = 0; i < 3; i++) {
        wire_tcp r = pkt_expect(h, PKT_ANY_FLAGS, seq, P);
        assert_int_equal(r.payload_len, sizes[i]);
        seq += sizes[i];
    }
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_pmtu_reduced), 1);
    if (pkt_ipv6(h))
        assert_int_equal(pkt_counter(h, icmp6_in_pkt_too_bigs), 1);
    else
        assert_int_equal(pkt_counter(h, icmp_in_dest_unreachs), 1);
    pkt_send(h, ACK, P, S + 3000, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send(k, data, 2000), 2000);
    wire_tcp r = pkt_expect(h, ACK, S + 3000, P);
    assert_int_equal(r.payload_len, 1260); /* and it stays */
    synack_tcp_info info;
    synack_info(k, &info);
    assert_int_equal(synack_sock_error(k), 0);
}

/* The floor is Linux's min_pmtu for IPv4 and the minimum link MTU, 1280,
 * for IPv6: a forged "MTU 68" cannot make us send 28-byte segments. A
 * "larger" MTU teaches nothing. */
static void path_mtu_has_a_floor(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, data, 2000), 2000);
    pkt_expect(h, ACK, S, P);
    pkt_expect(h, ACK | PSH, S + 1460, P);
    frag_needed(h, 1500, S);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_pmtu_reduced), 0);
    frag_needed(h, 68, S);
    uint32_t floor = pkt_ipv6(h) ? 1280 - 60 : 552 - 40, sent = 0;
    while (sent < 2000) {
        uint32_t len = 2000 - sent < floor ? 2000 - sent : floor;
        wire_tcp r = pkt_expect(h, sent + len == 2000 ? ACK | PSH : ACK, S + sent, P);
        assert_int_equal(r.payload_len, len);
        sent += len;
    }
    pkt_expect_none(h);
}

/* RFC 5927 §4.1: the quoted sequence number must be in flight; one that is
 * not (already acknowledged, never sent) is counted and ignored. */
static void forged_errors_are_ignored(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, data, 100), 100);
    pkt_expect(h, ACK | PSH, S, P);
    frag_needed(h, 1000, S + 5000);
    frag_needed(h, 1000, S - 10);
    icmp_error(h, WIRE_ICMP_DEST_UNREACH, 3, 0, S + 5000);
    pkt_expect_none(h);
    assert_int_equal(pkt_counter(h, tcp_out_of_window_icmps), 3);
    assert_int_equal(pkt_counter(h, tcp_pmtu_reduced), 0);
    pkt_send(h, ACK, P, S + 100, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send(k, data, 2000), 2000);
    wire_tcp r = pkt_expect(h, ACK, S + 100, P);
    assert_int_equal(r.payload_len, 1460);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
}

/* SYN-SENT: our SYN went out; return its ISS. */
static uint32_t syn_sent(pkt_h *h, synack_sock **out)
{
    synack_sock *k = synack_socket(h->s);
    assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
    h->port = pkt_peek_sport(h); /* learn our ephemeral port from the SYN */
    wire_tcp syn = pkt_expect(h, SYN, PKT_ANY, 0);
    *out = k;
    return syn.seq;
}

/* A port unreachable for our SYN refuses the connection at once. */
static void port_unreachable_refuses_a_connect(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k;
    uint32_t iss = syn_sent(h, &k);
    icmp_error(h, WIRE_ICMP_DEST_UNREACH, 3, 0, iss);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ECONNREFUSED);
    assert_string_equal(pkt_last_cause(h, pkt_id(k)), "ICMP error (unreachable, prohibited)");
    pkt_expect_none(h);
}

/* Host unreachable is soft: the SYN is still retried, and if the peer never
 * answers the error is EHOSTUNREACH, not ETIMEDOUT. */
static void host_unreachable_is_soft(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_syn_retries=1");
    synack_sock *k;
    uint32_t iss = syn_sent(h, &k);
    icmp_error(h, WIRE_ICMP_DEST_UNREACH, 1, 0, iss);
    assert_int_equal(synack_sock_state(k), SYNACK_SYN_SENT);
    pkt_advance(h, 1000);
    pkt_expect(h, SYN, iss, 0);
    pkt_advance(h, 2000);
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -EHOSTUNREACH);
}

/* An established connection is not ended by a hard error either (Linux:
 * only while opening); nor by one quoting another protocol. */
static void established_survives_hard_errors(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, data, 100), 100);
    pkt_expect(h, ACK | PSH, S, P);
    icmp_error(h, WIRE_ICMP_DEST_UNREACH, 3, 0, S);
    icmp_error(h, WIRE_ICMP_PARAM_PROBLEM, 0, 0, S);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    assert_int_equal(synack_sock_error(k), 0);
    if (pkt_ipv6(h))
        assert_int_equal(pkt_counter(h, icmp6_in_parm_problems), 1);
    else
        assert_int_equal(pkt_counter(h, icmp_in_parm_probs), 1);
    pkt_expect_none(h);
}

/* tcp_mtu_probing: a path that silently drops full-size segments. From the
 * third timeout of the same data on, the segment size halves each time
 * (Linux: each timeout past tcp_retries1); off, it does not. */
static void black_hole(pkt_h *h, uint32_t third_len, uint32_t fourth_len)
{
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, data, 3000), 3000);
    pkt_drain(h);
    for (int i = 1; i <= 4; i++) {
        pkt_advance(h, pkt_next_deadline_ms(h));
        wire_tcp r = pkt_expect(h, PKT_ANY_FLAGS, S, P);
        assert_int_equal(r.payload_len, i < 3 ? 1460 : i == 3 ? third_len : fourth_len);
        pkt_expect_none(h);
    }
}

static void black_hole_halves_the_segment_size(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_mtu_probing=1");
    black_hole(h, 730, 365);
    assert_int_equal(pkt_counter(h, tcp_pmtu_black_hole), 2);
    pkt_free(h);
    h = *state = pkt_new(NULL);
    black_hole(h, 1460, 1460);
    assert_int_equal(pkt_counter(h, tcp_pmtu_black_hole), 0);
}

/* After a timeout rewinds SND.NXT, an error about a segment sent before
 * it (up to SND.MAX) is still believed. */
static void errors_about_rewound_segments_count(void **state)
{
    pkt_h *h = *state = pkt_new(NULL);
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, data, 3000), 3000);
    pkt_drain(h);
    pkt_advance(h, pkt_next_deadline_ms(h)); /* RTO: SND.NXT back to S + 1460 */
    pkt_expect(h, ACK, S, P);
    frag_needed(h, 1000, S + 2920);
    assert_int_equal(pkt_counter(h, tcp_out_of_window_icmps), 0);
    assert_int_equal(pkt_counter(h, tcp_pmtu_reduced), 1);
}

/* A soft error is forgotten once something works (Linux clears
 * sk_err_soft on an ACK): a later timeout says ETIMEDOUT. */
static void soft_errors_are_forgotten_when_data_is_acked(void **state)
{
    pkt_h *h = *state = pkt_new("tcp_retries2=1");
    synack_sock *k = pkt_established(h);
    uint32_t S = h->iss + 1, P = h->irs + 1;
    assert_int_equal(synack_send(k, data, 100), 100);
    pkt_expect(h, ACK | PSH, S, P);
    icmp_error(h, WIRE_ICMP_DEST_UNREACH, 1, 0, S);
    pkt_send(h, ACK, P, S + 100, PKT_PEER_WND, NULL, 0, NULL);
    assert_int_equal(synack_send(k, data, 100), 100);
    pkt_drain(h);
    for (int i = 0; i < 3 && synack_sock_state(k) != SYNACK_CLOSED; i++)
        pkt_advance(h, pkt_next_deadline_ms(h));
    assert_int_equal(synack_sock_state(k), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(k), -ETIMEDOUT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(frag_needed_resends_at_the_new_size, pkt_teardown),
        cmocka_unit_test_teardown(path_mtu_has_a_floor, pkt_teardown),
        cmocka_unit_test_teardown(forged_errors_are_ignored, pkt_teardown),
        cmocka_unit_test_teardown(port_unreachable_refuses_a_connect, pkt_teardown),
        cmocka_unit_test_teardown(host_unreachable_is_soft, pkt_teardown),
        cmocka_unit_test_teardown(established_survives_hard_errors, pkt_teardown),
        cmocka_unit_test_teardown(black_hole_halves_the_segment_size, pkt_teardown),
        cmocka_unit_test_teardown(errors_about_rewound_segments_count, pkt_teardown),
        cmocka_unit_test_teardown(soft_errors_are_forgotten_when_data_is_acked, pkt_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
