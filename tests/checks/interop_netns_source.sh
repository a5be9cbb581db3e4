#!/usr/bin/env bash
# The interop test tests/interop/netns_source.sh (`synack netns -p`: a
# connection comes into the namespace from its client's own address;
# skipped unless root).
exec bash "$(dirname "$0")/../interop/netns_source.sh"
