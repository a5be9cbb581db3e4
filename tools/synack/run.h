/* run.h — `synack run [device options] -- PROGRAM [ARGS]`: PROGRAM with its
 * TCP sockets on synack (libsynack-preload.so), watched. */
#ifndef SYNACK_TOOL_RUN_H
#define SYNACK_TOOL_RUN_H

int run_main(int argc, char **argv);

#endif
