/*
 * stream.h — the records libsynack-preload.so appends to the file named by
 * SYNACK_RUN_EVENTS, and `synack run` reads (tools/synack/run.c). Both come
 * from the same build, so records are plain structs in host byte order.
 *
 * Each record: an sp_rec header, then `len` bytes. A process writes whole
 * records with one write(2) to a file opened O_APPEND, so the records of
 * several processes (a shell and the program it runs) never interleave.
 */
#ifndef SYNACK_PRELOAD_STREAM_H
#define SYNACK_PRELOAD_STREAM_H

#include <stdint.h>

#include "synack.h"

enum {
    SP_REC_EVENT = 1, /* sp_event: a trace event of the stack               */
    SP_REC_COUNTER,   /* sp_counter: one counter at exit (nstat's name)     */
    SP_REC_START,     /* sp_start: the runtime started                      */
    SP_REC_EXIT,      /* no payload: the runtime stopped at exit            */
    SP_REC_TOTALS,    /* sp_totals: a connection's segments since the last  */
};

typedef struct sp_rec {
    uint32_t type, len; /* len: bytes after this header                   */
    uint32_t pid;       /* the process that wrote it                      */
    uint32_t pad;
} sp_rec;

typedef struct sp_event {
    synack_trace_event ev; /* ev.cause is not valid here: see cause[]    */
    char cause[80];
} sp_event;

typedef struct sp_counter {
    uint64_t value;
    char name[48];
} sp_counter;

/* SYNACK_RUN_DETAIL=summary: segments are not written one by one but
 * summed per connection, before each of its state changes and at exit. */
typedef struct sp_totals {
    uint32_t conn_id, pad;
    uint64_t sent, received; /* payload bytes, retransmissions not counted */
    uint64_t rexmit, segs;   /* segments sent again; segments sent         */
    uint64_t t_last;         /* the last segment's time                    */
} sp_totals;

typedef struct sp_start {
    uint64_t t0_ns; /* the monotonic clock when the runtime started     */
} sp_start;

#endif
