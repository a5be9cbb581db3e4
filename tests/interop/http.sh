#!/usr/bin/env bash
# http.sh — curl (the kernel's TCP) fetches pages from `synack serve --app
# http`: two requests on one kept-alive connection, then requests that ask
# for Connection: close and HTTP/1.0, which synack answers and closes.
source "$(dirname "$0")/lib.sh"
interop_require curl
setup_ns http
serve --port 80 --app http
base=http://$SIP/

# keep-alive: two URLs in one curl run share one connection
out=$(nsx curl -sS --max-time 10 -w ' connects=%{num_connects}\n' "$base" "${base}again" 2>&1)
echo "$out"
[ "$(echo "$out" | grep -c 'Hello from synack')" -eq 2 ] || bad "keep-alive: expected two pages"
echo "$out" | grep -q 'request 2' || bad "keep-alive: the second page did not come on the same connection"
[ "$(echo "$out" | grep -c 'connects=1')" -eq 1 ] && [ "$(echo "$out" | grep -c 'connects=0')" -eq 1 ] ||
    bad "keep-alive: curl opened more than one connection"

# Connection: close
hdr=$(nsx curl -sS --max-time 10 -D - -o /dev/null -H 'Connection: close' "$base" 2>&1)
echo "$hdr" | grep -qi '^HTTP/1.1 200' || bad "close: no 200 response: $hdr"
echo "$hdr" | grep -qi '^Connection: close' || bad "close: the response does not say Connection: close"

# HTTP/1.0 without keep-alive closes too
hdr=$(nsx curl -sS --max-time 10 -0 -D - -o /dev/null "$base" 2>&1)
echo "$hdr" | grep -qi '^Connection: close' || bad "HTTP/1.0: the response does not say Connection: close"

# every connection is in the log; the close ones ended by synack closing
sleep 0.2
stop "$SERVE_PID"
rc=$?
cat "$SERVE_LOG"
[ "$rc" -eq 0 ] || bad "synack serve exited with status $rc"
[ "$(grep -c '^conn ' "$SERVE_LOG")" -eq 3 ] || bad "expected 3 connection log lines"
[ "$(grep -c '^conn .*end=closed' "$SERVE_LOG")" -ge 2 ] || bad "synack did not close the Connection: close / HTTP/1.0 connections"
finish
