#!/usr/bin/env bash
# The interop test tests/interop/threads.sh (the Linux kernel as the peer, in a
# network namespace of its own; skipped unless root).
exec bash "$(dirname "$0")/../interop/threads.sh"
