/* test_netns_map.c — where `synack netns` sends a namespace's destination
 * on the host (tools/synack/netns_map.c): the gateway is the host's
 * loopback unless --disable-host-loopback, the resolver address's port 53
 * the upstream resolver and nothing else, any other address itself; and
 * which host addresses are loopback ones (their sockets get
 * --loopback-cc, and no --outbound-addr bind), and when a connection's
 * peer is the host itself at the same address (those get it too). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netns_map.h"

static const netns_map map = {
    .gw = 0x0a000202,     /* 10.0.2.2 */
    .gw6 = {0xfd, [15] = 2}, /* fd00::2 */
    .host_loopback = 1,
    .dns = 0x0a000203,    /* 10.0.2.3 */
    .dns_up = 0xc0000201, /* 192.0.2.1 */
    .dns_up_port = 5353,
};

static struct sockaddr_storage v4(const char *text)
{
    struct sockaddr_storage ss = {.ss_family = AF_INET};
    inet_pton(AF_INET, text, &((struct sockaddr_in *)&ss)->sin_addr);
    return ss;
}

static struct sockaddr_storage v6(const char *text)
{
    struct sockaddr_storage ss = {.ss_family = AF_INET6};
    inet_pton(AF_INET6, text, &((struct sockaddr_in6 *)&ss)->sin6_addr);
    return ss;
}

/* Where dst:port goes, as "ADDR PORT", or "nowhere". */
static const char *target(const netns_map *m, synack_addr dst, uint16_t port)
{
    static char buf[INET6_ADDRSTRLEN + 8];
    struct sockaddr_storage ss;
    socklen_t len;
    if (!netns_host_target(m, &dst, port, &ss, &len))
        return "nowhere";
    char a[INET6_ADDRSTRLEN];
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &s4->sin_addr, a, sizeof a);
    else
        inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof a);
    snprintf(buf, sizeof buf, "%s %u", a,
             ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port));
    return buf;
}

static synack_addr a4(uint32_t v)
{
    return (synack_addr){.family = SYNACK_AF_INET, .v4 = v};
}

static void the_gateway_is_the_hosts_loopback(void **state)
{
    (void)state;
    assert_string_equal(target(&map, a4(0x0a000202), 8080), "127.0.0.1 8080");
    synack_addr gw6 = {.family = SYNACK_AF_INET6, .v6 = {0xfd, [15] = 2}};
    assert_string_equal(target(&map, gw6, 80), "::1 80");
    netns_map off = map;
    off.host_loopback = 0; /* --disable-host-loopback */
    assert_string_equal(target(&off, a4(0x0a000202), 8080), "nowhere");
    assert_string_equal(target(&off, gw6, 80), "nowhere");
}

static void the_resolver_address_is_port_53_of_the_upstream(void **state)
{
    (void)state;
    assert_string_equal(target(&map, a4(0x0a000203), 53), "192.0.2.1 5353");
    assert_string_equal(target(&map, a4(0x0a000203), 80), "nowhere");
    netns_map none = map;
    none.dns_up = 0; /* --disable-dns, or no resolver on the host */
    assert_string_equal(target(&none, a4(0x0a000203), 53), "nowhere");
}

static void any_other_address_is_itself(void **state)
{
    (void)state;
    assert_string_equal(target(&map, a4(0xc6336401), 443), "198.51.100.1 443");
    synack_addr doc6 = {.family = SYNACK_AF_INET6, .v6 = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    assert_string_equal(target(&map, doc6, 443), "2001:db8::1 443");
}

static void loopback_addresses_are_127_8_and_1(void **state)
{
    (void)state;
    struct sockaddr_storage yes[] = {v4("127.0.0.1"), v4("127.255.3.4"), v6("::1"),
                                     v6("::ffff:127.0.0.1")};
    struct sockaddr_storage no[] = {v4("10.0.2.2"), v4("128.0.0.1"), v4("0.0.0.0"),
                                    v6("::2"), v6("::ffff:10.0.0.1"), v6("fe80::1"),
                                    v6("::127.0.0.1")};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
        assert_true(netns_is_loopback(&yes[i]));
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
        assert_false(netns_is_loopback(&no[i]));
    struct sockaddr_storage unix_addr = {.ss_family = AF_UNIX};
    assert_false(netns_is_loopback(&unix_addr));
}

/* A connection to listener `l` from a client bound to `from` (port 0):
 * the accepted socket, its peer's address in *peer. */
static int accepted_from(int l, const char *from, struct sockaddr_storage *peer, int *client)
{
    struct sockaddr_storage to, src = v4(from);
    socklen_t len = sizeof to;
    assert_int_equal(getsockname(l, (struct sockaddr *)&to, &len), 0);
    *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(*client >= 0);
    assert_int_equal(bind(*client, (struct sockaddr *)&src, sizeof(struct sockaddr_in)), 0);
    assert_int_equal(connect(*client, (struct sockaddr *)&to, len), 0);
    len = sizeof *peer;
    int fd = accept(l, (struct sockaddr *)peer, &len);
    assert_true(fd >= 0);
    return fd;
}

static void a_peer_at_our_own_address_is_the_host_itself(void **state)
{
    (void)state;
    struct sockaddr_storage at = v4("127.0.0.1");
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(l >= 0);
    assert_int_equal(bind(l, (struct sockaddr *)&at, sizeof(struct sockaddr_in)), 0);
    assert_int_equal(listen(l, 4), 0);
    struct sockaddr_storage peer;
    int c1, c2;
    int same = accepted_from(l, "127.0.0.1", &peer, &c1);
    assert_true(netns_peer_is_self(same, &peer));
    struct sockaddr_storage other6 = v6("::1");
    assert_false(netns_peer_is_self(same, &other6)); /* another family */
    /* 127.0.0.2 is this host too, but not the address it was reached at:
     * only an equal address counts */
    int other = accepted_from(l, "127.0.0.2", &peer, &c2);
    assert_false(netns_peer_is_self(other, &peer));
    assert_false(netns_peer_is_self(-1, &peer)); /* no socket, no answer */
    close(same);
    close(other);
    close(c1);
    close(c2);
    close(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_gateway_is_the_hosts_loopback),
        cmocka_unit_test(the_resolver_address_is_port_53_of_the_upstream),
        cmocka_unit_test(any_other_address_is_itself),
        cmocka_unit_test(loopback_addresses_are_127_8_and_1),
        cmocka_unit_test(a_peer_at_our_own_address_is_the_host_itself),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
