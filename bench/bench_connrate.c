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
 * Both are measured over IPv4 and over IPv6 (synack: fd00::1 -> fd00::2;
 * Linux: ::1), with the IPv6 / IPv4 ratio of each stack.
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
static int offload; /* the stacks as Linux runs lo: no TCP checksums */

/* ------------------------------------------------------------ synack */

static void tune(synack_config *cfg, void *ctx)
{
    (void)ctx;
    synack_config_set(cfg, "ip_local_port_range", "1024 65535");
    cfg->checksum_offload = offload;
}

static double synack_run(int family, long *done_out)
{
    bench_pair p;
    double rate = -1;
    long done = 0;
    synack_addr server = bench_server_addr(family);
    if (bench_pair_new_family(&p, family, 1500, tune, NULL, bench_now_ns()) < 0)
        return -1;
    synack_sock *l = synack_socket(p.b);
    if (!l || synack_bind(l, 80) || synack_listen(l, 128))
        goto fail;
    uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(time_bound_s * 1e9);
    for (; done < nconns; done++) {
        if (bench_pair_one_connection(&p, l, &server, 80) < 0)
            goto fail;
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

/* arg: the family (int *). */
static int linux_connrate(void *arg, double *result)
{
    int family = *(int *)arg, af = family == SYNACK_AF_INET6 ? AF_INET6 : AF_INET;
    if (bench_sysctl("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535") < 0)
        return -1;
    /* The server thread outlives this function (it dies with the child
     * process): its context must not live on this stack. */
    static lctx x;
    x = (lctx){0};
    struct sockaddr_storage sa;
    socklen_t salen = bench_loopback(family, 80, &sa);
    x.lfd = socket(af, SOCK_STREAM, 0);
    if (x.lfd < 0 || bind(x.lfd, (struct sockaddr *)&sa, salen) || listen(x.lfd, 128))
        return -1;
    pthread_t th;
    if (pthread_create(&th, NULL, linux_server, &x))
        return -1;
    uint64_t t0 = bench_now_ns(), deadline = t0 + (uint64_t)(time_bound_s * 1e9);
    long done = 0;
    char b;
    for (; done < nconns; done++) {
        int fd = socket(af, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, salen) < 0 ||
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

/* One family: synack and Linux, alternating; the synack median in *s_med. */
/* One family: synack and Linux, alternating; the medians in *s_med and
 * *l_med (0 when Linux could not be measured). */
static int measure(int family, int runs, double *s_med, double *l_med)
{
    double sv[BENCH_MAX_RUNS], lv[BENCH_MAX_RUNS];
    int ns = 0, nl = 0;
    char why[256] = "";
    long done = 0;
    for (int r = 0; r < runs; r++) {
        double v = synack_run(family, &done);
        if (v > 0)
            sv[ns++] = v;
        double lr;
        if (bench_linux_run(1500, time_bound_s * 2 + 5, linux_connrate, &family, &lr, why,
                            sizeof why) == 0)
            lv[nl++] = lr;
    }
    const char *fam = bench_family_name(family);
    if (!ns) {
        printf("  %s synack runs failed\n", fam);
        return -1;
    }
    bench_stat s = bench_stats(sv, ns), l = bench_stats(lv, nl);
    char b1[96], b2[96];
    printf("  %s synack %s conn/s (%ld connections in the last run)\n", fam,
           bench_fmt(b1, sizeof b1, s, "%.0f"), done);
    if (nl)
        printf("  %s linux  %s conn/s   ratio %.2fx\n", fam, bench_fmt(b2, sizeof b2, l, "%.0f"),
               s.med / l.med);
    else
        printf("  %s linux  skipped: %s\n", fam, why);
    bench_line(family == SYNACK_AF_INET6 ? "connrate6" : "connrate", s.med, "linux", l.med,
               nl > 0, "conn/s");
    *s_med = s.med;
    *l_med = nl ? l.med : 0;
    return 0;
}

/* IPv4 again with checksum_offload, the way Linux's lo runs (as
 * bench_bulk's offload lines): against the Linux median just measured. */
static void measure_offload(int runs, double linux_med)
{
    double sv[BENCH_MAX_RUNS];
    int ns = 0;
    long done = 0;
    offload = 1;
    for (int r = 0; r < runs; r++) {
        double v = synack_run(SYNACK_AF_INET, &done);
        if (v > 0)
            sv[ns++] = v;
    }
    offload = 0;
    if (!ns)
        return;
    bench_stat s = bench_stats(sv, ns);
    char b[96];
    printf("  IPv4 synack, no checksums (as lo) %s conn/s", bench_fmt(b, sizeof b, s, "%.0f"));
    if (linux_med > 0)
        printf("   ratio %.2fx", s.med / linux_med);
    printf("\n");
    bench_line("connrate_offload", s.med, "linux", linux_med, linux_med > 0, "conn/s");
}

int main(void)
{
    nconns = (long)bench_env("BENCH_CONNS", 30000);
    time_bound_s = bench_env("BENCH_CONN_SECONDS", 10);
    int runs = bench_runs(5);
    printf("connection rate: %ld connections per run (or %.0f s), %d runs per side, alternating\n",
           nconns, time_bound_s, runs);
    printf("  each: open, 1-byte request, 1-byte reply, client closes first (keeps TIME-WAIT)\n");
    double s4, s6, l4, l6;
    if (measure(SYNACK_AF_INET, runs, &s4, &l4) < 0 || measure(SYNACK_AF_INET6, runs, &s6, &l6) < 0)
        return 1;
    measure_offload(runs, l4);
    printf("  IPv6 / IPv4: synack %.2fx\n", s6 / s4);
    bench_line("connrate6_vs4", s6, "ipv4", s4, 1, "conn/s");
    return 0;
}
