/* netns_udp.h — UDP out of the namespace (`synack netns`): every datagram
 * the namespace sends, to any address, is carried by a host UDP socket of
 * its flow, and the answers come back from the address it was sent to. */
#ifndef SYNACK_TOOL_NETNS_UDP_H
#define SYNACK_TOOL_NETNS_UDP_H

#include <stdint.h>
#include <stdio.h>

#include "synack.h"
#include "netns_map.h"
#include "watch.h"

#define UDP_FLOW_BUCKETS 1024
#define UDP_FLOWS_MAX 4096    /* beyond, the flow idle longest is closed   */
#define UDP_IDLE_S 60         /* a flow with no datagram either way this long
                                 is closed (Linux's conntrack keeps an
                                 unanswered UDP flow 30 s, an answered 120 s) */

typedef struct uflow uflow;

typedef struct udp_counters {
    uint64_t flows;          /* UdpFlowsOpened                              */
    uint64_t expired;        /* UdpFlowsExpired: idle, or evicted at the cap  */
    uint64_t out, in;        /* UdpRelayOut, UdpRelayIn: datagrams each way */
    uint64_t dropped;        /* UdpRelayDropped: a side could not take one  */
    uint64_t unreachable;    /* UdpRelayUnreachable: ICMP unreachable sent into
                                the namespace (the host heard one, or nothing
                                is there)                                   */
} udp_counters;

typedef struct netns_udp {
    udp_owner owner;
    int ep;
    synack_udp *any, *any6;  /* transparent: every address, every port     */
    netns_map map;           /* where destinations are on the host           */
    int ipv6;
    uflow *buckets[UDP_FLOW_BUCKETS];
    uflow *oldest, *newest;  /* every flow, by last use                      */
    size_t nflows;
    uint64_t now;
    udp_counters n;
    uint8_t buf[65536];
} netns_udp;

/* Fill map and ipv6 first. 0, or -1. */
int netns_udp_open(netns_udp *u, synack_stack *s, int ep);
/* Close the flows idle for UDP_IDLE_S; call it now and then (`now`: ns). */
void netns_udp_sweep(netns_udp *u, uint64_t now);
void netns_udp_close(netns_udp *u);
void netns_udp_print_counters(const netns_udp *u, FILE *f);

#endif
