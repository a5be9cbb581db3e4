/* run_watch.h — what `synack run` makes of the records the preload
 * library writes (src/preload/stream.h): trace lines, JSON lines, a ladder
 * per connection, a summary line per connection and the counters. */
#ifndef SYNACK_TOOL_RUN_WATCH_H
#define SYNACK_TOOL_RUN_WATCH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct run_watch run_watch;

typedef struct run_watch_opts {
    int trace;     /* one line per event on `out` as it comes            */
    int ladder;    /* a ladder per connection at the end                 */
    int ascii;     /* the ladder drawn with ASCII                        */
    FILE *json;    /* JSON lines, or NULL                                */
    FILE *out;     /* where the lines, ladders and summary go (stderr)   */
} run_watch_opts;

run_watch *run_watch_new(const run_watch_opts *o);
void run_watch_free(run_watch *w);
/* Take `len` bytes of the record stream; returns how many were whole
 * records and were used (the rest comes again with more). */
size_t run_watch_feed(run_watch *w, const uint8_t *p, size_t len);
/* At the end: the ladders, then (unless quiet) the summary lines and the
 * counters. */
void run_watch_finish(run_watch *w, int quiet);

#endif
