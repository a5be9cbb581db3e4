/*
 * tcp.h — the TCP layer's internal interface: the connection record (TCB),
 * the per-stack TCP context, and the functions the stack layer calls.
 *
 * The TCP layer never calls up into IP: segments leave through ctx->emit,
 * which the interface layer wraps in IPv4 and Ethernet.
 */
#ifndef SYNACK_TCP_H
#define SYNACK_TCP_H

#include "synack.h"
#include "base/alloc.h"
#include "base/heap.h"
#include "base/ring.h"
#include "base/siphash.h"
#include "wire/wire.h"

#include <stdbool.h>
#include <string.h>

/* Room in front of a segment for the headers below TCP (Ethernet + IPv6 at most). */
#define TCP_HEADROOM 64
#define TCP_MAX_SEG 65535
#define TCP_OOO_MAX 32
#define TCP_SACK_MAX 16
#define TCP_RXT_MAX 8  /* retransmissions watched for a second loss */
#define TCP_UNDO_RANGES 4 /* resent ranges an undo waits to see DSACKed (undo.c) */
#define TCP_BURST_ACK_BYTES 65536u /* a burst's in-order data acknowledged once (input.c) */
#define TCP_RACK_SEGS 8192 /* transmission records per flight (rack.c), 24 bytes each,
                              allocated as the flight grows: 8 MiB in flight at MSS 1448
                              (a gigabit at 60 ms); beyond, the newest absorbs the rest
                              and RFC 6675's rules help out */
#define TCP_SEND_REFS 64 /* synack_send_ref's references a connection holds at once (sndref.c) */
#define TCP_SEND_REF_BYTES (1u << 29) /* ... and bytes, whatever tcp_wmem[2] says */
#define TCP_SNDREF_SPARES 16 /* emptied reference tables kept for reuse (sndref.c) */
#define TCP_RACK_SPARES 32 /* a flight's first record arrays kept for reuse (rack.c) */
#define NS_PER_MS 1000000ULL
#define NS_PER_SEC (1000 * NS_PER_MS)
/* RFC 7323 §5.5: TS.Recent older than 24 days is no longer valid. */
#define TCP_PAWS_IDLE_NS (24ULL * 24 * 3600 * 1000 * NS_PER_MS)

typedef struct tcp_ctx tcp_ctx;

/* Emptied rings a stack keeps for reuse (mem.c), none of them counted per
 * connection, and together at most tcp_rmem[2] + tcp_wmem[2] bytes: enough
 * for a server's busy connections. With 4, ten keep-alive connections of
 * nginx freed and allocated a 128 KiB ring per request, which glibc maps
 * and unmaps (a quarter of the runtime thread's time, 14k -> 21k req/s). */
#define TCP_SPARE_RINGS 64
typedef struct synack_sock tcb;

/* One out-of-order range of received sequence space, [start, end). */
typedef struct seq_range { uint32_t start, end; } seq_range;

/* A connection record (TCB), grouped the way RFC 9293 §3.3.1 and the RFCs
 * it cites name things: the send and receive sequence spaces, the options
 * both ends agreed on, the RTT estimator, timers, congestion control and the
 * SACK scoreboard. Flags are one-bit fields inside the group they belong to.
 * Only tcb_set_state writes `state`. */
struct synack_sock {
    tcb *hnext;               /* connection hash chain                */
    uint32_t hash;            /* keyed hash of the 4-tuple (while hashed) */
    tcb *qnext;               /* listener's accept queue / list links */
    tcb *evnext;              /* pending-event list                   */
    tcb *flushnext;           /* ACKs to flush when the call returns  */
    tcb *parent;              /* listener that spawned us (until accepted) */
    tcb *all_prev, *all_next; /* every record the stack owns          */
    tcb *tw_next;             /* the TIME-WAIT table's handle list (timewait.h) */
    tcp_ctx *ctx;
    uint32_t id;
    uint8_t state;            /* SYNACK_* (RFC 9293 §3.3.2)           */

    struct tcb_is {           /* who holds the record, where it is filed */
        bool app_owned : 1;       /* the application holds the handle     */
        bool orphan : 1;          /* the application closed it: nobody reads */
        bool dead : 1;            /* released; freed at the end of the call */
        bool passive : 1;         /* came from LISTEN                     */
        bool hashed : 1;          /* in the connection table              */
        bool listed : 1;          /* in the listener list                 */
        bool on_evlist : 1;
        bool on_flushlist : 1;
        bool in_accept_queue : 1;
        bool tw_handle : 1;       /* detached TIME-WAIT handle (timewait.h) */
        bool counted_orphan : 1;  /* in tcp_ctx.orphans                    */
        bool bound : 1;           /* synack_bind ran (port 0 included)     */
        bool held : 1;            /* a child of a hold_syn listener whose SYN,ACK
                                     waits for synack_accept_confirm           */
        bool laddr_fixed : 1;     /* bound to laddr, not the stack's own
                                     (SYNACK_IP_TRANSPARENT): connect from it */
    } is;

    synack_addr laddr, raddr; /* family 0 until bound to a peer */
    uint16_t lport, rport;

    struct tcb_snd {          /* send sequence space (RFC 9293 §3.3.1) */
        uint32_t iss, una, nxt, max;
        uint32_t wnd, wl1, wl2, max_wnd;
        uint32_t buf_seq;         /* sequence number of buf's first byte  */
        ring buf;
        uint32_t buf_size;
        uint32_t push_to;         /* uncorking pushed data up to here     */
        bool fin_queued : 1;      /* app shut the send side: FIN after data */
        bool fin_sent : 1;        /* FIN is in flight (nxt covers it)     */
        bool push : 1;            /* push_to is set (past Nagle, once)    */
        uint32_t refs_done;       /* references released (synack_send_refs_done) */
        struct tcp_sndrefs *refs; /* data sent by reference (sndref.c): NULL
                                     while none is outstanding */
    } snd;

    struct tcb_rcv {          /* receive sequence space                */
        uint32_t irs, nxt;
        uint32_t adv;             /* right edge we advertised             */
        uint32_t acked;           /* RCV.NXT in the last ACK sent (Last.ACK.sent) */
        ring buf;
        uint32_t buf_size;
        uint32_t last_challenge_ms; /* our last challenge ACK (0: none)  */
        uint32_t copied;          /* bytes the application read this round trip */
        uint64_t last_data_at;    /* when in-order data last came (quick ACKs) */
        uint8_t quick;            /* quick ACKs left: data acknowledged at once */
        uint64_t space_stamp;     /* when that round trip began           */
        seq_range *ooo;           /* out-of-order ranges, newest first: TCP_OOO_MAX
                                     of them, allocated with the first (receive.c)
                                     and freed when the last is gone, so an idle
                                     connection does not carry 256 bytes of them */
        uint8_t nooo;
        uint32_t ooo_fin_seq;     /* a FIN beyond a hole, at this sequence */
        seq_range dsack_range;
        bool ooo_fin : 1;         /* ooo_fin_seq is set                   */
        bool dsack : 1;           /* report dsack_range first (RFC 2883)  */
        bool last_small : 1;      /* the latest data segment was short (end of a write) */
        bool data_seen : 1;       /* data came at least once                */
        bool shut : 1;            /* app shut the receive side            */
        bool eof : 1;             /* peer's FIN consumed into the stream  */
        bool ack_pending : 1;     /* an ACK is owed ...                   */
        bool ack_now : 1;         /* ... and may not be delayed           */
    } rcv;

    struct tcb_opts {         /* what the SYNs agreed (RFC 9293 §3.7.1, RFC 7323, RFC 2018) */
        uint16_t snd_mss;         /* what we may send per segment         */
        uint16_t adv_mss;         /* what we announce                     */
        uint16_t rcv_mss;         /* largest segment the peer sent so far */
        uint8_t snd_wscale, rcv_wscale;
        uint32_t ts_recent, ts_offset;
        uint64_t ts_recent_stamp; /* when TS.Recent was taken (PAWS aging) */
        bool ws_ok : 1, sack_ok : 1, ts_ok : 1;
    } opts;

    struct tcb_sockopt {      /* what the application set              */
        uint32_t keep_idle_s, keep_intvl_s, keep_cnt; /* 0 = the sysctl  */
        uint32_t user_timeout_ms; /* TCP_USER_TIMEOUT (0: off)            */
        uint32_t ack_delay_us;    /* SYNACK_TCP_ACK_DELAY (0: off)        */
        bool reuseaddr : 1;
        bool v6only : 1;          /* IPV6_V6ONLY                          */
        bool nodelay : 1;
        bool quickack : 1;        /* never delay ACKs                     */
        bool cork : 1;            /* hold partial segments                */
        bool keepalive : 1;       /* SO_KEEPALIVE                         */
        bool fixed_sndbuf : 1;    /* SO_SNDBUF/SO_RCVBUF: no autotuning   */
        bool fixed_rcvbuf : 1;
        bool direct : 1;          /* SYNACK_TCP_DIRECT_DATA               */
        bool transparent : 1;     /* SYNACK_IP_TRANSPARENT                */
    } sockopt;

    struct tcb_rtt {          /* RTO estimator and backoff (RFC 6298)  */
        uint32_t srtt_us, rttvar_us, rto_ms;
        uint32_t seq;             /* Karn: the segment being timed ...    */
        uint64_t start;           /* ... sent at this time                */
        uint8_t backoff, retries;
        bool timing : 1;
    } rtt;

    struct tcb_timers {       /* absolute ns; UINT64_MAX = off          */
        heap_node node;           /* filed at the earliest of these       */
        uint64_t rto_at;          /* retransmission / SYN / persist / loss probe */
        uint64_t close_at;        /* orphaned FIN-WAIT-2                  */
        uint64_t delack_at;       /* delayed ACK                          */
        uint64_t keep_at;         /* next keepalive probe                 */
        uint64_t stall_since;     /* the oldest unacknowledged data (or the
                                     persist probing) waits since (0: none) */
        uint64_t heard_at;        /* the peer's last segment (keepalive)  */
        uint64_t probe_from;      /* the loss probe's start: the last data sent or newly acked */
        uint8_t keep_probes;      /* unanswered probes so far             */
        bool tlp_armed : 1;       /* rto_at is a loss-probe timeout       */
        bool reo_armed : 1;       /* rto_at is RACK's reordering timeout  */
        bool renege_armed : 1;    /* rto_at is the early timeout after reneging */
    } timers;

    struct tcb_cc {           /* congestion control (RFC 5681, 9438)   */
        const struct cc_ops *ops;
        uint32_t cwnd, ssthresh, recover;
        uint8_t dupacks;
        bool in_recovery : 1;     /* fast recovery until snd.una passes recover */
        bool after_rto : 1;       /* an RTO's episode: until snd.una passes recover */
        uint32_t prr_delivered;   /* PRR (RFC 6937): bytes delivered in recovery, */
        uint32_t prr_out;         /* ... bytes sent in recovery,           */
        uint32_t recover_fs;      /* ... and FlightSize when it began      */
        uint32_t bytes_acked;     /* Reno: bytes acked toward the next +SMSS */
        double frac;              /* CUBIC: fractional bytes of growth    */
        struct {
            uint64_t epoch_start;
            double w_max, w_last_max, k, w_est; /* segments, seconds */
        } cubic;
    } cc;

    struct tcb_sack {         /* the sender's scoreboard (RFC 6675) and loss marks (RFC 8985) */
        seq_range blocks[TCP_SACK_MAX]; /* SACKed ranges, sorted          */
        uint8_t n;
        uint32_t high_rxt;        /* RFC 6675 HighRxt                     */
        uint32_t lost_to;         /* holes below this are lost (after a probe) */
        uint32_t tlp_high;        /* a loss probe is out, covering up to here */
        struct tcp_rxt { uint32_t seq, mark; } rxt[TCP_RXT_MAX]; /* retransmissions
                                     not yet delivered: where each starts, and
                                     SND.MAX when it was sent (oldest first) */
        uint8_t nrxt;
        bool lost_valid : 1;      /* lost_to is set                       */
        bool tlp_out : 1;         /* a loss probe is out                  */
    } sack;

    struct tcb_rack {         /* RACK time-based loss detection (RFC 8985, rack.c) */
        struct rack_flight *flight; /* the transmissions in flight, allocated
                                     with the first and freed when all are
                                     acknowledged: an idle connection has none */
        uint32_t min_rtt_us;      /* RACK.min_RTT (0: no sample yet)      */
        uint32_t dsack_round;     /* RACK.dsack_round: SND.NXT at the last DSACK */
        uint32_t dsack_segs;      /* segments reported as duplicates, ever */
        uint8_t reo_wnd_mult;     /* RACK.reo_wnd_mult (0 counts as 1)    */
        uint8_t reo_wnd_persist;  /* RACK.reo_wnd_persist                 */
        bool reordering_seen : 1; /* RACK.reordering_seen                 */
        bool dsack_round_on : 1;  /* dsack_round is set                   */
    } rack;

    struct tcb_listen {       /* a listener's queues                   */
        int backlog;
        uint32_t syn_queued, accept_queued;
        tcb *head, *tail;         /* the accept queue                     */
        uint64_t overflow_at;     /* when its SYN queue last overflowed (0: never) */
        bool any : 1;             /* synack_listen_any: takes SYNs to any address in
                                     laddr/any_plen, any port in [port_lo, port_hi] */
        bool hold_syn : 1;        /* SYNACK_OPT_HOLD_SYN: children wait, unanswered,
                                     for the application's verdict             */
        uint8_t any_plen;
        uint16_t port_lo, port_hi;
    } listen;

    struct tcb_stats {        /* for synack_info                       */
        uint64_t bytes_sent, bytes_acked, bytes_received;
        uint32_t segs_out, segs_in, retrans;
    } stats;

    struct tcb_undo {         /* a window cut that may prove spurious (undo.c) */
        seq_range left[TCP_UNDO_RANGES]; /* resent bytes not yet DSACKed, sorted */
        uint32_t cwnd, ssthresh;  /* the window and ssthresh before the cut */
        uint16_t retrans;         /* its retransmitted segments not yet DSACKed */
        uint8_t nleft;
        bool active : 1;          /* an episode may still be undone       */
    } undo;

    int err;                  /* pending error, negative errno        */
    int soft_err;             /* a soft ICMP error's, reported on timeout (icmp_error.c) */
    uint16_t path_mtu;        /* learnt from ICMP (RFC 1191); 0: the link's */
    unsigned events;          /* pending SYNACK_EV_* for dispatch     */
    void *user;
};

struct tcp_ctx {
    const synack_sysctl *sys;
    const synack_allocator *alloc; /* the embedder's, or NULL hooks: libc */
    synack_counters *ctr;
    uint32_t local_ip;
    uint8_t local_ip6[16];    /* our IPv6 address (all zero: no IPv6)  */
    uint32_t mtu;
    bool csum_offload;        /* the device guarantees integrity: no TCP checksums */
    uint32_t gso_max;         /* the device takes segments this large (0: MTU) */
    /* LAB ONLY (`synack lab why-three-way`, set through sim_lab.c): a
     * listener takes its own SYN,ACK as the end of the handshake. Not in
     * the public configuration, so no embedder can switch it on. */
    bool lab_two_way_handshake;
    uint64_t now;

    /* Hand a built segment to the IP layer (the family of `dst` picks
     * IPv4 or IPv6); seg has TCP_HEADROOM bytes free before it. */
    void (*emit)(void *ip_ctx, const synack_addr *src, const synack_addr *dst, uint8_t *seg,
                 size_t len);
    void *emit_ctx;
    /* The same with the payload left where it is (cfg.output_v): `hdr`
     * holds the TCP header, `tail` the payload's pieces. */
    void (*emit_tail)(void *ip_ctx, const synack_addr *src, const synack_addr *dst, uint8_t *hdr,
                      size_t hl, const synack_iov tail[2]);
    bool gather;              /* emit_tail may be used                   */
    bool in_burst;            /* inside synack_input_burst: in-order data's
                                 ACKs wait for the burst's end (input.c) */
    synack_trace_fn trace; void *trace_ctx;
    synack_event_fn event; void *event_ctx;
    synack_data_fn data; void *data_ctx; /* direct delivery (receive.c) */

    siphash_key hash_key, isn_key, port_key;
    synack_steer steer;       /* the group this stack is one of (cfg.steer) */

    tcb **buckets;
    tcb *last_hit;            /* the connection tcb_lookup found last */
    uint32_t nbuckets, nconns;
    uint32_t orphans;         /* closed by the application, not yet done */
    tcb *listeners;
    tcb *all;
    heap timers;
    tcb *ev_head, *ev_tail;
    tcb *flush_head;
    tcb *dead_head;
    uint32_t next_id;
    uint32_t port_next;
    struct tcp_tw_table *tw;  /* the compact TIME-WAIT table (timewait.c) */

    uint64_t mem_bytes;       /* capacity of every ring the connections hold (mem.c) */
    bool mem_pressure;        /* above tcp_mem[1], not yet below tcp_mem[0] */
    struct tcp_spare_ring { uint8_t *buf; uint32_t cap; } spare[TCP_SPARE_RINGS];
    uint32_t nspare;          /* emptied rings kept for the next attach (mem.c) */
    uint64_t spare_bytes;
    struct rack_flight *rack_spare[TCP_RACK_SPARES]; /* released first-size record arrays */
    uint32_t nrack_spare;
    struct tcp_sndrefs *sndref_spare[TCP_SNDREF_SPARES]; /* emptied reference tables */
    uint32_t nsndref_spare;
    uint64_t drops[SYNACK_DROP_COUNT]; /* per synack_drop reason            */
    uint64_t chack_second;    /* challenge ACK limit: this second + 1 ... */
    uint32_t chack_left;      /* ... and what it still allows          */

    uint8_t txbuf[TCP_HEADROOM + 60 + TCP_MAX_SEG];
};

/* ------------------------------------------------------------ tcb.c */
int tcp_ctx_init(tcp_ctx *c);
void tcp_ctx_free(tcp_ctx *c);
tcb *tcb_new(tcp_ctx *c);
void tcb_free(tcb *t);
/* The send sequence space starts at `iss` (RFC 9293 §3.4.1): SND.UNA,
 * SND.NXT and the highest retransmitted byte, which must never lag far
 * behind SND.UNA (sack_pipe compares them modulo 2^32). */
void tcb_set_iss(tcb *t, uint32_t iss);
/* Buffers come and go with the data: a ring is allocated when bytes come
 * for it (tcp_user_send, tcp_receive_text) and returned once it is empty
 * (all acknowledged, all read), so an idle connection, and a half-open
 * one, holds only its record. Sizes, autotuned ones too, stay in
 * snd/rcv.buf_size. Room for the application's bytes: in the ring, or the
 * ring to come. */
uint32_t tcb_send_space(const tcb *t);
/* The MSS we announce fits the MTU less the peer's family's headers (IPv6's
 * are 20 bytes longer); called once the peer's address is known. */
void tcb_fit_mss_to_family(tcb *t);
/* Free buffers that a closed or TIME-WAIT connection no longer needs. */
void tcb_drop_buffers(tcb *t);

/* ------------------------------------------------------------ icmp_error.c */
/* An ICMP error about a segment we sent, as the interface layer read it
 * from the message and its quote. */
typedef struct tcp_icmp_report {
    uint8_t family;           /* SYNACK_AF_INET: ICMP; SYNACK_AF_INET6: ICMPv6 */
    uint8_t type, code;
    uint32_t mtu;             /* next-hop MTU of "fragmentation needed" /
                                 "packet too big"                       */
    synack_addr rip;          /* the quoted destination: our peer       */
    synack_addr lip;          /* the quoted source: ours, or impersonated
                                 (family 0: the family's own address)    */
    uint16_t lport, rport;
    uint32_t seq;             /* the quoted sequence number             */
} tcp_icmp_report;
void tcp_icmp_error(tcp_ctx *c, const tcp_icmp_report *e);
/* The largest segment the path takes, headers without options excluded. */
uint32_t tcp_path_mss(const tcb *t);
/* Black-hole detection (tcp_mtu_probing): the same data timed out again. */
void tcp_mtu_black_hole_check(tcb *t);

/* ------------------------------------------------------------ mem.c */
/* Every ring is allocated, grown and freed here, counted against tcp_mem
 * (pages; mem.c says what each threshold does). */
typedef enum { TCP_BUF_SEND, TCP_BUF_RECV } tcp_buf_kind;
/* The size a ring allocated now would get: the buffer size, less under
 * memory pressure or near the hard limit. */
uint32_t tcp_buf_size_now(const tcb *t, tcp_buf_kind k);
/* Give the connection its ring if it has none. 0 or -ENOMEM (counted). */
int tcp_buf_attach(tcb *t, tcp_buf_kind k);
/* Autotuning: grow to cap bytes. -ENOBUFS when memory is short (the
 * buffer stays), -ENOMEM when the allocator fails (counted). */
int tcp_buf_grow(tcb *t, tcp_buf_kind k, uint32_t cap);
void tcp_buf_release(tcb *t, tcp_buf_kind k);
/* Would `bytes` more stay within tcp_mem's hard limit (tcp_mem[2])? */
bool tcp_buf_fits(const tcp_ctx *c, uint32_t bytes);
/* Replace the ring with `buf` (mem_alloc'd, cap bytes, all of them data),
 * counted against tcp_mem (sndref.c: the send stream moved into a ring). */
void tcp_buf_adopt_full(tcb *t, tcp_buf_kind k, uint8_t *buf, uint32_t cap);
/* Forget the out-of-order ranges and free their array (receive.c). */
void tcp_ooo_clear(tcb *t);
/* Release a ring that holds nothing; under pressure a receive ring that
 * holds only out-of-order data is released too (pruned). */
void tcp_buf_release_if_empty(tcb *t, tcp_buf_kind k);
/* Free the spare rings (at the end, and under memory pressure). */
void tcp_buf_free_spares(tcp_ctx *c);
/* Release the stack's interest: frees when neither app nor protocol needs it. */
void tcb_maybe_release(tcb *t);

/* ------------------------------------------------------------ state.c */
/* The one function that changes a connection's state; emits a trace event,
 * except for SYNACK_CAUSE_NONE: bookkeeping no observer sees (a new child
 * taking its listener's state, a record whose TIME-WAIT entry carries on). */
void tcb_set_state(tcb *t, int state, synack_cause cause);
/* End the connection: CLOSED, unhashed, timers off, error recorded. */
void tcb_close(tcb *t, int err, synack_cause cause);

/* ------------------------------------------------------------ table.c */
/* A 4-tuple as the 32-bit words its keyed hashes take: an IPv4 one as
 * {local, remote, ports}; an IPv6 one as both addresses, the ports and a
 * family tag, so the families never share an input. Returns the count
 * (at most TCP_TUPLE_WORDS - 1: callers may append one word). */
#define TCP_TUPLE_WORDS 11
size_t tcp_tuple_words(const synack_addr *l, uint16_t lport, const synack_addr *r,
                       uint16_t rport, uint32_t w[TCP_TUPLE_WORDS]);
/* The keyed hash of a 4-tuple (connections). */
uint32_t tcp_tuple_hash(const tcp_ctx *c, const synack_addr *l, uint16_t lport,
                        const synack_addr *r, uint16_t rport);
/* synack_addr_v4 and synack_addr_equal are these, inlined for the
 * per-segment paths. */
static inline synack_addr tcp_addr4(uint32_t ip)
{
    synack_addr a = {.family = SYNACK_AF_INET};
    a.v4 = ip;
    return a;
}
static inline bool tcp_addr_eq(const synack_addr *a, const synack_addr *b)
{
    return a->family == b->family &&
           (a->family == SYNACK_AF_INET6 ? memcmp(a->v6, b->v6, 16) == 0 : a->v4 == b->v4);
}
/* Our address in `family`: the one a connection to a peer of that family
 * has (TCP over IPv6 uses the configured address, not the link-local one). */
static inline synack_addr tcp_local_addr(const tcp_ctx *c, int family)
{
    synack_addr a = {.family = (uint8_t)family};
    if (family == SYNACK_AF_INET6)
        memcpy(a.v6, c->local_ip6, 16);
    else
        a.v4 = c->local_ip;
    return a;
}
static inline bool tcp_has_ipv6(const tcp_ctx *c)
{
    static const uint8_t zero[16];
    return memcmp(c->local_ip6, zero, 16) != 0;
}
/* Bytes of IP and TCP header without options in front of a segment's data:
 * what the MTU holds besides the MSS. */
static inline uint32_t tcp_net_hdr_len(int family)
{
    return family == SYNACK_AF_INET6 ? 60u : 40u;
}
/* The pseudo-header sum of RFC 9293 §3.1 (IPv4) or RFC 8200 §8.1 (IPv6). */
static inline uint32_t tcp_pseudo_sum(const synack_addr *l, const synack_addr *r, uint32_t len)
{
    if (l->family == SYNACK_AF_INET6)
        return wire_csum_pseudo6(l->v6, r->v6, WIRE_IPPROTO_TCP, len);
    return wire_csum_pseudo(l->v4, r->v4, WIRE_IPPROTO_TCP, (uint16_t)len);
}
int tcb_hash_insert(tcb *t);
void tcb_hash_remove(tcb *t);
tcb *tcb_lookup(tcp_ctx *c, const synack_addr *l, uint16_t lport, const synack_addr *r,
                uint16_t rport);

/* ------------------------------------------------------------ events.c */
void tcb_signal(tcb *t, unsigned events);
/* Deliver pending events, flush owed ACKs and free released connections. */
void tcp_dispatch(tcp_ctx *c);
/* An ACK is owed: send it when the public call returns (events.c). */
void tcb_owe_ack(tcb *t);

/* ------------------------------------------------------------ trace.c */
/* A connection as a trace event names it. */
typedef struct tcp_tuple {
    uint32_t id;
    synack_addr l, r;
    uint16_t lport, rport;
} tcp_tuple;
/* Count a dropped segment under its reason and trace it (t may be NULL). */
void tcp_drop(tcp_ctx *c, const tcb *t, synack_drop why);
void tcp_drop_tuple(tcp_ctx *c, const tcp_tuple *who, int state, synack_drop why);
void tcp_trace_state(tcp_ctx *c, const tcp_tuple *who, int from, int to, synack_cause why);
/* A segment in or out; `t` may be NULL, `who` names the 4-tuple (NULL: t's). */
void tcp_trace_seg(tcp_ctx *c, const tcb *t, int kind, const wire_tcp *seg, bool rexmit,
                   const tcp_tuple *who);
/* The tuple of a segment that arrived from src to dst. */
static inline tcp_tuple tcp_tuple_in(const synack_addr *src, const synack_addr *dst,
                                     const wire_tcp *seg)
{
    return (tcp_tuple){0, *dst, *src, seg->dport, seg->sport};
}
static inline tcp_tuple tcp_tuple_of(const tcb *t)
{
    return (tcp_tuple){t->id, t->laddr, t->raddr, t->lport, t->rport};
}

/* ------------------------------------------------------------ isn.c / ports.c */
/* Is the port taken by a listener of an overlapping family (self's
 * laddr.family: 0 both), a connection or (without SO_REUSEADDR) a
 * TIME-WAIT entry? For bind. */
bool tcb_port_in_use(tcp_ctx *c, uint16_t port, bool reuseaddr, const tcb *self);
uint32_t tcp_isn(tcp_ctx *c, const synack_addr *l, uint16_t lport, const synack_addr *r,
                 uint16_t rport);
/* The per-connection timestamp offset (tcp_timestamps=1; 0 otherwise). */
uint32_t tcp_ts_offset(tcp_ctx *c, const synack_addr *l, uint16_t lport, const synack_addr *r,
                       uint16_t rport);
/* *reuse: the port's 4-tuple is a TIME-WAIT entry tcp_tw_reuse lets us take. */
int tcp_pick_port(tcp_ctx *c, const synack_addr *local, const synack_addr *rip, uint16_t rport,
                  uint16_t *out, bool *reuse);
int tcp_pick_bind_port(tcp_ctx *c, const tcb *self, uint16_t *out);

/* ------------------------------------------------------------ rtt.c */
void rtt_init(tcb *t);
void rtt_sample(tcb *t, uint64_t rtt_ns);
uint64_t rtt_rto_ns(const tcb *t);

/* ------------------------------------------------------------ output.c */
/* Send what the windows allow, then an ACK if one is owed. */
void tcp_output(tcb *t);
/* After a timeout: send one segment at snd_nxt even into a zero window. */
void tcp_send_forced(tcb *t);
void tcp_send_retransmit(tcb *t, uint32_t seq);
void tcp_send_syn(tcb *t, bool retransmit);
void tcp_send_ack(tcb *t);
void tcp_send_keepalive(tcb *t);
void tcp_send_challenge_ack(tcb *t);
void tcp_send_rst_for(tcb *t);
/* A segment with no connection record behind it (a reset to a stranger, a
 * TIME-WAIT entry's ACK): header and options only. */
void tcp_send_bare(tcp_ctx *c, const synack_addr *lip, const synack_addr *rip, const wire_tcp *h);
void tcp_send_reset(tcp_ctx *c, const synack_addr *lip, uint16_t lport, const synack_addr *rip,
                    uint16_t rport, uint32_t seq, uint32_t ack, uint8_t flags);
uint32_t tcp_rcv_window(const tcb *t);

/* ------------------------------------------------------------ sack.c */
void sack_clear(tcb *t);
void sack_trim(tcb *t);
bool sack_update(tcb *t, const wire_tcp_opts *o);
/* A sorted set of at most `max` disjoint ranges (*n of them): add [start,
 * end), merged with every range it touches. false when it needed a slot
 * and none was left (the set is then without it). The scoreboard's SACKed
 * ranges and the undo's resent ones (undo.c). */
bool seq_ranges_add(seq_range *set, uint8_t *n, uint8_t max, uint32_t start, uint32_t end);
uint32_t sack_sacked_bytes(const tcb *t);
uint32_t sack_lost_edge(const tcb *t);
uint32_t sack_pipe(const tcb *t);
bool sack_next_hole(const tcb *t, uint32_t from, bool any, uint32_t *start, uint32_t *len);
uint32_t sack_skip(const tcb *t, uint32_t seq, uint32_t *room);
/* A retransmission starting at seq left now. */
void sack_note_rxt(tcb *t, uint32_t seq);
/* The start of a retransmission that was lost too, or false; forgets the
 * delivered ones and restarts the reported one's watch. */
bool sack_lost_rxt(tcb *t, uint32_t *seq);
/* The ACK's first SACK block reports a duplicate (RFC 2883 §4): below the
 * cumulative ACK or inside the second block. Its range in *start, *end. */
bool sack_dsack(const wire_tcp *seg, uint32_t *start, uint32_t *end);

/* ------------------------------------------------------------ rack.c */
/* RACK (RFC 8985 §6): per-transmission records while data is in flight. */
/* Is RACK detecting loss for the data in flight (tcp_recovery bit 1, SACK,
 * and a record of every transmission since SND.UNA)? */
bool rack_in_charge(const tcb *t);
/* A segment [start, end) left now (new data or a retransmission). */
void rack_on_send(tcb *t, uint32_t start, uint32_t end);
/* An acceptable ACK was taken (SND.UNA and the scoreboard updated): steps
 * 1-5 of §6.2. Returns rack_in_charge() afterwards. */
bool rack_on_ack(tcb *t, const wire_tcp *seg);
/* §6.2 step 4-5 alone (the reordering timer fired); arms it again. */
void rack_detect_loss_and_arm(tcb *t);
/* When the oldest data in flight last left (`otherwise` without records). */
uint64_t rack_oldest_sent(const tcb *t, uint64_t otherwise);
/* Never-retransmitted data below this that is not SACKed is lost. */
uint32_t rack_lost_edge(const tcb *t);
/* Free the record arrays kept for reuse (at the end). */
void rack_free_spares(tcp_ctx *c);
/* Did the records overflow (RFC 6675's IsLost must help)? */
bool rack_coalesced(const tcb *t);
/* A retransmission below `below` RACK found lost again; false when none
 * is left. */
bool rack_lost_rxt(tcb *t, uint32_t below, uint32_t *seq);
/* The reordering window now (§6.2 step 3), in ns. */
uint64_t rack_reo_wnd(const tcb *t);
/* An RTT sample from the RFC 6298 estimator, for RACK.min_RTT. */
void rack_note_rtt(tcb *t, uint32_t rtt_us);
/* A retransmission timeout: the scoreboard was forgotten. */
void rack_on_rto(tcb *t);
/* Fast or RTO recovery ended (§6.2 step 3's reo_wnd_persist). */
void rack_recovery_ended(tcb *t);
/* Free the records (all acknowledged, or the connection is done). */
void rack_release(tcb *t);

/* ------------------------------------------------------------ undo.c */
/* A loss episode cuts the window now (fast recovery or a timeout). */
void undo_episode_begins(tcb *t);
/* A retransmission of [seq, seq + len) left during the episode. */
void undo_note_rxt(tcb *t, uint32_t seq, uint32_t len);
/* The ACK reported a duplicate [start, end) (RFC 2883): if every
 * retransmission of the episode was a duplicate, restore the window. */
void undo_on_dsack(tcb *t, uint32_t start, uint32_t end);

/* ------------------------------------------------------------ ack.c */
/* The ACK field of a synchronized connection's segment (RFC 9293
 * §3.10.7.4 fifth): retire data, measure RTT, detect loss, recover. */
void tcp_ack_process(tcb *t, const wire_tcp *seg);
/* RACK's reordering timer fired: mark what is lost by now and recover. */
void tcp_rack_timeout(tcb *t);

/* ------------------------------------------------------------ input.c (RFC 9293 §3.10.7) */
/* A TCP segment from `src` to `dst` (the same family; the IP layer checked
 * that it takes dst). `own`: dst is one of our addresses, not one we
 * impersonate; only synack_listen_any listeners take SYNs to the latter. */
void tcp_input(tcp_ctx *c, const synack_addr *src, const synack_addr *dst, const uint8_t *seg,
               size_t len, bool own);

/* ------------------------------------------------------------ handshake.c */
/* Take the peer's SYN options: MSS, window scale, SACK, timestamps. */
void tcp_negotiate(tcb *t, const wire_tcp *seg);
/* SEGMENT ARRIVES in SYN-SENT (RFC 9293 §3.10.7.3). */
void tcp_syn_sent_input(tcb *t, const wire_tcp *seg);
/* SYN-RECEIVED before the steps: a repeated SYN is answered (false: done);
 * a simultaneous open's SYN,ACK is turned into the ACK it amounts to. */
bool tcp_syn_received_early(tcb *t, wire_tcp *seg);
/* The fifth step in SYN-RECEIVED: the ACK completes the handshake (false:
 * the segment was answered or dropped). */
bool tcp_syn_received_ack(tcb *t, const wire_tcp *seg);
/* Our window scale: the smallest shift that announces tcp_rmem[2]. */
uint8_t tcp_rcv_wscale(const tcp_ctx *c);

/* ------------------------------------------------------------ syncookie.c */
/* Answer a SYN with a SYN cookie's SYN,ACK, keeping nothing. */
void syncookie_send(tcb *l, const synack_addr *src, const synack_addr *dst, const wire_tcp *seg);
typedef enum cookie_verdict {
    COOKIE_NOT = 0, /* no valid cookie: the caller answers with a RST      */
    COOKIE_OPENED,  /* *child is ESTABLISHED and in the accept queue       */
    COOKIE_DROPPED, /* valid, but no room or memory now: dropped, counted  */
} cookie_verdict;
/* An ACK to a listener: does it complete a SYN cookie's handshake? */
cookie_verdict syncookie_ack(tcb *l, const synack_addr *src, const synack_addr *dst,
                             const wire_tcp *seg, tcb **child);
/* The cookie arithmetic (RFC 4987 §3.6, Linux's layout). */
uint32_t syncookie_isn(tcp_ctx *c, const tcp_tuple *w, uint32_t peer_isn, uint16_t peer_mss);
bool syncookie_check(tcp_ctx *c, const tcp_tuple *w, uint32_t peer_isn, uint32_t cookie,
                     uint16_t *mss);

/* ------------------------------------------------------------ receive.c */
/* Store in-window text: TCP_TEXT_HELD when RCV.NXT did not advance (out
 * of order, or no room), TCP_TEXT_BUFFERED when it did, TCP_TEXT_TAKEN
 * when it did and the application took all of it (direct delivery). */
enum { TCP_TEXT_HELD, TCP_TEXT_BUFFERED, TCP_TEXT_TAKEN };
int tcp_receive_text(tcb *t, uint32_t seq, const uint8_t *data, uint32_t len);

/* ------------------------------------------------------------ listen.c */
void listen_add(tcb *l);
void listen_remove(tcb *l);
/* The listener for a segment to local port `port` in `family`: one bound
 * to that family, or to both. */
tcb *listen_find(tcp_ctx *c, int family, uint16_t port);
/* The synack_listen_any listener covering (dst, port), or NULL. */
tcb *listen_find_any(tcp_ctx *c, const synack_addr *dst, uint16_t port);

/* A segment for a listener (RFC 9293 §3.10.7.2). `tw_isn`: non-zero when
 * the SYN reopens a TIME-WAIT 4-tuple (RFC 6191): our ISN, above the old
 * incarnation's SND.NXT. Returns the connection a SYN cookie's ACK just
 * opened, which the caller hands the same segment (its data, its FIN). */
tcb *listen_input(tcb *l, const synack_addr *src, const synack_addr *dst, const wire_tcp *seg,
                  uint32_t tw_isn);
/* May a child's handshake complete (room in the accept queue)? Counts and
 * traces the drop when not. */
bool listen_child_may_complete(tcb *t);
/* The child's handshake completed: into the accept queue (or, for an
 * active open's simultaneous open, tell the application it is connected). */
void listen_child_completed(tcb *t);
/* A child record for a segment to listener `l`: 4-tuple, the options the
 * listener passes on and those `syn` negotiates, our ISS; not yet filed.
 * NULL without memory. */
tcb *listen_child_new(tcb *l, const synack_addr *src, const synack_addr *dst,
                      const wire_tcp *seg, const wire_tcp *syn, uint32_t iss);
/* File it: in the connection table and the listener's SYN queue. */
void listen_child_file(tcb *l, tcb *t);
/* Completed handshake: into the accept queue, EV_ACCEPT for the listener. */
void listen_enqueue(tcb *l, tcb *t);
bool listen_accept_queue_full(const tcb *l);
/* Take a child out of its listener's queues (it closed before accept). */
void listen_unlink(tcb *t);
/* The oldest completed child, out of the accept queue; NULL if none. */
tcb *listen_dequeue(tcb *l);
/* user.c, synack_listen_any: listen on prefix/plen, ports [lo, hi]; `hold`:
 * children wait for tcp_user_confirm (SYN,ACK) or tcp_user_refuse (RST or
 * nothing; the handle is given up). -EINVAL on bad arguments or state. */
int tcp_open_passive_any(tcb *t, const synack_addr *prefix, uint8_t plen, uint16_t lo,
                         uint16_t hi, int backlog, bool hold);
int tcp_user_confirm(tcb *t);
int tcp_user_refuse(tcb *t, bool rst);
/* Close a listener: queued children are reset, half-open ones dropped. */
void listen_close(tcb *l);

/* ------------------------------------------------------------ timer.c */
/* File the connection's timer at its earliest deadline. */
void tcb_schedule(tcb *t);
/* Stop every timer of the connection. */
void tcb_timers_off(tcb *t);
void tcp_timers(tcp_ctx *c);
uint64_t tcp_next_deadline(const tcp_ctx *c);
void tcp_arm_rto(tcb *t);
/* The interface layer gave up resolving next hop `hop` (the gateway when
 * `gateway`): connections opening towards it fail with EHOSTUNREACH. */
void tcp_hop_unreachable(tcp_ctx *c, uint32_t hop, uint32_t local_net, uint32_t mask,
                         bool gateway);
/* The same for IPv6 (Neighbour Discovery gave up on `hop`); `gateway`: it
 * is the default router, so every off-link peer is unreachable. */
void tcp_hop_unreachable6(tcp_ctx *c, const uint8_t hop[16], uint8_t prefix_len, bool gateway);
/* An orphaned FIN-WAIT-2 lives tcp_fin_timeout longer (Linux). */
void tcp_arm_fin_timeout(tcb *t);
/* Restart the keepalive idle period (a segment arrived, or keepalive on). */
void tcp_keepalive_reset(tcb *t);
void tcp_keepalive_idle_changed(tcb *t);

/* ------------------------------------------------------------ user.c (RFC 9293 §3.10.1–6) */
int tcp_open_active(tcb *t, const synack_addr *rip, uint16_t rport);
int tcp_open_passive(tcb *t, int backlog);
ssize_t tcp_user_send(tcb *t, const void *buf, size_t len);
ssize_t tcp_user_recv(tcb *t, void *buf, size_t len);
ssize_t tcp_user_send_space(tcb *t, synack_iov v[2]);
ssize_t tcp_user_send_commit(tcb *t, size_t n);
ssize_t tcp_user_recv_view(tcb *t, synack_iov v[2]);
ssize_t tcp_user_recv_consume(tcb *t, size_t n);
int tcp_user_shutdown(tcb *t, int how);
void tcp_user_close(tcb *t);
void tcp_user_abort(tcb *t);

/* May the application add bytes now? 0, or the error its send call gets. */
int tcp_send_allowed(const tcb *t);

/* ------------------------------------------------------------ sndref.c (send by reference) */
struct tcp_sndref {
    const uint8_t *base;      /* the application's bytes, not yet acknowledged */
    uint32_t seq, len;        /* where they sit in the stream              */
    uint32_t end_total;       /* referenced bytes queued up to its end (running) */
};
struct tcp_sndrefs {
    uint32_t bytes;           /* referenced bytes not yet acknowledged     */
    uint32_t queued_total, acked_total; /* running counts of referenced bytes */
    uint8_t lo, n;            /* live references: r[lo, n), in stream order */
    struct tcp_sndref r[TCP_SEND_REFS];
};
/* Bytes queued to send: the ring's and the referenced ones. */
static inline uint32_t tcp_snd_queued(const tcb *t)
{
    return t->snd.buf.used + (t->snd.refs ? t->snd.refs->bytes : 0);
}
/* The sequence number after the last byte queued (where a FIN goes). */
static inline uint32_t tcp_snd_end(const tcb *t) { return t->snd.buf_seq + tcp_snd_queued(t); }
/* Where `len` stream bytes from `off` past SND.buf_seq lie: up to `max`
 * pieces; *covered says how many bytes they hold (less when more pieces
 * would be needed). Returns the count of pieces. */
uint32_t tcp_snd_span(const tcb *t, uint32_t off, uint32_t len, synack_iov *v, uint32_t max,
                      uint32_t *covered);
/* Copy `len` stream bytes from `off` to out. */
void tcp_snd_copy(const tcb *t, uint32_t off, uint32_t len, uint8_t *out);
/* Drop n acknowledged bytes from the stream's front (ring and references),
 * moving SND.buf_seq; a reference all acknowledged is released. */
void tcp_snd_consume(tcb *t, uint32_t n);
ssize_t tcp_user_send_ref(tcb *t, const void *buf, size_t len);
uint32_t tcp_snd_refs_done(const tcb *t);
/* Nothing more will be sent: release every reference. */
void tcp_snd_refs_drop(tcb *t);
/* The handle is given up: copy referenced bytes into the ring. 0 or -errno
 * (they could not be kept: the caller resets the connection). */
int tcp_snd_refs_absorb(tcb *t);
void tcp_snd_refs_free(tcb *t);
/* Free the emptied reference tables kept for reuse (at the end). */
void tcp_snd_refs_free_spares(tcp_ctx *c);

static inline bool tcb_synchronized(const tcb *t) { return t->state >= SYNACK_ESTABLISHED; }
/* Segments in `bytes`, rounded up (as Linux counts DSACKed ones). */
static inline uint32_t tcp_segments(const tcb *t, uint32_t bytes)
{
    uint32_t mss = t->opts.snd_mss ? t->opts.snd_mss : 1;
    return (uint32_t)(((uint64_t)bytes + mss - 1) / mss);
}
static inline bool tcb_send_open(const tcb *t)
{
    return t->state == SYNACK_ESTABLISHED || t->state == SYNACK_CLOSE_WAIT ||
           t->state == SYNACK_SYN_SENT || t->state == SYNACK_SYN_RECEIVED;
}

#endif
