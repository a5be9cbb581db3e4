/* pkt.c — the packet-conversation harness (see pkt.h). */
#include "common/pkt.h"

#include "tcp/tcp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ hooks */

static void on_output(void *ctx, const void *frame, size_t len)
{
    pkt_h *h = ctx;
    if (h->qlen == PKT_QMAX) {
        print_error("pkt: more than %d frames queued: a test forgot to pop them\n", PKT_QMAX);
        _fail(__FILE__, __LINE__);
    }
    size_t i = (h->qhead + h->qlen++) % PKT_QMAX;
    h->q[i].data = malloc(len ? len : 1);
    assert_non_null(h->q[i].data);
    memcpy(h->q[i].data, frame, len);
    h->q[i].len = len;
}

/* cfg.output_v ("gather=1"): the pieces joined, counted by their number. */
static void on_output_v(void *ctx, const synack_iov *v, int n, size_t len)
{
    pkt_h *h = ctx;
    uint8_t *f = malloc(len);
    assert_non_null(f);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        memcpy(f + at, v[i].base, v[i].len);
        at += v[i].len;
    }
    assert_int_equal(at, len);
    assert_true(n >= 2 && n <= 3);
    h->gathered[n]++;
    on_output(ctx, f, len);
    free(f);
}

/* cfg.data ("direct=N"): take up to N bytes a call, kept in h->direct. */
static size_t on_direct(void *ctx, synack_sock *k, const void *data, size_t len)
{
    (void)k;
    pkt_h *h = ctx;
    size_t n = len < h->direct_take ? len : h->direct_take;
    if (n > sizeof h->direct - h->direct_len)
        n = sizeof h->direct - h->direct_len;
    memcpy(h->direct + h->direct_len, data, n);
    h->direct_len += (uint32_t)n;
    h->direct_calls++;
    return n;
}

/* Deterministic "randomness": a fixed xorshift sequence. */
static void on_random(void *ctx, void *buf, size_t len)
{
    pkt_h *h = ctx;
    uint8_t *p = buf;
    for (size_t i = 0; i < len; i++) {
        h->rng ^= h->rng << 13;
        h->rng ^= h->rng >> 7;
        h->rng ^= h->rng << 17;
        p[i] = (uint8_t)h->rng;
    }
}

static void on_trace(void *ctx, const synack_trace_event *ev)
{
    pkt_h *h = ctx;
    if (ev->kind != SYNACK_TRACE_STATE || h->ntr == PKT_TRMAX)
        return;
    pkt_transition *t = &h->tr[h->ntr++];
    t->conn = ev->conn_id;
    t->from = ev->old_state;
    t->to = ev->new_state;
    snprintf(t->cause, sizeof(t->cause), "%s", ev->cause ? ev->cause : "");
}

static void on_event(void *ctx, synack_sock *sock, unsigned events)
{
    pkt_h *h = ctx;
    for (size_t i = 0; i < h->nev; i++) {
        if (h->ev[i].sock == sock) {
            h->ev[i].ev |= events;
            return;
        }
    }
    if (h->nev < PKT_EVMAX) {
        h->ev[h->nev].sock = sock;
        h->ev[h->nev].ev = events;
        h->nev++;
    }
}

static void on_udp_event(void *ctx, synack_udp *u, unsigned events)
{
    pkt_h *h = ctx;
    for (size_t i = 0; i < h->nuev; i++) {
        if (h->uev[i].u == u) {
            h->uev[i].ev |= events;
            return;
        }
    }
    if (h->nuev < PKT_EVMAX) {
        h->uev[h->nuev].u = u;
        h->uev[h->nuev].ev = events;
        h->nuev++;
    }
}

unsigned pkt_udp_events(pkt_h *h, const synack_udp *u)
{
    for (size_t i = 0; i < h->nuev; i++) {
        if (h->uev[i].u == u) {
            unsigned ev = h->uev[i].ev;
            h->uev[i].ev = 0;
            return ev;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ setup */

static void apply_knobs(pkt_h *h, const char *knobs)
{
    synack_config *cfg = &h->cfg;
    char buf[512];
    snprintf(buf, sizeof(buf), "%s", knobs ? knobs : "");
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) {
            print_error("pkt_new: knob \"%s\" has no '='\n", tok);
            _fail(__FILE__, __LINE__);
        }
        *eq = 0;
        if (strcmp(tok, "link_mtu") == 0) { /* the harness's own: cfg.mtu */
            cfg->mtu = (uint32_t)strtoul(eq + 1, NULL, 10);
            continue;
        }
        if (strcmp(tok, "no_ipv4") == 0) { /* the harness's own: cfg.ip = 0 */
            cfg->ip = 0;
            continue;
        }
        if (strcmp(tok, "direct") == 0) { /* the harness's own: cfg.data */
            cfg->data = on_direct;
            cfg->data_ctx = h;
            h->direct_take = (uint32_t)strtoul(eq + 1, NULL, 10);
            continue;
        }
        if (strcmp(tok, "gather") == 0) { /* the harness's own: cfg.output_v, no trace */
            cfg->output_v = on_output_v;
            cfg->trace = NULL;
            continue;
        }
        int r = synack_config_set(cfg, tok, eq + 1);
        if (r != 0) {
            print_error("pkt_new: synack_config_set(%s, %s) = %d\n", tok, eq + 1, r);
            _fail(__FILE__, __LINE__);
        }
    }
}

pkt_h *pkt_new(const char *knobs)
{
    const char *fam = getenv("SYNACK_PKT_FAMILY");
    return pkt_new_family(knobs, fam && strcmp(fam, "6") == 0 ? SYNACK_AF_INET6 : SYNACK_AF_INET);
}

synack_allocator pkt_allocator;

long pkt_live_blocks, pkt_allocations;
static void *count_malloc(void *ctx, size_t n)
{
    (void)ctx;
    pkt_live_blocks++;
    pkt_allocations++;
    return malloc(n);
}
static void *count_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    pkt_live_blocks += p == NULL;
    pkt_allocations++;
    return realloc(p, n);
}
static void count_free(void *ctx, void *p)
{
    (void)ctx;
    pkt_live_blocks -= p != NULL;
    free(p);
}
const synack_allocator pkt_counting_allocator = {count_malloc, count_realloc, count_free, NULL};

pkt_h *pkt_new_family(const char *knobs, int family)
{
    pkt_h *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    h->rng = 0x9e3779b97f4a7c15ULL;
    h->now = PKT_T0;
    h->peer_port = 40000;
    h->port = 80;
    synack_config *cfg = &h->cfg;
    synack_config_init(cfg);
    cfg->link = SYNACK_LINK_IP;
    cfg->ip = PKT_US;
    cfg->prefix_len = 24;
    h->family = family;
    if (pkt_ipv6(h)) {
        assert_int_equal(synack_addr_parse(PKT_US6, &h->us), 0);
        assert_int_equal(synack_addr_parse(PKT_PEER6, &h->peer), 0);
        memcpy(cfg->ip6, h->us.v6, 16);
        cfg->prefix6_len = 64;
        cfg->mtu = 1520; /* the IPv4 tests' MSS: 1520 - 40 - 20 = 1460 */
    } else {
        h->us = synack_addr_v4(PKT_US);
        h->peer = synack_addr_v4(PKT_PEER);
    }
    cfg->output = on_output;
    cfg->output_ctx = h;
    cfg->random = on_random;
    cfg->random_ctx = h;
    cfg->trace = on_trace;
    cfg->trace_ctx = h;
    cfg->event = on_event;
    cfg->event_ctx = h;
    cfg->udp_event = on_udp_event;
    cfg->udp_event_ctx = h;
    /* The conversations pin one answer per segment: ACKs go out at once
     * unless a test asks for delayed ACKs (test_delack_nagle.c does). */
    synack_config_set(cfg, "tcp_delack_ms", "0");
    if (pkt_allocator.malloc)
        cfg->alloc = pkt_allocator;
    apply_knobs(h, knobs);
    h->s = synack_stack_new(cfg, h->now);
    assert_non_null(h->s);
    return h;
}

void pkt_free(pkt_h *h)
{
    if (!h)
        return;
    pkt_drain(h);
    synack_stack_free(h->s);
    for (size_t i = 0; i < h->nburst; i++)
        free(h->burst[i].data); /* a test that failed inside a burst */
    free(h);
}

wire_tcp_opts pkt_opts(void)
{
    wire_tcp_opts o;
    wire_tcp_opts_clear(&o);
    return o;
}

wire_tcp_opts pkt_opts_mss(uint16_t mss)
{
    wire_tcp_opts o = pkt_opts();
    o.mss = mss;
    return o;
}

wire_tcp_opts pkt_opts_ts(uint32_t val, uint32_t ecr)
{
    wire_tcp_opts o = pkt_opts_mss(1460);
    o.has_ts = 1;
    o.ts_val = val;
    o.ts_ecr = ecr;
    return o;
}

/* ------------------------------------------------------------ the peer speaks */

void pkt_send_ip(pkt_h *h, const synack_addr *src, uint8_t proto, const uint8_t *payload,
                 size_t len)
{
    pkt_send_ip_to(h, src, NULL, proto, payload, len);
}

void pkt_send_ip_to(pkt_h *h, const synack_addr *src, const synack_addr *dst, uint8_t proto,
                    const uint8_t *payload, size_t len)
{
    static uint8_t pkt[WIRE_IPV6_HDR_LEN + 60 + 65536];
    const synack_addr *from = src ? src : &h->peer;
    const synack_addr *to = dst ? dst : &h->us;
    assert_int_equal(to->family, h->family);
    assert_int_equal(from->family, h->family);
    assert_true(len <= sizeof(pkt) - WIRE_IPV6_HDR_LEN);
    size_t hdr;
    if (pkt_ipv6(h)) {
        wire_ipv6 ip = {.next_header = proto, .hop_limit = 64, .payload_len = len};
        memcpy(ip.src, from->v6, 16);
        memcpy(ip.dst, to->v6, 16);
        hdr = wire_ipv6_emit(pkt, WIRE_IPV6_HDR_LEN, &ip);
        assert_int_equal(hdr, WIRE_IPV6_HDR_LEN);
    } else {
        hdr = wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, from->v4, to->v4, proto, 64, 1, len);
        assert_int_equal(hdr, WIRE_IPV4_HDR_LEN);
    }
    memmove(pkt + hdr, payload, len);
    if (h->in_burst) {
        assert_true(h->nburst < PKT_BURST_MAX);
        uint8_t *copy = malloc(hdr + len);
        assert_non_null(copy);
        memcpy(copy, pkt, hdr + len);
        h->burst[h->nburst].data = copy;
        h->burst[h->nburst++].len = hdr + len;
        return;
    }
    synack_input(h->s, pkt, hdr + len, h->now);
}

void pkt_burst_begin(pkt_h *h)
{
    assert_false(h->in_burst);
    h->in_burst = true;
    h->nburst = 0;
}

void pkt_burst_end(pkt_h *h)
{
    const void *frames[PKT_BURST_MAX];
    size_t lens[PKT_BURST_MAX];
    assert_true(h->in_burst);
    for (size_t i = 0; i < h->nburst; i++) {
        frames[i] = h->burst[i].data;
        lens[i] = h->burst[i].len;
    }
    h->in_burst = false;
    synack_input_burst(h->s, frames, lens, h->nburst, h->now);
    for (size_t i = 0; i < h->nburst; i++)
        free(h->burst[i].data);
    h->nburst = 0;
}

void pkt_send(pkt_h *h, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
              const void *payload, size_t len, const wire_tcp_opts *opts)
{
    static uint8_t seg[60 + 65536];
    wire_tcp t = {.sport = h->peer_port, .dport = h->port, .seq = seq, .ack = ack,
                  .flags = flags, .wnd = wnd};
    t.opt = opts ? *opts : pkt_opts();
    size_t hl = wire_tcp_emit_header(seg, sizeof(seg), &t);
    assert_true(hl >= WIRE_TCP_HDR_LEN);
    assert_true(len <= sizeof(seg) - hl);
    if (len)
        memcpy(seg + hl, payload, len);
    if (pkt_ipv6(h))
        wire_tcp_set_checksum6(seg, hl + len, h->peer.v6, h->us.v6);
    else
        wire_tcp_set_checksum(seg, hl + len, PKT_PEER, PKT_US);
    if (h->corrupt_next) {
        assert_true(h->corrupt_next <= len);
        seg[hl + h->corrupt_next - 1] ^= 0x20;
        h->corrupt_next = 0;
    }
    pkt_send_ip(h, NULL, WIRE_IPPROTO_TCP, seg, hl + len);
}

void pkt_send_udp(pkt_h *h, const synack_addr *src, uint16_t sport, const synack_addr *dst,
                  uint16_t dport, const void *payload, size_t len)
{
    static uint8_t d[WIRE_UDP_HDR_LEN + 65536];
    const synack_addr *from = src ? src : &h->peer, *to = dst ? dst : &h->us;
    assert_true(len <= sizeof(d) - WIRE_UDP_HDR_LEN);
    assert_int_equal(wire_udp_emit_header(d, sizeof(d), sport, dport, len), WIRE_UDP_HDR_LEN);
    if (len)
        memcpy(d + WIRE_UDP_HDR_LEN, payload, len);
    if (pkt_ipv6(h))
        wire_udp_set_checksum6(d, WIRE_UDP_HDR_LEN + len, from->v6, to->v6);
    else
        wire_udp_set_checksum(d, WIRE_UDP_HDR_LEN + len, from->v4, to->v4);
    pkt_send_ip_to(h, from, to, WIRE_IPPROTO_UDP, d, WIRE_UDP_HDR_LEN + len);
}

int pkt_connect(pkt_h *h, synack_sock *k, uint16_t port)
{
    return synack_connect_addr(k, &h->peer, port);
}

bool pkt_parse(const pkt_h *h, const uint8_t *frame, size_t len, wire_tcp *out)
{
    if (pkt_ipv6(h)) {
        wire_ipv6 ip;
        return wire_ipv6_parse(frame, len, &ip) == WIRE_OK &&
               ip.next_header == WIRE_IPPROTO_TCP && memcmp(ip.src, h->us.v6, 16) == 0 &&
               memcmp(ip.dst, h->peer.v6, 16) == 0 &&
               wire_tcp_parse6(ip.payload, ip.payload_len, ip.src, ip.dst, out) == WIRE_OK;
    }
    wire_ipv4 ip;
    return wire_ipv4_parse(frame, len, &ip) == WIRE_OK && ip.proto == WIRE_IPPROTO_TCP &&
           ip.src == PKT_US && ip.dst == PKT_PEER &&
           wire_tcp_parse(ip.payload, ip.payload_len, ip.src, ip.dst, out) == WIRE_OK;
}

uint16_t pkt_peek_sport(pkt_h *h)
{
    wire_tcp t;
    assert_true(pkt_pending(h) > 0);
    assert_true(pkt_parse(h, h->q[h->qhead].data, h->q[h->qhead].len, &t));
    return t.sport;
}

/* ------------------------------------------------------------ the stack answers */

const char *pkt_flags_str(uint8_t flags, char *buf, size_t size)
{
    static const char *const names[] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    static const int order[] = {1, 2, 0, 3, 4, 5, 6, 7}; /* SYN,RST,FIN,PSH,ACK,... */
    size_t n = 0;
    buf[0] = 0;
    for (int k = 0; k < 8; k++) {
        int i = order[k];
        if (flags & (1u << i))
            n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "", names[i]);
    }
    if (n == 0)
        snprintf(buf, size, "(none)");
    return buf;
}

static void describe(const wire_tcp *t, char *buf, size_t size)
{
    char f[40];
    int n = snprintf(buf, size, "%s seq=%u ack=%u wnd=%u len=%zu", pkt_flags_str(t->flags, f, sizeof(f)),
                     t->seq, t->ack, t->wnd, t->payload_len);
    const wire_tcp_opts *o = &t->opt;
    if (o->mss)
        n += snprintf(buf + n, size - (size_t)n, " mss=%u", o->mss);
    if (o->wscale >= 0)
        n += snprintf(buf + n, size - (size_t)n, " ws=%d", o->wscale);
    if (o->sack_ok)
        n += snprintf(buf + n, size - (size_t)n, " sackOK");
    if (o->has_ts)
        n += snprintf(buf + n, size - (size_t)n, " ts=%u/%u", o->ts_val, o->ts_ecr);
    if (o->sack_count)
        n += snprintf(buf + n, size - (size_t)n, " sack=%u", o->sack_count);
}

static void describe_expected(uint8_t flags, int64_t seq, int64_t ack, char *buf, size_t size)
{
    char f[40], s[16] = "*", a[16] = "*";
    if (seq != PKT_ANY)
        snprintf(s, sizeof(s), "%u", (uint32_t)seq);
    if (ack != PKT_ANY)
        snprintf(a, sizeof(a), "%u", (uint32_t)ack);
    snprintf(buf, size, "%s seq=%s ack=%s", pkt_flags_str(flags, f, sizeof(f)), s, a);
}

size_t pkt_pending(const pkt_h *h) { return h->qlen; }

size_t pkt_pop_at(pkt_h *h, const char *file, int line)
{
    if (h->qlen == 0) {
        print_error("%s:%d: expected a frame, but the stack sent nothing\n", file, line);
        _fail(file, line);
    }
    size_t len = h->q[h->qhead].len;
    memcpy(h->last, h->q[h->qhead].data, len);
    free(h->q[h->qhead].data);
    h->qhead = (h->qhead + 1) % PKT_QMAX;
    h->qlen--;
    return len;
}

void pkt_drain(pkt_h *h)
{
    while (h->qlen) {
        free(h->q[h->qhead].data);
        h->qhead = (h->qhead + 1) % PKT_QMAX;
        h->qlen--;
    }
}

wire_tcp pkt_expect_at(pkt_h *h, uint8_t flags, int64_t seq, int64_t ack, const char *file,
                       int line)
{
    char want[96], got[160];
    describe_expected(flags, seq, ack, want, sizeof(want));
    if (h->qlen == 0) {
        print_error("%s:%d: expected %s, but the stack sent nothing\n", file, line, want);
        _fail(file, line);
    }
    size_t len = h->q[h->qhead].len;
    memcpy(h->last, h->q[h->qhead].data, len);
    free(h->q[h->qhead].data);
    h->qhead = (h->qhead + 1) % PKT_QMAX;
    h->qlen--;

    wire_tcp t;
    if (!pkt_parse(h, h->last, len, &t)) {
        print_error("%s:%d: expected %s, got a frame that is not a valid TCP segment from us to "
                    "the peer (%s)\n",
                    file, line, want, pkt_ipv6(h) ? "IPv6" : "IPv4");
        _fail(file, line);
    }
    describe(&t, got, sizeof(got));
    if ((flags != PKT_ANY_FLAGS && t.flags != flags) || (seq != PKT_ANY && t.seq != (uint32_t)seq) ||
        (ack != PKT_ANY && t.ack != (uint32_t)ack)) {
        print_error("%s:%d: expected %s\n%*s     got %s\n", file, line, want,
                    (int)strlen(file) + 8, "", got);
        _fail(file, line);
    }
    if (t.sport != h->port || t.dport != h->peer_port) {
        print_error("%s:%d: %s went %u -> %u, expected %u -> %u\n", file, line, got, t.sport,
                    t.dport, h->port, h->peer_port);
        _fail(file, line);
    }
    return t;
}

void pkt_expect_none_at(pkt_h *h, const char *file, int line)
{
    if (h->qlen == 0)
        return;
    char got[160] = "a frame that is not TCP";
    wire_tcp t;
    if (pkt_parse(h, h->q[h->qhead].data, h->q[h->qhead].len, &t))
        describe(&t, got, sizeof(got));
    print_error("%s:%d: expected no segment, but the stack sent %s (%zu frame(s) pending)\n", file,
                line, got, h->qlen);
    _fail(file, line);
}

/* ------------------------------------------------------------ time */

void pkt_advance(pkt_h *h, uint64_t ms)
{
    h->now += ms * PKT_MS;
    synack_poll(h->s, h->now);
}

uint64_t pkt_next_deadline_ms(const pkt_h *h)
{
    uint64_t d = synack_next_deadline(h->s);
    if (d == UINT64_MAX)
        return UINT64_MAX;
    return d <= h->now ? 0 : (d - h->now) / PKT_MS;
}

/* ------------------------------------------------------------ state and events */

uint32_t pkt_id(const synack_sock *k) { return k->id; }

const char *pkt_history(pkt_h *h, uint32_t id)
{
    size_t n = 0;
    h->text[0] = 0;
    for (size_t i = 0; i < h->ntr; i++) {
        const pkt_transition *t = &h->tr[i];
        if (t->conn != id)
            continue;
        if (n == 0)
            n += (size_t)snprintf(h->text, sizeof(h->text), "%s", synack_state_name(t->from));
        if (n < sizeof(h->text))
            n += (size_t)snprintf(h->text + n, sizeof(h->text) - n, " > %s",
                                  synack_state_name(t->to));
    }
    return h->text;
}

const char *pkt_last_cause(pkt_h *h, uint32_t id)
{
    for (size_t i = h->ntr; i-- > 0;)
        if (h->tr[i].conn == id)
            return h->tr[i].cause;
    return "";
}

uint32_t pkt_other_conn(pkt_h *h, uint32_t except)
{
    for (size_t i = 0; i < h->ntr; i++)
        if (h->tr[i].conn != except)
            return h->tr[i].conn;
    return 0;
}

unsigned pkt_events(pkt_h *h, const synack_sock *k)
{
    for (size_t i = 0; i < h->nev; i++) {
        if (h->ev[i].sock == k) {
            unsigned e = h->ev[i].ev;
            h->ev[i].ev = 0;
            return e;
        }
    }
    return 0;
}

/* ------------------------------------------------------------ openings */

synack_sock *pkt_listen(pkt_h *h, uint16_t port, int backlog)
{
    synack_sock *l = synack_socket(h->s);
    assert_non_null(l);
    if (!h->nagle) /* segments leave as soon as they are written, unless asked */
        assert_int_equal(synack_setopt(l, SYNACK_TCP_NODELAY, 1), 0);
    assert_int_equal(synack_bind(l, port), 0);
    assert_int_equal(synack_listen(l, backlog), 0);
    assert_int_equal(synack_sock_state(l), SYNACK_LISTEN);
    h->port = port;
    return l;
}

synack_sock *pkt_passive_open(pkt_h *h, synack_sock *listener)
{
    wire_tcp_opts o = pkt_opts_mss(1460);
    h->irs = PKT_PEER_ISS;
    pkt_send(h, SYN, h->irs, 0, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1);
    h->iss = sa.seq;
    pkt_send(h, ACK, h->irs + 1, h->iss + 1, PKT_PEER_WND, NULL, 0, NULL);
    pkt_expect_none(h);
    int err = 1;
    synack_sock *k = synack_accept(listener, &err);
    assert_non_null(k);
    assert_int_equal(err, 0);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    return k;
}

synack_sock *pkt_active_open(pkt_h *h)
{
    synack_sock *k = synack_socket(h->s);
    assert_non_null(k);
    if (!h->nagle)
        assert_int_equal(synack_setopt(k, SYNACK_TCP_NODELAY, 1), 0);
    assert_int_equal(pkt_connect(h, k, h->peer_port), 0);
    h->port = pkt_peek_sport(h); /* our ephemeral port, from the SYN itself */
    wire_tcp syn = pkt_expect(h, SYN, PKT_ANY, 0);
    h->iss = syn.seq;
    h->irs = PKT_PEER_ISS;
    wire_tcp_opts o = pkt_opts_mss(1460);
    pkt_send(h, SYN | ACK, h->irs, h->iss + 1, PKT_PEER_WND, NULL, 0, &o);
    pkt_expect(h, ACK, h->iss + 1, h->irs + 1);
    pkt_expect_none(h);
    assert_int_equal(synack_sock_state(k), SYNACK_ESTABLISHED);
    return k;
}

synack_sock *pkt_established(pkt_h *h)
{
    synack_sock *l = pkt_listen(h, 80, 8);
    return pkt_passive_open(h, l);
}

/* ------------------------------------------------------------ closings */

void pkt_to_fin_wait_1(pkt_h *h, synack_sock *k)
{
    synack_shutdown(k, SYNACK_SHUT_WR);
    pkt_expect(h, FIN | ACK, h->iss + 1, h->irs + 1);
}

static void peer_acks_our_fin(pkt_h *h, const wire_tcp_opts *opts)
{
    pkt_send(h, ACK, h->irs + 1, h->iss + 2, PKT_PEER_WND, NULL, 0, opts);
}

/* The peer's FIN,ACK acknowledging `ack`, and our ACK of it from `our_seq`. */
static void peer_fin(pkt_h *h, uint32_t ack, uint32_t our_seq, const wire_tcp_opts *opts)
{
    pkt_send(h, FIN | ACK, h->irs + 1, ack, PKT_PEER_WND, NULL, 0, opts);
    pkt_expect(h, ACK, our_seq, h->irs + 2);
}

void pkt_to_fin_wait_2(pkt_h *h, synack_sock *k)
{
    pkt_to_fin_wait_1(h, k);
    peer_acks_our_fin(h, NULL);
}

void pkt_to_time_wait(pkt_h *h, synack_sock *k, const wire_tcp_opts *opts)
{
    pkt_to_fin_wait_1(h, k);
    peer_acks_our_fin(h, opts);
    peer_fin(h, h->iss + 2, h->iss + 2, opts);
}

void pkt_to_time_wait_at_once(pkt_h *h, synack_sock *k)
{
    pkt_to_fin_wait_1(h, k);
    peer_fin(h, h->iss + 2, h->iss + 2, NULL);
}

void pkt_to_closing(pkt_h *h, synack_sock *k)
{
    pkt_to_fin_wait_1(h, k);
    peer_fin(h, h->iss + 1, h->iss + 2, NULL);
}

void pkt_to_close_wait(pkt_h *h)
{
    peer_fin(h, h->iss + 1, h->iss + 1, NULL);
}

void pkt_to_last_ack(pkt_h *h, synack_sock *k)
{
    pkt_to_close_wait(h);
    synack_shutdown(k, SYNACK_SHUT_WR);
    pkt_expect(h, FIN | ACK, h->iss + 1, h->irs + 2);
}

int pkt_teardown(void **state)
{
    pkt_free(*state);
    return 0;
}

synack_sock *pkt_sack_flight(pkt_h *h, int n, uint16_t mss, int rtt_ms)
{
    return pkt_sack_flight_ws(h, n, mss, rtt_ms, -1);
}

synack_sock *pkt_sack_flight_ws(pkt_h *h, int n, uint16_t mss, int rtt_ms, int wscale)
{
    static uint8_t data[65536];
    assert_true((size_t)n * mss <= sizeof data);
    synack_sock *l = pkt_listen(h, 80, 8);
    wire_tcp_opts o = pkt_opts_mss(mss);
    o.sack_ok = 1;
    o.wscale = (int8_t)wscale;
    h->irs = PKT_PEER_ISS;
    pkt_send(h, SYN, h->irs, 0, PKT_PEER_WND, NULL, 0, &o);
    wire_tcp sa = pkt_expect(h, SYN | ACK, PKT_ANY, h->irs + 1);
    h->iss = sa.seq;
    pkt_advance(h, rtt_ms);
    pkt_send(h, ACK, h->irs + 1, h->iss + 1, PKT_PEER_WND, NULL, 0, NULL);
    synack_sock *k = synack_accept(l, NULL);
    assert_non_null(k);
    assert_int_equal(synack_send(k, data, (size_t)n * mss), n * mss);
    for (int i = 0; i < n; i++)
        pkt_expect(h, PKT_ANY_FLAGS, h->iss + 1 + (uint32_t)i * mss, h->irs + 1);
    pkt_expect_none(h);
    return k;
}

void pkt_fill_pattern(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + (i >> 8));
}

uint32_t pkt_collect(pkt_h *h, uint8_t *out, uint32_t base)
{
    uint32_t top = 0;
    while (pkt_pending(h)) {
        size_t len = pkt_pop(h);
        wire_tcp seg;
        assert_true(pkt_parse(h, h->last, len, &seg));
        uint32_t off = seg.seq - base;
        memcpy(out + off, seg.payload, seg.payload_len);
        if (off + seg.payload_len > top)
            top = off + (uint32_t)seg.payload_len;
    }
    return top;
}

void pkt_icmp4_error(pkt_h *h, uint32_t router, uint8_t type, uint8_t code, uint16_t mtu,
                     uint32_t seq)
{
    uint8_t pkt[WIRE_IPV4_HDR_LEN + 8 + WIRE_IPV4_HDR_LEN + 8];
    uint8_t *icmp = pkt + WIRE_IPV4_HDR_LEN, *quote = icmp + 8;
    wire_ipv4_emit(quote, WIRE_IPV4_HDR_LEN, PKT_US, PKT_PEER, WIRE_IPPROTO_TCP, 63, 7, 1460);
    uint8_t *tcp = quote + WIRE_IPV4_HDR_LEN;
    wire_put16(tcp, h->port);
    wire_put16(tcp + 2, h->peer_port);
    wire_put32(tcp + 4, seq);
    size_t ilen = wire_icmp_emit_error(icmp, sizeof(pkt) - WIRE_IPV4_HDR_LEN, type, code, mtu,
                                       quote, WIRE_IPV4_HDR_LEN + 8);
    assert_int_equal(ilen, sizeof(pkt) - WIRE_IPV4_HDR_LEN);
    wire_ipv4_emit(pkt, WIRE_IPV4_HDR_LEN, router, PKT_US, WIRE_IPPROTO_ICMP, 64, 9, ilen);
    synack_input(h->s, pkt, sizeof(pkt), h->now);
}

void pkt_sack_ack(pkt_h *h, uint16_t mss, uint32_t ack, const uint32_t (*blocks)[2], int n,
                  uint16_t wnd)
{
    wire_tcp_opts o = pkt_opts();
    uint32_t base = h->iss + 1;
    assert_true(n >= 0 && n <= 4);
    for (int i = 0; i < n; i++) {
        o.sack[i][0] = base + blocks[i][0] * mss;
        o.sack[i][1] = base + blocks[i][1] * mss;
    }
    o.sack_count = (uint8_t)n;
    pkt_send(h, ACK, h->irs + 1, base + ack * mss, wnd, NULL, 0, &o);
}
