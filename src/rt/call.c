/* call.c — the command queue: application threads hand a call to the
 * runtime thread and wait for its answer.
 *
 * One mutex guards the queue; an eventfd in the runtime's epoll set wakes
 * the runtime thread; each caller waits on a condition of its own (the
 * command lives on the caller's stack), so answers never wake the wrong
 * thread. The runtime takes the whole queue at once and runs it unlocked:
 * the stack is only ever touched by the runtime thread. A posted command
 * has nobody waiting: it keeps its place in the queue, so a later call
 * sees its effect, and costs its caller no wait. */
#define _GNU_SOURCE
#include "rt/rt.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

void rt_wake(synack_rt *rt)
{
    uint64_t one = 1;
    /* The counter saturates long before 2^64: a failed write is a wake-up
     * already pending, never a lost one. */
    ssize_t n = write(rt->wakefd, &one, sizeof one);
    (void)n;
}

/* Append `c` to the queue (and wake the runtime); false if it stopped. */
static bool enqueue(synack_rt *rt, rt_cmd *c, bool wake)
{
    c->next = NULL;
    pthread_mutex_lock(&rt->mu);
    if (!rt->running) {
        pthread_mutex_unlock(&rt->mu);
        return false;
    }
    if (rt->cmd_tail)
        rt->cmd_tail->next = c;
    else
        rt->cmd_head = c;
    rt->cmd_tail = c;
    atomic_store(&rt->queued, true);
    pthread_mutex_unlock(&rt->mu);
    if (wake)
        rt_wake(rt);
    return true;
}

int rt_post(synack_rt *rt, rt_cmd *c, bool wake)
{
    c->posted = true;
    rt = rt_route(rt, c);
    if (enqueue(rt, c, wake))
        return 0;
    free(c);
    return -ENETDOWN;
}

int rt_call(synack_rt *rt, rt_cmd *c)
{
    return rt_call_on(rt_route(rt, c), c);
}

int rt_call_on(synack_rt *rt, rt_cmd *c)
{
    pthread_cond_init(&c->cond, NULL);
    c->done = false;
    c->posted = false;
    if (!enqueue(rt, c, true)) {
        pthread_cond_destroy(&c->cond);
        return -ENETDOWN;
    }
    pthread_mutex_lock(&rt->mu);
    while (!c->done)
        pthread_cond_wait(&c->cond, &rt->mu);
    pthread_mutex_unlock(&rt->mu);
    pthread_cond_destroy(&c->cond);
    return c->result;
}

void rt_cmd_finish(synack_rt *rt, rt_cmd *c, int result)
{
    pthread_mutex_lock(&rt->mu);
    c->result = result;
    c->done = true;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&rt->mu);
}

static rt_cmd *take_all(synack_rt *rt)
{
    pthread_mutex_lock(&rt->mu);
    rt_cmd *c = rt->cmd_head;
    rt->cmd_head = rt->cmd_tail = NULL;
    atomic_store(&rt->queued, false);
    pthread_mutex_unlock(&rt->mu);
    return c;
}

void rt_run_commands(synack_rt *rt)
{
    uint64_t count;
    ssize_t n = read(rt->wakefd, &count, sizeof count); /* clear it first: a call
                                                            queued after is seen */
    (void)n;
    rt_run_queued(rt);
}

void rt_run_queued(synack_rt *rt)
{
    if (!atomic_load(&rt->queued))
        return;
    for (rt_cmd *c = take_all(rt), *next; c; c = next) {
        next = c->next; /* c may be answered, and gone, once run */
        int r = c->run(rt, c);
        if (c->posted)
            free(c);
        else if (r != RT_LATER)
            rt_cmd_finish(rt, c, r);
    }
}

/* The runtime is stopping: no call is taken any more, and every queued
 * one is answered ENETDOWN. */
void rt_fail_commands(synack_rt *rt)
{
    pthread_mutex_lock(&rt->mu);
    rt->running = false;
    pthread_mutex_unlock(&rt->mu);
    for (rt_cmd *c = take_all(rt), *next; c; c = next) {
        next = c->next;
        if (c->posted)
            free(c);
        else
            rt_cmd_finish(rt, c, -ENETDOWN);
    }
}
