/* ports.c — ephemeral port selection, RFC 6056 Algorithm 3 ("simple hash-
 * based"): a keyed per-destination offset plus a shared counter, so each
 * destination sees its own sequence and an observer cannot predict ours.
 *
 * A port is free for a destination unless that exact 4-tuple is a
 * connection, a TIME-WAIT entry that tcp_tw_reuse does not let us take, or
 * the port has a listener. Like Linux's __inet_hash_connect, a TIME-WAIT
 * entry we may reuse is taken at once (the caller deletes it). */
#include "tcp/tcp.h"
#include "tcp/timewait.h"

#include "base/steer.h"

#include <errno.h>

int tcp_pick_port(tcp_ctx *c, const synack_addr *local, const synack_addr *rip, uint16_t rport,
                  uint16_t *out, bool *reuse)
{
    uint32_t lo = c->sys->ip_local_port_range[0], hi = c->sys->ip_local_port_range[1];
    *reuse = false;
    if (lo == 0 || hi < lo || hi > 65535)
        return -EADDRNOTAVAIL;
    uint32_t num = hi - lo + 1;
    /* RFC 6056 §3.3.3's F(local address, remote address, remote port). */
    uint32_t key[TCP_TUPLE_WORDS];
    size_t n = tcp_tuple_words(local, 0, rip, rport, key);
    uint32_t offset = (uint32_t)siphash24(&c->port_key, key, n * sizeof(key[0]));
    for (uint32_t i = 0; i < num; i++) {
        uint16_t port = (uint16_t)(lo + (offset + c->port_next + i) % num);
        if (!steer_tcp_mine(&c->steer, local, port, rip, rport) ||
            tcb_lookup(c, local, port, rip, rport) || listen_find(c, 0, port))
            continue;
        tw_verdict v = tcp_tw_check(c, local, port, rip, rport);
        if (v == TW_BUSY)
            continue;
        c->port_next += i + 1;
        *reuse = v == TW_REUSABLE;
        *out = port;
        return 0;
    }
    return -EADDRNOTAVAIL;
}

/* Sockets share a port only when they take different families (an
 * IPv4-only listener beside an IPv6-only one, as Linux allows with
 * V6ONLY); family 0 takes both. */
static bool families_overlap(int a, int b) { return a == 0 || b == 0 || a == b; }

bool tcb_port_in_use(tcp_ctx *c, uint16_t port, bool reuseaddr, const tcb *self)
{
    for (tcb *l = c->listeners; l; l = l->qnext)
        if (l != self && l->lport == port && families_overlap(l->laddr.family, self->laddr.family))
            return true;
    for (uint32_t i = 0; i < c->nbuckets; i++)
        for (tcb *t = c->buckets[i]; t; t = t->hnext)
            if (t != self && t->lport == port && families_overlap(t->laddr.family, self->laddr.family))
                return true;
    /* TIME-WAIT entries hold their port unless SO_REUSEADDR (Linux). */
    return !reuseaddr && tcp_tw_port_held(c, port, self->laddr.family);
}

/* A port for bind(2) to port 0 or an unbound listen(2): one that no socket
 * of `self`'s families holds (Linux's inet_csk_find_open_port), from a
 * keyed start that moves on with each pick. */
int tcp_pick_bind_port(tcp_ctx *c, const tcb *self, uint16_t *out)
{
    uint32_t lo = c->sys->ip_local_port_range[0], hi = c->sys->ip_local_port_range[1];
    if (lo == 0 || hi < lo || hi > 65535)
        return -EADDRINUSE;
    uint32_t num = hi - lo + 1, key = c->port_next;
    uint32_t offset = (uint32_t)(siphash24(&c->port_key, &key, sizeof key) % num);
    for (uint32_t i = 0; i < num; i++) {
        uint16_t port = (uint16_t)(lo + (offset + i) % num); /* no wrap: both < 65536 */
        if (!tcb_port_in_use(c, port, self->sockopt.reuseaddr, self)) {
            c->port_next++;
            *out = port;
            return 0;
        }
    }
    return -EADDRINUSE;
}
