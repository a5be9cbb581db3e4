/*
 * bench_connrate.c — complete connections per second.
 *
 * One connection at a time: open, 1-byte request, 1-byte reply, the client
 * closes first (so it keeps the TIME-WAIT, 60 s, for the whole run), the
 * server closes on EOF. BENCH_CONNS connections per run (default 30000),
 * bounded by BENCH_CONN_SECONDS (default 10) per run.
 *
 * synack: two stacks in this process over a memlink, one thread, real
 * monotonic clock, ip_local_port_range 1024 65535 (the TIME-WAIT entries
 * all stay: ports are not reused within a run).
 * Linux: a client thread and a server thread over 127.0.0.1 in a fresh
 * network namespace per run (so TIME-WAIT starts empty each time), with
 * ip_local_port_range 1024 65535.
 */
#define _GNU_SOURCE
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static long nconns;
static double time_bound_s;

/* ------------------------------------------------------------ synack */

static void tune(synack_config *cfg, void *ctx)
{
    (void)ctx;
    synack_config_set(cfg, "ip_local_port_range", "1024 65535");
}

/* Pump until *cond becomes true (at most `limit` rounds). */
#define PUMP_UNTIL(cond)                                                     \
    do {                                                                     \
        int guard_ = 0;                                                      \
        while (!(cond)) {                                                    \
            if (++guard_ > 64)                                               \
                goto fail;                                                   \
            memlink_pump(p.link, bench_now_ns(), 0);                         \
        }                                                                    \
    } while (0)

static double synack_run(long *done_out)
{
    bench_pair p;
    double rate = -1;
    long done = 0;
    if (bench_pair_new(&p, 1500, tune, NULL, bench_now_ns()) < 0)
        return -1;
    synack_sock *l = synack_socket(p.b);
    if (!l || synack_bind(l, 80) || synack_listen(l, 128))
        goto fail;
    uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(time_bound_s * 1e9);
    char byte;
    for (; done < nconns; done++) {
        synack_sock *c = synack_socket(p.a), *s = NULL;
        if (!c || synack_connect(c, BENCH_IP_B, 80) < 0)
            goto fail;
        PUMP_UNTIL((s = synack_accept(l, NULL)) != NULL &&
                   synack_sock_state(c) == SYNACK_ESTABLISHED);
        if (synack_send(c, "q", 1) != 1)
            goto fail;
        PUMP_UNTIL(synack_recv(s, &byte, 1) == 1);
        if (synack_send(s, "r", 1) != 1)
            goto fail;
        PUMP_UNTIL(synack_recv(c, &byte, 1) == 1);
        synack_close(c);
        PUMP_UNTIL(synack_recv(s, &byte, 1) == 0);
        synack_close(s);
        memlink_drain(p.link, bench_now_ns(), 16);
        if ((done & 1023) == 0 && bench_now_ns() > deadline)
            break;
    }
    rate = (double)done / ((double)(bench_now_ns() - t0) / 1e9);
    /* Sanity: every client connection is in TIME-WAIT. */
    const synack_counters *ca = synack_get_counters(p.a);
    if (ca->tcp_time_waited < (uint64_t)done)
        fprintf(stderr, "bench_connrate: only %llu of %ld reached TIME-WAIT\n",
                (unsigned long long)ca->tcp_time_waited, done);
    *done_out = done;
    bench_pair_free(&p);
    return rate;
fail:
    fprintf(stderr, "bench_connrate: synack connection %ld stalled\n", done);
    bench_pair_free(&p);
    return -1;
}

/* ------------------------------------------------------------ Linux */

typedef struct lctx {
    int lfd;
    long served;
} lctx;

static void *linux_server(void *arg)
{
    lctx *x = arg;
    char b;
    for (;;) {
        int fd = accept(x->lfd, NULL, NULL);
        if (fd < 0)
            break;
        if (read(fd, &b, 1) == 1 && write(fd, "r", 1) == 1)
            while (read(fd, &b, 1) > 0) /* until the client's FIN */
                ;
        close(fd);
        x->served++;
    }
    return NULL;
}

static int linux_connrate(void *arg, double *result)
{
    (void)arg;
    if (bench_sysctl("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535") < 0)
        return -1;
    lctx x = {0};
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(80)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    x.lfd = socket(AF_INET, SOCK_STREAM, 0);
    if (x.lfd < 0 || bind(x.lfd, (struct sockaddr *)&sa, sizeof sa) || listen(x.lfd, 128))
        return -1;
    pthread_t th;
    if (pthread_create(&th, NULL, linux_server, &x))
        return -1;
    uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(time_bound_s * 1e9);
    long done = 0;
    char b;
    for (; done < nconns; done++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
            write(fd, "q", 1) != 1 || read(fd, &b, 1) != 1) {
            fprintf(stderr, "bench_connrate: linux connection %ld failed: %s\n", done,
                    strerror(errno));
            return -1;
        }
        close(fd);
        if ((done & 1023) == 0 && bench_now_ns() > deadline)
            break;
    }
    *result = (double)done / ((double)(bench_now_ns() - t0) / 1e9);
    return 0; /* the server thread dies with the child process */
}

int main(void)
{
    nconns = (long)bench_env("BENCH_CONNS", 30000);
    time_bound_s = bench_env("BENCH_CONN_SECONDS", 10);
    int runs = bench_runs(5);
    printf("connection rate: %ld connections per run (or %.0f s), %d runs per side, alternating\n",
           nconns, time_bound_s, runs);
    printf("  each: open, 1-byte request, 1-byte reply, client closes first (keeps TIME-WAIT)\n");
    double sv[BENCH_MAX_RUNS], lv[BENCH_MAX_RUNS];
    int ns = 0, nl = 0;
    char why[256] = "";
    long done = 0;
    for (int r = 0; r < runs; r++) {
        double v = synack_run(&done);
        if (v > 0)
            sv[ns++] = v;
        double lr;
        if (bench_linux_run(1500, time_bound_s * 2 + 5, linux_connrate, NULL, &lr, why,
                            sizeof why) == 0)
            lv[nl++] = lr;
    }
    if (!ns) {
        printf("  synack runs failed\n");
        return 1;
    }
    bench_stat s = bench_stats(sv, ns), l = bench_stats(lv, nl);
    char b1[96], b2[96];
    printf("  synack %s conn/s (%ld connections in the last run)\n",
           bench_fmt(b1, sizeof b1, s, "%.0f"), done);
    if (nl)
        printf("  linux  %s conn/s   ratio %.2fx\n", bench_fmt(b2, sizeof b2, l, "%.0f"),
               s.med / l.med);
    else
        printf("  linux  skipped: %s\n", why);
    bench_line("connrate", s.med, "linux", l.med, nl > 0, "conn/s");
    return 0;
}
