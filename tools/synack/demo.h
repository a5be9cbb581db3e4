/*
 * demo.h — `synack demo`: TCP's life stories, run in the simulator in
 * virtual time and drawn as ladder diagrams.
 *
 * demo_run is also what the tests call: it runs one scenario quietly (or
 * not) and fills a demo_result with what each side went through.
 */
#ifndef SYNACK_TOOL_DEMO_H
#define SYNACK_TOOL_DEMO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ladder.h"
#include "sim/sim.h"
#include "synack.h"

typedef struct demo_options {
    const char *scenario;      /* NULL = "lifecycle"                          */
    uint64_t seed;             /* used when seed_set; else the scenario's     */
    int seed_set;
    const char *pcap_path;     /* NULL = no capture                           */
    const char *json_path;     /* NULL = none, "-" = stdout                   */
    const char *const *sysctl; /* "name=value" strings for synack_config_set  */
    size_t nsysctl;
    uint64_t delay_ns;         /* one-way delay; 0 = 5 ms                     */
    double loss;               /* used when loss_set; else the scenario's     */
    int loss_set;
    ladder_style style;
    int ipv6;                  /* over IPv6: client fd00::1, server fd00::2   */
    FILE *out;                 /* ladder and summary; NULL = quiet            */
} demo_options;

enum { DEMO_CLIENT = 0, DEMO_SERVER = 1 };
#define DEMO_MAX_STATES 32

typedef struct demo_side {
    char name[16];
    synack_addr addr;   /* the side's address, of the run's family        */
    uint16_t port;
    /* states the connection entered, in order (the server's listener shows
     * as LISTEN before its connection exists) */
    int states[DEMO_MAX_STATES];
    int nstates;
    int final_state;
    int error;          /* first error the application saw, e.g. -ECONNREFUSED */
    int connected;      /* the application got its connection              */
    int eof;            /* the application read end-of-stream              */
    uint64_t app_sent, app_received;
    int data_ok;        /* received exactly what the peer's application sent */
    ladder_dir_stats wire;     /* segments this side put on the link        */
    synack_counters counters;  /* the host's counters at the end            */
} demo_side;

typedef struct demo_result {
    const char *scenario;
    uint64_t seed;
    demo_side side[2]; /* DEMO_CLIENT, DEMO_SERVER */
    uint64_t end_ns;   /* virtual time when the run stopped                 */
    int idle;          /* 1 = nothing was left to do; 0 = the time limit hit */
    sim_stats link;
} demo_result;

typedef struct demo_scenario_info {
    const char *name;
    const char *summary;
} demo_scenario_info;

/* The scenarios, in the order `--help` lists them. */
const demo_scenario_info *demo_scenarios(size_t *count);

/* Run one scenario. Returns 0, or -1 with a one-line message in `err`
 * (unknown scenario, bad -o knob, pcap/json file not writable or a write to
 * it failed, ...). */
int demo_run(const demo_options *opt, demo_result *res, char *err, size_t errlen);

/* 1 if the side's connection went through `state`. */
int demo_visited(const demo_side *side, int state);

/* Print the summary that follows the ladder. */
void demo_print_summary(FILE *out, const demo_result *res);

/* `synack demo ...`: argv[0] is "demo". Returns the exit status. */
int demo_main(int argc, char **argv);

#endif
