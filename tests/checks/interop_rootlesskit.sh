#!/usr/bin/env bash
# The interop test tests/interop/rootlesskit.sh (rootlesskit with synack as
# its slirp4netns; skipped unless root and rootlesskit can run here).
exec bash "$(dirname "$0")/../interop/rootlesskit.sh"
