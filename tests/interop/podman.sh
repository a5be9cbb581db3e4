#!/usr/bin/env bash
# podman.sh — Debian's podman with synack as its slirp4netns
# (containers.conf's network_cmd_path, a symlink to synack named
# slirp4netns), a container made from a busybox root filesystem (--rootfs:
# no image, no registry):
# - `--network slirp4netns:allow_host_loopback=true`: inside, tap0 has
#   10.0.2.100/24 and, since podman asks for IPv6, fd00::100/64; busybox
#   wget downloads 3 MB from the host's loopback through 10.0.2.2, SHA-256
#   checked;
# - `-p 127.0.0.1:PORT:8080` to busybox httpd inside, with both of podman's
#   port handlers: slirp4netns (through synack's API socket) and rootlesskit
#   (podman's rootlessport); curl on the host downloads 3 MB through each;
# - synack is gone once the container is removed.
# The same podman first runs a container with Debian's own slirp4netns:
# when that fails (this machine's cgroups, limits), the test is skipped
# with podman's reason, since synack is not what failed. Everything podman
# keeps (storage, run state, its temporary files) is under the test's
# directory; the containers are removed by name.
source "$(dirname "$0")/lib.sh"
interop_require curl sha256sum podman busybox
PY="python3 $ROOT/tests/interop/netns_peer.py"
HTTP=$((10000 + $$ % 20000)) FWD=$((10001 + $$ % 20000))
NAME=synack-podman-$$

ROOTFS=$TMP/rootfs
mkdir -p "$ROOTFS"/{bin,etc,proc,sys,dev,tmp,www} "$TMP/bin"
cp "$(command -v busybox)" "$ROOTFS/bin/"
for c in sh ip wget sha256sum httpd; do ln -s busybox "$ROOTFS/bin/$c"; done
head -c 3000000 /dev/urandom >"$TMP/big"
cp "$TMP/big" "$ROOTFS/www/big"
want=$(sha256sum <"$TMP/big" | cut -d' ' -f1)
ln -s "$BIN" "$TMP/bin/slirp4netns"
printf '[engine]\nnetwork_cmd_path = "%s"\n' "$TMP/bin/slirp4netns" >"$TMP/synack.conf"
printf '[engine]\nnetwork_cmd_path = "%s"\n' "$(command -v slirp4netns || echo /usr/bin/slirp4netns)" \
    >"$TMP/debian.conf"

# pm CONF ARGS...: podman with everything under $TMP; runc (crun refuses
# a cgroup v1/v2 hybrid, which some machines have), limits it may set.
pm() {
    local conf=$1; shift
    CONTAINERS_CONF="$TMP/$conf.conf" timeout -k 5 120 podman --root "$TMP/root" \
        --runroot "$TMP/run" --tmpdir "$TMP/tmp" --storage-driver vfs --events-backend none \
        --cgroup-manager cgroupfs ${PODMAN_RUNTIME:+--runtime "$PODMAN_RUNTIME"} "$@"
}
run_opts=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --rootfs "$ROOTFS")
command -v runc >/dev/null && PODMAN_RUNTIME=runc
trap 'pm synack rm -f -t 0 $NAME-a $NAME-b >/dev/null 2>&1; cleanup' EXIT

if ! pm debian run --rm --network slirp4netns "${run_opts[@]}" /bin/sh -c true >"$TMP/control" 2>&1; then
    skip "podman cannot run a container here even with Debian's slirp4netns: $(tail -1 "$TMP/control")"
fi

$PY http $HTTP "$TMP" >"$TMP/http.log" 2>&1 &
PIDS="$PIDS $!"
waitfor "$TMP/http.log" listening 20 || exit 1

pm synack run --rm --network slirp4netns:allow_host_loopback=true "${run_opts[@]}" /bin/sh -c \
    "ip -o addr show dev tap0; wget -q -O - http://10.0.2.2:$HTTP/big | sha256sum" >"$TMP/out" 2>&1
rc=$?
grep -q "inet 10.0.2.100/24" "$TMP/out" && grep -q "inet6 fd00::100/64" "$TMP/out" &&
    ok "podman + synack: tap0 10.0.2.100/24 and fd00::100/64" || { bad "podman + synack: addresses (exit $rc)"; cat "$TMP/out"; }
grep -q "^$want" "$TMP/out" && ok "podman + synack: wget, 3 MB from the host's loopback, SHA-256 matches" ||
    { bad "podman + synack: the download (exit $rc)"; cat "$TMP/out"; }

# -p with each port handler, a web server inside
for handler in slirp4netns rootlesskit; do
    c=$NAME-$([ $handler = slirp4netns ] && echo a || echo b)
    pm synack run -d --name "$c" --network slirp4netns:port_handler=$handler -p 127.0.0.1:$FWD:8080 \
        "${run_opts[@]}" /bin/httpd -f -p 8080 -h /www >"$TMP/run.$handler" 2>&1 ||
        { bad "podman run -p ($handler): $(tail -1 "$TMP/run.$handler")"; continue; }
    [ "$(sha_of_url http://127.0.0.1:$FWD/big)" = "$want" ] && ok "podman -p 127.0.0.1:$FWD:8080, port_handler=$handler: 3 MB in, SHA-256 matches" ||
        bad "podman -p, port_handler=$handler: the download failed or differs"
    pm synack rm -f -t 0 "$c" >/dev/null 2>&1
done

sleep 0.5
left=$(pgrep -f "^$TMP/bin/slirp4netns " || true) # synack as podman started it
[ -z "$left" ] && ok "synack ended with each container" || { bad "synack still runs: $left"; kill $left; }
finish
