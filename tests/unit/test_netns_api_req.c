/* test_netns_api_req.c — the JSON requests of synack netns's API socket
 * (tools/synack/netns_api_req.c), as rootlesskit and podman write them and
 * as a careless or hostile client might: every field read, defaults when
 * absent, unknown keys and values of any kind skipped, and malformed,
 * oversized or out-of-range input refused with a reason, never read past
 * its length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netns_api_req.h"

static int parse(const char *text, api_req *r, const char **why)
{
    return api_req_parse(text, strlen(text), r, why);
}

/* The refusal of `text`, whose reason contains `reason`. */
static void refused(const char *text, const char *reason)
{
    api_req r;
    const char *why = NULL;
    assert_int_equal(parse(text, &r, &why), -1);
    assert_non_null(why);
    if (!strstr(why, reason))
        fail_msg("\"%s\": \"%s\", wanted \"%s\"", text, why, reason);
}

static void add_hostfwd_as_rootlesskit_writes_it(void **state)
{
    (void)state;
    api_req r;
    const char *why;
    assert_int_equal(parse("{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\","
                           "\"host_addr\":\"127.0.0.1\",\"host_port\":8080,\"guest_addr\":\"\","
                           "\"guest_port\":80}}\n",
                           &r, &why),
                     0);
    assert_string_equal(r.execute, "add_hostfwd");
    assert_string_equal(r.proto, "tcp");
    assert_string_equal(r.host_addr, "127.0.0.1");
    assert_string_equal(r.guest_addr, "");
    assert_int_equal(r.host_port, 8080);
    assert_int_equal(r.guest_port, 80);
    assert_int_equal(r.id, -1);
}

static void absent_fields_are_marked(void **state)
{
    (void)state;
    api_req r;
    const char *why;
    assert_int_equal(parse(" { \"execute\" : \"list_hostfwd\" } ", &r, &why), 0);
    assert_string_equal(r.execute, "list_hostfwd");
    assert_string_equal(r.proto, "");
    assert_int_equal(r.host_port, -1);
    assert_int_equal(r.guest_port, -1);
    assert_int_equal(r.id, -1);
    assert_int_equal(parse("{\"arguments\":{\"id\":7},\"execute\":\"remove_hostfwd\"}", &r, &why), 0);
    assert_int_equal(r.id, 7);
}

static void unknown_keys_and_values_are_skipped(void **state)
{
    (void)state;
    api_req r;
    const char *why;
    assert_int_equal(parse("{\"x\":[1,-2.5e3,{\"y\":[true,false,null]},\"s\\\"q\"],"
                           "\"a_key_much_longer_than_any_field_we_have\":{},"
                           "\"execute\":\"list_hostfwd\",\"arguments\":{\"z\":[]}}",
                           &r, &why),
                     0);
    assert_string_equal(r.execute, "list_hostfwd");
}

static void escapes(void **state)
{
    (void)state;
    api_req r;
    const char *why;
    assert_int_equal(parse("{\"execute\":\"add\\u005fhostfwd\",\"arguments\":{\"proto\":\"\\u0074cp\"}}",
                           &r, &why),
                     0);
    assert_string_equal(r.execute, "add_hostfwd");
    assert_string_equal(r.proto, "tcp");
    refused("{\"execute\":\"\\u00e9\"}", "escape");
    /* under a key nobody reads, any \\uXXXX is fine (it is valid JSON) */
    assert_int_equal(parse("{\"execute\":\"x\",\"note\":\"caf\\u00e9 \\u2603\"}", &r, &why), 0);
    refused("{\"execute\":\"\\u0000\"}", "escape");
    refused("{\"execute\":\"\\x\"}", "escape");
    refused("{\"execute\":\"\\u12\"}", "escape");
    refused("{\"execute\":\"a\tb\"}", "control character");
}

static void malformed_is_refused(void **state)
{
    (void)state;
    refused("", "malformed");
    refused("{", "malformed");
    refused("{\"execute\": ", "malformed");
    refused("{\"execute\":\"list_hostfwd\"", "malformed");
    refused("{\"execute\":\"list_hostfwd", "unterminated");
    refused("[\"execute\"]", "malformed");
    refused("{\"execute\" \"x\"}", "malformed");
    refused("{\"execute\":\"x\",}", "malformed");
    refused("{\"execute\":\"x\"} {}", "more after");
    refused("{\"x\":tru}", "malformed");
    refused("{}", "no \"execute\"");
    refused("{\"execute\":7}", "malformed");
}

static void fields_are_bounded(void **state)
{
    (void)state;
    refused("{\"execute\":\"x\",\"arguments\":{\"proto\":\"tcp-and-much-more\"}}", "too long");
    refused("{\"execute\":\"x\",\"arguments\":{\"host_port\":1.5}}", "whole number");
    refused("{\"execute\":\"x\",\"arguments\":{\"host_port\":-1}}", "whole number");
    refused("{\"execute\":\"x\",\"arguments\":{\"host_port\":1e3}}", "whole number");
    refused("{\"execute\":\"x\",\"arguments\":{\"id\":2147483648}}", "out of range");
    refused("{\"execute\":\"x\",\"arguments\":{\"id\":99999999999999999999999}}", "out of range");
    refused("{\"execute\":\"x\",\"arguments\":{\"id\":\"7\"}}", "whole number");
    api_req r;
    const char *why;
    assert_int_equal(parse("{\"execute\":\"x\",\"arguments\":{\"id\":2147483647}}", &r, &why), 0);
    assert_int_equal(r.id, 2147483647);
}

/* A C client may send its string's terminator too: NULs at the end are
 * not "more after the object"; one inside it is not JSON. */
static void trailing_nuls_are_allowed(void **state)
{
    (void)state;
    static const char text[] = "{\"execute\":\"list_hostfwd\"}\0\0";
    api_req r;
    const char *why;
    assert_int_equal(api_req_parse(text, sizeof text, &r, &why), 0);
    assert_string_equal(r.execute, "list_hostfwd");
    static const char inside[] = "{\"execute\":\0\"list_hostfwd\"}";
    assert_int_equal(api_req_parse(inside, sizeof inside - 1, &r, &why), -1);
}

/* Nesting deeper than the reader goes is refused, in bounded stack. */
static void deep_nesting_is_refused(void **state)
{
    (void)state;
    char buf[API_REQ_MAX];
    size_t n = 0;
    n += (size_t)snprintf(buf, sizeof buf, "{\"execute\":\"x\",\"a\":");
    while (n < 2000)
        buf[n++] = '[';
    buf[n] = '\0';
    refused(buf, "nested too deep");
    n = (size_t)snprintf(buf, sizeof buf, "{\"execute\":\"x\",\"a\":");
    while (n < 2000)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "{\"b\":");
    refused(buf, "nested too deep");
}

/* The length bounds the read: a request in a buffer with more after it,
 * and one cut short inside a string, an escape, a number, a literal. */
static void reads_no_further_than_len(void **state)
{
    (void)state;
    static const char text[] = "{\"execute\":\"list_hostfwd\"}GARBAGE";
    api_req r;
    const char *why;
    assert_int_equal(api_req_parse(text, strlen(text) - 7, &r, &why), 0);
    static const char *const cut[] = {"{\"execute\":\"li", "{\"execute\":\"\\", "{\"execute\":\"\\u00",
                                      "{\"execute\":\"x\",\"arguments\":{\"id\":12",
                                      "{\"execute\":\"x\",\"a\":tr"};
    for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++) {
        size_t len = strlen(cut[i]);
        char *exact = malloc(len); /* no terminator: ASan sees any read past it */
        memcpy(exact, cut[i], len);
        assert_int_equal(api_req_parse(exact, len, &r, &why), -1);
        free(exact);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(add_hostfwd_as_rootlesskit_writes_it),
        cmocka_unit_test(absent_fields_are_marked),
        cmocka_unit_test(unknown_keys_and_values_are_skipped),
        cmocka_unit_test(escapes),
        cmocka_unit_test(malformed_is_refused),
        cmocka_unit_test(fields_are_bounded),
        cmocka_unit_test(trailing_nuls_are_allowed),
        cmocka_unit_test(deep_nesting_is_refused),
        cmocka_unit_test(reads_no_further_than_len),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
