/*
 * tw_table.h — inside the TIME-WAIT table, for the files that make it up
 * (see timewait.h for what the table is and how the rest of TCP uses it):
 *   tw_table.c    the storage: slabs, hash, expiry lists, ending an entry
 *   timewait.c    entering TIME-WAIT, and the application's handles
 *   tw_input.c    segments for an entry (RFC 9293 §3.10.7.4, PAWS, RFC 1337, RFC 6191)
 *   tw_reuse.c    tcp_tw_reuse: may a new connection take the 4-tuple?
 *   tw_recycle.c  tcp_tw_recycle and its per-peer timestamp cache
 */
#ifndef SYNACK_TCP_TW_TABLE_H
#define SYNACK_TCP_TW_TABLE_H

#include "tcp/timewait.h"

#define PAWS_WINDOW 1              /* Linux TCP_PAWS_WINDOW                 */
#define PAWS_MSL_MS 60000u         /* Linux TCP_PAWS_MSL (60 s)             */
#define PAWS_24DAYS_MS (24u * 86400u * 1000u)
/* Records come in slabs of TW_SLAB that never move, so growing the table
 * costs at most one slab of slack and no copying. */
#define TW_SLAB 256

typedef struct tcp_tw_table {
    tcp_tw **slabs;                          /* TW_SLAB records each      */
    uint8_t (**addr6)[16];                   /* per slab: IPv6 peers of its
                                                records, NULL until one  */
    uint8_t (**local)[16];                   /* per slab: local addresses
                                                not our own (TW_F_LOCAL;
                                                IPv4 in the first 4 bytes),
                                                NULL until one           */
    uint32_t cap, count, free_head;          /* free list through hnext   */
    uint32_t *buckets;
    uint32_t nbuckets;
    uint32_t head[2], tail[2];               /* [0] 2MSL list, [1] short  */
    tcb *handles;                            /* detached TIME-WAIT tcbs   */
    struct tw_peer *peers;                   /* tcp_tw_recycle cache      */
} tcp_tw_table;

/* Milliseconds of the stack clock, truncated to 32 bits, compared with
 * wrap-around like Linux's 32-bit jiffies stamps. */
static inline uint32_t now_ms(const tcp_ctx *c) { return (uint32_t)(c->now / NS_PER_MS); }
static inline bool ms_before_eq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

/* Record i (1-based; 0 is "none"). */
static inline tcp_tw *rec(const tcp_tw_table *tw, uint32_t i)
{
    return &tw->slabs[(i - 1) / TW_SLAB][(i - 1) % TW_SLAB];
}

/* ------------------------------------------------------------ tw_table.c */
/* A free record, counted in; 0 when there is no memory. */
uint32_t tw_alloc(tcp_ctx *c);
/* Give back a record tw_alloc returned that was never filed. */
void tw_unalloc(tcp_ctx *c, uint32_t i);
/* Set and get record i's peer address. Setting an IPv6 one may allocate
 * its slab's address array: -1 without memory. */
int tw_set_peer(tcp_ctx *c, uint32_t i, const synack_addr *peer);
synack_addr tw_peer_addr(const tcp_ctx *c, uint32_t i);
/* Set and get record i's local address (after its peer: same family). Only
 * an address not the stack's own takes room (TW_F_LOCAL): -1 without it. */
int tw_set_local(tcp_ctx *c, uint32_t i, const synack_addr *local);
synack_addr tw_local_addr(const tcp_ctx *c, uint32_t i);
/* File a filled-in record: hashed, and on the short (recycle) or 2MSL list. */
void tw_file(tcp_ctx *c, uint32_t i, bool short_list);
/* The record holding this 4-tuple, or 0. */
uint32_t tw_find(const tcp_ctx *c, const synack_addr *lip, uint16_t lport, const synack_addr *rip,
                 uint16_t rport);
/* Restart the entry's timer at the full 2MSL. */
void tw_restart(tcp_ctx *c, uint32_t i);
uint32_t tw_length_ms(const tcp_ctx *c);
/* Delete entry i; its handle, if any, turns CLOSED (with `cause`). */
void tw_kill(tcp_ctx *c, uint32_t i, synack_cause cause);
/* The application's handle of entry i's connection; unlinked if asked. */
tcb *tw_find_handle(tcp_tw_table *tw, uint32_t id, bool unlink);
/* Count a drop against the entry and trace it. */
void tw_drop(tcp_ctx *c, uint32_t i, synack_drop why);

/* ------------------------------------------------------------ tw_recycle.c */
/* The entry is about to be filed: with tcp_tw_recycle, remember the peer's
 * timestamp and cut *len_ms to 3.5 x RTO. True if it was cut. */
bool tw_recycle_shorten(tcb *t, const tcp_tw *r, uint32_t *len_ms);
void tw_recycle_free(tcp_ctx *c);

#endif
