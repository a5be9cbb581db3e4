/* netns.h — `synack netns [OPTIONS] -- COMMAND [ARGS...]` (or --pid PID,
 * --netns NAME): a network namespace given its network through synack, as
 * slirp4netns and pasta do. */
#ifndef SYNACK_TOOL_NETNS_H
#define SYNACK_TOOL_NETNS_H

/* argv[0] is "netns". Returns the exit status: COMMAND's, 1 on a failure
 * at run time, 2 on bad usage. */
int netns_main(int argc, char **argv);

#endif
