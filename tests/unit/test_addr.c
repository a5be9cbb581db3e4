/* test_addr.c — synack_addr: both families' text forms in (RFC 4291 §2.2)
 * and out (RFC 5952), and endpoints with ports (RFC 3986 §3.2.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "synack.h"

static const char *round_trip(const char *in)
{
    static char out[SYNACK_ADDR_TEXT];
    synack_addr a;
    if (synack_addr_parse(in, &a) != 0)
        return "(refused)";
    return synack_addr_format(&a, out, sizeof out);
}

static void ipv4_stays_a_host_order_number(void **state)
{
    (void)state;
    synack_addr a;
    assert_int_equal(synack_addr_parse("10.77.0.2", &a), 0);
    assert_int_equal(a.family, SYNACK_AF_INET);
    assert_int_equal(a.v4, 0x0a4d0002u);
    assert_string_equal(round_trip("10.77.0.2"), "10.77.0.2");
    synack_addr b = synack_addr_v4(0x0a4d0002u);
    assert_true(synack_addr_equal(&a, &b));
}

/* RFC 5952 §4: the canonical text whatever the input's form. */
static void ipv6_canonical_text(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"2001:db8:0:0:0:0:2:1", "2001:db8::2:1"},     /* §4.2.1 the longest zero run */
        {"2001:DB8::0001", "2001:db8::1"},              /* §4.3 lower case, §4.1 no leading 0 */
        {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"}, /* §4.2.2 one zero group stays */
        {"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},        /* §4.2.3 the longer run */
        {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},  /* §4.2.3 the first of equals */
        {"::", "::"},
        {"::1", "::1"},
        {"fe80::", "fe80::"},
        {"fd00::2", "fd00::2"},
        {"::ffff:10.0.0.1", "::ffff:10.0.0.1"},          /* §5 IPv4-mapped */
        {"0:0:0:0:0:ffff:a00:1", "::ffff:10.0.0.1"},
        {"1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"},
        {"1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_string_equal(round_trip(cases[i][0]), cases[i][1]);
}

static void ipv6_bad_text_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
        "g::1", "1:", ":1", "1::2:", "::1.2.3", "::1.2.3.256", "1:2:3:4:5:6:7:1.2.3.4",
        "fd00::1%eth0", "10.0.0", "10.0.0.1.", "[::1]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        synack_addr a;
        if (synack_addr_parse(bad[i], &a) == 0)
            fail_msg("'%s' was accepted", bad[i]);
    }
}

static void families_differ(void **state)
{
    (void)state;
    synack_addr v4, mapped;
    assert_int_equal(synack_addr_parse("10.0.0.1", &v4), 0);
    assert_int_equal(synack_addr_parse("::ffff:10.0.0.1", &mapped), 0);
    assert_int_equal(mapped.family, SYNACK_AF_INET6);
    assert_false(synack_addr_equal(&v4, &mapped));
}

static void endpoints(void **state)
{
    (void)state;
    synack_addr a;
    uint16_t port;
    char buf[SYNACK_ADDR_TEXT];
    assert_int_equal(synack_endpoint_parse("10.77.0.1:80", &a, &port), 0);
    assert_int_equal(a.v4, 0x0a4d0001u);
    assert_int_equal(port, 80);
    assert_int_equal(synack_endpoint_parse("[fd00::1]:8080", &a, &port), 0);
    assert_string_equal(synack_addr_format(&a, buf, sizeof buf), "fd00::1");
    assert_int_equal(port, 8080);
    static const char *const bad[] = {
        "fd00::1:80", "[fd00::1]", "[fd00::1]80", "10.0.0.1", "10.0.0.1:", "10.0.0.1:0",
        "10.0.0.1:65536", "10.0.0.1:8o", "[10.0.0.1:80", ":80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (synack_endpoint_parse(bad[i], &a, &port) == 0)
            fail_msg("'%s' was accepted", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_stays_a_host_order_number),
        cmocka_unit_test(ipv6_canonical_text),
        cmocka_unit_test(ipv6_bad_text_is_refused),
        cmocka_unit_test(families_differ),
        cmocka_unit_test(endpoints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
