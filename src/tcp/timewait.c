/* timewait.c — the compact TIME-WAIT table and its policies: input rules
 * (RFC 9293 §3.10.7.4, RFC 7323 PAWS, RFC 1337, RFC 6191), tcp_tw_reuse,
 * tcp_tw_recycle and its per-peer timestamp cache. See timewait.h. */
#include "tcp/timewait.h"

#include "base/seq.h"

#include <stdlib.h>
#include <string.h>

#define TW_PEERS 1024              /* direct-mapped per-peer timestamp cache */
#define PAWS_WINDOW 1              /* Linux TCP_PAWS_WINDOW                 */
#define PAWS_MSL_MS 60000u         /* Linux TCP_PAWS_MSL (60 s)             */
#define PAWS_24DAYS_MS (24u * 86400u * 1000u)

typedef struct tw_peer {
    uint32_t ip;
    uint32_t ts;                   /* newest TS.Recent seen from it         */
    uint32_t stamp_ms;             /* when                                  */
    uint32_t used;
} tw_peer;

typedef struct tcp_tw_table {
    tcp_tw **slabs;                          /* TW_SLAB records each      */
    uint32_t cap, count, free_head;          /* free list through hnext   */
    uint32_t *buckets;
    uint32_t nbuckets;
    uint32_t head[2], tail[2];               /* [0] 2MSL list, [1] short  */
    tcb *handles;                            /* detached TIME-WAIT tcbs   */
    tw_peer *peers;                          /* tcp_tw_recycle cache      */
} tcp_tw_table;

_Static_assert(sizeof(tcp_tw) < 64, "a TIME-WAIT record must stay under 64 bytes");

static uint32_t now_ms(const tcp_ctx *c) { return (uint32_t)(c->now / NS_PER_MS); }
static bool ms_before_eq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
/* Records come in slabs of TW_SLAB that never move, so growing the table
 * costs at most one slab of slack and no copying. */
#define TW_SLAB 256
static tcp_tw *rec(const tcp_tw_table *tw, uint32_t i)
{
    return &tw->slabs[(i - 1) / TW_SLAB][(i - 1) % TW_SLAB];
}

int tcp_tw_init(tcp_ctx *c)
{
    tcp_tw_table *tw = calloc(1, sizeof(*tw));
    if (!tw)
        return -1;
    tw->nbuckets = 256;
    tw->buckets = calloc(tw->nbuckets, sizeof(*tw->buckets));
    if (!tw->buckets) {
        free(tw);
        return -1;
    }
    c->tw = tw;
    return 0;
}

void tcp_tw_free(tcp_ctx *c)
{
    if (!c->tw)
        return;
    for (uint32_t k = 0; k < c->tw->cap / TW_SLAB; k++)
        free(c->tw->slabs[k]);
    free(c->tw->slabs);
    free(c->tw->buckets);
    free(c->tw->peers);
    free(c->tw);
    c->tw = NULL;
}

uint32_t tcp_tw_count(const tcp_ctx *c) { return c->tw ? c->tw->count : 0; }

/* ------------------------------------------------------------ hash table */

static uint32_t tw_hash(const tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip,
                        uint16_t rport)
{
    uint32_t key[3] = {lip, rip, (uint32_t)lport << 16 | rport};
    return (uint32_t)siphash24(&c->hash_key, key, sizeof(key));
}

static uint32_t bucket_of(const tcp_ctx *c, const tcp_tw *r)
{
    return tw_hash(c, c->local_ip, r->lport, r->rip, r->rport) & (c->tw->nbuckets - 1);
}

static void grow_buckets(tcp_ctx *c)
{
    tcp_tw_table *tw = c->tw;
    uint32_t n = tw->nbuckets * 2;
    uint32_t *b = calloc(n, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    uint32_t *old = tw->buckets;
    uint32_t oldn = tw->nbuckets;
    tw->buckets = b;
    tw->nbuckets = n;
    for (uint32_t i = 0; i < oldn; i++) {
        for (uint32_t j = old[i], next; j; j = next) {
            tcp_tw *r = rec(tw, j);
            next = r->hnext;
            uint32_t h = bucket_of(c, r);
            r->hnext = b[h];
            b[h] = j;
        }
    }
    free(old);
}

static uint32_t tw_find(const tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip,
                        uint16_t rport)
{
    const tcp_tw_table *tw = c->tw;
    if (!tw->count || lip != c->local_ip) /* records hold no address: it is ours */
        return 0;
    uint32_t h = tw_hash(c, lip, lport, rip, rport) & (tw->nbuckets - 1);
    for (uint32_t i = tw->buckets[h]; i; i = rec(tw, i)->hnext) {
        const tcp_tw *r = rec(tw, i);
        if (r->lport == lport && r->rport == rport && r->rip == rip)
            return i;
    }
    return 0;
}

/* ------------------------------------------------------------ expiry lists */

static void list_unlink(tcp_tw_table *tw, uint32_t i)
{
    tcp_tw *r = rec(tw, i);
    int l = (r->flags & TW_F_SHORT) ? 1 : 0;
    if (r->lprev)
        rec(tw, r->lprev)->lnext = r->lnext;
    else
        tw->head[l] = r->lnext;
    if (r->lnext)
        rec(tw, r->lnext)->lprev = r->lprev;
    else
        tw->tail[l] = r->lprev;
    r->lnext = r->lprev = 0;
}

/* Insert keeping the list sorted by expiry, walking from the tail. */
static void list_insert(tcp_tw_table *tw, uint32_t i, bool short_list)
{
    tcp_tw *r = rec(tw, i);
    int l = short_list ? 1 : 0;
    r->flags = (uint8_t)(short_list ? (r->flags | TW_F_SHORT) : (r->flags & ~TW_F_SHORT));
    uint32_t after = tw->tail[l];
    while (after && !ms_before_eq(rec(tw, after)->expire_ms, r->expire_ms))
        after = rec(tw, after)->lprev;
    r->lprev = after;
    r->lnext = after ? rec(tw, after)->lnext : tw->head[l];
    if (r->lnext)
        rec(tw, r->lnext)->lprev = i;
    else
        tw->tail[l] = i;
    if (after)
        rec(tw, after)->lnext = i;
    else
        tw->head[l] = i;
}

static uint32_t tw_length_ms(const tcp_ctx *c) { return 2u * c->sys->tcp_msl; }

/* (Re)start the entry's timer at the full 2MSL. */
static void restart(tcp_ctx *c, uint32_t i)
{
    tcp_tw_table *tw = c->tw;
    list_unlink(tw, i);
    rec(tw, i)->expire_ms = now_ms(c) + tw_length_ms(c);
    list_insert(tw, i, false);
}

/* ------------------------------------------------------------ tracing */

static tcp_tuple who_of(const tcp_ctx *c, const tcp_tw *r)
{
    return (tcp_tuple){r->id, c->local_ip, r->rip, r->lport, r->rport};
}

static void trace_drop(tcp_ctx *c, const tcp_tw *r, synack_drop why)
{
    tcp_tuple who = who_of(c, r);
    tcp_drop_tuple(c, &who, SYNACK_TIME_WAIT, why);
}

/* ------------------------------------------------------------ ending an entry */

static tcb *find_handle(tcp_tw_table *tw, uint32_t id, bool unlink)
{
    for (tcb **pp = &tw->handles; *pp; pp = &(*pp)->tw_next) {
        tcb *t = *pp;
        if (t->id == id) {
            if (unlink) {
                *pp = t->tw_next;
                t->tw_next = NULL;
                t->is.tw_handle = false;
            }
            return t;
        }
    }
    return NULL;
}

/* Delete entry i: unhash, unlist, free; the state change goes to its
 * handle when there is one, else it is traced for the record. */
static void tw_kill(tcp_ctx *c, uint32_t i, synack_cause cause)
{
    tcp_tw_table *tw = c->tw;
    tcp_tw *r = rec(tw, i);
    uint32_t h = bucket_of(c, r);
    for (uint32_t *pp = &tw->buckets[h]; *pp; pp = &rec(tw, *pp)->hnext) {
        if (*pp == i) {
            *pp = r->hnext;
            break;
        }
    }
    list_unlink(tw, i);
    tcb *t = (r->flags & TW_F_HANDLE) ? find_handle(tw, r->id, true) : NULL;
    if (t) {
        tcb_set_state(t, SYNACK_CLOSED, cause);
        tcb_signal(t, SYNACK_EV_CLOSED | SYNACK_EV_READABLE | SYNACK_EV_WRITABLE);
    } else {
        tcp_tuple who = who_of(c, r);
        tcp_trace_state(c, &who, SYNACK_TIME_WAIT, SYNACK_CLOSED, cause);
    }
    memset(r, 0, sizeof(*r));
    r->hnext = tw->free_head;
    tw->free_head = i;
    tw->count--;
}

static uint32_t tw_alloc(tcp_ctx *c)
{
    tcp_tw_table *tw = c->tw;
    if (!tw->free_head) {
        uint32_t k = tw->cap / TW_SLAB;
        tcp_tw **slabs = realloc(tw->slabs, (size_t)(k + 1) * sizeof(*slabs));
        if (!slabs)
            return 0;
        tw->slabs = slabs;
        tcp_tw *slab = calloc(TW_SLAB, sizeof(*slab));
        if (!slab)
            return 0;
        slabs[k] = slab;
        tw->cap += TW_SLAB;
        for (uint32_t i = tw->cap; i > tw->cap - TW_SLAB; i--) {
            rec(tw, i)->hnext = tw->free_head;
            tw->free_head = i;
        }
    }
    uint32_t i = tw->free_head;
    tw->free_head = rec(tw, i)->hnext;
    tw->count++;
    if (tw->count > tw->nbuckets)
        grow_buckets(c);
    return i;
}

/* ------------------------------------------------------------ tcp_tw_recycle's cache */

static tw_peer *peer_slot(tcp_ctx *c, uint32_t ip, bool create)
{
    tcp_tw_table *tw = c->tw;
    if (!tw->peers) {
        if (!create)
            return NULL;
        tw->peers = calloc(TW_PEERS, sizeof(*tw->peers));
        if (!tw->peers)
            return NULL;
    }
    uint32_t h = (uint32_t)siphash24(&c->hash_key, &ip, sizeof(ip)) & (TW_PEERS - 1);
    tw_peer *p = &tw->peers[h];
    if (p->used && p->ip == ip)
        return p;
    if (!create)
        return NULL;
    memset(p, 0, sizeof(*p)); /* a collision evicts the older peer */
    p->ip = ip;
    return p;
}

/* Linux's tcp_remember_stamp: keep the newest timestamp of the peer. */
static void remember_stamp(tcp_ctx *c, uint32_t ip, uint32_t ts, uint32_t stamp)
{
    tw_peer *p = peer_slot(c, ip, true);
    if (!p)
        return;
    if (!p->used || (int32_t)(p->ts - ts) <= 0 ||
        (now_ms(c) - p->stamp_ms > PAWS_MSL_MS && ms_before_eq(p->stamp_ms, stamp))) {
        p->ts = ts;
        p->stamp_ms = stamp;
        p->used = 1;
    }
}

bool tcp_tw_recycle_syn_ok(tcp_ctx *c, uint32_t rip, const wire_tcp *seg)
{
    if (!c->sys->tcp_tw_recycle || !seg->opt.has_ts || !c->sys->tcp_timestamps)
        return true;
    tw_peer *p = peer_slot(c, rip, false);
    if (p && now_ms(c) - p->stamp_ms < PAWS_MSL_MS &&
        (int32_t)(p->ts - seg->opt.ts_val) > PAWS_WINDOW) {
        c->ctr->tcp_paws_passive++;
        tcp_drop(c, NULL, SYNACK_DROP_TW_RECYCLE_PAWS);
        return false;
    }
    return true;
}

/* ------------------------------------------------------------ entering */

void tcp_tw_enter(tcb *t, synack_cause cause)
{
    tcp_ctx *c = t->ctx;
    tcp_tw_table *tw = c->tw;
    if (tw->count >= c->sys->tcp_max_tw_buckets) {
        /* Linux: "TCP: time wait bucket table overflow" — skip TIME-WAIT. */
        c->ctr->tcp_tw_overflow++;
        if (t->rcv.ack_pending)
            tcp_send_ack(t);
        tcb_close(t, 0, SYNACK_CAUSE_TW_TABLE_FULL);
        return;
    }
    uint32_t i = tw_alloc(c);
    if (!i) {
        c->ctr->tcp_no_memory++;
        if (t->rcv.ack_pending)
            tcp_send_ack(t);
        tcb_close(t, 0, SYNACK_CAUSE_TW_NO_MEMORY);
        return;
    }
    tcb_set_state(t, SYNACK_TIME_WAIT, cause);
    if (t->rcv.ack_pending)
        tcp_send_ack(t); /* the ACK of the FIN that brought us here, sent in TIME-WAIT */
    tcp_tw *r = rec(tw, i);
    r->id = t->id;
    r->rip = t->rip;
    r->lport = t->lport;
    r->rport = t->rport;
    r->snd_nxt = t->snd.max;
    r->rcv_nxt = t->rcv.nxt;
    r->ts_recent = t->opts.ts_recent;
    r->ts_offset = t->opts.ts_offset;
    r->ts_stamp_ms = now_ms(c);
    uint32_t adv = seq_gt(t->rcv.adv, t->rcv.nxt) ? t->rcv.adv - t->rcv.nxt : 0;
    adv >>= t->opts.rcv_wscale;
    r->wnd = (uint16_t)(adv > 65535 ? 65535 : adv);
    r->flags = t->opts.ts_ok ? TW_F_TS : 0;

    uint32_t len = tw_length_ms(c);
    bool recycle = false;
    if (c->sys->tcp_tw_recycle && t->opts.ts_ok) {
        /* pre-4.12 Linux: remember the peer's timestamp and wait only
         * 3.5 x RTO, trusting PAWS on the next SYN to do the rest. */
        remember_stamp(c, t->rip, t->opts.ts_recent, r->ts_stamp_ms);
        uint64_t rto_ms = rtt_rto_ns(t) / NS_PER_MS;
        uint64_t short_ms = rto_ms * 7 / 2;
        if (short_ms < len) {
            len = (uint32_t)short_ms;
            recycle = true;
            c->ctr->tcp_tw_shortened++;
        }
    }
    r->expire_ms = now_ms(c) + len + (c->now % NS_PER_MS ? 1 : 0);
    uint32_t h = bucket_of(c, r);
    r->hnext = tw->buckets[h];
    tw->buckets[h] = i;
    list_insert(tw, i, recycle);

    /* Give up the full connection. */
    t->timers.rto_at = t->timers.close_at = t->timers.delack_at = t->timers.keep_at = UINT64_MAX;
    tcb_schedule(t);
    tcb_hash_remove(t);
    ring_free(&t->snd.buf);
    if (t->rcv.buf.buf && (t->rcv.buf.used == 0 || t->is.orphan))
        ring_free(&t->rcv.buf);
    t->rcv.nooo = 0;
    t->rcv.ack_pending = false;
    if (t->is.app_owned && !t->is.dead) {
        r->flags |= TW_F_HANDLE;
        t->is.tw_handle = true;
        t->tw_next = tw->handles;
        tw->handles = t;
    } else {
        tcb_set_state(t, SYNACK_CLOSED, SYNACK_CAUSE_NONE); /* the record carries it on */
        tcb_maybe_release(t);
    }
}

void tcp_tw_drop_handle(tcb *t, bool kill)
{
    tcp_ctx *c = t->ctx;
    tcp_tw_table *tw = c->tw;
    ring_free(&t->rcv.buf);
    if (!t->is.tw_handle)
        return;
    uint32_t i = tw_find(c, t->lip, t->lport, t->rip, t->rport);
    if (i && rec(tw, i)->id == t->id && kill) {
        tw_kill(c, i, SYNACK_CAUSE_ABORT); /* turns the handle CLOSED with it */
        return;
    }
    find_handle(tw, t->id, true);
    if (i && rec(tw, i)->id == t->id)
        rec(tw, i)->flags &= (uint8_t)~TW_F_HANDLE;
    tcb_set_state(t, SYNACK_CLOSED, SYNACK_CAUSE_NONE); /* the record goes on alone */
}

/* ------------------------------------------------------------ timers */

void tcp_tw_timers(tcp_ctx *c)
{
    tcp_tw_table *tw = c->tw;
    uint32_t now = now_ms(c);
    for (int l = 0; l < 2; l++)
        while (tw->head[l] && ms_before_eq(rec(tw, tw->head[l])->expire_ms, now))
            tw_kill(c, tw->head[l], l ? SYNACK_CAUSE_TW_RECYCLE_TIMEOUT : SYNACK_CAUSE_TW_2MSL);
}

uint64_t tcp_tw_next_deadline(const tcp_ctx *c)
{
    const tcp_tw_table *tw = c->tw;
    uint64_t best = UINT64_MAX;
    uint32_t now = now_ms(c);
    for (int l = 0; l < 2; l++) {
        if (!tw->head[l])
            continue;
        int32_t d = (int32_t)(rec(tw, tw->head[l])->expire_ms - now);
        uint64_t at = d <= 0 ? c->now : (c->now / NS_PER_MS + (uint64_t)d) * NS_PER_MS;
        if (at < best)
            best = at;
    }
    return best;
}

/* ------------------------------------------------------------ input */

static void tw_send_ack(tcp_ctx *c, const tcp_tw *r)
{
    wire_tcp h = {.sport = r->lport, .dport = r->rport, .seq = r->snd_nxt, .ack = r->rcv_nxt,
                  .flags = SYNACK_ACK, .wnd = r->wnd};
    wire_tcp_opts_clear(&h.opt);
    if (r->flags & TW_F_TS) {
        h.opt.has_ts = 1;
        h.opt.ts_val = now_ms(c) + r->ts_offset;
        h.opt.ts_ecr = r->ts_recent;
    }
    uint8_t *seg = c->txbuf + TCP_HEADROOM;
    size_t hl = wire_tcp_emit_header(seg, sizeof(c->txbuf) - TCP_HEADROOM, &h);
    if (hl == 0)
        return;
    wire_tcp_set_checksum(seg, hl, c->local_ip, r->rip);
    if (c->trace)
        tcp_trace_seg(c, NULL, SYNACK_TRACE_SEG_OUT, &h, false, c->local_ip, r->lport, r->rip,
                      r->rport);
    c->ctr->tcp_out_segs++;
    c->emit(c->emit_ctx, r->rip, seg, hl);
}

/* RFC 7323 §5 as Linux applies it to TIME-WAIT (tcp_paws_reject). */
static bool paws_reject(const tcp_ctx *c, const tcp_tw *r, const wire_tcp *seg)
{
    if (!(r->flags & TW_F_TS) || !seg->opt.has_ts)
        return false;
    if ((int32_t)(r->ts_recent - seg->opt.ts_val) <= PAWS_WINDOW)
        return false;
    uint32_t age = now_ms(c) - r->ts_stamp_ms;
    if (age >= PAWS_24DAYS_MS)
        return false; /* TS.Recent too old to trust (RFC 7323 §5.5) */
    if ((seg->flags & SYNACK_RST) && age >= PAWS_MSL_MS)
        return false;
    return true;
}

tw_result tcp_tw_input(tcp_ctx *c, uint32_t src, uint32_t dst, const wire_tcp *seg,
                       bool listener, uint32_t *isn)
{
    tcp_tw_table *tw = c->tw;
    uint32_t i = tw_find(c, dst, seg->dport, src, seg->sport);
    if (!i)
        return TW_NONE;
    tcp_tw *r = rec(tw, i);
    if (c->trace)
        tcp_trace_seg(c, NULL, SYNACK_TRACE_SEG_IN, seg, false, dst, seg->dport, src, seg->sport);
    bool rst = seg->flags & SYNACK_RST, syn = seg->flags & SYNACK_SYN;
    bool ack = seg->flags & SYNACK_ACK, fin = seg->flags & SYNACK_FIN;
    uint32_t seglen = (uint32_t)seg->payload_len + syn + fin;
    bool paws = paws_reject(c, r, seg);

    /* In window, nothing to consume: a RST or a bare ACK. */
    if (!paws && seg->seq == r->rcv_nxt && (seglen == 0 || rst)) {
        if (rst) {
            if (!c->sys->tcp_rfc1337) { /* TIME-WAIT assassination (RFC 1337 hazard H1..H3) */
                c->ctr->tcp_tw_kill_rst++;
                tw_kill(c, i, SYNACK_CAUSE_TW_RST);
            } else {
                trace_drop(c, r, SYNACK_DROP_TW_RST_IGNORED);
            }
            return TW_DONE;
        }
        if (seg->opt.has_ts && (r->flags & TW_F_TS)) {
            r->ts_recent = seg->opt.ts_val;
            r->ts_stamp_ms = now_ms(c);
        }
        return TW_DONE;
    }

    /* A SYN may start a new incarnation (RFC 1122 §4.2.2.13, RFC 6191):
     * its sequence number lies beyond RCV.NXT, or its timestamp is newer
     * than TS.Recent. Our ISN then starts above the old SND.NXT. */
    if (syn && !rst && !ack && !paws && listener &&
        (seq_gt(seg->seq, r->rcv_nxt) ||
         (seg->opt.has_ts && (r->flags & TW_F_TS) &&
          (int32_t)(r->ts_recent - seg->opt.ts_val) < 0))) {
        uint32_t n = r->snd_nxt + 65535 + 2;
        *isn = n ? n : 1;
        c->ctr->tcp_tw_syn_reopen++;
        tw_kill(c, i, SYNACK_CAUSE_TW_REOPENED);
        return TW_SYN;
    }

    if (paws) {
        c->ctr->tcp_tw_paws_rejected++;
        trace_drop(c, r, SYNACK_DROP_TW_PAWS);
    }
    if (rst) {
        trace_drop(c, r, SYNACK_DROP_TW_RST_OUT_OF_WINDOW);
        return TW_DONE;
    }
    /* The only thing expected here is the peer's FIN again: our last ACK
     * was lost. Restart 2MSL (on any ACK, as Linux does) and ACK. */
    if (paws || ack)
        restart(c, i);
    if (fin && seg->seq + seg->payload_len + 1 == r->rcv_nxt)
        c->ctr->tcp_tw_fin_reacked++;
    /* Duplicate ACKs for pure ACKs and SYNs are rate-limited (Linux's
     * tcp_invalid_ratelimit) so two confused ends cannot ACK each other
     * forever; data and FINs are always answered. */
    if (seg->payload_len == 0 || syn) {
        uint32_t now = now_ms(c);
        if (r->last_oow_ms && now - r->last_oow_ms < c->sys->tcp_invalid_ratelimit) {
            c->ctr->tcp_tw_ack_skipped++;
            trace_drop(c, r, SYNACK_DROP_TW_ACK_RATELIMITED);
            return TW_DONE;
        }
        r->last_oow_ms = now ? now : 1;
    }
    tw_send_ack(c, r);
    return TW_DONE;
}

/* ------------------------------------------------------------ connect and bind */

static bool is_own_address(const tcp_ctx *c, uint32_t ip)
{
    return ip == c->local_ip || (ip >> 24) == 127;
}

tw_verdict tcp_tw_check(tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
    uint32_t i = tw_find(c, lip, lport, rip, rport);
    if (!i)
        return TW_FREE;
    const tcp_tw *r = rec(c->tw, i);
    uint32_t reuse = c->sys->tcp_tw_reuse;
    if (reuse == 2 && !is_own_address(c, rip))
        reuse = 0;
    /* Linux tcp_twsk_unique: only with timestamps (PAWS must guard the new
     * connection) and once tcp_tw_reuse_delay passed since the last one. */
    if (reuse && (r->flags & TW_F_TS) &&
        now_ms(c) - r->ts_stamp_ms >= c->sys->tcp_tw_reuse_delay)
        return TW_REUSABLE;
    return TW_BUSY;
}

void tcp_tw_reuse(tcb *t)
{
    tcp_ctx *c = t->ctx;
    uint32_t i = tw_find(c, t->lip, t->lport, t->rip, t->rport);
    if (!i)
        return;
    tcp_tw *r = rec(c->tw, i);
    uint32_t iss = r->snd_nxt + 65535 + 2;
    t->snd.iss = iss ? iss : 1;
    t->opts.ts_recent = r->ts_recent;
    c->ctr->tcp_tw_recycled++;
    tw_kill(c, i, SYNACK_CAUSE_TW_REUSED);
}

bool tcp_tw_port_held(const tcp_ctx *c, uint16_t port)
{
    const tcp_tw_table *tw = c->tw;
    for (int l = 0; l < 2; l++)
        for (uint32_t i = tw->head[l]; i; i = rec(tw, i)->lnext)
            if (rec(tw, i)->lport == port)
                return true;
    return false;
}
