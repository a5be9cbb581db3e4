/*
 * loss_sim.h — bench_loss's measurement in the simulator, shared by
 * bench_loss (synack against the Mathis bound) and loss_kernel (synack
 * against Linux under the same loss), so both print the same figure.
 */
#ifndef SYNACK_BENCH_LOSS_SIM_H
#define SYNACK_BENCH_LOSS_SIM_H

#include <stdint.h>

#include "util.h"

/* The path both programs emulate: 5 ms each way, goodput counted after a
 * 2 s warm-up. */
#define LOSS_RTT_MS 10
#define LOSS_WARMUP_S 2
/* Runs use seeds LOSS_SEED0, LOSS_SEED0 + 1, ... */
#define LOSS_SEED0 1000

/* One run: goodput in Mbit/s, or -1. `reorder`: the share of data frames
 * held back by up to BENCH_LOSS_REORDER_MS (2 ms). *cc_ok says whether
 * the stack took `cc` as tcp_congestion_control; *mss is the MSS the
 * sender used. */
double loss_sim_run(const char *cc, double loss, double reorder, uint64_t seed, double seconds,
                    int *cc_ok, uint32_t *mss);

/* `runs` seeds from LOSS_SEED0: the statistics of the runs that finished
 * (out->n may be 0) and the MSS used. Returns whether `cc` was taken. */
int loss_sim_series(const char *cc, double loss, double reorder, int runs, double seconds,
                    bench_stat *out, uint32_t *mss);

/* BENCH_LOSS_REORDER, the reordering the loss rows run with (default 0). */
double loss_sim_reorder_env(void);

/* The Mathis et al. bound MSS/RTT x 1.22/sqrt(p) at LOSS_RTT_MS, Mbit/s. */
double loss_mathis_mbps(uint32_t mss, double loss);

#endif
