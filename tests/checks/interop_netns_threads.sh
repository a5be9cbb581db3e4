#!/usr/bin/env bash
# `synack netns --threads 2` (issue 13, every core): the whole of
# tests/interop/netns.sh, netns_out.sh and netns_source.sh again with two stacks on two
# threads and a two-queue TAP: forwards both ways and both families, UDP and
# DNS, half-closes, resets, refusals, 1,000 connections at once and the
# counters, summed over the threads. Skipped unless root.
cd "$(dirname "$0")/../.." || exit 1
export NETNS_ARGS="--threads 2"
rc=0
for t in netns netns_out netns_source; do
    echo "=== tests/interop/$t.sh with $NETNS_ARGS"
    bash "tests/interop/$t.sh"
    r=$?
    [ "$r" -eq 77 ] && exit 77
    [ "$r" -eq 0 ] || rc=1
done
exit $rc
