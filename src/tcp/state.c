/* state.c — changing a connection's state: tcb_set_state, the only writer
 * of tcb.state (tests/checks/structure.sh holds it to that), and tcb_close,
 * the one way a connection ends. */
#include "tcp/tcp.h"


void tcb_set_state(tcb *t, int state, synack_cause cause)
{
    tcp_ctx *c = t->ctx;
    int old = t->state;
    if (old == state)
        return;
    t->state = (uint8_t)state;
    if (state == SYNACK_TIME_WAIT)
        c->ctr->tcp_time_waited++;
    if (c->trace && cause != SYNACK_CAUSE_NONE) {
        tcp_tuple who = tcp_tuple_of(t);
        tcp_trace_state(c, &who, old, state, cause);
    }
}


void tcb_close(tcb *t, int err, synack_cause cause)
{
    if (err && !t->err)
        t->err = err;
    tcb_timers_off(t);
    tcb_hash_remove(t);
    tcp_buf_release(t, TCP_BUF_SEND); /* nothing will be sent: Linux purges its write queue */
    tcp_snd_refs_drop(t);
    rack_release(t);
    if (!t->rcv.buf.used)
        tcp_buf_release(t, TCP_BUF_RECV); /* out-of-order data has no future */
    tcb_set_state(t, SYNACK_CLOSED, cause);
    tcb_signal(t, SYNACK_EV_CLOSED | (err ? SYNACK_EV_ERROR : 0) | SYNACK_EV_READABLE |
                      SYNACK_EV_WRITABLE);
    listen_unlink(t); /* a child that closed before accept */
    tcb_maybe_release(t);
}
