/* queue.c — a socket's received datagrams, oldest first, bounded by its
 * receive buffer: each is charged its length plus a fixed overhead
 * (SYNACK_UDP_DGRAM_OVERHEAD), so a flood of empty datagrams fills the
 * buffer as surely as large ones. The one allocation a datagram costs is
 * its entry here. */
#include "udp/udp.h"

#include <errno.h>
#include <string.h>

static size_t charge(size_t len) { return len + SYNACK_UDP_DGRAM_OVERHEAD; }

bool udp_enqueue(synack_udp *u, const synack_udp_meta *meta, const uint8_t *data, size_t len)
{
    udp_ctx *c = u->ctx;
    /* Like Linux, a datagram is taken into an empty queue whatever its size. */
    udp_dgram *d = NULL;
    if (u->queued == 0 || u->queued + charge(len) <= u->rcvbuf)
        d = mem_alloc(c->alloc, sizeof(*d) + len);
    if (!d) { /* full, or no memory: Linux counts both so */
        UDP_COUNT(c, u->family, rcvbuf_errors);
        UDP_COUNT(c, u->family, in_errors);
        return false;
    }
    d->next = NULL;
    d->meta = *meta;
    d->len = len;
    if (len)
        memcpy(d->data, data, len);
    if (u->tail)
        u->tail->next = d;
    else
        u->head = d;
    u->tail = d;
    u->queued += charge(len);
    UDP_COUNT(c, u->family, in_datagrams);
    udp_signal(u, SYNACK_EV_READABLE);
    return true;
}

ssize_t udp_dequeue(synack_udp *u, void *buf, size_t len, synack_udp_meta *from)
{
    udp_dgram *d = u->head;
    if (!d)
        return -EAGAIN;
    size_t n = d->len < len ? d->len : len; /* the rest is discarded (recvfrom) */
    if (n)
        memcpy(buf, d->data, n);
    if (from) {
        *from = d->meta;
        from->full_len = d->len;
    }
    u->head = d->next;
    if (!u->head)
        u->tail = NULL;
    u->queued -= charge(d->len);
    mem_free(u->ctx->alloc, d);
    return (ssize_t)n;
}

void udp_queue_free(synack_udp *u)
{
    while (u->head) {
        udp_dgram *d = u->head;
        u->head = d->next;
        mem_free(u->ctx->alloc, d);
    }
    u->tail = NULL;
    u->queued = 0;
}
