#!/usr/bin/env bash
# The interop test tests/interop/flood.sh (a SYN flood and 10,000 idle
# connections over a TAP, the kernel as the peer, in a network namespace of
# its own; skipped unless root).
exec bash "$(dirname "$0")/../interop/flood.sh"
