/* fuzz_input.c — libFuzzer target: feed arbitrary frames to one stack.
 *
 * One stack (10.0.0.2 and fd00::2, 02:00:00:00:00:02; no DAD wait) listening
 * on port 80 in both families lives for the
 * whole run. Each input is a sequence of chunks
 *     [dt: 1 byte][len: 2 bytes, big-endian][len bytes of Ethernet frame]
 * (a short last chunk takes what is left). Each frame goes to synack_input
 * at a time (dt & 0x7f) x 10 ms after the previous one, followed by
 * synack_poll; connections that reach the accept queue are read, written and
 * closed. When dt has its top bit set and the frame is Ethernet/IPv4/TCP or
 * Ethernet/IPv6/TCP (no extension headers), its ACK field is replaced by the
 * end of the last segment the stack sent (and the checksum fixed), so the
 * fuzzer can complete handshakes without guessing ISNs. corpus/syn6 and
 * corpus/conversation6 introduce fd00::1 by a neighbour solicitation first. The peer 10.0.0.1 (02:00:00:00:00:01) is in the ARP cache.
 * IPv4 fragments are reassembled (corpus/fragments has some) with
 * ipfrag_time at 1 s, so that a datagram's timeout, and the ICMP time
 * exceeded it sends, fall within one input.
 * UDP sockets on port 53 in both families, and a transparent one taking
 * 93.184.216.0/24 port 53, echo what they receive (up to 1 KiB, from the
 * address it was sent to), so the UDP paths in and out are fuzzed too.
 * Every frame the stack sends must itself parse cleanly. Build: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synack.h"
#include "wire/wire.h"

#define MS 1000000ull

static synack_stack *stack;
static synack_sock *listener;
static uint64_t now_ns;
static uint64_t rand_counter;
static unsigned accepted;
static uint32_t last_out_end; /* seq + length (+SYN, +FIN) of our last segment */

static void note_tcp_out(const wire_tcp *tcp)
{
    last_out_end = tcp->seq + (uint32_t)tcp->payload_len + !!(tcp->flags & SYNACK_SYN) +
                   !!(tcp->flags & SYNACK_FIN);
}

/* An IPv6 packet the stack sent: TCP or ICMPv6 with a correct checksum. */
static void check_ipv6_output(const uint8_t *p, size_t len)
{
    wire_ipv6 ip;
    if (wire_ipv6_parse(p, len, &ip) != WIRE_OK)
        __builtin_trap();
    if (ip.next_header == WIRE_IPPROTO_TCP) {
        wire_tcp tcp;
        if (wire_tcp_parse6(ip.payload, ip.payload_len, ip.src, ip.dst, &tcp) != WIRE_OK)
            __builtin_trap();
        note_tcp_out(&tcp);
    } else if (ip.next_header == WIRE_IPPROTO_UDP) {
        wire_udp udp;
        if (wire_udp_parse6(ip.payload, ip.payload_len, ip.src, ip.dst, &udp) != WIRE_OK)
            __builtin_trap();
    } else {
        wire_icmpv6 m;
        if (ip.next_header != WIRE_IPPROTO_ICMPV6 ||
            wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m) != WIRE_OK)
            __builtin_trap();
    }
}

/* An outgoing frame must be well formed: Ethernet, then ARP, IPv4 or IPv6,
 * and above IP a TCP, ICMP or ICMPv6 message with a correct checksum. */
static void check_output(void *ctx, const void *frame, size_t len)
{
    (void)ctx;
    wire_eth eth;
    if (wire_eth_parse(frame, len, &eth) != WIRE_OK)
        __builtin_trap();
    if (eth.type == WIRE_ETHERTYPE_IPV6) {
        check_ipv6_output(eth.payload, eth.payload_len);
        return;
    }
    if (eth.type == WIRE_ETHERTYPE_ARP) {
        wire_arp arp;
        if (wire_arp_parse(eth.payload, eth.payload_len, &arp) != WIRE_OK)
            __builtin_trap();
        return;
    }
    wire_ipv4 ip;
    if (eth.type != WIRE_ETHERTYPE_IPV4 ||
        wire_ipv4_parse(eth.payload, eth.payload_len, &ip) != WIRE_OK)
        __builtin_trap();
    if (ip.proto == WIRE_IPPROTO_TCP) {
        wire_tcp tcp;
        if (wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &tcp) != WIRE_OK)
            __builtin_trap();
        note_tcp_out(&tcp);
    } else if (ip.proto == WIRE_IPPROTO_ICMP) {
        wire_icmp icmp;
        if (wire_icmp_parse(ip.payload, ip.payload_len, &icmp) != WIRE_OK)
            __builtin_trap();
    } else if (ip.proto == WIRE_IPPROTO_UDP) {
        wire_udp udp;
        if (wire_udp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &udp) != WIRE_OK)
            __builtin_trap();
    }
}

/* Deterministic "randomness": a counter through the splitmix64 finalizer. */
static void fill_random(void *ctx, void *buf, size_t len)
{
    uint64_t *ctr = ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t z = (*ctr += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(p + i, &z, n);
    }
}

/* A UDP socket's datagrams are echoed back, from where they were sent. */
static void udp_echo(void *ctx, synack_udp *u, unsigned events)
{
    (void)ctx;
    (void)events;
    uint8_t buf[1024];
    synack_udp_meta m;
    ssize_t n;
    while ((n = synack_udp_recv(u, buf, sizeof(buf), &m)) >= 0) {
        synack_udp_meta to = {.remote = m.remote, .remote_port = m.remote_port,
                              .local = m.local, .local_port = m.local_port};
        (void)synack_udp_send(u, buf, (size_t)n, &to);
    }
}

static void udp_setup(void)
{
    synack_udp *u4 = synack_udp_open(stack, SYNACK_AF_INET);
    synack_udp *u6 = synack_udp_open(stack, SYNACK_AF_INET6);
    synack_udp *t = synack_udp_open(stack, SYNACK_AF_INET);
    synack_addr prefix = synack_addr_v4(0x5db8d800); /* 93.184.216.0/24 */
    if (!u4 || !u6 || !t || synack_udp_bind(u4, NULL, 53) != 0 ||
        synack_udp_bind(u6, NULL, 53) != 0 || synack_udp_bind_any(t, &prefix, 24, 53, 53) != 0)
        abort();
}

static void setup(void)
{
    synack_config cfg;
    synack_config_init(&cfg);
    const uint8_t mac[6] = {0x02, 0, 0, 0, 0, 0x02};
    memcpy(cfg.mac, mac, sizeof(mac));
    cfg.ip = 0x0a000002; /* 10.0.0.2 */
    cfg.output = check_output;
    cfg.random = fill_random;
    cfg.random_ctx = &rand_counter;
    cfg.udp_event = udp_echo;
    cfg.net.ipfrag_time = 1;
    const uint8_t ip6[16] = {0xfd, 0x00, [15] = 2}; /* fd00::2 */
    memcpy(cfg.ip6, ip6, 16);
    cfg.net.dad_transmits = 0;
    stack = synack_stack_new(&cfg, now_ns);
    if (!stack)
        abort();
    listener = synack_socket(stack);
    if (!listener || synack_bind(listener, 80) != 0 || synack_listen(listener, 64) != 0)
        abort();
    const uint8_t peer_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
    if (synack_arp_add(stack, 0x0a000001, peer_mac) != 0)
        abort();
    udp_setup();
}

/* The same for Ethernet/IPv6/TCP without extension headers. */
static void patch_ack6(uint8_t *f, size_t len)
{
    uint8_t *ip = f + WIRE_ETH_HDR_LEN;
    if (len < WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN + WIRE_TCP_HDR_LEN || ip[6] != WIRE_IPPROTO_TCP)
        return;
    size_t seg_len = wire_get16(ip + 4);
    if (seg_len < WIRE_TCP_HDR_LEN || seg_len > len - WIRE_ETH_HDR_LEN - WIRE_IPV6_HDR_LEN)
        return;
    uint8_t *seg = ip + WIRE_IPV6_HDR_LEN;
    wire_put32(seg + 8, last_out_end);
    wire_tcp_set_checksum6(seg, seg_len, ip + 8, ip + 24);
}

/* Acknowledge what the stack last sent: rewrite the ACK field of an
 * Ethernet/IPv4/TCP frame and fix its TCP checksum. */
static void patch_ack(uint8_t *f, size_t len)
{
    if (len >= WIRE_ETH_HDR_LEN && wire_get16(f + 12) == WIRE_ETHERTYPE_IPV6) {
        patch_ack6(f, len);
        return;
    }
    if (len < WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN || wire_get16(f + 12) != WIRE_ETHERTYPE_IPV4)
        return;
    uint8_t *ip = f + WIRE_ETH_HDR_LEN;
    size_t ip_len = len - WIRE_ETH_HDR_LEN;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = wire_get16(ip + 2);
    if (ip[9] != WIRE_IPPROTO_TCP || ihl < WIRE_IPV4_HDR_LEN || total > ip_len || total < ihl)
        return;
    if (total - ihl < WIRE_TCP_HDR_LEN)
        return;
    wire_put32(ip + ihl + 8, last_out_end);
    wire_tcp_set_checksum(ip + ihl, total - ihl, wire_get32(ip + 12), wire_get32(ip + 16));
}

/* Take what the listener has: read, answer, then close or abort. */
static void serve(void)
{
    synack_sock *c;
    int err;
    while ((c = synack_accept(listener, &err)) != NULL) {
        char buf[512];
        (void)synack_recv(c, buf, sizeof(buf));
        (void)synack_send(c, "HTTP/1.0 200 OK\r\n\r\n", 19);
        if (accepted++ % 4 == 3)
            synack_abort(c);
        else
            synack_close(c);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!stack)
        setup();
    size_t i = 0;
    while (i < size) {
        uint8_t dt = data[i++];
        size_t len = 0;
        if (size - i >= 2) {
            len = (size_t)data[i] << 8 | data[i + 1];
            i += 2;
        } else {
            i = size;
        }
        if (len > size - i)
            len = size - i;
        /* An exact-size copy so any read past the frame is caught. */
        uint8_t *frame = malloc(len ? len : 1);
        if (!frame)
            abort();
        memcpy(frame, data + i, len);
        i += len;
        if (dt & 0x80)
            patch_ack(frame, len);
        now_ns += (uint64_t)(dt & 0x7f) * 10 * MS + 1;
        synack_input(stack, frame, len, now_ns);
        free(frame);
        synack_poll(stack, now_ns);
        serve();
    }
    now_ns += 200 * MS;
    synack_poll(stack, now_ns);
    serve();
    return 0;
}
