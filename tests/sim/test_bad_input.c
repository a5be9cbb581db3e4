/*
 * test_bad_input.c — malformed frames are dropped and counted by reason,
 * and never disturb a live connection.
 *
 * Two hosts hold an established connection in the simulator. Each test
 * feeds the server's stack one bad frame directly and asserts that exactly
 * the expected counters moved (besides the "frame seen" counters), that
 * nothing was sent in reply, and that the connection still carries data
 * correctly afterwards.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "sim/sim.h"
#include "wire/wire.h"

#define CLIENT_IP 0x0a000001u
#define SERVER_IP 0x0a000002u

typedef struct fixture {
    sim *s;
    sim_host *client, *server;
    synack_sock *listener, *c, *a;
    uint64_t server_out; /* frames the server has put on the link */
} fixture;

static void count_out(void *ctx, const sim_trace *t)
{
    fixture *f = ctx;
    if (t->kind == SIM_TRACE_LINK && t->link_event == SIM_LINK_SEND && t->host == f->server)
        f->server_out++;
}

static int not_accepted(void *ctx)
{
    fixture *f = ctx;
    if (!f->a)
        f->a = synack_accept(f->listener, NULL);
    return f->a == NULL;
}

static int setup(void **state)
{
    static fixture f;
    memset(&f, 0, sizeof(f));
    f.s = sim_new(7);
    f.client = sim_add_host(f.s, "client", CLIENT_IP, NULL);
    f.server = sim_add_host(f.s, "server", SERVER_IP, NULL);
    sim_link(f.s, f.client, f.server, NULL, NULL);
    sim_set_trace(f.s, count_out, &f);
    f.listener = synack_socket(sim_host_stack(f.server));
    synack_bind(f.listener, 80);
    synack_listen(f.listener, 4);
    f.c = synack_socket(sim_host_stack(f.client));
    synack_connect(f.c, SERVER_IP, 80);
    sim_run_while(f.s, not_accepted, &f, 5 * SIM_SEC);
    if (!f.a)
        return -1;
    sim_run_until(f.s, sim_now(f.s) + 100 * SIM_MS);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sim_free(f->s);
    return 0;
}

/* Build Ethernet + IPv4 + TCP from the client to the server on the live
 * connection, with correct checksums; returns the frame length. */
static size_t build_tcp(fixture *f, uint8_t *buf, uint8_t flags, const char *payload)
{
    synack_tcp_info ci;
    synack_info(f->c, &ci);
    uint16_t lport;
    synack_sock_name(f->c, NULL, &lport, NULL, NULL);
    size_t plen = payload ? strlen(payload) : 0;
    uint8_t *ip = buf + WIRE_ETH_HDR_LEN, *tcp = ip + WIRE_IPV4_HDR_LEN;
    wire_tcp h = {.sport = lport, .dport = 80, .seq = ci.snd_nxt, .ack = ci.rcv_nxt,
                  .flags = flags, .wnd = 1000};
    wire_tcp_opts_clear(&h.opt);
    size_t hl = wire_tcp_emit_header(tcp, 60, &h);
    memcpy(tcp + hl, payload ? payload : "", plen);
    wire_tcp_set_checksum(tcp, hl + plen, CLIENT_IP, SERVER_IP);
    wire_ipv4_emit(ip, WIRE_IPV4_HDR_LEN, CLIENT_IP, SERVER_IP, WIRE_IPPROTO_TCP, 64, 1, hl + plen);
    wire_eth_emit(buf, WIRE_ETH_HDR_LEN, sim_host_mac(f->server), sim_host_mac(f->client),
                  WIRE_ETHERTYPE_IPV4);
    return WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + hl + plen;
}

static void fix_ip_checksum(uint8_t *frame)
{
    uint8_t *ip = frame + WIRE_ETH_HDR_LEN;
    ip[10] = ip[11] = 0;
    wire_put16(ip + 10, wire_csum_fold(wire_csum_add(0, ip, (size_t)(ip[0] & 15) * 4)));
}

/* Counters that any frame moves just by being seen. */
static int is_seen_counter(const char *name)
{
    return !strcmp(name, "InFrames") || !strcmp(name, "IpInReceives") ||
           !strcmp(name, "TcpInSegs") || !strcmp(name, "IcmpInMsgs");
}

/* Feed one frame to the server; assert exactly `expect` (NULL-terminated
 * list of counter names) moved by one, nothing else moved and nothing was
 * sent; then check the connection still works both ways. */
static void feed_and_check(fixture *f, const uint8_t *frame, size_t len, const char **expect)
{
    synack_stack *st = sim_host_stack(f->server);
    synack_counters before = *synack_get_counters(st);
    uint64_t out_before = f->server_out;
    synack_input(st, frame, len, sim_now(f->s));
    const synack_counters *after = synack_get_counters(st);
    for (size_t i = 0; i < synack_counter_count(); i++) {
        const char *name = synack_counter_name(i);
        uint64_t d = synack_counter_value(after, i) - synack_counter_value(&before, i);
        int expected = 0;
        for (const char **e = expect; *e; e++)
            expected |= !strcmp(*e, name);
        if (expected) {
            if (d != 1)
                fail_msg("counter %s moved by %llu, expected 1", name, (unsigned long long)d);
        } else if (d && !is_seen_counter(name)) {
            fail_msg("counter %s moved by %llu unexpectedly", name, (unsigned long long)d);
        }
    }
    sim_run_until(f->s, sim_now(f->s) + 10 * SIM_MS);
    assert_int_equal(f->server_out, out_before);
    assert_int_equal(synack_sock_state(f->a), SYNACK_ESTABLISHED);

    /* The connection is undisturbed: a round trip of data still works. */
    assert_int_equal(synack_send(f->c, "ping", 4), 4);
    sim_run_until(f->s, sim_now(f->s) + 50 * SIM_MS);
    char buf[16];
    assert_int_equal(synack_recv(f->a, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "ping", 4);
    assert_int_equal(synack_send(f->a, "pong", 4), 4);
    sim_run_until(f->s, sim_now(f->s) + 50 * SIM_MS);
    assert_int_equal(synack_recv(f->c, buf, sizeof(buf)), 4);
    assert_memory_equal(buf, "pong", 4);
}

#define EXPECT(...) ((const char *[]){__VA_ARGS__, NULL})

static void test_truncated_ethernet(void **state)
{
    fixture *f = *state;
    uint8_t frame[10] = {0};
    memcpy(frame, sim_host_mac(f->server), 6);
    feed_and_check(f, frame, sizeof(frame), EXPECT("EthInTruncated"));
}

static void test_other_mac(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK | SYNACK_PSH, "evil");
    frame[5] ^= 0x40;
    feed_and_check(f, frame, len, EXPECT("EthInOtherHost"));
}

static void test_unknown_ethertype(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK, NULL);
    wire_put16(frame + 12, 0x86dd); /* IPv6, and the stack has no IPv6 address */
    feed_and_check(f, frame, len, EXPECT("EthInUnknownType"));
}

static void test_truncated_arp(void **state)
{
    fixture *f = *state;
    uint8_t frame[WIRE_ETH_HDR_LEN + 20] = {0};
    wire_eth_emit(frame, sizeof(frame), sim_host_mac(f->server), sim_host_mac(f->client),
                  WIRE_ETHERTYPE_ARP);
    feed_and_check(f, frame, sizeof(frame), EXPECT("ArpInMalformed"));
}

static void test_ip_truncated(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK | SYNACK_PSH, "evil");
    feed_and_check(f, frame, len - 3, EXPECT("IpInTruncatedPkts"));
}

static void test_ip_bad_checksum(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK | SYNACK_PSH, "evil");
    frame[WIRE_ETH_HDR_LEN + 8] ^= 1; /* TTL changed, checksum not */
    feed_and_check(f, frame, len, EXPECT("IpInCsumErrors"));
}

static void test_ip_bad_header(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK, NULL);
    frame[WIRE_ETH_HDR_LEN] = 0x43; /* IHL 3: shorter than a header */
    fix_ip_checksum(frame);
    feed_and_check(f, frame, len, EXPECT("IpInHdrErrors"));
}

static void test_ip_fragment(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    /* 25 bytes of TCP with more fragments to come: only a last fragment
     * may be other than a multiple of 8 bytes (RFC 791). */
    size_t len = build_tcp(f, frame, SYNACK_ACK | SYNACK_PSH, "evil!");
    wire_put16(frame + WIRE_ETH_HDR_LEN + 6, 0x2000); /* more fragments */
    fix_ip_checksum(frame);
    feed_and_check(f, frame, len, EXPECT("IpReasmReqds", "IpReasmFails"));
}

static void test_ip_not_our_address(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK, NULL);
    frame[WIRE_ETH_HDR_LEN + 19] = 99;
    fix_ip_checksum(frame);
    feed_and_check(f, frame, len, EXPECT("IpInAddrErrors"));
}

static void test_ip_unknown_protocol(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK, NULL);
    frame[WIRE_ETH_HDR_LEN + 9] = 132; /* SCTP: no such layer here */
    fix_ip_checksum(frame);
    feed_and_check(f, frame, len, EXPECT("IpInUnknownProtos"));
}

static void test_icmp_bad_checksum(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    uint8_t *ip = frame + WIRE_ETH_HDR_LEN, *icmp = ip + WIRE_IPV4_HDR_LEN;
    size_t n = wire_icmp_emit_echo(icmp, 64, WIRE_ICMP_ECHO_REQUEST, 1, 1,
                                   (const uint8_t *)"abcd", 4);
    icmp[2] ^= 0xff;
    wire_ipv4_emit(ip, WIRE_IPV4_HDR_LEN, CLIENT_IP, SERVER_IP, WIRE_IPPROTO_ICMP, 64, 2, n);
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, sim_host_mac(f->server), sim_host_mac(f->client),
                  WIRE_ETHERTYPE_IPV4);
    feed_and_check(f, frame, WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + n,
                   EXPECT("IcmpInErrors", "IcmpInCsumErrors"));
}

static void test_tcp_bad_checksum(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK | SYNACK_PSH, "evil");
    frame[len - 1] ^= 0x20; /* payload changed after the checksum */
    feed_and_check(f, frame, len, EXPECT("TcpInErrs", "TcpInCsumErrors"));
}

static void test_tcp_bad_data_offset(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK | SYNACK_PSH, "evil");
    uint8_t *tcp = frame + WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN;
    tcp[12] = 0xf0; /* 60-byte header in a 24-byte segment */
    wire_tcp_set_checksum(tcp, len - WIRE_ETH_HDR_LEN - WIRE_IPV4_HDR_LEN, CLIENT_IP, SERVER_IP);
    feed_and_check(f, frame, len, EXPECT("TcpInErrs"));
}

static void test_tcp_bad_option_length(void **state)
{
    fixture *f = *state;
    uint8_t frame[128];
    size_t len = build_tcp(f, frame, SYNACK_ACK | SYNACK_PSH, "evil");
    uint8_t *tcp = frame + WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN;
    /* Turn the first 4 payload bytes into an option with length 0. */
    tcp[12] = 6 << 4;
    memcpy(tcp + 20, "\x02\x00\x01\x01", 4);
    wire_tcp_set_checksum(tcp, len - WIRE_ETH_HDR_LEN - WIRE_IPV4_HDR_LEN, CLIENT_IP, SERVER_IP);
    feed_and_check(f, frame, len, EXPECT("TcpInErrs", "TcpExtTCPBadOptions"));
}

static void test_random_garbage_never_hurts(void **state)
{
    fixture *f = *state;
    /* Valid headers with random bytes after them, every length: the
     * sanitizers catch any out-of-bounds read; the connection survives. */
    uint8_t frame[128];
    size_t full = build_tcp(f, frame, SYNACK_ACK | SYNACK_PSH, "evil-evil-evil");
    uint64_t x = 88172645463325252ull;
    for (int round = 0; round < 2000; round++) {
        uint8_t copy[128];
        memcpy(copy, frame, full);
        size_t len = (size_t)(x % (full + 1));
        for (int k = 0; k < 3; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            copy[x % full] = (uint8_t)(x >> 32);
        }
        synack_input(sim_host_stack(f->server), copy, len, sim_now(f->s));
    }
    sim_run_until(f->s, sim_now(f->s) + 2 * SIM_SEC);
    assert_int_equal(synack_sock_state(f->a), SYNACK_ESTABLISHED);
    assert_int_equal(synack_send(f->c, "ping", 4), 4);
    sim_run_until(f->s, sim_now(f->s) + 50 * SIM_MS);
    char buf[64];
    ssize_t n = synack_recv(f->a, buf, sizeof(buf));
    assert_true(n >= 4);
    assert_memory_equal(buf + n - 4, "ping", 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_truncated_ethernet, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_mac, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_ethertype, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_arp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_truncated, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_bad_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_bad_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_fragment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_not_our_address, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ip_unknown_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_icmp_bad_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_bad_checksum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_bad_data_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tcp_bad_option_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_garbage_never_hurts, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
