/* watch.h — one thing an epoll loop waits on: epoll_event.data.ptr points
 * to a watch, and the loop calls its fn with the events that came. Embed it
 * in the object that owns the descriptor. */
#ifndef SYNACK_TOOL_WATCH_H
#define SYNACK_TOOL_WATCH_H

#include <stdint.h>

typedef struct watch watch;
struct watch {
    void (*fn)(watch *w, uint32_t events);
};

#endif
