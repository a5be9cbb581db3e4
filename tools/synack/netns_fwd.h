/*
 * netns_fwd.h — port forwarding of `synack netns -p [HOSTIP:]HOSTPORT:NSPORT`:
 * a host TCP listener (IPv4 or IPv6) whose every connection becomes a
 * synack connection to the namespace's NSPORT, the two joined by a relay.
 */
#ifndef SYNACK_TOOL_NETNS_FWD_H
#define SYNACK_TOOL_NETNS_FWD_H

#include <stddef.h>
#include <stdint.h>

#include "relay.h"
#include "synack.h"

#include <sys/socket.h>

typedef struct fwd_spec {
    synack_addr host;    /* the host's address to listen on: IPv4 (0.0.0.0 =
                            every address) or, given in brackets, IPv6 ([::]) */
    uint16_t host_port, ns_port;
    int udp;             /* "/udp" was given                               */
    const char *text;    /* as given, for messages                         */
} fwd_spec;

/* Parse "[HOSTIP:]HOSTPORT:NSPORT[/tcp|/udp]", HOSTIP a dotted quad or an
 * IPv6 address in brackets ("[::1]:8080:80", as docker and podman write
 * it). 0, or -1 (bad). */
int fwd_parse(const char *text, fwd_spec *out);

/* The namespace's addresses a forward connects to, and its subnet and
 * gateway, which decide the address a connection comes from. */
typedef struct fwd_ns {
    uint32_t ip;         /* 10.0.2.100                                     */
    uint8_t prefix;      /* 24: its subnet's length                         */
    uint32_t gw;         /* 10.0.2.2                                       */
    uint8_t ip6[16];     /* fd00::100, when ipv6 (a /64)                   */
    uint8_t gw6[16];     /* fd00::2                                        */
    int ipv6;            /* --ipv6                                         */
} fwd_ns;

/* Where a forward goes in the namespace: its IPv6 address when the host
 * side listens on an IPv6 address and the namespace has IPv6 (--ipv6),
 * else its IPv4 one. */
synack_addr fwd_target(const fwd_spec *spec, const fwd_ns *ns);
/* A non-blocking socket of `type` (SOCK_STREAM, SOCK_DGRAM) bound to the
 * spec's host address and port (IPv6: IPV6_V6ONLY, so that [::] and
 * 0.0.0.0 are two forwards). The descriptor, or -1 with errno set. */
int fwd_host_socket(const fwd_spec *spec, int type);
/* A host peer's address as the stack writes them; *port its port. An
 * IPv4-mapped IPv6 address (a client of a dual-stack listener) is IPv4. */
synack_addr fwd_peer_addr(const struct sockaddr_storage *ss, uint16_t *port);
/* The address a forwarded connection from host client `client` comes from
 * in the namespace, in `to`'s family: the client's own, as slirp4netns and
 * pasta give it, when the namespace's default route brings the answers
 * back to us -- a unicast address outside its subnet; else the gateway's
 * (a client on the host's loopback, a link-local one, one the namespace
 * would look for on its own link, or one of the other family). */
synack_addr fwd_source(const fwd_ns *ns, const synack_addr *client, const synack_addr *to);
/* The gateway's address in `family`: where fwd_source's fallback comes from. */
synack_addr fwd_gateway(const fwd_ns *ns, int family);

typedef struct fwd fwd;

/* Listen on the host as `spec` says and, for every connection accepted,
 * connect `s` to fwd_target's address, NSPORT, and relay the two in `rc`.
 * The listener goes into epoll set `epfd` (a watch as data.ptr). NULL with
 * the reason in `err` (e.g. the port is in use). */
fwd *fwd_open(const fwd_spec *spec, int epfd, synack_stack *s, const fwd_ns *ns, relay_ctx *rc,
              char *err, size_t errlen);
void fwd_close(fwd *f);

#endif
