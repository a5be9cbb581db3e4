/* alloc.c — the embedder's allocator, or libc's (see alloc.h). */
#include "base/alloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static bool hooked(const synack_allocator *a) { return a && a->malloc; }

void *mem_alloc(const synack_allocator *a, size_t size)
{
    return hooked(a) ? a->malloc(a->ctx, size) : malloc(size);
}

void *mem_calloc(const synack_allocator *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    void *p = mem_alloc(a, n * size);
    if (p)
        memset(p, 0, n * size);
    return p;
}

void *mem_realloc(const synack_allocator *a, void *p, size_t size)
{
    return hooked(a) ? a->realloc(a->ctx, p, size) : realloc(p, size);
}

void mem_free(const synack_allocator *a, void *p)
{
    if (!p)
        return;
    if (hooked(a))
        a->free(a->ctx, p);
    else
        free(p);
}
