/* any.c — accept-any, the public side: addresses the stack takes besides
 * its own (net/addrs4.c), listeners for any destination, and the verdict
 * on a held SYN (tcp/user.c), which may be an ICMP error built by the
 * interface layer (net/icmp.c). */
#include "stack/stack.h"

#include <errno.h>
#include <string.h>

static synack_stack *stack_of(const synack_sock *k)
{
    return (synack_stack *)((char *)k->ctx - offsetof(synack_stack, tcp));
}

int synack_add_address(synack_stack *s, const synack_addr *addr)
{
    if (!addr)
        return -EINVAL;
    if (addr->family != SYNACK_AF_INET)
        return -EAFNOSUPPORT;
    return net_add_addr4(&s->net, addr->v4);
}

int synack_route_add(synack_stack *s, const synack_addr *prefix, uint8_t prefix_len,
                     const synack_addr *gateway)
{
    if (!prefix || (gateway && gateway->family != prefix->family))
        return -EINVAL;
    if (prefix->family == SYNACK_AF_INET6)
        return net_route_add6(&s->net, prefix->v6, prefix_len, gateway ? gateway->v6 : NULL);
    if (prefix->family != SYNACK_AF_INET)
        return -EAFNOSUPPORT;
    return net_route_add4(&s->net, prefix->v4, prefix_len, gateway ? gateway->v4 : 0);
}

int synack_impersonate(synack_stack *s, const synack_addr *prefix, uint8_t prefix_len)
{
    if (!prefix)
        return -EINVAL;
    if (prefix->family == SYNACK_AF_INET6)
        return net_impersonate6(&s->net, prefix->v6, prefix_len);
    if (prefix->family != SYNACK_AF_INET)
        return -EAFNOSUPPORT;
    return net_impersonate4(&s->net, prefix->v4, prefix_len);
}

int synack_listen_any(synack_sock *k, const synack_addr *prefix, uint8_t prefix_len,
                      uint16_t port_lo, uint16_t port_hi, int backlog, unsigned flags)
{
    if (!prefix || (flags & ~(unsigned)SYNACK_LISTEN_HOLD_SYN))
        return -EINVAL;
    synack_stack *s = stack_of(k);
    if (!stack_enter(s, s->tcp.now))
        return -EDEADLK;
    int r = tcp_open_passive_any(k, prefix, prefix_len, port_lo, port_hi, backlog,
                                 (flags & SYNACK_LISTEN_HOLD_SYN) != 0);
    stack_leave(s);
    return r;
}

int synack_accept_confirm(synack_sock *k)
{
    synack_stack *s = stack_of(k);
    if (!stack_enter(s, s->tcp.now))
        return -EDEADLK;
    int r = tcp_user_confirm(k);
    stack_leave(s);
    return r;
}

/* RFC 1812 §5.2.7.1's codes, as a router that cannot forward the SYN;
 * for IPv6, RFC 4443 §3.1's: no route (0), administratively prohibited
 * (1), address unreachable (3). */
static int icmp_code(int how, bool v6)
{
    switch (how) {
    case SYNACK_REFUSE_NET_UNREACH: return 0;
    case SYNACK_REFUSE_HOST_UNREACH: return v6 ? 3 : 1;
    case SYNACK_REFUSE_ADMIN_PROHIBITED: return v6 ? 1 : 13;
    default: return -1;
    }
}

/* The ICMP(v6) error for a held SYN, from our own address. */
static void refuse_icmp(synack_stack *s, const synack_sock *k, int code)
{
    if (k->raddr.family == SYNACK_AF_INET) {
        icmp_about a = {k->raddr.v4, k->laddr.v4, WIRE_IPPROTO_TCP, k->rport, k->lport,
                        k->rcv.irs};
        icmp_unreach_about(&s->net, s->cfg.ip, &a, (uint8_t)code);
        return;
    }
    icmp6_about a = {.sport = k->rport, .dport = k->lport, .seq = k->rcv.irs};
    memcpy(a.client, k->raddr.v6, 16);
    memcpy(a.dst, k->laddr.v6, 16);
    icmpv6_unreach_syn(&s->net, &a, (uint8_t)code);
}

int synack_accept_refuse(synack_sock *k, int how)
{
    int code = icmp_code(how, k->raddr.family == SYNACK_AF_INET6);
    if (how != SYNACK_REFUSE_RST && how != SYNACK_REFUSE_DROP && code < 0)
        return -EINVAL;
    if (!k->is.held || k->state != SYNACK_SYN_RECEIVED)
        return -EINVAL;
    synack_stack *s = stack_of(k);
    if (!stack_enter(s, s->tcp.now))
        return -EDEADLK;
    if (code >= 0)
        refuse_icmp(s, k, code);
    int r = tcp_user_refuse(k, how == SYNACK_REFUSE_RST);
    stack_leave(s);
    return r;
}
