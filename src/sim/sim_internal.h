/* sim_internal.h — the simulator's private structures, shared by its files. */
#ifndef SYNACK_SIM_INTERNAL_H
#define SYNACK_SIM_INTERNAL_H

#include "sim/sim.h"
#include "sim/sim_rng.h"

struct pcap_writer;

/* One direction of a link. */
typedef struct sim_dir {
    sim_host *from, *to;
    sim_link_params p;
    uint64_t busy_until; /* end of the last frame's serialization */
    sim_rng rng;
} sim_dir;

typedef struct sim_wire {
    sim_dir dir[2]; /* dir[0]: a -> b, dir[1]: b -> a */
} sim_wire;

struct sim_host {
    sim *s;
    int index;
    char *name;
    uint32_t ip;
    synack_addr ip6;       /* family 0: no IPv6 address */
    uint8_t mac[6];
    synack_stack *stack;
    sim_rng rng;
    synack_event_fn ev_fn;
    void *ev_ctx;
    sim_origin origin;
    uint64_t poll_floor; /* guard against a stack whose deadline does not move */
    uint64_t clock_offset; /* the host's clock reads virtual time + this (uptime) */
    struct sim_nat *nat;   /* a NAT box (no stack) instead of a synack host */
    int burst_input;       /* same-instant frames go in as one burst */
};

enum { SIM_EV_FRAME = 1, SIM_EV_CALL, SIM_EV_HOST_CALL };

typedef struct sim_event {
    uint64_t t, order;
    int kind;
    sim_host *host;
    uint8_t *data;
    size_t len;
    sim_fn fn;
    void *ctx;
} sim_event;

struct sim {
    uint64_t now, seed, order;
    sim_rng rng;
    sim_host **hosts;
    size_t nhosts, hosts_cap;
    sim_wire **wires;
    size_t nwires, wires_cap;
    sim_event *heap;
    size_t hlen, hcap;
    sim_trace_fn trace;
    void *trace_ctx;
    struct pcap_writer *pcap;
    uint64_t frame_ids;
    int app_depth;
    int ipv6;              /* sim_set_ipv6: hosts added get fd00::<index + 1> */
    sim_stats st;
};

/* sim.c */
int sim_push_event(sim *s, const sim_event *ev);
sim_origin sim_host_origin(const sim_host *h);
/* A trace record of `kind` at host h, now: the fields every record has. */
sim_trace sim_trace_at(sim_host *h, int kind);

/* sim.c: give sim_add_host this as cfg for a host without a stack. */
extern const char sim_no_stack;

/* sim_nat.c: a frame arrived at a NAT box. */
void sim_nat_input(sim_host *nat, const uint8_t *frame, size_t len);
void sim_nat_free(struct sim_nat *n);

/* sim_link.c: hand a frame the host `from` emitted to the links. */
void sim_wire_output(sim *s, sim_host *from, const uint8_t *frame, size_t len);
void sim_wires_free(sim *s);

#endif
