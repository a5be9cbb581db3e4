/*
 * dev.h — network devices for running a stack on a real host (outside the
 * core: these call the operating system).
 *
 *   TAP     Ethernet frames through /dev/net/tun (IFF_TAP | IFF_NO_PI)
 *   TUN     bare IPv4 packets through /dev/net/tun (IFF_TUN | IFF_NO_PI)
 *   PACKET  an AF_PACKET socket on an existing interface (e.g. one end of a
 *           veth pair); Ethernet frames, promiscuous while open
 *
 * TAP and TUN attach to an interface that already exists (made with
 * `ip tuntap add`) or create it. One the device created is non-persistent:
 * the kernel removes it when the device is closed, and the device brings it
 * up on creation so the kernel side only needs an address.
 *
 * Every device is non-blocking. Sending on a packet socket is batched:
 * dev_send queues a copy of the frame and dev_flush hands the queue to the
 * kernel (sendmmsg). TAP and TUN take one read or write per frame, with no
 * batch call of their own: io_uring (uring.h) does the queue's writes, and
 * up to DEV_BATCH reads, in one system call, so dev_send queues a copy of
 * every frame up to 9 KiB. Without io_uring (or above 9 KiB) dev_send
 * writes a frame of 1 KiB or more at once from the caller's buffer (after
 * the queue), saving its copy, and queues the small ones (ACKs) for
 * dev_flush. With DEV_OFFLOAD each frame goes behind its virtio header.
 * Receiving takes up to DEV_BATCH frames per call (recvmmsg on packet
 * sockets).
 */
#ifndef SYNACK_DEV_DEV_H
#define SYNACK_DEV_DEV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

typedef enum dev_kind { DEV_TAP = 0, DEV_TUN, DEV_PACKET } dev_kind;

#define DEV_BATCH 64
#define DEV_FRAME_MAX 65550 /* largest frame a device hands over (64 KiB + L2) */

typedef struct dev dev;

typedef struct dev_stats {
    uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
    uint64_t tx_dropped; /* the kernel refused a frame (queue full, ...) */
    uint64_t rx_truncated;
    uint64_t rx_gso, tx_gso;  /* offload: frames above the MTU each way      */
    uint64_t rx_bad_csum;     /* offload + DEV_TRUST_CSUM: dropped frames     */
} dev_stats;

/* Open a device on interface `ifname`. Returns NULL with a message in `err`. */
dev *dev_open(dev_kind kind, const char *ifname, char *err, size_t errlen);

/* DEV_OFFLOAD (TAP only): every frame crosses the TAP behind a virtio_net_hdr
 * (IFF_VNET_HDR), and the kernel is told we take partial checksums and TCP
 * segments up to 64 KiB (TUNSETOFFLOAD TUN_F_CSUM|TUN_F_TSO4), so one
 * read()/write() moves up to 64 KiB instead of one MTU-sized frame.
 *   Receive: the header is stripped. A TCP/UDP checksum the kernel left
 *   partial (NEEDS_CSUM: the data never left its memory) is completed, or —
 *   with DEV_TRUST_CSUM, for a stack run with checksum_offload — left as it
 *   is; with DEV_TRUST_CSUM a TCP frame the kernel did not vouch for (neither
 *   NEEDS_CSUM nor DATA_VALID) is verified here and dropped when wrong
 *   (rx_bad_csum), since that stack verifies nothing.
 *   Send: every IPv4 TCP frame goes with NEEDS_CSUM and its checksum field
 *   set to the pseudo-header sum, so the kernel finishes the checksum (or
 *   skips it: local delivery trusts a partial checksum); a frame longer than
 *   the MTU also goes as GSO TCPV4 with gso_size = MTU - 40 - its TCP
 *   options, and the kernel cuts it (the stack needs gso_max set). */
#define DEV_OFFLOAD 1u
#define DEV_TRUST_CSUM 2u
/* DEV_MULTI_QUEUE (TAP/TUN): one queue of a multi-queue interface
 * (IFF_MULTI_QUEUE): open the same name once per thread. The first open
 * creates the interface when it does not exist; the kernel removes it when
 * the last queue closes. The kernel spreads the frames it sends over the
 * queues by a hash of each flow, and sends a flow's frames to the queue
 * that last sent frames of it. */
#define DEV_MULTI_QUEUE 4u
dev *dev_open_flags(dev_kind kind, const char *ifname, unsigned flags, char *err,
                    size_t errlen);

/* A device on a TAP or TUN file descriptor opened elsewhere, e.g. in another
 * network namespace and passed over a Unix socket (`synack netns`): `ifname`
 * is only its name for messages, `mtu` its interface's MTU (no ioctl by name
 * reaches an interface of another namespace, so dev_hwaddr says -1). The
 * device owns `fd` from then on (closes it), not on failure. Returns NULL
 * with a message in `err`. */
dev *dev_adopt(dev_kind kind, int fd, const char *ifname, unsigned mtu, char *err,
               size_t errlen);
/* The same with DEV_OFFLOAD / DEV_TRUST_CSUM: the TAP must have been made
 * with IFF_VNET_HDR, a header of sizeof(struct virtio_net_hdr), and the
 * offloads turned on (TUNSETOFFLOAD), by whoever opened it. */
dev *dev_adopt_flags(dev_kind kind, int fd, const char *ifname, unsigned mtu, unsigned flags,
                     char *err, size_t errlen);

/* Close; removes the interface when this device created it. NULL ignored. */
void dev_close(dev *d);

dev_kind dev_get_kind(const dev *d);
const char *dev_name(const dev *d);
int dev_fd(const dev *d);
/* 1 when the device created its interface (and will remove it). */
int dev_created(const dev *d);
/* The interface's MTU (IP bytes), or 1500 if it cannot be read. */
unsigned dev_mtu(const dev *d);
/* The interface's own MAC address (the kernel's side of a TAP). 0 or -1. */
int dev_hwaddr(const dev *d, uint8_t mac[6]);

/* Receive up to `max` (<= DEV_BATCH) frames. On return frames[i] points to
 * the i-th frame (valid until the next dev_recv) of lens[i] bytes.
 * Returns the count (0 when nothing is waiting) or -1 on a device error. */
int dev_recv(dev *d, const uint8_t **frames, size_t *lens, int max);

/* Send one frame: queued (copied), the queue flushed first when full; or,
 * on a TAP or TUN, 1 KiB or more (more than 9 KiB with io_uring) written
 * at once after the queue. Frames longer than DEV_FRAME_MAX are dropped. */
void dev_send(dev *d, const void *frame, size_t len);
/* The same for a frame of `len` bytes in `n` pieces (at most
 * DEV_MAX_PIECES; the first holds its headers, e.g. from cfg.output_v):
 * written at once with writev when large, else copied into the queue. */
#define DEV_MAX_PIECES 4
struct iovec;
void dev_sendv(dev *d, const struct iovec *v, int n, size_t len);
/* cfg.output_v's pieces (synack_iov, the same members as struct iovec):
 * dev_sendv them, or, when the frame must be whole (a capture, an
 * impairment), join them into *joined (DEV_FRAME_MAX bytes, allocated on
 * first use) and return its length; 0 when sent, or dropped (no memory,
 * too long: TCP sends it again). */
struct synack_iov;
size_t dev_send_pieces(dev *d, const struct synack_iov *v, int n, size_t len, int join,
                       uint8_t **joined);
/* Hand every queued frame to the kernel. Frames it refuses are counted in
 * tx_dropped (TCP retransmits them). Returns the number sent. */
int dev_flush(dev *d);

const dev_stats *dev_get_stats(const dev *d);
/* 1 while a TAP/TUN reads and writes in io_uring batches (uring.h). */
int dev_batched(const dev *d);

#endif
