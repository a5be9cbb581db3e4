/* cc_cubic.c — CUBIC (RFC 9438), Linux's default. The window follows
 * W(t) = C (t - K)^3 + W_max after a loss, with C = 0.4, beta = 0.7, fast
 * convergence, and a Reno-friendly estimate that wins where Reno would be
 * faster (short RTTs). Times in seconds as doubles; no libm needed. */
#include "tcp/cc.h"
#include "tcp/tcp.h"

#define CUBIC_C 0.4
#define CUBIC_BETA 0.7

/* Cube root by Newton's method (x >= 0). */
static double cbrt_pos(double x)
{
    if (x <= 0)
        return 0;
    double r = x > 1 ? x / 3 : 1;
    for (int i = 0; i < 60; i++) {
        double next = (2 * r + x / (r * r)) / 3;
        if (next == r)
            break;
        r = next;
    }
    return r;
}

static void cubic_init(tcb *t)
{
    t->cc.cubic.epoch_start = 0;
    t->cc.cubic.w_max = 0;
    t->cc.cubic.w_last_max = 0;
    t->cc.cubic.k = 0;
    t->cc.cubic.w_est = 0;
}

static void cubic_on_ack(tcb *t, uint32_t acked)
{
    if (t->cc.cwnd < t->cc.ssthresh) {
        acked = cc_slow_start(t, acked);
        if (!acked)
            return;
    }
    tcp_ctx *c = t->ctx;
    double mss = t->opts.snd_mss;
    double cwnd = t->cc.cwnd / mss; /* segments */
    if (t->cc.cubic.epoch_start == 0) {
        /* §4.2: a new congestion-avoidance epoch. */
        t->cc.cubic.epoch_start = c->now ? c->now : 1;
        if (t->cc.cubic.w_max < cwnd) {
            t->cc.cubic.k = 0;
            t->cc.cubic.w_max = cwnd;
        } else {
            t->cc.cubic.k = cbrt_pos((t->cc.cubic.w_max - cwnd) / CUBIC_C);
        }
        t->cc.cubic.w_est = cwnd;
    }
    double rtt = t->rtt.srtt_us ? t->rtt.srtt_us / 1e6 : 0.1;
    double elapsed = (double)(c->now - t->cc.cubic.epoch_start) / 1e9;
    double d = elapsed + rtt - t->cc.cubic.k;
    double target = CUBIC_C * d * d * d + t->cc.cubic.w_max;
    if (target > 1.5 * cwnd)
        target = 1.5 * cwnd; /* §4.2: at most 50% growth per RTT */
    /* §4.3: the Reno-friendly region; once W_est is back at the window
     * before the loss, it grows as fast as Reno (alpha 1). */
    double alpha = t->cc.cubic.w_est >= t->cc.cubic.w_last_max
                       ? 1.0
                       : 3.0 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA);
    t->cc.cubic.w_est += alpha * (acked / mss) / cwnd;
    double grow;
    if (t->cc.cubic.w_est > target)
        grow = (t->cc.cubic.w_est - cwnd) * mss;
    else
        grow = (target - cwnd) / cwnd * (acked / mss) * mss;
    if (grow > 0) {
        t->cc.frac += grow;
        if (t->cc.frac >= 1) {
            uint32_t add = (uint32_t)t->cc.frac;
            t->cc.cwnd += add;
            t->cc.frac -= add;
        }
    }
}

static uint32_t cubic_on_loss(tcb *t)
{
    double mss = t->opts.snd_mss;
    double cwnd = t->cc.cwnd / mss;
    /* §4.7 fast convergence: release bandwidth when W_max shrinks. */
    if (cwnd < t->cc.cubic.w_last_max)
        t->cc.cubic.w_max = cwnd * (1 + CUBIC_BETA) / 2;
    else
        t->cc.cubic.w_max = cwnd;
    t->cc.cubic.w_last_max = cwnd;
    t->cc.cubic.epoch_start = 0;
    t->cc.frac = 0;
    double ss = cwnd * CUBIC_BETA * mss; /* §4.6 */
    uint32_t floor = 2u * t->opts.snd_mss;
    return ss > floor ? (uint32_t)ss : floor;
}

/* §4.8: after a timeout the first congestion avoidance stage starts its
 * own curve, K = 0 and W_max the window it starts from (as Linux resets
 * its state on entering Loss), not the one the timeout ended. */
static void cubic_on_timeout(tcb *t)
{
    t->cc.cubic.epoch_start = 0;
    t->cc.cubic.w_max = 0;
    t->cc.cubic.w_last_max = 0;
    t->cc.frac = 0;
}

const cc_ops cc_cubic = {"cubic", cubic_init, cubic_on_ack, cubic_on_loss, cubic_on_timeout};
