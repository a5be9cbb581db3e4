#!/usr/bin/env bash
# devices.sh — the other devices, each carrying an echo exchange with the
# kernel: TUN (bare IP packets), an AF_PACKET socket on one end of a veth
# pair, and a TAP interface synack creates itself and removes on exit.
source "$(dirname "$0")/lib.sh"
interop_require
setup_ns dev

# TUN: the kernel's address on tun0; synack speaks IP without Ethernet.
ip -n "$NS" tuntap add dev tun0 mode tun
ip -n "$NS" addr add 10.78.0.1/24 dev tun0
ip -n "$NS" link set tun0 up
SERVE_LOG=$TMP/tun.log
bg "$SERVE_LOG" "$BIN" serve --tun tun0 --ip 10.78.0.2/24 --port 7 --app echo
tun=$BGPID
waitfor "$SERVE_LOG" "listening on" 10 || exit 1
nsx $PEER --timeout 20 echo-client 10.78.0.2 7 1000000 && ok "echo over TUN" || bad "echo over TUN"
stop "$tun" || bad "serve --tun exited with status $?"

# AF_PACKET on veth1; the kernel's address on veth0.
ip -n "$NS" link add veth0 type veth peer name veth1
ip -n "$NS" addr add 10.79.0.1/24 dev veth0
ip -n "$NS" link set veth0 up
ip -n "$NS" link set veth1 up
SERVE_LOG=$TMP/packet.log
bg "$SERVE_LOG" "$BIN" serve --packet veth1 --ip 10.79.0.2/24 --port 7 --app echo
pk=$BGPID
waitfor "$SERVE_LOG" "listening on" 10 || exit 1
nsx $PEER --timeout 20 echo-client 10.79.0.2 7 1000000 && ok "echo over AF_PACKET" || bad "echo over AF_PACKET"
stop "$pk" || bad "serve --packet exited with status $?"

# A TAP synack creates: up while it runs, gone after.
SERVE_LOG=$TMP/create.log
bg "$SERVE_LOG" "$BIN" serve --tap synew0 --ip 10.80.0.2/24 --port 7 --app echo
cr=$BGPID
waitfor "$SERVE_LOG" "listening on" 10 || exit 1
grep -q "created synew0" "$SERVE_LOG" || bad "serve did not say it created synew0"
ip -n "$NS" addr add 10.80.0.1/24 dev synew0 || bad "synew0 does not exist while synack runs"
nsx $PEER --timeout 20 echo-client 10.80.0.2 7 100000 && ok "echo over a created TAP" || bad "echo over a created TAP"
stop "$cr" || bad "serve on a created TAP exited with status $?"
if ip -n "$NS" link show synew0 >/dev/null 2>&1; then bad "synew0 is still there after synack exited"
else ok "synew0 removed on exit"; fi
finish
