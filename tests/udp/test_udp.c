/* test_udp.c — UDP sockets (src/udp, src/net/udp.c) as conversations with
 * a scripted peer (tests/common/pkt.h): crafted datagrams in, exact frames
 * out. Each test names its family; the IPv6 ones run the main paths again
 * with ICMPv6 and the mandatory checksum. */
#include "common/pkt.h"
#include "dev/memlink.h"

#include <errno.h>
#include <string.h>

#define NOT_OURS 0x5db8d822u /* 93.184.216.34: an address the stack does not have */
#define OTHER_HOST 0x0a000003u

/* ------------------------------------------------------------ helpers */

/* One's complement sum written here, apart from src/wire (RFC 1071). */
static uint32_t ones_add(uint32_t acc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        acc += (uint32_t)(p[n - 1] << 8);
    return acc;
}

static uint16_t ones_fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)~acc;
}

/* The checksum a datagram `d` (its field zeroed in a copy) must carry. */
static uint16_t expected_csum(const synack_addr *src, const synack_addr *dst, const uint8_t *d,
                              size_t len)
{
    static uint8_t copy[65536];
    uint8_t pseudo[40] = {0};
    size_t plen;
    memcpy(copy, d, len);
    copy[6] = copy[7] = 0;
    if (src->family == SYNACK_AF_INET6) {
        memcpy(pseudo, src->v6, 16);
        memcpy(pseudo + 16, dst->v6, 16);
        wire_put32(pseudo + 32, (uint32_t)len);
        pseudo[39] = WIRE_IPPROTO_UDP;
        plen = 40;
    } else {
        wire_put32(pseudo, src->v4);
        wire_put32(pseudo + 4, dst->v4);
        pseudo[9] = WIRE_IPPROTO_UDP;
        wire_put16(pseudo + 10, (uint16_t)len);
        plen = 12;
    }
    uint16_t c = ones_fold(ones_add(ones_add(0, pseudo, plen), copy, len));
    return c ? c : 0xffff;
}

/* The frame h->last as IP + UDP: its addresses and the datagram. */
typedef struct out_dgram {
    synack_addr src, dst;
    const uint8_t *udp;
    size_t udp_len;
    wire_udp d;
} out_dgram;

static out_dgram pop_udp(pkt_h *h)
{
    size_t len = pkt_pop(h);
    out_dgram o = {0};
    if (pkt_ipv6(h)) {
        wire_ipv6 ip;
        assert_int_equal(wire_ipv6_parse(h->last, len, &ip), WIRE_OK);
        assert_int_equal(ip.next_header, WIRE_IPPROTO_UDP);
        o.src = synack_addr_v6(ip.src);
        o.dst = synack_addr_v6(ip.dst);
        o.udp = ip.payload;
        o.udp_len = ip.payload_len;
        assert_int_equal(wire_udp_parse6(o.udp, o.udp_len, ip.src, ip.dst, &o.d), WIRE_OK);
    } else {
        wire_ipv4 ip;
        assert_int_equal(wire_ipv4_parse(h->last, len, &ip), WIRE_OK);
        assert_int_equal(ip.proto, WIRE_IPPROTO_UDP);
        o.src = synack_addr_v4(ip.src);
        o.dst = synack_addr_v4(ip.dst);
        o.udp = ip.payload;
        o.udp_len = ip.payload_len;
        assert_int_equal(wire_udp_parse(o.udp, o.udp_len, ip.src, ip.dst, &o.d), WIRE_OK);
    }
    assert_int_equal(o.d.csum, expected_csum(&o.src, &o.dst, o.udp, o.udp_len));
    return o;
}

static synack_udp *bound(pkt_h *h, uint16_t port)
{
    synack_udp *u = synack_udp_open(h->s, h->family);
    assert_non_null(u);
    assert_int_equal(synack_udp_bind(u, NULL, port), 0);
    return u;
}

static synack_addr addr(const char *text)
{
    synack_addr a;
    assert_int_equal(synack_addr_parse(text, &a), 0);
    return a;
}

static void assert_addr(const synack_addr *got, const synack_addr *want)
{
    assert_true(synack_addr_equal(got, want));
}

/* An ICMP(v6) port unreachable from the peer about the datagram in h->last. */
static void peer_port_unreachable(pkt_h *h, size_t frame_len)
{
    uint8_t icmp[8 + 1280];
    size_t quote = frame_len < 1200 ? frame_len : 1200, n;
    if (pkt_ipv6(h)) {
        n = wire_icmpv6_emit_error(icmp, sizeof(icmp), h->peer.v6, h->us.v6,
                                   WIRE_ICMPV6_DEST_UNREACH, 4, 0, h->last, quote);
        assert_true(n > 0);
        pkt_send_ip(h, NULL, WIRE_IPPROTO_ICMPV6, icmp, n);
    } else {
        n = wire_icmp_emit_error(icmp, sizeof(icmp), WIRE_ICMP_DEST_UNREACH, 3, 0, h->last, quote);
        assert_true(n > 0);
        pkt_send_ip(h, NULL, WIRE_IPPROTO_ICMP, icmp, n);
    }
}

/* ------------------------------------------------------------ receive */

static void receive(pkt_h *h)
{
    synack_udp *u = bound(h, 53);
    pkt_send_udp(h, NULL, 40000, NULL, 53, "hello", 5);
    assert_int_equal(pkt_udp_events(h, u), SYNACK_EV_READABLE);
    assert_int_equal(synack_udp_readable(u), 5);
    char buf[16];
    synack_udp_meta m;
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), &m), 5);
    assert_memory_equal(buf, "hello", 5);
    assert_addr(&m.remote, &h->peer);
    assert_int_equal(m.remote_port, 40000);
    assert_addr(&m.local, &h->us);
    assert_int_equal(m.local_port, 53);
    assert_int_equal(m.full_len, 5);
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), &m), -EAGAIN);
    const synack_counters *c = synack_get_counters(h->s);
    assert_int_equal(pkt_ipv6(h) ? c->udp6_in_datagrams : c->udp_in_datagrams, 1);
    pkt_expect_none(h);
}

static void test_receive(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    receive(h);
}

static void test_receive6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    receive(h);
}

/* recvfrom's rule: what does not fit is discarded, full_len tells. */
static void test_truncated_read(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *u = bound(h, 53);
    pkt_send_udp(h, NULL, 40000, NULL, 53, "hello", 5);
    pkt_send_udp(h, NULL, 40000, NULL, 53, "", 0);
    char buf[3];
    synack_udp_meta m;
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), &m), 3);
    assert_memory_equal(buf, "hel", 3);
    assert_int_equal(m.full_len, 5);
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), &m), 0); /* the empty one */
    assert_int_equal(m.full_len, 0);
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), NULL), -EAGAIN);
}

/* ------------------------------------------------------------ send */

static void send_one(pkt_h *h)
{
    synack_udp *u = bound(h, 5000);
    synack_udp_meta to = {.remote = h->peer, .remote_port = 7};
    assert_int_equal(synack_udp_send(u, "data", 4, &to), 4);
    out_dgram o = pop_udp(h);
    assert_addr(&o.src, &h->us);
    assert_addr(&o.dst, &h->peer);
    assert_int_equal(o.d.sport, 5000);
    assert_int_equal(o.d.dport, 7);
    assert_int_equal(o.d.payload_len, 4);
    assert_memory_equal(o.d.payload, "data", 4);
    const synack_counters *c = synack_get_counters(h->s);
    assert_int_equal(pkt_ipv6(h) ? c->udp6_out_datagrams : c->udp_out_datagrams, 1);
    pkt_expect_none(h);
}

static void test_send(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    send_one(h);
}

static void test_send6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    send_one(h);
}

static void test_send_errors(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *u = synack_udp_open(h->s, SYNACK_AF_INET);
    static uint8_t big[65508];
    assert_int_equal(synack_udp_send(u, "x", 1, NULL), -EDESTADDRREQ);
    synack_udp_meta to = {.remote = h->peer, .remote_port = 7};
    assert_int_equal(synack_udp_send(u, big, sizeof(big), &to), -EMSGSIZE);
    synack_udp_meta far = {.remote = synack_addr_v4(0x08080808), .remote_port = 53};
    assert_int_equal(synack_udp_send(u, "x", 1, &far), -ENETUNREACH); /* no gateway */
    synack_udp_meta zero = {.remote = h->peer, .remote_port = 0};
    assert_int_equal(synack_udp_send(u, "x", 1, &zero), -EINVAL);
    pkt_expect_none(h);
    /* The largest goes, in fragments (RFC 791): 65515 bytes of IP payload,
     * 1480 a fragment. */
    assert_int_equal(synack_udp_send(u, big, 65507, &to), 65507);
    assert_int_equal(pkt_pending(h), (65507 + 8 + 1479) / 1480);
    assert_int_equal(synack_get_counters(h->s)->ip_frag_oks, 1);
    pkt_drain(h);
}

/* A datagram larger than the MTU goes in fragments; the peer's IPv6
 * reassembly gets it whole with the right checksum. */
static void test_send6_fragments(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_udp *u = bound(h, 5000);
    static uint8_t big[4000];
    synack_udp_meta to = {.remote = h->peer, .remote_port = 7};
    assert_int_equal(synack_udp_send(u, big, sizeof(big), &to), (ssize_t)sizeof(big));
    assert_int_equal(pkt_pending(h), 3);
    assert_int_equal(synack_get_counters(h->s)->ip6_frag_oks, 1);
    pkt_drain(h);
}

/* ------------------------------------------------------------ checksums */

static void bad_checksum(pkt_h *h, bool zero)
{
    synack_udp *u = bound(h, 53);
    uint8_t d[13];
    wire_udp_emit_header(d, sizeof(d), 40000, 53, 5);
    memcpy(d + 8, "hello", 5);
    if (pkt_ipv6(h))
        wire_udp_set_checksum6(d, sizeof(d), h->peer.v6, h->us.v6);
    else
        wire_udp_set_checksum(d, sizeof(d), h->peer.v4, h->us.v4);
    if (zero)
        d[6] = d[7] = 0;
    else
        d[7] ^= 1;
    pkt_send_ip(h, NULL, WIRE_IPPROTO_UDP, d, sizeof(d));
    assert_int_equal(synack_udp_readable(u), 0);
    pkt_expect_none(h);
}

static void test_bad_checksum(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    bad_checksum(h, false);
    assert_int_equal(pkt_counter(h, udp_in_csum_errors), 1);
    assert_int_equal(pkt_counter(h, udp_in_errors), 1);
    assert_int_equal(pkt_counter(h, udp_in_datagrams), 0);
}

static void test_bad_checksum6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    bad_checksum(h, false);
    assert_int_equal(pkt_counter(h, udp6_in_csum_errors), 1);
    assert_int_equal(pkt_counter(h, udp6_in_errors), 1);
}

/* RFC 768: 0 means "no checksum" over IPv4; RFC 8200 §8.1 forbids it over IPv6. */
static void test_zero_checksum(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *u = bound(h, 53);
    uint8_t d[13];
    wire_udp_emit_header(d, sizeof(d), 40000, 53, 5);
    memcpy(d + 8, "hello", 5);
    pkt_send_ip(h, NULL, WIRE_IPPROTO_UDP, d, sizeof(d));
    assert_int_equal(synack_udp_readable(u), 5);
    assert_int_equal(pkt_counter(h, udp_in_csum_errors), 0);
}

static void test_zero_checksum6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    bad_checksum(h, true);
    assert_int_equal(pkt_counter(h, udp6_in_csum_errors), 1);
}

static void test_bad_length(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *u = bound(h, 53);
    uint8_t d[13];
    wire_udp_emit_header(d, sizeof(d), 40000, 53, 9); /* says 17 bytes, has 13 */
    pkt_send_ip(h, NULL, WIRE_IPPROTO_UDP, d, sizeof(d));
    assert_int_equal(synack_udp_readable(u), 0);
    assert_int_equal(pkt_counter(h, udp_in_errors), 1);
    assert_int_equal(pkt_counter(h, udp_in_csum_errors), 0);
    pkt_expect_none(h);
}

/* ------------------------------------------------------------ no socket */

static void test_port_unreachable(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    pkt_send_udp(h, NULL, 40000, NULL, 9999, "hello", 5);
    assert_int_equal(pkt_counter(h, udp_no_ports), 1);
    size_t len = pkt_pop(h);
    wire_ipv4 ip;
    wire_icmp m;
    wire_icmp_quote q;
    assert_int_equal(wire_ipv4_parse(h->last, len, &ip), WIRE_OK);
    assert_int_equal(ip.proto, WIRE_IPPROTO_ICMP);
    assert_int_equal(ip.src, PKT_US);
    assert_int_equal(ip.dst, PKT_PEER);
    assert_int_equal(wire_icmp_parse(ip.payload, ip.payload_len, &m), WIRE_OK);
    assert_int_equal(m.type, 3);
    assert_int_equal(m.code, 3);
    /* RFC 1122 §4.1.3.1 / RFC 792: the header and at least 8 bytes. */
    assert_true(m.data_len >= WIRE_IPV4_HDR_LEN + 8);
    assert_int_equal(wire_icmp_parse_quote(&m, &q), WIRE_OK);
    assert_int_equal(q.src, PKT_PEER);
    assert_int_equal(q.dst, PKT_US);
    assert_int_equal(q.proto, WIRE_IPPROTO_UDP);
    assert_int_equal(q.sport, 40000);
    assert_int_equal(q.dport, 9999);
    assert_int_equal(pkt_counter(h, icmp_out_dest_unreachs), 1);
    pkt_expect_none(h);
}

static void test_port_unreachable6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    pkt_send_udp(h, NULL, 40000, NULL, 9999, "hello", 5);
    assert_int_equal(pkt_counter(h, udp6_no_ports), 1);
    size_t len = pkt_pop(h);
    wire_ipv6 ip;
    wire_icmpv6 m;
    wire_icmpv6_quote q;
    assert_int_equal(wire_ipv6_parse(h->last, len, &ip), WIRE_OK);
    assert_int_equal(ip.next_header, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMPV6_DEST_UNREACH);
    assert_int_equal(m.code, 4);
    assert_int_equal(wire_icmpv6_parse_quote(&m, &q), WIRE_OK);
    assert_int_equal(q.next_header, WIRE_IPPROTO_UDP);
    assert_int_equal(q.dport, 9999);
    assert_int_equal(pkt_counter(h, icmp6_out_dest_unreachs), 1);
    pkt_expect_none(h);
}

/* No error about a broadcast (RFC 1122 §3.2.2), even with a transparent
 * socket covering every address: a broadcast is nobody's. */
static void test_no_unreachable_for_broadcast(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *t = synack_udp_open(h->s, SYNACK_AF_INET);
    synack_addr all = synack_addr_v4(0);
    assert_int_equal(synack_udp_bind_any(t, &all, 0, 1, 100), 0);
    synack_addr bcast = synack_addr_v4(0xffffffffu), subnet = synack_addr_v4(0x0a0000ffu);
    pkt_send_udp(h, NULL, 40000, &bcast, 9999, "x", 1);
    pkt_send_udp(h, NULL, 40000, &subnet, 53, "x", 1);
    synack_addr group = synack_addr_v4(0xe0000001u);
    pkt_send_udp(h, NULL, 40000, &group, 53, "x", 1);
    assert_int_equal(synack_udp_readable(t), 0);
    assert_int_equal(pkt_counter(h, ip_in_addr_errors), 3);
    assert_int_equal(pkt_counter(h, icmp_out_dest_unreachs), 0);
    pkt_expect_none(h);
}

static void test_unreachable_rate_limited(void **state)
{
    pkt_h *h = *state = pkt_new_family("icmp_msgs_burst=2", SYNACK_AF_INET);
    for (int i = 0; i < 4; i++)
        pkt_send_udp(h, NULL, 40000, NULL, 9999, "x", 1);
    assert_int_equal(pkt_counter(h, udp_no_ports), 4);
    assert_int_equal(pkt_pending(h), 2);
    assert_int_equal(pkt_counter(h, icmp_out_rate_limited), 2);
    pkt_drain(h);
}

/* ------------------------------------------------------------ connected */

static void test_connected_takes_only_its_peer(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *u = bound(h, 6000);
    assert_int_equal(synack_udp_connect(u, &h->peer, 7), 0);
    synack_addr other = synack_addr_v4(OTHER_HOST);
    pkt_send_udp(h, NULL, 8, NULL, 6000, "a", 1);        /* the peer, another port */
    pkt_send_udp(h, &other, 7, NULL, 6000, "b", 1);      /* another host */
    assert_int_equal(synack_udp_readable(u), 0);
    assert_int_equal(pkt_counter(h, udp_no_ports), 2);
    pkt_drain(h); /* their port unreachables */
    pkt_send_udp(h, NULL, 7, NULL, 6000, "c", 1);
    char buf[4];
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), NULL), 1);
    assert_int_equal(buf[0], 'c');
    /* send without an address goes to the peer */
    assert_int_equal(synack_udp_send(u, "r", 1, NULL), 1);
    out_dgram o = pop_udp(h);
    assert_int_equal(o.d.sport, 6000);
    assert_int_equal(o.d.dport, 7);
    /* disconnected, it takes anyone again */
    assert_int_equal(synack_udp_connect(u, NULL, 0), 0);
    pkt_send_udp(h, &other, 7, NULL, 6000, "d", 1);
    assert_int_equal(synack_udp_readable(u), 1);
    assert_int_equal(synack_udp_send(u, "r", 1, NULL), -EDESTADDRREQ);
}

/* connect autobinds an ephemeral port. */
static void test_connect_autobinds(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *u = synack_udp_open(h->s, SYNACK_AF_INET);
    assert_int_equal(synack_udp_connect(u, &h->peer, 7), 0);
    uint16_t port;
    synack_udp_local(u, NULL, &port);
    assert_true(port >= 32768 && port <= 60999);
    assert_int_equal(synack_udp_send(u, "q", 1, NULL), 1);
    assert_int_equal(pop_udp(h).d.sport, port);
}

static void icmp_refused(pkt_h *h, bool connect)
{
    synack_udp *u = synack_udp_open(h->s, h->family);
    synack_udp_meta to = {.remote = h->peer, .remote_port = 7};
    if (connect)
        assert_int_equal(synack_udp_connect(u, &h->peer, 7), 0);
    assert_int_equal(synack_udp_send(u, "q", 1, connect ? NULL : &to), 1);
    size_t len = pkt_pop(h);
    pkt_udp_events(h, u);
    peer_port_unreachable(h, len);
    pkt_expect_none(h);
    char buf[4];
    if (!connect) {
        assert_int_equal(pkt_udp_events(h, u), 0);
        assert_int_equal(synack_udp_error(u), 0);
        assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), NULL), -EAGAIN);
        return;
    }
    assert_int_equal(pkt_udp_events(h, u), SYNACK_EV_ERROR);
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), NULL), -ECONNREFUSED);
    assert_int_equal(synack_udp_error(u), 0); /* read once */
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), NULL), -EAGAIN);
}

static void test_icmp_refused_connected(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    icmp_refused(h, true);
}

static void test_icmp_refused_connected6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    icmp_refused(h, true);
}

static void test_icmp_ignored_unconnected(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    icmp_refused(h, false);
}

static void test_icmp_ignored_unconnected6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    icmp_refused(h, false);
}

/* ------------------------------------------------------------ transparent */

static void transparent(pkt_h *h, const synack_addr *prefix, uint8_t plen,
                        const synack_addr *far)
{
    synack_udp *t = synack_udp_open(h->s, h->family);
    assert_int_equal(synack_udp_bind_any(t, prefix, plen, 53, 53), 0);
    synack_udp *mine = bound(h, 53); /* on our own address: more specific */
    pkt_send_udp(h, NULL, 40000, far, 53, "query", 5);
    pkt_send_udp(h, NULL, 40001, NULL, 53, "local", 5);
    assert_int_equal(pkt_udp_events(h, t), SYNACK_EV_READABLE);
    char buf[16];
    synack_udp_meta m;
    assert_int_equal(synack_udp_recv(t, buf, sizeof(buf), &m), 5);
    assert_memory_equal(buf, "query", 5);
    assert_addr(&m.local, far);
    assert_int_equal(m.local_port, 53);
    assert_addr(&m.remote, &h->peer);
    assert_int_equal(m.remote_port, 40000);
    assert_int_equal(synack_udp_recv(t, buf, sizeof(buf), NULL), -EAGAIN);
    assert_int_equal(synack_udp_recv(mine, buf, sizeof(buf), NULL), 5);
    assert_memory_equal(buf, "local", 5);
    /* The answer comes from the address and port asked. */
    synack_udp_meta reply = {.remote = m.remote, .remote_port = m.remote_port,
                             .local = m.local, .local_port = m.local_port};
    assert_int_equal(synack_udp_send(t, "answer", 6, &reply), 6);
    out_dgram o = pop_udp(h);
    assert_addr(&o.src, far);
    assert_addr(&o.dst, &h->peer);
    assert_int_equal(o.d.sport, 53);
    assert_int_equal(o.d.dport, 40000);
    /* Not from outside its prefix. */
    reply.local = h->us;
    if (plen > 0)
        assert_int_equal(synack_udp_send(t, "x", 1, &reply), -EINVAL);
    pkt_expect_none(h);
}

static void test_transparent(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_addr prefix = synack_addr_v4(0x5db8d800u), far = synack_addr_v4(NOT_OURS);
    transparent(h, &prefix, 24, &far);
}

static void test_transparent6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_addr prefix = addr("2001:db8::"), far = addr("2001:db8::53");
    transparent(h, &prefix, 32, &far);
}

/* A connected transparent socket takes only its peer's datagrams: from
 * anyone else they go to the next transparent socket that covers them, as
 * if it were not there (a relay's flow for one client beside its NAT). */
static void test_transparent_connected_takes_only_its_peer(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_addr all = synack_addr_v4(0), far = synack_addr_v4(NOT_OURS),
                other = synack_addr_v4(OTHER_HOST);
    synack_udp *nat = synack_udp_open(h->s, SYNACK_AF_INET);
    synack_udp *flow = synack_udp_open(h->s, SYNACK_AF_INET);
    assert_int_equal(synack_udp_bind_any(nat, &all, 0, 1, 65535), 0);
    assert_int_equal(synack_udp_bind_any(flow, &far, 32, 5555, 5555), 0);
    assert_int_equal(synack_udp_connect(flow, &h->peer, 53), 0);
    pkt_send_udp(h, NULL, 53, &far, 5555, "mine", 4);      /* its peer */
    pkt_send_udp(h, NULL, 54, &far, 5555, "port", 4);      /* the peer, another port */
    pkt_send_udp(h, &other, 53, &far, 5555, "host", 4);    /* another host */
    char buf[8];
    synack_udp_meta m;
    assert_int_equal(synack_udp_recv(flow, buf, sizeof(buf), NULL), 4);
    assert_memory_equal(buf, "mine", 4);
    assert_int_equal(synack_udp_recv(flow, buf, sizeof(buf), NULL), -EAGAIN);
    assert_int_equal(synack_udp_recv(nat, buf, sizeof(buf), &m), 4);
    assert_memory_equal(buf, "port", 4);
    assert_int_equal(synack_udp_recv(nat, buf, sizeof(buf), &m), 4);
    assert_memory_equal(buf, "host", 4);
    assert_addr(&m.local, &far);
    /* A send still names its source; without one it is refused. */
    synack_udp_meta via = {.remote = h->peer, .remote_port = 53, .local = far, .local_port = 5555};
    assert_int_equal(synack_udp_send(flow, "q", 1, &via), 1);
    out_dgram o = pop_udp(h);
    assert_addr(&o.src, &far);
    assert_int_equal(o.d.sport, 5555);
    assert_int_equal(synack_udp_send(flow, "q", 1, NULL), -EINVAL);
    /* Disconnected, it takes everyone's again. */
    assert_int_equal(synack_udp_connect(flow, NULL, 0), 0);
    pkt_send_udp(h, &other, 53, &far, 5555, "any", 3);
    assert_int_equal(synack_udp_recv(flow, buf, sizeof(buf), NULL), 3);
    pkt_expect_none(h);
}

/* A relay that could not deliver a datagram tells its sender so: port
 * unreachable from the address the datagram was sent to, quoting it; host
 * unreachable from our own address, as a router. */
static void expect_unreach_about(pkt_h *h, uint32_t from, uint8_t code, uint32_t dst)
{
    size_t len = pkt_pop(h);
    wire_ipv4 ip;
    wire_icmp m;
    wire_icmp_quote q;
    assert_int_equal(wire_ipv4_parse(h->last, len, &ip), WIRE_OK);
    assert_int_equal(ip.proto, WIRE_IPPROTO_ICMP);
    assert_int_equal(ip.src, from);
    assert_int_equal(ip.dst, PKT_PEER);
    assert_int_equal(wire_icmp_parse(ip.payload, ip.payload_len, &m), WIRE_OK);
    assert_int_equal(m.type, 3);
    assert_int_equal(m.code, code);
    assert_int_equal(wire_icmp_parse_quote(&m, &q), WIRE_OK);
    assert_int_equal(q.src, PKT_PEER);
    assert_int_equal(q.dst, dst);
    assert_int_equal(q.proto, WIRE_IPPROTO_UDP);
    assert_int_equal(q.sport, 40000);
    assert_int_equal(q.dport, 53);
}

static void test_transparent_unreachable(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_addr prefix = synack_addr_v4(0), far = synack_addr_v4(NOT_OURS);
    synack_udp *t = synack_udp_open(h->s, SYNACK_AF_INET);
    assert_int_equal(synack_udp_bind_any(t, &prefix, 0, 1, 65535), 0);
    pkt_send_udp(h, NULL, 40000, &far, 53, "query", 5);
    char buf[16];
    synack_udp_meta m;
    assert_int_equal(synack_udp_recv(t, buf, sizeof(buf), &m), 5);
    assert_int_equal(synack_udp_unreachable(t, &m, 3), 0);
    expect_unreach_about(h, NOT_OURS, 3, NOT_OURS);
    assert_int_equal(synack_udp_unreachable(t, &m, 1), 0);
    expect_unreach_about(h, PKT_US, 1, NOT_OURS);
    assert_int_equal(pkt_counter(h, icmp_out_dest_unreachs), 2);
    assert_int_equal(synack_udp_unreachable(t, &m, 16), -EINVAL);
    pkt_expect_none(h);
}

/* The same over IPv6: the exact ICMPv6 message, byte for byte. Port
 * unreachable (code 4) comes from the address the datagram went to; the
 * router kinds from our own address; the quote is the datagram's IPv6 and
 * UDP headers rebuilt (its length; checksum 0: the payload is not there). */
static void expect_unreach6(pkt_h *h, const synack_addr *from, uint8_t code,
                            const synack_addr *dst)
{
    size_t len = pkt_pop(h);
    wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(h->last, len, &ip), WIRE_OK);
    assert_int_equal(ip.next_header, WIRE_IPPROTO_ICMPV6);
    synack_addr src = synack_addr_v6(ip.src), to = synack_addr_v6(ip.dst);
    assert_addr(&src, from);
    assert_addr(&to, &h->peer);
    uint8_t want[8 + 48] = {1, code, 0, 0, 0, 0, 0, 0, /* type, code, sum, unused */
                            0x60, 0, 0, 0, 0, 13, WIRE_IPPROTO_UDP, 64};
    memcpy(want + 16, h->peer.v6, 16);
    memcpy(want + 32, dst->v6, 16);
    const uint8_t udp[8] = {0x9c, 0x40, 0, 53, 0, 13, 0, 0}; /* 40000 -> 53, 8 + 5 bytes */
    memcpy(want + 48, udp, 8);
    /* RFC 4443 §2.3: the sum covers the pseudo-header (RFC 8200 §8.1). */
    uint8_t pseudo[40] = {0};
    memcpy(pseudo, from->v6, 16);
    memcpy(pseudo + 16, h->peer.v6, 16);
    wire_put32(pseudo + 32, sizeof want);
    pseudo[39] = WIRE_IPPROTO_ICMPV6;
    wire_put16(want + 2, ones_fold(ones_add(ones_add(0, pseudo, 40), want, sizeof want)));
    assert_int_equal(ip.payload_len, sizeof want);
    assert_memory_equal(ip.payload, want, sizeof want);
}

static void test_transparent_unreachable6(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_addr prefix = addr("::"), far = addr("2001:db8::53");
    synack_udp *t = synack_udp_open(h->s, SYNACK_AF_INET6);
    assert_int_equal(synack_udp_bind_any(t, &prefix, 0, 1, 65535), 0);
    pkt_send_udp(h, NULL, 40000, &far, 53, "query", 5);
    char buf[16];
    synack_udp_meta m;
    assert_int_equal(synack_udp_recv(t, buf, sizeof(buf), &m), 5);
    assert_int_equal(synack_udp_unreachable(t, &m, 3), 0);
    expect_unreach6(h, &far, 4, &far);
    assert_int_equal(synack_udp_unreachable(t, &m, 1), 0);
    expect_unreach6(h, &h->us, 3, &far);
    assert_int_equal(synack_udp_unreachable(t, &m, 0), 0);
    expect_unreach6(h, &h->us, 0, &far);
    assert_int_equal(synack_udp_unreachable(t, &m, 13), 0);
    expect_unreach6(h, &h->us, 1, &far);
    assert_int_equal(pkt_counter(h, icmp6_out_dest_unreachs), 4);
    assert_int_equal(pkt_counter(h, icmp_out_dest_unreachs), 0);
    /* No ICMPv6 destination unreachable says these: refused, nothing sent. */
    assert_int_equal(synack_udp_unreachable(t, &m, 2), -EINVAL);
    assert_int_equal(synack_udp_unreachable(t, &m, 4), -EINVAL);
    synack_udp_meta mixed = m;
    mixed.local = synack_addr_v4(NOT_OURS);
    assert_int_equal(synack_udp_unreachable(t, &mixed, 3), -EINVAL);
    pkt_expect_none(h);
}

/* The ICMP rate limit holds for them too (a relay must not become a
 * reflector): beyond the burst nothing goes, and it is counted. */
static void test_transparent_unreachable6_rate_limited(void **state)
{
    pkt_h *h = *state = pkt_new_family("icmp_msgs_burst=2", SYNACK_AF_INET6);
    synack_addr prefix = addr("::"), far = addr("2001:db8::53");
    synack_udp *t = synack_udp_open(h->s, SYNACK_AF_INET6);
    assert_int_equal(synack_udp_bind_any(t, &prefix, 0, 1, 65535), 0);
    pkt_send_udp(h, NULL, 40000, &far, 53, "query", 5);
    char buf[16];
    synack_udp_meta m;
    assert_int_equal(synack_udp_recv(t, buf, sizeof(buf), &m), 5);
    for (int i = 0; i < 4; i++)
        assert_int_equal(synack_udp_unreachable(t, &m, 3), 0);
    assert_int_equal(pkt_pending(h), 2);
    assert_int_equal(pkt_counter(h, icmp6_out_dest_unreachs), 2);
    assert_int_equal(pkt_counter(h, icmp_out_rate_limited), 2);
    pkt_drain(h);
}

/* Another port, or no transparent socket: dropped as before, silently. */
static void test_not_ours_dropped(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_addr far = synack_addr_v4(NOT_OURS);
    pkt_send_udp(h, NULL, 40000, &far, 53, "query", 5);
    assert_int_equal(pkt_counter(h, ip_in_addr_errors), 1);
    synack_udp *t = synack_udp_open(h->s, SYNACK_AF_INET);
    synack_addr prefix = synack_addr_v4(0x5db8d800u);
    assert_int_equal(synack_udp_bind_any(t, &prefix, 24, 53, 53), 0);
    pkt_send_udp(h, NULL, 40000, &far, 54, "query", 5);
    synack_addr outside = synack_addr_v4(0x5db8d922u);
    pkt_send_udp(h, NULL, 40000, &outside, 53, "query", 5);
    assert_int_equal(pkt_counter(h, ip_in_addr_errors), 3);
    assert_int_equal(pkt_counter(h, udp_no_ports), 0);
    assert_int_equal(synack_udp_readable(t), 0);
    pkt_expect_none(h);
}

static void test_transparent_most_specific(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *wide = synack_udp_open(h->s, SYNACK_AF_INET);
    synack_udp *narrow = synack_udp_open(h->s, SYNACK_AF_INET);
    synack_udp *dup = synack_udp_open(h->s, SYNACK_AF_INET);
    synack_addr all = synack_addr_v4(0), net = synack_addr_v4(0x5db8d800u);
    assert_int_equal(synack_udp_bind_any(wide, &all, 0, 1, 65535), 0);
    assert_int_equal(synack_udp_bind_any(narrow, &net, 24, 1, 65535), 0);
    assert_int_equal(synack_udp_bind_any(dup, &net, 24, 53, 53), -EADDRINUSE);
    synack_addr far = synack_addr_v4(NOT_OURS), other = synack_addr_v4(0x01010101u);
    pkt_send_udp(h, NULL, 40000, &far, 53, "a", 1);
    pkt_send_udp(h, NULL, 40000, &other, 53, "b", 1);
    assert_int_equal(synack_udp_readable(narrow), 1);
    assert_int_equal(synack_udp_readable(wide), 1);
    char c;
    assert_int_equal(synack_udp_recv(narrow, &c, 1, NULL), 1);
    assert_int_equal(c, 'a');
}

/* ------------------------------------------------------------ limits */

static void test_rcvbuf_overflow(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_udp *u = bound(h, 53);
    int v;
    assert_int_equal(synack_udp_getopt(u, SYNACK_UDP_RCVBUF, &v), 0);
    assert_int_equal(v, 212992);
    assert_int_equal(synack_udp_setopt(u, SYNACK_UDP_RCVBUF, 1200), 0);
    assert_int_equal(synack_udp_setopt(u, 99, 1), -ENOPROTOOPT);
    static uint8_t d[300];
    /* Each is charged 300 + 256: two fit in 1200, the third does not. */
    for (int i = 0; i < 4; i++)
        pkt_send_udp(h, NULL, 40000, NULL, 53, d, sizeof(d));
    assert_int_equal(pkt_counter(h, udp_rcvbuf_errors), 2);
    assert_int_equal(pkt_counter(h, udp_in_errors), 2);
    assert_int_equal(pkt_counter(h, udp_in_datagrams), 2);
    uint8_t buf[400];
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), NULL), 300);
    pkt_send_udp(h, NULL, 40000, NULL, 53, d, sizeof(d)); /* room again */
    assert_int_equal(pkt_counter(h, udp_in_datagrams), 3);
    /* Tiny datagrams are charged the overhead: at most 1200 / 256 of them. */
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), NULL), 300);
    assert_int_equal(synack_udp_recv(u, buf, sizeof(buf), NULL), 300);
    for (int i = 0; i < 10; i++)
        pkt_send_udp(h, NULL, 40000, NULL, 53, "", 0);
    assert_int_equal(pkt_counter(h, udp_in_datagrams), 3 + 1200 / 256);
    pkt_expect_none(h);
    /* The stack frees what is still queued (ASan watches). */
}

static void test_bind_conflicts(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET6);
    synack_udp *a = bound(h, 53);
    synack_udp *b = synack_udp_open(h->s, SYNACK_AF_INET6);
    synack_udp *c = synack_udp_open(h->s, SYNACK_AF_INET);
    assert_int_equal(synack_udp_bind(b, NULL, 53), -EADDRINUSE);
    assert_int_equal(synack_udp_bind(b, &h->us, 53), -EADDRINUSE);
    synack_addr not_ours = addr("fd00::99");
    assert_int_equal(synack_udp_bind(b, &not_ours, 54), -EADDRNOTAVAIL);
    assert_int_equal(synack_udp_bind(b, &h->peer, 54), -EADDRNOTAVAIL);
    synack_addr v4 = synack_addr_v4(PKT_US);
    assert_int_equal(synack_udp_bind(b, &v4, 54), -EINVAL); /* wrong family */
    assert_int_equal(synack_udp_bind(c, &v4, 53), 0);     /* another family */
    assert_int_equal(synack_udp_bind(c, NULL, 54), -EINVAL); /* bound already */
    synack_udp_close(a);
    assert_int_equal(synack_udp_bind(b, &h->us, 53), 0);  /* freed by close */
    synack_udp *d = synack_udp_open(h->s, SYNACK_AF_INET6);
    assert_int_equal(synack_udp_bind(d, NULL, 53), -EADDRINUSE);
    assert_null(synack_udp_open(h->s, 5));
}

static void test_ephemeral_ports(void **state)
{
    pkt_h *h = *state = pkt_new_family("ip_local_port_range=5000,5039", SYNACK_AF_INET);
    uint8_t seen[40] = {0};
    for (int i = 0; i < 40; i++) {
        synack_udp *u = bound(h, 0);
        uint16_t port;
        synack_udp_local(u, NULL, &port);
        assert_true(port >= 5000 && port <= 5039);
        assert_int_equal(seen[port - 5000], 0);
        seen[port - 5000] = 1;
    }
    synack_udp *u = synack_udp_open(h->s, SYNACK_AF_INET);
    assert_int_equal(synack_udp_bind(u, NULL, 0), -EADDRINUSE);
    synack_udp_meta to = {.remote = h->peer, .remote_port = 7};
    assert_int_equal(synack_udp_send(u, "x", 1, &to), -EADDRINUSE);
}

/* An event handler may close the socket it is told about. */
static synack_udp *closed_in_handler;
static void close_on_event(void *ctx, synack_udp *u, unsigned events)
{
    (void)ctx;
    (void)events;
    closed_in_handler = u;
    synack_udp_close(u);
}

static void test_close_from_handler(void **state)
{
    pkt_h *h = *state = pkt_new_family(NULL, SYNACK_AF_INET);
    synack_stack_free(h->s);
    h->cfg.udp_event = close_on_event;
    h->s = synack_stack_new(&h->cfg, h->now);
    assert_non_null(h->s);
    synack_udp *u = bound(h, 53);
    synack_udp *v = bound(h, 54);
    pkt_send_udp(h, NULL, 40000, NULL, 53, "a", 1);
    assert_ptr_equal(closed_in_handler, u);
    pkt_send_udp(h, NULL, 40000, NULL, 53, "b", 1); /* the port is free again */
    assert_int_equal(pkt_counter(h, udp_no_ports), 1);
    pkt_drain(h);
    (void)v;
}

/* ------------------------------------------------------------ two stacks */

static void ml_random(void *ctx, void *buf, size_t len)
{
    uint64_t *x = ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        *x = *x * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (uint8_t)(*x >> 56);
    }
}

/* A frame from A's MAC to `dst_mac` carrying UDP from A to B:9999. */
static size_t frame_to_b(uint8_t *f, size_t cap, const uint8_t dst_mac[6])
{
    static const uint8_t a_mac[6] = {2, 0, 0, 0, 0, 1};
    size_t e = wire_eth_emit(f, cap, dst_mac, a_mac, WIRE_ETHERTYPE_IPV4);
    uint8_t *udp = f + e + WIRE_IPV4_HDR_LEN;
    wire_udp_emit_header(udp, 8, 40000, 9999, 1);
    udp[8] = 'x';
    wire_udp_set_checksum(udp, 9, 0x0a000001, 0x0a000002);
    wire_ipv4_emit(f + e, WIRE_IPV4_HDR_LEN, 0x0a000001, 0x0a000002, WIRE_IPPROTO_UDP, 64, 9, 9);
    return e + WIRE_IPV4_HDR_LEN + 9;
}

/* Two stacks on an in-memory Ethernet link (ARP resolved on the way, the
 * datagram waiting for it) exchange a datagram in fragments and a reply;
 * a port unreachable answers a unicast frame but not a broadcast one. */
static void test_two_stacks(void **state)
{
    (void)state;
    static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    const uint32_t ip[2] = {0x0a000001, 0x0a000002};
    uint64_t rng[2] = {1, 2}, now = PKT_T0; /* a second in: the ICMP bucket has tokens */
    memlink *m = memlink_new(0);
    assert_non_null(m);
    synack_stack *st[2];
    for (int i = 0; i < 2; i++) {
        synack_config cfg;
        synack_config_init(&cfg);
        memcpy(cfg.mac, mac[i], 6);
        cfg.ip = ip[i];
        cfg.random = ml_random;
        cfg.random_ctx = &rng[i];
        memlink_config(m, i, &cfg);
        st[i] = synack_stack_new(&cfg, now);
        assert_non_null(st[i]);
        memlink_attach(m, i, st[i]);
    }
    synack_udp *a = synack_udp_open(st[0], SYNACK_AF_INET);
    synack_udp *b = synack_udp_open(st[1], SYNACK_AF_INET);
    assert_int_equal(synack_udp_bind(b, NULL, 53), 0);
    static uint8_t big[3000], got[4000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 7);
    synack_udp_meta to = {.remote = synack_addr_v4(ip[1]), .remote_port = 53}, from;
    assert_int_equal(synack_udp_send(a, big, sizeof(big), &to), (ssize_t)sizeof(big));
    memlink_drain(m, now += 1000, 0);
    assert_int_equal(synack_udp_recv(b, got, sizeof(got), &from), (ssize_t)sizeof(big));
    assert_memory_equal(got, big, sizeof(big));
    assert_int_equal(synack_get_counters(st[1])->ip_reasm_oks, 1);
    assert_int_equal(synack_udp_send(b, "pong", 4, &(synack_udp_meta){.remote = from.remote,
                                                    .remote_port = from.remote_port}), 4);
    memlink_drain(m, now += 1000, 0);
    assert_int_equal(synack_udp_recv(a, got, sizeof(got), NULL), 4);
    assert_memory_equal(got, "pong", 4);
    /* RFC 1122 §3.2.2: no ICMP error about a link-layer broadcast. */
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t f[128];
    synack_input(st[1], f, frame_to_b(f, sizeof(f), bcast), now += 1000);
    assert_int_equal(synack_get_counters(st[1])->udp_no_ports, 1);
    assert_int_equal(synack_get_counters(st[1])->icmp_out_dest_unreachs, 0);
    synack_input(st[1], f, frame_to_b(f, sizeof(f), mac[1]), now += 1000);
    assert_int_equal(synack_get_counters(st[1])->udp_no_ports, 2);
    assert_int_equal(synack_get_counters(st[1])->icmp_out_dest_unreachs, 1);
    synack_stack_free(st[0]);
    synack_stack_free(st[1]);
    memlink_free(m);
}

/* The largest datagram of each family crosses between two stacks in
 * fragments and arrives whole: 65507 bytes over IPv4 (65535 - 20 - 8),
 * 65527 over IPv6 (a Payload Length of 65535 holds the UDP header too; the
 * fragment headers are not part of it). The neighbour is not resolved
 * yet: all the fragments wait for it (the queue holds 208 KiB). */
static void test_largest_datagrams(void **state)
{
    (void)state;
    static const uint8_t mac[2][6] = {{2, 0, 0, 0, 0, 1}, {2, 0, 0, 0, 0, 2}};
    const uint32_t ip[2] = {0x0a000001, 0x0a000002};
    uint64_t rng[2] = {1, 2}, now = PKT_T0;
    memlink *m = memlink_new(0);
    assert_non_null(m);
    synack_stack *st[2];
    synack_addr a6[2];
    for (int i = 0; i < 2; i++) {
        synack_config cfg;
        synack_config_init(&cfg);
        memcpy(cfg.mac, mac[i], 6);
        cfg.ip = ip[i];
        assert_int_equal(synack_addr_parse(i ? "fd00::2" : "fd00::1", &a6[i]), 0);
        memcpy(cfg.ip6, a6[i].v6, 16);
        cfg.prefix6_len = 64;
        assert_int_equal(synack_config_set(&cfg, "net.ipv6.conf.all.dad_transmits", "0"), 0);
        cfg.random = ml_random;
        cfg.random_ctx = &rng[i];
        memlink_config(m, i, &cfg);
        st[i] = synack_stack_new(&cfg, now);
        assert_non_null(st[i]);
        memlink_attach(m, i, st[i]);
    }
    static uint8_t big[65527], got[65600];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 13 + (i >> 9));
    for (int v6 = 0; v6 < 2; v6++) {
        int fam = v6 ? SYNACK_AF_INET6 : SYNACK_AF_INET;
        size_t max = v6 ? 65527 : 65507;
        synack_udp *a = synack_udp_open(st[0], fam);
        synack_udp *b = synack_udp_open(st[1], fam);
        assert_int_equal(synack_udp_bind(b, NULL, 53), 0);
        assert_int_equal(synack_udp_setopt(b, SYNACK_UDP_RCVBUF, 1 << 20), 0);
        synack_udp_meta to = {.remote = v6 ? a6[1] : synack_addr_v4(ip[1]), .remote_port = 53};
        assert_int_equal(synack_udp_send(a, big, max + 1, &to), -EMSGSIZE);
        assert_int_equal(synack_udp_send(a, big, max, &to), (ssize_t)max);
        memlink_drain(m, now += 1000000, 0);
        assert_int_equal(synack_udp_recv(b, got, sizeof(got), NULL), (ssize_t)max);
        assert_memory_equal(got, big, max);
        synack_udp_close(a);
        synack_udp_close(b);
    }
    synack_stack_free(st[0]);
    synack_stack_free(st[1]);
    memlink_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_receive, pkt_teardown),
        cmocka_unit_test_teardown(test_receive6, pkt_teardown),
        cmocka_unit_test_teardown(test_truncated_read, pkt_teardown),
        cmocka_unit_test_teardown(test_send, pkt_teardown),
        cmocka_unit_test_teardown(test_send6, pkt_teardown),
        cmocka_unit_test_teardown(test_send_errors, pkt_teardown),
        cmocka_unit_test_teardown(test_send6_fragments, pkt_teardown),
        cmocka_unit_test_teardown(test_bad_checksum, pkt_teardown),
        cmocka_unit_test_teardown(test_bad_checksum6, pkt_teardown),
        cmocka_unit_test_teardown(test_zero_checksum, pkt_teardown),
        cmocka_unit_test_teardown(test_zero_checksum6, pkt_teardown),
        cmocka_unit_test_teardown(test_bad_length, pkt_teardown),
        cmocka_unit_test_teardown(test_port_unreachable, pkt_teardown),
        cmocka_unit_test_teardown(test_port_unreachable6, pkt_teardown),
        cmocka_unit_test_teardown(test_no_unreachable_for_broadcast, pkt_teardown),
        cmocka_unit_test_teardown(test_unreachable_rate_limited, pkt_teardown),
        cmocka_unit_test_teardown(test_connected_takes_only_its_peer, pkt_teardown),
        cmocka_unit_test_teardown(test_connect_autobinds, pkt_teardown),
        cmocka_unit_test_teardown(test_icmp_refused_connected, pkt_teardown),
        cmocka_unit_test_teardown(test_icmp_refused_connected6, pkt_teardown),
        cmocka_unit_test_teardown(test_icmp_ignored_unconnected, pkt_teardown),
        cmocka_unit_test_teardown(test_icmp_ignored_unconnected6, pkt_teardown),
        cmocka_unit_test_teardown(test_transparent, pkt_teardown),
        cmocka_unit_test_teardown(test_transparent_unreachable, pkt_teardown),
        cmocka_unit_test_teardown(test_transparent_unreachable6, pkt_teardown),
        cmocka_unit_test_teardown(test_transparent_unreachable6_rate_limited, pkt_teardown),
        cmocka_unit_test_teardown(test_transparent6, pkt_teardown),
        cmocka_unit_test_teardown(test_transparent_connected_takes_only_its_peer, pkt_teardown),
        cmocka_unit_test_teardown(test_not_ours_dropped, pkt_teardown),
        cmocka_unit_test_teardown(test_transparent_most_specific, pkt_teardown),
        cmocka_unit_test_teardown(test_rcvbuf_overflow, pkt_teardown),
        cmocka_unit_test_teardown(test_bind_conflicts, pkt_teardown),
        cmocka_unit_test_teardown(test_ephemeral_ports, pkt_teardown),
        cmocka_unit_test_teardown(test_close_from_handler, pkt_teardown),
        cmocka_unit_test(test_two_stacks),
        cmocka_unit_test(test_largest_datagrams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
