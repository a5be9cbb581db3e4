/* sockopt.c — setsockopt/getsockopt as Linux answers them for a TCP
 * socket, mapped onto synack's options; TCP_INFO as Linux's struct
 * tcp_info. Runtime thread. */
#define _GNU_SOURCE
#include "rt/rt.h"

#include <errno.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <string.h>

/* Linux's TCP_CA_NAME_MAX: the longest congestion control name. */
#define RT_CA_NAME_MAX 16

/* Linux's TCP_ESTABLISHED.. numbering, by synack_state. */
static const uint8_t linux_state[SYNACK_STATE_COUNT] = {
    [SYNACK_CLOSED] = 7,      [SYNACK_LISTEN] = 10,    [SYNACK_SYN_SENT] = 2,
    [SYNACK_SYN_RECEIVED] = 3, [SYNACK_ESTABLISHED] = 1, [SYNACK_FIN_WAIT_1] = 4,
    [SYNACK_FIN_WAIT_2] = 5,  [SYNACK_CLOSE_WAIT] = 8, [SYNACK_CLOSING] = 11,
    [SYNACK_LAST_ACK] = 9,    [SYNACK_TIME_WAIT] = 6,
};

/* The synack option behind a plain on/off or number option, or 0. */
static int synack_opt_of(int level, int name)
{
    if (level == SOL_SOCKET) {
        switch (name) {
        case SO_REUSEADDR: return SYNACK_SO_REUSEADDR;
        case SO_KEEPALIVE: return SYNACK_SO_KEEPALIVE;
        default: return 0;
        }
    }
    if (level == IPPROTO_TCP) {
        switch (name) {
        case TCP_NODELAY: return SYNACK_TCP_NODELAY;
        case TCP_CORK: return SYNACK_TCP_CORK;
        case TCP_QUICKACK: return SYNACK_TCP_QUICKACK;
        case TCP_MAXSEG: return SYNACK_TCP_MAXSEG;
        case TCP_KEEPIDLE: return SYNACK_TCP_KEEPIDLE;
        case TCP_KEEPINTVL: return SYNACK_TCP_KEEPINTVL;
        case TCP_KEEPCNT: return SYNACK_TCP_KEEPCNT;
        case TCP_USER_TIMEOUT: return SYNACK_TCP_USER_TIMEOUT;
        default: return 0;
        }
    }
    if (level == IPPROTO_IPV6 && name == IPV6_V6ONLY)
        return SYNACK_IPV6_V6ONLY;
    return 0;
}

/* SO_RCVBUF/SO_SNDBUF: Linux keeps twice the value asked for (the other
 * half is its bookkeeping). The core takes it at any time (on a
 * connection, a larger ring at once, a smaller one when it next empties);
 * once the runtime let go of the connection, it is only remembered. */
static int set_buffer(rt_sock *r, int name, int v)
{
    long doubled = v < 0 ? 0 : 2L * v;
    int opt = name == SO_RCVBUF ? SYNACK_SO_RCVBUF : SYNACK_SO_SNDBUF;
    int val = doubled > 0x7fffffff ? 0x7fffffff : doubled < 1 ? 1 : (int)doubled;
    if (r->sk && synack_setopt(r->sk, opt, val) == 0)
        return 0;
    if (name == SO_RCVBUF)
        r->rcvbuf_req = val;
    else
        r->sndbuf_req = val;
    return 0;
}

static int set_other(rt_sock *r, int level, int name, const void *p, socklen_t len, int v)
{
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (len < (socklen_t)sizeof l)
            return -EINVAL;
        memcpy(&l, p, sizeof l);
        r->linger_on = l.l_onoff != 0;
        r->linger_s = l.l_linger < 0 ? 0 : l.l_linger;
        r->linger0 = r->linger_on && r->linger_s == 0;
        return 0;
    }
    if (level == IPPROTO_TCP && name == TCP_CONGESTION) {
        char ca[RT_CA_NAME_MAX + 1] = {0}; /* the name need not end in a NUL */
        memcpy(ca, p, len < RT_CA_NAME_MAX ? len : RT_CA_NAME_MAX);
        if (!r->sk)
            return 0;
        return synack_set_congestion(r->sk, ca);
    }
    if (level == SOL_SOCKET && name == SO_REUSEPORT) {
        r->reuseport = v != 0; /* accepted: one listener per port all the same */
        return 0;
    }
    if (level == SOL_SOCKET && (name == SO_RCVBUF || name == SO_SNDBUF))
        return set_buffer(r, name, v);
    if (level == IPPROTO_TCP && name == TCP_DEFER_ACCEPT) {
        r->defer_accept = v < 0 ? 0 : v; /* accepted; connections go at once */
        return 0;
    }
    return -ENOPROTOOPT;
}

int rt_setsockopt(synack_rt *rt, rt_sock *r, rt_cmd *c)
{
    int v = 0;
    if (c->level == IPPROTO_IPV6 && r->family != AF_INET6)
        return -ENOPROTOOPT;
    bool is_linger = c->level == SOL_SOCKET && c->name == SO_LINGER;
    bool is_text = c->level == IPPROTO_TCP && c->name == TCP_CONGESTION;
    if (is_text && (!c->cval || c->clen < 1))
        return -EINVAL;
    if (!is_linger && !is_text) {
        if (!c->cval || c->clen < (socklen_t)sizeof(int))
            return -EINVAL;
        memcpy(&v, c->cval, sizeof v);
    }
    int opt = synack_opt_of(c->level, c->name);
    if (!opt)
        return set_other(r, c->level, c->name, c->cval, c->clen, v);
    if ((opt == SYNACK_TCP_KEEPIDLE || opt == SYNACK_TCP_KEEPINTVL) && (v < 1 || v > 32767))
        return -EINVAL;
    if (opt == SYNACK_TCP_KEEPCNT && (v < 1 || v > 127))
        return -EINVAL;
    if (opt == SYNACK_TCP_USER_TIMEOUT && v < 0)
        return -EINVAL;
    if (opt == SYNACK_IPV6_V6ONLY)
        r->v6only = v != 0;
    if (!r->sk)
        return 0; /* let go already: nothing left to set */
    /* The option comes after what was written before it. Posted, it may
     * run after bytes written behind it arrived too: those go as before
     * it (a cork then coalesces a little less), never the other way (a
     * cork holding bytes written before it, as Linux never does). */
    if (opt == SYNACK_TCP_CORK || opt == SYNACK_TCP_NODELAY)
        rt_take_written(rt, r);
    int e = synack_setopt(r->sk, opt, v);
    if (e == -EINVAL && opt == SYNACK_TCP_MAXSEG && v >= 88 && v <= 32767)
        return 0; /* Linux takes it at any time; synack only before connecting */
    return e;
}

static int put_int(rt_cmd *c, int v)
{
    socklen_t n = *c->len < (socklen_t)sizeof v ? *c->len : (socklen_t)sizeof v;
    memcpy(c->val, &v, n);
    *c->len = n;
    return 0;
}

static int get_info(rt_sock *r, rt_cmd *c)
{
    struct tcp_info ti;
    memset(&ti, 0, sizeof ti);
    ti.tcpi_state = linux_state[SYNACK_CLOSED];
    if (r->sk) {
        synack_tcp_info i;
        synack_info(r->sk, &i);
        uint32_t mss = i.snd_mss ? i.snd_mss : 536;
        ti.tcpi_state = linux_state[i.state < SYNACK_STATE_COUNT ? i.state : 0];
        ti.tcpi_backoff = (uint8_t)i.backoff;
        ti.tcpi_options = (i.timestamps ? TCPI_OPT_TIMESTAMPS : 0) | (i.sack_ok ? TCPI_OPT_SACK : 0) |
                          (i.snd_wscale || i.rcv_wscale ? TCPI_OPT_WSCALE : 0);
        ti.tcpi_snd_wscale = i.snd_wscale & 15;
        ti.tcpi_rcv_wscale = i.rcv_wscale & 15;
        ti.tcpi_rto = i.rto_ms * 1000;
        ti.tcpi_snd_mss = i.snd_mss;
        ti.tcpi_rcv_mss = i.rcv_mss;
        ti.tcpi_advmss = i.rcv_mss;
        ti.tcpi_unacked = (i.unacked + mss - 1) / mss; /* Linux counts segments */
        ti.tcpi_total_retrans = i.retransmits;
        ti.tcpi_rtt = i.rtt_us;
        ti.tcpi_rttvar = i.rttvar_us;
        ti.tcpi_snd_cwnd = i.cwnd / mss;
        ti.tcpi_snd_ssthresh = i.ssthresh / mss;
        ti.tcpi_bytes_acked = i.bytes_acked;
        ti.tcpi_bytes_received = i.bytes_received;
        ti.tcpi_bytes_sent = i.bytes_sent;
        ti.tcpi_segs_out = i.segs_out;
        ti.tcpi_segs_in = i.segs_in;
        ti.tcpi_snd_wnd = i.snd_wnd;
    }
    socklen_t n = *c->len < (socklen_t)sizeof ti ? *c->len : (socklen_t)sizeof ti;
    memcpy(c->val, &ti, n);
    *c->len = n;
    return 0;
}

static int get_other(synack_rt *rt, rt_sock *r, rt_cmd *c)
{
    if (c->level == SOL_SOCKET) {
        switch (c->name) {
        case SO_TYPE: return put_int(c, SOCK_STREAM);
        case SO_DOMAIN: return put_int(c, r->family);
        case SO_PROTOCOL: return put_int(c, IPPROTO_TCP);
        case SO_ACCEPTCONN: return put_int(c, r->phase == RT_LISTENING);
        case SO_REUSEPORT: return put_int(c, r->reuseport);
        case SO_ERROR: {
            int e = r->so_error;
            r->so_error = 0;
            if (!e && r->sk)
                e = -synack_sock_error(r->sk);
            return put_int(c, e);
        }
        case SO_LINGER: {
            struct linger l = {.l_onoff = r->linger_on, .l_linger = r->linger_s};
            socklen_t n = *c->len < (socklen_t)sizeof l ? *c->len : (socklen_t)sizeof l;
            memcpy(c->val, &l, n);
            *c->len = n;
            return 0;
        }
        default: break;
        }
    }
    if (c->level == IPPROTO_TCP && c->name == TCP_INFO)
        return get_info(r, c);
    if (c->level == IPPROTO_TCP && c->name == TCP_DEFER_ACCEPT)
        return put_int(c, r->defer_accept);
    if (c->level == IPPROTO_TCP && c->name == TCP_CONGESTION) {
        /* As Linux: the name in a zero-padded field of RT_CA_NAME_MAX. */
        char ca[RT_CA_NAME_MAX] = {0};
        const char *name = r->sk ? synack_congestion(r->sk)
                                 : synack_stack_config(rt->stack)->net.tcp_congestion_control;
        size_t nl = strlen(name);
        memcpy(ca, name, nl < sizeof ca - 1 ? nl : sizeof ca - 1);
        socklen_t n = *c->len < (socklen_t)sizeof ca ? *c->len : (socklen_t)sizeof ca;
        memcpy(c->val, ca, n);
        *c->len = n;
        return 0;
    }
    return -ENOPROTOOPT;
}

int rt_getsockopt(synack_rt *rt, rt_sock *r, rt_cmd *c)
{
    if (c->level == IPPROTO_IPV6 && r->family != AF_INET6)
        return -ENOPROTOOPT;
    int v = 0;
    bool buf = c->level == SOL_SOCKET && (c->name == SO_RCVBUF || c->name == SO_SNDBUF);
    int opt = buf ? (c->name == SO_RCVBUF ? SYNACK_SO_RCVBUF : SYNACK_SO_SNDBUF)
                  : synack_opt_of(c->level, c->name);
    if (!opt)
        return get_other(rt, r, c);
    int req = c->name == SO_RCVBUF ? r->rcvbuf_req : r->sndbuf_req;
    if (buf && req)
        return put_int(c, req);
    if (r->sk)
        synack_getopt(r->sk, opt, &v);
    const synack_sysctl *sys = &synack_stack_config(rt->stack)->net;
    if (opt == SYNACK_TCP_MAXSEG && v == 0)
        v = 536; /* Linux's TCP_MSS_DEFAULT before the peer said more */
    if (opt == SYNACK_TCP_KEEPIDLE && v == 0)
        v = (int)sys->tcp_keepalive_time;
    if (opt == SYNACK_TCP_KEEPINTVL && v == 0)
        v = (int)sys->tcp_keepalive_intvl;
    if (opt == SYNACK_TCP_KEEPCNT && v == 0)
        v = (int)sys->tcp_keepalive_probes;
    if (opt == SYNACK_IPV6_V6ONLY)
        v = r->v6only;
    return put_int(c, v);
}
