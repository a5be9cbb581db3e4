# lib.sh — shared by the interop tests: sourced, never run.
#
# Each test gets its own network namespace (synack-NAME-PID) holding one TAP
# interface, tap0, with the kernel at 10.77.0.1/24 and synack at 10.77.0.2.
# Nothing outside that namespace is touched; the namespace has no route out.
# Exit status: 0 pass, 77 skip (the last line says why), anything else fail.
# On exit the processes the test started (by PID) and its namespace go.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/../.." || exit 1
ROOT=$PWD
BIN=${SYNACK_BIN:-$ROOT/build/san/synack}
PEER="python3 $ROOT/tests/interop/peer.py"
KIP=10.77.0.1
SIP=10.77.0.2
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}

skip() { echo "$*"; exit 77; }
fail=0
bad() { echo "FAIL: $*"; fail=1; }
ok() { echo "ok: $*"; }

interop_require() { # interop_require TOOL...: skip unless root, /dev/net/tun and the tools exist
    [ "$(id -u)" = 0 ] || skip "interop tests need root (network namespaces, TAP)"
    [ -c /dev/net/tun ] || skip "no /dev/net/tun on this machine"
    for t in ip python3 "$@"; do
        command -v "$t" >/dev/null 2>&1 || skip "$t is not installed"
    done
    [ -x "$BIN" ] || { echo "FAIL: $BIN is missing (run make test-build)"; exit 1; }
}

NS=""
TMP=$(mktemp -d)
PIDS=""

cleanup() {
    local p
    for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
    for p in $PIDS; do
        for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "$NS" ] && ip netns del "$NS" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nsx() { ip netns exec "$NS" "$@"; }

# setup_ns NAME [multi_queue]: the namespace with tap0 up, kernel address
# only (multi_queue: a TAP with several queues, for --threads).
setup_ns() {
    NS=synack-$1-$$
    ip netns add "$NS" || { echo "FAIL: cannot create network namespace $NS"; exit 1; }
    ip -n "$NS" link set lo up
    # shellcheck disable=SC2086
    ip -n "$NS" tuntap add dev tap0 mode tap ${2:-} || { echo "FAIL: cannot create tap0 in $NS"; exit 1; }
    ip -n "$NS" addr add $KIP/24 dev tap0
    ip -n "$NS" link set tap0 up
}

# bg LOG CMD...: run CMD inside the namespace in the background; $BGPID is its PID.
# LOG is emptied here, before the fork: the child's own redirection happens
# later, and a waitfor on a reused LOG could meanwhile read the previous
# run's "listening" and start the client before the server listens.
bg() {
    local log=$1; shift
    : >"$log"
    ip netns exec "$NS" "$@" >"$log" 2>&1 &
    BGPID=$!
    PIDS="$PIDS $BGPID"
}

# stop PID: SIGTERM and wait (at most 5 s); returns the exit status.
stop() {
    kill -TERM "$1" 2>/dev/null
    for _ in $(seq 1 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$1" 2>/dev/null
    wait "$1"
}

# waitfor FILE PATTERN [SECONDS]: wait until FILE contains PATTERN.
waitfor() {
    local n=$(( ${3:-10} * 10 ))
    for _ in $(seq 1 "$n"); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "FAIL: timed out waiting for '$2' in $1:"; sed 's/^/    /' "$1" | tail -20
    return 1
}

# serve ARGS...: start synack serve on tap0 and wait until it listens.
serve() {
    SERVE_LOG=$TMP/serve.$RANDOM.log
    bg "$SERVE_LOG" "$BIN" serve --tap tap0 --ip $SIP/24 "$@"
    SERVE_PID=$BGPID
    waitfor "$SERVE_LOG" "listening on" 10 || exit 1
}

# sha_of_url URL: the SHA-256 of what curl downloads from URL, trying for
# up to 10 s while nothing (or something else) comes: a forward that is
# still being set up.
sha_of_url() {
    local got=""
    for _ in $(seq 50); do
        got=$(curl -sS --max-time 30 "$1" 2>/dev/null | sha256sum | cut -d' ' -f1)
        [ "$got" = "${want:-}" ] && break
        sleep 0.2
    done
    echo "$got"
}

finish() {
    if [ "$fail" -eq 0 ]; then echo "PASS"; exit 0; fi
    exit 1
}

# netem: impair tap0 with `tc qdisc add dev tap0 root netem delay 10ms loss 2%
# reorder 5% duplicate 1%` when the kernel has sch_netem; otherwise put the
# same impairment inside synack's device runner (--impair, both directions)
# through the IMPAIR array, to be passed to serve/connect.
IMPAIR=()
netem() {
    if nsx tc qdisc add dev tap0 root netem delay 10ms loss 2% reorder 5% duplicate 1% 2>/dev/null; then
        echo "netem: tc netem on tap0 (kernel to synack)"
    else
        IMPAIR=(--impair delay=10ms,loss=2%,reorder=5%,dup=1%,seed=$$)
        echo "netem: this kernel has no sch_netem; the same impairment in synack's runner: ${IMPAIR[*]}"
    fi
}

# nobody_ok: can synack run as nobody, in a user namespace of its own? If
# not, say why (a "skip:" line) and return 1.
nobody_ok() {
    if ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
        echo "skip: unprivileged mode (no setpriv or unshare)"
        return 1
    fi
    if ! setpriv --reuid=65534 --regid=65534 --clear-groups unshare -r -n true 2>"$TMP/userns.err"; then
        echo "skip: unprivileged mode: this kernel does not let nobody create user namespaces ($(head -1 "$TMP/userns.err"))"
        return 1
    fi
    mkdir -p "$TMP/dev"
}

# netns_as_nobody ARGS...: `synack netns ARGS...` run as nobody. This
# machine's /dev/net/tun may be root's only (0600): a private mount
# namespace gets a 0666 node of the same device, nothing else changes.
# It execs: run it in the background (`netns_as_nobody ... &`, so that $!
# is synack's own timeout, which passes signals on) or in a subshell.
netns_as_nobody() {
    exec timeout -k 5 300 unshare -m sh -c 'mount -t tmpfs -o mode=755 none "$1/dev" &&
        mknod -m 666 "$1/dev/tun" c 10 200 && mount --bind "$1/dev/tun" /dev/net/tun &&
        shift && exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"' \
        sh "$TMP" "$BIN" netns "$@"
}
