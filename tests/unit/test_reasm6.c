/* test_reasm6.c — IPv6 fragment reassembly (RFC 8200 §4.5; overlaps as
 * RFC 5722, the header chain in the first fragment as RFC 7112, atomic
 * fragments as RFC 6946). The peer sends ICMPv6 echo requests in fragments
 * over Ethernet; the stack's answer (an echo reply with the same data, an
 * ICMPv6 time exceeded or parameter problem, or nothing) and the counters
 * are checked exactly, all through the public API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "synack.h"
#include "net/net.h" /* reasm_dgram, reasm_frag: the sizes the limit charges */
#include "wire/wire.h"

#define S_NS 1000000000ull
#define MS_NS 1000000ull
#define ECHO_ID 0x4242
#define ECHO_SEQ 7
#define FRAG_HDR 8
#define QMAX 8

static const uint8_t US_MAC[6] = {0x02, 0, 0, 0, 0, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t OTHER_MAC[6] = {0x02, 0, 0, 0, 0, 0x03};
static const uint8_t US[16] = {0xfd, 0x00, [15] = 2};     /* fd00::2 */
static const uint8_t PEER[16] = {0xfd, 0x00, [15] = 1};   /* fd00::1 */
static const uint8_t PEER2[16] = {0xfd, 0x00, [15] = 3};  /* fd00::3 */
static const uint8_t ALL_NODES[16] = {0xff, 0x02, [15] = 1};

/* ------------------------------------------------------------ the world */

typedef struct world {
    synack_stack *s;
    uint64_t now;
    const uint8_t *peer_mac;   /* the source of the frames the peer sends */
    const uint8_t *dst_mac;    /* their destination (NULL: ours, or the group's) */
    bool ethernet;
    bool asked;                /* the stack solicited the peer: it answers */
    uint8_t out[QMAX][1600];
    size_t out_len[QMAX], nout, next;
} world;

/* Neighbour Discovery's own messages (test_nd.c's subject): not kept; a
 * solicitation is answered by the peer after the call (answer_peer). */
static bool is_nd(const uint8_t *frame, size_t len)
{
    const uint8_t *ip = frame + WIRE_ETH_HDR_LEN;
    return len > WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN && wire_get16(frame + 12) == WIRE_ETHERTYPE_IPV6 &&
           ip[6] == WIRE_IPPROTO_ICMPV6 && (ip[WIRE_IPV6_HDR_LEN] == WIRE_ND_NEIGHBOR_SOLICIT ||
                                           ip[WIRE_IPV6_HDR_LEN] == WIRE_ND_NEIGHBOR_ADVERT);
}

static void on_output(void *ctx, const void *frame, size_t len)
{
    world *w = ctx;
    if (w->ethernet && is_nd(frame, len)) {
        w->asked |= ((const uint8_t *)frame)[WIRE_ETH_HDR_LEN + WIRE_IPV6_HDR_LEN] ==
                    WIRE_ND_NEIGHBOR_SOLICIT;
        return;
    }
    assert_true(w->nout < QMAX && len <= sizeof w->out[0]);
    memcpy(w->out[w->nout], frame, len);
    w->out_len[w->nout++] = len;
}

static void on_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5a, len);
}

static void introduce_peer(world *w);

/* A stack at fd00::2 (and 10.0.0.2) on Ethernet, knobs as in pkt_new. */
static world *world_new(const char *knobs, int link)
{
    static world w;
    memset(&w, 0, sizeof w);
    synack_config cfg;
    synack_config_init(&cfg);
    memcpy(cfg.mac, US_MAC, 6);
    cfg.ip = 0x0a000002u;
    memcpy(cfg.ip6, US, 16);
    cfg.link = link;
    cfg.output = on_output;
    cfg.output_ctx = &w;
    cfg.random = on_random;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", knobs ? knobs : "");
    for (char *save, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = 0;
        assert_int_equal(synack_config_set(&cfg, tok, eq + 1), 0);
    }
    w.now = S_NS;
    w.peer_mac = PEER_MAC;
    w.ethernet = link == SYNACK_LINK_ETHERNET;
    if (w.ethernet)
        cfg.net.dad_transmits = 0; /* fd00::2 is ours at once (test_nd.c tests DAD) */
    w.s = synack_stack_new(&cfg, w.now);
    assert_non_null(w.s);
    if (w.ethernet)
        introduce_peer(&w);
    return &w;
}

static int teardown(void **state)
{
    world *w = *state;
    if (w && w->s)
        synack_stack_free(w->s);
    *state = NULL;
    return 0;
}

static void answer_peer(world *w);

static void advance_ms(world *w, uint64_t ms)
{
    w->now += ms * MS_NS;
    synack_poll(w->s, w->now);
    answer_peer(w);
}

static uint64_t deadline_ms(const world *w)
{
    uint64_t d = synack_next_deadline(w->s);
    return d == UINT64_MAX ? UINT64_MAX : (d - w->now) / MS_NS;
}

/* ------------------------------------------------------------ the peer's packets */

/* One fragment of a packet from `src` (PEER when NULL) to `dst` (US when
 * NULL): `pre` (pre_len bytes of per-fragment extension headers, the first
 * of type pre_type, the last naming the fragment header) after the fixed
 * header, then the fragment header (next header nh, identification id),
 * then bytes [off, off + len) of `data`. */
typedef struct fspec {
    uint32_t id;
    uint8_t nh;
    const uint8_t *data;
    size_t off, len;
    int more;
    const uint8_t *pre;
    size_t pre_len;
    uint8_t pre_type;
    const uint8_t *src, *dst;
    uint8_t hop_limit; /* 0: 64 */
} fspec;

static size_t frag_pkt(uint8_t *pkt, size_t cap, const fspec *f)
{
    size_t hdr = WIRE_IPV6_HDR_LEN + f->pre_len + FRAG_HDR;
    assert_true(f->off % 8 == 0 && f->off / 8 <= 0x1fff && hdr + f->len <= cap);
    wire_ipv6 h = {.next_header = f->pre_len ? f->pre_type : WIRE_IPPROTO_FRAGMENT,
                   .hop_limit = f->hop_limit ? f->hop_limit : 64,
                   .payload_len = hdr - WIRE_IPV6_HDR_LEN + f->len};
    memcpy(h.src, f->src ? f->src : PEER, 16);
    memcpy(h.dst, f->dst ? f->dst : US, 16);
    assert_int_equal(wire_ipv6_emit(pkt, cap, &h), WIRE_IPV6_HDR_LEN);
    if (f->pre_len)
        memcpy(pkt + WIRE_IPV6_HDR_LEN, f->pre, f->pre_len);
    uint8_t *fh = pkt + WIRE_IPV6_HDR_LEN + f->pre_len;
    fh[0] = f->nh;
    fh[1] = 0;
    wire_put16(fh + 2, (uint16_t)(f->off | (f->more ? 1 : 0)));
    wire_put32(fh + 4, f->id);
    if (f->len)
        memcpy(pkt + hdr, f->data + f->off, f->len);
    return hdr + f->len;
}

/* An IPv6 packet in an Ethernet frame from the peer's MAC. */
static void inject(world *w, const uint8_t *pkt, size_t len)
{
    static uint8_t frame[WIRE_ETH_HDR_LEN + 65536];
    uint8_t dmac[6];
    if (w->dst_mac)
        memcpy(dmac, w->dst_mac, 6);
    else if (wire_ipv6addr_is_multicast(pkt + 24))
        wire_ipv6addr_multicast_mac(dmac, pkt + 24);
    else
        memcpy(dmac, US_MAC, 6);
    size_t at = 0;
    if (synack_stack_config(w->s)->link == SYNACK_LINK_ETHERNET) {
        wire_eth_emit(frame, WIRE_ETH_HDR_LEN, dmac, w->peer_mac, WIRE_ETHERTYPE_IPV6);
        at = WIRE_ETH_HDR_LEN;
    }
    assert_true(len <= sizeof(frame) - at);
    memcpy(frame + at, pkt, len);
    synack_input(w->s, frame, at + len, w->now);
}

/* The peer answers a solicitation the stack sent it (its entry had aged
 * out): an NA for PEER with PEER_MAC, which releases what waited. */
static void answer_peer(world *w)
{
    if (!w->asked)
        return;
    w->asked = false;
    uint8_t pkt[WIRE_IPV6_HDR_LEN + 64];
    wire_ipv6 ip = {.next_header = WIRE_IPPROTO_ICMPV6, .hop_limit = 255};
    memcpy(ip.src, PEER, 16);
    memcpy(ip.dst, US, 16);
    ip.payload_len = wire_nd_emit_na(pkt + WIRE_IPV6_HDR_LEN, sizeof pkt - WIRE_IPV6_HDR_LEN,
                                     PEER, US, WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE, PEER,
                                     PEER_MAC);
    assert_true(ip.payload_len > 0);
    wire_ipv6_emit(pkt, WIRE_IPV6_HDR_LEN, &ip);
    const uint8_t *mac = w->peer_mac;
    w->peer_mac = PEER_MAC;
    inject(w, pkt, WIRE_IPV6_HDR_LEN + ip.payload_len);
    w->peer_mac = mac;
}

/* The peer resolves us first, as a real pinger does: its neighbour
 * solicitation teaches the stack PEER_MAC, so replies need no resolution.
 * That entry is STALE, and our advertisement's use of it would have ND
 * probe it 5 s later (RFC 4861 §7.3.3): the peer's solicited advertisement
 * confirms it at once, so that only reassembly's timers run. */
static void introduce_peer(world *w)
{
    uint8_t pkt[WIRE_IPV6_HDR_LEN + 64];
    wire_ipv6 ip = {.next_header = WIRE_IPPROTO_ICMPV6, .hop_limit = 255};
    memcpy(ip.src, PEER, 16);
    wire_ipv6addr_solicited_node(ip.dst, US);
    ip.payload_len = wire_nd_emit_ns(pkt + WIRE_IPV6_HDR_LEN, sizeof pkt - WIRE_IPV6_HDR_LEN,
                                     PEER, ip.dst, US, PEER_MAC);
    assert_true(ip.payload_len > 0);
    wire_ipv6_emit(pkt, WIRE_IPV6_HDR_LEN, &ip);
    inject(w, pkt, WIRE_IPV6_HDR_LEN + ip.payload_len);
    w->asked = true;
    answer_peer(w);
    w->nout = w->next = 0;
}

static void send_frag(world *w, const fspec *f)
{
    static uint8_t pkt[65536 + 128];
    inject(w, pkt, frag_pkt(pkt, sizeof pkt, f));
}

/* Piece i of `data` (len bytes) cut in pieces of `piece` bytes, as
 * ICMPv6 (the last piece shorter). */
static void send_piece(world *w, uint32_t id, const uint8_t *data, size_t len, size_t piece,
                       size_t i)
{
    size_t off = i * piece, n = len - off < piece ? len - off : piece;
    send_frag(w, &(fspec){.id = id, .nh = WIRE_IPPROTO_ICMPV6, .data = data, .off = off,
                          .len = n, .more = off + n < len});
}

static size_t npieces(size_t len, size_t piece) { return (len + piece - 1) / piece; }

/* An echo request from PEER to US with `n` data bytes (byte i: i * 7 + 3). */
static size_t echo_request(uint8_t *buf, size_t cap, size_t n)
{
    static uint8_t data[4096];
    assert_true(n <= sizeof(data));
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    size_t len = wire_icmpv6_emit_echo(buf, cap, PEER, US, WIRE_ICMPV6_ECHO_REQUEST, ECHO_ID,
                                       ECHO_SEQ, data, n);
    assert_int_equal(len, 8 + n);
    return len;
}

/* ------------------------------------------------------------ what the stack sends */

static void expect_none_at(world *w, int line)
{
    if (w->next != w->nout)
        fail_msg("line %d: %zu frame(s) not expected", line, w->nout - w->next);
}
#define expect_none(w) expect_none_at((w), __LINE__)

/* The next frame: to `mac`, IPv6 from US to PEER, a valid ICMPv6 message
 * (checksum checked); its IPv6 header in *ip. */
static wire_icmpv6 pop_icmpv6(world *w, const uint8_t *mac, wire_ipv6 *ip)
{
    assert_true(w->next < w->nout);
    size_t i = w->next++;
    const uint8_t *p = w->out[i];
    size_t len = w->out_len[i];
    if (mac) {
        wire_eth e;
        assert_int_equal(wire_eth_parse(p, len, &e), WIRE_OK);
        assert_memory_equal(e.dst, mac, 6);
        assert_memory_equal(e.src, US_MAC, 6);
        assert_int_equal(e.type, WIRE_ETHERTYPE_IPV6);
        p = e.payload;
        len = e.payload_len;
    }
    wire_icmpv6 m;
    assert_int_equal(wire_ipv6_parse(p, len, ip), WIRE_OK);
    assert_memory_equal(ip->src, US, 16);
    assert_memory_equal(ip->dst, PEER, 16);
    assert_int_equal(ip->next_header, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(wire_icmpv6_parse(ip->payload, ip->payload_len, ip->src, ip->dst, &m),
                     WIRE_OK);
    return m;
}

/* The echo reply to echo_request(n), sent to `mac`. */
static void expect_echo_reply(world *w, const uint8_t *mac, size_t n)
{
    wire_ipv6 ip;
    wire_icmpv6 m = pop_icmpv6(w, mac, &ip);
    assert_int_equal(m.type, WIRE_ICMPV6_ECHO_REPLY);
    assert_int_equal(m.body, (uint32_t)ECHO_ID << 16 | ECHO_SEQ);
    assert_int_equal(m.data_len, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(m.data[i], (uint8_t)(i * 7 + 3));
}

/* An error of `type` and `code` with `body` to PEER_MAC quoting exactly
 * `quote` (quote_len bytes). */
static void expect_error(world *w, uint8_t type, uint8_t code, uint32_t body,
                         const uint8_t *quote, size_t quote_len)
{
    wire_ipv6 ip;
    wire_icmpv6 m = pop_icmpv6(w, PEER_MAC, &ip);
    assert_int_equal(m.type, type);
    assert_int_equal(m.code, code);
    assert_int_equal(m.body, body);
    assert_int_equal(m.data_len, quote_len);
    assert_memory_equal(m.data, quote, quote_len);
}

/* Pop the fragments of one packet from US to `dst`, to `mac` (NULL: an IP
 * link), in order (RFC 8200 §4.5: a fragment header right after the fixed
 * one, one identification, offsets adding up, M on all but the last, data
 * a multiple of 8 bytes but in the last, each packet within the MTU of
 * 1500) and put their data together in `buf`: its length. */
static size_t pop_fragments(world *w, const uint8_t *mac, const uint8_t dst[16], uint8_t *buf,
                            size_t cap, uint32_t *id)
{
    size_t total = 0;
    for (int more = 1; more;) {
        assert_true(w->next < w->nout);
        size_t i = w->next++;
        const uint8_t *p = w->out[i];
        size_t len = w->out_len[i];
        if (mac) {
            wire_eth e;
            assert_int_equal(wire_eth_parse(p, len, &e), WIRE_OK);
            assert_memory_equal(e.dst, mac, 6);
            p = e.payload;
            len = e.payload_len;
        }
        assert_true(len <= 1500);
        wire_ipv6 ip;
        wire_ipv6_ext x;
        assert_int_equal(wire_ipv6_parse(p, len, &ip), WIRE_OK);
        assert_memory_equal(ip.src, US, 16);
        assert_memory_equal(ip.dst, dst, 16);
        assert_int_equal(ip.next_header, WIRE_IPPROTO_FRAGMENT);
        assert_int_equal(wire_ipv6_walk(&ip, &x), WIRE_FRAGMENT);
        assert_int_equal(x.proto, WIRE_IPPROTO_ICMPV6);
        assert_int_equal(x.frag.hdr_off, WIRE_IPV6_HDR_LEN);
        if (total == 0)
            *id = x.frag.id;
        assert_int_equal(x.frag.id, *id);
        assert_int_equal(x.frag.offset, total);
        assert_true(x.payload_len <= cap - total);
        memcpy(buf + total, x.payload, x.payload_len);
        total += x.payload_len;
        more = x.frag.more;
        if (more)
            assert_int_equal(x.payload_len % 8, 0);
    }
    return total;
}

/* The echo reply to an echo request of `n` data bytes (as echo_request
 * makes them) from `dst`, in fragments: put together, its checksum right,
 * the request's id, seq and data. Their identification. */
static uint32_t expect_fragmented_echo_reply(world *w, const uint8_t *mac, const uint8_t dst[16],
                                             size_t n)
{
    static uint8_t whole[65536];
    uint32_t id;
    size_t len = pop_fragments(w, mac, dst, whole, sizeof whole, &id);
    wire_icmpv6 m;
    assert_int_equal(wire_icmpv6_parse(whole, len, US, dst, &m), WIRE_OK);
    assert_int_equal(m.type, WIRE_ICMPV6_ECHO_REPLY);
    assert_int_equal(m.body, (uint32_t)ECHO_ID << 16 | ECHO_SEQ);
    assert_int_equal(m.data_len, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(m.data[i], (uint8_t)(i * 7 + 3));
    return id;
}

/* ------------------------------------------------------------ counters */

typedef struct counts {
    uint64_t reqds, oks, fails, timeout, overlaps, time_excds, parm_probs, hdr_errors;
} counts;

static counts now_counts(const world *w)
{
    const synack_counters *c = synack_get_counters(w->s);
    return (counts){c->ip6_reasm_reqds,      c->ip6_reasm_oks,      c->ip6_reasm_fails,
                    c->ip6_reasm_timeout,    c->ip6_reasm_overlaps, c->icmp6_out_time_excds,
                    c->icmp6_out_parm_problems, c->ip6_in_hdr_errors};
}

#define expect_counts(w, c0, ...) expect_counts_at((w), (c0), (counts){__VA_ARGS__}, __LINE__)
static void expect_counts_at(const world *w, counts c0, counts want, int line)
{
    counts c = now_counts(w);
    counts d = {c.reqds - c0.reqds,           c.oks - c0.oks,
                c.fails - c0.fails,           c.timeout - c0.timeout,
                c.overlaps - c0.overlaps,     c.time_excds - c0.time_excds,
                c.parm_probs - c0.parm_probs, c.hdr_errors - c0.hdr_errors};
    if (memcmp(&d, &want, sizeof(d)) != 0)
        fail_msg("line %d: reqds/oks/fails/timeout/overlaps/time_excds/parm_probs/hdr_errors "
                 "moved by %llu/%llu/%llu/%llu/%llu/%llu/%llu/%llu, expected "
                 "%llu/%llu/%llu/%llu/%llu/%llu/%llu/%llu",
                 line, (unsigned long long)d.reqds, (unsigned long long)d.oks,
                 (unsigned long long)d.fails, (unsigned long long)d.timeout,
                 (unsigned long long)d.overlaps, (unsigned long long)d.time_excds,
                 (unsigned long long)d.parm_probs, (unsigned long long)d.hdr_errors,
                 (unsigned long long)want.reqds, (unsigned long long)want.oks,
                 (unsigned long long)want.fails, (unsigned long long)want.timeout,
                 (unsigned long long)want.overlaps, (unsigned long long)want.time_excds,
                 (unsigned long long)want.parm_probs, (unsigned long long)want.hdr_errors);
}

#define ANY UINT64_MAX
/* IPv6 datagrams held and the bytes they are charged (ANY: not checked). */
static void expect_held(const world *w, uint32_t datagrams, uint64_t bytes)
{
    synack_sockstat st;
    synack_get_sockstat(w->s, &st);
    assert_int_equal(st.frag6_inuse, datagrams);
    if (bytes != ANY)
        assert_int_equal(st.frag6_memory, bytes);
}

/* One datagram of `nfrags` fragments holding `bytes` of data... */
static uint64_t cost(size_t nfrags, size_t bytes)
{
    return sizeof(reasm_dgram) + nfrags * sizeof(reasm_frag) + bytes;
}

/* ... with its first fragment, which keeps its 48 bytes of headers. */
static uint64_t cost_first(size_t nfrags, size_t bytes)
{
    return cost(nfrags, bytes) + WIRE_IPV6_HDR_LEN + FRAG_HDR;
}

/* ------------------------------------------------------------ whole datagrams */

/* An echo request in three fragments, in order: answered once whole, to
 * the MAC the fragments came from; ip6frag_time (60 s) runs meanwhile. */
static void echo_in_order(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof req, 64); /* 72 bytes */
    counts c0 = now_counts(w);
    send_piece(w, 1, req, len, 24, 0);
    send_piece(w, 1, req, len, 24, 1);
    expect_none(w);
    expect_held(w, 1, cost_first(2, 48));
    assert_int_equal(deadline_ms(w), 60000);
    send_piece(w, 1, req, len, 24, 2);
    expect_echo_reply(w, PEER_MAC, 64);
    expect_none(w);
    expect_counts(w, c0, .reqds = 3, .oks = 1);
    expect_held(w, 0, 0);
    assert_int_equal(synack_get_counters(w->s)->icmp6_out_echo_replies, 1);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX);
}

/* Nine fragments of 8 bytes, last first. */
static void echo_reversed(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof req, 64);
    counts c0 = now_counts(w);
    for (size_t i = npieces(len, 8); i-- > 0;) {
        expect_none(w);
        send_piece(w, 9, req, len, 8, i);
    }
    expect_echo_reply(w, PEER_MAC, 64);
    expect_none(w);
    expect_counts(w, c0, .reqds = 9, .oks = 1);
    expect_held(w, 0, 0);
}

/* Two datagrams (ids 1 and 2) shuffled and interleaved, with an IPv4
 * datagram of the same identification among them: each answered when its
 * own last hole closes; the families are counted apart. */
static void interleaved(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[512];
    size_t len = echo_request(req, sizeof req, 200); /* 208 bytes: 8 x 24 + 16 */
    static const size_t order[9] = {4, 8, 0, 6, 2, 7, 1, 5, 3};
    uint8_t v4[WIRE_IPV4_HDR_LEN + 8] = {0};
    wire_ipv4_emit(v4, sizeof v4, 0x0a000001u, 0x0a000002u, WIRE_IPPROTO_ICMP, 64, 1, 8);
    wire_put16(v4 + 6, 0x2000);
    wire_put16(v4 + 10, 0);
    wire_put16(v4 + 10, wire_csum_fold(wire_csum_add(0, v4, WIRE_IPV4_HDR_LEN)));
    uint8_t frame[WIRE_ETH_HDR_LEN + sizeof v4];
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, US_MAC, PEER_MAC, WIRE_ETHERTYPE_IPV4);
    memcpy(frame + WIRE_ETH_HDR_LEN, v4, sizeof v4);
    counts c0 = now_counts(w);
    for (size_t k = 0; k < 9; k++) {
        send_piece(w, 1, req, len, 24, order[k]);
        if (k == 4)
            synack_input(w->s, frame, sizeof frame, w->now);
        if (k < 8)
            send_piece(w, 2, req, len, 24, order[8 - k]);
    }
    expect_echo_reply(w, PEER_MAC, 200);
    expect_none(w);
    expect_held(w, 1, ANY);
    send_piece(w, 2, req, len, 24, order[0]);
    expect_echo_reply(w, PEER_MAC, 200);
    expect_none(w);
    expect_counts(w, c0, .reqds = 18, .oks = 2);
    expect_held(w, 0, 0);
    synack_sockstat st;
    synack_get_sockstat(w->s, &st);
    assert_int_equal(st.frag_inuse, 1); /* the IPv4 one, still waiting */
    assert_int_equal(synack_get_counters(w->s)->ip_reasm_reqds, 1);
}

/* The key is (source, destination, identification): the same id from
 * another source is another datagram. The next header is the first
 * fragment's: later fragments' own are ignored (RFC 8200 §4.5). */
static void key_and_next_header(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[128];
    assert_int_equal(echo_request(req, sizeof req, 24), 32);
    counts c0 = now_counts(w);
    send_frag(w, &(fspec){.id = 5, .nh = WIRE_IPPROTO_ICMPV6, .data = req, .len = 16, .more = 1});
    send_frag(w, &(fspec){.id = 5, .nh = WIRE_IPPROTO_ICMPV6, .data = req, .off = 16,
                          .len = 16, .src = PEER2});
    expect_none(w);
    expect_held(w, 2, ANY);
    send_frag(w, &(fspec){.id = 5, .nh = WIRE_IPPROTO_TCP, .data = req, .off = 16, .len = 16});
    expect_echo_reply(w, PEER_MAC, 24);
    expect_none(w);
    expect_held(w, 1, cost(1, 16));
    expect_counts(w, c0, .reqds = 3, .oks = 1);
}

/* Extension headers on both sides of the fragment header: a hop-by-hop
 * header before it is per-fragment and kept from the first fragment (its
 * Next Header rewritten to name what the fragment header named), a
 * destination options header after it is part of the fragmented data. */
static void extension_headers_around(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    static const uint8_t hbh[8] = {WIRE_IPPROTO_FRAGMENT, 0, 1, 4, 0, 0, 0, 0}; /* PadN */
    uint8_t data[128];
    data[0] = WIRE_IPPROTO_ICMPV6; /* destination options: PadN */
    memcpy(data + 1, (const uint8_t[]){0, 1, 4, 0, 0, 0, 0}, 7);
    size_t len = 8 + echo_request(data + 8, sizeof data - 8, 40); /* 56 bytes */
    counts c0 = now_counts(w);
    for (size_t i = 0; i < 2; i++)
        send_frag(w, &(fspec){.id = 6, .nh = WIRE_IPPROTO_DSTOPTS, .data = data, .off = 32 * i,
                              .len = i ? len - 32 : 32, .more = !i, .pre = hbh, .pre_len = 8,
                              .pre_type = WIRE_IPPROTO_HOPOPTS});
    expect_echo_reply(w, PEER_MAC, 40);
    expect_none(w);
    expect_counts(w, c0, .reqds = 2, .oks = 1);
    expect_held(w, 0, 0);
}

/* A TCP SYN (with 8 bytes of data, so that it has something to fragment
 * after its header, which RFC 7112 keeps whole) reaches a listener as TCP
 * over IPv6, from the reassembled packet's addresses: answered with a
 * SYN,ACK. On an IP link, where IPv6 TCP goes out today. */
static void tcp_syn_in_fragments(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_IP);
    synack_sock *l = synack_socket(w->s);
    assert_int_equal(synack_bind(l, 80), 0);
    assert_int_equal(synack_listen(l, 8), 0);
    uint8_t seg[64] = {0};
    wire_tcp t = {.sport = 40000, .dport = 80, .seq = 1000, .flags = SYNACK_SYN, .wnd = 65535};
    wire_tcp_opts_clear(&t.opt);
    t.opt.mss = 1440;
    t.hdr_len = 24;
    assert_int_equal(wire_tcp_emit_header(seg, sizeof seg, &t), 24);
    memcpy(seg + 24, "fragment", 8);
    wire_tcp_set_checksum6(seg, 32, PEER, US);
    counts c0 = now_counts(w);
    send_frag(w, &(fspec){.id = 60, .nh = WIRE_IPPROTO_TCP, .data = seg, .len = 24, .more = 1});
    expect_none(w);
    send_frag(w, &(fspec){.id = 60, .nh = WIRE_IPPROTO_TCP, .data = seg, .off = 24, .len = 8});
    assert_true(w->next < w->nout);
    wire_ipv6 ip;
    wire_tcp sa;
    assert_int_equal(wire_ipv6_parse(w->out[w->next], w->out_len[w->next], &ip), WIRE_OK);
    w->next++;
    assert_memory_equal(ip.src, US, 16);
    assert_memory_equal(ip.dst, PEER, 16);
    assert_int_equal(ip.next_header, WIRE_IPPROTO_TCP);
    assert_int_equal(wire_tcp_parse6(ip.payload, ip.payload_len, ip.src, ip.dst, &sa), WIRE_OK);
    assert_int_equal(sa.flags, SYNACK_SYN | SYNACK_ACK);
    assert_int_equal(sa.ack, 1001);
    assert_int_equal(sa.dport, 40000);
    expect_none(w);
    expect_counts(w, c0, .reqds = 2, .oks = 1);
    synack_close(l);
}

/* RFC 6946: an atomic fragment (offset 0, M clear) is a whole packet,
 * processed on its own even while a datagram of its identification is
 * being reassembled, and counted as Linux counts it. */
static void atomic_fragment(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof req, 24);
    counts c0 = now_counts(w);
    send_piece(w, 7, req, len, 16, 1); /* a datagram with id 7 waits */
    send_frag(w, &(fspec){.id = 7, .nh = WIRE_IPPROTO_ICMPV6, .data = req, .len = len});
    expect_echo_reply(w, PEER_MAC, 24);
    expect_none(w);
    expect_counts(w, c0, .reqds = 2, .oks = 1);
    expect_held(w, 1, cost(1, 16));
}

/* ------------------------------------------------------------ refused */

/* RFC 6980 §5: Neighbour Discovery never comes with a fragment header. A
 * solicitation for our address in fragments, or behind an atomic fragment
 * header, is counted and not answered. */
static void fragmented_nd_ignored(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t group[16], ns[64];
    wire_ipv6addr_solicited_node(group, US);
    size_t len = wire_nd_emit_ns(ns, sizeof ns, PEER, group, US, PEER_MAC);
    assert_int_equal(len, 32);
    counts c0 = now_counts(w);
    for (size_t off = 0; off < len; off += 16)
        send_frag(w, &(fspec){.id = 50, .nh = WIRE_IPPROTO_ICMPV6, .data = ns, .off = off,
                              .len = 16, .more = off + 16 < len, .dst = group,
                              .hop_limit = 255});
    send_frag(w, &(fspec){.id = 51, .nh = WIRE_IPPROTO_ICMPV6, .data = ns, .len = len,
                          .dst = group, .hop_limit = 255});
    expect_none(w);
    expect_counts(w, c0, .reqds = 3, .oks = 2);
    assert_int_equal(synack_get_counters(w->s)->icmp6_in_errors, 2);
    assert_int_equal(synack_get_counters(w->s)->icmp6_in_neigh_solicits, 1); /* introduce_peer's */
}

/* An overlap drops the whole datagram silently (RFC 5722), and its later
 * fragments too: the record stays until ip6frag_time, then goes without
 * a time exceeded. */
static void overlap_drops_datagram(void **state)
{
    static const struct {
        size_t off[2], len[2];
    } cases[] = {
        {{0, 8}, {16, 16}}, /* the second begins inside the first   */
        {{8, 0}, {16, 16}}, /* the second ends inside the first     */
        {{0, 0}, {16, 8}},  /* same offset, shorter: not a duplicate */
        {{0, 8}, {24, 8}},  /* the second lies inside the first     */
        {{8, 0}, {8, 24}},  /* the second covers the first          */
    };
    uint8_t req[128];
    size_t len = echo_request(req, sizeof req, 64); /* 72 bytes */
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
        counts c0 = now_counts(w);
        for (int k = 0; k < 2; k++)
            send_frag(w, &(fspec){.id = 3, .nh = WIRE_IPPROTO_ICMPV6, .data = req,
                                  .off = cases[i].off[k], .len = cases[i].len[k], .more = 1});
        expect_counts(w, c0, .reqds = 2, .fails = 1, .overlaps = 1);
        expect_held(w, 1, cost(0, 0));
        for (size_t off = 0; off < len; off += 8) /* everything, now in order */
            send_piece(w, 3, req, len, 8, off / 8);
        expect_none(w);
        expect_counts(w, c0, .reqds = 2 + 9, .fails = 1 + 9, .overlaps = 1);
        expect_held(w, 1, cost(0, 0));
        advance_ms(w, 60000);
        expect_none(w);
        expect_counts(w, c0, .reqds = 11, .fails = 10, .overlaps = 1);
        expect_held(w, 0, 0);
        send_piece(w, 3, req, len, 8, 0); /* a new datagram after that */
        expect_held(w, 1, ANY);
        teardown(state);
    }
}

/* An exact duplicate (same offset and length) of a fragment held is
 * dropped alone and counted, as Linux does (RFC 5722 §4 allows it): the
 * datagram completes, answered once. */
static void duplicate_dropped_alone(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof req, 64);
    counts c0 = now_counts(w);
    send_piece(w, 4, req, len, 16, 0);
    send_piece(w, 4, req, len, 16, 4); /* the last: 8 bytes */
    send_piece(w, 4, req, len, 16, 0);
    send_piece(w, 4, req, len, 16, 4);
    expect_counts(w, c0, .reqds = 4, .fails = 2);
    expect_held(w, 1, cost_first(2, 24));
    for (size_t i = 1; i < 4; i++)
        send_piece(w, 4, req, len, 16, i);
    expect_echo_reply(w, PEER_MAC, 64);
    expect_none(w);
    expect_counts(w, c0, .reqds = 7, .oks = 1, .fails = 2);
    expect_held(w, 0, 0);
}

/* `ping -6 -s 3000`: the request comes in fragments of 1232 bytes, and the
 * 3008-byte reply, over the MTU (1500), goes in fragments too (RFC 4443
 * §4.2 wants it back; RFC 8200 §4.5): 1448 + 1448 + 112 bytes, a new
 * identification each time, on Ethernet and IP links. Counted as Linux
 * counts: Ip6FragOKs a packet, Ip6FragCreates a fragment, Ip6OutRequests
 * and Icmp6OutEchoReplies once. */
static void big_echo_reply_in_fragments(void **state)
{
    static uint8_t req[4096];
    size_t len = echo_request(req, sizeof req, 3000);
    for (int link = SYNACK_LINK_ETHERNET; link <= SYNACK_LINK_IP; link++) {
        world *w = *state = world_new(NULL, link);
        const uint8_t *mac = link == SYNACK_LINK_ETHERNET ? PEER_MAC : NULL;
        const synack_counters *c = synack_get_counters(w->s);
        uint64_t requests = c->ip6_out_requests;
        uint32_t ids[2];
        for (int round = 0; round < 2; round++) {
            for (size_t i = 0; i < npieces(len, 1232); i++)
                send_piece(w, (uint32_t)(40 + round), req, len, 1232, i);
            size_t eth = mac ? WIRE_ETH_HDR_LEN : 0;
            assert_int_equal(w->nout - w->next, 3);
            assert_int_equal(w->out_len[w->next], eth + 1496);
            assert_int_equal(w->out_len[w->next + 1], eth + 1496);
            assert_int_equal(w->out_len[w->next + 2], eth + 48 + 112);
            ids[round] = expect_fragmented_echo_reply(w, mac, PEER, 3000);
            expect_none(w);
            w->nout = w->next = 0;
        }
        assert_int_not_equal(ids[0], ids[1]);
        assert_int_equal(c->icmp6_out_echo_replies, 2);
        assert_int_equal(c->ip6_frag_oks, 2);
        assert_int_equal(c->ip6_frag_creates, 6);
        assert_int_equal(c->ip6_frag_fails, 0);
        assert_int_equal(c->ip6_out_requests - requests, 2);
        assert_int_equal(c->ip_out_too_big, 0);
        assert_int_equal(c->ip_frag_oks, 0);
        teardown(state);
    }
}

/* A pinger not yet resolved: the reply's fragments wait for its
 * advertisement together (the solicitation goes meanwhile), and come out
 * whole and in order once it answers. */
static void fragments_wait_for_resolution(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    static uint8_t data[3000], req[4096];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 3);
    size_t len = wire_icmpv6_emit_echo(req, sizeof req, PEER2, US, WIRE_ICMPV6_ECHO_REQUEST,
                                       ECHO_ID, ECHO_SEQ, data, sizeof data);
    for (size_t off = 0; off < len; off += 1232) {
        size_t n = len - off < 1232 ? len - off : 1232;
        send_frag(w, &(fspec){.id = 44, .nh = WIRE_IPPROTO_ICMPV6, .data = req, .off = off,
                              .len = n, .more = off + n < len, .src = PEER2});
    }
    expect_none(w);
    assert_true(w->asked); /* solicited PEER2 */
    w->asked = false;
    uint8_t pkt[WIRE_IPV6_HDR_LEN + 64];
    wire_ipv6 ip = {.next_header = WIRE_IPPROTO_ICMPV6, .hop_limit = 255};
    memcpy(ip.src, PEER2, 16);
    memcpy(ip.dst, US, 16);
    ip.payload_len = wire_nd_emit_na(pkt + WIRE_IPV6_HDR_LEN, sizeof pkt - WIRE_IPV6_HDR_LEN,
                                     PEER2, US, WIRE_ND_NA_SOLICITED, PEER2, OTHER_MAC);
    wire_ipv6_emit(pkt, WIRE_IPV6_HDR_LEN, &ip);
    w->peer_mac = OTHER_MAC;
    inject(w, pkt, WIRE_IPV6_HDR_LEN + ip.payload_len);
    expect_fragmented_echo_reply(w, OTHER_MAC, PEER2, 3000);
    expect_none(w);
    assert_int_equal(synack_get_counters(w->s)->nd_unresolved_drops, 0);
}

/* REASM_MAX_FRAGS (256) fragments make a datagram; one more drops it. */
#define MAXF 256
static void too_many_fragments(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    static uint8_t req[4096];
    size_t len = echo_request(req, sizeof req, MAXF * 8 - 8);
    counts c0 = now_counts(w);
    for (size_t i = 0; i < MAXF; i++)
        send_piece(w, 6, req, len, 8, i);
    /* Reassembled; the 2 KiB reply is over the MTU: in two fragments. */
    expect_counts(w, c0, .reqds = MAXF, .oks = 1);
    expect_fragmented_echo_reply(w, PEER_MAC, PEER, MAXF * 8 - 8);
    assert_int_equal(synack_get_counters(w->s)->ip6_frag_creates, 2);
    expect_none(w);
    len = echo_request(req, sizeof req, (MAXF + 1) * 8 - 8);
    c0 = now_counts(w);
    for (size_t i = 0; i < MAXF; i++)
        send_piece(w, 7, req, len, 8, i);
    expect_held(w, 1, cost_first(MAXF, MAXF * 8));
    send_piece(w, 7, req, len, 8, MAXF);
    expect_none(w);
    expect_counts(w, c0, .reqds = MAXF + 1, .fails = 1);
    expect_held(w, 0, 0);
}

/* RFC 8200 §4.5: data not a multiple of 8 bytes with M set is answered
 * with a parameter problem, code 0, pointing at the Payload Length; a
 * datagram of that identification held meanwhile is kept, as in Linux. */
static void not_multiple_of_8(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[128], pkt[256];
    size_t len = echo_request(req, sizeof req, 24); /* 32 bytes */
    send_piece(w, 10, req, len, 16, 1);
    counts c0 = now_counts(w);
    size_t n = frag_pkt(pkt, sizeof pkt, &(fspec){.id = 10, .nh = WIRE_IPPROTO_ICMPV6,
                                                  .data = req, .len = 12, .more = 1});
    inject(w, pkt, n);
    expect_error(w, WIRE_ICMPV6_PARAM_PROBLEM, WIRE_ICMPV6_PP_HEADER, 4, pkt, n);
    expect_none(w);
    expect_counts(w, c0, .reqds = 1, .parm_probs = 1, .hdr_errors = 1);
    expect_held(w, 1, cost(1, 16));
    send_piece(w, 10, req, len, 16, 0);
    expect_echo_reply(w, PEER_MAC, 24);
}

/* A fragment that would make the packet longer than 65535 bytes: a
 * parameter problem, code 0, pointing at the Fragment Offset field (42:
 * the fragment header right after the fixed one, then 2 bytes). */
static void past_65535(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    static uint8_t zero[65536 + 16], pkt[256];
    counts c0 = now_counts(w);
    size_t n = frag_pkt(pkt, sizeof pkt, &(fspec){.id = 11, .nh = WIRE_IPPROTO_ICMPV6,
                                                  .data = zero, .off = 65528, .len = 16});
    inject(w, pkt, n);
    expect_error(w, WIRE_ICMPV6_PARAM_PROBLEM, WIRE_ICMPV6_PP_HEADER, 42, pkt, n);
    expect_counts(w, c0, .reqds = 1, .parm_probs = 1, .hdr_errors = 1);
    expect_held(w, 0, 0);
    /* 65528 + 7 = 65535 fits, and is held. */
    send_frag(w, &(fspec){.id = 11, .nh = WIRE_IPPROTO_ICMPV6, .data = zero, .off = 65528,
                          .len = 7});
    expect_none(w);
    expect_counts(w, c0, .reqds = 2, .parm_probs = 1, .hdr_errors = 1);
    expect_held(w, 1, cost(1, 7));
}

/* RFC 7112: a first fragment must hold the whole header chain, the
 * upper-layer header included. A TCP header cut after 8 bytes is refused
 * with a parameter problem, code 3, pointer 0. */
static void incomplete_header_chain(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t seg[40] = {0}, pkt[256];
    seg[12] = 0x50;
    counts c0 = now_counts(w);
    size_t n = frag_pkt(pkt, sizeof pkt, &(fspec){.id = 12, .nh = WIRE_IPPROTO_TCP,
                                                  .data = seg, .len = 8, .more = 1});
    inject(w, pkt, n);
    expect_error(w, WIRE_ICMPV6_PARAM_PROBLEM, WIRE_ICMPV6_PP_CHAIN, 0, pkt, n);
    expect_none(w);
    expect_counts(w, c0, .reqds = 1, .parm_probs = 1, .hdr_errors = 1);
    expect_held(w, 0, 0);
    /* With all 20 bytes of it the fragment is fine. */
    send_frag(w, &(fspec){.id = 12, .nh = WIRE_IPPROTO_TCP, .data = seg, .len = 24, .more = 1});
    expect_none(w);
    expect_held(w, 1, ANY);
}

/* ------------------------------------------------------------ time */

/* Not whole after ip6frag_time: dropped, counted, memory returned, and the
 * source told with ICMPv6 time exceeded, code 1, quoting the first
 * fragment as it came, sent to the MAC that fragment came from. */
static void timeout_sends_time_exceeded(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[128], first[256];
    size_t len = echo_request(req, sizeof req, 64);
    size_t first_len = frag_pkt(first, sizeof first, &(fspec){.id = 20,
                                .nh = WIRE_IPPROTO_ICMPV6, .data = req, .len = 24, .more = 1});
    counts c0 = now_counts(w);
    inject(w, first, first_len);
    advance_ms(w, 1000);
    w->peer_mac = OTHER_MAC;
    send_piece(w, 20, req, len, 24, 2);
    expect_held(w, 1, cost_first(2, 48));
    assert_int_equal(deadline_ms(w), 59000); /* from the first fragment */
    advance_ms(w, 58999);
    expect_none(w);
    advance_ms(w, 1);
    expect_error(w, WIRE_ICMPV6_TIME_EXCEEDED, WIRE_ICMPV6_TE_FRAGTIME, 0, first, first_len);
    expect_none(w);
    expect_counts(w, c0, .reqds = 2, .fails = 1, .timeout = 1, .time_excds = 1);
    expect_held(w, 0, 0);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX);
}

/* Without its first fragment a datagram times out silently, even when a
 * fragment's data looks like an IPv6 packet that could be quoted, and on
 * an IP link too, where no MAC is missing; ip6frag_time (set by its
 * net.ipv6 name) says when. */
static void timeout_without_first_fragment(void **state)
{
    uint8_t data[128] = {0};
    wire_ipv6 h = {.next_header = WIRE_IPPROTO_ICMPV6, .hop_limit = 64, .payload_len = 8};
    memcpy(h.src, PEER, 16);
    memcpy(h.dst, US, 16);
    wire_ipv6_emit(data + 24, WIRE_IPV6_HDR_LEN, &h);
    wire_icmpv6_emit_echo(data + 64, 8, PEER, US, WIRE_ICMPV6_ECHO_REQUEST, 1, 1, NULL, 0);
    for (int link = SYNACK_LINK_ETHERNET; link <= SYNACK_LINK_IP; link++) {
        world *w = *state = world_new("net.ipv6.ip6frag_time=5", link);
        counts c0 = now_counts(w);
        send_frag(w, &(fspec){.id = 21, .nh = WIRE_IPPROTO_ICMPV6, .data = data, .off = 24,
                              .len = 48, .more = 1});
        send_frag(w, &(fspec){.id = 21, .nh = WIRE_IPPROTO_ICMPV6, .data = data, .off = 72,
                              .len = 8});
        assert_int_equal(deadline_ms(w), 5000);
        advance_ms(w, 4999);
        expect_held(w, 1, cost(2, 56));
        advance_ms(w, 1);
        expect_none(w);
        expect_counts(w, c0, .reqds = 2, .fails = 1, .timeout = 1);
        expect_held(w, 0, 0);
        teardown(state);
    }
}

/* No time exceeded where RFC 4443 §2.4(e) forbids one: about an ICMPv6
 * error message, or to a multicast destination; and not beyond the global
 * ICMP rate limit (icmp_msgs_burst 1 here). */
static void timeout_silent_or_limited(void **state)
{
    world *w = *state = world_new("icmp_msgs_burst=1 icmp_msgs_per_sec=1", SYNACK_LINK_ETHERNET);
    uint8_t quote[48] = {0x60}, err[64], req[128];
    assert_int_equal(wire_icmpv6_emit_dest_unreach(err, sizeof err, PEER, US, 3, quote,
                                                   sizeof quote), 56);
    size_t len = echo_request(req, sizeof req, 64);
    counts c0 = now_counts(w);
    send_frag(w, &(fspec){.id = 22, .nh = WIRE_IPPROTO_ICMPV6, .data = err, .len = 32,
                          .more = 1});
    send_frag(w, &(fspec){.id = 23, .nh = WIRE_IPPROTO_ICMPV6, .data = req, .len = 32,
                          .more = 1, .dst = ALL_NODES});
    send_piece(w, 24, req, len, 24, 0);
    send_piece(w, 25, req, len, 24, 0);
    expect_held(w, 4, ANY);
    advance_ms(w, 60000);
    wire_ipv6 ip;
    assert_int_equal(pop_icmpv6(w, PEER_MAC, &ip).type, WIRE_ICMPV6_TIME_EXCEEDED);
    expect_none(w);
    expect_counts(w, c0, .reqds = 4, .fails = 4, .timeout = 4, .time_excds = 1);
    assert_int_equal(synack_get_counters(w->s)->icmp_out_rate_limited, 1);
}

/* RFC 4443 §2.4(e.4), (e.5): a datagram whose first fragment came in a
 * link-layer broadcast or multicast frame times out silently; the first
 * fragment decides, as it is the one quoted. The same after reassembly:
 * a parameter problem about the whole packet goes by its first fragment. */
static void timeout_after_link_layer_group(void **state)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t all_nodes_mac[6] = {0x33, 0x33, 0, 0, 0, 1};
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof req, 64);
    counts c0 = now_counts(w);
    w->dst_mac = bcast;
    send_piece(w, 26, req, len, 24, 0);
    w->dst_mac = all_nodes_mac;
    send_piece(w, 27, req, len, 24, 0);
    w->dst_mac = NULL;
    send_piece(w, 26, req, len, 24, 1);
    send_piece(w, 28, req, len, 24, 0);
    w->dst_mac = bcast;
    send_piece(w, 28, req, len, 24, 1); /* not the first: changes nothing */
    w->dst_mac = NULL;
    advance_ms(w, 60000);
    wire_ipv6 ip;
    wire_icmpv6 m = pop_icmpv6(w, PEER_MAC, &ip);
    assert_int_equal(m.type, WIRE_ICMPV6_TIME_EXCEEDED);
    assert_int_equal(wire_get32(m.data + WIRE_IPV6_HDR_LEN + 4), 28); /* its id */
    expect_none(w);
    expect_counts(w, c0, .reqds = 5, .fails = 3, .timeout = 3, .time_excds = 1);

    /* A destination options header with option 0xde (action 11) after the
     * fragment header: a parameter problem once the packet is whole. */
    uint8_t pkt[160];
    memcpy(pkt, (const uint8_t[8]){WIRE_IPPROTO_ICMPV6, 0, 0xde, 4, 0, 0, 0, 0}, 8);
    memcpy(pkt + 8, req, len);
    for (int group = 1; group >= 0; group--) {
        uint32_t id = 29 + (uint32_t)group;
        w->dst_mac = group ? bcast : NULL;
        send_frag(w, &(fspec){.id = id, .nh = WIRE_IPPROTO_DSTOPTS, .data = pkt, .len = 32,
                              .more = 1});
        w->dst_mac = NULL;
        send_frag(w, &(fspec){.id = id, .nh = WIRE_IPPROTO_DSTOPTS, .data = pkt, .off = 32,
                              .len = 8 + len - 32});
    }
    m = pop_icmpv6(w, PEER_MAC, &ip);
    assert_int_equal(m.type, WIRE_ICMPV6_PARAM_PROBLEM);
    assert_int_equal(m.code, WIRE_ICMPV6_PP_OPTION);
    expect_none(w);
    assert_int_equal(synack_get_counters(w->s)->icmp6_out_parm_problems, 1);
}

/* IPv4 the same (RFC 1122 §3.2.2): a first fragment (an echo request's)
 * from 10.0.0.1 in a broadcast frame times out silently; one in a frame to
 * us gets its time exceeded, which waits for ARP (the one frame out). */
static void ipv4_timeout_after_link_layer_broadcast(void **state)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    world *w = *state = world_new(NULL, SYNACK_LINK_ETHERNET);
    for (int group = 1; group >= 0; group--) {
        uint8_t frame[WIRE_ETH_HDR_LEN + WIRE_IPV4_HDR_LEN + 16] = {0};
        wire_eth_emit(frame, WIRE_ETH_HDR_LEN, group ? bcast : US_MAC, PEER_MAC,
                      WIRE_ETHERTYPE_IPV4);
        uint8_t *ip = frame + WIRE_ETH_HDR_LEN;
        wire_ipv4_emit(ip, WIRE_IPV4_HDR_LEN, 0x0a000001u, 0x0a000002u, WIRE_IPPROTO_ICMP, 64,
                       (uint16_t)(40 + group), 16);
        wire_put16(ip + 6, 0x2000); /* MF, offset 0 */
        wire_put16(ip + 10, 0);
        wire_put16(ip + 10, wire_csum_fold(wire_csum_add(0, ip, WIRE_IPV4_HDR_LEN)));
        ip[WIRE_IPV4_HDR_LEN] = WIRE_ICMP_ECHO_REQUEST;
        synack_input(w->s, frame, sizeof frame, w->now);
    }
    const synack_counters *c = synack_get_counters(w->s);
    assert_int_equal(c->ip_reasm_reqds, 2);
    advance_ms(w, 30000);
    assert_int_equal(c->ip_reasm_timeout, 2);
    assert_int_equal(c->icmp_out_time_excds, 1);
    assert_int_equal(w->nout, 1);
    assert_int_equal(wire_get16(w->out[0] + 12), WIRE_ETHERTYPE_ARP);
}

/* ------------------------------------------------------------ memory */

/* ip6frag_high_thresh bounds the bytes IPv6 datagrams hold, never
 * exceeded: with room for one datagram, a fragment of a second is dropped
 * and counted; IPv4's limit is its own. */
static void memory_limit(void **state)
{
    uint8_t req[1024];
    size_t len = echo_request(req, sizeof req, 768); /* 776: 3 x 256 + 8 */
    char knobs[96];
    snprintf(knobs, sizeof knobs, "ip6frag_high_thresh=%llu ipfrag_high_thresh=0",
             (unsigned long long)cost_first(4, 776));
    world *w = *state = world_new(knobs, SYNACK_LINK_ETHERNET);
    counts c0 = now_counts(w);
    for (size_t i = 0; i < 3; i++)
        send_piece(w, 30, req, len, 256, i);
    expect_held(w, 1, cost_first(3, 768));
    send_piece(w, 31, req, len, 256, 3); /* another datagram */
    expect_counts(w, c0, .reqds = 4, .fails = 1);
    expect_held(w, 1, cost_first(3, 768));
    send_piece(w, 30, req, len, 256, 3);
    expect_echo_reply(w, PEER_MAC, 768);
    expect_held(w, 0, 0);
    for (size_t i = 0; i < 4; i++)
        send_piece(w, 31, req, len, 256, i);
    expect_echo_reply(w, PEER_MAC, 768);
    expect_none(w);
    expect_counts(w, c0, .reqds = 9, .oks = 2, .fails = 1);
    expect_held(w, 0, 0);
    assert_int_equal(synack_get_counters(w->s)->ip_reasm_fails, 0);
}

/* ip6frag_high_thresh 0: no IPv6 reassembly at all. */
static void memory_limit_zero(void **state)
{
    world *w = *state = world_new("ip6frag_high_thresh=0", SYNACK_LINK_ETHERNET);
    uint8_t req[128];
    size_t len = echo_request(req, sizeof req, 24);
    counts c0 = now_counts(w);
    send_piece(w, 32, req, len, 16, 0);
    send_piece(w, 32, req, len, 16, 1);
    expect_none(w);
    expect_counts(w, c0, .reqds = 2, .fails = 2);
    expect_held(w, 0, 0);
    assert_int_equal(synack_next_deadline(w->s), UINT64_MAX);
}

/* ------------------------------------------------------------ the rest */

/* On an IP link (TUN) there is no MAC: answers and errors still go. */
static void ip_link(void **state)
{
    world *w = *state = world_new(NULL, SYNACK_LINK_IP);
    uint8_t req[128], pkt[256];
    size_t len = echo_request(req, sizeof req, 24);
    size_t n = frag_pkt(pkt, sizeof pkt, &(fspec){.id = 40, .nh = WIRE_IPPROTO_ICMPV6,
                                                  .data = req, .len = 12, .more = 1});
    inject(w, pkt, n);
    wire_ipv6 ip;
    wire_icmpv6 m = pop_icmpv6(w, NULL, &ip);
    assert_int_equal(m.type, WIRE_ICMPV6_PARAM_PROBLEM);
    send_piece(w, 41, req, len, 16, 0);
    advance_ms(w, 60000);
    m = pop_icmpv6(w, NULL, &ip);
    assert_int_equal(m.type, WIRE_ICMPV6_TIME_EXCEEDED);
    expect_none(w);
}

/* The knobs have Linux's names (under net.ipv6), defaults and dump lines;
 * the counters their nstat names. */
static void knobs_and_names(void **state)
{
    (void)state;
    synack_config cfg;
    synack_config_init(&cfg);
    assert_int_equal(cfg.net.ip6frag_high_thresh, 4194304);
    assert_int_equal(cfg.net.ip6frag_time, 60);
    assert_int_equal(synack_config_set(&cfg, "net.ipv6.ip6frag_time", "30"), 0);
    assert_int_equal(cfg.net.ip6frag_time, 30);
    assert_int_equal(synack_config_set(&cfg, "ip6frag_high_thresh", "262144"), 0);
    assert_int_equal(cfg.net.ip6frag_high_thresh, 262144);
    assert_int_equal(synack_config_set(&cfg, "net.ipv4.ip6frag_time", "30"), -ENOENT);
    assert_int_equal(synack_config_set(&cfg, "net.ipv6.ipfrag_time", "30"), -ENOENT);
    assert_int_equal(synack_config_set(&cfg, "net.ipv6.ip6frag_time", "0"), -EINVAL);
    assert_int_equal(synack_config_set(&cfg, "net.core.somaxconn", "128"), 0);
    assert_int_equal(synack_config_set(&cfg, "net.ipv4.somaxconn", "128"), -ENOENT);
    assert_int_equal(synack_config_set(&cfg, "net.ipv4.ipfrag_time", "20"), 0);
    char buf[4096];
    synack_config_dump(&cfg, buf, sizeof(buf));
    assert_non_null(strstr(buf, "net.ipv6.ip6frag_high_thresh = 262144\n"));
    assert_non_null(strstr(buf, "net.ipv6.ip6frag_time = 30\n"));
    assert_non_null(strstr(buf, "net.ipv4.ipfrag_time = 20\n"));
    assert_non_null(strstr(buf, "net.core.somaxconn = 128\n"));
    static const char *const names[] = {"Ip6ReasmReqds", "Ip6ReasmOKs", "Ip6ReasmFails",
                                        "Ip6ReasmTimeout", "Ip6ReasmOverlaps",
                                        "Icmp6OutTimeExcds", "Icmp6OutParmProblems",
                                        "Ip6FragOKs", "Ip6FragFails", "Ip6FragCreates",
                                        "IpFragOKs", "IpFragFails", "IpFragCreates"};
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t i = 0;
        while (i < synack_counter_count() && strcmp(synack_counter_name(i), names[k]) != 0)
            i++;
        assert_true(i < synack_counter_count());
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(echo_in_order, teardown),
        cmocka_unit_test_teardown(echo_reversed, teardown),
        cmocka_unit_test_teardown(interleaved, teardown),
        cmocka_unit_test_teardown(key_and_next_header, teardown),
        cmocka_unit_test_teardown(extension_headers_around, teardown),
        cmocka_unit_test_teardown(tcp_syn_in_fragments, teardown),
        cmocka_unit_test_teardown(atomic_fragment, teardown),
        cmocka_unit_test_teardown(fragmented_nd_ignored, teardown),
        cmocka_unit_test_teardown(overlap_drops_datagram, teardown),
        cmocka_unit_test_teardown(duplicate_dropped_alone, teardown),
        cmocka_unit_test_teardown(big_echo_reply_in_fragments, teardown),
        cmocka_unit_test_teardown(fragments_wait_for_resolution, teardown),
        cmocka_unit_test_teardown(too_many_fragments, teardown),
        cmocka_unit_test_teardown(not_multiple_of_8, teardown),
        cmocka_unit_test_teardown(past_65535, teardown),
        cmocka_unit_test_teardown(incomplete_header_chain, teardown),
        cmocka_unit_test_teardown(timeout_sends_time_exceeded, teardown),
        cmocka_unit_test_teardown(timeout_without_first_fragment, teardown),
        cmocka_unit_test_teardown(timeout_silent_or_limited, teardown),
        cmocka_unit_test_teardown(timeout_after_link_layer_group, teardown),
        cmocka_unit_test_teardown(ipv4_timeout_after_link_layer_broadcast, teardown),
        cmocka_unit_test_teardown(memory_limit, teardown),
        cmocka_unit_test_teardown(memory_limit_zero, teardown),
        cmocka_unit_test_teardown(ip_link, teardown),
        cmocka_unit_test(knobs_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
