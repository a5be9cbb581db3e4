/* trace.c — what a tracer and the drop counters see: the names of state-change
 * causes and drop reasons, per-reason drop counts, and the trace events for
 * state changes, drops and segments. Tracing off costs one branch. */
#include "tcp/tcp.h"

#include <string.h>

static const char *const CAUSE_NAMES[SYNACK_CAUSE_COUNT] = {
#define SYNACK_CAUSE_TEXT(id, text) text,
    SYNACK_CAUSES(SYNACK_CAUSE_TEXT)
#undef SYNACK_CAUSE_TEXT
};

static const char *const DROP_NAMES[SYNACK_DROP_COUNT] = {
#define SYNACK_DROP_TEXT(id, text) text,
    SYNACK_DROPS(SYNACK_DROP_TEXT)
#undef SYNACK_DROP_TEXT
};

const char *synack_cause_name(int cause)
{
    return cause >= 0 && cause < SYNACK_CAUSE_COUNT ? CAUSE_NAMES[cause] : "?";
}

const char *synack_drop_name(int drop)
{
    return drop >= 0 && drop < SYNACK_DROP_COUNT ? DROP_NAMES[drop] : "?";
}

/* An event naming connection `who`, in state `from` (going to `to`). */
static synack_trace_event event_for(const tcp_ctx *c, int kind, const tcp_tuple *named, int from,
                                    int to)
{
    tcp_tuple dual; /* a listener taking both families shows its IPv4 address */
    const tcp_tuple *who = named;
    if (named->l.family == 0 && named->lport) {
        dual = *named;
        dual.l = tcp_local_addr(c, SYNACK_AF_INET);
        who = &dual;
    }
    return (synack_trace_event){
        .kind = (synack_trace_kind)kind, .time_ns = c->now, .conn_id = who->id,
        .local_ip = who->l.family == SYNACK_AF_INET ? who->l.v4 : 0, .local_port = who->lport,
        .remote_ip = who->r.family == SYNACK_AF_INET ? who->r.v4 : 0, .remote_port = who->rport,
        .local_addr = who->l, .remote_addr = who->r,
        .old_state = from, .new_state = to,
    };
}

/* A state change or a drop: an event with its reason and the reason's text. */
static void trace_reason(tcp_ctx *c, int kind, const tcp_tuple *who, int from, int to, int reason,
                         const char *text)
{
    synack_trace_event ev = event_for(c, kind, who, from, to);
    ev.reason = reason;
    ev.cause = text;
    c->trace(c->trace_ctx, &ev);
}

void tcp_drop_tuple(tcp_ctx *c, const tcp_tuple *who, int state, synack_drop why)
{
    c->drops[why]++;
    if (c->trace)
        trace_reason(c, SYNACK_TRACE_DROP, who, state, state, why, DROP_NAMES[why]);
}

void tcp_drop(tcp_ctx *c, const tcb *t, synack_drop why)
{
    tcp_tuple who = {0};
    if (t)
        who = tcp_tuple_of(t);
    tcp_drop_tuple(c, &who, t ? t->state : SYNACK_CLOSED, why);
}

void tcp_trace_state(tcp_ctx *c, const tcp_tuple *who, int from, int to, synack_cause why)
{
    if (c->trace)
        trace_reason(c, SYNACK_TRACE_STATE, who, from, to, why, CAUSE_NAMES[why]);
}

void tcp_trace_seg(tcp_ctx *c, const tcb *t, int kind, const wire_tcp *seg, bool rexmit,
                   const tcp_tuple *who)
{
    tcp_tuple named = who ? *who : tcp_tuple_of(t);
    named.id = t ? t->id : 0;
    int state = t ? t->state : SYNACK_CLOSED;
    synack_trace_event ev = event_for(c, kind, &named, state, state);
    ev.retransmit = rexmit;
    synack_seg_info *s = &ev.seg;
    s->seq = seg->seq;
    s->ack = seg->ack;
    s->flags = seg->flags;
    s->wnd = seg->wnd;
    s->len = (uint32_t)seg->payload_len;
    s->mss = seg->opt.mss;
    s->wscale = seg->opt.wscale;
    s->sack_ok = seg->opt.sack_ok;
    s->has_ts = seg->opt.has_ts;
    s->ts_val = seg->opt.ts_val;
    s->ts_ecr = seg->opt.ts_ecr;
    s->sack_blocks = seg->opt.sack_count;
    memcpy(s->sack, seg->opt.sack, sizeof(s->sack));
    c->trace(c->trace_ctx, &ev);
}
