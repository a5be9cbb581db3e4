/* dev.c — TAP, TUN and AF_PACKET devices (see dev.h). */
#define _GNU_SOURCE
#include "dev/dev.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct dev {
    dev_kind kind;
    int fd;
    int ctl;          /* AF_INET datagram socket for interface ioctls */
    int created;
    int ifindex;
    char name[IFNAMSIZ];
    unsigned mtu;
    size_t slot;      /* bytes per transmit buffer                           */
    size_t rslot;     /* bytes per receive buffer: a packet socket can be
                         handed GRO/GSO frames far above the MTU            */
    uint8_t *rxbuf;   /* DEV_BATCH slots */
    uint8_t *txbuf;   /* DEV_BATCH slots */
    size_t txlen[DEV_BATCH];
    int ntx;
    struct mmsghdr msgs[DEV_BATCH];
    struct iovec iov[DEV_BATCH];
    /* PACKET_AUXDATA per received frame: tells which frames still carry a
     * partial checksum (the sender left it to "hardware" that a veth or
     * local packet never reaches). */
    union {
        char buf[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
        struct cmsghdr align;
    } cmsg[DEV_BATCH];
    dev_stats st;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static int ifreq_for(const dev *d, struct ifreq *r)
{
    memset(r, 0, sizeof(*r));
    memcpy(r->ifr_name, d->name, IFNAMSIZ);
    return 0;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int link_up(dev *d)
{
    struct ifreq r;
    ifreq_for(d, &r);
    if (ioctl(d->ctl, SIOCGIFFLAGS, &r) < 0)
        return -1;
    if (r.ifr_flags & IFF_UP)
        return 0;
    r.ifr_flags |= IFF_UP;
    return ioctl(d->ctl, SIOCSIFFLAGS, &r);
}

static int open_tun(dev *d, char *err, size_t errlen)
{
    d->created = if_nametoindex(d->name) == 0;
    d->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (d->fd < 0) {
        fail(err, errlen, "/dev/net/tun: %s", strerror(errno));
        return -1;
    }
    struct ifreq r;
    ifreq_for(d, &r);
    r.ifr_flags = (short)((d->kind == DEV_TAP ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
    if (ioctl(d->fd, TUNSETIFF, &r) < 0) {
        int e = errno;
        fail(err, errlen, "%s: cannot %s %s interface: %s%s", d->name,
             d->created ? "create" : "attach to", d->kind == DEV_TAP ? "TAP" : "TUN",
             strerror(e),
             e == EINVAL ? " (is it a TUN/TAP interface of the other kind?)" : "");
        return -1;
    }
    memcpy(d->name, r.ifr_name, IFNAMSIZ);
    if (set_nonblock(d->fd) < 0) {
        fail(err, errlen, "%s: O_NONBLOCK: %s", d->name, strerror(errno));
        return -1;
    }
    if (d->created && link_up(d) < 0) {
        fail(err, errlen, "%s: cannot bring the interface up: %s", d->name, strerror(errno));
        return -1;
    }
    d->ifindex = (int)if_nametoindex(d->name);
    return 0;
}

static int open_packet(dev *d, char *err, size_t errlen)
{
    d->ifindex = (int)if_nametoindex(d->name);
    if (!d->ifindex) {
        fail(err, errlen, "%s: no such interface", d->name);
        return -1;
    }
    d->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (d->fd < 0) {
        fail(err, errlen, "AF_PACKET socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                              .sll_ifindex = d->ifindex};
    if (bind(d->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        fail(err, errlen, "%s: bind: %s", d->name, strerror(errno));
        return -1;
    }
    /* Our own transmissions must not come back as input. */
    int one = 1;
    (void)setsockopt(d->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    /* Frames for our own MAC must reach us: promiscuous while the socket lives. */
    struct packet_mreq mr = {.mr_ifindex = d->ifindex, .mr_type = PACKET_MR_PROMISC};
    if (setsockopt(d->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
        fail(err, errlen, "%s: promiscuous mode: %s", d->name, strerror(errno));
        return -1;
    }
    (void)setsockopt(d->fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof one);
    int buf = 4 << 20;
    (void)setsockopt(d->fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    (void)setsockopt(d->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    return 0;
}

dev *dev_open(dev_kind kind, const char *ifname, char *err, size_t errlen)
{
    if (!ifname || !*ifname || strlen(ifname) >= IFNAMSIZ) {
        fail(err, errlen, "bad interface name '%s'", ifname ? ifname : "");
        return NULL;
    }
    dev *d = calloc(1, sizeof(*d));
    if (!d) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    d->kind = kind;
    d->fd = -1;
    snprintf(d->name, sizeof d->name, "%s", ifname);
    d->ctl = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (d->ctl < 0) {
        fail(err, errlen, "socket: %s", strerror(errno));
        goto bad;
    }
    int r = kind == DEV_PACKET ? open_packet(d, err, errlen) : open_tun(d, err, errlen);
    if (r < 0)
        goto bad;
    struct ifreq q;
    ifreq_for(d, &q);
    d->mtu = ioctl(d->ctl, SIOCGIFMTU, &q) == 0 && q.ifr_mtu > 0 ? (unsigned)q.ifr_mtu : 1500;
    d->slot = d->mtu + 64 < 2048 ? 2048 : d->mtu + 64;
    if (d->slot > DEV_FRAME_MAX)
        d->slot = DEV_FRAME_MAX;
    d->rslot = kind == DEV_PACKET ? DEV_FRAME_MAX : d->slot;
    d->rxbuf = malloc(d->rslot * DEV_BATCH);
    d->txbuf = malloc(d->slot * DEV_BATCH);
    if (!d->rxbuf || !d->txbuf) {
        fail(err, errlen, "out of memory");
        goto bad;
    }
    return d;
bad:
    dev_close(d);
    return NULL;
}

void dev_close(dev *d)
{
    if (!d)
        return;
    if (d->fd >= 0) {
        dev_flush(d);
        close(d->fd); /* a TAP/TUN we created is not persistent: this removes it */
    }
    if (d->ctl >= 0)
        close(d->ctl);
    free(d->rxbuf);
    free(d->txbuf);
    free(d);
}

dev_kind dev_get_kind(const dev *d) { return d->kind; }
const char *dev_name(const dev *d) { return d->name; }
int dev_fd(const dev *d) { return d->fd; }
int dev_created(const dev *d) { return d->created; }
unsigned dev_mtu(const dev *d) { return d->mtu; }
const dev_stats *dev_get_stats(const dev *d) { return &d->st; }

int dev_hwaddr(const dev *d, uint8_t mac[6])
{
    if (d->kind == DEV_TUN)
        return -1;
    struct ifreq r;
    ifreq_for(d, &r);
    if (ioctl(d->ctl, SIOCGIFHWADDR, &r) < 0)
        return -1;
    memcpy(mac, r.ifr_hwaddr.sa_data, 6);
    return 0;
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    for (; n > 1; p += 2, n -= 2)
        acc += (uint32_t)(p[0] << 8 | p[1]);
    if (n)
        acc += (uint32_t)(p[0] << 8);
    return acc;
}

/* Fill in the TCP/UDP checksum of an IPv4 frame whose sender left it
 * partial (TP_STATUS_CSUMNOTREADY), so the stack can verify it as usual. */
static void complete_checksum(uint8_t *f, size_t len)
{
    if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return;
    uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t tot = (size_t)(ip[2] << 8 | ip[3]);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || 14 + tot > len)
        return;
    if ((ip[6] & 0x3f) || ip[7])
        return; /* a fragment: leave it */
    size_t off;
    if (ip[9] == 6)
        off = 16;
    else if (ip[9] == 17)
        off = 6;
    else
        return;
    uint8_t *l4 = ip + ihl;
    size_t l4len = tot - ihl;
    if (l4len < off + 2)
        return;
    l4[off] = l4[off + 1] = 0;
    uint32_t acc = sum16(ip + 12, 8, 0) + ip[9] + (uint32_t)l4len;
    acc = sum16(l4, l4len, acc);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    uint16_t c = (uint16_t)~acc;
    if (ip[9] == 17 && c == 0)
        c = 0xffff;
    l4[off] = (uint8_t)(c >> 8);
    l4[off + 1] = (uint8_t)c;
}

static int csum_not_ready(struct msghdr *m)
{
    for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
        if (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_AUXDATA) {
            struct tpacket_auxdata aux;
            memcpy(&aux, CMSG_DATA(c), sizeof aux);
            return (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
        }
    }
    return 0;
}

int dev_recv(dev *d, const uint8_t **frames, size_t *lens, int max)
{
    if (max > DEV_BATCH)
        max = DEV_BATCH;
    if (max <= 0)
        return 0;
    int n = 0;
    if (d->kind == DEV_PACKET) {
        for (int i = 0; i < max; i++) {
            d->iov[i].iov_base = d->rxbuf + (size_t)i * d->rslot;
            d->iov[i].iov_len = d->rslot;
            memset(&d->msgs[i].msg_hdr, 0, sizeof d->msgs[i].msg_hdr);
            d->msgs[i].msg_hdr.msg_iov = &d->iov[i];
            d->msgs[i].msg_hdr.msg_iovlen = 1;
            d->msgs[i].msg_hdr.msg_control = d->cmsg[i].buf;
            d->msgs[i].msg_hdr.msg_controllen = sizeof d->cmsg[i].buf;
        }
        int got = recvmmsg(d->fd, d->msgs, (unsigned)max, MSG_DONTWAIT | MSG_TRUNC, NULL);
        if (got < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
        for (int i = 0; i < got; i++) {
            size_t len = d->msgs[i].msg_len;
            if (len > d->rslot) {
                d->st.rx_truncated++;
                continue;
            }
            uint8_t *f = d->rxbuf + (size_t)i * d->rslot;
            if (csum_not_ready(&d->msgs[i].msg_hdr))
                complete_checksum(f, len);
            frames[n] = f;
            lens[n++] = len;
            d->st.rx_frames++;
            d->st.rx_bytes += len;
        }
        return n;
    }
    for (int i = 0; i < max; i++) {
        uint8_t *b = d->rxbuf + (size_t)i * d->slot;
        ssize_t r = read(d->fd, b, d->slot);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            return n ? n : -1;
        }
        if (r == 0)
            break;
        frames[n] = b;
        lens[n++] = (size_t)r;
        d->st.rx_frames++;
        d->st.rx_bytes += (uint64_t)r;
    }
    return n;
}

void dev_send(dev *d, const void *frame, size_t len)
{
    if (len > d->slot) {
        d->st.tx_dropped++;
        return;
    }
    if (d->ntx == DEV_BATCH)
        dev_flush(d);
    memcpy(d->txbuf + (size_t)d->ntx * d->slot, frame, len);
    d->txlen[d->ntx++] = len;
}

int dev_flush(dev *d)
{
    int sent = 0;
    if (d->kind == DEV_PACKET) {
        int at = 0;
        for (int i = 0; i < d->ntx; i++) {
            d->iov[i].iov_base = d->txbuf + (size_t)i * d->slot;
            d->iov[i].iov_len = d->txlen[i];
            memset(&d->msgs[i].msg_hdr, 0, sizeof d->msgs[i].msg_hdr);
            d->msgs[i].msg_hdr.msg_iov = &d->iov[i];
            d->msgs[i].msg_hdr.msg_iovlen = 1;
        }
        int tries = 0;
        while (at < d->ntx) {
            int r = sendmmsg(d->fd, d->msgs + at, (unsigned)(d->ntx - at), MSG_DONTWAIT);
            if (r > 0) {
                for (int i = at; i < at + r; i++)
                    d->st.tx_bytes += d->txlen[i];
                at += r;
                sent += r;
                continue;
            }
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0 && (errno == EAGAIN || errno == ENOBUFS) && ++tries < 64)
                continue; /* the queue drains quickly; give it a few tries */
            d->st.tx_dropped++; /* drop this one and go on */
            at++;
        }
    } else {
        for (int i = 0; i < d->ntx; i++) {
            ssize_t r;
            do
                r = write(d->fd, d->txbuf + (size_t)i * d->slot, d->txlen[i]);
            while (r < 0 && errno == EINTR);
            if (r < 0) {
                d->st.tx_dropped++;
                continue;
            }
            d->st.tx_bytes += d->txlen[i];
            sent++;
        }
    }
    d->st.tx_frames += (uint64_t)sent;
    d->ntx = 0;
    return sent;
}
