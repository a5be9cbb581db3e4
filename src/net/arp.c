/* arp.c — RFC 826 for Ethernet/IPv4: answer requests for our address,
 * resolve next hops, cache with expiry, hold a few packets while resolving,
 * announce our address (gratuitous ARP, RFC 5227 §3).
 *
 * An entry is fresh for ARP_TIMEOUT_NS after it was learnt. A stale entry is
 * still used (traffic does not stall) while a request goes out once per
 * ARP_RETRY_NS to refresh it; one not confirmed within a second
 * ARP_TIMEOUT_NS is forgotten and resolved again from scratch.
 *
 * Resolving runs on its own timer, as Linux's neighbour code does: a
 * request every ARP_RETRY_NS, and after ARP_PROBES unanswered ones the next
 * hop is unreachable: its queued packets are dropped, the entry freed, and
 * connections still opening towards it fail with EHOSTUNREACH instead of
 * waiting out their SYN retries. */
#include "net/net.h"

#include <string.h>

static const uint8_t BROADCAST[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static arp_entry *arp_find(net_ctx *n, uint32_t ip)
{
    for (int i = 0; i < ARP_ENTRIES; i++)
        if (n->arp[i].state != ARP_FREE && n->arp[i].ip == ip)
            return &n->arp[i];
    return NULL;
}

/* A free slot, else the dynamic entry closest to expiry. */
static void drop_pending(net_ctx *n, arp_entry *e, bool count)
{
    for (int i = 0; i < e->npending; i++) {
        mem_free(&n->cfg->alloc, e->pending[i]);
        e->pending[i] = NULL;
        if (count)
            n->ctr->arp_unresolved_drops++;
    }
    e->npending = 0;
}

static arp_entry *arp_slot(net_ctx *n)
{
    arp_entry *victim = NULL;
    for (int i = 0; i < ARP_ENTRIES; i++) {
        arp_entry *e = &n->arp[i];
        if (e->state == ARP_FREE)
            return e;
        if (e->state != ARP_STATIC && (!victim || e->expires < victim->expires))
            victim = e;
    }
    if (victim) {
        drop_pending(n, victim, true);
        memset(victim, 0, sizeof(*victim));
    }
    return victim;
}

static void send_frame(net_ctx *n, const uint8_t dst[6], uint8_t *l3, size_t len, uint16_t type)
{
    uint8_t *frame = l3 - WIRE_ETH_HDR_LEN;
    wire_eth_emit(frame, WIRE_ETH_HDR_LEN, dst, n->cfg->mac, type);
    net_transmit(n, frame, len + WIRE_ETH_HDR_LEN);
}

static void send_arp(net_ctx *n, uint16_t op, const uint8_t tha[6], uint32_t tpa,
                     const uint8_t eth_dst[6])
{
    wire_arp a = {.op = op, .spa = n->cfg->ip, .tpa = tpa};
    memcpy(a.sha, n->cfg->mac, 6);
    memcpy(a.tha, tha, 6);
    uint8_t *l3 = n->buf + WIRE_ETH_HDR_LEN;
    wire_arp_emit(l3, WIRE_ARP_LEN, &a);
    send_frame(n, eth_dst, l3, WIRE_ARP_LEN, WIRE_ETHERTYPE_ARP);
}

static void learn(net_ctx *n, uint32_t ip, const uint8_t mac[6], bool create)
{
    arp_entry *e = arp_find(n, ip);
    if (!e && !create)
        return;
    if (!e && !(e = arp_slot(n)))
        return;
    if (e->state == ARP_STATIC)
        return;
    e->ip = ip;
    memcpy(e->mac, mac, 6);
    e->state = ARP_RESOLVED;
    e->expires = n->now + ARP_TIMEOUT_NS;
    e->retry_at = 0;
    /* Send what waited, oldest first. Each stored copy has 14 bytes of
     * headroom in front of the packet. */
    int np = e->npending;
    e->npending = 0;
    for (int i = 0; i < np; i++) {
        uint8_t *p = e->pending[i];
        e->pending[i] = NULL;
        send_frame(n, e->mac, p + WIRE_ETH_HDR_LEN, e->pending_len[i], WIRE_ETHERTYPE_IPV4);
        mem_free(&n->cfg->alloc, p);
    }
}

void arp_input(net_ctx *n, const uint8_t *p, size_t len)
{
    wire_arp a;
    if (wire_arp_parse(p, len, &a) != WIRE_OK) {
        n->ctr->arp_malformed++;
        return;
    }
    bool for_us = a.tpa == n->cfg->ip;
    learn(n, a.spa, a.sha, for_us); /* RFC 826: merge, and add if addressed to us */
    if (for_us && a.op == WIRE_ARP_REQUEST) {
        n->ctr->arp_requests_answered++;
        send_arp(n, WIRE_ARP_REPLY, a.sha, a.spa, a.sha);
    }
}

static void send_request(net_ctx *n, uint32_t hop)
{
    static const uint8_t zero[6] = {0};
    n->ctr->arp_requests_sent++;
    send_arp(n, WIRE_ARP_REQUEST, zero, hop, BROADCAST);
}

void arp_output(net_ctx *n, uint32_t hop, uint8_t *pkt, size_t pkt_len)
{
    arp_entry *e = arp_find(n, hop);
    if (e && e->state == ARP_RESOLVED && e->expires <= n->now &&
        n->now - e->expires < ARP_TIMEOUT_NS) {
        /* Stale: keep using it, and ask again now and then. */
        if (e->retry_at <= n->now) {
            e->retry_at = n->now + ARP_RETRY_NS;
            send_request(n, hop);
        }
        send_frame(n, e->mac, pkt, pkt_len, WIRE_ETHERTYPE_IPV4);
        return;
    }
    if (e && (e->state == ARP_STATIC || (e->state == ARP_RESOLVED && e->expires > n->now))) {
        send_frame(n, e->mac, pkt, pkt_len, WIRE_ETHERTYPE_IPV4);
        return;
    }
    if (!e) {
        if (!(e = arp_slot(n))) {
            n->ctr->arp_unresolved_drops++;
            return;
        }
        e->ip = hop;
        e->state = ARP_PENDING;
        e->expires = 0;
    } else if (e->state == ARP_RESOLVED) {
        e->state = ARP_PENDING; /* long unconfirmed: resolve again */
        e->expires = 0;
    }
    /* Hold the packet; when the queue is full the oldest one is dropped. */
    uint8_t *copy = mem_alloc(&n->cfg->alloc, pkt_len + WIRE_ETH_HDR_LEN);
    if (copy) {
        if (e->npending == ARP_QUEUE) {
            n->ctr->arp_unresolved_drops++;
            mem_free(&n->cfg->alloc, e->pending[0]);
            memmove(e->pending, e->pending + 1, (ARP_QUEUE - 1) * sizeof(e->pending[0]));
            memmove(e->pending_len, e->pending_len + 1,
                    (ARP_QUEUE - 1) * sizeof(e->pending_len[0]));
            e->npending--;
        }
        memcpy(copy + WIRE_ETH_HDR_LEN, pkt, pkt_len);
        e->pending[e->npending] = copy;
        e->pending_len[e->npending++] = pkt_len;
    } else {
        n->ctr->arp_unresolved_drops++;
    }
    if (e->expires <= n->now) {
        e->expires = n->now + ARP_RETRY_NS;
        e->probes = 1;
        send_request(n, hop);
    }
}

/* The next hop never answered: drop what waited for it, forget it, and
 * fail the connections opening towards it (through it, for the gateway). */
static void unreachable(net_ctx *n, arp_entry *e)
{
    const synack_config *cfg = n->cfg;
    uint32_t hop = e->ip;
    n->ctr->arp_resolve_failed++;
    drop_pending(n, e, true);
    memset(e, 0, sizeof(*e));
    uint8_t len = cfg->prefix_len > 32 ? 32 : cfg->prefix_len;
    uint32_t mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
    tcp_hop_unreachable(n->tcp, hop, cfg->ip & mask, mask, cfg->gateway && hop == cfg->gateway);
}

void arp_timers(net_ctx *n)
{
    for (int i = 0; i < ARP_ENTRIES; i++) {
        arp_entry *e = &n->arp[i];
        if (e->state != ARP_PENDING || e->expires > n->now)
            continue;
        if (e->probes >= ARP_PROBES) {
            unreachable(n, e);
            continue;
        }
        e->probes++;
        e->expires = n->now + ARP_RETRY_NS;
        send_request(n, e->ip);
    }
}

uint64_t arp_next_deadline(const net_ctx *n)
{
    uint64_t best = UINT64_MAX;
    for (int i = 0; i < ARP_ENTRIES; i++)
        if (n->arp[i].state == ARP_PENDING && n->arp[i].expires < best)
            best = n->arp[i].expires;
    return best;
}

void arp_announce(net_ctx *n)
{
    static const uint8_t zero[6] = {0};
    if (n->cfg->link != SYNACK_LINK_ETHERNET)
        return;
    /* RFC 5227 §3: a request with sender and target both our address. */
    send_arp(n, WIRE_ARP_REQUEST, zero, n->cfg->ip, BROADCAST);
}

int arp_add_static(net_ctx *n, uint32_t ip, const uint8_t mac[6])
{
    arp_entry *e = arp_find(n, ip);
    if (!e && !(e = arp_slot(n)))
        return -1;
    drop_pending(n, e, false);
    e->ip = ip;
    memcpy(e->mac, mac, 6);
    e->state = ARP_STATIC;
    return 0;
}
