/*
 * loss_emu.h — one direction of loss_kernel's link emulator: IP packets
 * read from one TUN are written into another after a fixed delay, TCP
 * data dropped with a probability. No bandwidth limit, no reordering.
 */
#ifndef SYNACK_BENCH_LOSS_EMU_H
#define SYNACK_BENCH_LOSS_EMU_H

#include <stdint.h>

#define EMU_FRAME 2048   /* read buffer per packet: above the MTU, so none is cut */
#define EMU_QUEUE 4096   /* packets held per direction: above any window here */
#define EMU_OFF_NS 200000 /* the delay is to hold within 0.2 ms */
#define EMU_HIST 600      /* release-time histogram: 10 us buckets, -1 ms to 5 ms */
#define EMU_HIST_NS 10000
#define EMU_HIST_EARLY_NS 1000000

typedef struct emu_params {
    int in, out;      /* TUN fds (non-blocking): read from `in`, written to `out` */
    uint64_t delay_ns;
    uint64_t early_ns; /* a packet may leave this much before it is due */
    double loss;      /* probability a packet with TCP payload is dropped */
    uint64_t seed;
    uint64_t count_after_ns; /* account releases only this long after the start
                              * (the measurement's warm-up) */
    int stop;         /* runs until this fd is readable or hung up */
    int realtime;     /* ask for SCHED_FIFO */
} emu_params;

/* What one direction saw. */
typedef struct emu_stats {
    uint64_t frames;    /* read from its TUN */
    uint64_t lost;      /* dropped on purpose */
    uint64_t overflow;  /* dropped because the queue was full: must stay 0 */
    uint64_t write_err; /* the far TUN refused a packet: must stay 0 */
    uint64_t released;
    uint64_t off;       /* released more than EMU_OFF_NS from due, either way */
    int64_t late_max_ns, err_sum_ns;
    uint32_t hist[EMU_HIST + 1]; /* release time - due, from -EMU_HIST_EARLY_NS */
    int realtime;                /* whether it ran under SCHED_FIFO */
} emu_stats;

/* Runs until p->stop fires; 0, or -1 if out of memory. */
int emu_run(const emu_params *p, emu_stats *st);

/* The release error (time - due, ms) below which a fraction q of the
 * packets went out (the upper edge of its 10 us bucket). */
double emu_quantile(const emu_stats *st, double q);

#endif
