/* udp.c — the public UDP socket calls: the enter/leave bracket (events go
 * out when the call returns), and the checks that need the interface
 * layer (is an address ours?) around the UDP layer's user calls. */
#include "stack/stack.h"

#include <errno.h>
#include <string.h>

static synack_stack *stack_of(const synack_udp *u)
{
    return (synack_stack *)((char *)u->ctx - offsetof(synack_stack, udp));
}

/* True, or false from inside the stack's own output hook (synack.h). */
static bool enter(synack_udp *u)
{
    synack_stack *s = stack_of(u);
    return stack_enter(s, s->tcp.now);
}
static void leave(synack_udp *u) { stack_leave(stack_of(u)); }

/* 0 when `addr` is NULL, unspecified, or one of the stack's addresses in
 * the socket's family; -EINVAL for another family, -EADDRNOTAVAIL else. */
static int check_local(synack_udp *u, const synack_addr *addr)
{
    net_ctx *n = &stack_of(u)->net;
    if (!addr)
        return 0;
    if (addr->family != u->family)
        return -EINVAL;
    if (udp_addr_unspecified(addr))
        return 0;
    if (addr->family == SYNACK_AF_INET)
        return addr->v4 == n->cfg->ip ? 0 : -EADDRNOTAVAIL;
    return addr6_find(n, addr->v6) ? 0 : -EADDRNOTAVAIL;
}

synack_udp *synack_udp_open(synack_stack *s, int family)
{
    return udp_open(&s->udp, family);
}

int synack_udp_bind(synack_udp *u, const synack_addr *addr, uint16_t port)
{
    int r = check_local(u, addr);
    return r ? r : udp_bind(u, addr, port);
}

int synack_udp_bind_any(synack_udp *u, const synack_addr *prefix, uint8_t prefix_len,
                        uint16_t port_lo, uint16_t port_hi)
{
    return udp_bind_any(u, prefix, prefix_len, port_lo, port_hi);
}

int synack_udp_connect(synack_udp *u, const synack_addr *addr, uint16_t port)
{
    return udp_connect(u, addr, port);
}

ssize_t synack_udp_send(synack_udp *u, const void *buf, size_t len, const synack_udp_meta *to)
{
    if (!enter(u))
        return -EDEADLK;
    ssize_t r = udp_send(u, buf, len, to);
    leave(u);
    return r;
}

ssize_t synack_udp_recv(synack_udp *u, void *buf, size_t len, synack_udp_meta *from)
{
    int err = synack_udp_error(u);
    if (err)
        return err;
    return udp_dequeue(u, buf, len, from);
}

int synack_udp_error(synack_udp *u)
{
    int err = u->err;
    u->err = 0;
    return err;
}

size_t synack_udp_readable(const synack_udp *u) { return u->head ? u->head->len : 0; }

void synack_udp_close(synack_udp *u)
{
    if (!u || !enter(u))
        return; /* from the output hook: freed with the stack */
    synack_stack *s = stack_of(u);
    udp_close(u);
    stack_leave(s);
}

void synack_udp_set_user(synack_udp *u, void *user) { u->user = user; }

void *synack_udp_get_user(const synack_udp *u) { return u->user; }

int synack_udp_setopt(synack_udp *u, int opt, int value) { return udp_setopt(u, opt, value); }

int synack_udp_getopt(const synack_udp *u, int opt, int *value)
{
    return value ? udp_getopt(u, opt, value) : -EINVAL;
}

int synack_udp_family(const synack_udp *u) { return u->family; }

void synack_udp_local(const synack_udp *u, synack_addr *addr, uint16_t *port)
{
    if (addr) {
        *addr = u->laddr;
        addr->family = u->family; /* any: the unspecified address */
    }
    if (port)
        *port = u->lport;
}

/* RFC 792's destination unreachable code as RFC 4443 §3.1's, or -1 when
 * ICMPv6 says it otherwise (protocol unreachable is a parameter problem,
 * fragmentation needed a packet too big) or not at all. */
static int icmp6_code_for(int code)
{
    switch (code) {
    case 0: case 6: case 11: return 0;  /* net unreachable, unknown: no route */
    case 1: case 7: case 12: return 3;  /* host unreachable, unknown: address unreachable */
    case 3: return 4;                   /* port unreachable                   */
    case 9: case 10: case 13: return 1; /* administratively prohibited        */
    default: return -1;
    }
}

static void unreachable4(synack_stack *s, const synack_udp_meta *about, int code)
{
    /* Port and protocol unreachable come from the destination host itself;
     * the others from a router on the path: our own address. */
    uint32_t from = code == 2 || code == 3 ? about->local.v4 : s->cfg.ip;
    size_t len = WIRE_UDP_HDR_LEN + about->full_len;
    icmp_about a = {about->remote.v4, about->local.v4, WIRE_IPPROTO_UDP, about->remote_port,
                    about->local_port, (uint32_t)(len > 0xffff ? 0xffff : len) << 16};
    icmp_unreach_about(&s->net, from, &a, (uint8_t)code);
}

static void unreachable6(synack_stack *s, const synack_udp_meta *about, int code6)
{
    icmp6_about a = {.sport = about->remote_port, .dport = about->local_port};
    memcpy(a.client, about->remote.v6, 16);
    memcpy(a.dst, about->local.v6, 16);
    size_t len = WIRE_UDP_HDR_LEN + about->full_len;
    /* Port unreachable comes from the destination itself, as in IPv4. */
    icmpv6_unreach_udp(&s->net, code6 == 4 ? a.dst : NULL, &a,
                       (uint16_t)(len > 0xffff ? 0xffff : len), (uint8_t)code6);
}

int synack_udp_unreachable(synack_udp *u, const synack_udp_meta *about, int code)
{
    synack_stack *s = stack_of(u);
    if (!about || about->remote.family != about->local.family || code < 0 || code > 15)
        return -EINVAL;
    int family = about->remote.family, code6 = icmp6_code_for(code);
    if (family != SYNACK_AF_INET && (family != SYNACK_AF_INET6 || code6 < 0))
        return -EINVAL;
    if (!stack_enter(s, s->tcp.now))
        return -EDEADLK;
    if (family == SYNACK_AF_INET)
        unreachable4(s, about, code);
    else
        unreachable6(s, about, code6);
    stack_leave(s);
    return 0;
}
