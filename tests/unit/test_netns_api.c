/* test_netns_api.c — the API socket's server (tools/synack/netns_api.c)
 * against its clients, with a real Unix socket and epoll set and no stack
 * (list_hostfwd and bad requests need none): one answer per request, a
 * request too large refused, at most API_MAX_CLIENTS clients (a new one
 * pushes out the one that connected first, even when the pushed-out one's
 * event waits in the same batch), a silent client dropped after
 * API_CLIENT_TIMEOUT_NS, and the socket file: a stale one replaced, any
 * other file refused, removed at close. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "netns_api.h"
#include "netns_api_req.h"
#include "watch.h"

#define SEC 1000000000ull

typedef struct fixture {
    char dir[64], path[96];
    int ep;
    netns_api *a;
    uint64_t now;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/synack-api-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/api.sock", f->dir);
    f->ep = epoll_create1(EPOLL_CLOEXEC);
    f->now = 1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    api_close(f->a);
    close(f->ep);
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static netns_api *open_api(fixture *f)
{
    api_env env = {.epfd = f->ep, .net = 0x0a000200, .prefix = 24, .guest = 0x0a000264};
    char err[200];
    netns_api *a = api_open(f->path, &env, err, sizeof err);
    if (!a)
        fail_msg("api_open: %s", err);
    return a;
}

/* One pass of the loop: the sweep, then every event waiting, in one batch. */
static void pass(fixture *f)
{
    api_sweep(f->a, f->now);
    struct epoll_event evs[64];
    int n = epoll_wait(f->ep, evs, 64, 0);
    for (int i = 0; i < n; i++) {
        watch *w = evs[i].data.ptr;
        w->fn(w, evs[i].events);
    }
}

static int client(fixture *f)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* What the server wrote to `fd` until it closed ("" if nothing), or
 * "(still open)" when it did not close within 2 s. */
static const char *reply(int fd)
{
    static char buf[API_REQ_MAX * 8];
    size_t n = 0;
    ssize_t r;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
        n += (size_t)r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return "(still open)";
    /* else EOF, or ECONNRESET: closed with bytes it never read */
    buf[n] = '\0';
    return buf;
}

static const char *ask(fixture *f, const char *request)
{
    int fd = client(f);
    pass(f); /* accepted */
    assert_int_equal(write(fd, request, strlen(request)), (ssize_t)strlen(request));
    shutdown(fd, SHUT_WR);
    pass(f); /* read and answered */
    const char *r = reply(fd);
    close(fd);
    return r;
}

static void answers_each_request(void **state)
{
    fixture *f = *state;
    f->a = open_api(f);
    assert_string_equal(ask(f, "{\"execute\": \"list_hostfwd\"}"),
                        "{\"return\": {\"entries\": []}, \"entries\": []}\n");
    assert_string_equal(ask(f, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 3}}"),
                        "{\"error\": {\"desc\": \"remove_hostfwd: no forward with \\\"id\\\" 3\"}}\n");
    assert_string_equal(ask(f, "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"sctp\"}}"),
                        "{\"error\": {\"desc\": \"add_hostfwd: \\\"proto\\\" must be \\\"tcp\\\" or \\\"udp\\\"\"}}\n");
    assert_string_equal(ask(f, "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", "
                               "\"guest_addr\": \"10.0.2.2\", \"host_port\": 1, \"guest_port\": 1}}"),
                        "{\"error\": {\"desc\": \"add_hostfwd: \\\"guest_addr\\\" is not an address of "
                        "the namespace's network\"}}\n");
    assert_string_equal(ask(f, "nonsense"), "{\"error\": {\"desc\": \"bad request: malformed JSON\"}}\n");
}

/* A port free on the host's loopback, at least a moment ago. */
static long free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* rootlesskit's port driver removes a forward and adds it again: the port
 * must be free by the next request, not at the next idle sweep. */
static void a_removed_forwards_port_is_free_for_the_next_request(void **state)
{
    fixture *f = *state;
    f->a = open_api(f);
    char add[200];
    snprintf(add, sizeof add,
             "{\"execute\": \"add_hostfwd\", \"arguments\": {\"proto\": \"tcp\", "
             "\"host_addr\": \"127.0.0.1\", \"host_port\": %ld, \"guest_port\": 80}}",
             free_port());
    assert_string_equal(ask(f, add), "{\"return\": {\"id\": 1}}\n");
    assert_string_equal(ask(f, "{\"execute\": \"remove_hostfwd\", \"arguments\": {\"id\": 1}}"),
                        "{\"return\": {}}\n");
    assert_string_equal(ask(f, add), "{\"return\": {\"id\": 2}}\n");
}

static void a_request_too_large_is_refused(void **state)
{
    fixture *f = *state;
    f->a = open_api(f);
    int fd = client(f);
    pass(f);
    static char big[API_REQ_MAX + 100];
    memset(big, ' ', sizeof big);
    assert_int_equal(write(fd, big, sizeof big), (ssize_t)sizeof big);
    pass(f);
    assert_string_equal(reply(fd), "{\"error\": {\"desc\": \"the request is larger than 4095 bytes\"}}\n");
    close(fd);
}

/* All slots taken by silent clients; a 17th connects while the first
 * writes, both in one batch: the first is pushed out (and its event, later
 * in the batch, finds its slot free or taken by the new one, never freed
 * memory: ASan watches), and the newcomer is served. */
static void a_new_client_pushes_out_the_first(void **state)
{
    fixture *f = *state;
    f->a = open_api(f);
    int fd[API_MAX_CLIENTS];
    for (int i = 0; i < API_MAX_CLIENTS; i++) {
        fd[i] = client(f);
        pass(f);
    }
    int late = client(f);
    assert_int_equal(write(fd[0], "{", 1), 1);
    const char *req = "{\"execute\": \"list_hostfwd\"}";
    assert_int_equal(write(late, req, strlen(req)), (ssize_t)strlen(req));
    shutdown(late, SHUT_WR);
    pass(f);
    pass(f);
    assert_string_equal(reply(fd[0]), ""); /* closed unanswered */
    assert_string_equal(reply(late), "{\"return\": {\"entries\": []}, \"entries\": []}\n");
    char probe;
    assert_int_equal(recv(fd[1], &probe, 1, MSG_DONTWAIT) < 0 ? errno : 0, EAGAIN); /* the second stays */
    for (int i = 0; i < API_MAX_CLIENTS; i++)
        close(fd[i]);
    close(late);
}

static void a_silent_client_is_dropped_in_time(void **state)
{
    fixture *f = *state;
    f->a = open_api(f);
    int fd = client(f);
    pass(f);
    f->now += API_CLIENT_TIMEOUT_NS;
    pass(f);
    char c;
    assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT) < 0 ? errno : 0, EAGAIN); /* not yet */
    f->now += UFWD_SWEEP_NS; /* the sweep after the timeout */
    pass(f);
    assert_string_equal(reply(fd), "");
    close(fd);
}

static void the_socket_file(void **state)
{
    fixture *f = *state;
    /* a stale socket, nobody listening: replaced */
    int stale = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->path);
    assert_int_equal(bind(stale, (struct sockaddr *)&sa, sizeof sa), 0);
    close(stale);
    f->a = open_api(f);
    /* a second one while it listens: refused, and the file stays */
    api_env env = {.epfd = f->ep, .net = 0x0a000200, .prefix = 24};
    char err[200];
    assert_null(api_open(f->path, &env, err, sizeof err));
    assert_non_null(strstr(err, "Address already in use"));
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    api_close(f->a);
    f->a = NULL;
    assert_int_equal(stat(f->path, &st) < 0 ? errno : 0, ENOENT); /* removed at close */
    /* any other kind of file: refused, not removed */
    int file = open(f->path, O_CREAT | O_WRONLY, 0600);
    close(file);
    assert_null(api_open(f->path, &env, err, sizeof err));
    assert_int_equal(stat(f->path, &st), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(answers_each_request, setup, teardown),
        cmocka_unit_test_setup_teardown(a_removed_forwards_port_is_free_for_the_next_request,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(a_request_too_large_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(a_new_client_pushes_out_the_first, setup, teardown),
        cmocka_unit_test_setup_teardown(a_silent_client_is_dropped_in_time, setup, teardown),
        cmocka_unit_test_setup_teardown(the_socket_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
