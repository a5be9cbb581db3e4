#!/usr/bin/env bash
# example_echo.sh — examples/echo_epoll (the fd API, public headers only):
# an epoll echo server on one runtime, four clients on another, 1 MiB each
# echoed byte for byte.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=build/examples/echo_epoll
if [ ! -x "$bin" ]; then
    echo "FAIL: $bin is missing (run make)"
    exit 1
fi
out=$(timeout 60 "$bin")
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || { echo "FAIL: echo_epoll exited with status $rc"; exit 1; }
case $out in
*": ok"*) exit 0 ;;
*) echo "FAIL: echo_epoll did not report ok"; exit 1 ;;
esac
