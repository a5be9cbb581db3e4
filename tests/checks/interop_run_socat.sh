#!/usr/bin/env bash
# The interop test tests/interop/run_socat.sh (skipped unless root).
exec bash "$(dirname "$0")/../interop/run_socat.sh"
