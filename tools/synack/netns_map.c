/* netns_map.c — where a namespace's destination is on the host (see
 * netns_map.h). */
#include "netns_map.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static bool map4(const netns_map *m, uint32_t dst, uint16_t port, struct sockaddr_in *sa)
{
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    sa->sin_addr.s_addr = htonl(dst);
    if (dst == m->gw) {
        if (!m->host_loopback)
            return false;
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    } else if (dst == m->dns) {
        if (port != 53 || !m->dns_up)
            return false;
        sa->sin_addr.s_addr = htonl(m->dns_up);
        sa->sin_port = htons(m->dns_up_port);
    }
    return true;
}

static bool map6(const netns_map *m, const uint8_t dst[16], uint16_t port, struct sockaddr_in6 *sa)
{
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(port);
    memcpy(&sa->sin6_addr, dst, 16);
    if (!memcmp(dst, m->gw6, 16)) {
        if (!m->host_loopback)
            return false;
        sa->sin6_addr = in6addr_loopback;
    }
    return true;
}

bool netns_host_target(const netns_map *m, const synack_addr *dst, uint16_t port,
                       struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (dst->family == SYNACK_AF_INET6) {
        *len = sizeof(struct sockaddr_in6);
        return map6(m, dst->v6, port, (struct sockaddr_in6 *)ss);
    }
    *len = sizeof(struct sockaddr_in);
    return map4(m, dst->v4, port, (struct sockaddr_in *)ss);
}

void netns_fmt_ep(const synack_addr *a, uint16_t port, char *buf, size_t len)
{
    char t[64];
    synack_addr_format(a, t, sizeof t);
    snprintf(buf, len, a->family == SYNACK_AF_INET6 ? "[%s]:%u" : "%s:%u", t, port);
}
