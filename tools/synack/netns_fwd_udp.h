/* netns_fwd_udp.h — UDP port forwarding into a `synack netns` namespace
 * (-p [HOSTIP:]HOSTPORT:NSPORT/udp). */
#ifndef SYNACK_TOOL_NETNS_FWD_UDP_H
#define SYNACK_TOOL_NETNS_FWD_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "netns_fwd.h"
#include "synack.h"

typedef struct ufwd ufwd;

/* How often ufwd_sweep runs (netns.c's loop for -p forwards, api_sweep for
 * the API's): clients idle out in seconds, so looking this often, not on
 * every pass of a busy loop, is soon enough. */
#define UFWD_SWEEP_NS (100ull * 1000 * 1000)

/* Bind HOSTIP:HOSTPORT/udp on the host (into epoll set `epfd`); each
 * client's datagrams go to NSPORT at fwd_target's address from a synack UDP
 * socket of its own. NULL with the reason in `err`. */
ufwd *ufwd_open(const fwd_spec *spec, int epfd, synack_stack *s, const fwd_ns *ns, char *err,
                size_t errlen);
/* Forget the clients idle for UDP_IDLE_S (netns_udp.h). */
void ufwd_sweep(ufwd *f, uint64_t now);
void ufwd_close(ufwd *f);

#endif
