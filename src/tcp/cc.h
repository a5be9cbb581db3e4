/* cc.h — congestion control behind one small interface, selected per
 * stack by tcp_congestion_control ("cubic", the default as in Linux, or
 * "reno"). Loss detection and recovery (fast retransmit, NewReno partial
 * ACKs, SACK recovery) live in the ACK path; an algorithm decides only how
 * the window grows and how far it falls. cwnd and ssthresh are in bytes. */
#ifndef SYNACK_CC_H
#define SYNACK_CC_H

#include <stdint.h>

typedef struct synack_sock tcb;

typedef struct cc_ops {
    const char *name;
    /* Connection established: set up private state. */
    void (*init)(tcb *t);
    /* `acked` new bytes were acknowledged outside recovery. */
    void (*on_ack)(tcb *t, uint32_t acked);
    /* A loss was detected (fast retransmit or RTO): return the new ssthresh
     * and remember what the algorithm needs. */
    uint32_t (*on_loss)(tcb *t);
    /* The retransmission timer fired and cwnd fell to one segment (after
     * on_loss, when the episode cut ssthresh). NULL: nothing more to do. */
    void (*on_timeout)(tcb *t);
} cc_ops;

extern const cc_ops cc_reno;
extern const cc_ops cc_cubic;

/* The algorithm a name selects; NULL if unknown. */
const cc_ops *cc_find(const char *name);

/* Slow start (RFC 5681 §3.1, bytes counted as in RFC 3465, no limit L). Returns
 * the bytes left over once cwnd reaches ssthresh. */
uint32_t cc_slow_start(tcb *t, uint32_t acked);

/* FlightSize for a congestion response (RFC 5681 eq. 4, RFC 6937's
 * RecoverFS): what the window put in flight, at most cwnd. SND.MAX -
 * SND.UNA also counts SACKed data, which the sender passes before
 * recovery (output.c) and after a timeout; Linux starts from cwnd. */
uint32_t cc_flight_size(const tcb *t);

#endif
