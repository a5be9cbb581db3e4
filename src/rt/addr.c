/* addr.c — struct sockaddr <-> synack_addr and port, with the checks and
 * errnos of Linux's inet_bind/inet_stream_connect. */
#include "rt/rt.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

int rt_addr_from_sockaddr(const struct sockaddr *sa, socklen_t len, int family,
                          synack_addr *addr, uint16_t *port)
{
    if (!sa)
        return -EFAULT;
    if (family == AF_INET) {
        if (len < (socklen_t)sizeof(struct sockaddr_in))
            return -EINVAL;
        if (sa->sa_family != AF_INET)
            return -EAFNOSUPPORT;
        struct sockaddr_in in;
        memcpy(&in, sa, sizeof in);
        *addr = synack_addr_v4(ntohl(in.sin_addr.s_addr));
        *port = ntohs(in.sin_port);
        return 0;
    }
    if (len < (socklen_t)sizeof(struct sockaddr_in6))
        return -EINVAL;
    if (sa->sa_family != AF_INET6)
        return -EAFNOSUPPORT;
    struct sockaddr_in6 in6;
    memcpy(&in6, sa, sizeof in6);
    *port = ntohs(in6.sin6_port);
    if (memcmp(in6.sin6_addr.s6_addr, v4mapped, 12) == 0) { /* the IPv4 side */
        uint32_t v4;
        memcpy(&v4, in6.sin6_addr.s6_addr + 12, 4);
        *addr = synack_addr_v4(ntohl(v4));
    } else {
        *addr = synack_addr_v6(in6.sin6_addr.s6_addr);
    }
    return 0;
}

/* An AF_INET6 socket shows IPv4 endpoints as IPv4-mapped addresses. */
socklen_t rt_addr_to_sockaddr(const synack_addr *addr, uint16_t port, int family,
                              struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)ss;
        in->sin_family = AF_INET;
        in->sin_port = htons(port);
        in->sin_addr.s_addr = htonl(addr->family == SYNACK_AF_INET ? addr->v4 : 0);
        return sizeof *in;
    }
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (addr->family == SYNACK_AF_INET6) {
        memcpy(in6->sin6_addr.s6_addr, addr->v6, 16);
    } else if (addr->v4) {
        uint32_t v4 = htonl(addr->v4);
        memcpy(in6->sin6_addr.s6_addr, v4mapped, 12);
        memcpy(in6->sin6_addr.s6_addr + 12, &v4, 4);
    }
    return sizeof *in6;
}

void rt_addr_copy_out(const struct sockaddr_storage *ss, socklen_t have, struct sockaddr *addr,
                      socklen_t *len)
{
    if (addr && len)
        memcpy(addr, ss, *len < have ? *len : have);
    if (len)
        *len = have;
}
