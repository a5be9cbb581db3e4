/* names.c — the names a person reads: RFC 9293's spelling of the states and
 * nstat's names of the counters. */
#include "synack.h"

const char *synack_state_name(int state)
{
    static const char *const names[SYNACK_STATE_COUNT] = {
        "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
        "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
    };
    return state >= 0 && state < SYNACK_STATE_COUNT ? names[state] : "?";
}

static const char *const COUNTER_NAMES[] = {
#define SYNACK_COUNTER_NAME(id, name) name,
    SYNACK_COUNTERS(SYNACK_COUNTER_NAME)
#undef SYNACK_COUNTER_NAME
};

size_t synack_counter_count(void) { return sizeof(COUNTER_NAMES) / sizeof(COUNTER_NAMES[0]); }

const char *synack_counter_name(size_t i)
{
    return i < synack_counter_count() ? COUNTER_NAMES[i] : NULL;
}

uint64_t synack_counter_value(const synack_counters *c, size_t i)
{
    return i < synack_counter_count() ? ((const uint64_t *)c)[i] : 0;
}
