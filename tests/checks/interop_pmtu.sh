#!/usr/bin/env bash
# The interop test tests/interop/pmtu.sh (path MTU discovery through a
# kernel router with a 1280-byte hop, in namespaces of its own; skipped
# unless root).
exec bash "$(dirname "$0")/../interop/pmtu.sh"
