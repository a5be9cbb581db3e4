#!/usr/bin/env bash
# rootlesskit.sh — rootlesskit (Debian's, the network half of rootless
# Docker and of k3s/nerdctl rootless) with synack as its slirp4netns:
# `rootlesskit --net=slirp4netns --slirp4netns-binary=LINK`, LINK a symlink
# to synack named slirp4netns. Inside, curl downloads 3 MB from the host's
# loopback through 10.0.2.2 (SHA-256 checked); with rootlesskit's
# --disable-host-loopback the same connection is refused; with its
# slirp4netns port driver (`--port-driver=slirp4netns -p`, which adds the
# forward through synack's API socket) curl on the host downloads from a
# server inside; and synack is gone when rootlesskit is. rootlesskit maps subordinate ids from
# /etc/subuid and /etc/subgid: a private mount namespace gives it files
# with a range for root, the machine's own files are not touched.
source "$(dirname "$0")/lib.sh"
interop_require curl sha256sum rootlesskit slirp4netns newuidmap newgidmap unshare
PY="python3 $ROOT/tests/interop/netns_peer.py"
HTTP=$((10000 + $$ % 20000)) FWD=$((10001 + $$ % 20000))
[ -e /etc/subuid ] && [ -e /etc/subgid ] || skip "no /etc/subuid or /etc/subgid to mount over"

head -c 3000000 /dev/urandom >"$TMP/big"
want=$(sha256sum <"$TMP/big" | cut -d' ' -f1)
$PY http $HTTP "$TMP" >"$TMP/http.log" 2>&1 &
PIDS="$PIDS $!"
waitfor "$TMP/http.log" listening 20 || exit 1
echo "root:100000:65536" >"$TMP/subid"
ln -s "$BIN" "$TMP/slirp4netns"

# rk ARGS... CMD...: rootlesskit with synack as its slirp4netns, running
# CMD inside; rk_with SLIRP ARGS... CMD... with another slirp4netns. Both
# exec: run them in a subshell, `(rk ...)`, or in the background, where $!
# is then their timeout, which passes SIGTERM on.
rk_with() {
    local slirp=$1
    shift
    exec timeout -k 5 120 unshare -m --propagation private sh -c '
        mount --bind "$1/subid" /etc/subuid && mount --bind "$1/subid" /etc/subgid &&
        shift && exec rootlesskit "$@"' sh "$TMP" \
        --net=slirp4netns --slirp4netns-binary="$slirp" --copy-up=/etc "$@"
}
rk() { rk_with "$TMP/slirp4netns" "$@"; }

# The control: rootlesskit with Debian's slirp4netns. Only when that fails
# too (no user namespaces, no subordinate ids) is the test skipped; any
# failure with synack in its place is synack's.
if ! (rk_with "$(command -v slirp4netns)" true) >"$TMP/control" 2>&1; then
    skip "rootlesskit cannot run here even with Debian's slirp4netns: $(tail -1 "$TMP/control")"
fi

(rk sh -c "ip -o -4 addr show dev tap0; curl -sS --max-time 30 http://10.0.2.2:$HTTP/big | sha256sum") \
    >"$TMP/in.out" 2>"$TMP/in.err"
rc=$?
grep -q "10.0.2.100/24" "$TMP/in.out" && grep -q "^$want" "$TMP/in.out" &&
    ok "rootlesskit + synack: tap0 10.0.2.100/24, 3 MB from the host's loopback, SHA-256 matches" ||
    { bad "rootlesskit + synack: exit $rc"; cat "$TMP/in.out" "$TMP/in.err"; }

(rk --disable-host-loopback sh -c "curl -sS --max-time 10 http://10.0.2.2:$HTTP/big >/dev/null") \
    >"$TMP/off.out" 2>&1
rc=$?
# curl's exit 7: could not connect (here at once, a reset to the SYN)
[ $rc -ne 0 ] && grep -q "curl: (7)" "$TMP/off.out" && ok "rootlesskit --disable-host-loopback: the gateway's ports are refused" ||
    { bad "--disable-host-loopback: curl exit $rc"; cat "$TMP/off.out"; }

# the port driver: a server inside, reached from the host through the API's forward
rk --port-driver=slirp4netns -p 127.0.0.1:$FWD:8080/tcp \
    sh -c "$PY http 8080 $TMP >$TMP/inner.log 2>&1 & sleep 60" >"$TMP/pd.out" 2>&1 &
RK=$!
PIDS="$PIDS $RK"
waitfor "$TMP/inner.log" listening 20 || { cat "$TMP/pd.out"; exit 1; }
[ "$(sha_of_url http://127.0.0.1:$FWD/big)" = "$want" ] && ok "rootlesskit --port-driver=slirp4netns -p 127.0.0.1:$FWD:8080: 3 MB in, SHA-256 matches" ||
    { bad "the port driver's forward"; cat "$TMP/pd.out"; }
stop "$RK"

sleep 0.5
left=$(pgrep -f "^$TMP/slirp4netns " || true) # synack as rootlesskit started it
[ -z "$left" ] && ok "synack ended with rootlesskit" || { bad "synack still runs: $left"; kill $left; }
finish
