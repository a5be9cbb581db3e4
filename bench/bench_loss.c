/*
 * bench_loss.c — throughput under random loss in the simulator, against the
 * Mathis et al. bound MSS/RTT x 1.22/sqrt(p).
 *
 * Two hosts, one link: 5 ms each way (RTT 10 ms), no bandwidth limit, MTU
 * 1500; frames from sender to receiver are lost with probability p (0.1%,
 * 1%, 5%), the ACK path is clean. The sender keeps its send buffer full for
 * BENCH_LOSS_SECONDS of virtual time (default 30); goodput is the bytes
 * the receiving application reads after a 2 s warm-up, over the rest.
 * MSS is what the connection uses for data (1448 with timestamps). Runs
 * differ by simulator seed; median of them all. The run itself is in
 * loss_sim.c, which loss_kernel shares to set Linux beside it.
 *
 * For NewReno and CUBIC, chosen with tcp_congestion_control; if the stack
 * does not know the knob yet the default is measured once and said so.
 * BENCH_LOSS_REORDER and BENCH_LOSS_RECOVERY: see loss_sim.c.
 *
 * Then reordering without loss, a fifth of the seconds per run (6 s, over
 * 2 GiB in one flight): the same path with 1% of data frames up to 2 ms
 * late, against it in order.
 */
#include "loss_sim.h"

#include <stdio.h>

/* Reordering without loss: 1% of data frames up to 2 ms late, against
 * the same path in order. The window should not be cut for data that was
 * never lost (RACK's reordering window, DSACK undo); in order the rate is
 * the 4 MiB buffer's over 10 ms, and a late frame holds the buffer's data
 * behind it for up to 2 ms of each 10. */
static void reordering_rows(int runs, double seconds)
{
    const char *ccs[] = {"reno", "cubic"};
    printf("reordering, no loss: 1%% of data frames up to 2 ms late, %.0f s virtual per run, "
           "against the same path in order\n", seconds);
    for (size_t c = 0; c < 2; c++) {
        bench_stat late, in_order;
        uint32_t mss;
        loss_sim_series(ccs[c], 0, 0.01, runs, seconds, &late, &mss);
        loss_sim_series(ccs[c], 0, 0, 1, seconds, &in_order, &mss); /* no randomness: one run */
        if (!late.n || !in_order.n) {
            printf("  %-8s all runs failed\n", ccs[c]);
            continue;
        }
        char a[96], b[96], name[64];
        printf("  %-8s reordered %s Mbit/s   in order %s Mbit/s   ratio %.2f\n", ccs[c],
               bench_fmt(a, sizeof a, late, "%.0f"), bench_fmt(b, sizeof b, in_order, "%.0f"),
               late.med / in_order.med);
        snprintf(name, sizeof name, "loss_reorder_%s_p1", ccs[c]);
        bench_line(name, late.med, "in_order", in_order.med, 1, "Mbit/s");
    }
}

int main(void)
{
    const double losses[] = {0.001, 0.01, 0.05};
    const char *ccs[] = {"reno", "cubic"};
    double seconds = bench_env("BENCH_LOSS_SECONDS", 30);
    int runs = bench_runs(5);
    printf("throughput under loss (simulator): RTT 10 ms, MTU 1500, %.0f s virtual per run "
           "(2 s warm-up), %d seeds, loss on the data direction only\n", seconds, runs);
    int knob = 1;
    for (size_t c = 0; c < 2 && knob; c++) {
        for (size_t i = 0; i < 3; i++) {
            bench_stat s;
            uint32_t mss;
            int cc_ok = loss_sim_series(ccs[c], losses[i], loss_sim_reorder_env(), runs, seconds,
                                        &s, &mss);
            if (!cc_ok)
                knob = 0;
            const char *label = cc_ok ? ccs[c] : "default";
            double bound = loss_mathis_mbps(mss, losses[i]);
            char name[64], b[96];
            snprintf(name, sizeof name, "loss_%s_p%g", label, losses[i] * 100);
            if (!s.n) {
                printf("  %-8s p=%-5g%%  all runs failed\n", label, losses[i] * 100);
                continue;
            }
            printf("  %-8s p=%-5g%%  synack %s Mbit/s   Mathis bound %.2f Mbit/s (MSS %u)  ratio %.2f\n",
                   label, losses[i] * 100, bench_fmt(b, sizeof b, s, "%.2f"), bound, mss,
                   s.med / bound);
            bench_line(name, s.med, "bound", bound, 1, "Mbit/s");
        }
        if (!knob)
            printf("  note: tcp_congestion_control is not a knob of this build (synack_config_set "
                   "refused it); the figures above are for the built-in default, and NewReno/CUBIC "
                   "rows will appear once the knob exists\n");
    }
    reordering_rows(runs, seconds / 5);
    return 0;
}
