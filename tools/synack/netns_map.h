/* netns_map.h — where a destination the namespace asks for is on the host
 * (`synack netns`): the gateway is the host's loopback, the resolver
 * address's port 53 the upstream resolver, any other address itself. */
#ifndef SYNACK_TOOL_NETNS_MAP_H
#define SYNACK_TOOL_NETNS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "synack.h"

typedef struct netns_map {
    uint32_t gw;           /* 10.0.2.2: the host's 127.0.0.1 ...             */
    uint8_t gw6[16];       /* fd00::2 (with --ipv6): the host's ::1 ...        */
    int host_loopback;     /* ... unless 0 (--disable-host-loopback)          */
    uint32_t dns, dns_up;  /* 10.0.2.3, and where its port 53 goes (0: nowhere) */
    uint16_t dns_up_port;
    uint32_t out4;         /* --outbound-addr: the host sockets' source, or 0 */
    uint8_t out6[16];      /* --outbound-addr6, or ::                         */
} netns_map;

/* The host's address for dst:port in *ss (*len its size). False: nothing
 * is there (the gateway with --disable-host-loopback; the resolver
 * address on another port, or without an upstream). */
bool netns_host_target(const netns_map *m, const synack_addr *dst, uint16_t port,
                       struct sockaddr_storage *ss, socklen_t *len);
/* True when `ss` is a loopback address (127/8, ::1, ::ffff:127/104): a
 * host socket to it talks to the host itself. */
bool netns_is_loopback(const struct sockaddr_storage *ss);
/* True when connected socket `fd`'s own address is `peer`'s (ports
 * aside): a host program that reached us at one of the host's own
 * addresses, whose segments the kernel carries over loopback too. */
bool netns_peer_is_self(int fd, const struct sockaddr_storage *peer);
/* Bind host socket `fd`, about to connect to `to`, to the outbound source
 * address of its family when one is set (slirp4netns's --outbound-addr:
 * which of the host's addresses, and so which interface, the namespace's
 * traffic leaves from). Not for loopback destinations (the gateway is the
 * host itself). 0, or -1 with errno set. */
int netns_bind_outbound(const netns_map *m, int fd, const struct sockaddr_storage *to);
/* The address `spec` names, an address of the family or an interface name
 * (its first address of the family; for IPv6 not a link-local one), into
 * out (4 or 16 bytes). 0, or -1. */
int netns_outbound_parse(const char *spec, int family, uint8_t *out);

/* "A.B.C.D:PORT" or "[v6]:PORT". */
void netns_fmt_ep(const synack_addr *a, uint16_t port, char *buf, size_t len);

#endif
