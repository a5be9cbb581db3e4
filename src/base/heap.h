/* heap.h — an intrusive binary min-heap of deadlines.
 *
 * Each timed object embeds one heap_node holding its earliest deadline, so
 * a connection costs one heap entry however many timers it runs. */
#ifndef SYNACK_HEAP_H
#define SYNACK_HEAP_H
#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"

#define HEAP_NONE UINT32_MAX

typedef struct heap_node {
    uint64_t key;  /* deadline */
    uint32_t idx;  /* position in the heap, HEAP_NONE when not queued */
} heap_node;

typedef struct heap {
    heap_node **items;
    uint32_t len, cap;
    const synack_allocator *alloc; /* NULL: libc */
} heap;

static inline void heap_node_init(heap_node *n) { n->key = UINT64_MAX; n->idx = HEAP_NONE; }
void heap_free(heap *h);
/* Insert, move or (key == UINT64_MAX) remove `n`. Returns -1 on allocation failure. */
int heap_set(heap *h, heap_node *n, uint64_t key);
static inline heap_node *heap_top(const heap *h) { return h->len ? h->items[0] : NULL; }

#endif
