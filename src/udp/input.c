/* input.c — a datagram in (RFC 768, RFC 1122 §4.1.3): checked (length,
 * checksum: RFC 1122 §4.1.3.4 drops a bad one silently; RFC 8200 §8.1
 * makes it mandatory over IPv6), then handed to the most specific socket:
 * the connected one of its 4-tuple, the one bound to its destination
 * address and port, the one bound to any address on that port, and last
 * a transparent one covering the destination. */
#include "udp/udp.h"
#include "wire/wire.h"

static wire_err parse(const synack_addr *src, const synack_addr *dst, const uint8_t *p,
                      size_t len, wire_udp *d)
{
    if (src->family == SYNACK_AF_INET6)
        return wire_udp_parse6(p, len, src->v6, dst->v6, d);
    return wire_udp_parse(p, len, src->v4, dst->v4, d);
}

static synack_udp *find(udp_ctx *c, const synack_addr *src, const synack_addr *dst, bool ours,
                        const wire_udp *d)
{
    if (ours) { /* bound sockets take only datagrams to our addresses */
        synack_udp *u = udp_lookup_peer(c, dst, d->dport, src, d->sport);
        if (!u)
            u = udp_lookup_port(c, src->family, dst, d->dport);
        if (u)
            return u;
    }
    return udp_lookup_transparent(c, src, d->sport, dst, d->dport);
}

udp_verdict udp_input(udp_ctx *c, const synack_addr *src, const synack_addr *dst, bool ours,
                      const uint8_t *p, size_t len)
{
    wire_udp d;
    int family = src->family;
    wire_err e = parse(src, dst, p, len, &d);
    if (e != WIRE_OK) {
        if (e == WIRE_BAD_CSUM)
            UDP_COUNT(c, family, in_csum_errors);
        UDP_COUNT(c, family, in_errors);
        return UDP_MALFORMED;
    }
    synack_udp *u = find(c, src, dst, ours, &d);
    if (!u) {
        UDP_COUNT(c, family, no_ports);
        return UDP_NO_PORT;
    }
    synack_udp_meta m = {.remote = *src, .remote_port = d.sport, .local = *dst,
                         .local_port = d.dport, .full_len = d.payload_len};
    udp_enqueue(u, &m, d.payload, d.payload_len);
    return UDP_DELIVERED;
}

bool udp_takes(udp_ctx *c, const synack_addr *dst, uint16_t port)
{
    return c->transparent && udp_lookup_transparent(c, NULL, 0, dst, port) != NULL;
}
