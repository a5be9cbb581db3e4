#!/usr/bin/env bash
# concurrent.sh — 200 concurrent connections each way complete with the
# right data: kernel clients to `synack serve --app echo`, and `synack
# connect --count 200 --parallel 200 --check-echo` to a kernel echo server.
source "$(dirname "$0")/lib.sh"
interop_require
setup_ns conc
serve --port 7 --app echo --quiet
nsx $PEER --timeout 60 many-clients $SIP 7 200 20000 || bad "200 kernel clients to synack"
stop "$SERVE_PID" || bad "synack serve exited with status $?"
bg "$TMP/echo.log" $PEER --timeout 60 echo-server 5003 200
es=$BGPID
waitfor "$TMP/echo.log" listening 10 || exit 1
nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:5003 --bytes 20000 \
    --count 200 --parallel 200 --check-echo --timeout 60 || bad "200 synack clients to the kernel"
wait "$es" || bad "kernel echo server: $(cat "$TMP/echo.log")"
cat "$TMP/echo.log"
finish
