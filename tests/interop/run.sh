#!/usr/bin/env bash
# run.sh — unmodified programs over `synack run` (libsynack-preload.so), the
# kernel on the other side: curl and wget download 20 MB from a kernel-side
# HTTP server (checked by SHA-256), curl's ladder shows the whole life of
# its connection, curl exits 7 when refused, a reset mid-transfer fails
# curl, a write after a reset fails ECONNRESET and the next one is killed
# by SIGPIPE, and Python's asyncio serves and connects.
source "$(dirname "$0")/lib.sh"
interop_require curl wget
setup_ns run
RUN=("$BIN" run --tap tap0 --ip $SIP/24)
PY=$ROOT/tests/interop/run

mkdir -p "$TMP/www"
head -c 20000000 /dev/urandom >"$TMP/www/big"
echo "a small page" >"$TMP/www/small"
want=$(sha256sum <"$TMP/www/big" | cut -d' ' -f1)
bg "$TMP/http.log" python3 -m http.server 8000 --bind $KIP --directory "$TMP/www"
HTTP_PID=$BGPID
for _ in $(seq 50); do nsx curl -s -o /dev/null http://$KIP:8000/small && break; sleep 0.1; done

# curl: 20 MB, by content and exit status, with the summary and counters
nsx "${RUN[@]}" -- curl -sS --max-time 60 -o "$TMP/curl.out" http://$KIP:8000/big 2>"$TMP/curl.err"
rc=$?
[ "$rc" -eq 0 ] || { bad "curl over synack exited $rc"; cat "$TMP/curl.err"; }
[ "$(sha256sum <"$TMP/curl.out" | cut -d' ' -f1)" = "$want" ] && ok "curl: 20 MB, SHA-256 matches" ||
    bad "curl: the download differs"
grep -q "^conn $SIP:[0-9]* $KIP:8000 states=CLOSED>SYN-SENT>ESTABLISHED>.* received=2000" "$TMP/curl.err" ||
    { bad "curl: no summary line for its connection"; cat "$TMP/curl.err"; }
grep -q "^TcpActiveOpens  *1$" "$TMP/curl.err" || bad "curl: no TcpActiveOpens 1 in the counters"

# wget: the same file
nsx "${RUN[@]}" -q -- wget -q -T 60 -O "$TMP/wget.out" http://$KIP:8000/big
rc=$?
[ "$rc" -eq 0 ] || bad "wget over synack exited $rc"
[ "$(sha256sum <"$TMP/wget.out" | cut -d' ' -f1)" = "$want" ] && ok "wget: 20 MB, SHA-256 matches" ||
    bad "wget: the download differs"

# --ladder: handshake, request, reply, four-way close, TIME-WAIT; --pcap, --json
nsx "${RUN[@]}" -q --ladder --ascii --pcap "$TMP/run.pcap" --json "$TMP/run.json" -- \
    curl -sS -o /dev/null http://$KIP:8000/small 2>"$TMP/ladder.txt"
cat "$TMP/ladder.txt"
for pat in "SYN-SENT *--SYN seq=0" "<--SYN,ACK seq=0 ack=1" "ESTABLISHED *--ACK ack=1 .*> ESTABLISHED" \
           "--PSH,ACK seq=1 ack=1 .*len=" "<--.*PSH,ACK seq=1 ack=" "FIN" "TIME-WAIT" "CLOSED"; do
    grep -q -- "$pat" "$TMP/ladder.txt" || bad "ladder: no '$pat'"
done
[ "$(grep -c -- 'FIN' "$TMP/ladder.txt")" -ge 2 ] || bad "ladder: not two FINs"
[ "$(grep -c -- '--ACK' "$TMP/ladder.txt")" -ge 2 ] || bad "ladder: the FINs are not acknowledged"
[ -s "$TMP/run.pcap" ] && [ "$(od -An -tx4 -N4 "$TMP/run.pcap" | tr -d ' ')" = a1b23c4d ] ||
    bad "--pcap: no nanosecond pcap file"
grep -q '"type":"state"' "$TMP/run.json" && grep -q '"type":"seg_out"' "$TMP/run.json" ||
    bad "--json: no state and segment events"

# connection refused: curl's own exit status 7
nsx "${RUN[@]}" -q -- curl -sS http://$KIP:8009/ 2>"$TMP/refused.err"
rc=$?
[ "$rc" -eq 7 ] && ok "refused: curl exits 7" || { bad "refused: curl exited $rc"; cat "$TMP/refused.err"; }

# a reset mid-transfer: curl fails (56: receive error; 18: partial file)
bg "$TMP/rst.log" python3 "$PY/fail.py" reset-server 8010 300000
waitfor "$TMP/rst.log" listening || exit 1
nsx "${RUN[@]}" -q -- curl -sS --max-time 20 -o /dev/null http://$KIP:8010/ 2>"$TMP/rst.err"
rc=$?
{ [ "$rc" -eq 56 ] || [ "$rc" -eq 18 ]; } && ok "reset mid-transfer: curl exits $rc" ||
    { bad "reset mid-transfer: curl exited $rc"; cat "$TMP/rst.err"; }

# After the peer's reset, as Linux's: the first write fails ECONNRESET
# with no signal, the next one kills the writer with SIGPIPE (128 + 13)
bg "$TMP/drop.log" python3 "$PY/fail.py" drop-server 8011
waitfor "$TMP/drop.log" listening || exit 1
nsx "${RUN[@]}" -q -- python3 "$PY/fail.py" sigpipe $KIP 8011 >"$TMP/pipe.out" 2>&1
rc=$?
grep -q "first write after the reset: ECONNRESET" "$TMP/pipe.out" &&
    ok "reset: the first write fails ECONNRESET" || { bad "reset: the first write"; cat "$TMP/pipe.out"; }
[ "$rc" -eq 141 ] && ok "SIGPIPE: the writer died of it" || { bad "SIGPIPE: exit status $rc"; cat "$TMP/pipe.out"; }

# Python asyncio: a server over synack (the kernel's client checks the
# echo), then a client over synack against a kernel echo server
nsx "${RUN[@]}" -q -- python3 "$PY/aecho.py" server $SIP 7000 >"$TMP/aserver.log" 2>&1 &
ASERVER=$!
PIDS="$PIDS $ASERVER"
waitfor "$TMP/aserver.log" listening 20 || exit 1
nsx $PEER echo-client $SIP 7000 3000000 >"$TMP/aclient.log" 2>&1 || { bad "asyncio server: the kernel's client failed"; cat "$TMP/aclient.log"; }
wait "$ASERVER"
rc=$?
[ "$rc" -eq 0 ] && ok "asyncio server: echoed 3 MB" || { bad "asyncio server exited $rc"; cat "$TMP/aserver.log"; }
bg "$TMP/kecho.log" $PEER echo-server 7001 1
waitfor "$TMP/kecho.log" listening || exit 1
nsx "${RUN[@]}" -q -- python3 "$PY/aecho.py" client $KIP 7001 3000000 >"$TMP/aclient2.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] && grep -q "echo ok" "$TMP/aclient2.log" && ok "asyncio client: echo of 3 MB checked" ||
    { bad "asyncio client exited $rc"; cat "$TMP/aclient2.log"; }

stop "$HTTP_PID" >/dev/null 2>&1
finish
