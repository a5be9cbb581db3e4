#!/usr/bin/env bash
# The interop test tests/interop/netns_ports.sh (`synack netns` out of host
# ports: the SYN waits for one, reported, no RST; skipped unless root).
exec bash "$(dirname "$0")/../interop/netns_ports.sh"
