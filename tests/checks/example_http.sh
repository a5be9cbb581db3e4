#!/usr/bin/env bash
# example_http.sh — examples/http_poll (the fd API, public headers only):
# a client on poll fetches 256 KiB over HTTP from a server on another
# runtime and checks it byte for byte.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=build/examples/http_poll
if [ ! -x "$bin" ]; then
    echo "FAIL: $bin is missing (run make)"
    exit 1
fi
out=$(timeout 60 "$bin")
rc=$?
echo "$out"
[ "$rc" -eq 0 ] || { echo "FAIL: http_poll exited with status $rc"; exit 1; }
case $out in
*": ok"*) exit 0 ;;
*) echo "FAIL: http_poll did not report ok"; exit 1 ;;
esac
