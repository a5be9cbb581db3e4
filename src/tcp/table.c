/* table.c — the connection table: an open hash on the 4-tuple under a
 * secret SipHash key (hash flooding is an attack), doubled as it fills, with
 * the last connection found kept at hand because segments come in trains. */
#include "tcp/tcp.h"


uint32_t tcp_tuple_hash(const tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip,
                        uint16_t rport)
{
    uint32_t key[3] = {lip, rip, (uint32_t)lport << 16 | rport};
    return (uint32_t)siphash24(&c->hash_key, key, sizeof(key));
}

static void grow_table(tcp_ctx *c)
{
    uint32_t n = c->nbuckets * 2;
    tcb **b = mem_calloc(c->alloc, n, sizeof(*b));
    if (!b)
        return; /* keep the old table: slower, still correct */
    for (uint32_t i = 0; i < c->nbuckets; i++) {
        for (tcb *t = c->buckets[i], *next; t; t = next) {
            next = t->hnext;
            uint32_t h = t->hash & (n - 1);
            t->hnext = b[h];
            b[h] = t;
        }
    }
    mem_free(c->alloc, c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

int tcb_hash_insert(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (t->is.hashed)
        return 0;
    if (c->nconns >= c->nbuckets)
        grow_table(c);
    t->hash = tcp_tuple_hash(c, t->lip, t->lport, t->rip, t->rport);
    uint32_t h = t->hash & (c->nbuckets - 1);
    t->hnext = c->buckets[h];
    c->buckets[h] = t;
    t->is.hashed = true;
    c->nconns++;
    return 0;
}

void tcb_hash_remove(tcb *t)
{
    tcp_ctx *c = t->ctx;
    if (!t->is.hashed)
        return;
    if (c->last_hit == t)
        c->last_hit = NULL;
    uint32_t h = t->hash & (c->nbuckets - 1);
    for (tcb **pp = &c->buckets[h]; *pp; pp = &(*pp)->hnext) {
        if (*pp == t) {
            *pp = t->hnext;
            break;
        }
    }
    t->hnext = NULL;
    t->is.hashed = false;
    c->nconns--;
}

tcb *tcb_lookup(tcp_ctx *c, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
    /* Segments come in trains: the last connection found is the likeliest. */
    tcb *last = c->last_hit;
    if (last && last->lport == lport && last->rport == rport && last->rip == rip &&
        last->lip == lip)
        return last;
    uint32_t h = tcp_tuple_hash(c, lip, lport, rip, rport) & (c->nbuckets - 1);
    for (tcb *t = c->buckets[h]; t; t = t->hnext)
        if (t->lport == lport && t->rport == rport && t->rip == rip && t->lip == lip)
            return c->last_hit = t;
    return NULL;
}
