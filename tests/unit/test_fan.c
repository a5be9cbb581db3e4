/* test_fan.c — frames handed between a steered group's threads
 * (src/dev/fan.c): every frame arrives once, whole and in order per
 * producer, the eventfd wakes the member, and a full inbox drops and
 * counts rather than blocks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <string.h>

#include "dev/fan.h"

#define PER_PRODUCER 20000

typedef struct seen {
    uint32_t next[2]; /* the next sequence number expected from each producer */
    size_t frames, bad;
} seen;

static void take(void *ctx, const void *frame, size_t len)
{
    seen *s = ctx;
    uint32_t who, seq;
    memcpy(&who, frame, 4);
    memcpy(&seq, (const uint8_t *)frame + 4, 4);
    s->frames++;
    if (who > 1 || seq != s->next[who] || len != 8 + seq % 100)
        s->bad++;
    else
        s->next[who]++;
}

typedef struct producer { dev_fan *f; uint32_t who; } producer;

static void *produce(void *arg)
{
    producer *p = arg;
    uint8_t frame[8 + 100] = {0};
    for (uint32_t seq = 0; seq < PER_PRODUCER; seq++) {
        memcpy(frame, &p->who, 4);
        memcpy(frame + 4, &seq, 4);
        dev_fan_push(p->f, 0, frame, 8 + seq % 100);
    }
    return NULL;
}

/* Two threads push into member 0 while it drains: each frame once, whole,
 * in each producer's order (the inbox is large enough: nothing dropped). */
static void frames_arrive_once_in_order(void **state)
{
    (void)state;
    dev_fan *f = dev_fan_new(3);
    assert_non_null(f);
    producer p[2] = {{f, 0}, {f, 1}};
    pthread_t th[2];
    seen s = {0};
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, produce, &p[i]), 0);
    while (s.frames < 2 * PER_PRODUCER && !dev_fan_dropped(f, 0)) {
        struct pollfd pfd = {.fd = dev_fan_fd(f, 0), .events = POLLIN};
        poll(&pfd, 1, 1000);
        dev_fan_drain(f, 0, take, &s);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    dev_fan_drain(f, 0, take, &s);
    assert_int_equal(dev_fan_dropped(f, 0), 0);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.frames, 2 * PER_PRODUCER);
    assert_int_equal(dev_fan_drain(f, 1, take, &s), 0); /* the others got nothing */
    dev_fan_free(f);
}

/* The member's descriptor is readable after a push or a wake, and not
 * after the drain. */
static void the_descriptor_wakes_the_member(void **state)
{
    (void)state;
    dev_fan *f = dev_fan_new(2);
    struct pollfd pfd = {.fd = dev_fan_fd(f, 1), .events = POLLIN};
    assert_int_equal(poll(&pfd, 1, 0), 0);
    dev_fan_push(f, 1, "abcdefgh", 8);
    assert_int_equal(poll(&pfd, 1, 0), 1);
    seen s = {0};
    assert_int_equal(dev_fan_drain(f, 1, take, &s), 1);
    assert_int_equal(poll(&pfd, 1, 0), 0);
    dev_fan_wake(f, 1);
    assert_int_equal(poll(&pfd, 1, 0), 1);
    assert_int_equal(dev_fan_drain(f, 1, take, &s), 0);
    dev_fan_free(f);
}

/* A full inbox drops and counts; the frames already in it stay. */
static void a_full_inbox_drops_and_counts(void **state)
{
    (void)state;
    dev_fan *f = dev_fan_new(1);
    static uint8_t big[65536];
    size_t fit = FAN_INBOX_BYTES / (sizeof big + 4);
    for (size_t i = 0; i < fit + 3; i++)
        dev_fan_push(f, 0, big, sizeof big);
    assert_int_equal(dev_fan_dropped(f, 0), 3);
    seen s = {0};
    assert_int_equal(dev_fan_drain(f, 0, take, &s), fit);
    dev_fan_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(frames_arrive_once_in_order),
        cmocka_unit_test(the_descriptor_wakes_the_member),
        cmocka_unit_test(a_full_inbox_drops_and_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
