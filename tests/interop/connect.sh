#!/usr/bin/env bash
# connect.sh — `synack connect` sends 20 MB to a kernel server and receives
# 20 MB from one, checked by SHA-256; the same through netem (smaller).
source "$(dirname "$0")/lib.sh"
interop_require sha256sum
setup_ns connect
BIG=$((20 * 1024 * 1024))
head -c "$BIG" /dev/urandom >"$TMP/big"
want=$(sha256sum <"$TMP/big" | cut -d' ' -f1)

run() { # run LABEL BYTES
    local label=$1 n=$2
    head -c "$n" "$TMP/big" >"$TMP/in"
    local w
    w=$(sha256sum <"$TMP/in" | cut -d' ' -f1)
    # synack -> kernel
    bg "$TMP/sink.log" $PEER --timeout 60 sink-server 5001
    local sink=$BGPID
    waitfor "$TMP/sink.log" listening 10 || return
    nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:5001 --send "$TMP/in" --timeout 60 "${IMPAIR[@]}" ||
        bad "$label: synack connect --send failed"
    wait "$sink"
    grep -q "sha256 $n $w" "$TMP/sink.log" && ok "$label: kernel received $n bytes intact" ||
        bad "$label: kernel received: $(cat "$TMP/sink.log")"
    # kernel -> synack
    bg "$TMP/src.log" $PEER --timeout 60 --data "$TMP/in" source-server 5002 "$n"
    local src=$BGPID
    waitfor "$TMP/src.log" listening 10 || return
    nsx "$BIN" connect --tap tap0 --ip $SIP/24 --to $KIP:5002 --out "$TMP/out" --timeout 60 "${IMPAIR[@]}" ||
        bad "$label: synack connect --out failed"
    wait "$src"
    local got
    got=$(sha256sum <"$TMP/out" | cut -d' ' -f1)
    [ "$got" = "$w" ] && ok "$label: synack received $n bytes intact" ||
        bad "$label: synack received $(stat -c %s "$TMP/out") bytes, sha256 differs"
}
run plain "$BIG"
[ "$want" = "$(sha256sum <"$TMP/big" | cut -d' ' -f1)" ] || bad "test file changed"
netem
run netem "${NETEM_BYTES:-$((2 * 1024 * 1024))}"
finish
