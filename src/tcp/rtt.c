/* rtt.c — the retransmission timer's estimator, RFC 6298 §2, with Linux's
 * 200 ms floor as the default (tcp_rto_min_ms). */
#include "tcp/tcp.h"

void rtt_init(tcb *t)
{
    t->rtt.srtt_us = t->rtt.rttvar_us = 0;
    t->rtt.rto_ms = t->ctx->sys->tcp_rto_initial_ms;
    t->rtt.backoff = 0;
}

void rtt_sample(tcb *t, uint64_t rtt_ns)
{
    uint32_t r = (uint32_t)(rtt_ns / 1000);
    if (r == 0)
        r = 1;
    rack_note_rtt(t, r);
    if (t->rtt.srtt_us == 0) { /* §2.2: first measurement */
        t->rtt.srtt_us = r;
        t->rtt.rttvar_us = r / 2;
    } else {               /* §2.3: beta = 1/4, alpha = 1/8 */
        uint32_t delta = t->rtt.srtt_us > r ? t->rtt.srtt_us - r : r - t->rtt.srtt_us;
        t->rtt.rttvar_us = (3 * t->rtt.rttvar_us + delta) / 4;
        t->rtt.srtt_us = (7 * t->rtt.srtt_us + r) / 8;
    }
    uint64_t rto_us = (uint64_t)t->rtt.srtt_us + 4 * (uint64_t)t->rtt.rttvar_us;
    uint32_t rto_ms = (uint32_t)((rto_us + 999) / 1000);
    const synack_sysctl *s = t->ctx->sys;
    if (rto_ms < s->tcp_rto_min_ms)
        rto_ms = s->tcp_rto_min_ms;
    if (rto_ms > s->tcp_rto_max_ms)
        rto_ms = s->tcp_rto_max_ms;
    t->rtt.rto_ms = rto_ms;
    t->rtt.backoff = 0; /* §5.7: a fresh sample ends the backoff */
}

/* The current timeout with exponential backoff (§5.5), capped. */
uint64_t rtt_rto_ns(const tcb *t)
{
    uint64_t ms = (uint64_t)t->rtt.rto_ms << (t->rtt.backoff < 20 ? t->rtt.backoff : 20);
    if (ms > t->ctx->sys->tcp_rto_max_ms)
        ms = t->ctx->sys->tcp_rto_max_ms;
    return ms * NS_PER_MS;
}
