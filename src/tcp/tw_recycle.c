/* tw_recycle.c — tcp_tw_recycle as pre-4.12 Linux had it, kept to show why
 * it was removed (docs/lifecycle.md): TIME-WAIT cut to 3.5 x RTO, trusting
 * a per-peer cache of the newest timestamp to reject old SYNs, which wrongly
 * rejects every client behind a NAT whose clocks differ. */
#include "tcp/tw_table.h"

#include <string.h>

#define TW_PEERS 1024              /* direct-mapped per-peer timestamp cache */

typedef struct tw_peer {
    synack_addr ip;
    uint32_t ts;                   /* newest TS.Recent seen from it         */
    uint32_t stamp_ms;             /* when                                  */
    uint32_t used;
} tw_peer;

/* ------------------------------------------------------------ tcp_tw_recycle's cache */

static tw_peer *peer_slot(tcp_ctx *c, const synack_addr *ip, bool create)
{
    tcp_tw_table *tw = c->tw;
    if (!tw->peers) {
        if (!create)
            return NULL;
        tw->peers = mem_calloc(c->alloc, TW_PEERS, sizeof(*tw->peers));
        if (!tw->peers)
            return NULL;
    }
    uint32_t w[TCP_TUPLE_WORDS];
    size_t n = tcp_tuple_words(ip, 0, ip, 0, w);
    uint32_t h = (uint32_t)siphash13(&c->hash_key, w, n * sizeof(w[0])) & (TW_PEERS - 1);
    tw_peer *p = &tw->peers[h];
    if (p->used && tcp_addr_eq(&p->ip, ip))
        return p;
    if (!create)
        return NULL;
    memset(p, 0, sizeof(*p)); /* a collision evicts the older peer */
    p->ip = *ip;
    return p;
}

/* Linux's tcp_remember_stamp: keep the newest timestamp of the peer. */
static void remember_stamp(tcp_ctx *c, const synack_addr *ip, uint32_t ts, uint32_t stamp)
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

bool tcp_tw_recycle_syn_ok(tcp_ctx *c, const synack_addr *rip, const wire_tcp *seg)
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

bool tw_recycle_shorten(tcb *t, const tcp_tw *r, uint32_t *len_ms)
{
    tcp_ctx *c = t->ctx;
    if (!c->sys->tcp_tw_recycle || !t->opts.ts_ok)
        return false;
    /* Remember the peer's timestamp and wait only 3.5 x RTO, trusting
     * PAWS on the next SYN to do the rest. */
    remember_stamp(c, &t->raddr, t->opts.ts_recent, r->ts_stamp_ms);
    uint64_t short_ms = rtt_rto_ns(t) / NS_PER_MS * 7 / 2;
    if (short_ms >= *len_ms)
        return false;
    *len_ms = (uint32_t)short_ms;
    c->ctr->tcp_tw_shortened++;
    return true;
}

void tw_recycle_free(tcp_ctx *c) { mem_free(c->alloc, c->tw->peers); }
