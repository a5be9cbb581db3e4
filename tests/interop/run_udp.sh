#!/usr/bin/env bash
# run_udp.sh — UDP over `synack run` (libsynack-preload.so) against the
# kernel: an unmodified Python client sends datagrams to a kernel echo
# server (addresses, connected sockets, boundaries, a datagram in
# fragments, MSG_TRUNC) and a closed kernel port answers ECONNREFUSED;
# socat relays a line over UDP and gets its echo.
source "$(dirname "$0")/lib.sh"
interop_require socat
setup_ns runudp
RUN=("$BIN" run --tap tap0 --ip $SIP/24 -q)
PY=$ROOT/tests/interop/run/udp.py

bg "$TMP/echo.log" python3 "$PY" echo-server $KIP 7200
waitfor "$TMP/echo.log" listening || exit 1

nsx "${RUN[@]}" -- python3 "$PY" client $KIP 7200 7209 >"$TMP/client.log" 2>&1
rc=$?
sed 's/^/    /' "$TMP/client.log"
[ "$rc" -eq 0 ] && ok "python3 over synack: UDP to the kernel's echo" ||
    bad "python3 over synack exited $rc"
grep -q "ok closed port: ECONNREFUSED" "$TMP/client.log" || bad "no ECONNREFUSED from the closed port"

out=$(echo "a line over udp" | nsx "${RUN[@]}" -- socat -t 2 - UDP:$KIP:7200 2>"$TMP/socat.err")
[ "$out" = "a line over udp" ] && ok "socat over synack: the line came back" ||
    { bad "socat over synack: got '$out'"; cat "$TMP/socat.err"; }
# The kernel in this namespace answers its own address too: the echo
# server's log proves the datagrams came over the TAP, from synack.
grep -q "^from $SIP:[0-9]* 30000$" "$TMP/echo.log" && ok "the echo server saw synack's address" ||
    { bad "the echo server never saw $SIP"; cat "$TMP/echo.log"; }
grep -q "^from $KIP:" "$TMP/echo.log" && bad "a datagram came from the kernel's own address"
[ "$(grep -c "^from $SIP:" "$TMP/echo.log")" -ge 8 ] || bad "fewer datagrams from synack than sent"
finish
