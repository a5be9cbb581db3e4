#!/usr/bin/env bash
# The interop test tests/interop/netns_out.sh (`synack netns`: connections
# out of the namespace to the host's loopback; skipped unless root).
exec bash "$(dirname "$0")/../interop/netns_out.sh"
