/* netns_out.h — connections out of the namespace (`synack netns`): every
 * SYN the namespace sends is held by a synack_listen_any listener until a
 * host socket has connected to its original destination; then it is
 * confirmed and relayed (relay.h), or refused as the host refused us. */
#ifndef SYNACK_TOOL_NETNS_OUT_H
#define SYNACK_TOOL_NETNS_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "netns_map.h"
#include "relay.h"
#include "synack.h"
#include "watch.h"

typedef struct out_counters {
    uint64_t opened;         /* RelayOutOpened: confirmed and relayed        */
    uint64_t refused;        /* RelayOutRefused: the host said ECONNREFUSED  */
    uint64_t unreachable;    /* RelayOutUnreachable: any other connect error */
    uint64_t port_exhausted; /* RelayOutPortExhausted: no host port (or fd) free */
    uint64_t abandoned;      /* RelayOutAbandoned: the namespace gave up first */
} out_counters;

typedef struct out_ctx {
    sock_owner owner;       /* the listener's                              */
    int ep;
    relay_ctx *rc;
    FILE *log;              /* a line per refused connection; NULL: none  */
    synack_sock *listener, *listener6;
    netns_map map;          /* where destinations are on the host           */
    int ipv6;               /* listen for IPv6 connections too              */
    uint64_t pending;       /* SYNs held now                                */
    uint64_t no_port_logged_at; /* dev_now() of the last "no free host port" line */
    uint64_t no_port_unlogged;  /* such drops since that line                  */
    out_counters n;
} out_ctx;

/* Fill map and ipv6 first. Impersonates every IPv4 address (and IPv6 one)
 * on `s` and listens for SYNs to all of them. 0, or -1. */
int out_open(out_ctx *o, synack_stack *s, int ep, relay_ctx *rc, FILE *log);
void out_print_counters(const out_ctx *o, FILE *f);

#endif
