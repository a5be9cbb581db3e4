/*
 * sim.h — a deterministic discrete-event network simulator.
 *
 * Outside the core. Hosts are synack stacks; point-to-point Ethernet links
 * join them, with delay, bandwidth (serialization plus a tail-drop queue),
 * MTU, loss, duplication, reordering and corruption. Everything random comes
 * from PRNGs seeded by the simulator's seed, so a run replays exactly: the
 * same seed, hosts, links and application calls give the same frames at the
 * same virtual nanoseconds. Each host and each link direction draws from its
 * own stream, so changing one link's impairments does not change the ISNs
 * the hosts choose.
 *
 * Time is a virtual clock in nanoseconds starting at 0. The run loop takes
 * the earliest of (a) the next scheduled event — a frame arriving or a
 * sim_at callback — and (b) every stack's synack_next_deadline, advances the
 * clock to it and delivers the frame (synack_input), runs the callback, or
 * polls the stack (synack_poll). Ties are broken by insertion order.
 *
 * Frames a stack emits are copied at once and always delivered later (at
 * least one link delay), never from inside the output hook.
 *
 * Hosts speak IPv4, and IPv6 too when they have an IPv6 address (see
 * sim_set_ipv6): links then carry both families and a smaller-MTU hop
 * answers each in its own ICMP. The NAT box is IPv4-only.
 */
#ifndef SYNACK_SIM_H
#define SYNACK_SIM_H

#include <stddef.h>
#include <stdint.h>

#include "synack.h"

typedef struct sim sim;
typedef struct sim_host sim_host;

#define SIM_MS 1000000ull
#define SIM_SEC 1000000000ull

/* ------------------------------------------------------------ the world */

/* A simulator whose PRNGs derive from `seed`. NULL on allocation failure. */
sim *sim_new(uint64_t seed);
/* Free the simulator, its hosts (and their stacks), links and pending
 * events. Closes the pcap file if one is open. NULL is ignored. */
void sim_free(sim *s);

uint64_t sim_now(const sim *s);
uint64_t sim_seed(const sim *s);

/* A fresh 64-bit number from the simulator's own PRNG stream (for
 * applications that want randomness that replays with the seed). */
uint64_t sim_random(sim *s);

/* ------------------------------------------------------------ hosts */

/* Add a host with a synack stack on an Ethernet interface. `cfg` (may be
 * NULL for defaults) is copied; the simulator overrides its link type, MAC
 * (02:00:00:00:xx:yy from the host index), IPv4 address (cfg->ip6 is kept:
 * see sim_set_ipv6) and the four hooks (output into the simulator; random
 * from the host's PRNG stream; trace forwarded to the simulator's trace
 * sink; event forwarded to the host's callback).
 * `name` is copied. Returns NULL on failure (allocation, or the stack
 * refused the configuration). */
sim_host *sim_add_host(sim *s, const char *name, uint32_t ip, const synack_config *cfg);

/* IPv6 for the hosts added from now on (on = 1; off = 0, the default):
 * the host with index i also gets fd00::<i + 1>/64 (client 0 is fd00::1),
 * unless its cfg->ip6 is set already. Addresses the simulator hands out
 * are unique by construction, so their Duplicate Address Detection is
 * skipped (dad_transmits = 0): they are usable at once, as IPv4 ones are.
 * An address the caller sets in cfg->ip6 keeps the caller's dad_transmits
 * (Linux's default 1: tentative for the first second). Either way sim_link
 * gives the two ends static neighbour entries for each other, as it does
 * ARP entries, so no Neighbour Discovery is needed between them. */
void sim_set_ipv6(sim *s, int on);

/* fd00::<index + 1>: the IPv6 address sim_set_ipv6 gives the host with
 * this index (for text printed before the world exists). */
synack_addr sim_ip6_for_index(int index);

/* The host's address of `family` (SYNACK_AF_INET or SYNACK_AF_INET6); its
 * family is 0 when the host has none of that family. */
synack_addr sim_host_addr(const sim_host *h, int family);

/* The host's stack; NULL for a NAT box. */
synack_stack *sim_host_stack(sim_host *h);
/* LAB ONLY (sim_lab.c): the host's listeners take their own SYN,ACK as the
 * end of the handshake, a two-way handshake no real TCP may use
 * (`synack lab why-three-way`). Deliberately absent from the public API. */
void sim_host_lab_two_way_handshake(sim_host *h, int on);
const char *sim_host_name(const sim_host *h);
uint32_t sim_host_ip(const sim_host *h);
const uint8_t *sim_host_mac(const sim_host *h);
int sim_host_index(const sim_host *h);
size_t sim_host_count(const sim *s);
sim_host *sim_host_get(sim *s, size_t index);

/* The host's clock runs `offset_ns` ahead of virtual time, as if it had
 * booted that much earlier: every time handed to its stack (input, poll)
 * is virtual time + offset. Different offsets give hosts different
 * timestamp clocks (TSval), as real machines with different uptimes have.
 * Set it before the host does anything. */
void sim_host_set_clock_offset(sim_host *h, uint64_t offset_ns);

/* Socket events (SYNACK_EV_*) of this host's stack go to fn(ctx, ...).
 * They come at the end of a synack_* call, so fn may call any socket
 * function. */
void sim_host_set_event(sim_host *h, synack_event_fn fn, void *ctx);
/* Frames reaching the host at the same virtual instant are handed over
 * together (synack_input_burst), as a device read finds what arrived
 * together; off (frame by frame) by default. */
void sim_host_set_burst_input(sim_host *h, int on);

/* Put a raw frame on `from`'s links as if its stack had sent it (the frame
 * is copied). For tests, traffic generators and middleboxes. */
void sim_inject(sim_host *from, const void *frame, size_t len);

/* ------------------------------------------------------------ links */

typedef struct sim_link_params {
    uint64_t delay_ns;         /* propagation delay                               */
    uint64_t bandwidth_bps;    /* 0 = infinite; else frames serialize in turn     */
    uint32_t queue_bytes;      /* with a bandwidth: the most bytes not yet
                                  serialized (the frame on the wire counts what it
                                  has left) before tail drop; 0 = unlimited       */
    uint32_t mtu;              /* largest IP packet (frame minus 14 bytes); 0 = any */
    uint32_t mtu_icmp_from;    /* a larger IPv4 packet is dropped and, if this is
                                  not 0, answered with ICMP "fragmentation needed"
                                  (RFC 1191, next-hop MTU = mtu) from this address,
                                  as a router on the path would; 0 = silently (a
                                  black hole)                                     */
    uint8_t mtu_icmp_from6[16];/* the same for a larger IPv6 packet: ICMPv6 "packet
                                  too big" (RFC 4443 §3.2, RFC 8201) from this
                                  address; all zero = silently. IPv6 links need an
                                  MTU of 1280 at least (RFC 8200 §5): a stack takes
                                  no path MTU below it                            */
    double loss;               /* probability a frame is lost                     */
    double duplicate;          /* probability a frame is delivered twice          */
    double reorder;            /* probability a frame is held back ...            */
    uint64_t reorder_delay_ns; /* ... by a uniform extra delay up to this         */
    double corrupt;            /* probability one random byte is flipped          */
} sim_link_params;

/* 1 ms delay, infinite bandwidth, MTU 1500, no impairments. */
sim_link_params sim_link_params_default(void);

/* Join a and b by a point-to-point Ethernet link (NULL params = default)
 * and add static ARP entries on both stacks (and ND entries when both
 * have IPv6). A host may have several links; a frame goes out on the link
 * whose far end owns its destination MAC (broadcasts and multicasts go out
 * on every link). Returns 0, or -1 on allocation failure. */
int sim_link(sim *s, sim_host *a, sim_host *b, const sim_link_params *a_to_b,
             const sim_link_params *b_to_a);

/* Change the parameters of the direction from -> to (of the first link
 * joining them), from now on. Frames already in flight keep their fate.
 * Returns 0, or -1 if no link joins them. */
int sim_link_set(sim *s, const sim_host *from, const sim_host *to, const sim_link_params *p);
/* Current parameters of the direction from -> to; NULL if no link. */
const sim_link_params *sim_link_get(const sim *s, const sim_host *from, const sim_host *to);

/* ------------------------------------------------------------ NAT */

/*
 * A NAT box (NAPT, RFC 3022 / RFC 4787 terms): many inside hosts share the
 * box's one outside address. It is a sim_host without a stack; join it to
 * inside hosts and to the outside world with sim_link as usual. Inside hosts
 * use the box's inside address as their gateway (their config's `gateway`;
 * sim_link adds ARP entries for both of the box's addresses).
 *
 * IPv4 and TCP only: NAT is an IPv4 artefact (IPv6 has addresses enough, and
 * NAT66 is rare), so an IPv6 frame reaching the box is dropped and counted
 * (dropped_ipv6), never rewritten. Outgoing segments from an inside (ip,
 * port) get a mapping to an outside port, endpoint-independent (one mapping per inside endpoint,
 * whatever the destination); the source address and port are rewritten and
 * the checksums recomputed. Incoming segments to the outside address follow
 * the mapping back; with none they are dropped. A mapping unused for
 * `mapping_timeout_ns` expires (checked lazily; no timers). Frames go to the
 * linked host whose address is the destination (no further routing).
 */
typedef struct sim_nat_params {
    uint32_t inside_ip;           /* the box's address on the inside links    */
    uint8_t inside_prefix_len;    /* inside subnet (24)                       */
    int preserve_ports;           /* keep the inside source port when free    */
    uint16_t port_lo, port_hi;    /* outside ports to allocate (1024..65535)  */
    uint64_t mapping_timeout_ns;  /* idle mapping lifetime (300 s)            */
} sim_nat_params;

typedef struct sim_nat_stats {
    uint64_t out_translated, in_translated;
    uint64_t in_no_mapping;       /* incoming with no (live) mapping: dropped  */
    uint64_t dropped_other;       /* not TCP/IPv4, no route, ports exhausted   */
    uint64_t dropped_ipv6;        /* IPv6 frames (ND included): not translated */
    uint64_t mappings_created, mappings_expired;
    uint64_t port_collisions;     /* preserve_ports wanted a port in use       */
    uint32_t mappings_active;
} sim_nat_stats;

/* Defaults: inside 192.168.1.1/24, ports 1024..65535 (not preserved), 300 s. */
sim_nat_params sim_nat_params_default(void);
/* Add a NAT box whose outside address is `outside_ip`. NULL on failure. */
sim_host *sim_add_nat(sim *s, const char *name, uint32_t outside_ip, const sim_nat_params *p);
/* 1 if `h` is a NAT box. */
int sim_host_is_nat(const sim_host *h);
uint32_t sim_nat_inside_ip(const sim_host *nat);
const sim_nat_stats *sim_nat_get_stats(const sim_host *nat);

/* ------------------------------------------------------------ scheduling */

typedef void (*sim_fn)(void *ctx);

/* Run fn(ctx) at virtual time t (now if t is in the past). Before fn runs,
 * every stack is polled at t, so socket calls made by fn act at time t.
 * Returns 0, or -1 on allocation failure. */
int sim_at(sim *s, uint64_t t, sim_fn fn, void *ctx);
/* Same, but only `h`'s stack is polled first (cheaper with many hosts). */
int sim_at_host(sim_host *h, uint64_t t, sim_fn fn, void *ctx);

/* Earliest time anything is pending (event or stack deadline), or
 * UINT64_MAX when nothing is. */
uint64_t sim_next_time(const sim *s);

/* Do the earliest pending thing. Returns 1, or 0 when nothing at all is
 * pending (the clock does not move). */
int sim_step(sim *s);

/* Run everything due up to and including t, then set the clock to t. */
void sim_run_until(sim *s, uint64_t t);

/* Step while pred(ctx) is true and something is pending no later than
 * `deadline`. Returns 1 when pred turned false, 0 when it is still true
 * (deadline reached or nothing left to do). */
int sim_run_while(sim *s, int (*pred)(void *ctx), void *ctx, uint64_t deadline);

/* Run until nothing at all is pending or the clock would pass `deadline`.
 * Returns 1 if the world went idle, 0 if the deadline stopped it. */
int sim_run_idle(sim *s, uint64_t deadline);

/* ------------------------------------------------------------ observers */

typedef enum sim_trace_kind {
    SIM_TRACE_STACK = 1, /* a stack trace event (st.ev)                        */
    SIM_TRACE_LINK,      /* something happened to a frame on a link (st.link_*) */
} sim_trace_kind;

typedef enum sim_link_event {
    SIM_LINK_SEND = 1,   /* frame put on the link (arrival_ns says when it lands) */
    SIM_LINK_LOSS,       /* frame put on the link, then lost                       */
    SIM_LINK_DUPLICATE,  /* a second copy will arrive at arrival_ns                */
    SIM_LINK_CORRUPT,    /* one byte flipped (frame shows the corrupted bytes)     */
    SIM_LINK_REORDER,    /* held back; arrives at arrival_ns                       */
    SIM_LINK_DROP_MTU,   /* larger than the link MTU; never sent                   */
    SIM_LINK_DROP_QUEUE, /* tail-dropped: the send queue was full                  */
    SIM_LINK_NO_ROUTE,   /* no link leads to the destination MAC                   */
} sim_link_event;

const char *sim_link_event_name(int ev);

/* Why a stack was running when it emitted something. */
typedef enum sim_origin {
    SIM_ORIGIN_NONE = 0, /* outside any simulator call (setup code)          */
    SIM_ORIGIN_INPUT,    /* a frame was being delivered (synack_input)        */
    SIM_ORIGIN_POLL,     /* timers were being run (synack_poll)               */
    SIM_ORIGIN_APP,      /* a sim_at callback or a socket event handler       */
} sim_origin;

/* What could be read from a frame's Ethernet, IPv4 or IPv6 (through its
 * extension headers), and TCP or ICMP headers. No checksum is verified, so
 * corrupted frames still get a (possibly odd) summary. */
typedef struct sim_frame_info {
    uint8_t is_ipv4, is_tcp, is_arp;
    uint32_t src_ip, dst_ip;  /* IPv4 only (0 for IPv6: see src, dst)    */
    uint16_t src_port, dst_port;
    synack_seg_info seg;  /* valid when is_tcp */
    uint8_t is_ipv6;
    synack_addr src, dst; /* either family (when is_ipv4 or is_ipv6)     */
    uint8_t is_icmp;      /* ICMP (IPv4) or ICMPv6 (IPv6; Neighbour
                             Discovery included): its type and code     */
    uint8_t icmp_type, icmp_code;
} sim_frame_info;

typedef struct sim_trace {
    sim_trace_kind kind;
    uint64_t time_ns;
    sim_host *host;           /* STACK: the host whose stack traced          */
                              /* LINK: the sending host                      */
    int host_index;
    const char *host_name;
    sim_origin origin;        /* what the host's stack was doing             */
    const synack_trace_event *ev; /* STACK                                   */
    /* LINK */
    sim_link_event link_event;
    sim_host *peer;           /* receiving host (NULL for NO_ROUTE)          */
    const uint8_t *frame;
    size_t len;
    uint64_t arrival_ns;      /* SEND/DUPLICATE/REORDER/CORRUPT: landing time */
    uint64_t frame_id;        /* counts frames handed to links, from 1       */
    sim_frame_info info;
} sim_trace;

typedef void (*sim_trace_fn)(void *ctx, const sim_trace *t);

/* Receive every stack and link event. fn runs from inside synack_* calls:
 * it must not call socket functions. NULL turns tracing off. */
void sim_set_trace(sim *s, sim_trace_fn fn, void *ctx);

/* Write every frame as it is put on any link (before loss or corruption
 * is applied: what the sender sent) to a pcap file, Ethernet link type,
 * nanosecond timestamps from the virtual clock. Replaces any previous file;
 * NULL path closes it. Returns 0, or -1 (errno) if the file can't be made
 * or a write to the previous file failed (so closing with NULL tells
 * whether the whole capture was written). */
int sim_set_pcap(sim *s, const char *path);

/* Parse a frame for a summary (used for link traces; exposed for tools). */
void sim_frame_parse(const uint8_t *frame, size_t len, sim_frame_info *out);

/* Frames counted by fate, over all links. */
typedef struct sim_stats {
    uint64_t sent, delivered, lost, duplicated, corrupted, reordered;
    uint64_t dropped_mtu, dropped_queue, no_route;
    uint64_t events, polls;
} sim_stats;
const sim_stats *sim_get_stats(const sim *s);

#endif
