/* main.c — the `synack` command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "connect.h"
#include "demo.h"
#include "lab.h"
#include "netns.h"
#include "opts.h"
#include "run.h"
#include "serve.h"
#include "slirp4netns.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: synack COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  demo [SCENARIO]   watch TCP's life stories in the simulator (ladder diagrams)\n"
            "  lab EXPERIMENT    experiments that show why TCP closes as it does (TIME-WAIT, ...)\n"
            "  serve             serve TCP on a TAP/TUN/packet interface (echo, http, ...)\n"
            "  connect           connect from a TAP/TUN/packet interface, like nc\n"
            "  run -- PROGRAM    run a program with its TCP sockets on synack, and watch them\n"
            "  netns -- COMMAND  run a command in a network namespace networked by synack,\n"
            "                    like slirp4netns and pasta\n"
            "  slirp4netns ...   synack netns with slirp4netns's options (also when synack\n"
            "                    is run by a name that starts with slirp4netns)\n"
            "\n"
            "  --version         print the version\n"
            "\n"
            "Run 'synack COMMAND --help' for a command's options. Exit status: 0, 1 when\n"
            "something failed at run time (a file, a device, the connection), 2 for bad\n"
            "usage; the reason is one line on stderr.\n");
}

static int run(int argc, char **argv) {
    if (argc > 0 && slirp4netns_named(argv[0]))
        return slirp4netns_main(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (opts_is_version(cmd))
        return opts_print_version();
    if (!strcmp(cmd, "demo"))
        return demo_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve"))
        return serve_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "connect"))
        return connect_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return run_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "netns"))
        return netns_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "slirp4netns"))
        return slirp4netns_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "lab"))
        return lab_main(argc - 1, argv + 1);
    fprintf(stderr, "synack: %s: unknown command (see synack --help)\n", cmd);
    return 2;
}

int main(int argc, char **argv) {
    int status = run(argc, argv);
    /* Output that never arrived is a failure, not a success: `synack demo
     * > /dev/full` exits 1. */
    const char *cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : "";
    if (status == 0 && opts_close_output(stdout, cmd, "standard output") < 0)
        status = 1;
    return status;
}
