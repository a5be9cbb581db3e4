/* run_watch.c — `synack run`'s view of the program's connections (see
 * run_watch.h). The records hold the stack's own trace events; a ladder is
 * drawn per connection from them: segments synack sent and accepted are
 * the rows, synack's states the left column, and the right column the
 * states the kernel must have passed, inferred from the segments (marked
 * "kernel"). */
#include "run_watch.h"

#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "json.h"
#include "ladder.h"
#include "preload/stream.h"

#define MAX_STATES 16

typedef struct conn {
    uint32_t pid, id;
    uint64_t t0, t_first, t_last;
    int have_ep;
    synack_addr laddr, raddr;
    uint16_t lport, rport;
    int states[MAX_STATES];
    int nstates;
    uint64_t sent, received, rexmit, segs;
    ladder *lad;
    int ks;                 /* the kernel's inferred state */
    int kfin;               /* the kernel sent its FIN ...  */
    uint32_t kfin_end;      /* ... which ends here          */
} conn;

typedef struct proc {
    uint32_t pid;
    uint64_t t0;
    int exited;
    sp_counter *counters;
    size_t ncounters;
} proc;

struct run_watch {
    run_watch_opts o;
    conn *c;
    size_t n, cap;
    proc *p;
    size_t np;
};

run_watch *run_watch_new(const run_watch_opts *o)
{
    run_watch *w = calloc(1, sizeof *w);
    if (w)
        w->o = *o;
    return w;
}

void run_watch_free(run_watch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        ladder_free(w->c[i].lad);
    for (size_t i = 0; i < w->np; i++)
        free(w->p[i].counters);
    free(w->c);
    free(w->p);
    free(w);
}

static proc *proc_of(run_watch *w, uint32_t pid)
{
    for (size_t i = 0; i < w->np; i++)
        if (w->p[i].pid == pid)
            return &w->p[i];
    proc *n = realloc(w->p, (w->np + 1) * sizeof *n);
    if (!n)
        return NULL;
    w->p = n;
    memset(&n[w->np], 0, sizeof n[w->np]);
    n[w->np].pid = pid;
    return &n[w->np++];
}

static conn *conn_of(run_watch *w, uint32_t pid, uint32_t id, uint64_t t)
{
    for (size_t i = w->n; i-- > 0;)
        if (w->c[i].pid == pid && w->c[i].id == id)
            return &w->c[i];
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        conn *n = realloc(w->c, cap * sizeof *n);
        if (!n)
            return NULL;
        w->c = n;
        w->cap = cap;
    }
    conn *c = &w->c[w->n++];
    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->id = id;
    c->t_first = t;
    c->ks = SYNACK_CLOSED;
    if (w->o.ladder) {
        c->lad = ladder_new(0, 1);
        /* the ladder counts time from its first row */
    }
    return c;
}

/* ------------------------------------------------------------ ladder */

static void lad_stack(conn *c, int host, const synack_trace_event *ev)
{
    sim_trace t;
    memset(&t, 0, sizeof t);
    t.kind = SIM_TRACE_STACK;
    t.time_ns = ev->time_ns - c->t_first;
    t.host_index = host;
    t.host_name = host ? "kernel" : "synack";
    t.ev = ev;
    ladder_observe(c->lad, &t);
}

static void lad_segment(conn *c, int host, const synack_trace_event *ev)
{
    sim_trace t;
    memset(&t, 0, sizeof t);
    t.kind = SIM_TRACE_LINK;
    t.link_event = SIM_LINK_SEND;
    t.time_ns = ev->time_ns - c->t_first;
    t.host_index = host;
    t.host_name = host ? "kernel" : "synack";
    t.info.is_tcp = 1;
    int out = host == 0;
    t.info.src = out ? ev->local_addr : ev->remote_addr;
    t.info.dst = out ? ev->remote_addr : ev->local_addr;
    t.info.src_port = out ? ev->local_port : ev->remote_port;
    t.info.dst_port = out ? ev->remote_port : ev->local_port;
    t.info.is_ipv4 = t.info.src.family == SYNACK_AF_INET;
    t.info.is_ipv6 = !t.info.is_ipv4;
    t.info.seg = ev->seg;
    ladder_observe(c->lad, &t);
}

static void kernel_to(conn *c, uint64_t t, int state)
{
    if (c->ks == state)
        return;
    synack_trace_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = SYNACK_TRACE_STATE;
    ev.time_ns = t;
    ev.conn_id = 1;
    ev.old_state = c->ks;
    ev.new_state = state;
    c->ks = state;
    lad_stack(c, 1, &ev);
}

/* The kernel sent `s`: the state it was in when it did. */
static void kernel_sent(conn *c, const synack_trace_event *ev)
{
    const synack_seg_info *s = &ev->seg;
    uint64_t t = ev->time_ns;
    if (s->flags & SYNACK_RST)
        return;
    if ((s->flags & SYNACK_SYN) && !(s->flags & SYNACK_ACK))
        kernel_to(c, t, SYNACK_SYN_SENT);
    else if (s->flags & SYNACK_SYN)
        kernel_to(c, t, SYNACK_SYN_RECEIVED);
    if ((s->flags & SYNACK_FIN) && !c->kfin) {
        c->kfin = 1;
        c->kfin_end = s->seq + s->len + 1;
        kernel_to(c, t, c->ks == SYNACK_CLOSE_WAIT ? SYNACK_LAST_ACK : SYNACK_FIN_WAIT_1);
    }
}

/* Synack sent `s`: the state the kernel is in once it has it. */
static void kernel_got(conn *c, const synack_trace_event *ev)
{
    const synack_seg_info *s = &ev->seg;
    uint64_t t = ev->time_ns;
    int ks = c->ks;
    if (s->flags & SYNACK_RST) {
        if (ks != SYNACK_CLOSED && ks != SYNACK_LISTEN)
            kernel_to(c, t, SYNACK_CLOSED);
        return;
    }
    if ((s->flags & SYNACK_SYN) && !(s->flags & SYNACK_ACK)) {
        if (ks == SYNACK_CLOSED)
            kernel_to(c, ev->time_ns, SYNACK_LISTEN);
        return;
    }
    if ((s->flags & SYNACK_SYN) && ks == SYNACK_SYN_SENT) {
        kernel_to(c, t, SYNACK_ESTABLISHED);
        return;
    }
    if (ks == SYNACK_SYN_RECEIVED && (s->flags & SYNACK_ACK))
        kernel_to(c, t, SYNACK_ESTABLISHED);
    int acks_fin = c->kfin && (s->flags & SYNACK_ACK) && s->ack == c->kfin_end;
    if (s->flags & SYNACK_FIN) {
        if (c->ks == SYNACK_ESTABLISHED)
            kernel_to(c, t, SYNACK_CLOSE_WAIT);
        else if (c->ks == SYNACK_FIN_WAIT_2 || (c->ks == SYNACK_FIN_WAIT_1 && acks_fin))
            kernel_to(c, t, SYNACK_TIME_WAIT);
        else if (c->ks == SYNACK_FIN_WAIT_1)
            kernel_to(c, t, SYNACK_CLOSING);
    } else if (acks_fin) {
        if (c->ks == SYNACK_FIN_WAIT_1)
            kernel_to(c, t, SYNACK_FIN_WAIT_2);
        else if (c->ks == SYNACK_CLOSING)
            kernel_to(c, t, SYNACK_TIME_WAIT);
        else if (c->ks == SYNACK_LAST_ACK)
            kernel_to(c, t, SYNACK_CLOSED);
    }
}

static void ladder_event(conn *c, const synack_trace_event *ev)
{
    switch (ev->kind) {
    case SYNACK_TRACE_STATE:
        lad_stack(c, 0, ev);
        break;
    case SYNACK_TRACE_SEG_OUT:
        lad_stack(c, 0, ev);
        kernel_got(c, ev); /* shown on the segment's row: its state once it has it */
        lad_segment(c, 0, ev);
        break;
    case SYNACK_TRACE_SEG_IN:
        kernel_sent(c, ev);
        lad_segment(c, 1, ev);
        break;
    default:
        break;
    }
}

/* ------------------------------------------------------------ events */

static void trace_line(FILE *f, const proc *p, const synack_trace_event *ev)
{
    char l[FMT_ENDPOINT_LEN], r[FMT_ENDPOINT_LEN], fl[40];
    uint64_t t = ev->time_ns > p->t0 ? ev->time_ns - p->t0 : 0;
    static const char *const kinds[] = {"?", "STATE", "IN", "OUT", "DROP"};
    fprintf(f, "%llu.%06llu #%u %s %s %s", (unsigned long long)(t / 1000000000ull),
            (unsigned long long)(t % 1000000000ull / 1000), (unsigned)ev->conn_id,
            fmt_event_endpoint(ev, 1, l), fmt_event_endpoint(ev, 0, r),
            kinds[ev->kind <= 4 ? ev->kind : 0]);
    if (ev->kind == SYNACK_TRACE_STATE)
        fprintf(f, " %s -> %s", synack_state_name(ev->old_state),
                synack_state_name(ev->new_state));
    if (ev->kind == SYNACK_TRACE_SEG_IN || ev->kind == SYNACK_TRACE_SEG_OUT)
        fprintf(f, " %s seq=%u ack=%u win=%u len=%u%s", fmt_flags(ev->seg.flags, fl),
                (unsigned)ev->seg.seq, (unsigned)ev->seg.ack, (unsigned)ev->seg.wnd,
                (unsigned)ev->seg.len, ev->retransmit ? " retransmit" : "");
    if (ev->cause && *ev->cause)
        fprintf(f, " (%s)", ev->cause);
    fputc('\n', f);
}

static void add_state(conn *c, int s)
{
    if (c->nstates && c->states[c->nstates - 1] == s)
        return;
    if (c->nstates < MAX_STATES)
        c->states[c->nstates++] = s;
}

static void account(conn *c, const synack_trace_event *ev)
{
    c->t_last = ev->time_ns;
    if (!c->have_ep && !c->lport) { /* a listener's, until a peer shows */
        c->laddr = ev->local_addr;
        c->raddr = ev->remote_addr;
        c->lport = ev->local_port;
    }
    if (!c->have_ep && ev->remote_port) {
        c->have_ep = 1;
        c->laddr = ev->local_addr;
        c->raddr = ev->remote_addr;
        c->lport = ev->local_port;
        c->rport = ev->remote_port;
    }
    if (ev->kind == SYNACK_TRACE_STATE) {
        add_state(c, ev->old_state);
        add_state(c, ev->new_state);
    } else if (ev->kind == SYNACK_TRACE_SEG_OUT) {
        c->segs++;
        if (ev->retransmit)
            c->rexmit++;
        else
            c->sent += ev->seg.len;
    } else if (ev->kind == SYNACK_TRACE_SEG_IN) {
        c->received += ev->seg.len;
    }
}

/* Summary mode's per-connection sums (SYNACK_RUN_DETAIL=summary). */
static void add_totals(run_watch *w, uint32_t pid, const sp_totals *t)
{
    conn *c = t->conn_id ? conn_of(w, pid, t->conn_id, t->t_last) : NULL;
    if (!c)
        return;
    c->sent += t->sent;
    c->received += t->received;
    c->rexmit += t->rexmit;
    c->segs += t->segs;
    if (t->t_last > c->t_last)
        c->t_last = t->t_last;
}

static void on_event(run_watch *w, uint32_t pid, sp_event *e)
{
    proc *p = proc_of(w, pid);
    synack_trace_event *ev = &e->ev;
    e->cause[sizeof e->cause - 1] = '\0';
    ev->cause = e->cause;
    if (w->o.trace && p)
        trace_line(w->o.out, p, ev);
    if (w->o.json && p) {
        sim_trace t;
        memset(&t, 0, sizeof t);
        t.kind = SIM_TRACE_STACK;
        t.time_ns = ev->time_ns - p->t0;
        t.host_name = "synack";
        t.ev = ev;
        json_write_trace(w->o.json, &t);
    }
    if (!ev->conn_id)
        return;
    conn *c = conn_of(w, pid, ev->conn_id, ev->time_ns);
    if (!c)
        return;
    account(c, ev);
    if (c->lad)
        ladder_event(c, ev);
}

size_t run_watch_feed(run_watch *w, const uint8_t *buf, size_t len)
{
    size_t off = 0;
    while (len - off >= sizeof(sp_rec)) {
        sp_rec h;
        memcpy(&h, buf + off, sizeof h);
        if (len - off - sizeof h < h.len)
            break;
        const uint8_t *body = buf + off + sizeof h;
        proc *p = proc_of(w, h.pid);
        if (h.type == SP_REC_EVENT && h.len == sizeof(sp_event)) {
            sp_event e;
            memcpy(&e, body, sizeof e);
            on_event(w, h.pid, &e);
        } else if (h.type == SP_REC_START && h.len == sizeof(sp_start) && p) {
            sp_start s;
            memcpy(&s, body, sizeof s);
            p->t0 = s.t0_ns;
        } else if (h.type == SP_REC_COUNTER && h.len == sizeof(sp_counter) && p) {
            sp_counter *n = realloc(p->counters, (p->ncounters + 1) * sizeof *n);
            if (n) {
                p->counters = n;
                memcpy(&n[p->ncounters], body, sizeof *n);
                n[p->ncounters++].name[sizeof n->name - 1] = '\0';
            }
        } else if (h.type == SP_REC_TOTALS && h.len == sizeof(sp_totals) && p) {
            sp_totals t;
            memcpy(&t, body, sizeof t);
            add_totals(w, h.pid, &t);
        } else if (h.type == SP_REC_EXIT && p) {
            p->exited = 1;
        }
        off += sizeof h + h.len;
    }
    return off;
}

/* ------------------------------------------------------------ the end */

static void summary(FILE *f, const conn *c)
{
    char l[FMT_ENDPOINT_LEN], r[FMT_ENDPOINT_LEN];
    fprintf(f, "conn %s %s states=", fmt_addr_endpoint(&c->laddr, c->lport, l),
            fmt_addr_endpoint(&c->raddr, c->rport, r));
    for (int i = 0; i < c->nstates; i++)
        fprintf(f, "%s%s", i ? ">" : "", synack_state_name(c->states[i]));
    fprintf(f, " sent=%llu received=%llu retrans=%llu duration=%.3fms\n",
            (unsigned long long)c->sent, (unsigned long long)c->received,
            (unsigned long long)c->rexmit, (double)(c->t_last - c->t_first) / 1e6);
}

void run_watch_finish(run_watch *w, int quiet)
{
    FILE *f = w->o.out;
    ladder_style st = {.ascii = w->o.ascii};
    for (size_t i = 0; i < w->n; i++) {
        conn *c = &w->c[i];
        if (!c->lad || !c->segs)
            continue;
        ladder_render(c->lad, f, &st);
        fputc('\n', f);
    }
    if (quiet) {
        fflush(f);
        return;
    }
    for (size_t i = 0; i < w->n; i++)
        if (w->c[i].have_ep || w->c[i].nstates)
            summary(f, &w->c[i]);
    for (size_t i = 0; i < w->np; i++) {
        const proc *p = &w->p[i];
        fprintf(f, "#synack run: pid %u at exit%s\n", (unsigned)p->pid,
                p->exited ? "" : " (it did not exit through exit(): no counters)");
        for (size_t k = 0; k < p->ncounters; k++)
            fprintf(f, "%-31s %llu\n", p->counters[k].name,
                    (unsigned long long)p->counters[k].value);
    }
    fflush(f);
}
