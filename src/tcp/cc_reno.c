/* cc_reno.c — NewReno's window (RFC 5681 §3.1): slow start, then one SMSS
 * per RTT in congestion avoidance; halve on loss. The recovery itself
 * (RFC 6582 partial ACKs) is in the ACK path. */
#include "tcp/cc.h"
#include "tcp/tcp.h"

static void reno_init(tcb *t) { t->cc.bytes_acked = 0; }

static void reno_on_ack(tcb *t, uint32_t acked)
{
    if (t->cc.cwnd < t->cc.ssthresh)
        acked = cc_slow_start(t, acked);
    if (!acked || t->cc.cwnd < t->cc.ssthresh)
        return;
    /* RFC 5681 eq. 3 done by counting bytes (RFC 3465): +SMSS per cwnd acked. */
    t->cc.bytes_acked += acked;
    if (t->cc.bytes_acked >= t->cc.cwnd) {
        t->cc.bytes_acked -= t->cc.cwnd;
        t->cc.cwnd += t->opts.snd_mss;
    }
}

static uint32_t reno_on_loss(tcb *t)
{
    uint32_t half = cc_flight_size(t) / 2; /* RFC 5681 eq. 4 */
    t->cc.bytes_acked = 0;
    return half > 2u * t->opts.snd_mss ? half : 2u * t->opts.snd_mss;
}

const cc_ops cc_reno = {"reno", reno_init, reno_on_ack, reno_on_loss, NULL};
