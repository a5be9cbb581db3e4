#!/usr/bin/env bash
# The interop test tests/interop/run_threads.sh (`synack run --threads 2`,
# the Linux kernel as the peer, in a network namespace of its own;
# skipped unless root).
exec bash "$(dirname "$0")/../interop/run_threads.sh"
