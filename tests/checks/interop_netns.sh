#!/usr/bin/env bash
# The interop test tests/interop/netns.sh (`synack netns`: servers in a
# namespace synack networks, reached through its port forwards; skipped
# unless root).
exec bash "$(dirname "$0")/../interop/netns.sh"
