/*
 * bench_memory.c — bytes per established connection (buffers excluded) and
 * per TIME-WAIT entry.
 *
 * Method: the program is linked with -Wl,--wrap=malloc,calloc,realloc,free
 * so every allocation libsynack makes goes through a counting wrapper that
 * keeps the live byte count (bytes requested; glibc adds 8-16 bytes of
 * chunk header per block, shown apart). Two stacks over a memlink open
 * N connections (BENCH_MEM_CONNS, default 20000) and keep them all open:
 *   established = (live bytes after - before - N x 2 x (send + receive
 *                  buffer bytes)) / (2N)          [both ends are counted]
 * Then every client closes first and the servers close on EOF: the clients
 * hold N TIME-WAIT entries and the servers free everything:
 *   TIME-WAIT   = (live bytes after - before) / N
 * Both figures include each connection's share of the connection hash
 * table and the timer heap (amortised; they grow by doubling).
 * The buffer sizes are set to distinct odd values so that they are known
 * exactly; the stack allocates them at connect (client) and at SYN
 * (server) and frees them on entering TIME-WAIT.
 *
 * Linux: the object sizes of the TCP and tw_sock_TCP slab caches from
 * /proc/slabinfo (struct tcp_sock and struct tcp_timewait_sock). An
 * established Linux socket also holds a struct socket/inode, a file and a
 * dentry that this figure leaves out, so it flatters Linux.
 */
#define _GNU_SOURCE
#include "util.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ counting allocator */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

static long long live_bytes, live_blocks;
#define HDR 16 /* keeps 16-byte alignment */

void *__wrap_malloc(size_t n)
{
    unsigned char *p = __real_malloc(n + HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    live_bytes += (long long)n;
    live_blocks++;
    return p + HDR;
}

void *__wrap_calloc(size_t n, size_t m)
{
    if (m && n > ((size_t)-1 - HDR) / m)
        return NULL;
    size_t sz = n * m;
    unsigned char *p = __real_calloc(1, sz + HDR);
    if (!p)
        return NULL;
    memcpy(p, &sz, sizeof sz);
    live_bytes += (long long)sz;
    live_blocks++;
    return p + HDR;
}

void __wrap_free(void *q)
{
    if (!q)
        return;
    unsigned char *p = (unsigned char *)q - HDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    live_bytes -= (long long)n;
    live_blocks--;
    __real_free(p);
}

void *__wrap_realloc(void *q, size_t n)
{
    if (!q)
        return __wrap_malloc(n);
    unsigned char *p = (unsigned char *)q - HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    unsigned char *r = __real_realloc(p, n + HDR);
    if (!r)
        return NULL;
    memcpy(r, &n, sizeof n);
    live_bytes += (long long)n - (long long)old;
    return r + HDR;
}

/* ------------------------------------------------------------ synack */

#define SNDBUF 40001u
#define RCVBUF 50003u

static void tune(synack_config *cfg, void *ctx)
{
    (void)ctx;
    synack_config_set(cfg, "ip_local_port_range", "1024 65535");
    synack_config_set(cfg, "tcp_wmem", "4096 40001 4194304");
    synack_config_set(cfg, "tcp_rmem", "4096 50003 6291456");
}

typedef struct result {
    double est, est_blocks, tw, tw_blocks;
    long n;
} result;

static int synack_measure(long n, result *out)
{
    bench_pair p;
    uint64_t now = 1000000000ull; /* a fake clock: nothing here is timed */
    if (bench_pair_new(&p, 1500, tune, NULL, now) < 0)
        return -1;
    synack_sock *l = synack_socket(p.b);
    if (!l || synack_bind(l, 80) || synack_listen(l, 4096))
        return -1;
    synack_sock **cli = malloc(sizeof(*cli) * (size_t)n), **srv = malloc(sizeof(*srv) * (size_t)n);
    if (!cli || !srv)
        return -1;
    memlink_drain(p.link, now, 0);
    long long base = live_bytes, base_blocks = live_blocks;
    long got = 0;
    for (long i = 0; i < n; i++) {
        cli[i] = synack_socket(p.a);
        if (!cli[i] || synack_connect(cli[i], BENCH_IP_B, 80) < 0)
            return -1;
        memlink_drain(p.link, now += 1000, 0);
        synack_sock *s;
        while ((s = synack_accept(l, NULL)))
            srv[got++] = s;
    }
    if (got != n) {
        fprintf(stderr, "bench_memory: %ld of %ld connections established\n", got, n);
        return -1;
    }
    long long buffers = 2LL * n * (SNDBUF + RCVBUF);
    out->est = (double)(live_bytes - base - buffers) / (2.0 * (double)n);
    out->est_blocks = (double)(live_blocks - base_blocks) / (2.0 * (double)n);
    /* Close: clients first (they keep TIME-WAIT), servers on EOF. */
    for (long i = 0; i < n; i++)
        synack_close(cli[i]);
    memlink_drain(p.link, now += 1000, 0);
    char b;
    for (long i = 0; i < n; i++) {
        if (synack_recv(srv[i], &b, 1) != 0)
            fprintf(stderr, "bench_memory: server %ld saw no EOF\n", i);
        synack_close(srv[i]);
    }
    memlink_drain(p.link, now += 1000, 0);
    const synack_counters *ca = synack_get_counters(p.a);
    if (ca->tcp_time_waited != (uint64_t)n)
        fprintf(stderr, "bench_memory: %llu TIME-WAIT entries, expected %ld\n",
                (unsigned long long)ca->tcp_time_waited, n);
    out->tw = (double)(live_bytes - base) / (double)n;
    out->tw_blocks = (double)(live_blocks - base_blocks) / (double)n;
    out->n = n;
    free(cli);
    free(srv);
    bench_pair_free(&p);
    return 0;
}

/* objsize column of /proc/slabinfo for cache `name`; -1 if unreadable. */
static long slab_objsize(const char *name)
{
    FILE *f = fopen("/proc/slabinfo", "r");
    if (!f)
        return -1;
    char line[512], nm[128];
    long active, num, objsize = -1;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%127s %ld %ld %ld", nm, &active, &num, &objsize) == 4 &&
            strcmp(nm, name) == 0) {
            fclose(f);
            return objsize;
        }
        objsize = -1;
    }
    fclose(f);
    return -1;
}

int main(void)
{
    long n = (long)bench_env("BENCH_MEM_CONNS", 20000);
    int runs = bench_runs(5);
    double est[BENCH_MAX_RUNS], tw[BENCH_MAX_RUNS];
    result r = {0};
    int ok = 0;
    for (int i = 0; i < runs; i++) {
        if (synack_measure(n, &r) == 0) {
            est[ok] = r.est;
            tw[ok] = r.tw;
            ok++;
        }
    }
    if (!ok) {
        printf("memory: synack measurement failed\n");
        return 1;
    }
    bench_stat se = bench_stats(est, ok), st = bench_stats(tw, ok);
    long ltcp = slab_objsize("TCP"), ltw = slab_objsize("tw_sock_TCP");
    char b[96];
    printf("memory per connection: %ld connections, counting allocator (bytes requested), %d runs\n",
           n, ok);
    printf("  established (buffers excluded): synack %s B in %.1f blocks (+%.0f B glibc chunk headers)\n",
           bench_fmt(b, sizeof b, se, "%.0f"), r.est_blocks - 2.0, (r.est_blocks - 2.0) * 8);
    printf("  TIME-WAIT entry:                synack %s B in %.1f blocks (+%.0f B glibc chunk headers)\n",
           bench_fmt(b, sizeof b, st, "%.0f"), r.tw_blocks, r.tw_blocks * 8);
    if (ltcp > 0)
        printf("  linux slab objsize: TCP %ld B, tw_sock_TCP %ld B (/proc/slabinfo; socket, inode,\n"
               "  file and dentry of an established socket not included)\n", ltcp, ltw);
    else
        printf("  linux: /proc/slabinfo unreadable or without TCP caches; column skipped\n");
    bench_line("mem_established", se.med, "linux", (double)ltcp, ltcp > 0, "bytes");
    bench_line("mem_timewait", st.med, "linux", (double)ltw, ltw > 0, "bytes");
    return 0;
}
