/* netns_map.c — where a namespace's destination is on the host (see
 * netns_map.h). */
#include "netns_map.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
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

/* bind() to an address alone: IP_BIND_ADDRESS_NO_PORT leaves the port to
 * connect(), which picks it per destination as an unbound socket's is
 * picked. A port taken at bind would be the host's for every destination:
 * 28,232 connections in all, not for each one. */
static int bind_address(int fd, const struct sockaddr *sa, socklen_t len)
{
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    return bind(fd, sa, len);
}

bool netns_is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    if (ss->ss_family != AF_INET6)
        return false;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)ss)->sin6_addr;
    return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
}

bool netns_peer_is_self(int fd, const struct sockaddr_storage *peer)
{
    struct sockaddr_storage self;
    socklen_t len = sizeof self;
    if (getsockname(fd, (struct sockaddr *)&self, &len) < 0 || self.ss_family != peer->ss_family)
        return false;
    if (self.ss_family == AF_INET)
        return ((const struct sockaddr_in *)&self)->sin_addr.s_addr ==
               ((const struct sockaddr_in *)peer)->sin_addr.s_addr;
    return self.ss_family == AF_INET6 &&
           !memcmp(&((const struct sockaddr_in6 *)&self)->sin6_addr,
                   &((const struct sockaddr_in6 *)peer)->sin6_addr, sizeof(struct in6_addr));
}

int netns_bind_outbound(const netns_map *m, int fd, const struct sockaddr_storage *to)
{
    static const uint8_t none6[16];
    if (netns_is_loopback(to))
        return 0;
    if (to->ss_family == AF_INET) {
        if (!m->out4)
            return 0;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(m->out4)};
        return bind_address(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    if (!memcmp(m->out6, none6, 16))
        return 0;
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    memcpy(&sa.sin6_addr, m->out6, 16);
    return bind_address(fd, (struct sockaddr *)&sa, sizeof sa);
}

/* The first address of `family` on interface `name` (IPv6: not link-local). */
static int interface_addr(const char *name, int family, uint8_t *out)
{
    struct ifaddrs *all, *i;
    if (getifaddrs(&all) < 0)
        return -1;
    int rc = -1;
    for (i = all; i && rc < 0; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != family || strcmp(i->ifa_name, name))
            continue;
        if (family == AF_INET) {
            memcpy(out, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
            rc = 0;
        } else if (!IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr)) {
            memcpy(out, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
            rc = 0;
        }
    }
    freeifaddrs(all);
    return rc;
}

int netns_outbound_parse(const char *spec, int family, uint8_t *out)
{
    uint8_t a[16];
    if (inet_pton(family, spec, a) != 1 && interface_addr(spec, family, a) < 0)
        return -1;
    if (family == AF_INET) { /* host order, as the map keeps IPv4 */
        uint32_t v;
        memcpy(&v, a, 4);
        v = ntohl(v);
        memcpy(out, &v, 4);
    } else {
        memcpy(out, a, 16);
    }
    return 0;
}

void netns_fmt_ep(const synack_addr *a, uint16_t port, char *buf, size_t len)
{
    char t[64];
    synack_addr_format(a, t, sizeof t);
    snprintf(buf, len, a->family == SYNACK_AF_INET6 ? "[%s]:%u" : "%s:%u", t, port);
}
