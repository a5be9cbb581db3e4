#!/usr/bin/env bash
# run_socat.sh — socat over `synack run` relays between the kernel and
# synack: it listens on synack and connects on synack to a kernel echo
# server, while a kernel client checks the echo of 2 MB by SHA-256; then it
# sends a file over synack to a kernel sink (checked by SHA-256).
source "$(dirname "$0")/lib.sh"
interop_require socat
setup_ns runsocat
RUN=("$BIN" run --tap tap0 --ip $SIP/24 -q)

bg "$TMP/echo.log" $PEER echo-server 7101 1
waitfor "$TMP/echo.log" listening || exit 1
bg "$TMP/socat.log" "${RUN[@]}" -- socat -d -d TCP-LISTEN:7100,bind=$SIP,reuseaddr TCP:$KIP:7101
SOCAT_PID=$BGPID
waitfor "$TMP/socat.log" "listening on" 20 || exit 1
nsx $PEER echo-client $SIP 7100 2000000 >"$TMP/client.log" 2>&1 &&
    ok "socat relay: the kernel's echo through synack checked" ||
    { bad "socat relay: the echo failed"; cat "$TMP/client.log"; }
for _ in $(seq 50); do kill -0 "$SOCAT_PID" 2>/dev/null || break; sleep 0.1; done
wait "$SOCAT_PID"
rc=$?
[ "$rc" -eq 0 ] || { bad "socat relay exited $rc"; cat "$TMP/socat.log"; }

head -c 2000000 /dev/urandom >"$TMP/file"
bg "$TMP/sink.log" $PEER sink-server 7102
waitfor "$TMP/sink.log" listening || exit 1
nsx "${RUN[@]}" -- socat -u "OPEN:$TMP/file" TCP:$KIP:7102
rc=$?
[ "$rc" -eq 0 ] || bad "socat sender exited $rc"
waitfor "$TMP/sink.log" "sha256" || exit 1
grep -q "sha256 2000000 $(sha256sum <"$TMP/file" | cut -d' ' -f1)" "$TMP/sink.log" &&
    ok "socat sender: 2 MB, SHA-256 matches" || { bad "socat sender: the sink got other bytes"; cat "$TMP/sink.log"; }
finish
