/* totals.c — per-connection segment totals, for a `synack run` that prints
 * only its one-line summaries: the segments are counted here, on the
 * runtime thread, instead of each one being written out for the watcher
 * to count (which cost a bulk transfer a fifth of its rate). An open-
 * addressing table keyed by the trace's connection id, grown by doubling
 * and emptied as connections close (backward-shift deletion, so no
 * tombstones build up in a long-running server). */
#include "preload/preload.h"

#include <stdlib.h>
#include <string.h>

static sp_totals *slots; /* id 0: empty */
static size_t cap, used;
static unsigned shift; /* 32 - log2(cap) */

/* Fibonacci hashing: the product's top bits, so that ids handed out in
 * sequence still spread (and collide like any others). */
static size_t home(uint32_t id) { return (uint32_t)(id * 2654435761u) >> shift; }

static sp_totals *find(uint32_t id)
{
    if (!cap)
        return NULL;
    for (size_t i = home(id);; i = (i + 1) & (cap - 1)) {
        if (slots[i].conn_id == id)
            return &slots[i];
        if (!slots[i].conn_id)
            return NULL;
    }
}

static sp_totals *insert(uint32_t id)
{
    if ((used + 1) * 2 > cap) { /* keep the load at most a half */
        size_t ncap = cap ? cap * 2 : 64;
        sp_totals *n = calloc(ncap, sizeof *n), *old = slots;
        if (!n)
            return NULL;
        size_t ocap = cap;
        slots = n;
        cap = ncap;
        for (shift = 32; (1ul << (32 - shift)) < cap; shift--)
            ;
        for (size_t i = 0; i < ocap; i++) {
            if (!old[i].conn_id)
                continue;
            size_t j = home(old[i].conn_id);
            while (slots[j].conn_id)
                j = (j + 1) & (cap - 1);
            slots[j] = old[i];
        }
        free(old);
    }
    size_t i = home(id);
    while (slots[i].conn_id)
        i = (i + 1) & (cap - 1);
    memset(&slots[i], 0, sizeof slots[i]);
    slots[i].conn_id = id;
    used++;
    return &slots[i];
}

/* Remove slot `i`, moving back the entries of its cluster that would no
 * longer be found. */
static void remove_at(size_t i)
{
    size_t j = i;
    for (;;) {
        j = (j + 1) & (cap - 1);
        if (!slots[j].conn_id)
            break;
        size_t h = home(slots[j].conn_id);
        /* j's entry may fill the hole at i unless its home lies in (i, j]. */
        if ((j > i && (h <= i || h > j)) || (j < i && h <= i && h > j)) {
            slots[i] = slots[j];
            i = j;
        }
    }
    slots[i].conn_id = 0;
    used--;
}

void sp_totals_add(const synack_trace_event *ev)
{
    if (!ev->conn_id)
        return;
    sp_totals *t = find(ev->conn_id);
    if (!t && !(t = insert(ev->conn_id)))
        return; /* out of memory: the summary undercounts */
    t->t_last = ev->time_ns;
    if (ev->kind == SYNACK_TRACE_SEG_IN) {
        t->received += ev->seg.len;
        return;
    }
    t->segs++;
    if (ev->retransmit)
        t->rexmit++;
    else
        t->sent += ev->seg.len;
}

bool sp_totals_take(uint32_t id, sp_totals *out, bool forget)
{
    sp_totals *t = id ? find(id) : NULL; /* 0 marks an empty slot */
    if (!t)
        return false;
    *out = *t;
    if (forget) {
        remove_at((size_t)(t - slots));
    } else {
        uint64_t last = t->t_last;
        memset(t, 0, sizeof *t);
        t->conn_id = id;
        t->t_last = last;
    }
    return true;
}

void sp_totals_drain(void (*fn)(const sp_totals *))
{
    for (size_t i = 0; i < cap; i++)
        if (slots[i].conn_id && (slots[i].segs || slots[i].received))
            fn(&slots[i]);
    free(slots);
    slots = NULL;
    cap = used = 0;
}
