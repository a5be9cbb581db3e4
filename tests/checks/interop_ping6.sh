#!/usr/bin/env bash
# The interop test tests/interop/ping6.sh (the kernel resolves and pings
# synack over IPv6 on a TAP, in a network namespace of its own; skipped
# unless root).
exec bash "$(dirname "$0")/../interop/ping6.sh"
