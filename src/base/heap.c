/* heap.c — binary min-heap with positions stored in the nodes. */
#include "base/heap.h"

#include <stdlib.h>

static void place(heap *h, uint32_t i, heap_node *n)
{
    h->items[i] = n;
    n->idx = i;
}

static void sift_up(heap *h, uint32_t i)
{
    heap_node *n = h->items[i];
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (h->items[parent]->key <= n->key)
            break;
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, n);
}

static void sift_down(heap *h, uint32_t i)
{
    heap_node *n = h->items[i];
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && h->items[c + 1]->key < h->items[c]->key)
            c++;
        if (n->key <= h->items[c]->key)
            break;
        place(h, i, h->items[c]);
        i = c;
    }
    place(h, i, n);
}

static void heap_remove(heap *h, heap_node *n)
{
    uint32_t i = n->idx;
    heap_node *last = h->items[--h->len];
    n->idx = HEAP_NONE;
    n->key = UINT64_MAX;
    if (last == n)
        return;
    place(h, i, last);
    sift_down(h, i);
    sift_up(h, last->idx);
}

int heap_set(heap *h, heap_node *n, uint64_t key)
{
    if (key == UINT64_MAX) {
        if (n->idx != HEAP_NONE)
            heap_remove(h, n);
        return 0;
    }
    if (n->idx == HEAP_NONE) {
        if (h->len == h->cap) {
            uint32_t cap = h->cap ? h->cap * 2 : 64;
            heap_node **items = mem_realloc(h->alloc, h->items, cap * sizeof(*items));
            if (!items)
                return -1;
            h->items = items;
            h->cap = cap;
        }
        n->key = key;
        place(h, h->len++, n);
        sift_up(h, n->idx);
        return 0;
    }
    uint64_t old = n->key;
    n->key = key;
    if (key < old)
        sift_up(h, n->idx);
    else
        sift_down(h, n->idx);
    return 0;
}

void heap_free(heap *h)
{
    mem_free(h->alloc, h->items);
    h->items = NULL;
    h->len = h->cap = 0;
}
