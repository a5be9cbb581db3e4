/* slirp4netns.h — slirp4netns's command line in front of `synack netns`,
 * so that what starts slirp4netns (rootlesskit, podman, a script) can start
 * synack instead: `synack slirp4netns ARGS`, or synack run by a name that
 * begins with "slirp4netns" (a symlink). */
#ifndef SYNACK_TOOL_SLIRP4NETNS_H
#define SYNACK_TOOL_SLIRP4NETNS_H

#include <stdbool.h>

/* True when argv[0]'s file name says we were started as slirp4netns. */
bool slirp4netns_named(const char *argv0);

/* argv as slirp4netns takes it (argv[0] any name). Returns the exit status:
 * synack netns's, or 1 on bad usage (slirp4netns's status for it). */
int slirp4netns_main(int argc, char **argv);

#endif
