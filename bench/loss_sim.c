/*
 * loss_sim.c — one bench_loss run in the simulator (see loss_sim.h and
 * bench/README.md): two hosts, 5 ms each way, no bandwidth limit, MTU
 * 1500, loss with probability p on the data direction only, 4 MiB
 * buffers, the sender's buffer kept full. Frames that reach a host at the
 * same instant (a flight, on a link without a bandwidth limit) go in as
 * one burst (synack_input_burst), as synack's device loop hands over what
 * one read finds and as Linux's receiver (GRO, the socket backlog)
 * acknowledges a run of segments at once; BENCH_LOSS_FRAMEWISE=1 hands
 * them over one by one instead.
 *
 * `reorder` (a probability; BENCH_LOSS_REORDER for the loss rows, default
 * 0) also holds data frames back by up to BENCH_LOSS_REORDER_MS (default
 * 2 ms): reordering, which loss detection must not take for loss. BENCH_LOSS_RECOVERY sets tcp_recovery
 * (1 RACK, 0 RFC 6675's DupThresh) to compare the two in one build.
 * BENCH_LOSS_VERBOSE prints the sender's recovery counters after each run.
 */
#include "loss_sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/sim.h"

#define RTT_NS (LOSS_RTT_MS * SIM_MS)
#define WARMUP_NS (LOSS_WARMUP_S * SIM_SEC)

typedef struct run {
    sim *s;
    sim_host *a, *b;
    synack_sock *cli, *srv, *lst;
    uint64_t bytes_after_warmup;
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

/* BENCH_LOSS_VERBOSE: where the sender's time went, one line per run. */
static void print_sender(const run *r, const synack_tcp_info *info)
{
    const synack_counters *c = synack_get_counters(sim_host_stack(r->a));
    fprintf(stderr,
            "  sender: %u segs, %u retransmitted; %llu timeouts, %llu fast retransmits, %llu loss "
            "probes (%llu recovered), %llu recoveries, %llu DSACKs (%llu undone), %llu lost retransmits\n",
            info->segs_out, info->retransmits, (unsigned long long)c->tcp_timeouts,
            (unsigned long long)c->tcp_fast_retrans, (unsigned long long)c->tcp_loss_probes,
            (unsigned long long)c->tcp_loss_probe_recovery,
            (unsigned long long)c->tcp_sack_recovery, (unsigned long long)c->tcp_dsack_recv,
            (unsigned long long)c->tcp_dsack_undo,
            (unsigned long long)c->tcp_lost_retransmit);
}

double loss_sim_reorder_env(void) { return bench_env("BENCH_LOSS_REORDER", 0); }

double loss_sim_run(const char *cc, double loss, double reorder, uint64_t seed, double seconds,
                    int *cc_ok, uint32_t *mss)
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
    ab.reorder = reorder;
    ab.reorder_delay_ns = (uint64_t)(bench_env("BENCH_LOSS_REORDER_MS", 2) * 1e6);
    if (!r.a || !r.b || sim_link(r.s, r.a, r.b, &ab, &ba) < 0)
        goto fail;
    sim_host_set_event(r.a, on_a, &r);
    sim_host_set_event(r.b, on_b, &r);
    int burst = !getenv("BENCH_LOSS_FRAMEWISE") || !strcmp(getenv("BENCH_LOSS_FRAMEWISE"), "0");
    sim_host_set_burst_input(r.a, burst);
    sim_host_set_burst_input(r.b, burst);
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
    if (getenv("BENCH_LOSS_VERBOSE"))
        print_sender(&r, &info);
    double mbps = (double)r.bytes_after_warmup * 8 / ((double)(end - WARMUP_NS) / 1e9) / 1e6;
    sim_free(r.s);
    return mbps;
fail:
    sim_free(r.s);
    return -1;
}

int loss_sim_series(const char *cc, double loss, double reorder, int runs, double seconds,
                    bench_stat *out, uint32_t *mss)
{
    double v[BENCH_MAX_RUNS];
    int n = 0, cc_ok = 0;
    *mss = 1448;
    for (int k = 0; k < runs && k < BENCH_MAX_RUNS; k++) {
        double g = loss_sim_run(cc, loss, reorder, LOSS_SEED0 + (uint64_t)k, seconds, &cc_ok, mss);
        if (g >= 0)
            v[n++] = g;
    }
    *out = bench_stats(v, n);
    return cc_ok;
}

double loss_mathis_mbps(uint32_t mss, double loss)
{
    return (double)mss * 8 / (LOSS_RTT_MS / 1e3) * 1.22 / sqrt(loss) / 1e6;
}
