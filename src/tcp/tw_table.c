/* tw_table.c — the TIME-WAIT table's storage: records in slabs, addressed
 * by index, in their own hash table and on one of two expiry lists (see
 * timewait.h), the timers that expire them and the one way to delete one. */
#include "tcp/tw_table.h"

#include <string.h>

int tcp_tw_init(tcp_ctx *c)
{
    tcp_tw_table *tw = mem_calloc(c->alloc, 1, sizeof(*tw));
    if (!tw)
        return -1;
    tw->nbuckets = 256;
    tw->buckets = mem_calloc(c->alloc, tw->nbuckets, sizeof(*tw->buckets));
    if (!tw->buckets) {
        mem_free(c->alloc, tw);
        return -1;
    }
    c->tw = tw;
    return 0;
}

void tcp_tw_free(tcp_ctx *c)
{
    if (!c->tw)
        return;
    for (uint32_t k = 0; k < c->tw->cap / TW_SLAB; k++) {
        mem_free(c->alloc, c->tw->slabs[k]);
        mem_free(c->alloc, c->tw->addr6[k]);
        mem_free(c->alloc, c->tw->local[k]);
    }
    mem_free(c->alloc, c->tw->slabs);
    mem_free(c->alloc, c->tw->addr6);
    mem_free(c->alloc, c->tw->local);
    mem_free(c->alloc, c->tw->buckets);
    tw_recycle_free(c);
    mem_free(c->alloc, c->tw);
    c->tw = NULL;
}

uint32_t tcp_tw_count(const tcp_ctx *c) { return c->tw ? c->tw->count : 0; }

/* ------------------------------------------------------------ addresses */

/* Record i's 16 bytes in a per-slab address array (addr6 or local), made
 * on first use; NULL without memory. */
static uint8_t *slab_bytes(tcp_ctx *c, uint8_t (**arrays)[16], uint32_t i)
{
    uint32_t k = (i - 1) / TW_SLAB;
    if (!arrays[k]) {
        arrays[k] = mem_calloc(c->alloc, TW_SLAB, sizeof(*arrays[k]));
        if (!arrays[k])
            return NULL;
    }
    return arrays[k][(i - 1) % TW_SLAB];
}

static const uint8_t *slab_bytes_of(uint8_t (*const *arrays)[16], uint32_t i)
{
    return arrays[(i - 1) / TW_SLAB][(i - 1) % TW_SLAB];
}

static int family_of(const tcp_tw *r)
{
    return (r->flags & TW_F_V6) ? SYNACK_AF_INET6 : SYNACK_AF_INET;
}

int tw_set_peer(tcp_ctx *c, uint32_t i, const synack_addr *peer)
{
    tcp_tw *r = rec(c->tw, i);
    if (peer->family != SYNACK_AF_INET6) {
        r->rip = peer->v4;
        r->flags &= (uint8_t)~TW_F_V6;
        return 0;
    }
    uint8_t *b = slab_bytes(c, c->tw->addr6, i);
    if (!b)
        return -1;
    memcpy(b, peer->v6, 16);
    r->rip = 0;
    r->flags |= TW_F_V6;
    return 0;
}

synack_addr tw_peer_addr(const tcp_ctx *c, uint32_t i)
{
    const tcp_tw *r = rec(c->tw, i);
    if (!(r->flags & TW_F_V6))
        return tcp_addr4(r->rip);
    synack_addr a = {.family = SYNACK_AF_INET6};
    memcpy(a.v6, slab_bytes_of(c->tw->addr6, i), 16);
    return a;
}

int tw_set_local(tcp_ctx *c, uint32_t i, const synack_addr *local)
{
    tcp_tw *r = rec(c->tw, i);
    synack_addr ours = tcp_local_addr(c, family_of(r));
    r->flags &= (uint8_t)~TW_F_LOCAL;
    if (tcp_addr_eq(local, &ours))
        return 0; /* the common case: no room taken */
    uint8_t *b = slab_bytes(c, c->tw->local, i);
    if (!b)
        return -1;
    if (local->family == SYNACK_AF_INET6)
        memcpy(b, local->v6, 16);
    else
        memcpy(b, &local->v4, 4);
    r->flags |= TW_F_LOCAL;
    return 0;
}

synack_addr tw_local_addr(const tcp_ctx *c, uint32_t i)
{
    const tcp_tw *r = rec(c->tw, i);
    if (!(r->flags & TW_F_LOCAL))
        return tcp_local_addr(c, family_of(r));
    const uint8_t *b = slab_bytes_of(c->tw->local, i);
    synack_addr a = {.family = (uint8_t)family_of(r)};
    if (a.family == SYNACK_AF_INET6)
        memcpy(a.v6, b, 16);
    else
        memcpy(&a.v4, b, 4);
    return a;
}

/* ------------------------------------------------------------ hash table */

static uint32_t bucket_of(const tcp_ctx *c, uint32_t i)
{
    const tcp_tw *r = rec(c->tw, i);
    synack_addr local = tw_local_addr(c, i), peer = tw_peer_addr(c, i);
    return tcp_tuple_hash(c, &local, r->lport, &peer, r->rport) & (c->tw->nbuckets - 1);
}

static void grow_buckets(tcp_ctx *c)
{
    tcp_tw_table *tw = c->tw;
    uint32_t n = tw->nbuckets * 2;
    uint32_t *b = mem_calloc(c->alloc, n, sizeof(*b));
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
            uint32_t h = bucket_of(c, j);
            r->hnext = b[h];
            b[h] = j;
        }
    }
    mem_free(c->alloc, old);
}

uint32_t tw_find(const tcp_ctx *c, const synack_addr *lip, uint16_t lport, const synack_addr *rip,
                 uint16_t rport)
{
    const tcp_tw_table *tw = c->tw;
    if (!tw->count)
        return 0;
    uint32_t h = tcp_tuple_hash(c, lip, lport, rip, rport) & (tw->nbuckets - 1);
    for (uint32_t i = tw->buckets[h]; i; i = rec(tw, i)->hnext) {
        const tcp_tw *r = rec(tw, i);
        if (r->lport != lport || r->rport != rport || family_of(r) != rip->family)
            continue;
        synack_addr peer = tw_peer_addr(c, i), local = tw_local_addr(c, i);
        if (tcp_addr_eq(&peer, rip) && tcp_addr_eq(&local, lip))
            return i;
    }
    return 0;
}

/* ------------------------------------------------------------ expiry lists */

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

uint32_t tw_length_ms(const tcp_ctx *c) { return 2u * c->sys->tcp_msl; }

/* (Re)start the entry's timer at the full 2MSL. */
void tw_restart(tcp_ctx *c, uint32_t i)
{
    tcp_tw_table *tw = c->tw;
    list_unlink(tw, i);
    rec(tw, i)->expire_ms = now_ms(c) + tw_length_ms(c);
    list_insert(tw, i, false);
}

void tw_file(tcp_ctx *c, uint32_t i, bool short_list)
{
    tcp_tw_table *tw = c->tw;
    tcp_tw *r = rec(tw, i);
    uint32_t h = bucket_of(c, i);
    r->hnext = tw->buckets[h];
    tw->buckets[h] = i;
    list_insert(tw, i, short_list);
}

/* ------------------------------------------------------------ allocating and deleting */

uint32_t tw_alloc(tcp_ctx *c)
{
    tcp_tw_table *tw = c->tw;
    if (!tw->free_head) {
        uint32_t k = tw->cap / TW_SLAB;
        tcp_tw **slabs = mem_realloc(c->alloc, tw->slabs, (size_t)(k + 1) * sizeof(*slabs));
        if (!slabs)
            return 0;
        tw->slabs = slabs;
        uint8_t(**addr6)[16] = mem_realloc(c->alloc, tw->addr6, (size_t)(k + 1) * sizeof(*addr6));
        if (!addr6)
            return 0;
        tw->addr6 = addr6;
        addr6[k] = NULL;
        uint8_t(**local)[16] = mem_realloc(c->alloc, tw->local, (size_t)(k + 1) * sizeof(*local));
        if (!local)
            return 0;
        tw->local = local;
        local[k] = NULL;
        tcp_tw *slab = mem_calloc(c->alloc, TW_SLAB, sizeof(*slab));
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

void tw_unalloc(tcp_ctx *c, uint32_t i)
{
    tcp_tw_table *tw = c->tw;
    tcp_tw *r = rec(tw, i);
    memset(r, 0, sizeof(*r));
    r->hnext = tw->free_head;
    tw->free_head = i;
    tw->count--;
}

/* ------------------------------------------------------------ tracing */

static tcp_tuple who_of(const tcp_ctx *c, uint32_t i)
{
    const tcp_tw *r = rec(c->tw, i);
    return (tcp_tuple){r->id, tw_local_addr(c, i), tw_peer_addr(c, i), r->lport, r->rport};
}

void tw_drop(tcp_ctx *c, uint32_t i, synack_drop why)
{
    tcp_tuple who = who_of(c, i);
    tcp_drop_tuple(c, &who, SYNACK_TIME_WAIT, why);
}

/* ------------------------------------------------------------ ending an entry */

tcb *tw_find_handle(tcp_tw_table *tw, uint32_t id, bool unlink)
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
void tw_kill(tcp_ctx *c, uint32_t i, synack_cause cause)
{
    tcp_tw_table *tw = c->tw;
    tcp_tw *r = rec(tw, i);
    uint32_t h = bucket_of(c, i);
    for (uint32_t *pp = &tw->buckets[h]; *pp; pp = &rec(tw, *pp)->hnext) {
        if (*pp == i) {
            *pp = r->hnext;
            break;
        }
    }
    list_unlink(tw, i);
    tcb *t = (r->flags & TW_F_HANDLE) ? tw_find_handle(tw, r->id, true) : NULL;
    if (t) {
        tcb_set_state(t, SYNACK_CLOSED, cause);
        tcb_signal(t, SYNACK_EV_CLOSED | SYNACK_EV_READABLE | SYNACK_EV_WRITABLE);
    } else {
        tcp_tuple who = who_of(c, i);
        tcp_trace_state(c, &who, SYNACK_TIME_WAIT, SYNACK_CLOSED, cause);
    }
    memset(r, 0, sizeof(*r));
    r->hnext = tw->free_head;
    tw->free_head = i;
    tw->count--;
}

/* ------------------------------------------------------------ timers */

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

bool tcp_tw_port_held(const tcp_ctx *c, uint16_t port, int family)
{
    const tcp_tw_table *tw = c->tw;
    for (int l = 0; l < 2; l++)
        for (uint32_t i = tw->head[l]; i; i = rec(tw, i)->lnext)
            if (rec(tw, i)->lport == port && (!family || family_of(rec(tw, i)) == family))
                return true;
    return false;
}
