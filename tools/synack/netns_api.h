/* netns_api.h — slirp4netns's API socket for `synack netns --api-socket
 * PATH`: a Unix stream socket where a client writes one JSON request,
 * shuts its write side, and reads the answer. add_hostfwd, list_hostfwd
 * and remove_hostfwd manage port forwards at run time, as rootlesskit's
 * slirp4netns port driver and podman's slirp4netns port handler use them.
 * Bounded: at most API_MAX_CLIENTS clients at once (a new one pushes out
 * the oldest), API_REQ_MAX bytes a request, API_MAX_FWDS forwards. */
#ifndef SYNACK_TOOL_NETNS_API_H
#define SYNACK_TOOL_NETNS_API_H

#include <stddef.h>
#include <stdint.h>

#include "relay.h"
#include "synack.h"

#define API_MAX_CLIENTS 16
#define API_MAX_FWDS 64

/* What a forward needs, and the namespace's network (host order). */
typedef struct api_env {
    int epfd;
    synack_stack *s;
    relay_ctx *rc;
    uint32_t net;        /* the network (10.0.2.0)                          */
    uint8_t prefix;      /* its prefix length                               */
    uint32_t guest;      /* the namespace's address, the default guest_addr */
} api_env;

typedef struct netns_api netns_api;

/* Listen at `path` (which must not exist yet). NULL with the reason. */
netns_api *api_open(const char *path, const api_env *env, char *err, size_t errlen);
/* The UDP forwards' idle clients (ufwd_sweep). */
void api_sweep(netns_api *a, uint64_t now);
/* Close the clients, the forwards and the socket, and remove its file. */
void api_close(netns_api *a);

#endif
