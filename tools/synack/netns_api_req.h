/* netns_api_req.h — the requests of slirp4netns's API socket, read from
 * JSON: {"execute": "add_hostfwd", "arguments": {"proto": "tcp",
 * "host_addr": "0.0.0.0", "host_port": 8080, "guest_addr": "10.0.2.100",
 * "guest_port": 80}}, "list_hostfwd", "remove_hostfwd" with {"id": N}.
 * Untrusted input: any byte string is read or refused with a reason, in
 * bounded time and stack, never past `len`. */
#ifndef SYNACK_TOOL_NETNS_API_REQ_H
#define SYNACK_TOOL_NETNS_API_REQ_H

#include <stddef.h>

/* A request no larger than this (slirp4netns's limit too). */
#define API_REQ_MAX 4096

typedef struct api_req {
    char execute[32];
    char proto[8];        /* "" when absent */
    char host_addr[48];
    char guest_addr[48];
    long host_port;       /* -1 when absent */
    long guest_port;
    long id;
} api_req;

/* Read the JSON object in buf[0..len). 0, or -1 with a reason in *why
 * (a string constant). Keys other than the ones above are skipped;
 * "execute" must be there; a number in a field above must be a whole
 * number from 0 to 2^31 - 1; a string longer than its field is refused. */
int api_req_parse(const char *buf, size_t len, api_req *r, const char **why);

#endif
