/* test_reentry.c — the output hook's rule (synack.h): a frame handed to the
 * hook lives in the stack's scratch buffer, so the hook must not call back
 * into the same stack. A call that does is caught loudly (an assertion,
 * which this build keeps), not turned into corrupted segments and resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "synack.h"

typedef struct world {
    synack_stack *s;
    synack_sock *k;
    int reenter; /* 0: behave; 1: synack_poll from the hook; 2: synack_send */
} world;

static void on_output(void *ctx, const void *frame, size_t len)
{
    world *w = ctx;
    (void)frame;
    (void)len;
    if (w->reenter == 1)
        synack_poll(w->s, 2000000000ull);
    else if (w->reenter == 2)
        synack_send(w->k, "x", 1);
}

static void on_random(void *ctx, void *buf, size_t len)
{
    (void)ctx;
    memset(buf, 0x5a, len);
}

/* A stack that sends a SYN (an ARP request first, on Ethernet) as soon as
 * it connects: the hook runs inside synack_connect. */
static int connect_with(int reenter)
{
    world w = {.reenter = reenter};
    synack_config cfg;
    synack_config_init(&cfg);
    cfg.ip = 0x0a000002u;
    cfg.link = SYNACK_LINK_IP;
    cfg.output = on_output;
    cfg.output_ctx = &w;
    cfg.random = on_random;
    w.s = synack_stack_new(&cfg, 1000000000ull);
    w.k = synack_socket(w.s);
    int r = synack_connect(w.k, 0x0a000001u, 80);
    synack_stack_free(w.s);
    return r;
}

/* Run connect_with in a child; return how it ended. */
static int child_status(int reenter)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGABRT, SIG_DFL); /* die of it, not cmocka's handler */
        int fd = open("/dev/null", 1);
        if (fd >= 0)
            dup2(fd, 2); /* the assertion's message is expected */
        _exit(connect_with(reenter) == 0 ? 0 : 1);
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return status;
}

static void hook_that_behaves_is_fine(void **state)
{
    (void)state;
    int st = child_status(0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void poll_from_the_hook_is_caught(void **state)
{
    (void)state;
    int st = child_status(1);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
}

static void send_from_the_hook_is_caught(void **state)
{
    (void)state;
    int st = child_status(2);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGABRT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hook_that_behaves_is_fine),
        cmocka_unit_test(poll_from_the_hook_is_caught),
        cmocka_unit_test(send_from_the_hook_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
