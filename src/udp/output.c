/* output.c — a datagram out (RFC 768): the header in front of the
 * payload, built in the IP layer's scratch buffer (which has room for the
 * largest datagram and the headers in front), then handed to the emit
 * hook, which picks the source address when the socket has none, sums the
 * checksum and sends it (in fragments when it exceeds the MTU). */
#include "udp/udp.h"
#include "wire/wire.h"

#include <errno.h>
#include <string.h>

/* Where it goes: `to`'s destination, or the connected peer. */
static int destination(const synack_udp *u, const synack_udp_meta *to, synack_addr *dst,
                       uint16_t *dport)
{
    if (!to) {
        if (!u->connected)
            return -EDESTADDRREQ;
        *dst = u->raddr;
        *dport = u->rport;
        return 0;
    }
    if (to->remote.family != u->family || to->remote_port == 0)
        return -EINVAL;
    *dst = to->remote;
    *dport = to->remote_port;
    return 0;
}

/* Where it comes from: a transparent socket's from `to`'s local address
 * and port (inside its prefix); others' from their own (NULL: the IP
 * layer's choice). */
static int source(synack_udp *u, const synack_udp_meta *to, const synack_addr **src,
                  uint16_t *sport)
{
    if (u->transparent) {
        if (!to || to->local.family != u->family || to->local_port == 0 ||
            !prefix_covers(&u->prefix, u->prefix_len, &to->local))
            return -EINVAL;
        *src = &to->local;
        *sport = to->local_port;
        return 0;
    }
    int r = udp_autobind(u);
    if (r)
        return r;
    *src = u->laddr.family ? &u->laddr : NULL;
    *sport = u->lport;
    return 0;
}

ssize_t udp_send(synack_udp *u, const void *buf, size_t len, const synack_udp_meta *to)
{
    udp_ctx *c = u->ctx;
    synack_addr dst;
    const synack_addr *src;
    uint16_t dport, sport;
    if (len > (u->family == SYNACK_AF_INET6 ? UDP_MAX_PAYLOAD6 : UDP_MAX_PAYLOAD4))
        return -EMSGSIZE;
    int r = destination(u, to, &dst, &dport);
    if (r == 0)
        r = source(u, to, &src, &sport);
    if (r)
        return r;
    uint8_t *d = c->buf + UDP_HEADROOM;
    if (UDP_HEADROOM + WIRE_UDP_HDR_LEN + len > c->buf_len ||
        !wire_udp_emit_header(d, WIRE_UDP_HDR_LEN, sport, dport, len))
        return -EMSGSIZE;
    if (len)
        memcpy(d + WIRE_UDP_HDR_LEN, buf, len);
    r = c->emit(c->emit_ctx, src, &dst, d, WIRE_UDP_HDR_LEN + len);
    if (r)
        return r;
    UDP_COUNT(c, u->family, out_datagrams);
    return (ssize_t)len;
}
