#!/usr/bin/env bash
# cli.sh — what `synack serve` and `synack connect` report besides the data:
#  - the stack's counters in nstat's format: on SIGUSR1 at any time, and at
#    exit with --counters (a "#synack CMD: ..." header, then "Name value"
#    lines, non-zero only); without --counters, none at exit;
#  - --ip equal to the kernel's address on the TAP is refused (exit 2);
#  - a failed write (--pcap /dev/full, --out /dev/full) is exit 1 with one
#    line naming the option, not a silent success.
source "$(dirname "$0")/lib.sh"
interop_require
setup_ns cli

# counters_ok LOG HEADER: after HEADER, "Name value" lines up to the next
# non-matching line, at least one.
counters_ok() {
    awk -v h="$2" '$0 == h { on = 1; next }
                   on && /^[A-Za-z][A-Za-z0-9]* +[1-9][0-9]*$/ { n++; next }
                   on { on = 0 }
                   END { exit !(n > 0) }' "$1"
}

serve --port 13 --app greet --counters
got=$(nsx timeout 10 bash -c "cat </dev/tcp/$SIP/13")
[ "$got" = hello ] && ok "a kernel client got the greeting" || bad "kernel client got '$got'"
kill -USR1 "$SERVE_PID"
waitfor "$SERVE_LOG" "#synack serve: counters (SIGUSR1)" 5 || bad "no counters on SIGUSR1"
sleep 0.2
counters_ok "$SERVE_LOG" "#synack serve: counters (SIGUSR1)" && ok "SIGUSR1: counters in nstat's format" ||
    bad "SIGUSR1 counters not in nstat's format"
grep -Eq '^TcpPassiveOpens +1$' "$SERVE_LOG" && ok "TcpPassiveOpens 1" || bad "no 'TcpPassiveOpens 1' line"
kill -0 "$SERVE_PID" 2>/dev/null && ok "serve runs on after SIGUSR1" || bad "SIGUSR1 ended serve"
stop "$SERVE_PID"
rc=$?
[ "$rc" -eq 0 ] || bad "serve exited with status $rc"
counters_ok "$SERVE_LOG" "#synack serve: counters at exit" && ok "--counters: counters at exit" ||
    bad "serve --counters printed no counters at exit"
sed 's/^/    /' "$SERVE_LOG"

out=$(nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:9 --timeout 5 --counters 2>&1)
rc=$?
echo "$out" | sed 's/^/    /'
[ "$rc" -eq 1 ] || bad "connect to a closed port: status $rc, want 1"
echo "$out" | grep -q '^#synack connect: counters at exit$' &&
    echo "$out" | grep -Eq '^TcpAttemptFails +1$' && ok "connect --counters: TcpAttemptFails 1" ||
    bad "connect --counters: no counters at exit"
out=$(nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:9 --timeout 5 2>&1)
echo "$out" | grep -q '^#synack' && bad "counters at exit without --counters"

out=$(nsx "$BIN" serve --tap tap0 --ip $KIP/24 --port 80 --app echo 2>&1)
rc=$?
[ "$rc" -eq 2 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q -- "--ip $KIP" &&
    ok "--ip $KIP (the kernel's) refused: $out" || bad "--ip equal to the kernel's: status $rc: $out"

serve --port 7 --app echo --pcap /dev/full
nsx timeout 10 bash -c "echo hi >/dev/tcp/$SIP/7" || bad "kernel client to the echo server"
stop "$SERVE_PID"
rc=$?
sed 's/^/    /' "$SERVE_LOG"
[ "$rc" -eq 1 ] && grep -q -- '--pcap /dev/full: write error' "$SERVE_LOG" &&
    ok "serve --pcap /dev/full: exit 1, write error" || bad "serve --pcap /dev/full: status $rc"

bg "$TMP/src.log" $PEER --timeout 20 source-server 5007 200000
waitfor "$TMP/src.log" listening 10 || exit 1
out=$(nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:5007 --out /dev/full --quiet --timeout 10 2>&1)
rc=$?
[ "$rc" -eq 1 ] && [ "$(echo "$out" | grep -c -- '--out /dev/full: write error')" -eq 1 ] &&
    ok "connect --out /dev/full: exit 1, write error" || bad "connect --out /dev/full: status $rc: $out"
finish
