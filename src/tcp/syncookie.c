/* syncookie.c — SYN cookies (RFC 4987 §3.6, Linux's tcp_syncookies): when a
 * listener's SYN queue is full, its SYN,ACK keeps no state; the ISN carries
 * what the connection needs and the ACK that completes the handshake brings
 * it back. Linux's layout:
 *
 *   ISN = H1(4-tuple) + peer's ISN + (minute << 24)
 *         + ((H2(4-tuple, minute) + MSS index) mod 2^24)
 *
 * H1 and H2 are SipHash under the stack's secret key; the minute counter in
 * H2 turns the secret over each minute, and a cookie is honoured for two.
 * The MSS is one of four values (Linux's tables, one per family). With timestamps, the low six
 * bits of our TSval carry the peer's window scale and SACK-permitted, so
 * cookies lose nothing; without them a cookie connection has neither. */
#include "tcp/tcp.h"

#define COOKIE_BITS 24
#define COOKIE_MASK ((1u << COOKIE_BITS) - 1)
#define COOKIE_MAX_AGE 2                /* minutes (Linux's MAX_SYNCOOKIE_AGE) */
#define TS_OPT_BITS 6                   /* TSval bits that carry the options   */
#define TS_OPT_MASK ((1u << TS_OPT_BITS) - 1)
#define TS_NO_WSCALE 0xfu               /* window scale field: not offered     */
#define TS_SACK 0x10u

#define MSS_COUNT 4
static const uint16_t MSS_TABLE[MSS_COUNT] = {536, 1300, 1440, 1460};
/* IPv6: 1280, 1480, 1500 and 9000-byte paths, less 60 bytes of headers. */
static const uint16_t MSS_TABLE6[MSS_COUNT] = {1220, 1420, 1440, 8940};

static const uint16_t *mss_table(const tcp_tuple *w)
{
    return w->l.family == SYNACK_AF_INET6 ? MSS_TABLE6 : MSS_TABLE;
}

static uint32_t minute(const tcp_ctx *c) { return (uint32_t)(c->now / (60000 * NS_PER_MS)); }

static uint32_t cookie_hash(const tcp_ctx *c, const tcp_tuple *w, uint32_t count, uint32_t which)
{
    uint32_t key[TCP_TUPLE_WORDS + 3];
    size_t n = tcp_tuple_words(&w->l, w->lport, &w->r, w->rport, key);
    key[n++] = count;
    key[n++] = which;
    key[n++] = 0x636f6f6b; /* "cook" */
    return (uint32_t)siphash24(&c->isn_key, key, n * sizeof(key[0]));
}

uint32_t syncookie_isn(tcp_ctx *c, const tcp_tuple *w, uint32_t peer_isn, uint16_t peer_mss)
{
    const uint16_t *table = mss_table(w);
    uint32_t idx = 0;
    while (idx + 1 < MSS_COUNT && table[idx + 1] <= peer_mss)
        idx++;
    uint32_t count = minute(c);
    return cookie_hash(c, w, 0, 1) + peer_isn + (count << COOKIE_BITS) +
           ((cookie_hash(c, w, count, 2) + idx) & COOKIE_MASK);
}

bool syncookie_check(tcp_ctx *c, const tcp_tuple *w, uint32_t peer_isn, uint32_t cookie,
                     uint16_t *mss)
{
    uint32_t v = cookie - cookie_hash(c, w, 0, 1) - peer_isn;
    uint32_t count = minute(c);
    uint32_t age = (count - (v >> COOKIE_BITS)) & (0xffffffffu >> COOKIE_BITS);
    if (age >= COOKIE_MAX_AGE)
        return false;
    uint32_t idx = (v - cookie_hash(c, w, count - age, 2)) & COOKIE_MASK;
    if (idx >= MSS_COUNT)
        return false;
    *mss = mss_table(w)[idx];
    return true;
}

static uint32_t syncookie_tsval(uint32_t ts_now, int peer_wscale, bool sack)
{
    uint32_t opts = (peer_wscale < 0 ? TS_NO_WSCALE : (uint32_t)(peer_wscale > 14 ? 14 : peer_wscale)) |
                    (sack ? TS_SACK : 0);
    uint32_t ts = (ts_now & ~TS_OPT_MASK) | opts;
    if ((int32_t)(ts - ts_now) > 0) /* never ahead of the clock (Linux) */
        ts -= 1u << TS_OPT_BITS;
    return ts;
}

static void syncookie_ts_options(uint32_t tsecr, int *peer_wscale, bool *sack)
{
    uint32_t ws = tsecr & TS_NO_WSCALE;
    *peer_wscale = ws == TS_NO_WSCALE ? -1 : (int)ws;
    *sack = (tsecr & TS_SACK) != 0;
}

/* ------------------------------------------------------------ the stateless SYN,ACK */

void syncookie_send(tcb *l, const synack_addr *src, const synack_addr *dst, const wire_tcp *seg)
{
    tcp_ctx *c = l->ctx;
    const synack_sysctl *s = c->sys;
    tcp_tuple w = tcp_tuple_in(src, dst, seg);
    uint16_t peer_mss = seg->opt.mss ? seg->opt.mss : (uint16_t)s->tcp_base_mss;
    wire_tcp h = {.sport = seg->dport, .dport = seg->sport, .seq = syncookie_isn(c, &w, seg->seq, peer_mss),
                  .ack = seg->seq + 1, .flags = SYNACK_SYN | SYNACK_ACK,
                  .wnd = (uint16_t)(l->rcv.buf_size > 65535 ? 65535 : l->rcv.buf_size)};
    wire_tcp_opts_clear(&h.opt);
    h.opt.mss = l->opts.adv_mss;
    if (h.opt.mss > c->mtu - tcp_net_hdr_len(dst->family))
        h.opt.mss = (uint16_t)(c->mtu - tcp_net_hdr_len(dst->family));
    /* Window scale and SACK travel in the TSval: without timestamps a
     * cookie connection has neither (Linux clears them too). */
    if (s->tcp_timestamps && seg->opt.has_ts) {
        bool ws = s->tcp_window_scaling && seg->opt.wscale >= 0;
        bool sack = s->tcp_sack && seg->opt.sack_ok;
        uint32_t now_ts = (uint32_t)(c->now / NS_PER_MS) +
                          tcp_ts_offset(c, dst, seg->dport, src, seg->sport);
        h.opt.has_ts = 1;
        h.opt.ts_val = syncookie_tsval(now_ts, ws ? seg->opt.wscale : -1, sack);
        h.opt.ts_ecr = seg->opt.ts_val;
        if (ws)
            h.opt.wscale = (int8_t)tcp_rcv_wscale(c);
        h.opt.sack_ok = sack;
    }
    c->ctr->tcp_syncookies_sent++;
    tcp_send_bare(c, dst, src, &h);
}

/* ------------------------------------------------------------ the ACK that completes it */

/* The peer's SYN, as far as the cookie and the ACK's TSecr remember it. */
static wire_tcp remembered_syn(const tcp_ctx *c, const wire_tcp *ack, uint16_t mss)
{
    wire_tcp syn = {.seq = ack->seq - 1, .wnd = ack->wnd};
    wire_tcp_opts_clear(&syn.opt);
    syn.opt.mss = mss;
    if (c->sys->tcp_timestamps && ack->opt.has_ts && ack->opt.ts_ecr) {
        int ws;
        bool sack;
        syncookie_ts_options(ack->opt.ts_ecr, &ws, &sack);
        syn.opt.wscale = (int8_t)ws;
        syn.opt.sack_ok = sack;
        syn.opt.has_ts = 1;
        syn.opt.ts_val = ack->opt.ts_val;
    }
    return syn;
}

/* The connection, ESTABLISHED at once: the SYN,ACK is long gone. */
static tcb *open_from_cookie(tcb *l, const synack_addr *src, const synack_addr *dst,
                             const wire_tcp *seg, uint16_t mss)
{
    tcp_ctx *c = l->ctx;
    wire_tcp syn = remembered_syn(c, seg, mss);
    tcb *t = listen_child_new(l, src, dst, seg, &syn, seg->ack - 1);
    if (!t)
        return NULL;
    t->snd.una = t->snd.nxt = t->snd.max = seg->ack; /* our SYN is acknowledged */
    t->snd.wnd = t->snd.max_wnd = (uint32_t)seg->wnd << t->opts.snd_wscale;
    t->snd.wl1 = seg->seq;
    t->snd.wl2 = seg->ack;
    listen_child_file(l, t);
    tcb_set_state(t, SYNACK_ESTABLISHED, SYNACK_CAUSE_RCV_ACK_SYNCOOKIE);
    tcp_keepalive_reset(t);
    listen_enqueue(l, t);
    return t;
}

/* Cookies are checked only while they may have been sent: always with
 * tcp_syncookies=2, else within two cookie lifetimes of the listener's
 * last overflow (Linux's tcp_synq_no_recent_overflow). */
static bool cookies_live(const tcb *l)
{
    const tcp_ctx *c = l->ctx;
    if (c->sys->tcp_syncookies == 2)
        return true;
    return c->sys->tcp_syncookies && l->listen.overflow_at &&
           c->now - l->listen.overflow_at < (uint64_t)COOKIE_MAX_AGE * 60000 * NS_PER_MS;
}

cookie_verdict syncookie_ack(tcb *l, const synack_addr *src, const synack_addr *dst,
                             const wire_tcp *seg, tcb **child)
{
    tcp_ctx *c = l->ctx;
    if (!cookies_live(l))
        return COOKIE_NOT;
    tcp_tuple w = tcp_tuple_in(src, dst, seg);
    uint16_t mss;
    if (!syncookie_check(c, &w, seg->seq - 1, seg->ack - 1, &mss)) {
        c->ctr->tcp_syncookies_failed++;
        return COOKIE_NOT;
    }
    c->ctr->tcp_syncookies_recv++;
    if (listen_accept_queue_full(l)) {
        c->ctr->tcp_listen_overflows++;
        c->ctr->tcp_listen_drops++;
        tcp_drop(c, l, SYNACK_DROP_ACCEPT_QUEUE_FULL);
        return COOKIE_DROPPED;
    }
    *child = open_from_cookie(l, src, dst, seg, mss);
    return *child ? COOKIE_OPENED : COOKIE_DROPPED;
}
