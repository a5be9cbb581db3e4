/* test_rt_threads.c — several application threads at once: an echo
 * server thread per connection on one runtime, and client threads on the
 * other each sending 256 KiB and checking the echo byte for byte; then the
 * kernel behaviours of AF_UNIX pairs that the runtime's signalling rests
 * on (src/rt/pump.c), so a kernel that changed them fails here first. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <sys/ioctl.h>

#include "rt/rt_fixture.h"

#define CLIENTS 6
#define PER_CLIENT (256u * 1024)

typedef struct job {
    rt_pair *p;
    int fd;
    int id;
    size_t ok;
} job;

static void *echo_one(void *arg)
{
    job *j = arg;
    char buf[8192];
    for (;;) {
        ssize_t n = read(j->fd, buf, sizeof buf); /* blocking: the kernel's */
        if (n <= 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(j->fd, buf + off, (size_t)(n - off));
            if (w <= 0)
                return NULL;
            off += w;
        }
    }
    synack_fd_close(j->p->b, j->fd);
    return NULL;
}

static void *server(void *arg)
{
    job *j = arg;
    pthread_t t[CLIENTS];
    job jobs[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        int s = synack_fd_accept(j->p->b, j->fd, NULL, NULL, 0); /* blocking */
        if (s < 0)
            break;
        jobs[i] = (job){.p = j->p, .fd = s};
        pthread_create(&t[i], NULL, echo_one, &jobs[i]);
        j->ok++;
    }
    for (size_t i = 0; i < j->ok; i++)
        pthread_join(t[i], NULL);
    return NULL;
}

static uint8_t pattern(int id, size_t i) { return (uint8_t)(i * 13 + (size_t)id * 101 + (i >> 9)); }

static void *writer(void *arg)
{
    job *j = arg;
    uint8_t buf[4096];
    for (size_t sent = 0; sent < PER_CLIENT;) {
        size_t n = PER_CLIENT - sent < sizeof buf ? PER_CLIENT - sent : sizeof buf;
        for (size_t i = 0; i < n; i++)
            buf[i] = pattern(j->id, sent + i);
        ssize_t w = write(j->fd, buf, n);
        if (w <= 0)
            return NULL;
        sent += (size_t)w;
    }
    synack_fd_shutdown(j->p->a, j->fd, SHUT_WR);
    return NULL;
}

static void *client(void *arg)
{
    job *j = arg;
    j->fd = synack_fd_socket(j->p->a, AF_INET, 0);
    struct sockaddr_in to = sin4(B_IP, 7);
    if (synack_fd_connect(j->p->a, j->fd, SA(to), sizeof to) != 0)
        return NULL;
    pthread_t w;
    pthread_create(&w, NULL, writer, j);
    uint8_t buf[8192];
    size_t got = 0;
    bool same = true;
    for (;;) {
        ssize_t n = read(j->fd, buf, sizeof buf);
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n; i++)
            same &= buf[i] == pattern(j->id, got + (size_t)i);
        got += (size_t)n;
    }
    pthread_join(w, NULL);
    synack_fd_close(j->p->a, j->fd);
    j->ok = same ? got : 0;
    return NULL;
}

static void many_threads_echo(void **state)
{
    rt_pair *p = *state;
    job srv = {.p = p, .fd = listener(p->b, 7)};
    pthread_t st, ct[CLIENTS];
    pthread_create(&st, NULL, server, &srv);
    job cj[CLIENTS];
    for (int i = 0; i < CLIENTS; i++) {
        cj[i] = (job){.p = p, .id = i};
        pthread_create(&ct[i], NULL, client, &cj[i]);
    }
    for (int i = 0; i < CLIENTS; i++) {
        pthread_join(ct[i], NULL);
        assert_int_equal(cj[i].ok, PER_CLIENT);
    }
    pthread_join(st, NULL);
    assert_int_equal(srv.ok, CLIENTS);
    synack_fd_close(p->b, srv.fd);
}

static void counters(void *ctx, synack_stack *s)
{
    *(uint64_t *)ctx = synack_get_counters(s)->tcp_passive_opens;
}

/* The stack is read on its own thread; and a stopped runtime refuses. */
static void with_stack_and_stop(void **state)
{
    rt_pair *p = *state;
    int l, c, s;
    connect_pair(p, 8, &l, &c, &s);
    uint64_t opens = 0;
    synack_rt_with_stack(p->b, counters, &opens);
    assert_int_equal(opens, 1);
    synack_rt_stop(p->a);
    char buf[4];
    assert_int_equal(read(c, buf, sizeof buf), -1); /* shown a reset */
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(synack_fd_socket(p->a, AF_INET, 0), -1);
    assert_int_equal(errno, ENETDOWN);
    close(c);
    synack_fd_close(p->b, s);
    synack_fd_close(p->b, l);
}

/* What src/rt/pump.c and conn.c rely on, checked on this kernel. */
static void unix_pair_behaviours(void **state)
{
    (void)state;
    int sv[2];
    char buf[8];
    /* Closing an end with unread bytes: data, then ECONNRESET; POLLERR|POLLHUP. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    assert_int_equal(send(sv[0], "x", 1, 0), 1);
    assert_int_equal(send(sv[1], "data", 4, 0), 4);
    close(sv[1]);
    short ev = wait_fd(sv[0], POLLIN, 0);
    assert_true((ev & POLLERR) && (ev & POLLHUP));
    assert_int_equal(read(sv[0], buf, sizeof buf), 4);
    assert_int_equal(read(sv[0], buf, sizeof buf), -1);
    assert_int_equal(errno, ECONNRESET);
    assert_int_equal(send(sv[0], "y", 1, MSG_NOSIGNAL), -1);
    assert_int_equal(errno, EPIPE);
    close(sv[0]);
    /* With an empty queue: a plain EOF. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    close(sv[1]);
    assert_int_equal(wait_fd(sv[0], POLLIN, 0) & POLLERR, 0);
    assert_int_equal(read(sv[0], buf, sizeof buf), 0);
    close(sv[0]);
    /* The filler: the smallest send buffer and a few bytes make an end
     * unwritable; reading all but one makes it writable again. */
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int one = 1, n = 0;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &one, sizeof one);
    while (n < 4096 && send(sv[0], "", 1, MSG_DONTWAIT) == 1)
        n++;
    assert_true(n > 1 && n < 4096);
    assert_int_equal(wait_fd(sv[0], POLLOUT, 0) & POLLOUT, 0);
    assert_int_equal(recv(sv[1], buf, 1, 0), 1);
    for (int left = n - 2; left > 0; left -= (int)recv(sv[1], buf, 1, 0))
        ;
    assert_true(wait_fd(sv[0], POLLOUT, 0) & POLLOUT);
    int inq = 0;
    ioctl(sv[1], FIONREAD, &inq);
    assert_int_equal(inq, 1);
    close(sv[0]);
    close(sv[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(many_threads_echo, pair_setup, pair_teardown),
        cmocka_unit_test_setup_teardown(with_stack_and_stop, pair_setup, pair_teardown),
        cmocka_unit_test(unix_pair_behaviours),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
