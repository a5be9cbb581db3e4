/* alloc.h — every allocation the core makes goes through here: to the
 * embedder's allocator (synack_config.alloc) when one is given, else to
 * libc. A NULL allocator means libc, so base helpers stay easy to test. */
#ifndef SYNACK_ALLOC_H
#define SYNACK_ALLOC_H

#include "synack.h"

#include <stddef.h>

void *mem_alloc(const synack_allocator *a, size_t size);
/* Zeroed `n * size` bytes; NULL on overflow as on failure. */
void *mem_calloc(const synack_allocator *a, size_t n, size_t size);
void *mem_realloc(const synack_allocator *a, void *p, size_t size);
void mem_free(const synack_allocator *a, void *p);

#endif
