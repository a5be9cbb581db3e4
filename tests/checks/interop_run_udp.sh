#!/usr/bin/env bash
# The interop test tests/interop/run_udp.sh (skipped unless root).
exec bash "$(dirname "$0")/../interop/run_udp.sh"
