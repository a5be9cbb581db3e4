/*
 * bench_threads.c — every core (issue 13): the same work on one thread and
 * on BENCH_THREADS threads (default 2), and the ratio.
 *
 * A steered group (synack_steer) on each side: client stack t and server
 * stack t of every thread are member t of a group of `threads`, joined by
 * a memlink, each thread with its own pair, sharing nothing. Client stack t
 * picks only ports whose flows hash to t, so every frame it sends is
 * server t's (checked: a frame of another member's flow would be dropped
 * there as SYNACK_DROP_STEER_FOREIGN, and the run would fail).
 *   connrate: BENCH_CONNS connections (default 30000, as bench_connrate:
 *             each keeps its port in TIME-WAIT for the run) split over the
 *             threads, each thread opening, using and closing its share one
 *             at a time (bench_connrate's connection), at most
 *             BENCH_THREADS_SECONDS (default 3); conn/s summed.
 *   bulk:     4 connections in all, split over the threads, each sending
 *             as fast as the stacks take it (MTU 1500, checksums computed)
 *             for the same time; Gbit/s summed.
 * Runs alternate one thread / N threads, BENCH_RUNS each (default 5).
 */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 16
#define FLOWS 4
#define APPBUF (256u << 10)

static double seconds;
static long nconns;

typedef struct worker {
    int index, count;
    int bulk;         /* 0: connection rate; 1: FLOWS / count bulk flows */
    double result;    /* conn/s or Gbit/s, -1 on failure */
    uint64_t foreign; /* frames dropped as another member's */
    pthread_t th;
} worker;

static void tune(synack_config *cfg, void *ctx)
{
    const worker *w = ctx;
    cfg->steer.count = (uint32_t)w->count;
    cfg->steer.index = (uint32_t)w->index;
    cfg->steer.key[0] = 0x73796e61636b2121ull; /* the group's key: the same for all */
    cfg->steer.key[1] = 0x7374656572696e67ull;
    synack_config_set(cfg, "ip_local_port_range", "1024 65535");
    /* Four flows' windows must fit the memlink's 8 MiB inbox together, or
     * it drops frames (as a full device queue would) and the one-thread
     * run, with all four in one pair, pays for recovery the two-thread run
     * does not: 1.5 MiB each at most. */
    synack_config_set(cfg, "tcp_rmem", "4096 1048576 1572864");
    synack_config_set(cfg, "tcp_wmem", "4096 1048576 1572864");
}

static double connrate(worker *w, bench_pair *p, synack_sock *l, const synack_addr *server)
{
    uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(seconds * 1e9);
    long done = 0, want = nconns / w->count;
    for (; done < want; done++) {
        if (bench_pair_one_connection(p, l, server, 80) < 0) {
            fprintf(stderr, "bench_threads: thread %d: connection %ld stalled\n", w->index, done);
            return -1;
        }
        if ((done & 255) == 0 && bench_now_ns() > deadline)
            break;
    }
    return (double)done / ((double)(bench_now_ns() - t0) / 1e9);
}

static double bulk(worker *w, bench_pair *p, synack_sock *l, const synack_addr *server)
{
    int n = FLOWS / w->count;
    synack_sock *c[FLOWS], *s[FLOWS];
    for (int i = 0; i < n; i++) {
        c[i] = synack_socket(p->a);
        s[i] = NULL;
        if (!c[i] || synack_connect_addr(c[i], server, 80) < 0)
            return -1;
    }
    for (int i = 0; i < n; i++) {
        for (int round = 0; round < 100 && !s[i]; round++) {
            memlink_pump(p->link, bench_now_ns(), 0);
            s[i] = synack_accept(l, NULL);
        }
        if (!s[i]) {
            fprintf(stderr, "bench_threads: thread %d: flow %d not accepted\n", w->index, i);
            return -1;
        }
    }
    static __thread unsigned char buf[APPBUF];
    uint64_t recvd = 0, t0 = bench_now_ns(), deadline = t0 + (uint64_t)(seconds * 1e9), t;
    do {
        for (int i = 0; i < n; i++)
            while (synack_send(c[i], buf, APPBUF) > 0)
                ;
        t = bench_now_ns();
        memlink_pump(p->link, t, 0);
        for (int i = 0; i < n; i++) {
            ssize_t got;
            while ((got = synack_recv(s[i], buf, APPBUF)) > 0)
                recvd += (uint64_t)got;
        }
    } while (t < deadline);
    return (double)recvd * 8 / (double)(bench_now_ns() - t0);
}

static void *work(void *arg)
{
    worker *w = arg;
    bench_pair p;
    w->result = -1;
    synack_addr server = bench_server_addr(SYNACK_AF_INET);
    if (bench_pair_new_family(&p, SYNACK_AF_INET, 1500, tune, w, bench_now_ns()) < 0)
        return NULL;
    synack_sock *l = synack_socket(p.b);
    if (l && synack_bind(l, 80) == 0 && synack_listen(l, 128) == 0)
        w->result = w->bulk ? bulk(w, &p, l, &server) : connrate(w, &p, l, &server);
    w->foreign = synack_drop_count(p.a, SYNACK_DROP_STEER_FOREIGN) +
                 synack_drop_count(p.b, SYNACK_DROP_STEER_FOREIGN);
    uint64_t dropped = memlink_get_stats(p.link, MEMLINK_A)->dropped +
                       memlink_get_stats(p.link, MEMLINK_B)->dropped;
    if (dropped)
        fprintf(stderr, "bench_threads: thread %d: the memlink dropped %llu frames\n", w->index,
                (unsigned long long)dropped);
    bench_pair_free(&p);
    return NULL;
}

/* One run with `count` threads: the summed result, or -1. */
static double run(int count, int is_bulk)
{
    worker w[MAX_THREADS];
    for (int i = 0; i < count; i++) {
        w[i] = (worker){.index = i, .count = count, .bulk = is_bulk};
        if (pthread_create(&w[i].th, NULL, work, &w[i]))
            return -1;
    }
    double sum = 0;
    int failed = 0;
    for (int i = 0; i < count; i++) {
        pthread_join(w[i].th, NULL);
        failed |= w[i].result < 0 || w[i].foreign;
        if (w[i].foreign)
            fprintf(stderr, "bench_threads: thread %d dropped %llu frames of other members\n",
                    i, (unsigned long long)w[i].foreign);
        sum += w[i].result;
    }
    return failed ? -1 : sum;
}

static int measure(const char *name, int is_bulk, int threads, int runs, const char *unit,
                   const char *fmt)
{
    double one[BENCH_MAX_RUNS], many[BENCH_MAX_RUNS];
    int n1 = 0, nn = 0;
    for (int r = 0; r < runs; r++) {
        double v = run(1, is_bulk);
        if (v > 0)
            one[n1++] = v;
        v = run(threads, is_bulk);
        if (v > 0)
            many[nn++] = v;
    }
    if (!n1 || !nn) {
        printf("  %s: runs failed\n", name);
        return -1;
    }
    bench_stat s1 = bench_stats(one, n1), sn = bench_stats(many, nn);
    char b1[96], b2[96];
    printf("  %-9s 1 thread  %s %s\n", name, bench_fmt(b1, sizeof b1, s1, fmt), unit);
    printf("  %-9s %d threads %s %s   ratio %.2fx\n", name, threads,
           bench_fmt(b2, sizeof b2, sn, fmt), unit, sn.med / s1.med);
    char line[64];
    snprintf(line, sizeof line, "threads_%s", name);
    bench_line(line, sn.med, "one_thread", s1.med, 1, unit);
    return 0;
}

int main(void)
{
    seconds = bench_env("BENCH_THREADS_SECONDS", 3);
    nconns = (long)bench_env("BENCH_CONNS", 30000);
    int threads = (int)bench_env("BENCH_THREADS", 2);
    if (threads < 2 || threads > MAX_THREADS || FLOWS % threads) {
        fprintf(stderr, "bench_threads: BENCH_THREADS must be 2 or 4\n");
        return 2;
    }
    int runs = bench_runs(5);
    printf("every core: one steered stack pair per thread, 1 thread against %d, %.0f s per run, "
           "%d runs each, alternating\n", threads, seconds, runs);
    int rc = measure("connrate", 0, threads, runs, "conn/s", "%.0f");
    rc |= measure("bulk4", 1, threads, runs, "Gbit/s", "%.2f");
    return rc ? 1 : 0;
}
