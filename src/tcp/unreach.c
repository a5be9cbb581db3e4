/* unreach.c — what the layers below report about a destination: a next hop
 * that never answered ARP ends the connections still opening towards it
 * with EHOSTUNREACH, as Linux does when a neighbour fails. */
#include "tcp/tcp.h"

#include <errno.h>

void tcp_hop_unreachable(tcp_ctx *c, uint32_t hop, uint32_t local_net, uint32_t mask,
                         bool gateway)
{
    for (tcb *t = c->all; t; t = t->all_next) {
        bool via = gateway ? (t->raddr.v4 & mask) != local_net : t->raddr.v4 == hop;
        if (t->is.dead || t->state != SYNACK_SYN_SENT || !via)
            continue;
        /* Linux: the neighbour's failure reaches the socket as an ICMP host
         * unreachable, which ends a connection still opening. */
        c->ctr->tcp_attempt_fails++;
        tcb_close(t, -EHOSTUNREACH, SYNACK_CAUSE_HOST_UNREACHABLE);
    }
}

