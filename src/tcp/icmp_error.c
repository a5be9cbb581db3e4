/* icmp_error.c — ICMP and ICMPv6 errors about our segments (RFC 9293
 * §3.10.7 last paragraph, RFC 1122 §4.2.3.9, RFC 4443 §3, RFC 5927), and path
 * MTU discovery from "fragmentation needed" (RFC 1191) and "packet too big"
 * (RFC 8201).
 *
 * An ICMP error is easy to forge: it needs only the 4-tuple and a sequence
 * number. So, like Linux's tcp_v4_err, one is believed only if the quoted
 * sequence number is data we have sent and not yet had acknowledged
 * (SND.UNA <= SEG.SEQ <= SND.MAX, RFC 5927 §4.1: SND.MAX because a
 * retransmission rewinds SND.NXT, which Linux's never does); any other is counted
 * (TcpExtOutOfWindowIcmps) and ignored. A believed error
 *   - "fragmentation needed" / "packet too big" lowers the connection's path
 *     MTU (never below Linux's min_pmtu, 552, for IPv4, nor below IPv6's
 *     minimum link MTU, 1280) and resends what is in flight at the new size;
 *   - ends a connection that is still opening if it is hard (protocol or
 *     port unreachable, administratively prohibited, parameter problem:
 *     Linux's icmp_err_convert and icmpv6_err_convert tables);
 *   - is otherwise soft: remembered, and reported instead of ETIMEDOUT if
 *     the connection later times out (RFC 1122 §4.2.3.9: soft errors must
 *     not abort a connection). */
#include "tcp/tcp.h"

#include "base/seq.h"

#include <errno.h>

#define MIN_PMTU 552  /* Linux's net.ipv4.route.min_pmtu */
#define MIN_PMTU6 1280 /* RFC 8200 §5: every IPv6 link carries this */

/* Linux's icmp_err_convert: the errno and whether it is hard, by code. */
static int unreach_errno(uint8_t code, bool *hard)
{
    static const struct { int err; bool hard; } table[16] = {
        {ENETUNREACH, false},  {EHOSTUNREACH, false}, {ENOPROTOOPT, true},
        {ECONNREFUSED, true},  {EMSGSIZE, false},     {EOPNOTSUPP, false},
        {ENETUNREACH, true},   {EHOSTDOWN, true},     {ENONET, true},
        {ENETUNREACH, true},   {EHOSTUNREACH, true},  {ENETUNREACH, false},
        {EHOSTUNREACH, false}, {EHOSTUNREACH, true},  {EHOSTUNREACH, true},
        {EHOSTUNREACH, true},
    };
    if (code >= 16) {
        *hard = false;
        return EHOSTUNREACH;
    }
    *hard = table[code].hard;
    return table[code].err;
}

/* Linux's icmpv6_err_convert: destination unreachable codes 0-6. */
static int unreach6_errno(uint8_t code, bool *hard)
{
    static const struct { int err; bool hard; } table[7] = {
        {ENETUNREACH, false}, {EACCES, true},       {EHOSTUNREACH, false},
        {EHOSTUNREACH, false}, {ECONNREFUSED, true}, {EACCES, true},
        {EACCES, true},
    };
    if (code >= 7) {
        *hard = false;
        return EPROTO;
    }
    *hard = table[code].hard;
    return table[code].err;
}

uint32_t tcp_path_mss(const tcb *t)
{
    uint32_t mtu = t->path_mtu && t->path_mtu < t->ctx->mtu ? t->path_mtu : t->ctx->mtu;
    return mtu - tcp_net_hdr_len(t->raddr.family); /* IP and TCP headers without options */
}

/* RFC 1191 §6.3: the path MTU drops; resend what is in flight at the new
 * size, as Linux's tcp_simple_retransmit: no congestion response, since
 * nothing was lost to congestion. */
static void path_mtu_drops(tcb *t, uint32_t mtu)
{
    tcp_ctx *c = t->ctx;
    uint32_t floor = t->raddr.family == SYNACK_AF_INET6 ? MIN_PMTU6 : MIN_PMTU;
    if (mtu < floor)
        mtu = floor;
    if (mtu >= (t->path_mtu ? t->path_mtu : c->mtu))
        return; /* not smaller than what we use: nothing to learn */
    t->path_mtu = (uint16_t)mtu; /* below the link's MTU, so it fits */
    c->ctr->tcp_pmtu_reduced++;
    if (!tcb_synchronized(t))
        return; /* the handshake takes it into account (tcp_negotiate) */
    uint32_t mss = tcp_path_mss(t) - (t->opts.ts_ok ? 12u : 0u);
    if (mss >= t->opts.snd_mss)
        return;
    t->opts.snd_mss = (uint16_t)mss;
    if (t->snd.una == t->snd.nxt)
        return;
    t->rtt.timing = false; /* Karn's rule: what follows is a retransmission */
    t->snd.nxt = t->snd.una;
    t->snd.fin_sent = false;
    tcp_output(t);
}

/* A path that drops large segments and sends no ICMP (a "black hole",
 * RFC 2923 §2.1) would time a connection out. Like Linux's
 * tcp_mtu_probing from the tcp_retries1-th (3rd) timeout of the same data
 * on, halve the segment size at each timeout, not below Linux's
 * tcp_min_snd_mss (48) nor above its tcp_base_mss (1024), until a
 * retransmission is small enough for the path. RFC 4821's search back
 * upwards is not done. */
void tcp_mtu_black_hole_check(tcb *t)
{
    if (!t->ctx->sys->tcp_mtu_probing || t->rtt.retries < 3 || t->opts.snd_mss <= 48)
        return;
    uint32_t mss = t->opts.snd_mss / 2;
    mss = mss > 1024 ? 1024 : mss < 48 ? 48 : mss;
    t->opts.snd_mss = (uint16_t)mss;
    t->path_mtu = (uint16_t)(mss + tcp_net_hdr_len(t->raddr.family) + (t->opts.ts_ok ? 12u : 0u));
    t->ctx->ctr->tcp_pmtu_black_hole++;
}

/* What an ICMP or ICMPv6 error means for the connection: errno, and
 * whether it is hard. A path MTU report returns 0. */
static int error_meaning(const tcp_icmp_report *e, bool *hard)
{
    *hard = false;
    if (e->family == SYNACK_AF_INET6) {
        switch (e->type) {
        case WIRE_ICMPV6_PACKET_TOO_BIG: return 0;
        case WIRE_ICMPV6_DEST_UNREACH: return unreach6_errno(e->code, hard);
        case WIRE_ICMPV6_PARAM_PROBLEM: *hard = true; return EPROTO;
        default: return EHOSTUNREACH; /* time exceeded */
        }
    }
    if (e->type == WIRE_ICMP_DEST_UNREACH && e->code == WIRE_ICMP_FRAG_NEEDED)
        return 0;
    if (e->type == WIRE_ICMP_DEST_UNREACH)
        return unreach_errno(e->code, hard);
    if (e->type == WIRE_ICMP_PARAM_PROBLEM) {
        *hard = true;
        return EPROTO;
    }
    return EHOSTUNREACH; /* time exceeded */
}

void tcp_icmp_error(tcp_ctx *c, const tcp_icmp_report *e)
{
    synack_addr local = e->lip.family ? e->lip : tcp_local_addr(c, e->rip.family);
    tcb *t = tcb_lookup(c, &local, e->lport, &e->rip, e->rport);
    if (!t || t->state == SYNACK_LISTEN || t->state == SYNACK_TIME_WAIT)
        return;
    if (!seq_leq(t->snd.una, e->seq) || !seq_leq(e->seq, t->snd.max)) {
        c->ctr->tcp_out_of_window_icmps++; /* RFC 5927 §4.1: forged, or stale */
        return;
    }
    bool hard;
    int err = error_meaning(e, &hard);
    if (err == 0) {
        path_mtu_drops(t, e->mtu);
        return;
    }
    if (hard && (t->state == SYNACK_SYN_SENT || t->state == SYNACK_SYN_RECEIVED)) {
        c->ctr->tcp_attempt_fails++;
        tcb_close(t, t->is.passive ? 0 : -err, SYNACK_CAUSE_ICMP_ERROR); /* a child: silently */
        return;
    }
    t->soft_err = -err;
}
