/* uring.c — batches of TAP/TUN reads and writes through io_uring (uring.h). */
#define _GNU_SOURCE
#include "dev/uring.h"

#include <errno.h>
#include <liburing.h>
#include <stdlib.h>

#ifndef IORING_SETUP_COOP_TASKRUN /* liburing before 2.2 */
#define IORING_SETUP_COOP_TASKRUN (1U << 8)
#endif

struct dev_uring {
    struct io_uring ring;
    unsigned depth;
};

dev_uring *dev_uring_new(unsigned depth)
{
    const char *off = getenv("SYNACK_NO_IO_URING");
    if ((off && *off && *off != '0') || !depth)
        return NULL;
    dev_uring *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    /* Completions are reaped by the submitter only: no interrupt to post
     * them (COOP_TASKRUN). Not SINGLE_ISSUER: a device is opened on one
     * thread and run on another (serve --threads). Older kernels refuse
     * the flag, so ask again without it. */
    struct io_uring_params p = {.flags = IORING_SETUP_COOP_TASKRUN};
    if (io_uring_queue_init_params(depth, &u->ring, &p) < 0 &&
        io_uring_queue_init(depth, &u->ring, 0) < 0) {
        free(u);
        return NULL;
    }
    u->depth = depth;
    return u;
}

void dev_uring_free(dev_uring *u)
{
    if (!u)
        return;
    io_uring_queue_exit(&u->ring);
    free(u);
}

/* Submit what is queued and collect `n` results by index (user_data).
 * -1 when the ring cannot be used: the call failed (its entries may still
 * sit in the ring), or the kernel refused an operation outright, as a TAP
 * refuses RWF_NOWAIT before Linux 6.4 (EOPNOTSUPP) and a kernel without
 * the operation does (EINVAL). The caller drops the ring then. */
static int submit_and_reap(dev_uring *u, int n, ssize_t *res)
{
    for (int i = 0; i < n; i++)
        res[i] = -ECANCELED; /* overwritten by every completion */
    int got = 0, refused = 0;
    while (got < n) {
        int r = io_uring_submit_and_wait(&u->ring, (unsigned)(n - got));
        if (r < 0 && r != -EINTR) {
            errno = -r;
            return -1;
        }
        struct io_uring_cqe *c;
        unsigned head, seen = 0;
        io_uring_for_each_cqe(&u->ring, head, c)
        {
            if (c->user_data < (uint64_t)n)
                res[c->user_data] = c->res;
            refused |= c->res == -EOPNOTSUPP || c->res == -EINVAL;
            seen++;
        }
        io_uring_cq_advance(&u->ring, seen);
        got += (int)seen;
    }
    if (refused)
        errno = EOPNOTSUPP;
    return refused ? -1 : 0;
}

int dev_uring_read(dev_uring *u, int fd, uint8_t *base, size_t slot, int n, ssize_t *res)
{
    if (n > (int)u->depth)
        n = (int)u->depth;
    for (int i = 0; i < n; i++) {
        struct io_uring_sqe *q = io_uring_get_sqe(&u->ring);
        if (!q)
            return -1; /* never: the ring holds depth and every call reaps all */
        io_uring_prep_read(q, fd, base + (size_t)i * slot, (unsigned)slot, 0);
        q->rw_flags = RWF_NOWAIT;
        q->user_data = (uint64_t)i;
    }
    return submit_and_reap(u, n, res);
}

int dev_uring_write(dev_uring *u, int fd, const struct iovec *const *frames, const int *niov,
                    int n, ssize_t *res)
{
    if (n > (int)u->depth)
        return -1;
    for (int i = 0; i < n; i++) {
        struct io_uring_sqe *q = io_uring_get_sqe(&u->ring);
        if (!q)
            return -1;
        io_uring_prep_writev(q, fd, frames[i], (unsigned)niov[i], 0);
        q->rw_flags = RWF_NOWAIT;
        q->user_data = (uint64_t)i;
    }
    return submit_and_reap(u, n, res);
}
