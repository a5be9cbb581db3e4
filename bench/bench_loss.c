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
 * differ by simulator seed; median of them all.
 *
 * For NewReno and CUBIC, chosen with tcp_congestion_control; if the stack
 * does not know the knob yet the default is measured once and said so.
 *
 * BENCH_LOSS_REORDER (a probability, default 0) also holds data frames back
 * by up to BENCH_LOSS_REORDER_MS (default 2 ms): reordering, which loss
 * detection must not take for loss. BENCH_LOSS_RECOVERY sets tcp_recovery
 * (1 RACK, 0 RFC 6675's DupThresh) to compare the two in one build.
 */
#include "util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define RTT_NS (10 * SIM_MS)
#define WARMUP_NS (2 * SIM_SEC)

typedef struct run {
    sim *s;
    sim_host *a, *b;
    synack_sock *cli, *srv, *lst;
    uint64_t bytes_after_warmup;
    uint32_t mss;
    int failed;
} run;

static unsigned char fill[65536], sink[65536];

static void feed(run *r)
{
    while (r->cli && synack_writable(r->cli) > 0)
        if (synack_send(r->cli, fill, sizeof fill) <= 0)
            break;
}

static void on_a(void *ctx, synack_sock *k, unsigned ev)
{
    run *r = ctx;
    if (k != r->cli)
        return;
    if (ev & SYNACK_EV_ERROR)
        r->failed = 1;
    if (ev & (SYNACK_EV_CONNECTED | SYNACK_EV_WRITABLE))
        feed(r);
}

static void on_b(void *ctx, synack_sock *k, unsigned ev)
{
    run *r = ctx;
    if (k == r->lst && (ev & SYNACK_EV_ACCEPT)) {
        synack_sock *a = synack_accept(r->lst, NULL);
        if (a && !r->srv)
            r->srv = a;
    }
    if (r->srv && (ev & SYNACK_EV_READABLE)) {
        ssize_t n;
        while ((n = synack_recv(r->srv, sink, sizeof sink)) > 0)
            if (sim_now(r->s) >= WARMUP_NS)
                r->bytes_after_warmup += (uint64_t)n;
    }
}

/* Goodput in Mbit/s, or -1. *cc_ok says whether the knob took. */
static double one_run(const char *cc, double loss, uint64_t seed, double seconds, int *cc_ok,
                      uint32_t *mss)
{
    run r = {0};
    synack_config cfg;
    synack_config_init(&cfg);
    *cc_ok = cc ? synack_config_set(&cfg, "tcp_congestion_control", cc) == 0 : 0;
    synack_config_set(&cfg, "tcp_wmem", "4096 4194304 4194304");
    synack_config_set(&cfg, "tcp_rmem", "4096 4194304 6291456");
    const char *recovery = getenv("BENCH_LOSS_RECOVERY");
    if (recovery && synack_config_set(&cfg, "tcp_recovery", recovery) != 0)
        fprintf(stderr, "bench_loss: tcp_recovery=%s refused by this build\n", recovery);
    r.s = sim_new(seed);
    if (!r.s)
        return -1;
    r.a = sim_add_host(r.s, "sender", 0x0a000001u, &cfg);
    r.b = sim_add_host(r.s, "receiver", 0x0a000002u, &cfg);
    sim_link_params ab = sim_link_params_default(), ba = sim_link_params_default();
    ab.delay_ns = ba.delay_ns = RTT_NS / 2;
    ab.loss = loss;
    ab.reorder = bench_env("BENCH_LOSS_REORDER", 0);
    ab.reorder_delay_ns = (uint64_t)(bench_env("BENCH_LOSS_REORDER_MS", 2) * 1e6);
    if (!r.a || !r.b || sim_link(r.s, r.a, r.b, &ab, &ba) < 0)
        goto fail;
    sim_host_set_event(r.a, on_a, &r);
    sim_host_set_event(r.b, on_b, &r);
    r.lst = synack_socket(sim_host_stack(r.b));
    r.cli = synack_socket(sim_host_stack(r.a));
    if (!r.lst || !r.cli || synack_bind(r.lst, 5001) || synack_listen(r.lst, 4) ||
        synack_connect(r.cli, 0x0a000002u, 5001))
        goto fail;
    uint64_t end = (uint64_t)(seconds * 1e9);
    sim_run_until(r.s, end);
    if (r.failed || !r.srv)
        goto fail;
    synack_tcp_info info;
    synack_info(r.cli, &info);
    *mss = info.snd_mss;
    double mbps = (double)r.bytes_after_warmup * 8 / ((double)(end - WARMUP_NS) / 1e9) / 1e6;
    sim_free(r.s);
    return mbps;
fail:
    sim_free(r.s);
    return -1;
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
            double v[BENCH_MAX_RUNS];
            int n = 0, cc_ok = 0;
            uint32_t mss = 1448;
            for (int k = 0; k < runs; k++) {
                double g = one_run(ccs[c], losses[i], 1000 + (uint64_t)k, seconds, &cc_ok, &mss);
                if (g >= 0)
                    v[n++] = g;
            }
            if (!cc_ok)
                knob = 0;
            const char *label = cc_ok ? ccs[c] : "default";
            double bound = (double)mss * 8 / ((double)RTT_NS / 1e9) * 1.22 / sqrt(losses[i]) / 1e6;
            char name[64], b[96];
            snprintf(name, sizeof name, "loss_%s_p%g", label, losses[i] * 100);
            if (!n) {
                printf("  %-8s p=%-5g%%  all runs failed\n", label, losses[i] * 100);
                continue;
            }
            bench_stat s = bench_stats(v, n);
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
    return 0;
}
