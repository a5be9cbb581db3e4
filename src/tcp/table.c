/* table.c — the connection table: an open hash on the 4-tuple under a
 * secret SipHash-1-3 key (hash flooding is an attack), doubled as it fills, with
 * the last connection found kept at hand because segments come in trains. */
#include "tcp/tcp.h"

#include <string.h>


size_t tcp_tuple_words(const synack_addr *l, uint16_t lport, const synack_addr *r,
                       uint16_t rport, uint32_t w[TCP_TUPLE_WORDS])
{
    uint32_t ports = (uint32_t)lport << 16 | rport;
    if (l->family != SYNACK_AF_INET6) {
        w[0] = l->v4;
        w[1] = r->v4;
        w[2] = ports;
        return 3;
    }
    memcpy(w, l->v6, 16);
    memcpy(w + 4, r->v6, 16);
    w[8] = ports;
    w[9] = 0x69707636u; /* "ipv6" */
    return 10;
}

uint32_t tcp_tuple_hash(const tcp_ctx *c, const synack_addr *l, uint16_t lport,
                        const synack_addr *r, uint16_t rport)
{
    uint32_t w[TCP_TUPLE_WORDS];
    size_t n = tcp_tuple_words(l, lport, r, rport, w);
    return (uint32_t)siphash13(&c->hash_key, w, n * sizeof(w[0])); /* per segment: the fast one */
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
    t->hash = tcp_tuple_hash(c, &t->laddr, t->lport, &t->raddr, t->rport);
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

static bool tuple_is(const tcb *t, const synack_addr *l, uint16_t lport, const synack_addr *r,
                     uint16_t rport)
{
    return t->lport == lport && t->rport == rport && tcp_addr_eq(&t->raddr, r) &&
           tcp_addr_eq(&t->laddr, l);
}

tcb *tcb_lookup(tcp_ctx *c, const synack_addr *l, uint16_t lport, const synack_addr *r,
                uint16_t rport)
{
    /* Segments come in trains: the last connection found is the likeliest. */
    tcb *last = c->last_hit;
    if (last && tuple_is(last, l, lport, r, rport))
        return last;
    uint32_t h = tcp_tuple_hash(c, l, lport, r, rport) & (c->nbuckets - 1);
    for (tcb *t = c->buckets[h]; t; t = t->hnext)
        if (tuple_is(t, l, lport, r, rport))
            return c->last_hit = t;
    return NULL;
}
