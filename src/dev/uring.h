/*
 * uring.h — many reads or writes of a TAP/TUN file in one system call
 * (io_uring), for dev.c.
 *
 * A TAP takes one frame per read or write, and in a virtual machine the
 * system call around each costs more than the frame's own work: on this
 * project's VM, writes of 1514-byte frames went from 0.56 M/s one per
 * write(2) to 3.6 M/s 64 per io_uring_enter(2). Every operation is
 * RWF_NOWAIT, so each completes (or fails with EAGAIN) inside the call, in
 * the order submitted: frames keep their order both ways, and a read of an
 * empty queue comes back at once instead of waiting.
 *
 * Unavailable (io_uring disabled by sysctl or seccomp, an old kernel) or
 * refused by SYNACK_NO_IO_URING=1 in the environment: dev_uring_new returns
 * NULL and the device reads and writes one frame per call as before. A
 * ring the kernel turns out not to take for this file (a TAP before Linux
 * 6.4 refuses RWF_NOWAIT) fails its first call: the device drops it then
 * and goes on the same way.
 */
#ifndef SYNACK_DEV_URING_H
#define SYNACK_DEV_URING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

typedef struct dev_uring dev_uring;

/* A ring for up to `depth` operations per call, or NULL (see above). */
dev_uring *dev_uring_new(unsigned depth);
void dev_uring_free(dev_uring *u);

/* Read up to `n` frames from `fd`, the i-th into base + i * slot (at most
 * `slot` bytes). res[i] is the i-th read's result: bytes, or -errno
 * (-EAGAIN: nothing was waiting). Returns 0, or -1 when the ring is not
 * usable (errno says why; res[i] >= 0 were read all the same): free it. */
int dev_uring_read(dev_uring *u, int fd, uint8_t *base, size_t slot, int n, ssize_t *res);

/* Write `n` frames to `fd`, the i-th gathered from frames[i] (niov[i]
 * pieces), in order. res[i] as for dev_uring_read; -1 as there (the frames
 * whose res[i] < 0 were not written). */
int dev_uring_write(dev_uring *u, int fd, const struct iovec *const *frames, const int *niov,
                    int n, ssize_t *res);

#endif
