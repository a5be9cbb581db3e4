/* serve.h — `synack serve`: a TCP server on a real interface. */
#ifndef SYNACK_TOOL_SERVE_H
#define SYNACK_TOOL_SERVE_H

/* argv[0] is "serve". Returns the exit status. */
int serve_main(int argc, char **argv);

#endif
