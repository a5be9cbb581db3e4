/* unreach.c — what the layers below report about a destination: a next hop
 * that never answered ARP or Neighbour Discovery ends the connections still
 * opening towards it with EHOSTUNREACH, as Linux does when a neighbour
 * fails. */
#include "tcp/tcp.h"

#include <errno.h>

/* Linux: the neighbour's failure reaches the socket as an ICMP host
 * unreachable, which ends a connection still opening. */
static void fail_opening(tcb *t)
{
    t->ctx->ctr->tcp_attempt_fails++;
    tcb_close(t, -EHOSTUNREACH, SYNACK_CAUSE_HOST_UNREACHABLE);
}

void tcp_hop_unreachable(tcp_ctx *c, uint32_t hop, uint32_t local_net, uint32_t mask,
                         bool gateway)
{
    for (tcb *t = c->all; t; t = t->all_next) {
        if (t->is.dead || t->state != SYNACK_SYN_SENT || t->raddr.family != SYNACK_AF_INET)
            continue;
        if (gateway ? (t->raddr.v4 & mask) != local_net : t->raddr.v4 == hop)
            fail_opening(t);
    }
}

/* Is `a` inside our prefix (or link-local, which is always on-link)? */
static bool on_link6(const tcp_ctx *c, const uint8_t a[16], uint8_t prefix_len)
{
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return true;
    for (unsigned bit = 0; bit < prefix_len && bit < 128; bit++) {
        uint8_t m = (uint8_t)(0x80u >> (bit % 8));
        if ((a[bit / 8] & m) != (c->local_ip6[bit / 8] & m))
            return false;
    }
    return true;
}

void tcp_hop_unreachable6(tcp_ctx *c, const uint8_t hop[16], uint8_t prefix_len, bool gateway)
{
    for (tcb *t = c->all; t; t = t->all_next) {
        if (t->is.dead || t->state != SYNACK_SYN_SENT || t->raddr.family != SYNACK_AF_INET6)
            continue;
        if (gateway ? !on_link6(c, t->raddr.v6, prefix_len) : memcmp(t->raddr.v6, hop, 16) == 0)
            fail_opening(t);
    }
}

