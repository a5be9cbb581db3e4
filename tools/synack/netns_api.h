/* netns_api.h — slirp4netns's API socket for `synack netns --api-socket
 * PATH`: a Unix stream socket where a client writes one JSON request,
 * shuts its write side, and reads the answer. add_hostfwd, list_hostfwd
 * and remove_hostfwd manage port forwards at run time, as rootlesskit's
 * slirp4netns port driver and podman's slirp4netns port handler use them.
 * Bounded: at most API_MAX_CLIENTS clients at once (a new one pushes out
 * the one connected first), each at most API_CLIENT_TIMEOUT_NS, API_REQ_MAX
 * bytes a request, API_MAX_FWDS forwards. */
#ifndef SYNACK_TOOL_NETNS_API_H
#define SYNACK_TOOL_NETNS_API_H

#include <stddef.h>
#include <stdint.h>

#include "netns_fwd_udp.h"
#include "relay.h"
#include "synack.h"

#define API_MAX_CLIENTS 16
#define API_MAX_FWDS 64
#define API_CLIENT_TIMEOUT_NS (10ull * 1000 * 1000 * 1000)

/* What a forward needs, and the namespace's network (host order). */
typedef struct api_env {
    int epfd;
    synack_stack *s;
    relay_ctx *rc;
    uint32_t net;        /* the network (10.0.2.0)                          */
    uint8_t prefix;      /* its prefix length                               */
    uint32_t guest;      /* the namespace's address, the default guest_addr */
    uint32_t gw;         /* synack's address there (10.0.2.2)              */
    ufwd_counters *udp_fwd; /* its UDP forwards count here                 */
} api_env;

typedef struct netns_api netns_api;

/* Listen at `path`. A socket file there that nobody listens on (left by a
 * run that was killed) is replaced; anything else there is an error. NULL
 * with the reason. */
netns_api *api_open(const char *path, const api_env *env, char *err, size_t errlen);
/* Once per loop pass, before its wait: close the forwards removed since
 * and listen again after running out of descriptors; every
 * UFWD_SWEEP_NS also forget the UDP forwards' idle clients
 * (ufwd_sweep) and drop API clients older than API_CLIENT_TIMEOUT_NS. */
void api_sweep(netns_api *a, uint64_t now);
/* Close the clients, the forwards and the socket, and remove its file. */
void api_close(netns_api *a);

#endif
