/* netns_api_req.c — a small JSON reader for the API's requests (see
 * netns_api_req.h): objects, strings, whole numbers; other values (arrays,
 * true, false, null, fractions) only skipped, nesting at most
 * API_MAX_DEPTH deep. */
#include "netns_api_req.h"

#include <string.h>

#define API_MAX_DEPTH 8

typedef struct cur {
    const char *p, *end;
    const char *why; /* the first failure */
} cur;

static int fail(cur *c, const char *why)
{
    if (!c->why)
        c->why = why;
    return -1;
}

static void skip_ws(cur *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int expect(cur *c, char ch)
{
    skip_ws(c);
    if (c->p == c->end || *c->p != ch)
        return fail(c, "malformed JSON");
    c->p++;
    return 0;
}

static int hex(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
           : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
           : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                    : -1;
}

/* One escape after the backslash: the byte it stands for, or -1. A field
 * takes \u00XX below 0x80 only (none holds anything else); a string only
 * skipped (`any`) takes any \uXXXX, as 0x80. */
static int unescape(cur *c, int any)
{
    if (c->p == c->end)
        return -1;
    char e = *c->p++;
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    const char *k = strchr(from, e);
    if (e && k)
        return to[k - from];
    if (e != 'u' || c->end - c->p < 4)
        return -1;
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex(*c->p++);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v > 0 && v < 0x80 ? v : any ? 0x80 : -1;
}

/* A string into out (size cap; NULL: skip it). One too long for out is
 * refused, or with `long_ok` read as "" (a key nobody asks for). */
static int string_in(cur *c, char *out, size_t cap, int long_ok)
{
    if (expect(c, '"') < 0)
        return -1;
    size_t n = 0;
    while (c->p < c->end && *c->p != '"') {
        int ch = (unsigned char)*c->p++;
        if (ch < 0x20)
            return fail(c, "a control character in a string");
        if (ch == '\\' && (ch = unescape(c, out == NULL)) < 0)
            return fail(c, "a string escape not taken here");
        if (out && n + 1 >= cap) {
            if (!long_ok)
                return fail(c, "a string too long for its field");
            out[0] = '\0';
            out = NULL;
        }
        if (out)
            out[n++] = (char)ch;
    }
    if (c->p == c->end)
        return fail(c, "an unterminated string");
    c->p++;
    if (out)
        out[n] = '\0';
    return 0;
}

static int string(cur *c, char *out, size_t cap)
{
    return string_in(c, out, cap, 0);
}

/* A whole number from 0 to 2^31 - 1. */
static int whole(cur *c, long *out)
{
    skip_ws(c);
    long v = 0;
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
        int d = *c->p++ - '0';
        if (v > (0x7fffffff - d) / 10)
            return fail(c, "a number out of range");
        v = v * 10 + d;
    }
    if (c->p == start || (c->p < c->end && strchr(".eE-+", *c->p)))
        return fail(c, "not a whole number from 0 to 2^31 - 1");
    *out = v;
    return 0;
}

static int skip_value(cur *c, int depth);

/* Every object and array opens a level; past API_MAX_DEPTH the request is
 * refused, so the recursion below stays shallow whatever comes. */
static int too_deep(cur *c, int depth)
{
    return depth > API_MAX_DEPTH ? fail(c, "nested too deep") : 0;
}

/* An object; each key's value goes to on_key(c, key, ctx, depth), which
 * reads or skips it. */
static int object(cur *c, int depth, int (*on_key)(cur *, const char *, void *, int), void *ctx)
{
    if (too_deep(c, depth) < 0 || expect(c, '{') < 0)
        return -1;
    skip_ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return 0;
    }
    for (;;) {
        char key[32];
        if (string_in(c, key, sizeof key, 1) < 0)
            return -1;
        if (expect(c, ':') < 0 || on_key(c, key, ctx, depth + 1) < 0)
            return -1;
        skip_ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        return expect(c, '}');
    }
}

static int skip_key(cur *c, const char *key, void *ctx, int depth)
{
    (void)key;
    (void)ctx;
    return skip_value(c, depth);
}

static int skip_value(cur *c, int depth)
{
    skip_ws(c);
    if (c->p == c->end)
        return fail(c, "malformed JSON");
    if (too_deep(c, depth) < 0)
        return -1;
    char ch = *c->p;
    if (ch == '{')
        return object(c, depth, skip_key, NULL);
    if (ch == '"')
        return string(c, NULL, 0);
    if (ch == '[') {
        c->p++;
        skip_ws(c);
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return 0;
        }
        for (;;) {
            if (skip_value(c, depth + 1) < 0)
                return -1;
            skip_ws(c);
            if (c->p == c->end || *c->p != ',')
                return expect(c, ']');
            c->p++;
        }
    }
    static const char *const literals[] = {"true", "false", "null"};
    for (size_t i = 0; i < 3; i++) {
        size_t n = strlen(literals[i]);
        if ((size_t)(c->end - c->p) >= n && !memcmp(c->p, literals[i], n)) {
            c->p += n;
            return 0;
        }
    }
    const char *start = c->p; /* a number: its characters */
    while (c->p < c->end && *c->p && strchr("-+.0123456789eE", *c->p))
        c->p++;
    return c->p == start ? fail(c, "malformed JSON") : 0;
}

static int argument(cur *c, const char *key, void *ctx, int depth)
{
    api_req *r = ctx;
    if (!strcmp(key, "proto"))
        return string(c, r->proto, sizeof r->proto);
    if (!strcmp(key, "host_addr"))
        return string(c, r->host_addr, sizeof r->host_addr);
    if (!strcmp(key, "guest_addr"))
        return string(c, r->guest_addr, sizeof r->guest_addr);
    if (!strcmp(key, "host_port"))
        return whole(c, &r->host_port);
    if (!strcmp(key, "guest_port"))
        return whole(c, &r->guest_port);
    if (!strcmp(key, "id"))
        return whole(c, &r->id);
    return skip_value(c, depth);
}

static int top_key(cur *c, const char *key, void *ctx, int depth)
{
    api_req *r = ctx;
    if (!strcmp(key, "execute"))
        return string(c, r->execute, sizeof r->execute);
    if (!strcmp(key, "arguments"))
        return object(c, depth, argument, r);
    return skip_value(c, depth);
}

int api_req_parse(const char *buf, size_t len, api_req *r, const char **why)
{
    memset(r, 0, sizeof *r);
    r->host_port = r->guest_port = r->id = -1;
    cur c = {.p = buf, .end = buf + len};
    while (c.end > c.p && c.end[-1] == '\0')
        c.end--; /* a C client that wrote its string's terminator too */
    if (object(&c, 0, top_key, r) == 0) {
        skip_ws(&c);
        if (c.p != c.end)
            fail(&c, "more after the JSON object");
        else if (!r->execute[0])
            fail(&c, "no \"execute\"");
    }
    *why = c.why;
    return c.why ? -1 : 0;
}
