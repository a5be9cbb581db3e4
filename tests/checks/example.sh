#!/usr/bin/env bash
# example.sh — examples/two_stacks (public API only) moves 1 MiB each way
# between two stacks and closes both cleanly.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=build/examples/two_stacks
if [ ! -x "$bin" ]; then
    echo "FAIL: $bin is missing (run make test-build)"
    exit 1
fi
out=$("$bin")
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || { echo "FAIL: two_stacks exited with status $rc"; exit 1; }
case $out in
*"two_stacks: ok"*) exit 0 ;;
*) echo "FAIL: two_stacks did not report ok"; exit 1 ;;
esac
