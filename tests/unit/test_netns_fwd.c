/* test_netns_fwd.c — which address a `synack netns -p` connection comes
 * from in the namespace (tools/synack/netns_fwd.c): the host client's own,
 * as slirp4netns and pasta give it, wherever the namespace's default route
 * brings the answers back to synack; the gateway's where it would not (a
 * loopback client, a link-local one, one inside the namespace's subnet, or
 * one of the other family). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "netns_fwd.h"

static fwd_ns ns(void)
{
    fwd_ns n = {.ip = 0x0a000264, .prefix = 24, .gw = 0x0a000202, .ipv6 = 1}; /* 10.0.2.100/24 */
    inet_pton(AF_INET6, "fd00::100", n.ip6);
    inet_pton(AF_INET6, "fd00::2", n.gw6);
    return n;
}

static synack_addr addr(const char *text)
{
    synack_addr a;
    assert_int_equal(synack_addr_parse(text, &a), 0);
    return a;
}

/* Where a client at `client` comes from, towards the namespace's address
 * of `to`'s family. */
static void assert_source(const char *client, const char *to, const char *want)
{
    fwd_ns n = ns();
    synack_addr c = addr(client), t = addr(to), w = addr(want);
    synack_addr got = fwd_source(&n, &c, &t);
    assert_true(synack_addr_equal(&got, &w));
}

static void a_routed_client_keeps_its_address(void **state)
{
    (void)state;
    assert_source("192.168.77.2", "10.0.2.100", "192.168.77.2");
    assert_source("203.0.113.9", "10.0.2.100", "203.0.113.9");
    assert_source("10.0.3.1", "10.0.2.100", "10.0.3.1"); /* next to the subnet, not in it */
    assert_source("2001:db8::7", "fd00::100", "2001:db8::7");
    assert_source("fd12:3456::1", "fd00::100", "fd12:3456::1"); /* unique-local: routed */
}

static void loopback_and_link_local_clients_come_from_the_gateway(void **state)
{
    (void)state;
    assert_source("127.0.0.1", "10.0.2.100", "10.0.2.2");
    assert_source("127.1.2.3", "10.0.2.100", "10.0.2.2");
    assert_source("169.254.1.1", "10.0.2.100", "10.0.2.2");
    assert_source("0.1.2.3", "10.0.2.100", "10.0.2.2");
    assert_source("::1", "fd00::100", "fd00::2");
    assert_source("fe80::1", "fd00::100", "fd00::2");
    assert_source("::", "fd00::100", "fd00::2");
}

/* The namespace would look for these on its own link, where only synack's
 * own addresses answer: from the gateway. */
static void clients_inside_the_namespaces_subnet_come_from_the_gateway(void **state)
{
    (void)state;
    assert_source("10.0.2.50", "10.0.2.100", "10.0.2.2");
    assert_source("10.0.2.100", "10.0.2.100", "10.0.2.2");
    assert_source("fd00::50", "fd00::100", "fd00::2");
}

/* A forward over IPv4 cannot carry an IPv6 client's address, nor the
 * other way round. */
static void the_other_family_comes_from_the_gateway(void **state)
{
    (void)state;
    assert_source("2001:db8::7", "10.0.2.100", "10.0.2.2");
    assert_source("192.168.77.2", "fd00::100", "fd00::2");
}

/* A dual-stack listener's IPv4 client (::ffff:a.b.c.d) is that IPv4
 * client, so an IPv4 forward keeps its address. */
static void a_v4_mapped_peer_is_its_ipv4_address(void **state)
{
    (void)state;
    struct sockaddr_storage ss = {.ss_family = AF_INET6};
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    inet_pton(AF_INET6, "::ffff:192.168.77.2", &a->sin6_addr);
    a->sin6_port = htons(4321);
    uint16_t port = 0;
    synack_addr got = fwd_peer_addr(&ss, &port), want = addr("192.168.77.2");
    assert_true(synack_addr_equal(&got, &want));
    assert_int_equal(port, 4321);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_routed_client_keeps_its_address),
        cmocka_unit_test(loopback_and_link_local_clients_come_from_the_gateway),
        cmocka_unit_test(clients_inside_the_namespaces_subnet_come_from_the_gateway),
        cmocka_unit_test(the_other_family_comes_from_the_gateway),
        cmocka_unit_test(a_v4_mapped_peer_is_its_ipv4_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
