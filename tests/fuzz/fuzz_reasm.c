/* fuzz_reasm.c — libFuzzer target: fragment reassembly of both families
 * (src/net/reasm*.c) through synack_input, one fresh stack per input.
 *
 * Input: a 10-byte header, then records.
 *   header: [limits][times][L0: 2][L1: 2][L2: 2][L3: 2]
 *     limits: bits 0-1 ipfrag_high_thresh, 2-3 ip6frag_high_thresh, each
 *             one of 4 MiB, 64 KiB, 4 KiB, 0; times: bits 0-1 ipfrag_time,
 *             2-3 ip6frag_time, 1 to 4 s.
 *     Li (12 bits, at least 8): the length of datagram i's template, an
 *     echo request (ICMP or ICMPv6, checksum right for its addresses) whose
 *     data byte k is k * 7 + 3 + i.
 *   record: [ctl][offset: 2][length: 2]
 *     ctl: bit 0 IPv6, bit 1 more fragments, bits 2-3 datagram i, bit 4
 *          the second peer, bits 5-6 time to wait before (0, 10 ms, 500 ms,
 *          2 s), bit 7 raw: then `length` bytes of input are an IP packet
 *          of that family sent as they are (an IPv4 header checksum fixed).
 *     offset: bits 0-12 the fragment offset in 8-byte units; bits 13-15 the
 *          protocol (IPv4) or next header (IPv6): the echo request's for
 *          0-3, then TCP, UDP, destination options (IPv6), fragment.
 *     length: bits 0-11 the data's length; bit 12 a per-fragment header
 *          (IPv6: hop-by-hop; IPv4: 4 bytes of options), bit 13 to a
 *          multicast group (IPv6: all-nodes) or, for IPv4, another host.
 *   The data is bytes [offset, offset + length) of template i (0 past it).
 * After the records the clock runs past both timeouts. Oracles (a trap):
 *   - every frame the stack sends parses, checksums and all, within the
 *     MTU; an echo reply to template i carries exactly the template's data
 *     (unless a raw packet was sent): a datagram put together wrongly
 *     cannot pass. A reply over the MTU leaves in fragments (offsets in
 *     8-byte units, IPv4 with DF clear), which are put back together
 *     here and checked whole the same way;
 *   - no family holds more than its high_thresh, ever;
 *   - at the end nothing is held, and no more datagrams were reassembled
 *     or timed out than fragments came;
 *   - no leak (ASan), no read past a frame (each is an exact-size copy).
 * Build: make fuzz. Corpus: tests/fuzz/corpus_reasm. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "synack.h"
#include "wire/wire.h"

#define MS 1000000ull
#define TMPL_MAX 4096

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

static const uint8_t US_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC[2][6] = {{0x02, 0, 0, 0, 0, 0x01}, {0x02, 0, 0, 0, 0, 0x03}};
static const uint32_t US4 = 0x0a000002, PEER4[2] = {0x0a000001, 0x0a000003};
static const uint8_t US6[16] = {0xfd, 0, [15] = 2};
static const uint8_t PEER6[2][16] = {{0xfd, 0, [15] = 1}, {0xfd, 0, [15] = 3}};
static const uint8_t ALL_NODES[16] = {0xff, 0x02, [15] = 1};

static struct {
    synack_stack *s;
    uint64_t now;
    size_t tmpl_len[4];
    int raw_seen;
    uint32_t thresh4, thresh6;
} F;

/* ------------------------------------------------------------ templates */

static uint8_t tmpl_data_byte(size_t i, size_t k) { return (uint8_t)(k * 7 + 3 + i); }

/* Datagram i's echo request, for IPv4 or between these IPv6 addresses. */
static size_t tmpl(uint8_t *buf, size_t i, int v6, const uint8_t *src, const uint8_t *dst)
{
    static uint8_t data[TMPL_MAX];
    size_t n = F.tmpl_len[i] - 8;
    for (size_t k = 0; k < n; k++)
        data[k] = tmpl_data_byte(i, k);
    uint16_t id = (uint16_t)(0x5200 + i);
    if (v6)
        return wire_icmpv6_emit_echo(buf, TMPL_MAX, src, dst, WIRE_ICMPV6_ECHO_REQUEST, id,
                                     (uint16_t)i, data, n);
    return wire_icmp_emit_echo(buf, TMPL_MAX, WIRE_ICMP_ECHO_REQUEST, id, (uint16_t)i, data, n);
}

/* ------------------------------------------------------------ what the stack sends */

/* Echo reply data for datagram i: the template's, zeros past it. */
static void check_echo_data(uint16_t id, const uint8_t *data, size_t len)
{
    size_t i = (size_t)id - 0x5200;
    if (F.raw_seen || i >= 4)
        return;
    for (size_t k = 0; k < len; k++)
        CHECK(data[k] == (k + 8 < F.tmpl_len[i] ? tmpl_data_byte(i, k) : 0));
}

/* The stack's own fragments (of echo replies over the MTU) put back
 * together: one datagram's leave in order, one after another, though a
 * neighbour's queue may have dropped the first ones (then that datagram
 * is skipped). */
static struct {
    int on, v6;
    uint32_t id;
    size_t len;
    uint8_t src[16], dst[16];
    uint8_t buf[65536];
} R;

static void check_whole_reply(void)
{
    if (R.v6) {
        wire_icmpv6 m;
        CHECK(wire_icmpv6_parse(R.buf, R.len, R.src, R.dst, &m) == WIRE_OK);
        CHECK(m.type == WIRE_ICMPV6_ECHO_REPLY);
        check_echo_data((uint16_t)(m.body >> 16), m.data, m.data_len);
    } else {
        wire_icmp m;
        CHECK(wire_icmp_parse(R.buf, R.len, &m) == WIRE_OK && m.type == WIRE_ICMP_ECHO_REPLY);
        check_echo_data(m.id, m.data, m.data_len);
    }
}

static void frag_piece(int v6, uint32_t id, size_t off, int more, const uint8_t *data, size_t n,
                       const uint8_t *src, const uint8_t *dst)
{
    CHECK(off % 8 == 0 && (!more || n % 8 == 0) && n > 0);
    if (off == 0) {
        R.on = 1;
        R.v6 = v6;
        R.id = id;
        R.len = 0;
        memcpy(R.src, src, v6 ? 16 : 4);
        memcpy(R.dst, dst, v6 ? 16 : 4);
    }
    if (!R.on || R.v6 != v6 || R.id != id || off != R.len) {
        R.on = 0;
        return;
    }
    CHECK(n <= sizeof(R.buf) - R.len);
    memcpy(R.buf + R.len, data, n);
    R.len += n;
    if (!more) {
        R.on = 0;
        check_whole_reply();
    }
}

static void check_ipv4_fragment(const uint8_t *p, const wire_ipv4 *ip)
{
    uint8_t src[4], dst[4];
    wire_put32(src, ip->src);
    wire_put32(dst, ip->dst);
    CHECK(ip->proto == WIRE_IPPROTO_ICMP && (wire_get16(p + 6) & 0x4000) == 0);
    frag_piece(0, ip->id, ip->frag_offset, ip->more_frags, ip->payload, ip->payload_len, src, dst);
}

static void check_ipv4(const uint8_t *p, size_t len)
{
    wire_ipv4 ip;
    wire_err e = wire_ipv4_parse(p, len, &ip);
    CHECK((e == WIRE_OK || e == WIRE_FRAGMENT) && ip.src == US4 && len <= 1500);
    if (e == WIRE_FRAGMENT) {
        check_ipv4_fragment(p, &ip);
        return;
    }
    if (ip.proto == WIRE_IPPROTO_ICMP) {
        wire_icmp m;
        CHECK(wire_icmp_parse(ip.payload, ip.payload_len, &m) == WIRE_OK);
        if (m.type == WIRE_ICMP_ECHO_REPLY)
            check_echo_data(m.id, m.data, m.data_len);
    } else if (ip.proto == WIRE_IPPROTO_TCP) {
        wire_tcp t;
        CHECK(wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &t) == WIRE_OK);
    }
}

static void check_ipv6_fragment(const wire_ipv6 *ip)
{
    wire_ipv6_ext x;
    CHECK(wire_ipv6_walk(ip, &x) == WIRE_FRAGMENT && x.proto == WIRE_IPPROTO_ICMPV6);
    CHECK(x.frag.hdr_off == WIRE_IPV6_HDR_LEN);
    frag_piece(1, x.frag.id, x.frag.offset, x.frag.more, x.payload, x.payload_len, ip->src,
               ip->dst);
}

static void check_ipv6(const uint8_t *p, size_t len)
{
    wire_ipv6 ip;
    wire_icmpv6 m;
    CHECK(wire_ipv6_parse(p, len, &ip) == WIRE_OK && len <= 1500);
    if (ip.next_header == WIRE_IPPROTO_FRAGMENT) {
        check_ipv6_fragment(&ip);
        return;
    }
    CHECK(ip.next_header == WIRE_IPPROTO_ICMPV6);
    CHECK(wire_icmpv6_parse(ip.payload, ip.payload_len, ip.src, ip.dst, &m) == WIRE_OK);
    if (m.type == WIRE_ICMPV6_ECHO_REPLY) {
        check_echo_data((uint16_t)(m.body >> 16), m.data, m.data_len);
    } else if (m.type == WIRE_ICMPV6_TIME_EXCEEDED || m.type == WIRE_ICMPV6_PARAM_PROBLEM) {
        /* RFC 4443 §2.4: to a unicast source, quoting within 1280 bytes. */
        CHECK(!wire_ipv6addr_is_multicast(ip.dst) && !wire_ipv6addr_is_unspecified(ip.dst));
        CHECK(m.data_len >= 40 && m.data_len <= WIRE_ICMPV6_MAX_QUOTE);
    }
}

static void on_output(void *ctx, const void *frame, size_t len)
{
    (void)ctx;
    wire_eth e;
    CHECK(wire_eth_parse(frame, len, &e) == WIRE_OK);
    if (e.type == WIRE_ETHERTYPE_IPV4)
        check_ipv4(e.payload, e.payload_len);
    else if (e.type == WIRE_ETHERTYPE_IPV6)
        check_ipv6(e.payload, e.payload_len);
    else
        CHECK(e.type == WIRE_ETHERTYPE_ARP);
}

static void on_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5a, len);
}

/* ------------------------------------------------------------ the stack */

static void setup(const uint8_t *h)
{
    static const uint32_t limits[4] = {4194304, 65536, 4096, 0};
    synack_config cfg;
    synack_config_init(&cfg);
    memcpy(cfg.mac, US_MAC, 6);
    cfg.ip = US4;
    memcpy(cfg.ip6, US6, 16);
    cfg.output = on_output;
    cfg.random = on_random;
    cfg.net.ipfrag_high_thresh = F.thresh4 = limits[h[0] & 3];
    cfg.net.ip6frag_high_thresh = F.thresh6 = limits[h[0] >> 2 & 3];
    cfg.net.ipfrag_time = 1 + (h[1] & 3);
    cfg.net.ip6frag_time = 1 + (h[1] >> 2 & 3);
    for (size_t i = 0; i < 4; i++) {
        size_t l = ((size_t)h[2 + 2 * i] << 8 | h[3 + 2 * i]) & 0xfff;
        F.tmpl_len[i] = l < 8 ? 8 : l;
    }
    F.now = 1000 * MS;
    F.raw_seen = 0;
    R.on = 0;
    F.s = synack_stack_new(&cfg, F.now);
    if (!F.s)
        abort();
    /* Both peers known in both families: replies go out at once, and the
     * oracle sees them (fragmented ones too). */
    for (int k = 0; k < 2; k++) {
        synack_addr a6 = {.family = SYNACK_AF_INET6};
        memcpy(a6.v6, PEER6[k], 16);
        if (synack_arp_add(F.s, PEER4[k], PEER_MAC[k]) != 0 ||
            synack_neigh_add(F.s, &a6, PEER_MAC[k]) != 0)
            abort();
    }
}

static void check_limits(void)
{
    synack_sockstat st;
    synack_get_sockstat(F.s, &st);
    CHECK(st.frag_memory <= F.thresh4 && st.frag6_memory <= F.thresh6);
}

/* Hand `pkt` to the stack in an Ethernet frame of an exact-size copy. */
static void send_frame(int v6, int peer, const uint8_t *dst_mac, const uint8_t *pkt, size_t len)
{
    uint8_t *f = malloc(WIRE_ETH_HDR_LEN + len);
    if (!f)
        abort();
    wire_eth_emit(f, WIRE_ETH_HDR_LEN, dst_mac, PEER_MAC[peer],
                  v6 ? WIRE_ETHERTYPE_IPV6 : WIRE_ETHERTYPE_IPV4);
    memcpy(f + WIRE_ETH_HDR_LEN, pkt, len);
    synack_input(F.s, f, WIRE_ETH_HDR_LEN + len, F.now);
    free(f);
    check_limits();
}

/* ------------------------------------------------------------ fragments */

typedef struct rec {
    int v6, more, peer, per_frag, other_dst;
    size_t i, off, len;
    uint8_t kind;
} rec;

static uint8_t proto_of(const rec *r)
{
    static const uint8_t v4[4] = {WIRE_IPPROTO_TCP, 17, WIRE_IPPROTO_ICMP, 44};
    static const uint8_t v6[4] = {WIRE_IPPROTO_TCP, WIRE_IPPROTO_UDP, WIRE_IPPROTO_DSTOPTS,
                                  WIRE_IPPROTO_FRAGMENT};
    if (r->kind < 4)
        return r->v6 ? WIRE_IPPROTO_ICMPV6 : WIRE_IPPROTO_ICMP;
    return r->v6 ? v6[r->kind - 4] : v4[r->kind - 4];
}

/* The data: bytes [off, off + len) of the template, zeros past it. */
static void slice(uint8_t *out, const uint8_t *t, size_t t_len, const rec *r)
{
    for (size_t k = 0; k < r->len; k++)
        out[k] = r->off + k < t_len ? t[r->off + k] : 0;
}

static void send_v4(const rec *r)
{
    static uint8_t t[TMPL_MAX], pkt[24 + 0x1000];
    size_t t_len = tmpl(t, r->i, 0, NULL, NULL);
    size_t hl = r->per_frag ? 24 : 20;
    memset(pkt, 0, hl);
    pkt[0] = (uint8_t)(0x40 | hl / 4);
    wire_put16(pkt + 2, (uint16_t)(hl + r->len));
    wire_put16(pkt + 4, (uint16_t)(0x100 + r->i));
    wire_put16(pkt + 6, (uint16_t)((r->more ? 0x2000 : 0) | r->off / 8));
    pkt[8] = 64;
    pkt[9] = proto_of(r);
    wire_put32(pkt + 12, PEER4[r->peer]);
    wire_put32(pkt + 16, r->other_dst ? US4 + 1 : US4);
    if (hl == 24)
        memset(pkt + 20, 1, 4); /* NOP options */
    wire_put16(pkt + 10, wire_csum_fold(wire_csum_add(0, pkt, hl)));
    slice(pkt + hl, t, t_len, r);
    send_frame(0, r->peer, US_MAC, pkt, hl + r->len);
}

static void send_v6(const rec *r)
{
    static uint8_t t[TMPL_MAX], pkt[56 + 0x1000];
    static const uint8_t hbh[8] = {WIRE_IPPROTO_FRAGMENT, 0, 1, 4, 0, 0, 0, 0};
    const uint8_t *dst = r->other_dst ? ALL_NODES : US6;
    size_t t_len = tmpl(t, r->i, 1, PEER6[r->peer], dst);
    size_t pre = r->per_frag ? 8 : 0, hl = 40 + pre + 8;
    wire_ipv6 h = {.next_header = pre ? WIRE_IPPROTO_HOPOPTS : WIRE_IPPROTO_FRAGMENT,
                   .hop_limit = 64, .payload_len = hl - 40 + r->len};
    memcpy(h.src, PEER6[r->peer], 16);
    memcpy(h.dst, dst, 16);
    wire_ipv6_emit(pkt, sizeof(pkt), &h);
    memcpy(pkt + 40, hbh, pre);
    uint8_t *fh = pkt + 40 + pre;
    fh[0] = proto_of(r);
    fh[1] = 0;
    wire_put16(fh + 2, (uint16_t)(r->off | (r->more ? 1 : 0)));
    wire_put32(fh + 4, (uint32_t)(0x10000 + r->i));
    slice(pkt + hl, t, t_len, r);
    uint8_t mac[6];
    if (r->other_dst)
        wire_ipv6addr_multicast_mac(mac, dst);
    send_frame(1, r->peer, r->other_dst ? mac : US_MAC, pkt, hl + r->len);
}

/* A raw packet: only an IPv4 header checksum is fixed. */
static void send_raw(int v6, int peer, const uint8_t *p, size_t len)
{
    static uint8_t pkt[0x10000];
    memcpy(pkt, p, len);
    size_t hl = len ? (size_t)(pkt[0] & 0x0f) * 4 : 0;
    if (!v6 && hl >= 20 && hl <= len) {
        wire_put16(pkt + 10, 0);
        wire_put16(pkt + 10, wire_csum_fold(wire_csum_add(0, pkt, hl)));
    }
    F.raw_seen = 1;
    send_frame(v6, peer, US_MAC, pkt, len);
}

/* One record at data[*at]; false when the input is used up. */
static int record(const uint8_t *data, size_t size, size_t *at)
{
    static const uint64_t waits[4] = {0, 10 * MS, 500 * MS, 2000 * MS};
    if (size - *at < 5)
        return 0;
    const uint8_t *p = data + *at;
    *at += 5;
    uint16_t o = (uint16_t)(p[1] << 8 | p[2]), l = (uint16_t)(p[3] << 8 | p[4]);
    rec r = {.v6 = p[0] & 1, .more = p[0] >> 1 & 1, .i = p[0] >> 2 & 3, .peer = p[0] >> 4 & 1,
             .off = (size_t)(o & 0x1fff) * 8, .kind = (uint8_t)(o >> 13), .len = l & 0xfff,
             .per_frag = l >> 12 & 1, .other_dst = l >> 13 & 1};
    F.now += waits[p[0] >> 5 & 3];
    synack_poll(F.s, F.now);
    check_limits();
    if (p[0] & 0x80) {
        size_t n = r.len < size - *at ? r.len : size - *at;
        send_raw(r.v6, r.peer, data + *at, n);
        *at += n;
    } else if (r.v6) {
        send_v6(&r);
    } else {
        send_v4(&r);
    }
    return 1;
}

static void check_end(void)
{
    F.now += 10000 * MS; /* past both timeouts (at most 4 s) */
    synack_poll(F.s, F.now);
    synack_sockstat st;
    synack_get_sockstat(F.s, &st);
    CHECK(st.frag_inuse == 0 && st.frag_memory == 0);
    CHECK(st.frag6_inuse == 0 && st.frag6_memory == 0);
    const synack_counters *c = synack_get_counters(F.s);
    CHECK(c->ip_reasm_oks + c->ip_reasm_timeout <= c->ip_reasm_reqds);
    CHECK(c->ip6_reasm_oks + c->ip6_reasm_timeout <= c->ip6_reasm_reqds);
    CHECK(synack_next_deadline(F.s) == UINT64_MAX || synack_next_deadline(F.s) > F.now);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10)
        return 0;
    setup(data);
    size_t at = 10;
    while (record(data, size, &at))
        ;
    check_end();
    synack_stack_free(F.s);
    F.s = NULL;
    return 0;
}
