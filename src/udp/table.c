/* table.c — the two demux tables, chained hashes under a secret SipHash key
 * (hash flooding is an attack), doubled as they fill: every bound socket
 * by (family, local port), and connected ones also by (family, local
 * port, peer, peer port). Lookups are O(1): a port's chain holds the few
 * sockets sharing it (one per local address). */
#include "udp/udp.h"

#include <string.h>

bool udp_addr_eq(const synack_addr *a, const synack_addr *b)
{
    if (a->family != b->family)
        return false;
    return a->family == SYNACK_AF_INET6 ? memcmp(a->v6, b->v6, 16) == 0 : a->v4 == b->v4;
}

bool udp_addr_unspecified(const synack_addr *a)
{
    static const uint8_t zero[16];
    if (a->family == SYNACK_AF_INET6)
        return memcmp(a->v6, zero, 16) == 0;
    return a->family == 0 || a->v4 == 0;
}

static uint32_t hash_port(const udp_ctx *c, int family, uint16_t port)
{
    uint32_t w[2] = {(uint32_t)family, port};
    return (uint32_t)siphash13(&c->hash_key, w, sizeof w);
}

static uint32_t hash_peer(const udp_ctx *c, int family, uint16_t lport, const synack_addr *r,
                          uint16_t rport)
{
    uint32_t w[6] = {(uint32_t)family << 16 | 0x7064, (uint32_t)lport << 16 | rport};
    if (family == SYNACK_AF_INET6)
        memcpy(w + 2, r->v6, 16);
    else
        w[2] = r->v4;
    return (uint32_t)siphash13(&c->hash_key, w, sizeof w);
}

static uint32_t hash_of(const udp_ctx *c, int which, const synack_udp *u)
{
    if (which == UDP_BY_PORT)
        return hash_port(c, u->family, u->lport);
    return hash_peer(c, u->family, u->lport, &u->raddr, u->rport);
}

void udp_ctx_init(udp_ctx *c)
{
    c->port_next = (uint32_t)siphash24(&c->port_key, "udp", 3);
}

static void grow(udp_ctx *c, int which)
{
    udp_table *t = &c->tab[which];
    uint32_t n = t->nb ? t->nb * 2 : UDP_TABLE_MIN;
    synack_udp **b = mem_calloc(c->alloc, n, sizeof(*b));
    if (!b)
        return; /* keep the old table: slower, still correct */
    for (uint32_t i = 0; i < t->nb; i++) {
        for (synack_udp *u = t->b[i], *next; u; u = next) {
            next = u->hnext[which];
            u->hnext[which] = b[u->hash[which] & (n - 1)];
            b[u->hash[which] & (n - 1)] = u;
        }
    }
    mem_free(c->alloc, t->b);
    t->b = b;
    t->nb = n;
}

bool udp_table_insert(udp_ctx *c, int which, synack_udp *u)
{
    udp_table *t = &c->tab[which];
    if (u->in_table[which])
        return true;
    if (t->count >= t->nb)
        grow(c, which);
    if (!t->nb)
        return false; /* no memory for even the first buckets */
    u->hash[which] = hash_of(c, which, u);
    synack_udp **head = &t->b[u->hash[which] & (t->nb - 1)];
    u->hnext[which] = *head;
    *head = u;
    u->in_table[which] = true;
    t->count++;
    return true;
}

void udp_table_remove(udp_ctx *c, int which, synack_udp *u)
{
    udp_table *t = &c->tab[which];
    if (!u->in_table[which])
        return;
    for (synack_udp **pp = &t->b[u->hash[which] & (t->nb - 1)]; *pp; pp = &(*pp)->hnext[which]) {
        if (*pp == u) {
            *pp = u->hnext[which];
            break;
        }
    }
    u->in_table[which] = false;
    t->count--;
}

static synack_udp *chain(const udp_ctx *c, int which, uint32_t h)
{
    const udp_table *t = &c->tab[which];
    return t->nb ? t->b[h & (t->nb - 1)] : NULL;
}

synack_udp *udp_lookup_port(udp_ctx *c, int family, const synack_addr *dst, uint16_t port)
{
    synack_udp *any = NULL;
    for (synack_udp *u = chain(c, UDP_BY_PORT, hash_port(c, family, port)); u;
         u = u->hnext[UDP_BY_PORT]) {
        if (u->family != family || u->lport != port || u->connected)
            continue;
        if (u->laddr.family == 0)
            any = u;
        else if (udp_addr_eq(&u->laddr, dst))
            return u;
    }
    return any;
}

synack_udp *udp_lookup_peer(udp_ctx *c, const synack_addr *local, uint16_t lport,
                            const synack_addr *remote, uint16_t rport)
{
    int family = remote->family;
    for (synack_udp *u = chain(c, UDP_BY_PEER, hash_peer(c, family, lport, remote, rport)); u;
         u = u->hnext[UDP_BY_PEER]) {
        if (u->family == family && u->lport == lport && u->rport == rport &&
            udp_addr_eq(&u->raddr, remote) && (u->laddr.family == 0 || udp_addr_eq(&u->laddr, local)))
            return u;
    }
    return NULL;
}

bool udp_port_in_use(udp_ctx *c, int family, const synack_addr *addr, uint16_t port,
                     const synack_udp *self)
{
    for (synack_udp *u = chain(c, UDP_BY_PORT, hash_port(c, family, port)); u;
         u = u->hnext[UDP_BY_PORT]) {
        if (u == self || u->family != family || u->lport != port)
            continue;
        if (addr->family == 0 || u->laddr.family == 0 || udp_addr_eq(&u->laddr, addr))
            return true;
    }
    return false;
}

void udp_ctx_free(udp_ctx *c)
{
    while (c->all) {
        synack_udp *u = c->all;
        c->all = u->anext;
        udp_queue_free(u);
        mem_free(c->alloc, u);
    }
    for (int i = 0; i < UDP_TABLES; i++) {
        mem_free(c->alloc, c->tab[i].b);
        c->tab[i] = (udp_table){0};
    }
    c->transparent = NULL;
    c->ev_head = c->ev_tail = NULL;
}
