/* error.c — ICMP errors about datagrams we sent (RFC 1122 §4.1.3.3: UDP
 * passes them up). As Linux without IP_RECVERR, only a connected socket
 * hears, and only through its pending error: an unconnected socket cannot
 * tell which of its peers the error is about, and a spoofed error must not
 * fail it. The errno follows Linux's icmp_err_convert and
 * icmpv6_err_convert tables; unlike Linux, destination unreachable is
 * reported whatever its code (Linux keeps its "soft" network and host
 * unreachable to itself on UDP), and time exceeded is not reported. */
#include "udp/udp.h"
#include "wire/wire.h"

#include <errno.h>

/* RFC 792 / RFC 1122 §3.2.2.1's destination unreachable codes 0-15. */
static int errno4(uint8_t type, uint8_t code)
{
    static const int unreach[16] = {
        ENETUNREACH, EHOSTUNREACH, ENOPROTOOPT, ECONNREFUSED, EMSGSIZE, EOPNOTSUPP,
        ENETUNREACH, EHOSTDOWN,    ENONET,      ENETUNREACH,  EHOSTUNREACH, ENETUNREACH,
        EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH, EHOSTUNREACH,
    };
    if (type == WIRE_ICMP_DEST_UNREACH)
        return code < 16 ? -unreach[code] : -EHOSTUNREACH;
    if (type == WIRE_ICMP_PARAM_PROBLEM)
        return -EPROTO;
    return 0;
}

/* RFC 4443 §3.1's destination unreachable codes 0-6, and the other errors. */
static int errno6(uint8_t type, uint8_t code)
{
    static const int unreach[7] = {ENETUNREACH, EACCES, EHOSTUNREACH, EHOSTUNREACH,
                                   ECONNREFUSED, EACCES, EACCES};
    switch (type) {
    case WIRE_ICMPV6_DEST_UNREACH: return code < 7 ? -unreach[code] : -EHOSTUNREACH;
    case WIRE_ICMPV6_PACKET_TOO_BIG: return -EMSGSIZE;
    case WIRE_ICMPV6_PARAM_PROBLEM: return -EPROTO;
    default: return 0;
    }
}

int udp_icmp_errno(int family, uint8_t type, uint8_t code)
{
    return family == SYNACK_AF_INET6 ? errno6(type, code) : errno4(type, code);
}

void udp_icmp_error(udp_ctx *c, const udp_icmp_report *r)
{
    int err = udp_icmp_errno(r->local.family, r->type, r->code);
    if (!err)
        return;
    synack_udp *u = udp_lookup_peer(c, &r->local, r->lport, &r->remote, r->rport);
    if (!u)
        return; /* none, or not connected: ignored (no IP_RECVERR) */
    u->err = err;
    udp_signal(u, SYNACK_EV_ERROR);
}
