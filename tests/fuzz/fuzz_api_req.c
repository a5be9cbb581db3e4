/* fuzz_api_req.c — libFuzzer target: the JSON requests of synack netns's
 * API socket (tools/synack/netns_api_req.c), a parser that reads what any
 * local client writes.
 *
 * Each input is one request, copied to an exact-size buffer so any read
 * past it is caught. Beyond "no crash, no read out of bounds, bounded
 * stack": a request that parses has "execute" set, every string field
 * terminated inside its array, and numbers absent (-1) or from 0 to
 * 2^31 - 1; one that is refused has a reason. Parsing is deterministic: the
 * same bytes give the same answer.
 * Seeds: tests/fuzz/corpus_api. Build: make fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netns_api_req.h"

static void check(int ok)
{
    if (!ok)
        __builtin_trap();
}

static void check_field(const char *f, size_t cap)
{
    check(memchr(f, '\0', cap) != NULL);
}

static void check_number(long v)
{
    check(v == -1 || (v >= 0 && v <= 0x7fffffff));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size ? size : 1);
    check(buf != NULL);
    memcpy(buf, data, size);
    api_req r, again;
    const char *why = NULL, *why2 = NULL;
    int rc = api_req_parse(buf, size, &r, &why);
    if (rc == 0) {
        check(why == NULL && r.execute[0] != '\0');
        check_field(r.execute, sizeof r.execute);
        check_field(r.proto, sizeof r.proto);
        check_field(r.host_addr, sizeof r.host_addr);
        check_field(r.guest_addr, sizeof r.guest_addr);
        check_number(r.host_port);
        check_number(r.guest_port);
        check_number(r.id);
    } else {
        check(rc == -1 && why != NULL);
    }
    check(api_req_parse(buf, size, &again, &why2) == rc);
    check(rc != 0 || !memcmp(&r, &again, sizeof r));
    free(buf);
    return 0;
}
