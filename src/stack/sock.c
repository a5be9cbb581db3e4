/* sock.c — the public socket calls: argument checks and the enter/leave
 * bracket around the TCP layer's user calls. */
#include "stack/stack.h"
#include "tcp/cc.h"
#include "tcp/timewait.h"

#include <errno.h>
#include <string.h>

static synack_stack *stack_of(const synack_sock *k)
{
    return (synack_stack *)((char *)k->ctx - offsetof(synack_stack, tcp));
}

/* 0, or -EDEADLK from inside the stack's own output hook (synack.h). */
static int enter(synack_sock *k)
{
    synack_stack *s = stack_of(k);
    return stack_enter(s, s->tcp.now) ? 0 : -EDEADLK;
}
static void leave(synack_sock *k) { stack_leave(stack_of(k)); }

synack_sock *synack_socket(synack_stack *s)
{
    tcb *t = tcb_new(&s->tcp);
    if (t)
        t->is.app_owned = true;
    return t;
}

int synack_bind(synack_sock *k, uint16_t port)
{
    if (k->state != SYNACK_CLOSED || k->lport || k->is.bound || k->raddr.family)
        return -EINVAL;
    if (port && tcb_port_in_use(k->ctx, port, k->sockopt.reuseaddr, k))
        return -EADDRINUSE;
    k->lport = port;
    k->is.bound = true;
    return 0;
}

/* Which families a bind to `addr` takes (0: both); -1 if not ours. */
static int bound_family(const synack_sock *k, const synack_addr *addr)
{
    static const uint8_t any6[16];
    const tcp_ctx *c = k->ctx;
    if (!addr)
        return 0;
    if (addr->family == SYNACK_AF_INET)
        return addr->v4 == 0 || addr->v4 == c->local_ip ? SYNACK_AF_INET : -1;
    if (addr->family != SYNACK_AF_INET6)
        return -1;
    if (memcmp(addr->v6, any6, 16) == 0)
        return k->sockopt.v6only ? SYNACK_AF_INET6 : 0;
    return tcp_has_ipv6(c) && memcmp(addr->v6, c->local_ip6, 16) == 0 ? SYNACK_AF_INET6 : -1;
}

/* SYNACK_IP_TRANSPARENT's bind to an address bound_family does not take:
 * to that exact address, if the stack takes packets to it (impersonated,
 * or one of its added addresses), else the answers could never come.
 * The port is only checked at connect, with the whole 4-tuple -- but on
 * an added address of our own, as an ordinary bind's is. */
static int bind_transparent(synack_sock *k, const synack_addr *addr, uint16_t port)
{
    const net_ctx *n = &stack_of(k)->net;
    bool ok = addr->family == SYNACK_AF_INET ? ipv4_may_send_from(n, addr->v4)
                                             : ipv6_may_send_from(n, addr->v6);
    if (!ok)
        return -EADDRNOTAVAIL;
    bool own = addr->family == SYNACK_AF_INET && ipv4_own(n, addr->v4);
    if (own && port && tcb_port_in_use(k->ctx, port, k->sockopt.reuseaddr, k))
        return -EADDRINUSE;
    k->laddr = *addr;
    k->is.laddr_fixed = true;
    k->lport = port;
    k->is.bound = true;
    return 0;
}

/* Bind for `addr`'s families to *port, or (pick) to a free ephemeral
 * port stored in *port; the family is undone if the bind fails. */
static int bind_family(synack_sock *k, const synack_addr *addr, uint16_t *port, bool pick)
{
    int family = bound_family(k, addr);
    if (k->state != SYNACK_CLOSED || k->lport || k->is.bound || k->raddr.family)
        return -EINVAL;
    if (family < 0 && k->sockopt.transparent && !pick)
        return bind_transparent(k, addr, *port);
    if (family < 0)
        return -EADDRNOTAVAIL;
    uint8_t was = k->laddr.family;
    k->laddr.family = (uint8_t)family; /* the address itself is filled in at listen/connect */
    int r = pick ? tcp_pick_bind_port(k->ctx, k, port) : 0;
    if (r == 0)
        r = synack_bind(k, *port);
    if (r != 0)
        k->laddr.family = was;
    return r;
}

int synack_bind_any_port(synack_sock *k, const synack_addr *addr, uint16_t *port)
{
    return bind_family(k, addr, port, true);
}

int synack_bind_addr(synack_sock *k, const synack_addr *addr, uint16_t port)
{
    return bind_family(k, addr, &port, false);
}

int synack_listen(synack_sock *k, int backlog)
{
    int r = enter(k);
    if (r)
        return r;
    r = tcp_open_passive(k, backlog);
    leave(k);
    return r;
}

synack_sock *synack_accept(synack_sock *k, int *err)
{
    if (k->state != SYNACK_LISTEN) {
        if (err)
            *err = -EINVAL;
        return NULL;
    }
    int busy = enter(k);
    if (busy) {
        if (err)
            *err = busy;
        return NULL;
    }
    leave(k);
    tcb *a = listen_dequeue(k);
    if (!a) {
        if (err)
            *err = -EAGAIN;
        return NULL;
    }
    a->is.app_owned = true;
    if (err)
        *err = 0;
    /* Events raised before the handle had an owner were not delivered:
     * say again what is true now (data or end of stream waiting, room). */
    enter(a);
    if (!a->is.held) /* a held SYN has no connection yet to write to */
        tcb_signal(a, SYNACK_EV_WRITABLE |
                          ((a->rcv.buf.buf && a->rcv.buf.used) || a->rcv.eof ? SYNACK_EV_READABLE
                                                                             : 0));
    leave(a);
    return a;
}

int synack_connect(synack_sock *k, uint32_t ip, uint16_t port)
{
    synack_addr a = tcp_addr4(ip);
    return synack_connect_addr(k, &a, port);
}

int synack_connect_addr(synack_sock *k, const synack_addr *addr, uint16_t port)
{
    if (!addr)
        return -EINVAL;
    int r = enter(k);
    if (r)
        return r;
    r = tcp_open_active(k, addr, port);
    leave(k);
    return r;
}

ssize_t synack_send(synack_sock *k, const void *buf, size_t len)
{
    ssize_t r = enter(k);
    if (r)
        return r;
    r = tcp_user_send(k, buf, len);
    leave(k);
    return r;
}

ssize_t synack_send_ref(synack_sock *k, const void *buf, size_t len)
{
    ssize_t r = enter(k);
    if (r)
        return r;
    r = tcp_user_send_ref(k, buf, len);
    leave(k);
    return r;
}

uint32_t synack_send_refs_done(const synack_sock *k) { return tcp_snd_refs_done(k); }

ssize_t synack_recv(synack_sock *k, void *buf, size_t len)
{
    ssize_t r = enter(k);
    if (r)
        return r;
    r = tcp_user_recv(k, buf, len);
    leave(k);
    return r;
}

ssize_t synack_send_space(synack_sock *k, synack_iov v[2])
{
    ssize_t r = enter(k);
    if (r)
        return r;
    r = tcp_user_send_space(k, v);
    leave(k);
    return r;
}

ssize_t synack_send_commit(synack_sock *k, size_t n)
{
    ssize_t r = enter(k);
    if (r)
        return r;
    r = tcp_user_send_commit(k, n);
    leave(k);
    return r;
}

ssize_t synack_recv_view(synack_sock *k, synack_iov v[2])
{
    ssize_t r = enter(k);
    if (r)
        return r;
    r = tcp_user_recv_view(k, v);
    leave(k);
    return r;
}

ssize_t synack_recv_consume(synack_sock *k, size_t n)
{
    ssize_t r = enter(k);
    if (r)
        return r;
    r = tcp_user_recv_consume(k, n);
    leave(k);
    return r;
}

int synack_shutdown(synack_sock *k, int how)
{
    int r = enter(k);
    if (r)
        return r;
    r = tcp_user_shutdown(k, how);
    leave(k);
    return r;
}

/* Close and abort: the handle is gone afterwards, so the bracket holds
 * the stack, not the socket. */
static int let_go(synack_sock *k, void (*how)(tcb *t))
{
    synack_stack *s = stack_of(k);
    if (!stack_enter(s, s->tcp.now))
        return -EDEADLK;
    how(k);
    stack_leave(s);
    return 0;
}

int synack_close(synack_sock *k) { return let_go(k, tcp_user_close); }

int synack_abort(synack_sock *k) { return let_go(k, tcp_user_abort); }

int synack_sock_error(synack_sock *k)
{
    int e = k->err;
    k->err = 0;
    return e;
}

int synack_sock_state(const synack_sock *k) { return k->state; }
void synack_sock_set_user(synack_sock *k, void *user) { k->user = user; }
void *synack_sock_get_user(const synack_sock *k) { return k->user; }

void synack_sock_addrs(const synack_sock *k, synack_addr *local, uint16_t *lport,
                       synack_addr *remote, uint16_t *rport)
{
    if (local)
        *local = k->laddr.family ? k->laddr : synack_addr_v4(k->ctx->local_ip);
    if (lport)
        *lport = k->lport;
    if (remote)
        *remote = k->raddr.family ? k->raddr : synack_addr_v4(0);
    if (rport)
        *rport = k->rport;
}

void synack_sock_name(const synack_sock *k, uint32_t *lip, uint16_t *lport, uint32_t *rip,
                      uint16_t *rport)
{
    synack_addr l, r;
    synack_sock_addrs(k, &l, lport, &r, rport);
    if (lip)
        *lip = l.family == SYNACK_AF_INET ? l.v4 : 0;
    if (rip)
        *rip = r.family == SYNACK_AF_INET ? r.v4 : 0;
}

size_t synack_readable(const synack_sock *k) { return k->rcv.buf.buf ? k->rcv.buf.used : 0; }

size_t synack_writable(const synack_sock *k)
{
    if (k->snd.fin_queued || !tcb_send_open(k) || k->state == SYNACK_CLOSED)
        return 0;
    return tcb_send_space(k);
}

/* SO_RCVBUF/SO_SNDBUF: fixed from now on (no autotuning), within
 * tcp_rmem/tcp_wmem. */
static int set_buffer(synack_sock *k, int opt, int value, bool fresh)
{
    const synack_sysctl *sys = k->ctx->sys;
    const uint32_t *lim = opt == SYNACK_SO_RCVBUF ? sys->tcp_rmem : sys->tcp_wmem;
    if (value <= 0)
        return -EINVAL;
    uint32_t v = (uint32_t)value;
    v = v < lim[0] ? lim[0] : v > lim[2] ? lim[2] : v;
    if (opt == SYNACK_SO_RCVBUF) {
        k->rcv.buf_size = v;
        k->sockopt.fixed_rcvbuf = true;
    } else {
        k->snd.buf_size = v;
        k->sockopt.fixed_sndbuf = true;
    }
    if (fresh)
        return 0;
    /* On a connection: a ring that exists grows now (one larger shrinks
     * when it next empties, mem.c); the new room may open the window
     * or let the application write. */
    tcp_buf_kind kind = opt == SYNACK_SO_RCVBUF ? TCP_BUF_RECV : TCP_BUF_SEND;
    ring *r = kind == TCP_BUF_RECV ? &k->rcv.buf : &k->snd.buf;
    if (r->buf && v > r->cap && enter(k) == 0) {
        if (tcp_buf_grow(k, kind, v) == 0) {
            if (kind == TCP_BUF_RECV && tcb_synchronized(k))
                tcp_send_ack(k); /* a window update */
            else if (kind == TCP_BUF_SEND && k->is.app_owned)
                tcb_signal(k, SYNACK_EV_WRITABLE);
        }
        leave(k);
    }
    return 0;
}

/* Send what the options held back (TCP_CORK off, TCP_NODELAY on). */
static void push_pending(synack_sock *k)
{
    if (enter(k) != 0)
        return;
    if (tcb_synchronized(k))
        tcp_output(k);
    leave(k);
}

int synack_setopt(synack_sock *k, int opt, int value)
{
    bool fresh = (k->state == SYNACK_CLOSED || k->state == SYNACK_LISTEN) && !k->snd.buf.buf &&
                 !k->rcv.buf.buf;
    switch (opt) {
    case SYNACK_SO_RCVBUF:
    case SYNACK_SO_SNDBUF:
        return set_buffer(k, opt, value, fresh);
    case SYNACK_TCP_USER_TIMEOUT:
        if (value < 0)
            return -EINVAL;
        k->sockopt.user_timeout_ms = (uint32_t)value;
        if (enter(k) == 0) { /* the running timer may now end sooner */
            if (k->timers.rto_at != UINT64_MAX && !k->timers.tlp_armed &&
                !k->timers.reo_armed) {
                k->timers.rto_at = UINT64_MAX;
                tcp_arm_rto(k);
            }
            leave(k);
        }
        return 0;
    case SYNACK_SO_REUSEADDR:
        k->sockopt.reuseaddr = value != 0;
        return 0;
    case SYNACK_TCP_NODELAY:
        k->sockopt.nodelay = value != 0;
        if (k->sockopt.nodelay) /* Linux: what Nagle held goes now */
            push_pending(k);
        return 0;
    case SYNACK_IPV6_V6ONLY:
        if (k->is.bound || k->state != SYNACK_CLOSED)
            return -EINVAL; /* Linux: only before bind */
        k->sockopt.v6only = value != 0;
        return 0;
    case SYNACK_IP_TRANSPARENT:
        if (k->is.bound || k->state != SYNACK_CLOSED)
            return -EINVAL; /* it decides what bind takes */
        k->sockopt.transparent = value != 0;
        return 0;
    case SYNACK_TCP_MAXSEG:
        if (!fresh || value < 64 || (uint32_t)value > k->ctx->mtu - 40)
            return -EINVAL;
        k->opts.adv_mss = (uint16_t)value;
        return 0;
    case SYNACK_TCP_CORK:
        if (k->sockopt.cork && !value && tcb_synchronized(k)) { /* uncorking pushes what waited, */
            k->snd.push_to = tcp_snd_end(k); /* Nagle or not */
            k->snd.push = true;
        }
        k->sockopt.cork = value != 0;
        if (!k->sockopt.cork)
            push_pending(k);
        return 0;
    case SYNACK_TCP_QUICKACK:
        k->sockopt.quickack = value != 0;
        return 0;
    case SYNACK_TCP_ACK_DELAY:
        if (value < 0 || value > 200000) /* Linux's TCP_DELACK_MAX: 200 ms */
            return -EINVAL;
        k->sockopt.ack_delay_us = (uint32_t)value;
        return 0;
    case SYNACK_TCP_DIRECT_DATA:
        if (value && !k->ctx->data)
            return -EINVAL; /* nowhere to deliver to */
        k->sockopt.direct = value != 0;
        return 0;
    case SYNACK_SO_KEEPALIVE:
        k->sockopt.keepalive = value != 0;
        k->timers.keep_probes = 0;
        k->timers.keep_at = UINT64_MAX;
        tcb_schedule(k);
        tcp_keepalive_reset(k); /* on and connected: the idle period starts now */
        return 0;
    case SYNACK_TCP_KEEPIDLE:
    case SYNACK_TCP_KEEPINTVL:
    case SYNACK_TCP_KEEPCNT:
        if (value < 0 || value > 32767)
            return -EINVAL;
        if (opt == SYNACK_TCP_KEEPIDLE) {
            k->sockopt.keep_idle_s = (uint32_t)value;
            tcp_keepalive_idle_changed(k);
        } else if (opt == SYNACK_TCP_KEEPINTVL) {
            k->sockopt.keep_intvl_s = (uint32_t)value;
        } else {
            k->sockopt.keep_cnt = (uint32_t)value;
        }
        return 0;
    default:
        return -ENOPROTOOPT;
    }
}

int synack_getopt(const synack_sock *k, int opt, int *value)
{
    switch (opt) {
    case SYNACK_SO_RCVBUF: *value = (int)k->rcv.buf_size; return 0;
    case SYNACK_SO_SNDBUF: *value = (int)k->snd.buf_size; return 0;
    case SYNACK_SO_REUSEADDR: *value = k->sockopt.reuseaddr; return 0;
    case SYNACK_IPV6_V6ONLY: *value = k->sockopt.v6only; return 0;
    case SYNACK_IP_TRANSPARENT: *value = k->sockopt.transparent; return 0;
    case SYNACK_TCP_NODELAY: *value = k->sockopt.nodelay; return 0;
    case SYNACK_TCP_MAXSEG: *value = k->opts.snd_mss; return 0;
    case SYNACK_TCP_CORK: *value = k->sockopt.cork; return 0;
    case SYNACK_TCP_QUICKACK: *value = k->sockopt.quickack; return 0;
    case SYNACK_TCP_ACK_DELAY: *value = (int)k->sockopt.ack_delay_us; return 0;
    case SYNACK_TCP_DIRECT_DATA: *value = k->sockopt.direct; return 0;
    case SYNACK_SO_KEEPALIVE: *value = k->sockopt.keepalive; return 0;
    case SYNACK_TCP_KEEPIDLE: *value = (int)k->sockopt.keep_idle_s; return 0;
    case SYNACK_TCP_KEEPINTVL: *value = (int)k->sockopt.keep_intvl_s; return 0;
    case SYNACK_TCP_KEEPCNT: *value = (int)k->sockopt.keep_cnt; return 0;
    case SYNACK_TCP_USER_TIMEOUT: *value = (int)k->sockopt.user_timeout_ms; return 0;
    default: return -ENOPROTOOPT;
    }
}

int synack_set_congestion(synack_sock *k, const char *name)
{
    const cc_ops *ops = name ? cc_find(name) : NULL;
    if (!ops)
        return -ENOENT;
    if (ops != k->cc.ops) {
        /* Start it from the window the old one reached (Linux's
         * tcp_reinit_congestion_control keeps cwnd and ssthresh too). */
        k->cc.ops = ops;
        ops->init(k);
    }
    return 0;
}

const char *synack_congestion(const synack_sock *k) { return k->cc.ops->name; }

int synack_info(const synack_sock *k, synack_tcp_info *i)
{
    if (!k || !i)
        return -EINVAL;
    memset(i, 0, sizeof(*i));
    i->state = k->state;
    i->rtt_us = k->rtt.srtt_us;
    i->rttvar_us = k->rtt.rttvar_us;
    i->rto_ms = (uint32_t)(rtt_rto_ns(k) / NS_PER_MS);
    i->snd_mss = k->opts.snd_mss;
    i->rcv_mss = k->opts.adv_mss;
    i->snd_una = k->snd.una;
    i->snd_nxt = k->snd.nxt;
    i->rcv_nxt = k->rcv.nxt;
    i->iss = k->snd.iss;
    i->irs = k->rcv.irs;
    i->snd_wnd = k->snd.wnd;
    i->rcv_wnd = tcp_rcv_window(k);
    i->snd_wscale = k->opts.snd_wscale;
    i->rcv_wscale = k->opts.rcv_wscale;
    i->sack_ok = k->opts.sack_ok;
    i->timestamps = k->opts.ts_ok;
    i->cwnd = k->cc.cwnd;
    i->ssthresh = k->cc.ssthresh;
    i->backoff = k->rtt.backoff;
    i->bytes_sent = k->stats.bytes_sent;
    i->bytes_acked = k->stats.bytes_acked;
    i->bytes_received = k->stats.bytes_received;
    i->segs_out = k->stats.segs_out;
    i->segs_in = k->stats.segs_in;
    i->retransmits = k->stats.retrans;
    i->unacked = k->snd.max - k->snd.una;
    i->send_queued = tcp_snd_queued(k);
    i->recv_queued = k->rcv.buf.buf ? k->rcv.buf.used : 0;
    return 0;
}

uint32_t synack_time_wait_count(const synack_stack *s) { return tcp_tw_count(&s->tcp); }

void synack_get_sockstat(const synack_stack *s, synack_sockstat *out)
{
    const tcp_ctx *c = &s->tcp;
    *out = (synack_sockstat){.inuse = c->nconns,
                             .orphan = c->orphans,
                             .tw = tcp_tw_count(c),
                             .mem_bytes = c->mem_bytes,
                             .mem_pages = (c->mem_bytes + 4095) / 4096,
                             .memory_pressure = c->mem_pressure,
                             .frag_inuse = s->net.reasm[REASM_IPV4].count,
                             .frag_memory = s->net.reasm[REASM_IPV4].mem,
                             .frag6_inuse = s->net.reasm[REASM_IPV6].count,
                             .frag6_memory = s->net.reasm[REASM_IPV6].mem};
}

size_t synack_time_wait_entry_size(void) { return sizeof(tcp_tw); }
