/*
 * netns_fwd.h — port forwarding of `synack netns -p [HOSTIP:]HOSTPORT:NSPORT`:
 * a host TCP listener whose every connection becomes a synack connection
 * to the namespace's NSPORT, the two joined by a relay.
 */
#ifndef SYNACK_TOOL_NETNS_FWD_H
#define SYNACK_TOOL_NETNS_FWD_H

#include <stddef.h>
#include <stdint.h>

#include "relay.h"
#include "synack.h"

typedef struct fwd_spec {
    uint32_t host_ip;    /* host byte order; 0 = every address (0.0.0.0)   */
    uint16_t host_port, ns_port;
    int udp;             /* "/udp" was given (not supported yet)           */
    const char *text;    /* as given, for messages                         */
} fwd_spec;

/* Parse "[HOSTIP:]HOSTPORT:NSPORT[/tcp|/udp]". 0, or -1 (bad). */
int fwd_parse(const char *text, fwd_spec *out);

typedef struct fwd fwd;

/* Listen on the host as `spec` says and, for every connection accepted,
 * connect `s` to ns_ip:NSPORT and relay the two in `rc`. The listener goes
 * into epoll set `epfd` (a watch as data.ptr). NULL with the reason in
 * `err` (e.g. the port is in use). */
fwd *fwd_open(const fwd_spec *spec, int epfd, synack_stack *s, uint32_t ns_ip, relay_ctx *rc,
              char *err, size_t errlen);
void fwd_close(fwd *f);

#endif
