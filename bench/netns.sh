#!/usr/bin/env bash
# netns.sh — `synack netns` beside pasta and slirp4netns (issue 12), root
# only. Each tool in turn gives a fresh network namespace whose gateway
# reaches the host's loopback; the same programs run through each, at the
# same MTU (65520, pasta's default and slirp4netns's largest):
#   netns_bulk_ns_to_host, netns_bulk_host_to_ns: iperf3 in the namespace
#     against iperf3 on the host's 127.0.0.1 (client sends, and -R), Gbit/s
#   netns_bulk_ns_to_host_reno: the first with the namespace's sender on
#     reno (iperf3 -C reno), which the kernel does not pace: what the relay
#     carries when the namespace's TCP is not the bottleneck
#   netns_bulk_ns_to_host_nscc_default: the first with synack leaving its
#     namespace's default congestion control as the kernel made it
#     (--ns-cc default: the host's, BBR on many hosts, as pasta and
#     slirp4netns leave theirs), where synack's default is reno
#   netns_bulk_fwd_host_to_ns, netns_bulk_fwd_ns_to_host: iperf3 server in
#     the namespace, client on the host through the tool's port forward
#   netns_connrate_p1, netns_connrate_p16: connections/s (connect, 1 byte
#     each way, close) from the namespace, 1 and 16 in parallel
#   netns_cpu_per_conn_p1, netns_cpu_per_conn_p16: the whole machine's CPU
#     time per connection in those runs, µs (lower is better); and, for
#     scale, the same client straight to a server on loopback, no relay
#   netns_latency_p50, netns_latency_p99: 1-byte round trips, µs
#   netns_mem_idle_conns, netns_mem_per_conn: the tool's VmRSS holding
#     NETNS_BENCH_CONNS (1000) idle relayed connections, KiB, and its growth
#     per connection over the idle tool, bytes
# Prints "bench NAME synack=S pasta=P slirp4netns=L unit=U ratio_pasta=S/P
# ratio_slirp4netns=S/L" lines (medians); synack=skipped (and no ratios)
# while `build/synack netns --help` fails. See bench/README.md.
# Knobs: BENCH_RUNS (5), BENCH_QUICK=1 (allow fewer), NETNS_BENCH_SECONDS
# (3; 2 with BENCH_QUICK), NETNS_BENCH_CONNS (1000), NETNS_BENCH_SYNACK
# (build/synack: the binary whose `netns` is measured), NETNS_BENCH_ONLY (a
# regular expression: only the lines whose names match, e.g. connrate).
set -u
cd "$(dirname "$0")/.." || exit 1
source bench/lib.sh
[ "$(id -u)" = 0 ] && [ -c /dev/net/tun ] || { echo "netns.sh: needs root and /dev/net/tun; skipped"; exit 0; }
SECS=${NETNS_BENCH_SECONDS:-3}
[ -n "${BENCH_QUICK:-}" ] && SECS=${NETNS_BENCH_SECONDS:-2}
NCONNS=${NETNS_BENCH_CONNS:-1000}
MTU=65520
LIMIT=$((SECS + 60))       # the longest any one namespace may live
SYNACK=${NETNS_BENCH_SYNACK:-build/synack}   # another build's, to compare
PROG=build/bench/netns_connrate
make -s build/synack "$PROG" >/dev/null || exit 1

missing=""
for t in iperf3:iperf3 pasta:passt slirp4netns:slirp4netns; do
    command -v "${t%%:*}" >/dev/null 2>&1 || missing="$missing ${t#*:}"
done
if [ -n "$missing" ]; then
    echo "netns.sh: installing Debian's$missing"
    apt-get update -qq >/dev/null 2>&1
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 ||
        echo "netns.sh: cannot install$missing; their columns are na"
fi
command -v iperf3 >/dev/null 2>&1 || { echo "netns.sh: no iperf3; skipped"; exit 0; }

# The tools measured, and the gateway address each gives the namespace for
# the host's loopback. pasta copies the host's own addresses and routes into
# the namespace and maps connections to its default gateway to 127.0.0.1.
TOOLS=""
declare -A GW
if "$SYNACK" netns --help >/dev/null 2>&1; then
    TOOLS="synack" GW[synack]=10.0.2.2
else
    echo "netns.sh: \`$SYNACK netns --help\` fails: synack=skipped on every line"
fi
HOSTGW=$(ip -4 route show default 2>/dev/null | awk '{ print $3; exit }')
if ! command -v pasta >/dev/null 2>&1; then
    echo "netns.sh: no pasta: its column is na"
elif [ -z "$HOSTGW" ]; then
    echo "netns.sh: pasta needs an IPv4 default route on the host to copy: its column is na"
else
    TOOLS="$TOOLS pasta" GW[pasta]=$HOSTGW
fi
command -v slirp4netns >/dev/null 2>&1 && TOOLS="$TOOLS slirp4netns" GW[slirp4netns]=10.0.2.2 ||
    echo "netns.sh: no slirp4netns: its column is na"

# Host ports: below the ephemeral range, spread by PID so two runs at once
# (other sessions on this machine) do not collide. PORT..PORT+15 is the
# connection server, PORT+16 the host's iperf3, PORT+17 the forwarded host
# port; in the namespace, iperf3 listens on 5201.
PORT=$((20000 + ($$ % 190) * 64))
NPORTS=16
IPERF_PORT=$((PORT + 16))
FWD_PORT=$((PORT + 17))
NS_PORT=5201

TMP=$(mktemp -d)
chmod 755 "$TMP"
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
ulimit -n 65536 2>/dev/null

# wait_for FILE PATTERN SECONDS: until FILE has a line matching PATTERN
wait_for() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

# in_ns TOOL FWD CMD...: run CMD in a fresh network namespace served by TOOL
# (synack | pasta | slirp4netns), MTU 65520; FWD is "" or "HOSTPORT:NSPORT",
# a TCP forward from the host's 127.0.0.1:HOSTPORT to NSPORT in the
# namespace. Returns CMD's status; the tool's PID is in $TMP/TOOL.pid while
# it runs. Everything it starts is killed by PID when it returns or is
# killed itself, and lives at most LIMIT seconds.
in_ns() (
    local tool=$1 fwd=$2 t="" h="" rc=1 i
    shift 2
    # Background jobs of a script read /dev/null: keep CMD's stdin on fd 3.
    exec 3<&0
    # shellcheck disable=SC2317
    trap '[ -n "$t" ] && kill "$t" 2>/dev/null; [ -n "$h" ] && kill "$h" 2>/dev/null' EXIT
    trap 'exit 1' TERM
    rm -f "$TMP/$tool.pid"
    case $tool in
    synack)
        # shellcheck disable=SC2086
        timeout -k 2 "$LIMIT" "$SYNACK" netns --mtu "$MTU" ${SYNACK_NS_OPTS:-} ${fwd:+-p "$fwd"} -- "$@" <&3 &
        t=$!
        for ((i = 0; i < 20; i++)); do pgrep -P "$t" >"$TMP/$tool.pid" && break; sleep 0.05; done
        wait "$t"
        rc=$?
        ;;
    pasta)
        # As root pasta would switch to "nobody" and fail to map it; --runas 0
        # keeps it root (the command still runs as the overflow uid). -f: stay
        # in the foreground; no automatic forwards: only the one asked for.
        timeout -k 2 "$LIMIT" pasta --runas 0:0 --config-net --mtu "$MTU" -q -f -P "$TMP/$tool.pid" \
            -t "${fwd:+127.0.0.1/}${fwd:-none}" -u none -T none -U none -- "$@" <&3 2>>"$TMP/pasta.log" &
        t=$!
        wait "$t"
        rc=$?
        ;;
    slirp4netns)
        # A namespace holder (root: a network namespace alone), slirp4netns
        # on its tap0 (10.0.2.100/24, the host's loopback at 10.0.2.2), then
        # CMD entered into it.
        timeout -k 2 "$LIMIT" unshare --net sleep "$LIMIT" </dev/null &
        h=$!
        sleep 0.05
        timeout -k 2 "$LIMIT" slirp4netns --configure --mtu="$MTU" --api-socket "$TMP/slirp.sock" \
            "$(pgrep -P "$h")" tap0 </dev/null >>"$TMP/slirp.log" 2>&1 &
        t=$!
        for ((i = 0; i < 100; i++)); do
            nsenter --target "$(pgrep -P "$h")" --net ip -4 -br addr show tap0 2>/dev/null | grep -q 10.0.2.100 && break
            sleep 0.05
        done
        pgrep -P "$t" >"$TMP/$tool.pid"
        if [ -n "$fwd" ]; then
            python3 - "$TMP/slirp.sock" "${fwd%%:*}" "${fwd#*:}" <<'EOP' >>"$TMP/slirp.log" 2>&1
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(json.dumps({"execute": "add_hostfwd", "arguments": {"proto": "tcp",
    "host_addr": "127.0.0.1", "host_port": int(sys.argv[2]), "guest_port": int(sys.argv[3])}}).encode())
print(s.recv(4096).decode())
EOP
        fi
        nsenter --target "$(pgrep -P "$h")" --net "$@" <&3 &
        wait $!
        rc=$?
        ;;
    esac
    return $rc
)

# ns_server PORT CMD...: (inside a namespace) CMD, and "ready" on stdout
# once something listens on PORT (at most 5 s)
NS_SERVER='p=$1; shift; "$@" & c=$!; i=0
while [ $i -lt 100 ] && ! ss -Hltn "sport = :$p" | grep -q .; do sleep 0.05; i=$((i + 1)); done
echo ready; wait $c'

# iperf3's JSON on stdin -> the receiver's Gbit/s (na when it failed)
gbits() {
    python3 -c 'import json,sys
t=sys.stdin.read()
try: print("%.2f" % (json.loads(t[t.index("{"):])["end"]["sum_received"]["bits_per_second"] / 1e9))
except Exception: print("na")'
}

# bulk TOOL MODE: one iperf3 run, Gbit/s. MODE: ns_to_host, host_to_ns
# (client in the namespace, server on the host; -R for host_to_ns),
# ns_to_host_reno (ns_to_host, the client's congestion control reno),
# ns_to_host_nscc_default (ns_to_host, synack with --ns-cc default), or
# fwd_host_to_ns, fwd_ns_to_host (server in the namespace, client on the
# host through the forward; -R for fwd_ns_to_host).
bulk() {
    local tool=$1 mode=$2 r="" s i o=""
    case $mode in host_to_ns | fwd_ns_to_host) r=-R ;; ns_to_host_reno) r="-C reno" ;; esac
    [ "$mode" = ns_to_host_nscc_default ] && o="--ns-cc default"
    case $mode in
    ns_to_host* | host_to_ns)
        timeout "$LIMIT" iperf3 -s -1 -B 127.0.0.1 -p "$IPERF_PORT" >/dev/null 2>&1 &
        s=$!
        for ((i = 0; i < 100; i++)); do ss -Hltn "sport = :$IPERF_PORT" | grep -q . && break; sleep 0.05; done
        SYNACK_NS_OPTS=$o in_ns "$tool" "" iperf3 -c "${GW[$tool]}" -p "$IPERF_PORT" -t "$SECS" -J $r 2>/dev/null | gbits
        kill "$s" 2>/dev/null
        wait "$s" 2>/dev/null
        ;;
    fwd_*)
        in_ns "$tool" "$FWD_PORT:$NS_PORT" sh -c "$NS_SERVER" sh "$NS_PORT" iperf3 -s -1 -p "$NS_PORT" \
            >"$TMP/ns_server.out" 2>&1 &
        s=$!
        if wait_for "$TMP/ns_server.out" ready 10; then
            timeout "$LIMIT" iperf3 -c 127.0.0.1 -p "$FWD_PORT" -t "$SECS" -J $r 2>/dev/null | gbits
        else
            echo na
        fi
        kill "$s" 2>/dev/null
        wait "$s" 2>/dev/null
        ;;
    esac
}

# rate_fields TOOL P: the rate client's line -> "CONNS_PER_S CPU_US"
rate_fields() {
    awk -v tool="$1" -v par="$2" '$1 == "rate" { c = "na"; for (i = 5; i <= NF; i++) if ($i ~ /^cpu_us=/) c = substr($i, 8)
            print $2, c; ok = 1; e = $4; sub("errors=", "", e)
            if (e + 0 > 0) printf "netns.sh: %s, %d in parallel: %d connections failed\n", tool, par, e > "/dev/stderr" }
            END { if (!ok) print "na na" }'
}

# connrate TOOL P: connections/s from the namespace, P in parallel, and the
# machine's CPU time per connection (every process and the kernel, and
# anything else the machine runs meanwhile), µs. TOOL "kernel" gives the
# CPU line a scale: the same client straight to the same server on the
# loopback of a network namespace of their own, no relay. A relay carries
# two kernel connections for each of the namespace's, so twice the kernel's
# figure is about what a relay that added nothing would cost (roughly: the
# client and the server programs count twice in it, and a relay's own work
# replaces one of each).
connrate() {
    if [ "$1" = kernel ]; then
        # In a network namespace of its own, with its own server: its
        # TIME-WAITs (tens of thousands a second) go with it instead of
        # crowding the host's loopback ports for the next tool's relay.
        timeout -k 2 "$LIMIT" unshare --net sh -c 'ip link set lo up || exit 1
            "$1" server "$2" "$3" "$6" >/dev/null 2>&1 & s=$!
            i=0; while [ $i -lt 100 ] && ! ss -Hltn "sport = :$2" | grep -q .; do sleep 0.05; i=$((i + 1)); done
            "$1" rate 127.0.0.1 "$2" "$3" "$4" "$5"; kill $s' sh "$PROG" "$PORT" "$NPORTS" "$SECS" "$2" "$LIMIT" \
            2>/dev/null | rate_fields "$1" "$2"
        return
    fi
    in_ns "$1" "" "$PROG" rate "${GW[$1]}" "$PORT" "$NPORTS" "$SECS" "$2" 2>/dev/null | rate_fields "$1" "$2"
}

# latency TOOL: "p50 p99" of 1-byte round trips, µs
latency() {
    in_ns "$1" "" "$PROG" pingpong "${GW[$1]}" "$PORT" "$SECS" 2>/dev/null |
        awk '$1 == "pingpong" { sub("p50=", "", $2); sub("p99=", "", $3); print $2, $3; ok = 1 }
             END { if (!ok) print "na na" }'
}

# rss PID: VmRSS in KiB
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# memory TOOL: "held_KiB per_conn_bytes": the tool's VmRSS holding NCONNS
# idle connections, and its growth per connection over the idle tool
memory() {
    local tool=$1 w p idle held
    rm -f "$TMP/hold.in" "$TMP/hold.out"
    mkfifo "$TMP/hold.in"
    in_ns "$tool" "" "$PROG" hold "${GW[$tool]}" "$PORT" "$NPORTS" "$NCONNS" <"$TMP/hold.in" >"$TMP/hold.out" 2>&1 &
    p=$!
    exec {w}>"$TMP/hold.in"
    if wait_for "$TMP/hold.out" ready 10; then
        sleep 0.2
        idle=$(rss "$(cat "$TMP/$tool.pid" 2>/dev/null)")
        echo go >&"$w"
        if wait_for "$TMP/hold.out" "^held $NCONNS\$" 60; then
            sleep 0.5
            held=$(rss "$(cat "$TMP/$tool.pid" 2>/dev/null)")
        fi
    fi
    exec {w}>&-
    wait "$p" 2>/dev/null
    if isnum "${idle:-}" && isnum "${held:-}"; then
        echo "$held $(((held - idle) * 1024 / NCONNS))"
    else
        echo "na na"
    fi
}

# measure "NAME..." "UNIT..." FUNC ARGS...: RUNS runs of FUNC TOOL ARGS for
# every tool in turn (the tools alternate run by run); FUNC prints one field
# per NAME. Prints each NAME's medians and its bench line.
measure() {
    local names=($1) units=($2) tool run k v
    [[ -n "${NETNS_BENCH_ONLY:-}" && ! "$1" =~ $NETNS_BENCH_ONLY ]] && return 0
    shift 2
    declare -A vals=()
    for ((run = 0; run < RUNS; run++)); do
        for tool in $TOOLS ${SCALE_TOOL:-}; do
            v=($("$1" "$tool" "${@:2}"))
            for k in "${!names[@]}"; do vals[$tool,$k]="${vals[$tool,$k]:-} ${v[$k]:-na}"; done
        done
    done
    for k in "${!names[@]}"; do
        local human="${names[$k]}:" runs="" med=() t
        for t in synack pasta slirp4netns; do
            local list="" m=na lo hi x
            for x in ${vals[$t,$k]:-}; do isnum "$x" && list="$list $x"; done
            if [ -n "$list" ]; then
                read -r m lo hi <<<"$(stats $list)"
                human="$human $t $m ($lo-$hi)"
            elif [ "$t" = synack ] && [[ " $TOOLS " != *" synack "* ]]; then
                m=skipped
            else
                human="$human $t na"
            fi
            runs="$runs | $t${vals[$t,$k]:-}"
            med+=("$m")
        done
        echo "$human ${units[$k]}, n=$RUNS  [runs:${runs# |}]"
        bench_line "${names[$k]}" "${units[$k]}" "${med[0]}" "pasta=${med[1]}" "slirp4netns=${med[2]}"
        scale_line "${names[$k]}" "${units[$k]}" "${vals[kernel,$k]:-}"
    done
}

# scale_line NAME UNIT RUNS: the kernel's own figure for a line (runs of
# SCALE_TOOL=kernel, in turn with the tools), and for the CPU lines twice
# it (connrate above); not a bench line, since it is not a peer's relay
scale_line() {
    local list="" x m
    for x in $3; do isnum "$x" && list="$list $x"; done
    [ -n "$list" ] || return 0
    read -r m _ <<<"$(stats $list)"
    local line="$1: the kernel alone (the client straight to a server on loopback, no relay) $m $2 [runs: ${3# }]"
    [[ $1 == netns_cpu_per_conn_* ]] &&
        line="$line; two kernel connections, about a relay that adds nothing: $(awk -v m="$m" 'BEGIN { printf "%.1f", 2 * m }') $2"
    echo "$line"
}

# The host's server for the connection, latency and memory figures.
timeout "$((LIMIT * 20))" "$PROG" server "$PORT" "$NPORTS" "$((LIMIT * 20))" >"$TMP/server.out" 2>&1 &
PIDS="$PIDS $!"
wait_for "$TMP/server.out" listening 5 || { echo "netns.sh: the host server did not start: $(cat "$TMP/server.out")"; exit 1; }

echo "netns.sh: MTU $MTU for all; gateways:$(for t in $TOOLS; do printf ' %s %s' "$t" "${GW[$t]}"; done); $SECS s per run, $RUNS runs"
measure netns_bulk_ns_to_host Gbit/s bulk ns_to_host
measure netns_bulk_host_to_ns Gbit/s bulk host_to_ns
measure netns_bulk_ns_to_host_reno Gbit/s bulk ns_to_host_reno
measure netns_bulk_ns_to_host_nscc_default Gbit/s bulk ns_to_host_nscc_default
measure netns_bulk_fwd_host_to_ns Gbit/s bulk fwd_host_to_ns
measure netns_bulk_fwd_ns_to_host Gbit/s bulk fwd_ns_to_host
SCALE_TOOL=kernel measure "netns_connrate_p1 netns_cpu_per_conn_p1" "conns/s us" connrate 1
SCALE_TOOL=kernel measure "netns_connrate_p16 netns_cpu_per_conn_p16" "conns/s us" connrate 16
measure "netns_latency_p50 netns_latency_p99" "us us" latency
measure "netns_mem_idle_conns netns_mem_per_conn" "KiB B" memory
