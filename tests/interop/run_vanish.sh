#!/usr/bin/env bash
# run_vanish.sh — unmodified programs over `synack run` meet a peer that
# vanishes mid-connection (the kernel's address leaves tap0, so nothing it
# is sent is answered, not even with a reset):
#  - curl, idle in the middle of a reply, with keepalive (--keepalive-time 1
#    and tcp_keepalive_probes=2): fails "Connection timed out", exit 56;
#  - a writer with TCP_USER_TIMEOUT 1500 ms: its write fails ETIMEDOUT.
# Both errors are Linux's, not the socketpair's ECONNRESET (src/rt/io.c).
source "$(dirname "$0")/lib.sh"
interop_require curl
setup_ns runvanish
RUN=("$BIN" run --tap tap0 --ip $SIP/24 -q)
PY=$ROOT/tests/interop/run

vanish() { ip -n "$NS" addr del $KIP/24 dev tap0; }
come_back() { ip -n "$NS" addr add $KIP/24 dev tap0; }

# curl, keepalive
bg "$TMP/stall.log" python3 "$PY/fail.py" stall-server 8020
waitfor "$TMP/stall.log" listening || exit 1
nsx "${RUN[@]}" -o tcp_keepalive_probes=2 -- \
    curl -sS --keepalive-time 1 --max-time 30 -o "$TMP/part" http://$KIP:8020/ 2>"$TMP/curl.err" &
CURL=$!
PIDS="$PIDS $CURL"
waitfor "$TMP/stall.log" stalled || exit 1
sleep 0.3 # the start of the reply reaches curl
vanish
t0=$(date +%s.%N)
wait "$CURL"
rc=$?
took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
[ "$rc" -eq 56 ] && grep -q "Connection timed out" "$TMP/curl.err" &&
    ok "keepalive: curl says 'Connection timed out' (exit 56) after $took s" ||
    { bad "keepalive: curl exited $rc"; cat "$TMP/curl.err"; }
awk -v t="$took" 'BEGIN { exit !(t > 1.5 && t < 10) }' ||
    bad "keepalive: took $took s, not about 3 (1 s idle, 2 probes 1 s apart)"
grep -q "the start" "$TMP/part" || bad "keepalive: curl lost the part of the reply it had"
come_back

# a writer with TCP_USER_TIMEOUT
bg "$TMP/hold.log" python3 "$PY/fail.py" stall-server 8021
waitfor "$TMP/hold.log" listening || exit 1
bg "$TMP/writer.log" "${RUN[@]}" -- python3 "$PY/fail.py" timeout-writer $KIP 8021 1500
WRITER=$BGPID
waitfor "$TMP/writer.log" connected 20 || exit 1
vanish
for _ in $(seq 150); do kill -0 "$WRITER" 2>/dev/null || break; sleep 0.1; done
wait "$WRITER"
rc=$?
grep -q "write failed: ETIMEDOUT after" "$TMP/writer.log" && [ "$rc" -eq 0 ] &&
    ok "TCP_USER_TIMEOUT: $(grep 'write failed' "$TMP/writer.log")" ||
    { bad "TCP_USER_TIMEOUT: exit status $rc"; cat "$TMP/writer.log"; }
finish
