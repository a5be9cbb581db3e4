#!/usr/bin/env bash
# threads.sh — `synack serve --threads 2` on a multi-queue TAP (issue 13,
# every core): kernel clients reach both threads, each connection with the
# right data, no frame is dropped as another thread's, a signal stops every
# thread, and with the eBPF steering program (root) the kernel puts nearly
# every frame on its owner's queue. A second serve on the same TAP, and a
# TAP made without multi_queue, are refused with a reason.
source "$(dirname "$0")/lib.sh"
interop_require
setup_ns threads multi_queue

serve --port 7 --app echo --quiet --counters --threads 2
grep -q "2 queues, a thread each" "$SERVE_LOG" || bad "the start line names no queues: $(cat "$SERVE_LOG")"
nsx $PEER --timeout 60 many-clients $SIP 7 200 20000 || bad "200 kernel echo clients, first batch"
nsx $PEER --timeout 60 many-clients $SIP 7 200 3000 || bad "200 kernel echo clients, second batch"
stop "$SERVE_PID" || bad "synack serve --threads 2 exited with status $?"
cat "$SERVE_LOG"
per=$(sed -n 's/.*per thread: \([0-9]*\) \([0-9]*\) connections.*/\1 \2/p' "$SERVE_LOG")
read -r t1 t2 <<<"$per"
[ -n "$per" ] || bad "no per-thread line"
[ "${t1:-0}" -gt 0 ] && [ "${t2:-0}" -gt 0 ] || bad "a thread served nothing: '$per'"
[ $(( ${t1:-0} + ${t2:-0} )) -eq 400 ] || bad "served $per, not 400 in all"
grep -q "SynackDropSteerForeign" "$SERVE_LOG" && bad "frames dropped as another thread's"
handed=$(sed -n 's/.*frames handed over between threads: \([0-9]*\).*/\1/p' "$SERVE_LOG")
if grep -q "steering by hand-over only" "$SERVE_LOG"; then
    echo "note: no eBPF steering here ($(grep -o 'hand-over only: .*' "$SERVE_LOG")); $handed frames handed over"
elif [ "${handed:-999}" -gt 40 ]; then
    bad "the eBPF steering program is attached, yet $handed frames reached the wrong thread"
fi
[ "$fail" -eq 0 ] && ok "400 connections over 2 threads ($per), none dropped as foreign, $handed frames handed over"

# A second serve on the same multi-queue TAP would get frames steered to
# the first one's threads: refused, exit 1.
serve --port 7 --app echo --quiet --threads 2
nsx "$BIN" serve --tap tap0 --ip 10.77.0.3/24 --port 8 --app echo --threads 2 >"$TMP/two.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "another program's" "$TMP/two.log" &&
    ok "a second serve on the TAP is refused: $(head -1 "$TMP/two.log")" ||
    bad "a second serve on the same TAP: exit $rc: $(cat "$TMP/two.log")"
nsx $PEER --timeout 30 many-clients $SIP 7 20 1000 || bad "the first serve after the second's refusal"
stop "$SERVE_PID" || bad "synack serve exited with status $?"

# A TAP with one queue cannot take a second: a clear refusal, exit 1.
ip -n "$NS" tuntap add dev tap1 mode tap
nsx "$BIN" serve --tap tap1 --ip 10.78.0.2/24 --port 7 --app echo --threads 2 >"$TMP/one.log" 2>&1
rc=$?
[ "$rc" -eq 1 ] || bad "--threads on a single-queue TAP: exit $rc, not 1"
grep -q "multi_queue" "$TMP/one.log" || bad "the refusal does not say why: $(cat "$TMP/one.log")"
[ "$rc" -eq 1 ] && ok "a single-queue TAP is refused: $(head -1 "$TMP/one.log")"
finish
