/*
 * lab.h — `synack lab EXPERIMENT`: experiments about the connection
 * lifecycle, run in the simulator in virtual time. Each prints a short
 * explanation and a result table; with --json only its key figures, as one
 * JSON object; --csv writes its series, --plot draws them as SVG.
 *
 * lab_run is also what the tests call (quietly, out = NULL): the key
 * figures come back in a lab_result.
 */
#ifndef SYNACK_TOOL_LAB_H
#define SYNACK_TOOL_LAB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sim.h"
#include "synack.h"

#define LAB_MAX_FIGS 48
#define LAB_MAX_SERIES 6

typedef struct lab_series {
    char name[48];
    double *x, *y;
    size_t n, cap;
} lab_series;

typedef struct lab_result {
    struct { char name[64]; double value; } fig[LAB_MAX_FIGS];
    int nfig;
    lab_series series[LAB_MAX_SERIES];
    int nseries;
    char xlabel[48], ylabel[48], title[96];
} lab_result;

typedef struct lab_options {
    FILE *out;      /* explanation, tables, ladders; NULL = quiet */
    uint64_t seed;  /* simulator seed (default 1) */
    int ipv6;       /* over IPv6 (--ipv6): hosts fd00::1, fd00::2, ... */
    int defaults_only; /* port-exhaustion measures its default setting
                          alone (tests: the other three take most of
                          its time) */
} lab_options;

typedef struct lab_experiment {
    const char *name;
    const char *summary;
    int (*run)(const lab_options *o, lab_result *r);
    int has_series;  /* it fills series: --csv and --plot apply */
    const char *no_ipv6; /* why it cannot run over IPv6; NULL: it can */
} lab_experiment;

const lab_experiment *lab_experiments(size_t *count);

/* Run one experiment by name. Returns 0, or -1 (unknown name, or --ipv6
 * for one that cannot run over IPv6). The caller frees the result's series
 * with lab_result_free. */
int lab_run(const char *name, const lab_options *o, lab_result *r);
void lab_result_free(lab_result *r);

/* A key figure by name (NaN when missing). */
double lab_fig(const lab_result *r, const char *name);
void lab_set_fig(lab_result *r, const char *name, double value);
/* Series: add one (returns its index) and points to it. */
int lab_add_series(lab_result *r, const char *name);
void lab_point(lab_result *r, int series, double x, double y);

/* Output helpers: write the series to `f` (the caller closes it and checks
 * for write errors). */
void lab_write_csv(const lab_result *r, FILE *f);
void lab_write_svg(const lab_result *r, FILE *f);
void lab_write_json(const lab_result *r, const char *experiment, FILE *out);

/* The run's world: a simulator with the run's seed, giving its hosts IPv6
 * addresses with --ipv6. NULL on allocation failure. */
sim *lab_sim_new(const lab_options *o);
/* Connect `k` to host `to`'s address of the run's family, port `port`. */
int lab_connect(synack_sock *k, const sim_host *to, uint16_t port, const lab_options *o);
/* "10.0.0.1:40000", or over IPv6 "[fd00::1]:40000": the endpoint of the
 * host with `index` (IPv4 address `ip`), for text printed before the world
 * exists. `buf` holds FMT_ENDPOINT_LEN bytes. */
char *lab_endpoint(const lab_options *o, uint32_t ip, int index, uint16_t port, char *buf);
/* " --ipv6" over IPv6, else "": for the title line. */
const char *lab_flag(const lab_options *o);

/* A counter of a stack by its nstat name (0 if no such counter). */
uint64_t lab_counter(synack_stack *s, const char *nstat_name);

/* `synack lab ...`: argv[0] is "lab". Returns the exit status. */
int lab_main(int argc, char **argv);

/* The experiments (lab_*.c). */
int lab_port_exhaustion(const lab_options *o, lab_result *r);
int lab_why_time_wait(const lab_options *o, lab_result *r);
int lab_why_three_way(const lab_options *o, lab_result *r);
int lab_why_four_way(const lab_options *o, lab_result *r);
int lab_tw_reuse(const lab_options *o, lab_result *r);
int lab_tw_recycle_nat(const lab_options *o, lab_result *r);

#endif
