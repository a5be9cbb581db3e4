#!/usr/bin/env bash
# echo.sh — a kernel client sends 20 MB to `synack serve --app echo` and
# checks the SHA-256 of what comes back; then again through netem (delay
# 10 ms, loss 2 %, reorder 5 %, duplicate 1 %) with a smaller size so the
# test stays well under a minute.
source "$(dirname "$0")/lib.sh"
interop_require
setup_ns echo
serve --port 7 --app echo
nsx $PEER --timeout 60 echo-client $SIP 7 $((20 * 1024 * 1024)) || bad "20 MB echo"
stop "$SERVE_PID" || bad "synack serve exited with status $?"
cat "$SERVE_LOG"
grep -q '^conn .*end=peer-closed' "$SERVE_LOG" || bad "the connection did not end by the peer closing"

NETEM_BYTES=${NETEM_BYTES:-$((2 * 1024 * 1024))}
netem
serve --port 7 --app echo "${IMPAIR[@]}"
nsx $PEER --timeout 60 echo-client $SIP 7 "$NETEM_BYTES" || bad "echo through netem"
stop "$SERVE_PID" || bad "synack serve exited with status $?"
cat "$SERVE_LOG"
finish
