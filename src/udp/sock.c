/* sock.c — a UDP socket's life: open, bind (an ephemeral port when asked
 * for port 0, or when a send or connect needs one), connect and
 * disconnect (RFC 1122 §4.1.3.4's choice of peer), options, close. */
#include "udp/udp.h"

#include <errno.h>
#include <string.h>

synack_udp *udp_open(udp_ctx *c, int family)
{
    if (family != SYNACK_AF_INET && family != SYNACK_AF_INET6)
        return NULL;
    synack_udp *u = mem_calloc(c->alloc, 1, sizeof(*u));
    if (!u)
        return NULL;
    u->ctx = c;
    u->family = (uint8_t)family;
    u->rcvbuf = UDP_RCVBUF_DEFAULT;
    u->anext = c->all;
    if (c->all)
        c->all->aprev = u;
    c->all = u;
    return u;
}

/* A port of ip_local_port_range that no UDP socket of the family holds
 * on `addr`: from a keyed start that moves on with each pick, then the
 * next free one (RFC 6056 §3.3.1's spirit: hard to guess). */
static int pick_port(synack_udp *u, const synack_addr *addr, uint16_t *out)
{
    udp_ctx *c = u->ctx;
    uint32_t lo = c->sys->ip_local_port_range[0], hi = c->sys->ip_local_port_range[1];
    if (lo == 0 || hi < lo || hi > 65535)
        return -EADDRINUSE;
    uint32_t num = hi - lo + 1, key = c->port_next++;
    uint32_t offset = (uint32_t)(siphash24(&c->port_key, &key, sizeof key) % num);
    for (uint32_t i = 0; i < num; i++) {
        uint16_t port = (uint16_t)(lo + (offset + i) % num);
        if (!udp_port_in_use(c, u->family, addr, port, u)) {
            *out = port;
            return 0;
        }
    }
    return -EADDRINUSE;
}

int udp_bind(synack_udp *u, const synack_addr *addr, uint16_t port)
{
    if (u->lport || u->transparent)
        return -EINVAL;
    synack_addr local = {0}; /* family 0: any of ours */
    if (addr && !udp_addr_unspecified(addr))
        local = *addr;
    if (port == 0) {
        int r = pick_port(u, &local, &port);
        if (r)
            return r;
    } else if (udp_port_in_use(u->ctx, u->family, &local, port, u)) {
        return -EADDRINUSE;
    }
    u->laddr = local;
    u->lport = port;
    if (!udp_table_insert(u->ctx, UDP_BY_PORT, u)) {
        u->lport = 0;
        u->laddr = (synack_addr){0};
        return -ENOMEM;
    }
    return 0;
}

int udp_autobind(synack_udp *u)
{
    return u->lport || u->transparent ? 0 : udp_bind(u, NULL, 0);
}

static void disconnect(synack_udp *u)
{
    udp_table_remove(u->ctx, UDP_BY_PEER, u);
    u->connected = false;
    u->raddr = (synack_addr){0};
    u->rport = 0;
}

int udp_connect(synack_udp *u, const synack_addr *addr, uint16_t port)
{
    if (!addr) {
        disconnect(u);
        return 0;
    }
    if (addr->family != u->family || port == 0)
        return -EINVAL;
    if (u->transparent) { /* a filter on what it takes, in no table */
        u->raddr = *addr;
        u->rport = port;
        u->connected = true;
        return 0;
    }
    int r = udp_autobind(u);
    if (r)
        return r;
    disconnect(u);
    u->raddr = *addr;
    u->rport = port;
    u->connected = true;
    if (!udp_table_insert(u->ctx, UDP_BY_PEER, u)) {
        disconnect(u);
        return -ENOMEM;
    }
    return 0;
}

void udp_close(synack_udp *u)
{
    udp_ctx *c = u->ctx;
    udp_unsignal(u);
    udp_table_remove(c, UDP_BY_PEER, u);
    udp_table_remove(c, UDP_BY_PORT, u);
    for (synack_udp **pp = &c->transparent; *pp; pp = &(*pp)->tnext) {
        if (*pp == u) {
            *pp = u->tnext;
            break;
        }
    }
    if (u->aprev)
        u->aprev->anext = u->anext;
    else
        c->all = u->anext;
    if (u->anext)
        u->anext->aprev = u->aprev;
    udp_queue_free(u);
    mem_free(c->alloc, u);
}

int udp_setopt(synack_udp *u, int opt, int value)
{
    if (opt != SYNACK_UDP_RCVBUF)
        return -ENOPROTOOPT;
    if (value < (int)UDP_RCVBUF_MIN || (uint32_t)value > UDP_RCVBUF_MAX)
        return -EINVAL;
    u->rcvbuf = (uint32_t)value; /* what is queued stays; new arrivals see it */
    return 0;
}

int udp_getopt(const synack_udp *u, int opt, int *value)
{
    if (opt != SYNACK_UDP_RCVBUF)
        return -ENOPROTOOPT;
    *value = (int)u->rcvbuf;
    return 0;
}
