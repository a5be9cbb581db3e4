/* arp.c — RFC 826 for Ethernet/IPv4: answer requests for our address,
 * resolve next hops, cache with expiry, hold one packet while resolving. */
#include "net/net.h"

#include <stdlib.h>
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
        free(victim->pending);
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
    if (e->pending) {
        uint8_t *p = e->pending;
        size_t len = e->pending_len;
        e->pending = NULL;
        /* The stored copy has 14 bytes of headroom in front of the packet. */
        send_frame(n, e->mac, p + WIRE_ETH_HDR_LEN, len, WIRE_ETHERTYPE_IPV4);
        free(p);
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

void arp_output(net_ctx *n, uint32_t hop, uint8_t *pkt, size_t pkt_len)
{
    arp_entry *e = arp_find(n, hop);
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
        e->state = ARP_PENDING; /* expired: ask again, keep the old MAC meanwhile */
        e->expires = 0;
    }
    /* Hold the newest packet; an older one waiting is dropped and counted. */
    uint8_t *copy = malloc(pkt_len + WIRE_ETH_HDR_LEN);
    if (copy) {
        if (e->pending)
            n->ctr->arp_unresolved_drops++;
        free(e->pending);
        memcpy(copy + WIRE_ETH_HDR_LEN, pkt, pkt_len);
        e->pending = copy;
        e->pending_len = pkt_len;
    } else {
        n->ctr->arp_unresolved_drops++;
    }
    if (e->expires <= n->now) {
        e->expires = n->now + ARP_RETRY_NS;
        n->ctr->arp_requests_sent++;
        static const uint8_t zero[6] = {0};
        send_arp(n, WIRE_ARP_REQUEST, zero, hop, BROADCAST);
    }
}

int arp_add_static(net_ctx *n, uint32_t ip, const uint8_t mac[6])
{
    arp_entry *e = arp_find(n, ip);
    if (!e && !(e = arp_slot(n)))
        return -1;
    free(e->pending);
    e->pending = NULL;
    e->ip = ip;
    memcpy(e->mac, mac, 6);
    e->state = ARP_STATIC;
    return 0;
}
