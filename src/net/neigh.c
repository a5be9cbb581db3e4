/* neigh.c — the neighbour table of both families (RFC 826's cache for ARP,
 * RFC 4861 §7.3's for Neighbour Discovery), in the shape Linux's neighbour
 * code gives them:
 *
 *  - an entry is fresh (REACHABLE) for reachable_ns after a confirmation;
 *    then stale: still used, so traffic does not stall, while a refresh
 *    goes to the known MAC once per NEIGH_RETRY_NS (the first one
 *    first_probe_ns after the first stale use: ND's DELAY); one not
 *    confirmed within a second reachable_ns is resolved again from scratch;
 *  - resolving holds up to NEIGH_QUEUE packets (a full queue drops its
 *    oldest) and solicits on its own timer, NEIGH_RETRY_NS apart; after
 *    NEIGH_PROBES unanswered solicitations the next hop is unreachable:
 *    its packets are dropped and counted, the entry freed, and the
 *    family's hook tells TCP;
 *  - a full table gives up its dynamic entry closest to expiry: a stale
 *    one before a pending one before a fresh one; static entries stay. */
#include "net/net.h"

#include <string.h>

neigh_entry *neigh_find(neigh_table *t, const synack_addr *a)
{
    for (int i = 0; i < NEIGH_ENTRIES; i++)
        if (t->e[i].state != NEIGH_FREE && tcp_addr_eq(&t->e[i].addr, a))
            return &t->e[i];
    return NULL;
}

static void drop_pending(net_ctx *n, neigh_table *t, neigh_entry *e, bool count)
{
    for (int i = 0; i < e->npending; i++) {
        mem_free(&n->cfg->alloc, e->pending[i]);
        e->pending[i] = NULL;
        if (count)
            (*t->drops)++;
    }
    e->npending = 0;
}

/* The one way an entry changes state (a freed one goes to NEIGH_FREE
 * here before it is cleared), keeping count of those being resolved. */
static void set_state(neigh_table *t, neigh_entry *e, uint8_t state)
{
    t->resolving -= e->state == NEIGH_PENDING;
    t->resolving += state == NEIGH_PENDING;
    e->state = state;
}

/* Forget an entry: FREE and cleared. */
static void clear(neigh_table *t, neigh_entry *e)
{
    set_state(t, e, NEIGH_FREE);
    memset(e, 0, sizeof(*e));
}

/* A free slot, else the dynamic entry closest to expiry. */
static neigh_entry *slot(net_ctx *n, neigh_table *t)
{
    neigh_entry *victim = NULL;
    for (int i = 0; i < NEIGH_ENTRIES; i++) {
        neigh_entry *e = &t->e[i];
        if (e->state == NEIGH_FREE)
            return e;
        if (e->state != NEIGH_STATIC && (!victim || e->expires < victim->expires))
            victim = e;
    }
    if (victim) {
        drop_pending(n, t, victim, true);
        clear(t, victim);
    }
    return victim;
}

static bool fresh(const net_ctx *n, const neigh_entry *e)
{
    return e->state == NEIGH_STATIC || (e->state == NEIGH_RESOLVED && e->expires > n->now);
}

static bool stale(const net_ctx *n, const neigh_table *t, const neigh_entry *e)
{
    return e->state == NEIGH_RESOLVED && e->expires <= n->now &&
           n->now - e->expires < t->reachable_ns;
}

/* The MAC is known: send what waited, oldest first. Each stored copy has
 * 14 bytes of headroom in front of the packet. */
static void resolved(net_ctx *n, neigh_table *t, neigh_entry *e, const uint8_t mac[6],
                     bool confirmed)
{
    memcpy(e->mac, mac, 6);
    set_state(t, e, NEIGH_RESOLVED);
    e->expires = confirmed ? n->now + t->reachable_ns : n->now; /* else STALE */
    e->retry_at = 0;
    e->probes = 0;
    int np = e->npending;
    e->npending = 0;
    for (int i = 0; i < np; i++) {
        uint8_t *p = e->pending[i];
        e->pending[i] = NULL;
        net_send_eth(n, e->mac, p + WIRE_ETH_HDR_LEN, e->pending_len[i], t->ethertype);
        mem_free(&n->cfg->alloc, p);
    }
}

static void make_stale(net_ctx *n, neigh_entry *e)
{
    if (e->expires > n->now) {
        e->expires = n->now;
        e->retry_at = 0;
    }
}

void neigh_learn(net_ctx *n, neigh_table *t, const synack_addr *a, const uint8_t *mac,
                 unsigned how)
{
    neigh_entry *e = neigh_find(t, a);
    if (!e) {
        if (!mac || !(how & NEIGH_CREATE) || !(e = slot(n, t)))
            return;
        e->addr = *a;
        set_state(t, e, NEIGH_PENDING);
    }
    if (e->state == NEIGH_STATIC)
        return;
    if (e->state == NEIGH_PENDING) {
        if (mac) /* RFC 4861 §7.2.5: an answer without one changes nothing */
            resolved(n, t, e, mac, how & NEIGH_CONFIRMED);
        return;
    }
    bool differs = mac && memcmp(mac, e->mac, 6) != 0;
    if (differs && !(how & NEIGH_OVERRIDE)) {
        make_stale(n, e); /* §7.2.5: keep the MAC, but doubt it */
        return;
    }
    if (differs)
        memcpy(e->mac, mac, 6);
    if (how & NEIGH_CONFIRMED) {
        e->expires = n->now + t->reachable_ns;
        e->retry_at = 0;
    } else if (differs) {
        make_stale(n, e);
    }
}

/* Hold a copy of the packet (the caller's buffer is reused); when the
 * queue is full the oldest one is dropped. */
static void hold(net_ctx *n, neigh_table *t, neigh_entry *e, const uint8_t *pkt, size_t len)
{
    uint8_t *copy = mem_alloc(&n->cfg->alloc, len + WIRE_ETH_HDR_LEN);
    if (!copy) {
        (*t->drops)++;
        return;
    }
    if (e->npending == NEIGH_QUEUE) {
        (*t->drops)++;
        mem_free(&n->cfg->alloc, e->pending[0]);
        memmove(e->pending, e->pending + 1, (NEIGH_QUEUE - 1) * sizeof(e->pending[0]));
        memmove(e->pending_len, e->pending_len + 1, (NEIGH_QUEUE - 1) * sizeof(e->pending_len[0]));
        e->npending--;
    }
    memcpy(copy + WIRE_ETH_HDR_LEN, pkt, len);
    e->pending[e->npending] = copy;
    e->pending_len[e->npending++] = len;
}

/* A stale entry in use: ask its MAC now and then whether it is still there. */
static void refresh(net_ctx *n, neigh_table *t, neigh_entry *e)
{
    if (e->retry_at == 0)
        e->retry_at = n->now + t->first_probe_ns;
    if (e->retry_at <= n->now) {
        e->retry_at = n->now + NEIGH_RETRY_NS;
        t->solicit(n, &e->addr, e->mac);
    }
}

void neigh_output(net_ctx *n, neigh_table *t, const synack_addr *hop, uint8_t *pkt, size_t len)
{
    neigh_entry *e = neigh_find(t, hop);
    if (e && (fresh(n, e) || stale(n, t, e))) {
        /* The packet first: it may sit in the buffer a solicitation is built in. */
        net_send_eth(n, e->mac, pkt, len, t->ethertype);
        if (!fresh(n, e))
            refresh(n, t, e);
        return;
    }
    if (!e) {
        if (!(e = slot(n, t))) {
            (*t->drops)++;
            return;
        }
        e->addr = *hop;
        set_state(t, e, NEIGH_PENDING);
    } else if (e->state == NEIGH_RESOLVED) {
        set_state(t, e, NEIGH_PENDING); /* long unconfirmed: resolve again */
        e->expires = 0;
    }
    hold(n, t, e, pkt, len);
    if (e->expires <= n->now) {
        e->expires = n->now + NEIGH_RETRY_NS;
        e->probes = 1;
        t->solicit(n, hop, NULL);
    }
}

/* The next hop never answered: drop what waited for it, forget it, and
 * let the family tell whom it concerns. */
static void unreachable(net_ctx *n, neigh_table *t, neigh_entry *e)
{
    synack_addr hop = e->addr;
    drop_pending(n, t, e, true);
    clear(t, e);
    t->unreachable(n, &hop);
}

void neigh_timers(net_ctx *n, neigh_table *t)
{
    for (int i = 0; i < NEIGH_ENTRIES && t->resolving; i++) {
        neigh_entry *e = &t->e[i];
        if (e->state != NEIGH_PENDING || e->expires > n->now)
            continue;
        if (e->probes >= NEIGH_PROBES) {
            unreachable(n, t, e);
            continue;
        }
        e->probes++;
        e->expires = n->now + NEIGH_RETRY_NS;
        t->solicit(n, &e->addr, NULL);
    }
}

uint64_t neigh_next_deadline(const neigh_table *t)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < NEIGH_ENTRIES && t->resolving; i++)
        if (t->e[i].state == NEIGH_PENDING && t->e[i].expires < best)
            best = t->e[i].expires;
    return best;
}

int neigh_add_static(net_ctx *n, neigh_table *t, const synack_addr *a, const uint8_t mac[6])
{
    neigh_entry *e = neigh_find(t, a);
    if (!e && !(e = slot(n, t)))
        return -1;
    drop_pending(n, t, e, false);
    e->addr = *a;
    memcpy(e->mac, mac, 6);
    set_state(t, e, NEIGH_STATIC);
    return 0;
}

void neigh_free(net_ctx *n, neigh_table *t)
{
    for (int i = 0; i < NEIGH_ENTRIES; i++)
        drop_pending(n, t, &t->e[i], false);
}
