/*
 * loss_emu.c — one direction of loss_kernel's link (see loss_emu.h).
 *
 * Each direction runs in a process of its own: writing an ACK into the
 * sender's TUN runs the sender's TCP (and the output of the segments the
 * ACK lets go) inside that write, and the data direction should not wait
 * behind it.
 */
#define _GNU_SOURCE
#include "loss_emu.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

typedef struct emu_pkt {
    uint64_t due;
    uint32_t len;
    unsigned char data[EMU_FRAME];
} emu_pkt;

typedef struct emu {
    const emu_params *p;
    emu_pkt *q; /* FIFO: with one delay for all, arrival order is release order */
    size_t head, count;
    uint64_t rng, count_from;
    emu_stats *st;
} emu;

/* splitmix64: small, seedable, good enough for a Bernoulli draw. */
static double emu_uniform(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1p-53;
}

/* Whether an IPv4 packet carries TCP payload: only those may be lost, so
 * the handshake always gets through. */
static int has_tcp_payload(const unsigned char *b, size_t len)
{
    if (len < 20 || b[0] >> 4 != 4 || b[9] != IPPROTO_TCP)
        return 0;
    size_t ihl = (size_t)(b[0] & 15) * 4, tot = (size_t)b[2] << 8 | b[3];
    if (tot > len)
        tot = len;
    if (ihl < 20 || tot < ihl + 20)
        return 0;
    size_t doff = (size_t)(b[ihl + 12] >> 4) * 4;
    return doff >= 20 && tot > ihl + doff;
}

/* Read what the TUN holds (at most a batch, so releases are not held up)
 * into the FIFO, each packet due delay_ns after it was read. */
static void emu_read(emu *e)
{
    static unsigned char scratch[EMU_FRAME];
    for (int i = 0; i < 64; i++) {
        emu_pkt *slot = e->count < EMU_QUEUE ? &e->q[(e->head + e->count) % EMU_QUEUE] : NULL;
        unsigned char *buf = slot ? slot->data : scratch;
        ssize_t n = read(e->p->in, buf, EMU_FRAME);
        if (n <= 0)
            return;
        e->st->frames++;
        if (!slot) {
            e->st->overflow++;
            continue;
        }
        if (e->p->loss > 0 && has_tcp_payload(buf, (size_t)n) &&
            emu_uniform(&e->rng) < e->p->loss) {
            e->st->lost++;
            continue;
        }
        slot->len = (uint32_t)n;
        slot->due = bench_now_ns() + e->p->delay_ns;
        e->count++;
    }
}

/* How far from its due time a packet went out: the histogram (signed, as
 * a packet may leave early_ns early), the count off by more than 0.2 ms,
 * the worst lateness. */
static void emu_account(emu_stats *st, int64_t err)
{
    int64_t b = (err + EMU_HIST_EARLY_NS) / EMU_HIST_NS;
    st->hist[b < 0 ? 0 : b > EMU_HIST ? EMU_HIST : b]++;
    st->err_sum_ns += err;
    if (err > st->late_max_ns)
        st->late_max_ns = err;
    if (err > EMU_OFF_NS || err < -EMU_OFF_NS)
        st->off++;
    st->released++;
}

/* Write every packet due (within early_ns) into the other TUN. */
static void emu_release(emu *e)
{
    uint64_t now = bench_now_ns();
    while (e->count && e->q[e->head].due <= now + e->p->early_ns) {
        emu_pkt *pk = &e->q[e->head];
        if (write(e->p->out, pk->data, pk->len) != (ssize_t)pk->len)
            e->st->write_err++;
        if (now >= e->count_from)
            emu_account(e->st, (int64_t)(now - pk->due));
        e->head = (e->head + 1) % EMU_QUEUE;
        e->count--;
        now = bench_now_ns(); /* each write runs the far side's TCP: time moves */
    }
}

/* How long ppoll may sleep: to the head's due time (less early_ns), or
 * (nothing queued) until a packet or the stop comes. */
static struct timespec *emu_timeout(const emu *e, struct timespec *ts)
{
    if (!e->count)
        return NULL;
    uint64_t now = bench_now_ns(), at = e->q[e->head].due - e->p->early_ns;
    uint64_t wait = at > now ? at - now : 0;
    ts->tv_sec = (time_t)(wait / 1000000000u);
    ts->tv_nsec = (long)(wait % 1000000000u);
    return ts;
}

/* netem runs in the kernel's timer and softirq context, ahead of every
 * task; the userspace emulator gets the nearest thing, SCHED_FIFO, or on
 * a shared machine its wake-ups wait behind other tasks for milliseconds.
 * It needs a few percent of a core; RLIMIT_RTTIME kills it should it ever
 * spin 0.2 s without sleeping. Returns whether it is real-time. */
static int emu_realtime(void)
{
    struct rlimit rl = {200000, 200000}; /* microseconds */
    struct sched_param sp = {.sched_priority = 10};
    return setrlimit(RLIMIT_RTTIME, &rl) == 0 && sched_setscheduler(0, SCHED_FIFO, &sp) == 0;
}

int emu_run(const emu_params *p, emu_stats *st)
{
    emu e = {.p = p, .rng = p->seed, .st = st, .count_from = bench_now_ns() + p->count_after_ns};
    e.q = malloc(sizeof(emu_pkt) * EMU_QUEUE);
    if (!e.q)
        return -1;
    /* Sleep to the due time, not to the default 50 us slack past it. */
    prctl(PR_SET_TIMERSLACK, 1UL);
    st->realtime = p->realtime && emu_realtime();
    struct pollfd pfd[2] = {{p->in, POLLIN, 0}, {p->stop, POLLIN, 0}};
    for (;;) {
        struct timespec ts;
        int r = ppoll(pfd, 2, emu_timeout(&e, &ts), NULL);
        if (r < 0 && errno != EINTR)
            break;
        emu_release(&e);
        if (r > 0 && pfd[1].revents)
            break;
        if (r > 0 && pfd[0].revents & POLLIN)
            emu_read(&e);
    }
    free(e.q);
    return 0;
}

double emu_quantile(const emu_stats *st, double q)
{
    uint64_t want = (uint64_t)((double)st->released * q), sum = 0;
    for (int i = 0; i <= EMU_HIST; i++) {
        sum += st->hist[i];
        if (sum > want)
            return ((double)(i + 1) * EMU_HIST_NS - EMU_HIST_EARLY_NS) / 1e6;
    }
    return (double)st->late_max_ns / 1e6;
}
