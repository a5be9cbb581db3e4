/* neigh.c — the neighbour table of both families (RFC 826's cache for ARP,
 * RFC 4861 §7.3's for Neighbour Discovery), in the shape Linux's neighbour
 * code gives them:
 *
 *  - an entry is fresh (REACHABLE) for reachable_ns after a confirmation;
 *    then stale: still used, so traffic does not stall. Its first use
 *    while stale starts RFC 4861 §7.3.3's DELAY and PROBE (NEIGH_PROBE):
 *    first_probe_ns later, NEIGH_PROBES probes go to the known MAC alone,
 *    NEIGH_RETRY_NS apart, on the table's timer; a confirmation makes the
 *    entry fresh again, and without one NEIGH_RETRY_NS after the last
 *    probe the entry is dropped, so that the next packet waits for a
 *    resolution from scratch (to everyone) instead of going to a MAC that
 *    no longer answers (Linux: ucast_solicit, then FAILED). A stale entry
 *    left unused for a second reachable_ns is resolved from scratch too;
 *  - resolving holds up to NEIGH_QUEUE_BYTES of packets, NEIGH_QUEUE_MAX
 *    at most (a full queue drops its oldest), and solicits on its own
 *    timer, NEIGH_RETRY_NS apart; after
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

/* Take the oldest held packet off the queue (the caller frees it). */
static neigh_held *unhold(neigh_entry *e)
{
    neigh_held *h = e->held;
    if (!h)
        return NULL;
    e->held = h->next;
    if (!e->held)
        e->held_tail = NULL;
    e->held_bytes -= (uint32_t)h->len;
    e->npending--;
    return h;
}

static void drop_pending(net_ctx *n, neigh_table *t, neigh_entry *e, bool count)
{
    neigh_held *h;
    while ((h = unhold(e))) {
        mem_free(&n->cfg->alloc, h);
        if (count)
            (*t->drops)++;
    }
}

static bool has_timer(uint8_t state) { return state == NEIGH_PENDING || state == NEIGH_PROBE; }

/* The one way an entry changes state (a freed one goes to NEIGH_FREE
 * here before it is cleared), keeping count of those with a timer. */
static void set_state(neigh_table *t, neigh_entry *e, uint8_t state)
{
    t->timed -= has_timer(e->state);
    t->timed += has_timer(state);
    e->state = state;
}

/* When the entry's timer is due (UINT64_MAX: it has none). */
static uint64_t timer_at(const neigh_entry *e)
{
    if (e->state == NEIGH_PENDING)
        return e->expires;
    return e->state == NEIGH_PROBE ? e->retry_at : UINT64_MAX;
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

/* Its MAC may be used: fresh, stale, or being probed. */
static bool usable(const net_ctx *n, const neigh_table *t, const neigh_entry *e)
{
    return fresh(n, e) || stale(n, t, e) || e->state == NEIGH_PROBE;
}

/* The MAC is known: send what waited, oldest first. Each stored copy has
 * 14 bytes of headroom in front of the packet. */
static void resolved(net_ctx *n, neigh_table *t, neigh_entry *e, const uint8_t mac[6],
                     bool confirmed)
{
    memcpy(e->mac, mac, 6);
    set_state(t, e, NEIGH_RESOLVED);
    e->expires = confirmed ? n->now + t->reachable_ns : n->now; /* else STALE */
    e->probes = 0;
    neigh_held *h;
    while ((h = unhold(e))) {
        net_send_eth(n, e->mac, h->frame + WIRE_ETH_HDR_LEN, h->len, t->ethertype);
        mem_free(&n->cfg->alloc, h);
    }
}

/* §7.2.5: a fresh entry is doubted (STALE); any other stays as it is. */
static void make_stale(net_ctx *n, neigh_entry *e)
{
    if (e->state == NEIGH_RESOLVED && e->expires > n->now)
        e->expires = n->now;
}

/* STALE from now on, whatever it was (a new MAC, not confirmed). */
static void stale_now(net_ctx *n, neigh_table *t, neigh_entry *e)
{
    set_state(t, e, NEIGH_RESOLVED);
    e->expires = n->now;
    e->probes = 0;
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
    if (how & NEIGH_CONFIRMED) { /* REACHABLE, whatever it was */
        set_state(t, e, NEIGH_RESOLVED);
        e->expires = n->now + t->reachable_ns;
        e->probes = 0;
    } else if (differs) {
        stale_now(n, t, e);
    }
}

/* Hold a copy of the packet (the caller's buffer is reused); when the
 * queue is full the oldest one is dropped. False: no memory for it. */
static bool hold(net_ctx *n, neigh_table *t, neigh_entry *e, uint8_t *pkt, size_t len)
{
    if (len > NEIGH_QUEUE_BYTES) {
        (*t->drops)++;
        return false;
    }
    neigh_held *h = mem_alloc(&n->cfg->alloc, sizeof(*h) + WIRE_ETH_HDR_LEN + len);
    if (!h) {
        (*t->drops)++;
        return false;
    }
    while (e->npending == NEIGH_QUEUE_MAX || e->held_bytes + len > NEIGH_QUEUE_BYTES) {
        mem_free(&n->cfg->alloc, unhold(e)); /* the oldest make room */
        (*t->drops)++;
    }
    net_flatten(n, pkt, len); /* a segment's payload is kept with it */
    memcpy(h->frame + WIRE_ETH_HDR_LEN, pkt, len);
    h->len = len;
    h->next = NULL;
    if (e->held_tail)
        e->held_tail->next = h;
    else
        e->held = h;
    e->held_tail = h;
    e->held_bytes += (uint32_t)len;
    e->npending++;
    return true;
}

/* Ask the entry's MAC alone whether it is still there (§7.3.3's PROBE). */
static void probe(net_ctx *n, neigh_table *t, neigh_entry *e)
{
    e->probes++;
    e->retry_at = n->now + NEIGH_RETRY_NS;
    t->solicit(n, &e->addr, e->mac);
}

/* A stale entry in use: DELAY, then PROBE (neigh_timers). */
static void start_probing(net_ctx *n, neigh_table *t, neigh_entry *e)
{
    set_state(t, e, NEIGH_PROBE);
    e->probes = 0;
    e->retry_at = n->now + t->first_probe_ns;
    if (t->first_probe_ns == 0)
        probe(n, t, e);
}

bool neigh_output(net_ctx *n, neigh_table *t, const synack_addr *hop, uint8_t *pkt, size_t len)
{
    neigh_entry *e = neigh_find(t, hop);
    if (e && usable(n, t, e)) {
        net_send_eth(n, e->mac, pkt, len, t->ethertype);
        if (stale(n, t, e))
            start_probing(n, t, e);
        return true;
    }
    if (!e) {
        if (!(e = slot(n, t))) {
            (*t->drops)++;
            return false;
        }
        e->addr = *hop;
        set_state(t, e, NEIGH_PENDING);
    } else if (e->state == NEIGH_RESOLVED) {
        set_state(t, e, NEIGH_PENDING); /* long unconfirmed: resolve again */
        e->expires = 0;
    }
    bool held = hold(n, t, e, pkt, len);
    if (e->expires <= n->now) {
        e->expires = n->now + NEIGH_RETRY_NS;
        e->probes = 1;
        t->solicit(n, hop, NULL);
    }
    return held;
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

/* A probed entry's timer: probe again, or, NEIGH_PROBES having gone
 * unanswered, forget it (§7.3.3: "the entry SHOULD be deleted"). Nothing
 * waits on it: its packets went to the MAC it held. */
static void probe_timer(net_ctx *n, neigh_table *t, neigh_entry *e)
{
    if (e->probes >= NEIGH_PROBES)
        clear(t, e);
    else
        probe(n, t, e);
}

/* A pending entry's timer: solicit again, or give up on the next hop. */
static void pending_timer(net_ctx *n, neigh_table *t, neigh_entry *e)
{
    if (e->probes >= NEIGH_PROBES) {
        unreachable(n, t, e);
        return;
    }
    e->probes++;
    e->expires = n->now + NEIGH_RETRY_NS;
    t->solicit(n, &e->addr, NULL);
}

/* Both walks stop once they have seen every entry with a timer (t->timed
 * of them): they run on every poll, and the table is mostly free slots. */
void neigh_timers(net_ctx *n, neigh_table *t)
{
    unsigned left = t->timed;
    for (int i = 0; i < NEIGH_ENTRIES && left; i++) {
        neigh_entry *e = &t->e[i];
        if (!has_timer(e->state))
            continue;
        left--;
        if (timer_at(e) > n->now)
            continue;
        if (e->state == NEIGH_PROBE)
            probe_timer(n, t, e);
        else
            pending_timer(n, t, e);
    }
}

uint64_t neigh_next_deadline(const neigh_table *t)
{
    uint64_t best = UINT64_MAX;
    unsigned left = t->timed;
    for (int i = 0; i < NEIGH_ENTRIES && left; i++) {
        if (!has_timer(t->e[i].state))
            continue;
        left--;
        if (timer_at(&t->e[i]) < best)
            best = timer_at(&t->e[i]);
    }
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
