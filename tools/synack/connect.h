/* connect.h — `synack connect`: a TCP client on a real interface, like nc. */
#ifndef SYNACK_TOOL_CONNECT_H
#define SYNACK_TOOL_CONNECT_H

/* argv[0] is "connect". Returns the exit status. */
int connect_main(int argc, char **argv);

#endif
