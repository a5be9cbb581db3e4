/* fan.c — frames between a steered group's threads (see fan.h). Each inbox
 * is a byte buffer of [length][frame] records filled under its lock; the
 * member swaps it for an empty one and reads it outside the lock, so a
 * producer never waits for the frames to be processed. */
#define _GNU_SOURCE
#include "dev/fan.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct inbox {
    pthread_mutex_t mu;
    uint8_t *buf, *spare; /* filled by producers; read by the member */
    size_t used;
    uint64_t dropped;
    int efd;
} inbox;

struct dev_fan {
    unsigned n;
    inbox box[];
};

void dev_fan_free(dev_fan *f)
{
    if (!f)
        return;
    for (unsigned i = 0; i < f->n; i++) {
        inbox *b = &f->box[i];
        if (b->efd >= 0)
            close(b->efd);
        pthread_mutex_destroy(&b->mu);
        free(b->buf);
        free(b->spare);
    }
    free(f);
}

dev_fan *dev_fan_new(unsigned n)
{
    if (n == 0) {
        errno = EINVAL;
        return NULL;
    }
    dev_fan *f = calloc(1, sizeof(*f) + n * sizeof(inbox));
    if (!f)
        return NULL;
    f->n = n;
    for (unsigned i = 0; i < n; i++)
        f->box[i].efd = -1;
    for (unsigned i = 0; i < n; i++) {
        inbox *b = &f->box[i];
        pthread_mutex_init(&b->mu, NULL);
        b->buf = malloc(FAN_INBOX_BYTES);
        b->spare = malloc(FAN_INBOX_BYTES);
        b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (!b->buf || !b->spare || b->efd < 0) {
            dev_fan_free(f);
            return NULL;
        }
    }
    return f;
}

unsigned dev_fan_size(const dev_fan *f) { return f->n; }
int dev_fan_fd(const dev_fan *f, unsigned i) { return f->box[i].efd; }

void dev_fan_wake(dev_fan *f, unsigned i)
{
    uint64_t one = 1;
    (void)!write(f->box[i].efd, &one, sizeof one);
}

int dev_fan_push(dev_fan *f, unsigned to, const void *frame, size_t len)
{
    inbox *b = &f->box[to];
    uint32_t n = (uint32_t)len;
    pthread_mutex_lock(&b->mu);
    int fits = len <= UINT32_MAX && FAN_INBOX_BYTES - b->used >= sizeof n + len;
    if (fits) {
        memcpy(b->buf + b->used, &n, sizeof n);
        memcpy(b->buf + b->used + sizeof n, frame, len);
        b->used += sizeof n + len;
    } else {
        b->dropped++;
    }
    pthread_mutex_unlock(&b->mu);
    if (fits)
        dev_fan_wake(f, to);
    return fits ? 0 : -1;
}

size_t dev_fan_drain(dev_fan *f, unsigned i, void (*fn)(void *ctx, const void *frame, size_t len),
                     void *ctx)
{
    inbox *b = &f->box[i];
    uint64_t count;
    (void)!read(b->efd, &count, sizeof count); /* reset the wake-up first: none is lost */
    pthread_mutex_lock(&b->mu);
    uint8_t *full = b->buf;
    size_t used = b->used;
    b->buf = b->spare;
    b->used = 0;
    pthread_mutex_unlock(&b->mu);
    size_t frames = 0;
    for (size_t at = 0; at < used; frames++) {
        uint32_t n;
        memcpy(&n, full + at, sizeof n);
        fn(ctx, full + at + sizeof n, n);
        at += sizeof n + n;
    }
    b->spare = full; /* only this member touches spare */
    return frames;
}

uint64_t dev_fan_dropped(dev_fan *f, unsigned i)
{
    inbox *b = &f->box[i];
    pthread_mutex_lock(&b->mu);
    uint64_t d = b->dropped;
    pthread_mutex_unlock(&b->mu);
    return d;
}
