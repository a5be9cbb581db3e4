/* neigh.h — the neighbour table ARP (IPv4) and Neighbour Discovery (IPv6)
 * share: next hop -> MAC, with expiry, and a few packets held while a next
 * hop is being resolved. What differs between the families (how to ask,
 * what to do when nobody answers) is two hooks in the table. */
#ifndef SYNACK_NET_NEIGH_H
#define SYNACK_NET_NEIGH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "synack.h"

#define NEIGH_ENTRIES 64 /* per table (per family) */
/* IP packets held per next hop while it is being resolved: at most this
 * many bytes (Linux's unres_qlen_bytes default, so a 64 KiB datagram's
 * fragments all wait) and this many packets; the oldest go first. */
#define NEIGH_QUEUE_BYTES 212992
#define NEIGH_QUEUE_MAX 256
#define NEIGH_PROBES 3   /* solicitations, NEIGH_RETRY_NS apart, before a next hop is
                            unreachable (Linux's mcast_solicit and retrans_time), and
                            unicast probes before a stale entry in use is dropped
                            (ucast_solicit; RFC 4861's MAX_UNICAST_SOLICIT) */
#define NEIGH_RETRY_NS (1000ULL * 1000000ULL)

/* RFC 4861 §7.3.2's states: PENDING is INCOMPLETE; RESOLVED is REACHABLE
 * until `expires`, then STALE; PROBE is DELAY and then PROBE. */
enum { NEIGH_FREE = 0, NEIGH_PENDING, NEIGH_RESOLVED, NEIGH_STATIC, NEIGH_PROBE };

/* A packet waiting for its next hop, with 14 bytes of headroom in front of
 * it for the Ethernet header. */
typedef struct neigh_held {
    struct neigh_held *next;
    size_t len;
    uint8_t frame[]; /* WIRE_ETH_HDR_LEN + len */
} neigh_held;

typedef struct neigh_entry {
    synack_addr addr;
    uint8_t mac[6];
    uint8_t state;      /* NEIGH_FREE, _PENDING, _RESOLVED, _STATIC, _PROBE */
    uint16_t npending;
    uint8_t probes;     /* pending: solicitations sent; probe: unicast probes sent */
    uint64_t expires;   /* resolved: fresh until; pending: next solicitation;
                           probe: when it went stale                      */
    uint64_t retry_at;  /* probe: the next probe, or the verdict            */
    /* IP packets waiting for resolution (owned, oldest first). */
    neigh_held *held, *held_tail;
    uint32_t held_bytes;
} neigh_entry;

struct net_ctx;

typedef struct neigh_table {
    neigh_entry e[NEIGH_ENTRIES];
    uint32_t timed;         /* entries NEIGH_PENDING or NEIGH_PROBE: the
                               timers scan the table only when there is one
                               (set_state)                                  */
    uint16_t ethertype;     /* of the packets it carries                      */
    uint64_t reachable_ns;  /* fresh this long after a confirmation, then used
                               while stale as long again before resolving anew */
    uint64_t first_probe_ns;/* a stale entry's first probe waits this long
                               after its first use (ND's DELAY state; ARP: 0) */
    uint64_t *drops;        /* the counter of packets dropped unresolved      */
    /* Ask for `hop`'s MAC: to everyone (broadcast, or the solicited-node
     * group) when `mac` is NULL, else to `mac` alone (a probe). */
    void (*solicit)(struct net_ctx *n, const synack_addr *hop, const uint8_t *mac);
    /* `hop` never answered; its packets are gone already. */
    void (*unreachable)(struct net_ctx *n, const synack_addr *hop);
} neigh_table;

/* What a message tells about a neighbour's MAC (RFC 4861 §7.2.5's flags;
 * an ARP packet is both). */
enum {
    NEIGH_CREATE = 1,    /* add the neighbour if it is not in the table    */
    NEIGH_CONFIRMED = 2, /* it is reachable now (solicited answer)         */
    NEIGH_OVERRIDE = 4,  /* its MAC replaces the one held                  */
};

neigh_entry *neigh_find(neigh_table *t, const synack_addr *a);
/* Update from a message; `mac` may be NULL (an NA without a target
 * link-layer option). A newly resolved entry sends what waited for it. */
void neigh_learn(struct net_ctx *n, neigh_table *t, const synack_addr *a, const uint8_t *mac,
                 unsigned how);
/* Send an IP packet (at `pkt`, with 14 bytes of headroom) to next hop
 * `hop`: at once when its MAC is known, else a copy is held and `hop`
 * resolved. False when it was dropped (counted in the table's drops). */
bool neigh_output(struct net_ctx *n, neigh_table *t, const synack_addr *hop, uint8_t *pkt,
                  size_t len);
/* Solicit again, or give up on a next hop after NEIGH_PROBES; probe a
 * stale entry in use, or drop it after NEIGH_PROBES unanswered probes. */
void neigh_timers(struct net_ctx *n, neigh_table *t);
uint64_t neigh_next_deadline(const neigh_table *t);
int neigh_add_static(struct net_ctx *n, neigh_table *t, const synack_addr *a,
                     const uint8_t mac[6]);
/* Free the held packets. */
void neigh_free(struct net_ctx *n, neigh_table *t);

#endif
