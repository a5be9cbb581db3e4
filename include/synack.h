/*
 * synack.h — the whole public API of libsynack, a sans-IO userspace TCP/IP stack.
 *
 * The stack never calls the operating system. The caller hands it frames
 * (synack_input), time (every call that needs it takes `now_ns`, a monotonic
 * time in nanoseconds of the caller's choosing) and randomness (a hook), and
 * receives frames through an output hook. Many stacks may live in one
 * process; they share nothing.
 *
 * Conventions:
 *  - IPv4 addresses and ports are passed in host byte order.
 *  - Functions returning int return 0 (or a non-negative count) on success
 *    and a negative errno-style code (-EAGAIN, -ECONNREFUSED, ...) on error.
 *  - Socket calls use the time of the latest synack_input/synack_poll call.
 *  - The output hook must not call into its own stack (a frame it is
 *    handed lives in the stack's scratch buffer): queue the frame and
 *    deliver it after the call returns. A call made from inside the hook is
 *    caught: an assertion fails (builds without NDEBUG); with NDEBUG the
 *    call does nothing, returns -EDEADLK where it returns a value, and
 *    counts StackReenteredFromOutput.
 *  - Hooks may be called from inside any synack_* call. Socket events
 *    (synack_event_fn) are delivered only at the end of synack_input,
 *    synack_poll and the socket calls, when the stack is consistent, so an
 *    event handler may call any socket function, including synack_close.
 */
#ifndef SYNACK_H
#define SYNACK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h> /* ssize_t */

#ifdef __cplusplus
extern "C" {
#endif

typedef struct synack_stack synack_stack;
typedef struct synack_sock synack_sock;
typedef struct synack_udp synack_udp;

/* ---------------------------------------------------------------- states */

/* RFC 9293 §3.3.2, in the RFC's order. */
typedef enum synack_state {
    SYNACK_CLOSED = 0,
    SYNACK_LISTEN,
    SYNACK_SYN_SENT,
    SYNACK_SYN_RECEIVED,
    SYNACK_ESTABLISHED,
    SYNACK_FIN_WAIT_1,
    SYNACK_FIN_WAIT_2,
    SYNACK_CLOSE_WAIT,
    SYNACK_CLOSING,
    SYNACK_LAST_ACK,
    SYNACK_TIME_WAIT,
    SYNACK_STATE_COUNT
} synack_state;

/* "ESTABLISHED", "FIN-WAIT-1", ... as the RFC spells them; "?" if out of range. */
const char *synack_state_name(int state);

/* --------------------------------------------------------- configuration */

/* The sysctl-like knobs. Names and defaults follow Linux's net.ipv4.* so a
 * user meets what they know; synack_config_init fills in the defaults. */
typedef struct synack_sysctl {
    uint32_t ip_local_port_range[2]; /* 32768 60999: ephemeral ports          */
    uint32_t ip_default_ttl;         /* 64                                    */
    uint32_t ipfrag_high_thresh;     /* 4194304: bytes all IPv4 datagrams being
                                        reassembled may hold; beyond, fragments
                                        are dropped (IpReasmFails)             */
    uint32_t ipfrag_time;            /* 30 s: a datagram not reassembled by then is
                                        dropped (IpReasmTimeout)               */
    uint32_t ip6frag_high_thresh;    /* 4194304: the same for IPv6 (net.ipv6.*;
                                        Ip6ReasmFails)                         */
    uint32_t ip6frag_time;           /* 60 s: the same for IPv6 (Ip6ReasmTimeout) */
    uint32_t dad_transmits;          /* 1: Duplicate Address Detection probes sent
                                        for each IPv6 address, a second apart, before
                                        it is used (RFC 4862 §5.4; Linux's
                                        net.ipv6.conf.all.dad_transmits); 0: none,
                                        the addresses are used at once. Only on
                                        Ethernet links                         */
    uint32_t tcp_syn_retries;        /* 6: SYN retransmissions before ETIMEDOUT */
    uint32_t tcp_synack_retries;     /* 5: SYN-ACK retransmissions             */
    uint32_t tcp_retries2;           /* 15: data retransmissions before ETIMEDOUT */
    uint32_t tcp_orphan_retries;     /* 0 (= 8): retransmissions and window probes of an
                                        orphan (closed by the application) before it is
                                        dropped, answered probes included             */
    uint32_t tcp_max_orphans;        /* 65536: orphans beyond it are reset at close   */
    uint32_t tcp_max_connections;    /* 0: no cap; else connections (half-open ones
                                        included) a stack holds; beyond, connect says
                                        -ENOBUFS and SYNs are dropped (synack's own) */
    uint32_t tcp_fin_timeout;        /* 60 s: orphaned FIN-WAIT-2 lifetime     */
    uint32_t tcp_msl;                /* 30000 ms: TIME-WAIT lasts 2 x MSL      */
    uint32_t tcp_timestamps;         /* 1: RFC 7323 timestamps, random offset per
                                        connection; 2: without offsets; 0: off */
    uint32_t tcp_window_scaling;     /* 1: RFC 7323 window scale               */
    uint32_t tcp_sack;               /* 1: RFC 2018 SACK-permitted             */
    uint32_t tcp_rmem[3];            /* 4096 131072 6291456: receive buffer    */
    uint32_t tcp_wmem[3];            /* 4096 16384 4194304: send buffer        */
    uint32_t tcp_mem[3];             /* 196608 262144 393216 pages of 4 KiB, all
                                        buffers together: no growth from [0] on,
                                        pressure above [1] (until below [0]), and
                                        above [2] only tcp_rmem/wmem[0] per ring */
    uint32_t tcp_max_syn_backlog;    /* 4096: cap on any listener's SYN queue  */
    uint32_t tcp_syncookies;         /* 1: SYN cookies when a listener's SYN queue (its
                                        backlog) is full; 2: always; 0: never (drop) */
    uint32_t somaxconn;              /* 4096: cap on any listen() backlog      */
    uint32_t tcp_challenge_ack_limit;/* 1000: challenge ACKs per second, on average:
                                        each second allows a random number in
                                        [limit/2, 3 limit/2) (RFC 5961 §7; random,
                                        as Linux since CVE-2016-5696)          */
    uint32_t tcp_rto_min_ms;         /* 200: Linux's RTO floor (RFC 6298 says 1 s) */
    uint32_t tcp_rto_max_ms;         /* 120000                                 */
    uint32_t tcp_rto_initial_ms;     /* 1000 (RFC 6298 §2.1)                   */
    uint32_t tcp_base_mss;           /* 536: MSS assumed when the peer sends none */
    uint32_t tcp_max_ooo_segments;   /* 32: out-of-order ranges held per connection */
    uint32_t icmp_msgs_per_sec;      /* 1000: ICMP errors we may send per second ... */
    uint32_t icmp_msgs_burst;        /* 50: ... and at most this many at once (Linux) */
    uint32_t tcp_mtu_probing;        /* 0: off (Linux's default); 1, 2: black-hole
                                        detection: after 3 timeouts of the same data
                                        the segment size halves (icmp_error.c) */
    uint32_t tcp_rfc1337;            /* 0: a RST ends TIME-WAIT; 1: ignored (RFC 1337) */
    /* TIME-WAIT (src/tcp/timewait.c; docs/lifecycle.md explains each). */
    uint32_t tcp_max_tw_buckets;     /* 262144: TIME-WAIT entries; beyond, TIME-WAIT is skipped */
    uint32_t tcp_tw_reuse;           /* 2: 0 off, 1 on, 2 only to our own addresses (loopback) */
    uint32_t tcp_tw_reuse_delay;     /* 1000 ms since the entry's last timestamp before reuse */
    uint32_t tcp_tw_recycle;         /* 0: pre-4.12 Linux recycle; HARMFUL behind NAT (removed in 4.12) */
    uint32_t tcp_invalid_ratelimit;  /* 500 ms between challenge ACKs of one connection, and
                                        between duplicate ACKs a TIME-WAIT entry sends */
    char tcp_congestion_control[16]; /* "cubic" (RFC 9438, Linux's default) or "reno" */
    uint32_t tcp_delack_ms;          /* 40: longest ACK delay (Linux's TCP_DELACK_MIN); 0 = off */
    uint32_t tcp_max_quickacks;      /* 16: quick ACKs (every segment at once) at a connection's
                                        first data and after a silence longer than the RTO,
                                        at most this many (Linux's TCP_MAX_QUICKACKS); 0 = off */
    uint32_t tcp_keepalive_time;     /* 7200 s of silence before the first probe */
    uint32_t tcp_keepalive_intvl;    /* 75 s between probes                    */
    uint32_t tcp_keepalive_probes;   /* 9 unanswered probes end the connection */
    uint32_t tcp_recovery;           /* 1: loss detection, Linux's bits: 0x1 RACK (RFC 8985:
                                        per-segment send times, a reordering window, a
                                        reordering timer), 0x2 a static reordering window
                                        (no DSACK adaptation); 0: RFC 6675's DupThresh */
} synack_sysctl;

/* Link type of the interface: Ethernet frames (TAP, simulator) or bare IPv4
 * packets (TUN). */
enum { SYNACK_LINK_ETHERNET = 0, SYNACK_LINK_IP = 1 };

typedef struct synack_trace_event synack_trace_event;

enum { SYNACK_AF_INET = 4, SYNACK_AF_INET6 = 6 };

/* An IPv4 or IPv6 address. IPv4 is a host-byte-order number, as everywhere
 * else in this API; IPv6 is its 16 bytes in network order. */
typedef struct synack_addr {
    uint8_t family;          /* SYNACK_AF_INET or SYNACK_AF_INET6 */
    union {
        uint32_t v4;
        uint8_t v6[16];
    };
} synack_addr;

/* A piece of memory: a frame's part (output_v), or of a socket's buffer
 * (the zero-copy calls). The same members as struct iovec. */
typedef struct synack_iov {
    void *base;
    size_t len;
} synack_iov;

/* Memory. Every allocation the stack makes goes through these three hooks
 * when they are set (all three, or none: then libc's), so an embedder can
 * use pools or static memory. `ctx` is passed back to each. The stack
 * handles every failure: a call returns -ENOMEM, or a segment is dropped
 * and counted (TcpExtTCPMemoryPressures, ...). */
typedef struct synack_allocator {
    void *(*malloc)(void *ctx, size_t size);
    void *(*realloc)(void *ctx, void *ptr, size_t size);
    void (*free)(void *ctx, void *ptr);
    void *ctx;
} synack_allocator;

/* Hooks. `ctx` is the pointer given with the hook in the config. */
/* Send one frame. The frame is only valid during the call, and the hook
 * must not call into the same stack (see the conventions above). */
typedef void (*synack_output_fn)(void *ctx, const void *frame, size_t len);
/* Send one frame of `len` bytes given as `n` pieces (2 to 3): the first
 * holds every header, the rest are a TCP segment's payload where it lies in
 * the send buffer, so a device that can gather (writev) sends it with no
 * copy in the stack. Valid during the call only; the same rules as output. */
typedef void (*synack_output_v_fn)(void *ctx, const synack_iov *v, int n, size_t len);
/* Fill `buf` with `len` unpredictable bytes (ISN secrets, ports, hash keys). */
typedef void (*synack_random_fn)(void *ctx, void *buf, size_t len);
/* Receive one trace event; only valid during the call. */
typedef void (*synack_trace_fn)(void *ctx, const synack_trace_event *ev);
/* Socket readiness: `events` is a mask of SYNACK_EV_*. */
typedef void (*synack_event_fn)(void *ctx, synack_sock *sock, unsigned events);
/* Direct delivery (SYNACK_TCP_DIRECT_DATA): in-order data, where it lies
 * in the frame being processed; return how many of the `len` bytes were
 * taken, 0 to len (they count as read; more than len counts as none).
 * Called from inside synack_input: of the synack functions it may call only
 * synack_sock_get_user. */
typedef size_t (*synack_data_fn)(void *ctx, synack_sock *sock, const void *data, size_t len);
/* UDP socket readiness: SYNACK_EV_READABLE (a datagram was queued) and
 * SYNACK_EV_ERROR (an error became pending), delivered when TCP's are. */
typedef void (*synack_udp_event_fn)(void *ctx, synack_udp *u, unsigned events);

/* Several stacks, one per thread, sharing one address and one device with
 * several queues (a TAP with IFF_MULTI_QUEUE, a NIC's RSS queues): each
 * frame belongs to the stack that owns its flow (synack_steer_owner), and
 * each stack picks the ephemeral ports of the connections it opens so that
 * they are its own. Every stack of the group gets the same count and key
 * and its own index. count 0 or 1 (the default): one stack, no steering. */
typedef struct synack_steer {
    uint32_t count;          /* stacks in the group                            */
    uint32_t index;          /* this one, 0 .. count - 1                       */
    uint64_t key[2];         /* the group's hash key (random, shared)          */
} synack_steer;

typedef struct synack_config {
    int link;                /* SYNACK_LINK_ETHERNET (default) or SYNACK_LINK_IP */
    uint8_t mac[6];          /* our MAC (Ethernet links)                        */
    uint32_t ip;             /* our IPv4 address                                */
    uint8_t prefix_len;      /* subnet prefix length (24)                       */
    uint32_t gateway;        /* next hop for other subnets; 0 = none            */
    uint8_t ip6[16];         /* our IPv6 address; all zero (default) = no IPv6.
                                With one, the stack also has the link-local
                                address made from its MAC (RFC 4291 app. A),
                                checks both are unique on the link first
                                (dad_transmits), resolves neighbours and
                                answers ICMPv6 echo and neighbour
                                solicitations for both. TCP runs on this
                                address (not on the link-local one)           */
    uint8_t prefix6_len;     /* its prefix length (64): destinations inside it,
                                and link-local ones, are on the link (resolved
                                by Neighbour Discovery)                        */
    uint8_t gateway6[16];    /* IPv6 next hop for other destinations, on the link
                                (usually a router's link-local address); all
                                zero (default) = none                         */
    uint32_t mtu;            /* IP MTU (1500)                                   */
    int checksum_offload;    /* 1: the device guarantees integrity (an in-memory
                                link, loopback), so TCP checksums are neither
                                verified nor computed, as Linux does on lo.
                                Never set it for a real wire. Default 0.        */
    uint32_t gso_max;        /* largest TCP segment (bytes, headers included)
                                the device takes: it segments larger ones itself
                                (TSO/GSO) or hands them whole to a peer that
                                accepts them (an in-memory link, like Linux's lo
                                with GSO+GRO). 0 = segments fit the MTU.         */
    synack_output_fn output; void *output_ctx;   /* required                    */
    synack_output_v_fn output_v; /* optional, with output_ctx: TCP segments with
                                payload go here, as pieces, rather than copied
                                into one buffer for output (not while tracing) */
    synack_random_fn random; void *random_ctx;   /* required                    */
    synack_trace_fn trace;   void *trace_ctx;    /* optional                    */
    synack_event_fn event;   void *event_ctx;    /* optional                    */
    synack_data_fn data;     void *data_ctx;     /* optional: direct delivery to
                                sockets with SYNACK_TCP_DIRECT_DATA            */
    synack_udp_event_fn udp_event; void *udp_event_ctx; /* optional: UDP sockets'   */
    synack_allocator alloc;                      /* optional: all three or none */
    synack_sysctl net;
    synack_steer steer;                          /* optional: see synack_steer  */
} synack_config;

/* Fill `cfg` with defaults: Linux's sysctl values, MTU 1500, /24, Ethernet. */
void synack_config_init(synack_config *cfg);

/* Set a knob by its Linux name, with or without its directory ("net.ipv4.",
 * "net.core.", "net.ipv6.conf.all." or ".default." for dad_transmits), from
 * its text value ("32768 60999" for pairs, three numbers for tcp_rmem).
 * Errors: -ENOENT unknown name, -EINVAL bad value. */
int synack_config_set(synack_config *cfg, const char *name, const char *value);

/* Write "name = value" lines for every knob into `buf` (like `sysctl -a`).
 * Returns the length it needed (snprintf-style). */
size_t synack_config_dump(const synack_config *cfg, char *buf, size_t size);

/* ------------------------------------------------------------ the stack */

/* Create a stack. Copies `cfg`. Returns NULL when `cfg` lacks the output or
 * random hook, or on allocation failure. `now_ns` seeds the stack's clock. */
synack_stack *synack_stack_new(const synack_config *cfg, uint64_t now_ns);

/* Free a stack and every socket in it, without sending anything. Handles
 * the application still holds become invalid. NULL is ignored. */
void synack_stack_free(synack_stack *s);

/* Hand the stack one received frame (Ethernet or IP per cfg.link). The stack
 * does not keep the pointer. Malformed frames are dropped and counted. */
void synack_input(synack_stack *s, const void *frame, size_t len, uint64_t now_ns);

/* Hand the stack `n` frames that arrived together (a device read that found
 * several waiting). The same as synack_input on each in turn, except that a
 * connection's in-order data earns one ACK for the burst (up to 64 KiB of
 * it), sent at the end, as Linux acknowledges a GRO-merged run of segments:
 * a reader that drains 64 full frames answers with two ACKs, not 32. Duplicate
 * ACKs, a filled hole and the quick ACKs of a young connection still go at
 * once. Events are delivered at the end of the burst. */
void synack_input_burst(synack_stack *s, const void *const *frames, const size_t *lens, size_t n,
                        uint64_t now_ns);

/* Run every timer due at `now_ns` (retransmission, TIME-WAIT, ...). */
void synack_poll(synack_stack *s, uint64_t now_ns);

/* The earliest time synack_poll has work to do; UINT64_MAX if none. */
uint64_t synack_next_deadline(const synack_stack *s);

/* Which stack of a steered group owns a received frame (Ethernet or IP
 * per `link`): its index, or SYNACK_STEER_ALL for a frame every stack must
 * see (ARP replies, neighbour advertisements, router advertisements). The
 * hash is symmetric, so both directions of a flow name the same stack. TCP
 * is steered by addresses and ports; UDP, ICMP and fragments by addresses
 * only (as NICs' RSS does for UDP by default), so a datagram's fragments
 * meet in one stack; an ICMP error goes where the flow it quotes goes. ARP
 * requests and neighbour solicitations go to stack 0, which answers them;
 * frames too short or malformed to tell go to stack 0 too, which drops and
 * counts them. A TCP segment that arrives in fragments (never from Linux,
 * which sets DF) is reassembled by the addresses' owner and dropped there
 * (SYNACK_DROP_STEER_FOREIGN) unless the flow is its own. */
#define SYNACK_STEER_ALL (-1)
int synack_steer_owner(const synack_steer *st, int link, const void *frame, size_t len);
/* The same for a flow named by its ends: protocol `proto` (6 TCP, which
 * alone goes by ports too; 17 UDP, ...) between a:aport and b:bport, in
 * either order. For placing a socket that is not opened by an ephemeral
 * port pick in the member its flow belongs to. */
int synack_steer_flow(const synack_steer *st, int proto, const synack_addr *a, uint16_t aport,
                      const synack_addr *b, uint16_t bport);

/* Add a static ARP entry (Ethernet links). Saves resolution in simulations.
 * Errors: -ENOMEM. */
int synack_arp_add(synack_stack *s, uint32_t ip, const uint8_t mac[6]);
/* The same for either family: ARP for an IPv4 address, Neighbour Discovery's
 * table for an IPv6 one (a static entry is never solicited nor expires).
 * Errors: -EINVAL for another family, -ENOMEM. */
int synack_neigh_add(synack_stack *s, const synack_addr *addr, const uint8_t mac[6]);

/* Announce our address with a gratuitous ARP request (RFC 5227 §3: sender
 * and target address both ours, to the broadcast address), so neighbours
 * update their caches at once. A device runner calls it at start. Does
 * nothing on SYNACK_LINK_IP links. */
void synack_arp_announce(synack_stack *s, uint64_t now_ns);

/* The state of one of the stack's IPv6 addresses (cfg.ip6 and the
 * link-local one made from the MAC), RFC 4862 §5.4: TENTATIVE while
 * Duplicate Address Detection runs (not used, and packets to it are not
 * taken), PREFERRED once it passed (or with dad_transmits 0, or on an IP
 * link), DUPLICATE when another node on the link has it (never used;
 * Ip6DadFailures counts it). NONE: not an address of this stack. */
enum {
    SYNACK_ADDR6_NONE = 0,
    SYNACK_ADDR6_TENTATIVE,
    SYNACK_ADDR6_PREFERRED,
    SYNACK_ADDR6_DUPLICATE,
};
int synack_addr6_state(const synack_stack *s, const uint8_t addr[16]);

/* The stack's sockets and buffer memory now, like the TCP and FRAG lines of
 * Linux's /proc/net/sockstat (and FRAG6 of /proc/net/sockstat6). */
typedef struct synack_sockstat {
    uint32_t inuse;        /* connections in the table (half-open included) */
    uint32_t orphan;       /* closed by the application, still finishing    */
    uint32_t tw;           /* TIME-WAIT entries                             */
    uint64_t mem_bytes;    /* capacity of all send and receive buffers      */
    uint64_t mem_pages;    /* the same in 4 KiB pages, as tcp_mem counts it */
    int memory_pressure;   /* 1: above tcp_mem[1] and not yet below tcp_mem[0] */
    uint32_t frag_inuse;   /* IPv4 datagrams being reassembled (Linux's FRAG line) */
    uint64_t frag_memory;  /* bytes they hold, counted against ipfrag_high_thresh */
    uint32_t frag6_inuse;  /* IPv6 datagrams being reassembled (the FRAG6 line of
                              /proc/net/sockstat6) */
    uint64_t frag6_memory; /* bytes they hold, counted against ip6frag_high_thresh */
} synack_sockstat;
void synack_get_sockstat(const synack_stack *s, synack_sockstat *out);

/* Entries in the stack's TIME-WAIT table now (each under 64 bytes; the
 * connections themselves are freed on entering TIME-WAIT). */
uint32_t synack_time_wait_count(const synack_stack *s);
/* Bytes one TIME-WAIT entry takes (the record; its hash slot is 4 more). */
size_t synack_time_wait_entry_size(void);

/* The stack's configuration as it is in force. */
const synack_config *synack_stack_config(const synack_stack *s);

/* ------------------------------------------------------------ counters */

/* Every reason a frame or segment is refused has a counter, named like
 * Linux's nstat names where one exists. X(identifier, "NstatName"). */
#define SYNACK_COUNTERS(X)                                              \
    X(in_frames, "InFrames")                                            \
    X(reentered_calls, "StackReenteredFromOutput")                      \
    X(out_frames, "OutFrames")                                          \
    X(eth_truncated, "EthInTruncated")                                  \
    X(eth_not_for_us, "EthInOtherHost")                                 \
    X(eth_unknown_type, "EthInUnknownType")                             \
    X(arp_malformed, "ArpInMalformed")                                  \
    X(arp_requests_answered, "ArpOutReplies")                           \
    X(arp_requests_sent, "ArpOutRequests")                              \
    X(arp_unresolved_drops, "ArpUnresolvedDrops")                       \
    X(arp_resolve_failed, "ArpResolveFailed")                           \
    X(ip_in_receives, "IpInReceives")                                   \
    X(ip_in_hdr_errors, "IpInHdrErrors")                                \
    X(ip_in_csum_errors, "IpInCsumErrors")                              \
    X(ip_in_addr_errors, "IpInAddrErrors")                              \
    X(ip_in_martians, "IpExtInMartianSrc")                              \
    X(ip_in_truncated, "IpInTruncatedPkts")                             \
    X(ip_reasm_reqds, "IpReasmReqds")                                   \
    X(ip_reasm_oks, "IpReasmOKs")                                       \
    X(ip_reasm_fails, "IpReasmFails")                                   \
    X(ip_reasm_timeout, "IpReasmTimeout")                               \
    X(ip_reasm_overlaps, "IpExtReasmOverlaps")                          \
    X(ip_in_unknown_protos, "IpInUnknownProtos")                        \
    X(ip_out_no_routes, "IpOutNoRoutes")                                \
    X(ip_out_too_big, "IpOutTooBig")                                    \
    X(ip_frag_oks, "IpFragOKs")                                         \
    X(ip_frag_fails, "IpFragFails")                                     \
    X(ip_frag_creates, "IpFragCreates")                                 \
    X(ip6_in_receives, "Ip6InReceives")                                 \
    X(ip6_in_hdr_errors, "Ip6InHdrErrors")                              \
    X(ip6_in_addr_errors, "Ip6InAddrErrors")                            \
    X(ip6_in_unknown_protos, "Ip6InUnknownProtos")                      \
    X(ip6_out_requests, "Ip6OutRequests")                               \
    X(ip6_reasm_reqds, "Ip6ReasmReqds")                                 \
    X(ip6_reasm_oks, "Ip6ReasmOKs")                                     \
    X(ip6_reasm_fails, "Ip6ReasmFails")                                 \
    X(ip6_reasm_timeout, "Ip6ReasmTimeout")                             \
    X(ip6_reasm_overlaps, "Ip6ReasmOverlaps")                           \
    X(ip6_frag_oks, "Ip6FragOKs")                                       \
    X(ip6_frag_fails, "Ip6FragFails")                                   \
    X(ip6_frag_creates, "Ip6FragCreates")                               \
    X(icmp6_in_msgs, "Icmp6InMsgs")                                     \
    X(icmp6_in_errors, "Icmp6InErrors")                                 \
    X(icmp6_in_csum_errors, "Icmp6InCsumErrors")                        \
    X(icmp6_in_neigh_solicits, "Icmp6InNeighborSolicits")               \
    X(icmp6_out_neigh_adverts, "Icmp6OutNeighborAdvertisements")        \
    X(icmp6_out_echo_replies, "Icmp6OutEchoReplies")                    \
    X(icmp6_out_time_excds, "Icmp6OutTimeExcds")                        \
    X(icmp6_out_parm_problems, "Icmp6OutParmProblems")                  \
    X(icmp6_in_neigh_adverts, "Icmp6InNeighborAdvertisements")          \
    X(icmp6_out_neigh_solicits, "Icmp6OutNeighborSolicits")             \
    X(ip6_out_no_routes, "Ip6OutNoRoutes")                              \
    X(ip6_dad_failures, "Ip6DadFailures")                               \
    X(nd_unresolved_drops, "NdUnresolvedDrops")                         \
    X(nd_resolve_failed, "NdResolveFailed")                             \
    X(icmp_in_msgs, "IcmpInMsgs")                                       \
    X(icmp_in_errors, "IcmpInErrors")                                   \
    X(icmp_in_csum_errors, "IcmpInCsumErrors")                          \
    X(icmp_out_echo_reps, "IcmpOutEchoReps")                            \
    X(icmp_in_dest_unreachs, "IcmpInDestUnreachs")                      \
    X(icmp_in_time_excds, "IcmpInTimeExcds")                            \
    X(icmp_in_parm_probs, "IcmpInParmProbs")                            \
    X(icmp6_in_dest_unreachs, "Icmp6InDestUnreachs")                    \
    X(icmp6_in_pkt_too_bigs, "Icmp6InPktTooBigs")                       \
    X(icmp6_in_time_excds, "Icmp6InTimeExcds")                          \
    X(icmp6_in_parm_problems, "Icmp6InParmProblems")                    \
    X(ip6_in_delivers, "Ip6InDelivers")                                 \
    X(icmp_out_time_excds, "IcmpOutTimeExcds")                          \
    X(icmp_out_rate_limited, "IcmpOutRateLimitGlobal")                  \
    X(tcp_in_segs, "TcpInSegs")                                         \
    X(tcp_out_segs, "TcpOutSegs")                                       \
    X(tcp_in_errs, "TcpInErrs")                                         \
    X(tcp_in_csum_errors, "TcpInCsumErrors")                            \
    X(tcp_in_bad_options, "TcpExtTCPBadOptions")                        \
    X(tcp_retrans_segs, "TcpRetransSegs")                               \
    X(tcp_out_rsts, "TcpOutRsts")                                       \
    X(tcp_active_opens, "TcpActiveOpens")                               \
    X(tcp_passive_opens, "TcpPassiveOpens")                             \
    X(tcp_attempt_fails, "TcpAttemptFails")                             \
    X(tcp_estab_resets, "TcpEstabResets")                               \
    X(tcp_no_port, "TcpExtTCPNoPort")                                   \
    X(tcp_listen_overflows, "TcpExtListenOverflows")                    \
    X(tcp_listen_drops, "TcpExtListenDrops")                            \
    X(tcp_syncookies_sent, "TcpExtSyncookiesSent")                      \
    X(tcp_syncookies_recv, "TcpExtSyncookiesRecv")                      \
    X(tcp_syncookies_failed, "TcpExtSyncookiesFailed")                  \
    X(tcp_challenge_acks, "TcpExtTCPChallengeACK")                      \
    X(tcp_challenge_ack_limited, "TcpExtTCPChallengeACKLimited")        \
    X(tcp_challenge_ack_skipped, "TcpExtTCPACKSkippedChallenge")        \
    X(tcp_syn_challenge, "TcpExtTCPSYNChallenge")                       \
    X(tcp_rst_out_of_window, "TcpExtTCPRstOutOfWindow")               \
    X(tcp_ack_unsent_data, "TcpExtTCPACKSkippedUnsentData")             \
    X(tcp_old_ack, "TcpExtTCPOldAck")                                   \
    X(tcp_out_of_window, "TcpExtTCPOutOfWindow")                        \
    X(tcp_ofo_queue, "TcpExtTCPOFOQueue")                               \
    X(tcp_ofo_drop, "TcpExtTCPOFODrop")                                 \
    X(tcp_rcv_buf_drop, "TcpExtTCPRcvQDrop")                            \
    X(tcp_timeouts, "TcpExtTCPTimeouts")                                \
    X(tcp_fast_retrans, "TcpExtTCPFastRetrans")                         \
    X(tcp_abort_on_timeout, "TcpExtTCPAbortOnTimeout")                  \
    X(tcp_abort_on_close, "TcpExtTCPAbortOnClose")                      \
    X(tcp_abort_on_data, "TcpExtTCPAbortOnData")                        \
    X(tcp_abort_on_memory, "TcpExtTCPAbortOnMemory")                    \
    X(tcp_conn_limit_drops, "TcpExtConnectionLimitDrops")               \
    X(tcp_fin_timeouts, "TcpExtTCPFinTimeouts")                         \
    X(tcp_time_waited, "TcpExtTW")                                      \
    X(tcp_tw_fin_reacked, "TcpExtTWFinReAcked")                         \
    X(tcp_tw_kill_rst, "TcpExtTWKilled")                                \
    X(tcp_tw_overflow, "TcpExtTCPTimeWaitOverflow")                     \
    X(tcp_tw_recycled, "TcpExtTWRecycled")                              \
    X(tcp_tw_shortened, "TcpExtTWRecycleShortened")                     \
    X(tcp_tw_syn_reopen, "TcpExtTWSynReopen")                           \
    X(tcp_tw_paws_rejected, "TcpExtTWPAWSRejected")                     \
    X(tcp_tw_ack_skipped, "TcpExtTCPACKSkippedTimeWait")                \
    X(tcp_paws_passive, "TcpExtPAWSPassive")                            \
    X(tcp_no_memory, "TcpExtSynackNoMemory")                            \
    X(tcp_memory_pressures, "TcpExtTCPMemoryPressures")                 \
    X(tcp_ofo_pruned, "TcpExtOfoPruned")                                \
    X(tcp_out_of_window_icmps, "TcpExtOutOfWindowIcmps")                \
    X(tcp_pmtu_reduced, "TcpExtSynackPMTUReduced")                      \
    X(tcp_pmtu_black_hole, "TcpExtSynackPMTUBlackHole")                 \
    X(tcp_paws_estab, "TcpExtPAWSEstab")                                \
    X(tcp_sack_recovery, "TcpExtTCPSackRecovery")                       \
    X(tcp_sack_reneging, "TcpExtTCPSACKReneging")                       \
    X(tcp_dsack_sent, "TcpExtTCPDSACKOldSent")                          \
    X(tcp_delayed_acks, "TcpExtDelayedACKs")                            \
    X(tcp_keepalive_probes, "TcpExtTCPKeepAlive")                       \
    X(tcp_loss_probes, "TcpExtTCPLossProbes")                           \
    X(tcp_loss_probe_recovery, "TcpExtTCPLossProbeRecovery")           \
    X(tcp_lost_retransmit, "TcpExtTCPLostRetransmit")                  \
    X(tcp_dsack_recv, "TcpExtTCPDSACKRecv")                             \
    X(tcp_sack_reorder, "TcpExtTCPSACKReorder")                         \
    X(tcp_rack_reo_timeouts, "TcpExtSynackRackReoTimeouts")             \
    X(tcp_dsack_undo, "TcpExtTCPDSACKUndo")                             \
    X(udp_in_datagrams, "UdpInDatagrams")                               \
    X(udp_no_ports, "UdpNoPorts")                                       \
    X(udp_in_errors, "UdpInErrors")                                     \
    X(udp_out_datagrams, "UdpOutDatagrams")                             \
    X(udp_rcvbuf_errors, "UdpRcvbufErrors")                             \
    X(udp_in_csum_errors, "UdpInCsumErrors")                            \
    X(udp6_in_datagrams, "Udp6InDatagrams")                             \
    X(udp6_no_ports, "Udp6NoPorts")                                     \
    X(udp6_in_errors, "Udp6InErrors")                                   \
    X(udp6_out_datagrams, "Udp6OutDatagrams")                           \
    X(udp6_rcvbuf_errors, "Udp6RcvbufErrors")                           \
    X(udp6_in_csum_errors, "Udp6InCsumErrors")                          \
    X(icmp_out_dest_unreachs, "IcmpOutDestUnreachs")                    \
    X(icmp6_out_dest_unreachs, "Icmp6OutDestUnreachs")

typedef struct synack_counters {
#define SYNACK_COUNTER_FIELD(id, name) uint64_t id;
    SYNACK_COUNTERS(SYNACK_COUNTER_FIELD)
#undef SYNACK_COUNTER_FIELD
} synack_counters;

/* The stack's counters (live; valid until synack_stack_free). */
const synack_counters *synack_get_counters(const synack_stack *s);
/* Number of counters, and the nstat-style name and value of counter i. */
size_t synack_counter_count(void);
const char *synack_counter_name(size_t i);
uint64_t synack_counter_value(const synack_counters *c, size_t i);

/* --------------------------------------------------------------- tracing */

typedef enum synack_trace_kind {
    SYNACK_TRACE_STATE = 1, /* a connection changed state                 */
    SYNACK_TRACE_SEG_IN,    /* a TCP segment was accepted for processing  */
    SYNACK_TRACE_SEG_OUT,   /* a TCP segment was sent                     */
    SYNACK_TRACE_DROP,      /* a frame or segment was dropped (`cause`)   */
} synack_trace_kind;

/* TCP flag bits as on the wire. */
enum {
    SYNACK_FIN = 0x01, SYNACK_SYN = 0x02, SYNACK_RST = 0x04,
    SYNACK_PSH = 0x08, SYNACK_ACK = 0x10, SYNACK_URG = 0x20,
    SYNACK_ECE = 0x40, SYNACK_CWR = 0x80,
};

/* A summary of one TCP segment, for traces. */
typedef struct synack_seg_info {
    uint32_t seq, ack;
    uint8_t flags;          /* SYNACK_SYN | ...                          */
    uint16_t wnd;           /* raw window field (unscaled)               */
    uint32_t len;           /* payload length                            */
    uint16_t mss;           /* 0 = option absent                         */
    int8_t wscale;          /* -1 = option absent                        */
    uint8_t sack_ok;        /* SACK-permitted present                    */
    uint8_t has_ts;         /* timestamps present                        */
    uint32_t ts_val, ts_ecr;
    uint8_t sack_blocks;    /* number of SACK blocks                     */
    uint32_t sack[4][2];    /* left, right edges                         */
} synack_seg_info;

/* Why a connection changed state, as an enum (for programs) with the text a
 * trace prints (for people). X(NAME, "text"): SYNACK_CAUSE_NAME. */
#define SYNACK_CAUSES(X)                                                \
    X(NONE, "")                                                         \
    X(CONNECT, "connect")                                               \
    X(LISTEN, "listen")                                                 \
    X(SHUTDOWN, "shutdown")                                             \
    X(QUEUED_SHUTDOWN, "queued shutdown")                               \
    X(CLOSE, "close")                                                   \
    X(CLOSE_UNREAD_DATA, "close with unread data")                      \
    X(TOO_MANY_ORPHANS, "close with too many orphans (tcp_max_orphans)")  \
    X(ABORT, "abort")                                                   \
    X(LISTENER_CLOSED, "listener closed")                               \
    X(RCV_SYN, "rcv SYN")                                               \
    X(RCV_SYN_SIMULTANEOUS, "rcv SYN (simultaneous open)")              \
    X(RCV_SYN_ACK, "rcv SYN,ACK")                                       \
    X(RCV_SYN_IN_SYN_RECEIVED, "rcv SYN in SYN-RECEIVED")               \
    X(RCV_ACK, "rcv ACK")                                               \
    X(RCV_ACK_SYNCOOKIE, "rcv ACK (SYN cookie)")                        \
    X(RCV_ACK_OF_FIN, "rcv ACK of FIN")                                 \
    X(RCV_FIN, "rcv FIN")                                               \
    X(RCV_FIN_SIMULTANEOUS, "rcv FIN (simultaneous close)")             \
    X(RCV_RST, "rcv RST")                                               \
    X(DATA_AFTER_CLOSE, "data after close")                             \
    X(LAB_TWO_WAY_HANDSHAKE, "SYN,ACK sent (lab: two-way handshake)")   \
    X(SYN_RETRIES, "SYN retries exhausted")                             \
    X(HOST_UNREACHABLE, "next hop unreachable (no ARP reply)")          \
    X(ICMP_ERROR, "ICMP error (unreachable, prohibited)")               \
    X(SYNACK_RETRIES, "SYN-ACK retries exhausted")                      \
    X(RETRANSMISSIONS, "retransmissions exhausted")                     \
    X(KEEPALIVE_TIMEOUT, "keepalive timeout")                           \
    X(FIN_TIMEOUT, "tcp_fin_timeout")                                   \
    X(TW_TABLE_FULL, "TIME-WAIT table full")                            \
    X(TW_NO_MEMORY, "no memory for TIME-WAIT")                          \
    X(TW_2MSL, "2MSL timeout")                                          \
    X(TW_RECYCLE_TIMEOUT, "TIME-WAIT timeout (recycle, 3.5 x RTO)")     \
    X(TW_RST, "rcv RST in TIME-WAIT")                                   \
    X(TW_REOPENED, "new SYN reopens TIME-WAIT")                         \
    X(TW_REUSED, "reused by a new connection (tcp_tw_reuse)")            \
    X(USER_TIMEOUT, "TCP_USER_TIMEOUT expired")                         \
    X(REFUSED, "SYN refused by the application")                        \
    X(CLOSE_NO_MEMORY, "close without memory for data sent by reference")

/* Why a segment was dropped (or, in TIME-WAIT, an answer held back), like
 * Linux's skb_drop_reason. Each is counted: synack_drop_count. */
#define SYNACK_DROPS(X)                                                 \
    X(NONE, "")                                                         \
    X(TCP_CSUM, "TCP checksum")                                         \
    X(TCP_MALFORMED, "malformed TCP header")                            \
    X(TCP_PORT_ZERO, "TCP port 0")                                      \
    X(LISTEN_QUEUE_FULL, "listen queue full")                           \
    X(SYN_FIN, "SYN with FIN")                                          \
    X(CONNECTION_LIMIT, "tcp_max_connections reached")                  \
    X(ACCEPT_QUEUE_FULL, "accept queue full")                           \
    X(SYN_SENT_BAD_ACK, "unacceptable ACK in SYN-SENT")                 \
    X(PAWS, "PAWS: old timestamp")                                      \
    X(RST_OUT_OF_WINDOW, "RST outside the window")                      \
    X(OUT_OF_WINDOW, "segment outside the window")                      \
    X(NO_ACK, "no ACK")                                                 \
    X(ACK_UNSENT_DATA, "ACK for data never sent")                       \
    X(ACK_TOO_OLD, "ACK too old")                                       \
    X(NO_MEMORY, "no memory")                                           \
    X(TW_RECYCLE_PAWS, "tw_recycle: SYN timestamp older than the peer's last") \
    X(TW_RST_IGNORED, "RST ignored in TIME-WAIT (tcp_rfc1337)")         \
    X(TW_PAWS, "PAWS: timestamp older than TS.Recent (TIME-WAIT)")      \
    X(TW_RST_OUT_OF_WINDOW, "RST outside the window (TIME-WAIT)")       \
    X(TW_ACK_RATELIMITED, "TIME-WAIT ACK rate-limited")                 \
    X(SYN_HELD, "repeated SYN while the application decides")         \
    X(STEER_FOREIGN, "another stack's flow (steering)")

#define SYNACK_CAUSE_ENUM(id, text) SYNACK_CAUSE_##id,
typedef enum synack_cause { SYNACK_CAUSES(SYNACK_CAUSE_ENUM) SYNACK_CAUSE_COUNT } synack_cause;
#undef SYNACK_CAUSE_ENUM
#define SYNACK_DROP_ENUM(id, text) SYNACK_DROP_##id,
typedef enum synack_drop { SYNACK_DROPS(SYNACK_DROP_ENUM) SYNACK_DROP_COUNT } synack_drop;
#undef SYNACK_DROP_ENUM

/* The trace text of a cause or drop reason; "?" if out of range. */
const char *synack_cause_name(int cause);
const char *synack_drop_name(int drop);
/* How many segments the stack dropped for `drop` (0 for an unknown reason). */
uint64_t synack_drop_count(const synack_stack *s, int drop);

struct synack_trace_event {
    synack_trace_kind kind;
    uint64_t time_ns;
    uint32_t conn_id;         /* stable id of the connection; 0 = none      */
    uint32_t local_ip, remote_ip; /* IPv4 endpoints; 0 for an IPv6 connection */
    uint16_t local_port, remote_port;
    synack_addr local_addr, remote_addr; /* the endpoints in either family   */
    int old_state, new_state; /* SYNACK_TRACE_STATE                         */
    int reason;               /* STATE: a synack_cause; DROP: a synack_drop   */
    const char *cause;        /* its text: "rcv SYN,ACK", "2MSL timeout", ...  */
    synack_seg_info seg;      /* SEG_IN / SEG_OUT (and DROP where known)    */
    uint8_t retransmit;       /* SEG_OUT: this segment is a retransmission  */
};

/* ------------------------------------------------------------- sockets */

/* Socket events, delivered to cfg.event. */
enum {
    SYNACK_EV_READABLE = 1u << 0,  /* data or EOF can be read                 */
    SYNACK_EV_WRITABLE = 1u << 1,  /* send buffer has room                    */
    SYNACK_EV_ACCEPT = 1u << 2,    /* a listener has a connection to accept   */
    SYNACK_EV_CONNECTED = 1u << 3, /* an active open completed                */
    SYNACK_EV_ERROR = 1u << 4,     /* an error is pending (synack_sock_error) */
    SYNACK_EV_CLOSED = 1u << 5,    /* the connection reached CLOSED           */
    SYNACK_EV_REFS_DONE = 1u << 6, /* references were released (synack_send_ref) */
};

/* Create a TCP socket (CLOSED). The application owns the handle until it
 * calls synack_close or synack_abort. Returns NULL on allocation failure. */
synack_sock *synack_socket(synack_stack *s);

/* Bind to a local port (0 = choose an ephemeral one at connect).
 * Errors: -EADDRINUSE, -EINVAL (not CLOSED or already bound). */
int synack_bind(synack_sock *k, uint16_t port);
/* Bind to a local address and port. The address picks the families a
 * listener takes and a connection may use: NULL, or "::" without
 * SYNACK_IPV6_V6ONLY, both (synack_bind's default, like Linux's [::]);
 * "0.0.0.0" or our IPv4 address, IPv4 only; "::" with SYNACK_IPV6_V6ONLY,
 * or our IPv6 address, IPv6 only; with SYNACK_IP_TRANSPARENT, any unicast
 * address, the one its connection leaves from (a port there is checked at
 * connect, against the whole 4-tuple). Errors: -EADDRNOTAVAIL for an
 * address the stack does not have, -EADDRINUSE, -EINVAL (already bound). */
int synack_bind_addr(synack_sock *k, const synack_addr *addr, uint16_t port);
/* Port 0 as bind(2) and listen(2) take it: synack_bind_addr with a port of
 * ip_local_port_range that no socket holds, chosen now (a keyed start, then
 * the next free one), where synack_bind_addr(k, addr, 0) leaves the choice
 * to connect. The port is *port. Errors: as synack_bind_addr; -EADDRINUSE
 * when every port of the range is held. */
int synack_bind_any_port(synack_sock *k, const synack_addr *addr, uint16_t *port);

/* Passive open (RFC 9293 §3.10.1): listen with an accept queue of at most
 * `backlog` (capped by somaxconn). Errors: -EINVAL (not bound or not CLOSED). */
int synack_listen(synack_sock *k, int backlog);

/* Take one established connection from a listener's accept queue. The new
 * handle belongs to the caller; it gets SYNACK_EV_WRITABLE, and
 * SYNACK_EV_READABLE if data or the peer's FIN arrived before accept. Returns NULL and sets *err (if non-NULL) to
 * -EAGAIN when the queue is empty, -EINVAL when `k` is not listening. */
synack_sock *synack_accept(synack_sock *k, int *err);

/* ---- accept-any: a relay, a user-space NAT, a test rig that answers for
 * hosts it is not (docs/api.md, "Accept-any"). */

/* Another address of this stack's own (IPv4): ARP and echo are answered
 * for it and every protocol takes packets to it. Up to 8. Errors: -EINVAL
 * (not a unicast address), -EEXIST, -ENOSPC, -EAFNOSUPPORT (IPv6). */
int synack_add_address(synack_stack *s, const synack_addr *addr);
/* A route (up to 16 per family): destinations inside prefix/prefix_len go
 * through `gateway`, a host on our subnet -- or, with gateway NULL or
 * 0.0.0.0 (::), straight to the destination, resolved by ARP or Neighbour
 * Discovery (another subnet on the same wire). The longest matching prefix
 * wins; the connected subnet (IPv6: cfg.ip6's prefix, link-local and
 * multicast destinations) comes first and cfg.gateway (cfg.gateway6) last.
 * An IPv6 gateway is in cfg.ip6's prefix or link-local. Errors: -EINVAL
 * (prefix_len too long, families differ, a multicast gateway), -EEXIST
 * (that prefix has a route), -ENOSPC, -ENETUNREACH (the gateway is not on
 * our subnet or link), -EAFNOSUPPORT (IPv6 on a stack without cfg.ip6). */
int synack_route_add(synack_stack *s, const synack_addr *prefix, uint8_t prefix_len,
                     const synack_addr *gateway);
/* Take packets to every address inside prefix/prefix_len (IPv4 or IPv6)
 * as if they were ours -- except ARP and Neighbour Discovery, so that no
 * neighbour is shadowed: echo is answered from the address pinged, TCP
 * reaches synack_listen_any listeners (a SYN no listener covers is
 * answered with a RST from that address, as its host would). IPv6 takes
 * only global unicast addresses this way: never ::, ::1, link-local,
 * multicast, IPv4-mapped or the stack's own. Up to 8 prefixes per family.
 * Errors: -EINVAL (prefix_len too long), -ENOSPC, -EAFNOSUPPORT. */
int synack_impersonate(synack_stack *s, const synack_addr *prefix, uint8_t prefix_len);

/* synack_listen_any's flags. HOLD_SYN: each SYN is put in the accept queue
 * at once, unanswered (SYN-RECEIVED, no SYN,ACK sent, repeats of it
 * dropped): the application connects onwards first, then answers with
 * synack_accept_confirm or synack_accept_refuse -- so that a refusal
 * beyond the relay is a refusal here, never a handshake that is then reset. */
enum { SYNACK_LISTEN_HOLD_SYN = 1u << 0 };
/* Listen for SYNs to any destination inside prefix/prefix_len (of our
 * addresses or impersonated ones; prefix_len 0: every address of the
 * prefix's family) and any port in [port_lo, port_hi]. A listener bound to a
 * port (synack_listen) is preferred for our own addresses. An accepted
 * connection's local end (synack_sock_addrs) is where its SYN was sent:
 * the original destination. `k` must be a fresh socket (CLOSED, unbound).
 * Errors: -EINVAL. */
int synack_listen_any(synack_sock *k, const synack_addr *prefix, uint8_t prefix_len,
                      uint16_t port_lo, uint16_t port_hi, int backlog, unsigned flags);
/* Answer a held SYN with our SYN,ACK; the connection then opens as any
 * other (SYNACK_EV_CONNECTED when the handshake completes). -EINVAL when
 * `k` is not a held connection. */
int synack_accept_confirm(synack_sock *k);
/* How synack_accept_refuse answers a held SYN. */
typedef enum synack_refuse {
    SYNACK_REFUSE_RST = 0,          /* RST,ACK: "connection refused"        */
    SYNACK_REFUSE_DROP,             /* nothing: the peer times out itself   */
    SYNACK_REFUSE_NET_UNREACH,      /* ICMP destination unreachable, code 0;
                                       ICMPv6: code 0, no route             */
    SYNACK_REFUSE_HOST_UNREACH,     /* ... code 1 (EHOSTUNREACH at the peer);
                                       ICMPv6: code 3, address unreachable  */
    SYNACK_REFUSE_ADMIN_PROHIBITED, /* ... code 13; ICMPv6: code 1          */
} synack_refuse;
/* Refuse a held SYN and release the handle (as synack_close does). The
 * ICMP and ICMPv6 errors come from the stack's own address (IPv6: the one
 * it would send to the peer from), as from a router on the path. -EINVAL
 * when `k` is not held (the handle is then still the caller's). */
int synack_accept_refuse(synack_sock *k, int how);

/* Active open (RFC 9293 §3.10.1): send a SYN to ip:port. Non-blocking: the
 * result arrives as SYNACK_EV_CONNECTED or SYNACK_EV_ERROR.
 * Errors: -EISCONN, -EINVAL (not CLOSED), -EADDRNOTAVAIL (no free port),
 * -EADDRINUSE (bound port already used to that peer), -ENOMEM. */
int synack_connect(synack_sock *k, uint32_t ip, uint16_t port);
/* The same for an address of either family ("[fd00::1]:80" parsed by
 * synack_endpoint_parse). Errors as synack_connect, and -EAFNOSUPPORT for
 * a family the socket is not bound to, -ENETUNREACH for IPv6 on a stack
 * without an IPv6 address. */
int synack_connect_addr(synack_sock *k, const synack_addr *addr, uint16_t port);

/* Queue up to `len` bytes (copied). Returns the count queued (possibly
 * short), or -EAGAIN (buffer full), -ENOTCONN, -EPIPE (send side shut
 * down), or the pending connection error. */
ssize_t synack_send(synack_sock *k, const void *buf, size_t len);

/* Read up to `len` bytes. Returns the count, 0 at end of stream (peer sent
 * FIN), -EAGAIN (nothing yet), -ENOTCONN, or the connection's error
 * (-ECONNRESET, -ETIMEDOUT, -ECONNREFUSED). */
ssize_t synack_recv(synack_sock *k, void *buf, size_t len);

/* Zero-copy variants, for a program that moves bytes between a socket and
 * a descriptor (a relay, a proxy): it reads straight into the send buffer
 * and writes straight from the receive buffer, with readv/writev, instead
 * of through a buffer of its own, in synack_iov pieces. */

/* The send buffer's free space, in one or two pieces (v[1].len is 0 when it
 * does not wrap), growing the buffer as synack_send would. Nothing is sent
 * until synack_send_commit. Returns the free bytes, or the errors of
 * synack_send (-EAGAIN when full, -ENOTCONN, -EPIPE, -ENOMEM, ...). The
 * pieces stay valid until the next call on the socket that is not
 * synack_send_commit. */
ssize_t synack_send_space(synack_sock *k, synack_iov v[2]);
/* The first `n` bytes of that space now hold data: send them, as
 * synack_send would have. Returns n, or -EINVAL (more than the space). */
ssize_t synack_send_commit(synack_sock *k, size_t n);
/* The bytes ready to read, in one or two pieces (v[1].len is 0 when they do
 * not wrap), left in the buffer. Returns their count, or what synack_recv
 * returns when there are none (0 at end of stream, -EAGAIN, errors). Valid
 * until the next call on the socket that is not synack_recv_consume. */
ssize_t synack_recv_view(synack_sock *k, synack_iov v[2]);
/* The first `n` of them were used: drop them, as synack_recv would have
 * after reading them (window updates, buffer tuning). Returns n, or
 * -EINVAL (more than are ready). */
ssize_t synack_recv_consume(synack_sock *k, size_t n);

/* Send by reference (MSG_ZEROCOPY's job): queue up to `len` bytes at buf
 * without copying them; segments are built from them where they lie, and
 * the memory must stay unchanged until the stack releases the reference:
 * when all of its bytes are acknowledged, or when the connection will send
 * nothing more (reset, abort, timeout). Successful calls are numbered from
 * 0; SYNACK_EV_REFS_DONE says that synack_send_refs_done has grown, and
 * every reference below it is released. May be mixed with synack_send and
 * the zero-copy calls: the bytes go out in the order they were queued.
 * Returns the count referenced (less than len when the references would
 * hold more than tcp_wmem[2] bytes, or 512 MiB), 0 for len 0 (no reference
 * taken, no number used), -EAGAIN (64 references outstanding, or that many
 * bytes), -EINVAL (buf NULL), or the errors of synack_send. synack_close
 * copies what is still referenced into the send buffer, so the memory is
 * free when it returns (past tcp_mem's hard limit it resets the connection
 * instead, cause SYNACK_CAUSE_CLOSE_NO_MEMORY; in SYN-SENT nothing was sent
 * and the references are released). */
ssize_t synack_send_ref(synack_sock *k, const void *buf, size_t len);
/* How many references have been released (each successful synack_send_ref
 * below this count). */
uint32_t synack_send_refs_done(const synack_sock *k);

enum { SYNACK_SHUT_RD = 0, SYNACK_SHUT_WR = 1, SYNACK_SHUT_RDWR = 2 };
/* Half-close. SHUT_WR sends FIN after queued data; reading goes on.
 * SHUT_RD: unread and later data is acknowledged and dropped; recv returns 0.
 * Options set on a listener (nodelay, cork, quickack, keepalive and its
 * times, buffers, MSS) carry over to the connections it accepts.
 * Errors: -ENOTCONN, -EINVAL. */
int synack_shutdown(synack_sock *k, int how);

/* Graceful close (RFC 9293 §3.10.4): send FIN after queued data and give up
 * the handle; the stack finishes the close on its own (orphaned). If unread
 * data is pending the connection is reset instead, as Linux does.
 * The handle is invalid afterwards. Returns 0 (-EDEADLK, doing nothing,
 * from inside the output hook). */
int synack_close(synack_sock *k);

/* Abort (RFC 9293 §3.10.5): send RST from SYN-RECEIVED, ESTABLISHED,
 * FIN-WAIT-1/2 and CLOSE-WAIT (not from CLOSING, LAST-ACK or TIME-WAIT,
 * where the peer has closed already), and free everything. The
 * handle is invalid afterwards. Returns 0 (-EDEADLK, doing nothing, from
 * inside the output hook). */
int synack_abort(synack_sock *k);

/* Pending error (like SO_ERROR), cleared by reading it: 0 or -ECONN... */
int synack_sock_error(synack_sock *k);

/* Current RFC 9293 state. */
int synack_sock_state(const synack_sock *k);

/* Application pointer carried with the socket (NULL initially). */
void synack_sock_set_user(synack_sock *k, void *user);
void *synack_sock_get_user(const synack_sock *k);

/* Local and remote endpoints (host byte order); pointers may be NULL. */
void synack_sock_name(const synack_sock *k, uint32_t *lip, uint16_t *lport,
                      uint32_t *rip, uint16_t *rport);

/* Bytes ready to read, and room left in the send buffer. */
size_t synack_readable(const synack_sock *k);
size_t synack_writable(const synack_sock *k);

/* Socket options. */
typedef enum synack_opt {
    SYNACK_SO_RCVBUF = 1, /* receive buffer bytes, fixed (no autotuning);
                             before connect, or on a listener for the
                             connections it accepts                        */
    SYNACK_SO_SNDBUF,     /* send buffer bytes, likewise                    */
    SYNACK_SO_REUSEADDR,  /* 0/1                                            */
    SYNACK_TCP_NODELAY,   /* 0/1: turn Nagle's algorithm off                */
    SYNACK_TCP_MAXSEG,    /* MSS to announce (before connect, or on a listener) */
    SYNACK_TCP_CORK,      /* 0/1: hold partial segments until uncorked      */
    SYNACK_TCP_QUICKACK,  /* 0/1: never delay ACKs                          */
    SYNACK_SO_KEEPALIVE,  /* 0/1: probe an idle peer                        */
    SYNACK_TCP_KEEPIDLE,  /* seconds of silence before probing (0 = sysctl) */
    SYNACK_TCP_KEEPINTVL, /* seconds between probes (0 = sysctl)            */
    SYNACK_TCP_KEEPCNT,   /* probes before giving up (0 = sysctl)           */
    SYNACK_IPV6_V6ONLY,   /* 0/1: a socket bound to "::" takes IPv6 only
                             (set before synack_bind_addr, as in Linux)    */
    SYNACK_TCP_USER_TIMEOUT, /* ms that sent data may stay unacknowledged (or
                             a keepalive go unanswered) before the connection
                             ends with ETIMEDOUT, replacing tcp_retries2 and
                             TCP_KEEPCNT as in Linux; 0 = off            */
    SYNACK_TCP_ACK_DELAY, /* µs (0 = off, at most 200000): request/response
                             mode, Linux's "pingpong" (TCP_QUICKACK 0) with
                             a bound of its own (as TCP_BPF_DELACK_MAX): data
                             the application reads, and the peer's FIN, are
                             acknowledged by the answer (our data or FIN)
                             if it comes within this time, else by an ACK of
                             their own then. Off, read data is acknowledged
                             when the call returns (no write-write-read
                             stall) and a FIN at once. For relays and
                             servers that answer at once               */
    SYNACK_TCP_DIRECT_DATA, /* 0/1 (needs cfg.data, else -EINVAL): in-order
                             data that finds nothing buffered before it and
                             no hole after it goes to cfg.data straight from
                             the frame; what it does not take is buffered as
                             usual. Only on a handle the application holds
                             (a listener's children inherit it once
                             accepted), not after SHUT_RD. A receive without
                             a copy into the receive buffer, for a program
                             that passes bytes on at once (a relay, a proxy) */
    SYNACK_IP_TRANSPARENT, /* 0/1, before bind (Linux's IP_TRANSPARENT and
                             IPV6_TRANSPARENT): synack_bind_addr may then
                             take a unicast address that is not the stack's
                             own, and a connection goes out from it -- a
                             relay that keeps its client's address. Only an
                             address the stack takes packets to
                             (synack_impersonate, synack_add_address), else
                             the answers could never come: -EADDRNOTAVAIL.
                             Such a socket can connect, not listen (-EINVAL);
                             synack_bind_any_port does not take one */
} synack_opt;
/* Errors: -ENOPROTOOPT unknown option, -EINVAL bad value or wrong state.
 * SO_RCVBUF/SO_SNDBUF set on a connection fix the size from then on: a
 * ring that exists grows at once; one that is larger shrinks when it next
 * empties, and the receive window never goes back on what it offered. */
int synack_setopt(synack_sock *k, int opt, int value);
int synack_getopt(const synack_sock *k, int opt, int *value);

/* TCP_CONGESTION: the congestion control algorithm of one socket, by name
 * ("cubic", "reno"; the stack's tcp_congestion_control to start with, and
 * what a listener has, its connections inherit). Changing it on a
 * connection starts the new algorithm from the current window.
 * -ENOENT for a name synack does not know, as Linux. */
int synack_set_congestion(synack_sock *k, const char *name);
const char *synack_congestion(const synack_sock *k);

/* Like Linux's TCP_INFO. */
typedef struct synack_tcp_info {
    int state;
    uint32_t rtt_us, rttvar_us; /* smoothed RTT and its variance (0 = none yet) */
    uint32_t rto_ms;
    uint32_t snd_mss, rcv_mss;
    uint32_t snd_una, snd_nxt, rcv_nxt; /* absolute sequence numbers */
    uint32_t iss, irs;
    uint32_t snd_wnd, rcv_wnd;          /* bytes, scaled             */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t sack_ok, timestamps;
    uint32_t cwnd, ssthresh;            /* bytes                     */
    uint32_t backoff;                   /* RTO doublings in a row    */
    uint64_t bytes_sent, bytes_acked, bytes_received;
    uint32_t segs_out, segs_in, retransmits;
    uint32_t unacked, send_queued, recv_queued;
} synack_tcp_info;

/* Fill `info`. Errors: -EINVAL for NULL. */
int synack_info(const synack_sock *k, synack_tcp_info *info);

/* ------------------------------------------------------------ helpers */

/* ----------------------------------------------------- addresses, both families */


synack_addr synack_addr_v4(uint32_t ip);
synack_addr synack_addr_v6(const uint8_t bytes[16]);
/* 1 if the same family and address. */
int synack_addr_equal(const synack_addr *a, const synack_addr *b);
/* "10.0.0.1" or any RFC 4291 §2.2 form ("fd00::1", "::ffff:10.0.0.1").
 * 0 or -EINVAL. */
int synack_addr_parse(const char *text, synack_addr *out);
/* Dotted quad, or RFC 5952's canonical IPv6 text; SYNACK_ADDR_TEXT bytes
 * always suffice. Returns buf. */
#define SYNACK_ADDR_TEXT 46
char *synack_addr_format(const synack_addr *a, char *buf, size_t len);
/* "10.0.0.1:80" or "[fd00::1]:80" (RFC 3986 §3.2.2: an IPv6 address in
 * brackets); port 1-65535. 0 or -EINVAL. */
int synack_endpoint_parse(const char *text, synack_addr *addr, uint16_t *port);
/* A socket's endpoints in either family (synack_sock_name gives IPv4 ones
 * as numbers: 0 for an IPv6 address); pointers may be NULL. A socket not
 * connected has a remote address of 0.0.0.0 and port 0. */
void synack_sock_addrs(const synack_sock *k, synack_addr *local, uint16_t *lport,
                       synack_addr *remote, uint16_t *rport);


/* ---------------------------------------------------------- UDP sockets */

/* Datagram sockets (RFC 768, RFC 1122 §4.1.3). Each socket has one family.
 * Non-blocking, errno-style codes as the TCP calls; events go to
 * cfg.udp_event (SYNACK_EV_READABLE, SYNACK_EV_ERROR). docs/api.md, "UDP". */

/* family: SYNACK_AF_INET or SYNACK_AF_INET6. NULL on a bad family or
 * allocation failure. */
synack_udp *synack_udp_open(synack_stack *s, int family);
/* addr NULL or unspecified: any of our addresses. port 0: an ephemeral port
 * from ip_local_port_range not used by another UDP socket. Errors:
 * -EADDRINUSE, -EINVAL (already bound, wrong family), -EADDRNOTAVAIL (an
 * address the stack does not have). */
int synack_udp_bind(synack_udp *u, const synack_addr *addr, uint16_t port);
/* Transparent: receive datagrams to ANY destination address inside
 * prefix/prefix_len with a destination port in [port_lo, port_hi] that no
 * more specific socket takes (a user-space NAT or relay impersonates those
 * addresses). Datagrams to addresses that are not the stack's own are
 * accepted by the IP layer only when such a socket covers them (unicast,
 * unfragmented ones). Among transparent sockets the longest prefix, then
 * the narrowest port range, wins. Errors: -EINVAL (bound or connected
 * already, wrong family, prefix_len too long, port_lo > port_hi or 0),
 * -EADDRINUSE (another transparent socket has the same prefix and an
 * overlapping port range). */
int synack_udp_bind_any(synack_udp *u, const synack_addr *prefix, uint8_t prefix_len,
                        uint16_t port_lo, uint16_t port_hi);
/* Fix the peer (autobinds an ephemeral port); datagrams from others are
 * then not delivered; ICMP errors are reported only on connected sockets
 * (as Linux without IP_RECVERR). addr NULL: disconnect. On a transparent
 * socket it narrows what the socket takes to datagrams from that peer
 * (others go on to the next transparent socket that covers them, as if
 * this one were not there); sending still names its source (meta.local).
 * Errors: -EINVAL (wrong family, port 0), -EADDRINUSE (no free port). */
int synack_udp_connect(synack_udp *u, const synack_addr *addr, uint16_t port);
typedef struct synack_udp_meta {
    synack_addr remote; uint16_t remote_port;   /* recv: the sender; send: the destination */
    synack_addr local;  uint16_t local_port;    /* recv: where it was sent (the original
                                                   destination on a transparent socket);
                                                   send: the source, used only by a
                                                   transparent socket (any address in its
                                                   prefix, any port but 0) -- others send
                                                   from their own */
    size_t full_len;                            /* recv: the datagram's length before
                                                   truncation */
} synack_udp_meta;
/* One datagram. to NULL: the connected peer (-EDESTADDRREQ when none).
 * Autobinds. Returns len, -EMSGSIZE above 65507 (IPv4) / 65527 (IPv6)
 * bytes (larger than the MTU ones go in fragments), -EAGAIN when the stack
 * cannot take it now, -ENETUNREACH without a route, -EINVAL (wrong family,
 * port 0, a transparent socket's source outside its prefix). */
ssize_t synack_udp_send(synack_udp *u, const void *buf, size_t len, const synack_udp_meta *to);
/* The oldest queued datagram: copies up to len bytes (the rest is
 * discarded, as recvfrom does), fills from (may be NULL), returns the bytes
 * copied; -EAGAIN when none; a pending error first. */
ssize_t synack_udp_recv(synack_udp *u, void *buf, size_t len, synack_udp_meta *from);
/* The pending error (from an ICMP error: -ECONNREFUSED for port
 * unreachable, -EHOSTUNREACH, -ENETUNREACH, -EMSGSIZE ...), cleared by
 * reading it; 0 when none. */
int synack_udp_error(synack_udp *u);
/* Bytes of the next datagram; 0 when none (or when it is empty). */
size_t synack_udp_readable(const synack_udp *u);
/* Frees it, queued datagrams too. */
void synack_udp_close(synack_udp *u);
void synack_udp_set_user(synack_udp *u, void *user);
void *synack_udp_get_user(const synack_udp *u);
enum {
    /* Bytes of queued datagrams (default 212992, Linux's
     * net.core.rmem_default); each datagram is charged its length plus
     * SYNACK_UDP_DGRAM_OVERHEAD, so tiny datagrams cannot exhaust memory.
     * Beyond it arrivals are dropped and counted (UdpRcvbufErrors); one
     * datagram is always taken into an empty queue. 256 .. 2^30. */
    SYNACK_UDP_RCVBUF = 1,
};
#define SYNACK_UDP_DGRAM_OVERHEAD 256
/* Errors: -ENOPROTOOPT unknown option, -EINVAL bad value. */
int synack_udp_setopt(synack_udp *u, int opt, int value);
int synack_udp_getopt(const synack_udp *u, int opt, int *value);
/* The socket's family, and its local address and port as bound (an
 * unspecified address: any; port 0: not bound yet); pointers may be NULL. */
/* A transparent socket's relay could not deliver the datagram `about`
 * describes (as synack_udp_recv filled it in): send its sender an ICMP
 * destination unreachable with `code` (RFC 792: 0 net, 1 host, 3 port,
 * 13 administratively prohibited ...), quoting the datagram's addresses,
 * ports and length (8 + about->full_len; checksum 0, no payload) -- from
 * the destination itself for port (3) and protocol (2) unreachable, as
 * that host would answer, else from the stack's own address, as a router.
 * The sender's connected socket then sees ECONNREFUSED, EHOSTUNREACH ...
 * Rate-limited like every ICMP error (IcmpOutDestUnreachs).
 *
 * An IPv6 datagram gets ICMPv6 destination unreachable (type 1, RFC 4443
 * §3.1; Icmp6OutDestUnreachs) with the code mapped:
 *     0 net, 6 net unknown, 11 net for TOS   -> 0 no route to destination
 *     1 host, 7 host unknown, 12 host for TOS -> 3 address unreachable
 *     3 port                                 -> 4 port unreachable
 *     9, 10, 13 administratively prohibited  -> 1 administratively prohibited
 * (Linux: ENETUNREACH, EHOSTUNREACH, ECONNREFUSED, EACCES), from the
 * destination for port unreachable, else from the address the stack sends
 * to the sender from; the quote is an IPv6 and UDP header rebuilt as for
 * IPv4. The other codes have no ICMPv6 destination unreachable (protocol
 * unreachable is a parameter problem there, fragmentation needed a packet
 * too big): -EINVAL. Errors: -EINVAL (also: families differ). */
int synack_udp_unreachable(synack_udp *u, const synack_udp_meta *about, int code);
int synack_udp_family(const synack_udp *u);
void synack_udp_local(const synack_udp *u, synack_addr *addr, uint16_t *port);


/* Parse "a.b.c.d" into host byte order. Returns 0 or -EINVAL. */
int synack_ip_parse(const char *text, uint32_t *ip);
/* Format an address into buf (at least 16 bytes); returns buf. */
char *synack_ip_format(uint32_t ip, char *buf);

#ifdef __cplusplus
}
#endif
#endif
