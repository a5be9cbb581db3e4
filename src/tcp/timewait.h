/*
 * timewait.h — the compact TIME-WAIT table (Linux's tcp_minisocks territory).
 *
 * When a connection enters TIME-WAIT its full record (tcb, buffers, timers)
 * is given up and a small tcp_tw record (< 64 bytes) carries on: the 4-tuple
 * (an IPv6 peer's address in a side array, 16 more bytes, filled only in
 * slabs that hold IPv6 records),
 * SND.NXT, RCV.NXT, the window we announced, TS.Recent with its age, the
 * timestamp offset and the expiry. Records live in fixed slabs, addressed by
 * index (32-bit links keep the record small), in their own hash table,
 * and on one of two expiry lists:
 *   - the 2MSL list: every entry lives exactly 2 x MSL from its (re)start and
 *     `now` never runs backwards, so appending keeps it sorted: O(1) FIFO;
 *   - the short list: tcp_tw_recycle's 3.5 x RTO entries, kept sorted by
 *     inserting from the tail (RTOs of one stack are alike, so O(1) typically).
 * The table is bounded by tcp_max_tw_buckets; when it is full a connection
 * skips TIME-WAIT and TcpExtTCPTimeWaitOverflow counts it, as Linux does.
 *
 * Handles: an application may still hold the handle of a connection that
 * went to TIME-WAIT. That handle stays a detached tcb in state TIME-WAIT: it
 * is in no table and has no timer, its send buffer is freed and its receive
 * buffer only kept while unread data remain. The protocol side is the record,
 * flagged TW_F_HANDLE; when the record ends (2MSL, RST, a new SYN, reuse) the
 * handle turns CLOSED and gets SYNACK_EV_CLOSED. Closing the handle only
 * unflags the record; aborting it deletes the record too (RFC 9293 §3.10.5).
 */
#ifndef SYNACK_TCP_TIMEWAIT_H
#define SYNACK_TCP_TIMEWAIT_H

#include "tcp/tcp.h"

enum {
    TW_F_TS = 1u << 0,     /* timestamps were in use: PAWS applies          */
    TW_F_SHORT = 1u << 1,  /* on the short (recycle) list                   */
    TW_F_HANDLE = 1u << 2, /* an application still holds the tcb            */
    TW_F_V6 = 1u << 3,     /* an IPv6 connection: the peer is in tw->addr6   */
    TW_F_LOCAL = 1u << 4,  /* the local address is not the stack's own (an
                              impersonated or transparent one): in tw->local */
};

/* One TIME-WAIT entry. Links are record index + 1 (0 = none). Times are
 * milliseconds of the stack clock, truncated to 32 bits and compared with
 * wrap-around, like Linux's 32-bit jiffies stamps. */
typedef struct tcp_tw {
    uint32_t hnext, lnext, lprev; /* hash chain; expiry list            */
    uint32_t id;                  /* the connection's trace id          */
    uint32_t rip;                 /* IPv4 peer (the local address is the
                                     stack's own in the entry's family,
                                     unless TW_F_LOCAL)                  */
    uint16_t lport, rport;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t ts_recent, ts_offset;
    uint32_t ts_stamp_ms;         /* when TS.Recent was last taken        */
    uint32_t expire_ms;
    uint32_t last_oow_ms;         /* last rate-limited ACK we sent        */
    uint16_t wnd;                 /* window field we announce             */
    uint8_t flags;                /* TW_F_*                               */
    uint8_t pad;
} tcp_tw;

/* What a TIME-WAIT entry says about an outgoing connection's 4-tuple. */
typedef enum tw_verdict {
    TW_FREE = 0,   /* no TIME-WAIT entry holds the 4-tuple          */
    TW_REUSABLE,   /* one does, and tcp_tw_reuse lets us take it    */
    TW_BUSY,       /* one does and must be left alone               */
} tw_verdict;

/* What TIME-WAIT input decided. */
typedef enum tw_result {
    TW_NONE = 0,   /* no entry for this 4-tuple: go on to listeners  */
    TW_DONE,       /* the entry consumed the segment                 */
    TW_SYN,        /* a SYN starts a new incarnation: give it to the
                      listener with *isn as our ISN                  */
} tw_result;

int tcp_tw_init(tcp_ctx *c);
void tcp_tw_free(tcp_ctx *c);

/* Enter TIME-WAIT from FIN-WAIT-1/2 or CLOSING (sends an owed ACK first). */
void tcp_tw_enter(tcb *t, synack_cause cause);

/* TIME-WAIT input for a segment no connection claimed. `listener` says
 * whether a listener would take a new incarnation's SYN. */
tw_result tcp_tw_input(tcp_ctx *c, const synack_addr *src, const synack_addr *dst,
                       const wire_tcp *seg, bool listener, uint32_t *isn);

/* Expire entries whose time has come; the earliest expiry (ns) or UINT64_MAX. */
void tcp_tw_timers(tcp_ctx *c);
uint64_t tcp_tw_next_deadline(const tcp_ctx *c);

/* Port selection and connect: may a new connection use this 4-tuple? */
tw_verdict tcp_tw_check(tcp_ctx *c, const synack_addr *lip, uint16_t lport, const synack_addr *rip,
                        uint16_t rport);
/* Take over a reusable entry for `t` (4-tuple already set): ISS above the
 * old SND.NXT, TS.Recent inherited, the entry deleted, TcpExtTWRecycled. */
void tcp_tw_reuse(tcb *t);

/* Does any TIME-WAIT entry of `family` (0: either) hold local port `port`?
 * (bind without SO_REUSEADDR) */
bool tcp_tw_port_held(const tcp_ctx *c, uint16_t port, int family);

/* The application gives up a TIME-WAIT handle: close keeps the entry,
 * abort (kill = true) deletes it. Leaves the tcb CLOSED and releasable. */
void tcp_tw_drop_handle(tcb *t, bool kill);

/* tcp_tw_recycle: may a passive open go ahead for this SYN? (pre-4.12
 * Linux: not when the peer's cached timestamp is newer, within 60 s.) */
bool tcp_tw_recycle_syn_ok(tcp_ctx *c, const synack_addr *rip, const wire_tcp *seg);

/* Entries in the table now (for tests and the lab). */
uint32_t tcp_tw_count(const tcp_ctx *c);

#endif
