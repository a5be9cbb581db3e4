/* fmt.c — small text helpers (see fmt.h). */
#include "fmt.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

char *fmt_flags(uint8_t flags, char *buf) {
    static const struct {
        uint8_t bit;
        const char *name;
    } order[] = {{0x01, "FIN"}, {0x02, "SYN"}, {0x04, "RST"}, {0x08, "PSH"},
                 {0x10, "ACK"}, {0x20, "URG"}, {0x40, "ECE"}, {0x80, "CWR"}};
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        if (!(flags & order[i].bit))
            continue;
        if (buf[0])
            strcat(buf, ",");
        strcat(buf, order[i].name);
    }
    if (!buf[0])
        strcpy(buf, "none");
    return buf;
}

char *fmt_ip(uint32_t ip, char *buf) {
    snprintf(buf, 16, "%u.%u.%u.%u", (unsigned)(ip >> 24) & 255u, (unsigned)(ip >> 16) & 255u,
             (unsigned)(ip >> 8) & 255u, (unsigned)ip & 255u);
    return buf;
}

char *fmt_endpoint(uint32_t ip, uint16_t port, char *buf) {
    char a[16];
    snprintf(buf, 24, "%s:%u", fmt_ip(ip, a), (unsigned)port);
    return buf;
}

char *fmt_addr_endpoint(const synack_addr *a, uint16_t port, char *buf) {
    if (a->family != SYNACK_AF_INET6)
        return fmt_endpoint(a->v4, port, buf);
    char t[SYNACK_ADDR_TEXT];
    snprintf(buf, FMT_ENDPOINT_LEN, "[%s]:%u", synack_addr_format(a, t, sizeof t), (unsigned)port);
    return buf;
}

char *fmt_event_endpoint(const synack_trace_event *ev, int local, char *buf) {
    const synack_addr *a = local ? &ev->local_addr : &ev->remote_addr;
    uint16_t port = local ? ev->local_port : ev->remote_port;
    if (a->family == 0 && ev->local_addr.family == SYNACK_AF_INET6) {
        static const uint8_t any[16];
        synack_addr none = synack_addr_v6(any); /* an IPv6 listener's peer: [::]:0 */
        return fmt_addr_endpoint(&none, port, buf);
    }
    if (a->family == SYNACK_AF_INET6)
        return fmt_addr_endpoint(a, port, buf);
    return fmt_endpoint(local ? ev->local_ip : ev->remote_ip, port, buf);
}

const char *fmt_errno(int err) {
    if (err < 0)
        err = -err;
    switch (err) {
    case 0: return "OK";
    case ECONNREFUSED: return "ECONNREFUSED";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EPIPE: return "EPIPE";
    case ENOTCONN: return "ENOTCONN";
    case EAGAIN: return "EAGAIN";
    case EINVAL: return "EINVAL";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case ENOMEM: return "ENOMEM";
    case EISCONN: return "EISCONN";
    case ENOENT: return "ENOENT";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNABORTED: return "ECONNABORTED";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    }
    return "E?";
}

size_t fmt_width(const char *s) {
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}
