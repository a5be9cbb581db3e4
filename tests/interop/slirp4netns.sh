#!/usr/bin/env bash
# slirp4netns.sh — synack behind slirp4netns's command line, started the
# way podman and rootlesskit start slirp4netns:
# - podman's way: `-c -e 3 -r 4 --netns-type=path /run/netns/NS tap0` on a
#   namespace made by `ip netns add`: "1" on the ready FD, tap0 configured
#   as slirp4netns does it (10.0.2.100/24, MTU 1500, default route via
#   10.0.2.2, and --macaddress's MAC), a 3 MB download from the host's loopback by curl (SHA-256
#   checked), and a byte on the exit FD ends synack with status 0;
# - rootlesskit's way, by a symlink named slirp4netns: `--mtu 65520 -r 3 PID
#   tap0` (a PID, no -c) on a TAP made beforehand: synack leaves it
#   unconfigured, its owner configures it, the download works; with
#   SYNACK_NETNS_OPTS="--pcap FILE" the pcap holds the download and stderr
#   a line for the relayed connection;
# - the API socket (-a): add_hostfwd of a TCP port into the namespace
#   (curl through it, SHA-256 checked), list_hostfwd, remove_hostfwd (the
#   port then refuses), answers to a bad request and to an unknown id,
#   and the socket file removed at exit;
# - --help names --netns-type (rootlesskit's check for a slirp4netns it can
#   drive) and none of the options synack lacks; those, and unknown ones,
#   exit 1 with the reason.
source "$(dirname "$0")/lib.sh"
interop_require curl sha256sum
PY="python3 $ROOT/tests/interop/netns_peer.py"
HTTP=$((10000 + $$ % 20000)) FWD=$((10001 + $$ % 20000))
NS=synack-s4n-$$

head -c 3000000 /dev/urandom >"$TMP/big"
want=$(sha256sum <"$TMP/big" | cut -d' ' -f1)
$PY http $HTTP "$TMP" >"$TMP/http.log" 2>&1 &
PIDS="$PIDS $!"
waitfor "$TMP/http.log" listening 20 || exit 1

fetch() { # fetch WHAT: curl the file from the host through the gateway
    local got
    got=$(ip netns exec "$NS" curl -sS --max-time 30 http://10.0.2.2:$HTTP/big | sha256sum | cut -d' ' -f1)
    [ "$got" = "$want" ] && ok "$1: 3 MB from the host's loopback, SHA-256 matches" ||
        bad "$1: the download failed or differs"
}

# --help and bad usage
help=$("$BIN" slirp4netns --help)
grep -q -- "--netns-type" <<<"$help" && ok "--help names --netns-type" || bad "--help lacks --netns-type"
for o in --enable-sandbox --enable-seccomp; do
    ! grep -q -- "$o" <<<"$help" || bad "--help lists $o, which synack does not do"
done
"$BIN" slirp4netns --enable-sandbox 1 tap0 2>"$TMP/err"
rc=$?
[ $rc -eq 1 ] && grep -q "not supported" "$TMP/err" && ok "--enable-sandbox: exit 1, $(cat "$TMP/err")" ||
    bad "--enable-sandbox: exit $rc, $(cat "$TMP/err")"
"$BIN" slirp4netns --bogus 1 2>/dev/null
[ $? -eq 1 ] && ok "an unknown option: exit 1" || bad "an unknown option: not exit 1"

# podman's way
ip netns add "$NS" || { echo "FAIL: cannot create network namespace $NS"; exit 1; }
mkfifo "$TMP/exit.fifo"
exec 7<>"$TMP/exit.fifo" # held open: synack's end sees no EOF until a byte comes
"$BIN" slirp4netns -c -e 3 -r 4 -a "$TMP/api.sock" --macaddress=02:00:5e:10:00:01 \
    --netns-type=path "/run/netns/$NS" tap0 \
    3<"$TMP/exit.fifo" 4>"$TMP/ready" 2>"$TMP/s4n.log" &
SPID=$!
PIDS="$PIDS $SPID"
for _ in $(seq 100); do [ -s "$TMP/ready" ] && break; sleep 0.1; done
[ "$(cat "$TMP/ready")" = 1 ] && ok "podman's way: \"1\" on the ready FD" ||
    { bad "podman's way: the ready FD says '$(cat "$TMP/ready")'"; cat "$TMP/s4n.log"; }
addr=$(ip -n "$NS" -o -4 addr show dev tap0 | awk '{print $4}')
mtu=$(ip -n "$NS" -o link show dev tap0 | sed -n 's/.* mtu \([0-9]*\) .*/\1/p')
mac=$(ip -n "$NS" -o link show dev tap0 | sed -n 's/.* link\/ether \([0-9a-f:]*\) .*/\1/p')
route=$(ip -n "$NS" route show default)
[ "$addr" = 10.0.2.100/24 ] && [ "$mtu" = 1500 ] && [[ "$route" == "default via 10.0.2.2 dev tap0"* ]] &&
    [ "$mac" = 02:00:5e:10:00:01 ] && ok "podman's way: tap0 $addr, mtu $mtu, MAC $mac, $route" ||
    bad "podman's way: tap0 '$addr' mtu '$mtu' MAC '$mac', route '$route'"
fetch "podman's way"

# the API socket: a forward into the namespace added, used, listed, removed
api() { $PY api "$TMP/api.sock" "$1"; }
ip netns exec "$NS" $PY http 8080 "$TMP" >"$TMP/inner.log" 2>&1 &
PIDS="$PIDS $!"
waitfor "$TMP/inner.log" listening 20 || exit 1
ans=$(api '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": '$FWD', "guest_port": 8080}}')
[ "$ans" = '{"return": {"id": 1}}' ] && ok "API add_hostfwd: $ans" || bad "API add_hostfwd: $ans"
got=$(curl -sS --max-time 30 http://127.0.0.1:$FWD/big | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "API forward 127.0.0.1:$FWD -> 10.0.2.100:8080: 3 MB, SHA-256 matches" ||
    bad "API forward: the download failed or differs"
ans=$(api '{"execute": "list_hostfwd"}')
entry='{"id": 1, "proto": "tcp", "host_addr": "127.0.0.1", "host_port": '$FWD', "guest_addr": "10.0.2.100", "guest_port": 8080}'
[ "$ans" = '{"return": {"entries": ['"$entry"']}, "entries": ['"$entry"']}' ] && ok "API list_hostfwd: $ans" ||
    bad "API list_hostfwd: $ans"
ans=$(api '{"execute": "add_hostfwd", "arguments": {"proto": "tcp", "host_addr": "127.0.0.1", "host_port": '$FWD', "guest_port": 8080}}')
[[ "$ans" == '{"error": {"desc": "add_hostfwd: '*"Address already in use"* ]] && ok "API: the same port twice: $ans" ||
    bad "API: the same port twice: $ans"
ans=$(api '{"execute": "remove_hostfwd", "arguments": {"id": 1}}')
[ "$ans" = '{"return": {}}' ] && ok "API remove_hostfwd: $ans" || bad "API remove_hostfwd: $ans"
curl -sS --max-time 5 -o /dev/null http://127.0.0.1:$FWD/big 2>/dev/null &&
    bad "API: the removed forward still answers" || ok "API: the removed forward's port refuses"
ans=$(api '{"execute": "remove_hostfwd", "arguments": {"id": 1}}')
[[ "$ans" == '{"error": {"desc": "remove_hostfwd: no forward'* ]] && ok "API: an unknown id: $ans" ||
    bad "API: an unknown id: $ans"
ans=$(api '{"execute": ')
[ "$ans" = '{"error": {"desc": "bad request: malformed JSON"}}' ] && ok "API: a bad request: $ans" ||
    bad "API: a bad request: $ans"

echo x >&7
t0=$(date +%s%N)
wait "$SPID"
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ $rc -eq 0 ] && [ $ms -lt 3000 ] && ok "podman's way: a byte on the exit FD ends it (status 0, $ms ms)" ||
    { bad "podman's way: exit FD: status $rc after $ms ms"; cat "$TMP/s4n.log"; }
[ ! -e "$TMP/api.sock" ] && ok "the API socket's file is gone at exit" || bad "the API socket's file stays"
exec 7>&-
ip netns del "$NS"

# rootlesskit's way: the TAP made first, a PID, no -c
ip netns add "$NS" || { echo "FAIL: cannot create network namespace $NS"; exit 1; }
ip -n "$NS" link set lo up
ip -n "$NS" tuntap add dev tap0 mode tap
ip netns exec "$NS" sleep 300 &
HOLDER=$!
PIDS="$PIDS $HOLDER"
ln -s "$BIN" "$TMP/slirp4netns"
SYNACK_NETNS_OPTS="--pcap $TMP/ns.pcap" \
    "$TMP/slirp4netns" --mtu 65520 -r 3 "$HOLDER" tap0 3>"$TMP/ready2" 2>"$TMP/s4n2.log" &
SPID=$!
PIDS="$PIDS $SPID"
for _ in $(seq 100); do [ -s "$TMP/ready2" ] && break; sleep 0.1; done
[ "$(cat "$TMP/ready2")" = 1 ] || { bad "rootlesskit's way: not ready"; cat "$TMP/s4n2.log"; }
addr=$(ip -n "$NS" -o -4 addr show dev tap0)
[ -z "$addr" ] && ok "rootlesskit's way: without -c tap0 is left unconfigured" ||
    bad "rootlesskit's way: tap0 got an address without -c: $addr"
ip -n "$NS" link set tap0 mtu 65520 up
ip -n "$NS" addr add 10.0.2.100/24 dev tap0
ip -n "$NS" route add default via 10.0.2.2
fetch "rootlesskit's way (a symlink named slirp4netns)"
stop "$SPID"
rc=$?
[ $rc -eq 0 ] && ok "rootlesskit's way: SIGTERM ends it, status 0" || bad "SIGTERM: status $rc"
# SYNACK_NETNS_OPTS: synack's own options under a command line it did not choose
line=$(grep -m1 "^relay 10.0.2.100:[0-9]* -> 10.0.2.2:$HTTP closed" "$TMP/s4n2.log")
[ -n "$line" ] && ok "SYNACK_NETNS_OPTS set: a line per relayed connection: $line" ||
    { bad "SYNACK_NETNS_OPTS: no relay line"; cat "$TMP/s4n2.log"; }
size=$(stat -c %s "$TMP/ns.pcap" 2>/dev/null || echo 0)
[ "$size" -gt 3000000 ] && ok "SYNACK_NETNS_OPTS=\"--pcap FILE\": the namespace's frames, $size bytes" ||
    bad "SYNACK_NETNS_OPTS --pcap: $size bytes"
finish
