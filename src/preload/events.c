/* events.c — what `synack run` watches: every trace event of the stack,
 * appended as records (stream.h) to the file SYNACK_RUN_EVENTS names, the
 * counters at exit, and the frames to a pcap file (SYNACK_RUN_PCAP).
 * Records are gathered in a buffer on the runtime thread and written
 * whole: when it fills, at every state change, when 50 ms have passed
 * since the last write, and at exit. */
#define _GNU_SOURCE
#include "preload/preload.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dev/pcap.h"

#define BUF_SIZE (64u * 1024)
#define FLUSH_NS 50000000ull

static int ev_fd = -1;
static uint8_t buf[BUF_SIZE];
static size_t buf_len;
static uint64_t last_flush;
static pcap_writer *pcap;
static int64_t wall_offset; /* realtime - monotonic, for pcap time stamps */
static uint32_t ev_pid;      /* getpid() once: records come by the thousand */

static void flush(void)
{
    size_t off = 0;
    while (off < buf_len) {
        ssize_t n = write(ev_fd, buf + off, buf_len - off);
        if (n <= 0)
            break; /* the watcher went: the program goes on unwatched */
        off += (size_t)n;
    }
    buf_len = 0;
}

static void put(uint32_t type, const void *body, uint32_t len)
{
    if (ev_fd < 0)
        return;
    if (buf_len + sizeof(sp_rec) + len > BUF_SIZE)
        flush();
    sp_rec h = {.type = type, .len = len, .pid = ev_pid};
    memcpy(buf + buf_len, &h, sizeof h);
    memcpy(buf + buf_len + sizeof h, body, len);
    buf_len += sizeof h + len;
}

/* What the watcher asked for (SYNACK_RUN_DETAIL): every event (its
 * --trace, --ladder, --json), or state changes and per-connection totals
 * (its one-line summaries), or nothing (quiet). */
enum { DETAIL_NONE, DETAIL_SUMMARY, DETAIL_ALL };
static int detail = DETAIL_ALL;

static void put_totals(const sp_totals *t) { put(SP_REC_TOTALS, t, sizeof *t); }

static void on_trace(void *ctx, const synack_trace_event *ev);

/* Summary mode: segments are summed; the sums go out before each state
 * change (the connection's last ones with CLOSED), so the watcher has a
 * connection's bytes whenever it has its states. */
static void on_trace_summary(void *ctx, const synack_trace_event *ev)
{
    if (ev->kind == SYNACK_TRACE_SEG_IN || ev->kind == SYNACK_TRACE_SEG_OUT) {
        sp_totals_add(ev);
        return;
    }
    if (ev->kind != SYNACK_TRACE_STATE)
        return;
    sp_totals t;
    if (sp_totals_take(ev->conn_id, &t, ev->new_state == SYNACK_CLOSED))
        put_totals(&t);
    on_trace(ctx, ev);
}

static void on_trace(void *ctx, const synack_trace_event *ev)
{
    (void)ctx;
    sp_event e;
    memset(&e, 0, sizeof e);
    e.ev = *ev;
    e.ev.cause = NULL;
    if (ev->cause)
        snprintf(e.cause, sizeof e.cause, "%s", ev->cause);
    put(SP_REC_EVENT, &e, sizeof e);
    if (ev->kind == SYNACK_TRACE_STATE || ev->time_ns - last_flush >= FLUSH_NS) {
        flush();
        last_flush = ev->time_ns;
    }
}

static void on_frame(void *ctx, const void *frame, size_t len, int out, uint64_t now)
{
    (void)ctx;
    (void)out;
    pcap_write(pcap, (uint64_t)((int64_t)now + wall_offset), frame, len);
}

void sp_events_setup(synack_rt_config *cfg, uint64_t t0)
{
    const char *path = getenv("SYNACK_RUN_EVENTS");
    const char *d = getenv("SYNACK_RUN_DETAIL");
    detail = !d || !strcmp(d, "all") ? DETAIL_ALL : !strcmp(d, "summary") ? DETAIL_SUMMARY
                                                                          : DETAIL_NONE;
    ev_pid = (uint32_t)getpid();
    if (path && *path) {
        ev_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
        if (ev_fd < 0)
            sp_say("SYNACK_RUN_EVENTS ", path, ": cannot open; not watched");
        cfg->stack.trace = detail == DETAIL_ALL       ? on_trace
                           : detail == DETAIL_SUMMARY ? on_trace_summary
                                                      : NULL;
        sp_start s = {.t0_ns = t0};
        put(SP_REC_START, &s, sizeof s);
        flush();
    }
    path = getenv("SYNACK_RUN_PCAP");
    if (path && *path) {
        struct timespec rt;
        clock_gettime(CLOCK_REALTIME, &rt);
        wall_offset = (int64_t)rt.tv_sec * 1000000000ll + rt.tv_nsec - (int64_t)t0;
        int link = cfg->device == SYNACK_RT_TUN ? PCAP_LINKTYPE_RAW : PCAP_LINKTYPE_ETHERNET;
        pcap = pcap_open(path, link, PCAP_NSEC);
        if (!pcap)
            sp_say("SYNACK_RUN_PCAP ", path, ": cannot open; no capture");
        else {
            cfg->capture = on_frame;
        }
    }
}

/* SYNACK_DROP_TW_PAWS's id "TW_PAWS" -> "SynackDropTwPaws". */
static void drop_name(const char *id, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "SynackDrop");
    for (int up = 1; *id && n + 1 < cap; id++) {
        if (*id == '_') {
            up = 1;
            continue;
        }
        out[n++] = (char)(up ? toupper((unsigned char)*id) : tolower((unsigned char)*id));
        up = 0;
    }
    out[n] = '\0';
}

/* A group's members each add theirs (synack_rt_with_stack runs them one
 * after the other); sp_events_counters_put writes the sums once. */
static uint64_t *sums;

void sp_events_counters(void *ctx, synack_stack *s)
{
    (void)ctx;
    size_t nc = synack_counter_count();
    if (!sums && !(sums = calloc(nc + SYNACK_DROP_COUNT, sizeof *sums)))
        return;
    const synack_counters *c = synack_get_counters(s);
    for (size_t i = 0; i < nc; i++)
        sums[i] += synack_counter_value(c, i);
    for (int d = 1; d < SYNACK_DROP_COUNT; d++)
        sums[nc + (size_t)d] += synack_drop_count(s, d);
}

void sp_events_counters_put(void)
{
    if (!sums)
        return;
    size_t nc = synack_counter_count();
    sp_counter k;
    for (size_t i = 0; i < nc; i++) {
        memset(&k, 0, sizeof k);
        k.value = sums[i];
        snprintf(k.name, sizeof k.name, "%s", synack_counter_name(i));
        if (k.value)
            put(SP_REC_COUNTER, &k, sizeof k);
    }
#define DROP_ID(id, text) #id,
    static const char *const ids[] = {SYNACK_DROPS(DROP_ID)};
#undef DROP_ID
    for (int d = 1; d < SYNACK_DROP_COUNT; d++) {
        memset(&k, 0, sizeof k);
        k.value = sums[nc + (size_t)d];
        drop_name(ids[d], k.name, sizeof k.name);
        if (k.value)
            put(SP_REC_COUNTER, &k, sizeof k);
    }
    free(sums);
    sums = NULL;
}

void sp_events_close(void)
{
    if (ev_fd >= 0) {
        sp_totals_drain(put_totals);
        put(SP_REC_EXIT, "", 0);
        flush();
        close(ev_fd);
        ev_fd = -1;
    }
    if (pcap && pcap_close(pcap) < 0)
        sp_say("SYNACK_RUN_PCAP: write error", "", "");
    pcap = NULL;
}
