#!/usr/bin/env bash
# offload.sh — the TAP with virtio-net header offloads (--offload): the
# kernel hands synack TCP segments up to 64 KiB with partial checksums and
# takes segments up to 64 KiB from it to cut to the MTU (TSO). A kernel
# client sends 20 MB to `serve --app echo`, `synack connect` sends 20 MB to
# and receives 20 MB from kernel servers, all checked by SHA-256; then the
# echo over IPv6 (TSO6 both ways); the default (offloads) and --no-offload
# (plain frames, 20 MB); and the echo again through netem.
# The kernel must count no checksum errors.
source "$(dirname "$0")/lib.sh"
interop_require sha256sum
setup_ns offload
BIG=$((20 * 1024 * 1024))
serve --port 7 --app echo --offload
nsx $PEER --timeout 60 echo-client $SIP 7 "$BIG" && ok "20 MB echo with offload" || bad "20 MB echo with offload"
stop "$SERVE_PID" || bad "synack serve exited with status $?"
grep -q '^conn .*end=peer-closed' "$SERVE_LOG" || bad "the connection did not end by the peer closing"
# Large frames both ways: the kernel's tap0 counters, one per read/write.
read -r rxb rxp txb txp <<<"$(nsx cat /sys/class/net/tap0/statistics/{rx_bytes,rx_packets,tx_bytes,tx_packets} | tr "\n" " ")"
[ "$rxp" -gt 0 ] && [ $((rxb / rxp)) -gt 3000 ] && ok "synack -> kernel: $rxp frames, $((rxb / rxp)) bytes each on average" ||
    bad "synack -> kernel: $rxp frames of $rxb bytes: no large segments"
[ "$txp" -gt 0 ] && [ $((txb / txp)) -gt 3000 ] && ok "kernel -> synack: $txp frames, $((txb / txp)) bytes each on average" ||
    bad "kernel -> synack: $txp frames of $txb bytes: no large segments"

head -c "$BIG" /dev/urandom >"$TMP/in"
w=$(sha256sum <"$TMP/in" | cut -d' ' -f1)
bg "$TMP/sink.log" $PEER --timeout 60 sink-server 5001
sink=$BGPID
waitfor "$TMP/sink.log" listening 10 || exit 1
nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:5001 --send "$TMP/in" --timeout 60 --offload ||
    bad "synack connect --offload --send failed"
wait "$sink"
grep -q "sha256 $BIG $w" "$TMP/sink.log" && ok "kernel received $BIG bytes intact" ||
    bad "kernel received: $(cat "$TMP/sink.log")"
bg "$TMP/src.log" $PEER --timeout 60 --data "$TMP/in" source-server 5002 "$BIG"
src=$BGPID
waitfor "$TMP/src.log" listening 10 || exit 1
nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:5002 --out "$TMP/out" --timeout 60 --offload ||
    bad "synack connect --offload --out failed"
wait "$src"
[ "$(sha256sum <"$TMP/out" | cut -d' ' -f1)" = "$w" ] && ok "synack received $BIG bytes intact" ||
    bad "synack received $(stat -c %s "$TMP/out") bytes, sha256 differs"

# IPv6: the kernel's segments come with partial checksums over the IPv6
# pseudo-header, and synack's leave as TSO6 (VIRTIO_NET_HDR_GSO_TCPV6).
nsx sysctl -qw net.ipv6.conf.tap0.accept_dad=0 2>/dev/null
ip -n "$NS" addr add fd77::1/64 dev tap0 nodad
read -r rxb0 rxp0 <<<"$(nsx cat /sys/class/net/tap0/statistics/{rx_bytes,rx_packets} | tr "\n" " ")"
serve --port 7 --app echo --offload --ip fd77::2/64
sleep 1.2 # duplicate address detection
nsx $PEER --timeout 60 echo-client fd77::2 7 "$BIG" && ok "20 MB echo over IPv6 with offload" ||
    bad "20 MB echo over IPv6 with offload"
stop "$SERVE_PID" || bad "synack serve exited with status $?"
read -r rxb1 rxp1 <<<"$(nsx cat /sys/class/net/tap0/statistics/{rx_bytes,rx_packets} | tr "\n" " ")"
rxb=$((rxb1 - rxb0)) rxp=$((rxp1 - rxp0))
[ "$rxp" -gt 0 ] && [ $((rxb / rxp)) -gt 3000 ] && ok "synack -> kernel over IPv6: $rxp frames, $((rxb / rxp)) bytes each" ||
    bad "synack -> kernel over IPv6: $rxp frames of $rxb bytes: no large segments"

# The offloads are serve's default on a TAP; --no-offload is one frame per
# read/write, every checksum computed by synack and checked by the kernel.
tap_counts() { nsx cat /sys/class/net/tap0/statistics/{rx_bytes,rx_packets,tx_bytes,tx_packets} | tr "\n" " "; }
read -r rb0 rp0 tb0 tp0 <<<"$(tap_counts)"
serve --port 7 --app echo
nsx $PEER --timeout 60 echo-client $SIP 7 $((4 * 1024 * 1024)) && ok "4 MB echo with the default" ||
    bad "4 MB echo with the default"
stop "$SERVE_PID" || bad "synack serve exited with status $?"
read -r rb1 rp1 tb1 tp1 <<<"$(tap_counts)"
[ $((rp1 - rp0)) -gt 0 ] && [ $(((rb1 - rb0) / (rp1 - rp0))) -gt 3000 ] &&
    ok "the default offloads: $(((rb1 - rb0) / (rp1 - rp0))) bytes a frame from synack" ||
    bad "the default sent $((rp1 - rp0)) frames of $((rb1 - rb0)) bytes: no large segments"
serve --port 7 --app echo --no-offload
nsx $PEER --timeout 60 echo-client $SIP 7 "$BIG" && ok "20 MB echo with --no-offload" ||
    bad "20 MB echo with --no-offload"
stop "$SERVE_PID" || bad "synack serve exited with status $?"
read -r rb2 rp2 tb2 tp2 <<<"$(tap_counts)"
[ $((rp2 - rp1)) -gt 0 ] && [ $(((rb2 - rb1) / (rp2 - rp1))) -le 1514 ] &&
    [ $((tp2 - tp1)) -gt 0 ] && [ $(((tb2 - tb1) / (tp2 - tp1))) -le 1514 ] &&
    ok "--no-offload: frames of at most 1514 bytes both ways" ||
    bad "--no-offload: $(((rb2 - rb1) / (rp2 - rp1))) / $(((tb2 - tb1) / (tp2 - tp1))) bytes a frame"

netem
serve --port 7 --app echo --offload "${IMPAIR[@]}"
nsx $PEER --timeout 60 echo-client $SIP 7 $((2 * 1024 * 1024)) && ok "echo with offload through netem" ||
    bad "echo with offload through netem"
stop "$SERVE_PID" || bad "synack serve exited with status $?"
errs=$(nsx nstat -az TcpInCsumErrors 2>/dev/null | awk '/TcpInCsumErrors/ { print $2 }')
[ "${errs:-0}" = 0 ] && ok "the kernel saw no TCP checksum errors" || bad "the kernel counted $errs TCP checksum errors"
finish
