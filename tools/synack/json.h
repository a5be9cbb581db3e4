/* json.h — trace events as JSON lines (one object per line). */
#ifndef SYNACK_TOOL_JSON_H
#define SYNACK_TOOL_JSON_H

#include <stdio.h>

#include "sim/sim.h"

/* Write `t` as one JSON object and a newline. Stack events carry
 * "type": "state" | "seg_in" | "seg_out" | "drop"; link events carry
 * "type": "link" and "event": "send" | "loss" | ... */
void json_write_trace(FILE *out, const sim_trace *t);

/* Write `s` as a JSON string literal (quotes and escapes). */
void json_write_string(FILE *out, const char *s);

#endif
