/* dev.c — TAP, TUN and AF_PACKET devices (see dev.h). */
#define _GNU_SOURCE
#include "dev/dev.h"

#include "dev/uring.h"
#include "synack.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdarg.h>
#include <stdbool.h>
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
    unsigned flags;   /* DEV_OFFLOAD, DEV_TRUST_CSUM */
    size_t vhlen;     /* virtio_net_hdr bytes before each frame (offload), else 0 */
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
    struct virtio_net_hdr txvh[DEV_BATCH]; /* offload: the header of each queued frame */
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
    dev_uring *ur;    /* TAP/TUN: batches of reads and writes, or NULL (uring.h) */
    int rx_hint;      /* reads the next io_uring batch starts with           */
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
    r.ifr_flags = (short)((d->kind == DEV_TAP ? IFF_TAP : IFF_TUN) | IFF_NO_PI |
                          (d->vhlen ? IFF_VNET_HDR : 0) |
                          ((d->flags & DEV_MULTI_QUEUE) ? IFF_MULTI_QUEUE : 0));
    if (ioctl(d->fd, TUNSETIFF, &r) < 0) {
        int e = errno;
        fail(err, errlen, "%s: cannot %s %s interface: %s%s", d->name,
             d->created ? "create" : "attach to", d->kind == DEV_TAP ? "TAP" : "TUN",
             strerror(e),
             e != EINVAL                      ? ""
             : (d->flags & DEV_MULTI_QUEUE) ? " (made without multi_queue, or of the other kind?)"
                                            : " (of the other kind, or made with multi_queue:"
                                              " then give --threads)");
        return -1;
    }
    memcpy(d->name, r.ifr_name, IFNAMSIZ);
    if (d->vhlen) {
        int sz = (int)d->vhlen;
        if (ioctl(d->fd, TUNSETVNETHDRSZ, &sz) < 0 ||
            ioctl(d->fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6)) < 0) {
            fail(err, errlen, "%s: cannot turn on TAP offloads: %s", d->name, strerror(errno));
            return -1;
        }
    } else if (d->kind == DEV_TAP) {
        /* The offloads are the interface's, not the file's: they outlive an
         * --offload run that did not get to turn them off, and would send
         * 64 KiB frames with partial checksums to a reader expecting none. */
        (void)ioctl(d->fd, TUNSETOFFLOAD, 0ul);
    }
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

static int alloc_buffers(dev *d, char *err, size_t errlen);

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
    return dev_open_flags(kind, ifname, 0, err, errlen);
}

dev *dev_open_flags(dev_kind kind, const char *ifname, unsigned flags, char *err,
                    size_t errlen)
{
    if ((flags & DEV_OFFLOAD) && kind != DEV_TAP) {
        fail(err, errlen, "offloads are for TAP devices only");
        return NULL;
    }
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
    d->flags = flags;
    d->vhlen = (flags & DEV_OFFLOAD) ? sizeof(struct virtio_net_hdr) : 0;
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
    if (alloc_buffers(d, err, errlen) < 0)
        goto bad;
    return d;
bad:
    dev_close(d);
    return NULL;
}

/* The transmit and receive slots, sized from the MTU. 0, or -1 (message). */
static int alloc_buffers(dev *d, char *err, size_t errlen)
{
    d->slot = d->mtu + 64 < 2048 ? 2048 : d->mtu + 64;
    if (d->slot > DEV_FRAME_MAX)
        d->slot = DEV_FRAME_MAX;
    if (d->vhlen)
        d->slot = DEV_FRAME_MAX; /* we send segments up to 64 KiB; the kernel cuts them */
    d->rslot = d->kind == DEV_PACKET ? DEV_FRAME_MAX : d->slot;
    d->rslot += d->vhlen; /* room for the virtio_net_hdr in front */
    d->rxbuf = calloc(DEV_BATCH, d->rslot); /* written by the kernel: defined for valgrind */
    d->txbuf = malloc(d->slot * DEV_BATCH);
    if (!d->rxbuf || !d->txbuf) {
        fail(err, errlen, "out of memory");
        return -1;
    }
    if (d->kind != DEV_PACKET)
        d->ur = dev_uring_new(DEV_BATCH); /* NULL: one frame per system call */
    d->rx_hint = 8;
    return 0;
}

dev *dev_adopt(dev_kind kind, int fd, const char *ifname, unsigned mtu, char *err,
               size_t errlen)
{
    return dev_adopt_flags(kind, fd, ifname, mtu, 0, err, errlen);
}

dev *dev_adopt_flags(dev_kind kind, int fd, const char *ifname, unsigned mtu, unsigned flags,
                     char *err, size_t errlen)
{
    if (kind == DEV_PACKET || fd < 0 || !mtu) {
        fail(err, errlen, "dev_adopt: a TAP or TUN file descriptor and its MTU");
        return NULL;
    }
    if ((flags & DEV_OFFLOAD) && kind != DEV_TAP) {
        fail(err, errlen, "offloads are for TAP devices only");
        return NULL;
    }
    dev *d = calloc(1, sizeof(*d));
    if (!d) {
        fail(err, errlen, "out of memory");
        return NULL;
    }
    d->kind = kind;
    d->flags = flags;
    d->vhlen = (flags & DEV_OFFLOAD) ? sizeof(struct virtio_net_hdr) : 0;
    d->fd = fd;
    d->ctl = -1; /* the interface is in another namespace: no ioctls by name */
    d->mtu = mtu;
    snprintf(d->name, sizeof d->name, "%s", ifname ? ifname : "");
    if (set_nonblock(fd) < 0) {
        fail(err, errlen, "O_NONBLOCK: %s", strerror(errno));
        d->fd = -1; /* not ours until it is adopted */
        dev_close(d);
        return NULL;
    }
    if (alloc_buffers(d, err, errlen) < 0) {
        d->fd = -1;
        dev_close(d);
        return NULL;
    }
    return d;
}

void dev_close(dev *d)
{
    if (!d)
        return;
    if (d->fd >= 0) {
        dev_flush(d);
        if (d->vhlen) /* leave a TAP we attached to as we found it: no offloads */
            (void)ioctl(d->fd, TUNSETOFFLOAD, 0ul);
        close(d->fd); /* a TAP/TUN we created is not persistent: this removes it */
    }
    if (d->ctl >= 0)
        close(d->ctl);
    dev_uring_free(d->ur);
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
int dev_batched(const dev *d) { return d->ur != NULL; }

int dev_hwaddr(const dev *d, uint8_t mac[6])
{
    if (d->kind == DEV_TUN || d->ctl < 0)
        return -1;
    struct ifreq r;
    ifreq_for(d, &r);
    if (ioctl(d->ctl, SIOCGIFHWADDR, &r) < 0)
        return -1;
    memcpy(mac, r.ifr_hwaddr.sa_data, 6);
    return 0;
}

/* The Internet checksum's running sum of n bytes at p, added to acc (the
 * sum in network byte order, not folded). A one's-complement sum does not
 * depend on byte order (RFC 1071 §2(B)): the bulk is summed as native
 * 32-bit words and swapped once at the end. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t acc)
{
    uint64_t s = 0;
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        s += (w & 0xffffffffu) + (w >> 32);
    }
    for (; n >= 2; p += 2, n -= 2) {
        uint16_t h;
        memcpy(&h, p, 2);
        s += h;
    }
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    uint16_t native = (uint16_t)s;
    acc += (uint32_t)ntohs(native);
    if (n)
        acc += (uint32_t)(p[0] << 8);
    return acc;
}

static uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return (uint16_t)acc;
}

/* The checksum field's offset in a TCP (6) or UDP (17) header; 0 for any
 * other protocol. */
static size_t csum_field(uint8_t proto)
{
    return proto == 6 ? 16 : proto == 17 ? 6 : 0;
}

/* The same for an IPv6 frame whose fixed header names TCP or UDP directly
 * (extension headers: left to the stack). */
static uint8_t *l4_of6(uint8_t *f, size_t len, size_t *l4len, size_t *off)
{
    uint8_t *ip = f + 14;
    if (len < 14 + 40 || (ip[0] >> 4) != 6)
        return NULL;
    size_t plen = (size_t)(ip[4] << 8 | ip[5]);
    *off = csum_field(ip[6]);
    if (!*off || 14 + 40 + plen > len || plen < *off + 2)
        return NULL;
    *l4len = plen;
    return ip + 40;
}

static int is_ipv6(const uint8_t *f, size_t len)
{
    return len >= 14 && f[12] == 0x86 && f[13] == 0xdd;
}

/* The TCP or UDP header of an unfragmented IPv4 frame, or of an IPv6 frame
 * without extension headers (NULL for anything else), with the L4 length
 * and the offset of its checksum field. */
static uint8_t *l4_of(uint8_t *f, size_t len, size_t *l4len, size_t *off)
{
    if (is_ipv6(f, len))
        return l4_of6(f, len, l4len, off);
    if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return NULL;
    uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    size_t tot = (size_t)(ip[2] << 8 | ip[3]);
    if ((ip[0] >> 4) != 4 || ihl < 20 || tot < ihl || 14 + tot > len)
        return NULL;
    if ((ip[6] & 0x3f) || ip[7])
        return NULL; /* a fragment: leave it */
    *off = csum_field(ip[9]);
    if (!*off)
        return NULL;
    *l4len = tot - ihl;
    if (*l4len < *off + 2)
        return NULL;
    return ip + ihl;
}

/* The pseudo-header's sum for the L4 part of `ip`: RFC 9293 §3.1 for IPv4,
 * RFC 8200 §8.1 for IPv6 (addresses, length, next header). */
static uint32_t pseudo_sum(const uint8_t *ip, size_t l4len)
{
    if ((ip[0] >> 4) == 6)
        return sum16(ip + 8, 32, 0) + ip[6] + (uint32_t)l4len;
    return sum16(ip + 12, 8, 0) + ip[9] + (uint32_t)l4len;
}

/* Fill in the TCP/UDP checksum of an IPv4 or IPv6 frame whose sender left it
 * partial (TP_STATUS_CSUMNOTREADY, VIRTIO_NET_HDR_F_NEEDS_CSUM), so the
 * stack can verify it as usual. */
static void complete_checksum(uint8_t *f, size_t len)
{
    size_t l4len, off;
    uint8_t *l4 = l4_of(f, len, &l4len, &off);
    if (!l4)
        return;
    l4[off] = l4[off + 1] = 0;
    uint16_t c = (uint16_t)~fold(sum16(l4, l4len, pseudo_sum(f + 14, l4len)));
    if (off == 6 && c == 0)
        c = 0xffff;
    l4[off] = (uint8_t)(c >> 8);
    l4[off + 1] = (uint8_t)c;
}

/* Whether the TCP checksum of an IPv4 or IPv6 frame is right (1 for frames
 * that are not TCP: the stack checks those itself). */
static int tcp_checksum_ok(uint8_t *f, size_t len)
{
    size_t l4len, off;
    uint8_t *l4 = l4_of(f, len, &l4len, &off);
    if (!l4 || off != 16)
        return 1;
    return fold(sum16(l4, l4len, pseudo_sum(f + 14, l4len))) == 0xffff;
}

static int is_tcp(const uint8_t *f, size_t len)
{
    if (is_ipv6(f, len))
        return len >= 14 + 40 && f[14 + 6] == 6;
    return len >= 14 + 20 && f[12] == 0x08 && f[13] == 0x00 && f[14 + 9] == 6;
}

/* Offload: strip the virtio_net_hdr in front of a received frame and settle
 * its checksum (see dev.h). Returns the frame's length, or 0 to drop it. */
static size_t vnet_rx(dev *d, uint8_t *b, size_t r)
{
    if (r < d->vhlen + 14)
        return 0;
    struct virtio_net_hdr vh;
    memcpy(&vh, b, sizeof vh);
    uint8_t *f = b + d->vhlen;
    size_t len = r - d->vhlen;
    int trust = (d->flags & DEV_TRUST_CSUM) && is_tcp(f, len);
    if (vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
        d->st.rx_gso++;
    if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!trust)
            complete_checksum(f, len);
    } else if (trust && !(vh.flags & VIRTIO_NET_HDR_F_DATA_VALID) && !tcp_checksum_ok(f, len)) {
        d->st.rx_bad_csum++;
        return 0;
    }
    return len;
}

/* Offload: the virtio_net_hdr for a frame about to be sent. For TCP it
 * also says where the checksum field is (*csum_at, from the frame's start)
 * and what goes in it: the pseudo-header sum the kernel completes.
 * *csum_at stays 0 for anything else. The frame itself is not changed. */
static void vnet_hdr_for(const dev *d, const uint8_t *f, size_t len, struct virtio_net_hdr *vh,
                         size_t *csum_at, uint16_t *csum)
{
    memset(vh, 0, sizeof *vh);
    *csum_at = 0;
    size_t l4len, off;
    const uint8_t *l4 = l4_of((uint8_t *)f, len, &l4len, &off);
    if (!l4 || off != 16 || l4len < 20)
        return;
    size_t thl = (size_t)(l4[12] >> 4) * 4;
    if (thl < 20 || thl > l4len)
        return;
    size_t l3 = (size_t)(l4 - f);
    vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh->csum_start = (uint16_t)l3;
    vh->csum_offset = 16;
    *csum_at = l3 + 16;
    *csum = fold(pseudo_sum(f + 14, l4len));
    /* Each piece the kernel cuts carries this segment's options: an MTU
     * sized packet holds MTU - 40 (IPv6: 60) - options of payload. */
    size_t hdrs = (is_ipv6(f, len) ? 60 : 40) + (thl - 20);
    size_t mss = d->mtu > hdrs + 1 ? d->mtu - hdrs : 1;
    if (l4len - thl > mss) {
        vh->gso_type = is_ipv6(f, len) ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4;
        if (l4[13] & 0x80) /* CWR */
            vh->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
        vh->gso_size = (uint16_t)mss;
        vh->hdr_len = (uint16_t)(l3 + thl);
    }
}

/* Offload: the header of a queued frame (our copy), its checksum field set. */
static void vnet_tx(dev *d, uint8_t *f, size_t len, struct virtio_net_hdr *vh)
{
    size_t at;
    uint16_t ps;
    vnet_hdr_for(d, f, len, vh, &at, &ps);
    if (at) {
        f[at] = (uint8_t)(ps >> 8);
        f[at + 1] = (uint8_t)ps;
    }
    if (vh->gso_type != VIRTIO_NET_HDR_GSO_NONE)
        d->st.tx_gso++;
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

/* A TAP/TUN frame read into `b`: handed out (after its virtio header). */
static void take_frame(dev *d, uint8_t *b, size_t len, const uint8_t **frames, size_t *lens,
                       int *n)
{
    if (d->vhlen) {
        len = vnet_rx(d, b, len);
        if (!len)
            return;
        b += d->vhlen;
    }
    frames[*n] = b;
    lens[(*n)++] = len;
    d->st.rx_frames++;
    d->st.rx_bytes += len;
}

/* One read(2) per frame into slots `first` on, until the queue is empty
 * or slot `max`; `n` frames are already in frames[]. */
static int recv_plain(dev *d, const uint8_t **frames, size_t *lens, int max, int first, int n)
{
    for (int i = first; i < max; i++) {
        uint8_t *b = d->rxbuf + (size_t)i * d->rslot;
        ssize_t r = read(d->fd, b, d->rslot);
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                break;
            return n ? n : -1;
        }
        if (r == 0)
            break;
        take_frame(d, b, (size_t)r, frames, lens, &n);
    }
    return n;
}

/* The ring turned out unusable (uring.h): one system call per frame from
 * now on, as without io_uring. */
static void drop_uring(dev *d)
{
    dev_uring_free(d->ur);
    d->ur = NULL;
}

/* Reads in io_uring batches: as many as the last call found to start
 * with, doubling while every read finds a frame, up to `max`. A read of
 * an empty queue fails at once (EAGAIN), so a batch larger than what waits
 * costs a few failed reads, not a wait. A lone read is a plain read(2),
 * which costs less than a ring's round. */
static int recv_uring(dev *d, const uint8_t **frames, size_t *lens, int max)
{
    ssize_t res[DEV_BATCH];
    int n = 0, at = 0, want = d->rx_hint;
    while (at < max) {
        int k = want < max - at ? want : max - at;
        if (k == 1)
            return recv_plain(d, frames, lens, at + 1, at, n);
        bool ok = dev_uring_read(d->ur, d->fd, d->rxbuf + (size_t)at * d->rslot, d->rslot, k,
                                 res) == 0;
        bool full = ok;
        for (int i = 0; i < k; i++) {
            if (res[i] <= 0) {
                full = false;
                if (ok && res[i] < 0 && res[i] != -EAGAIN && res[i] != -EINTR && !n) {
                    errno = (int)-res[i];
                    return -1; /* the device is gone, as read(2) would say */
                }
                continue;
            }
            take_frame(d, d->rxbuf + (size_t)(at + i) * d->rslot, (size_t)res[i], frames, lens, &n);
        }
        at += k;
        if (!ok) {
            drop_uring(d);
            return recv_plain(d, frames, lens, max, at, n);
        }
        if (!full)
            break;
        want *= 2;
    }
    d->rx_hint = n < 2 ? 2 : n;
    return n;
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
    if (d->ur)
        return recv_uring(d, frames, lens, max);
    return recv_plain(d, frames, lens, max, 0, n);
}

/* A TAP or TUN frame large enough for its copy to count: written at once,
 * from the caller's buffer (after what is queued), behind its virtio
 * header with offloads. Queueing it gained nothing, the kernel taking one frame per
 * write either way, and cost a copy of every frame, 64 KiB each at a
 * 64 KiB MTU. Small frames (ACKs) still wait for dev_flush: written in the
 * middle of a batch of input, each would wake the sender for a few
 * segments at a time (measured: a third more CPU per byte the other way). */
#define DEV_WRITE_NOW_MIN 1024
static void write_now(dev *d, const struct iovec *in, int nin, size_t len)
{
    struct virtio_net_hdr vh;
    size_t at = 0;
    uint16_t ps = 0;
    uint8_t field[2];
    struct iovec v[DEV_MAX_PIECES + 3];
    int n = 0;
    if (d->vhlen) {
        /* The caller's frame is not ours to change: the checksum field the
         * kernel completes goes in as a piece of its own. */
        vnet_hdr_for(d, in[0].iov_base, len, &vh, &at, &ps);
        v[n++] = (struct iovec){.iov_base = &vh, .iov_len = d->vhlen};
    }
    if (at && at + 2 > in[0].iov_len) {
        d->st.tx_dropped++; /* the first piece must hold every header */
        return;
    }
    if (at) {
        uint8_t *f = in[0].iov_base;
        field[0] = (uint8_t)(ps >> 8);
        field[1] = (uint8_t)ps;
        v[n++] = (struct iovec){.iov_base = f, .iov_len = at};
        v[n++] = (struct iovec){.iov_base = field, .iov_len = 2};
        v[n++] = (struct iovec){.iov_base = f + at + 2, .iov_len = in[0].iov_len - at - 2};
    } else {
        v[n++] = in[0];
    }
    for (int i = 1; i < nin; i++)
        v[n++] = in[i];
    ssize_t r;
    do
        r = n == 1 ? write(d->fd, v[0].iov_base, len) : writev(d->fd, v, n);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        d->st.tx_dropped++;
        return;
    }
    if (d->vhlen && vh.gso_type != VIRTIO_NET_HDR_GSO_NONE)
        d->st.tx_gso++;
    d->st.tx_bytes += len;
    d->st.tx_frames++;
}

/* Written at once: a TAP or TUN frame of DEV_WRITE_NOW_MIN bytes or more.
 * With io_uring, frames up to DEV_URING_COPY_MAX are queued instead: their
 * copy costs less than the system call a frame of its own would. */
#define DEV_URING_COPY_MAX 9216
static int goes_now(const dev *d, size_t len)
{
    if (d->ur && len <= DEV_URING_COPY_MAX)
        return 0;
    return d->kind != DEV_PACKET && len >= DEV_WRITE_NOW_MIN;
}

void dev_sendv(dev *d, const struct iovec *v, int n, size_t len)
{
    if (len > d->slot || n < 1 || n > DEV_MAX_PIECES) {
        d->st.tx_dropped++;
        return;
    }
    if (goes_now(d, len)) {
        if (d->ntx)
            dev_flush(d);
        write_now(d, v, n, len);
        return;
    }
    if (d->ntx == DEV_BATCH)
        dev_flush(d);
    uint8_t *f = d->txbuf + (size_t)d->ntx * d->slot;
    size_t at = 0;
    for (int i = 0; i < n && at + v[i].iov_len <= len; i++) {
        memcpy(f + at, v[i].iov_base, v[i].iov_len);
        at += v[i].iov_len;
    }
    if (d->vhlen)
        vnet_tx(d, f, len, &d->txvh[d->ntx]);
    d->txlen[d->ntx++] = len;
}

size_t dev_send_pieces(dev *d, const synack_iov *v, int n, size_t len, int join,
                       uint8_t **joined)
{
    if (!join && n <= DEV_MAX_PIECES) {
        struct iovec io[DEV_MAX_PIECES];
        for (int i = 0; i < n; i++)
            io[i] = (struct iovec){.iov_base = v[i].base, .iov_len = v[i].len};
        dev_sendv(d, io, n, len);
        return 0;
    }
    if (len > DEV_FRAME_MAX || (!*joined && !(*joined = malloc(DEV_FRAME_MAX))))
        return 0;
    size_t at = 0;
    for (int i = 0; i < n && at + v[i].len <= len; i++) {
        memcpy(*joined + at, v[i].base, v[i].len);
        at += v[i].len;
    }
    return at;
}

void dev_send(dev *d, const void *frame, size_t len)
{
    struct iovec v = {.iov_base = (void *)frame, .iov_len = len};
    dev_sendv(d, &v, 1, len);
}

/* Queued frame i with one write(2); 1 when it went. */
static int write_queued(dev *d, int i)
{
    ssize_t r;
    struct iovec v[2] = {{.iov_base = &d->txvh[i], .iov_len = d->vhlen},
                         {.iov_base = d->txbuf + (size_t)i * d->slot, .iov_len = d->txlen[i]}};
    do
        r = d->vhlen ? writev(d->fd, v, 2) : write(d->fd, v[1].iov_base, v[1].iov_len);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        d->st.tx_dropped++;
        return 0;
    }
    d->st.tx_bytes += d->txlen[i];
    return 1;
}

/* The queue in one io_uring call, in order; returns the frames written. */
static int flush_uring(dev *d)
{
    struct iovec v[DEV_BATCH][2];
    const struct iovec *frames[DEV_BATCH];
    int niov[DEV_BATCH];
    ssize_t res[DEV_BATCH];
    int k = d->vhlen ? 0 : 1; /* the first piece: the virtio header, if any */
    for (int i = 0; i < d->ntx; i++) {
        v[i][0] = (struct iovec){.iov_base = &d->txvh[i], .iov_len = d->vhlen};
        v[i][1] = (struct iovec){.iov_base = d->txbuf + (size_t)i * d->slot, .iov_len = d->txlen[i]};
        frames[i] = v[i] + k;
        niov[i] = 2 - k;
    }
    bool ok = dev_uring_write(d->ur, d->fd, frames, niov, d->ntx, res) == 0;
    if (!ok)
        drop_uring(d); /* what it did not write goes the plain way, in order */
    int sent = 0;
    for (int i = 0; i < d->ntx; i++) {
        if (res[i] >= 0) {
            d->st.tx_bytes += d->txlen[i];
            sent++;
        } else if (!ok) {
            sent += write_queued(d, i);
        } else {
            d->st.tx_dropped++;
        }
    }
    return sent;
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
    } else if (d->ur && d->ntx > 1) {
        sent = flush_uring(d);
    } else {
        for (int i = 0; i < d->ntx; i++)
            sent += write_queued(d, i);
    }
    d->st.tx_frames += (uint64_t)sent;
    d->ntx = 0;
    return sent;
}
