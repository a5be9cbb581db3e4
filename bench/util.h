/*
 * util.h — what the benchmarks share: clocks, statistics over runs, the
 * result lines, two synack stacks joined by a memlink, and running a
 * Linux measurement in a child process inside a fresh network namespace.
 */
#ifndef SYNACK_BENCH_UTIL_H
#define SYNACK_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "dev/memlink.h"
#include "synack.h"

#define BENCH_MAX_RUNS 32

uint64_t bench_now_ns(void);

/* Median, min and max of n values (the array is sorted in place). */
typedef struct bench_stat { double med, min, max; int n; } bench_stat;
bench_stat bench_stats(double *v, int n);

/* "12.3 (11.9–12.8)" into buf. */
const char *bench_fmt(char *buf, size_t len, bench_stat s, const char *numfmt);

/* The machine-readable line. peer_ok = 0 prints PEER=na ratio=na. */
void bench_line(const char *name, double synack, const char *peer, double peer_value,
                int peer_ok, const char *unit);

/* Runs per measurement: BENCH_RUNS from the environment (default `def`,
 * at least 5 unless BENCH_QUICK is set). */
int bench_runs(int def);
/* A positive number from the environment, or `def`. */
double bench_env(const char *name, double def);

/* ------------------------------------------------------------ two stacks */

typedef struct bench_pair {
    memlink *link;
    synack_stack *a, *b;  /* a = 10.0.0.1 (client), b = 10.0.0.2 (server) */
    uint64_t rng[2];
} bench_pair;

#define BENCH_IP_A 0x0a000001u
#define BENCH_IP_B 0x0a000002u

/* Two stacks over a memlink. `tune` (may be NULL) edits each config
 * before its stack is made. Returns 0 or -1. */
int bench_pair_new(bench_pair *p, uint32_t mtu, void (*tune)(synack_config *, void *),
                   void *tune_ctx, uint64_t now);
/* The same, the stacks also having fd00::1 and fd00::2 (usable at once: no
 * duplicate address detection) when `family` is SYNACK_AF_INET6. */
int bench_pair_new_family(bench_pair *p, int family, uint32_t mtu,
                          void (*tune)(synack_config *, void *), void *tune_ctx, uint64_t now);
/* One complete connection over the pair, as bench_connrate counts them:
 * a (client) opens to server:port where listener `l` on b accepts, a
 * 1-byte request, a 1-byte reply, the client closes first (and keeps the
 * TIME-WAIT), the server closes on EOF. Returns 0, or -1 when it stalled. */
int bench_pair_one_connection(bench_pair *p, synack_sock *l, const synack_addr *server,
                              uint16_t port);
/* The server stack's (b's) address in `family`. */
synack_addr bench_server_addr(int family);
/* "IPv4" or "IPv6". */
const char *bench_family_name(int family);

/* Linux's loopback address in `family` (127.0.0.1 or ::1) with `port`, for
 * bind and connect; returns the address's length. */
struct sockaddr_storage;
unsigned bench_loopback(int family, uint16_t port, struct sockaddr_storage *ss);
void bench_pair_free(bench_pair *p);

/* ------------------------------------------------------------ Linux side */

/* Run fn(arg, &result) in a forked child that first enters a new network
 * namespace with `lo` up at `mtu`. The child is killed after `timeout_s`.
 * Returns 0 with *result set, or -1 with a reason in why. */
int bench_linux_run(unsigned mtu, double timeout_s, int (*fn)(void *arg, double *result),
                    void *arg, double *result, char *why, size_t whylen);

/* Inside the namespace: write a sysctl under /proc/sys. 0 or -1. */
int bench_sysctl(const char *path, const char *value);

#endif
