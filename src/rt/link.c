/* link.c — an in-process Ethernet link between two runtimes, each in its
 * own thread (the single-threaded memlink in src/dev cannot be shared).
 *
 * Each side has an inbox: a byte vector of [u32 length][frame] records
 * behind a mutex, and an eventfd the receiving runtime polls. The sender
 * appends under the lock and signals when the inbox was empty; the
 * receiver swaps the whole vector out under the lock and hands the frames
 * to its stack unlocked, so neither thread waits on the other's stack. */
#define _GNU_SOURCE
#include "rt/rt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define LINK_QUEUE_MAX (16u << 20) /* bytes of records per inbox */

typedef struct bytes {
    uint8_t *p;
    size_t len, cap;
} bytes;

typedef struct inbox {
    pthread_mutex_t mu;
    bytes q;
    bytes spare; /* the receiver's: the vector it swaps in, reused */
    int efd;
    uint64_t dropped;
} inbox;

struct synack_rt_link {
    inbox in[2];
};

synack_rt_link *synack_rt_link_new(void)
{
    synack_rt_link *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    for (int i = 0; i < 2; i++) {
        pthread_mutex_init(&l->in[i].mu, NULL);
        l->in[i].efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (l->in[i].efd < 0) {
            synack_rt_link_free(l);
            return NULL;
        }
    }
    return l;
}

void synack_rt_link_free(synack_rt_link *l)
{
    if (!l)
        return;
    for (int i = 0; i < 2; i++) {
        if (l->in[i].efd > 0)
            close(l->in[i].efd);
        free(l->in[i].q.p);
        free(l->in[i].spare.p);
        pthread_mutex_destroy(&l->in[i].mu);
    }
    free(l);
}

int rt_link_fd(synack_rt_link *l, int side) { return l->in[side & 1].efd; }

static bool reserve(bytes *b, size_t more)
{
    if (b->len + more <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 64 * 1024;
    while (cap < b->len + more)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return false;
    b->p = p;
    b->cap = cap;
    return true;
}

/* Called by the runtime of `side` (its output hook): the frame goes to
 * the other side's inbox. */
void rt_link_send(synack_rt_link *l, int side, const void *frame, size_t len)
{
    synack_iov v = {.base = (void *)frame, .len = len};
    rt_link_sendv(l, side, &v, 1, len);
}

void rt_link_sendv(synack_rt_link *l, int side, const synack_iov *v, int nv, size_t len)
{
    inbox *to = &l->in[(side & 1) ^ 1];
    uint32_t n = (uint32_t)len;
    pthread_mutex_lock(&to->mu);
    bool was_empty = to->q.len == 0;
    if (to->q.len + 4 + len > LINK_QUEUE_MAX || !reserve(&to->q, 4 + len)) {
        to->dropped++; /* a full queue drops, like a device's; TCP resends */
        pthread_mutex_unlock(&to->mu);
        return;
    }
    memcpy(to->q.p + to->q.len, &n, 4);
    uint8_t *at = to->q.p + to->q.len + 4;
    for (int i = 0; i < nv; i++) { /* the pieces, joined: the frame's only copy */
        memcpy(at, v[i].base, v[i].len);
        at += v[i].len;
    }
    to->q.len += 4 + len;
    pthread_mutex_unlock(&to->mu);
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(to->efd, &one, sizeof one);
        (void)w;
    }
}

void rt_link_receive(synack_rt_link *l, int side, void (*fn)(void *ctx, const void *f, size_t n),
                     void *ctx)
{
    inbox *in = &l->in[side & 1];
    uint64_t count;
    ssize_t r = read(in->efd, &count, sizeof count); /* before the swap: see call.c */
    (void)r;
    bytes mine = in->spare;
    mine.len = 0;
    pthread_mutex_lock(&in->mu);
    in->spare = in->q;
    in->q = mine;
    pthread_mutex_unlock(&in->mu);
    mine = in->spare;
    for (size_t off = 0; off + 4 <= mine.len;) {
        uint32_t n;
        memcpy(&n, mine.p + off, 4);
        fn(ctx, mine.p + off + 4, n);
        off += 4 + n;
    }
}
