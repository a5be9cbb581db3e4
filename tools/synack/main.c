/* main.c — the `synack` command: dispatches to a subcommand. */
#include <stdio.h>
#include <string.h>

#include "demo.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: synack COMMAND [ARGS]\n"
            "\n"
            "commands:\n"
            "  demo [SCENARIO]   watch TCP's life stories in the simulator (ladder diagrams)\n"
            "  lab               experiments (not yet implemented)\n"
            "  serve             serve on a TAP device (not yet implemented)\n"
            "  connect           connect over a TAP device (not yet implemented)\n"
            "\n"
            "Run 'synack COMMAND --help' for a command's options.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "demo"))
        return demo_main(argc - 1, argv + 1);
    if (!strcmp(cmd, "lab") || !strcmp(cmd, "serve") || !strcmp(cmd, "connect"))
        fprintf(stderr, "synack: %s: not yet implemented\n", cmd);
    else
        fprintf(stderr, "synack: %s: unknown command (not yet implemented)\n", cmd);
    usage(stderr);
    return 2;
}
