#!/usr/bin/env bash
# run.sh — run every test binary under build/tests/ and every tests/checks/*.sh,
# then print one line: "tests: N passed, N failed, N skipped".
# Counts are cmocka's per-test counts; a binary that dies or exits non-zero
# without reporting a failure counts as one failed test. A check script is
# one test: exit 0 passed, 77 skipped (its last line says why), else failed.
set -u
cd "$(dirname "$0")/.." || exit 1
export CMOCKA_MESSAGE_OUTPUT=stdout
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
passed=0 failed=0 skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() { # count WORD: the sum of "[  WORD ] N test(s)" in $log (-1 if none)
    grep -Eo "\[ +$1 +\] [0-9]+ test\(s\)" "$log" | grep -Eo '[0-9]+' |
        awk 'BEGIN { s = -1 } { s = (s < 0 ? 0 : s) + $1 } END { print s }'
}

run_binary() { # run_binary BIN [FAMILY]: one cmocka binary, counted
    local bin=$1 family=${2:-}
    echo "=== $bin${family:+ (IPv$family)}"
    SYNACK_PKT_FAMILY=$family timeout "$TEST_TIMEOUT" "$bin" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    p=$(count PASSED) f=$(count FAILED) s=$(count SKIPPED)
    [ "$p" -ge 0 ] && passed=$((passed + p))
    [ "$s" -ge 0 ] && skipped=$((skipped + s))
    if [ "$f" -ge 0 ]; then
        failed=$((failed + f))
    elif [ "$rc" -ne 0 ]; then
        failed=$((failed + 1))
    elif [ "$p" -lt 0 ]; then
        passed=$((passed + 1)) # not a cmocka binary: exit 0 is a pass
    fi
    if [ "$rc" -eq 124 ]; then
        echo "--- $bin${family:+ (IPv$family)}: timed out after ${TEST_TIMEOUT}s"
    elif [ "$rc" -ne 0 ]; then
        echo "--- $bin${family:+ (IPv$family)}: exit status $rc"
    fi
}

# The packet-level tests (tests/tcp) run once per family: the harness
# speaks IPv6 when SYNACK_PKT_FAMILY=6 (tests/common/pkt.h).
while IFS= read -r bin; do
    run_binary "$bin"
    case $bin in build/tests/tcp/*) run_binary "$bin" 6 ;; esac
done < <(find build/tests -type f -perm -u+x 2>/dev/null | sort)

for chk in $(ls tests/checks/*.sh 2>/dev/null | sort); do
    echo "=== $chk"
    timeout 3600 bash "$chk" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    case $rc in
    0) passed=$((passed + 1)) ;;
    77) skipped=$((skipped + 1)); echo "--- $chk: skipped: $(tail -n 1 "$log")" ;;
    *) failed=$((failed + 1)); echo "--- $chk: failed (exit status $rc)" ;;
    esac
done

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
