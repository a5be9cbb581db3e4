/*
 * relay.h — one TCP connection carried between a synack socket (the
 * namespace's side) and a host kernel socket, faithful to TCP's life:
 *
 *  - data both ways through a bounded buffer per direction; a side that
 *    cannot take more stops the reads on the other (back-pressure);
 *  - an EOF on one side becomes a FIN on the other (shutdown(SHUT_WR) on
 *    the host socket, synack_shutdown(SHUT_WR) on the synack one), and the
 *    other direction goes on flowing until it ends too (half-close);
 *  - a reset on one side becomes a reset on the other: ECONNRESET (or any
 *    other error) on the host socket -> synack_abort; a reset, refused or
 *    timed-out synack socket -> the host socket closed with SO_LINGER
 *    {1, 0}, so the kernel sends a RST;
 *  - both ends are let go when both directions have ended.
 *
 * Either side may still be opening when the relay starts: the synack socket
 * in SYN-SENT (port forwarding: a host connection accepted, the namespace
 * not yet answered) or the host socket still connecting (EINPROGRESS:
 * connections out of the namespace). Nothing flows until both are up; a
 * refusal on either side resets the other.
 *
 * The owner runs the loop: it adds nothing to epoll itself (the relay
 * registers its host socket, edge-triggered, with a watch as data.ptr; or
 * takes it over from the caller, see relay_start), forwards the
 * stack's socket events to the sockets' owners (watch.h), and calls relay_reap after
 * each round of events, when no pointer to a finished relay is left.
 */
#ifndef SYNACK_TOOL_RELAY_H
#define SYNACK_TOOL_RELAY_H

#include <stdint.h>
#include <stdio.h>

#include "synack.h"

typedef struct relay_ctx relay_ctx;
typedef struct relay relay;

/* "In" is into the namespace (host -> synack socket), "out" out of it. */
typedef struct relay_counters {
    uint64_t started;    /* RelayStarted                                   */
    uint64_t active;     /* RelayActive: started, not yet ended             */
    uint64_t closed;     /* RelayClosed: both directions ended with a FIN   */
    uint64_t ns_reset;   /* RelayNsReset: the namespace side reset (or timed
                            out): the host side was reset                  */
    uint64_t host_reset; /* RelayHostReset: the host side reset or failed:
                            the namespace side was reset                   */
    uint64_t refused;    /* RelayRefused: a side refused the connection     */
    uint64_t stopped;    /* RelayStopped: ended by relay_stop_all (exit)    */
    uint64_t host_time_wait; /* RelayHostTimeWait: closed with our FIN first on
                            the host side, whose socket (and port) the host
                            keeps in TIME-WAIT for 60 s (logged with its ends) */
    uint64_t bytes_in, bytes_out; /* RelayBytesIn, RelayBytesOut            */
} relay_counters;

/* A set of relays on epoll instance `epfd` (not owned). `log`: where the
 * one-line summary of each ended relay goes, NULL for none. */
relay_ctx *relay_ctx_new(int epfd, FILE *log);
/* The congestion control (TCP_CONGESTION) of host sockets whose peer is a
 * loopback address, NULL for the system's default (`synack netns
 * --loopback-cc`, docs/cli.md says why). `name` is not copied. */
void relay_set_loopback_cc(relay_ctx *c, const char *name);
/* Give host socket `fd`, about to connect to `peer`, the loopback
 * congestion control when `peer` is a loopback address. */
struct sockaddr_storage;
void relay_host_cc(const relay_ctx *c, int fd, const struct sockaddr_storage *peer);
/* The same for one that connected to `peer` within connect(): only a
 * handshake on this host (or a veth away) is over that soon, so whatever
 * its address the kernel carries it over loopback too. Switched after the
 * handshake, it stops most of the pacing (bench/README.md, session 19). */
void relay_host_cc_connected(const relay_ctx *c, int fd, const struct sockaddr_storage *peer);
/* The same for one accepted from `peer`: a loopback peer, or one at the
 * very address it reached (the host reaching itself). */
void relay_host_cc_accepted(const relay_ctx *c, int fd, const struct sockaddr_storage *peer);
/* 1 when host socket `fd` is connected, 0 while its connect is in
 * progress (or failed: epoll then says so). */
int relay_host_connected(int fd);
/* The host socket's peer, when the caller knows it (the address it
 * connected to, or accept's): the log line then asks the kernel only for
 * the local end. NULL r is ignored. */
void relay_set_host_peer(relay *r, const struct sockaddr_storage *ss);
/* Reset every relay still running (both sides), each logged and counted
 * as stopped: the counters printed after this are the run's last. */
void relay_stop_all(relay_ctx *c);
/* relay_stop_all, and free everything. */
void relay_ctx_free(relay_ctx *c);

/* A label's room: two IPv6 endpoints and a forward's "(seen as ...)". */
#define RELAY_LABEL_LEN 176

/* Relay between `ns` and `host_fd` (a connected or connecting stream
 * socket), both owned by the relay from now on; `label` (copied, at most
 * RELAY_LABEL_LEN - 1 bytes kept) names the connection in the log, e.g.
 * "127.0.0.1:40412 -> 10.0.2.100:8080 (seen as 10.0.2.2:53990)". The
 * relay sets itself as `ns`'s user pointer (synack_sock_set_user). Returns
 * the relay, or NULL when out of memory (both sides then reset and
 * closed). */
relay *relay_start(relay_ctx *c, synack_sock *ns, int host_fd, const char *label,
                   unsigned flags);
/* flags: RELAY_HOST_CONNECTED, the caller knows host_fd is connected (else
 * the relay asks the kernel); RELAY_HOST_REGISTERED, host_fd is in the epoll
 * set already with relay_host_events() (the relay changes its data.ptr
 * rather than adding it: one epoll_ctl instead of a delete and an add). */
#define RELAY_HOST_CONNECTED 1u
#define RELAY_HOST_REGISTERED 2u
/* The epoll events a relay's host socket is registered with (edge
 * triggered): a caller that registered it already uses the same. */
uint32_t relay_host_events(void);
/* The socket's user pointer is the relay's sock_owner (watch.h): the
 * loop's stack event hook calls its on_event. */


/* Free the relays that have ended. Call it when no epoll event or stack
 * event in hand can still point to one (after each round of the loop). */
void relay_reap(relay_ctx *c);

const relay_counters *relay_get_counters(const relay_ctx *c);
/* The counters as nstat-style "Name value" lines (all, zeros included). */
void relay_print_counters(const relay_ctx *c, FILE *f);

#endif
