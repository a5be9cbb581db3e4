#!/usr/bin/env bash
# mutate.sh — mutation testing of the core: would any test notice if this
# line were wrong? For each one-line mutation in scripts/mutations.txt it
# changes that line in a scratch copy of the tree (never in this one),
# rebuilds the sanitizer test binaries there, runs the cmocka tests (tests/
# tcp, udp, then unit, then sim; not interop, not fuzz, not the check scripts)
# until one fails, and reports the mutation as caught by that test or as
# SURVIVED. A survivor is a line no test depends on: a missing test, or a
# harmless mutation (then drop it from the list).
#
# Usage: scripts/mutate.sh [--list]        (or: make mutate)
#   MUTATE_ONLY=text    only mutations whose line or name contains text
#                       (e.g. MUTATE_ONLY=timer.c, MUTATE_ONLY=SWS)
#   MUTATE_TIMEOUT=s    per test binary (default 120); a timeout counts as caught
#   MUTATE_JOBS=n       make -j for the builds (default 1)
#   MUTATE_KEEP=1       keep the scratch tree and its logs
#
# Time: about a minute for the scratch copy's first build and the baseline
# run, then per mutation about 7 s of rebuild plus the tests up to the first
# failure: a caught one takes 7-10 s, a survivor the whole suite (~35 s, of
# which test_lab is 20). The full list (73) took 15 minutes on two cores.
#
# Exit status: 0 when every mutation applied and built (whatever survived);
# 1 when a mutation is stale (its pattern not found exactly once) or does not
# compile, or the unmutated tree fails its own tests.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
list=$root/scripts/mutations.txt
only=${MUTATE_ONLY:-}
per_bin=${MUTATE_TIMEOUT:-120}
jobs=${MUTATE_JOBS:-1}
export CMOCKA_MESSAGE_OUTPUT=stdout

# Read the list into parallel arrays: file, pattern, replacement, name.
files=() pats=() reps=() names=()
name=""
while IFS= read -r line || [ -n "$line" ]; do
    case $line in
    "") name="" ;;
    "# ---"*) ;; # a section rule
    "#"*) name="${name:+$name }${line#\# }" ;; # the comment block above names it
    *" | "*" ==> "* | *" | "*" ==>")
        f=${line%% | *}
        rest=${line#* | }
        pat=${rest%% ==>*}
        rep=${rest#* ==>}
        rep=${rep# }
        if [ -n "$only" ] && [[ "$line $name" != *"$only"* ]]; then
            name=""
            continue
        fi
        files+=("$f") pats+=("$pat") reps+=("$rep") names+=("${name:-$pat}")
        name=""
        ;;
    *) echo "mutate: $list: cannot read line: $line" >&2; exit 1 ;;
    esac
done < "$list"
total=${#files[@]}
if [ "$total" -eq 0 ]; then
    echo "mutate: no mutation matches MUTATE_ONLY='$only'" >&2
    exit 1
fi

if [ "${1:-}" = "--list" ]; then
    for ((i = 0; i < total; i++)); do
        printf '%2d  %-22s %s\n' $((i + 1)) "${files[i]}" "${names[i]}"
    done
    exit 0
fi

scratch=$(mktemp -d "${TMPDIR:-/tmp}/synack-mutate.XXXXXX")
if [ "${MUTATE_KEEP:-0}" = 1 ]; then
    trap 'echo "mutate: scratch tree kept in $scratch"' EXIT
else
    trap 'rm -rf "$scratch"' EXIT
fi
mkdir -p "$scratch/tree" "$scratch/orig" "$scratch/log"
tree=$scratch/tree
# The tree as it is now, uncommitted edits included, without build/ or .git.
tar -C "$root" --exclude=./build --exclude=./.git -cf - . | tar -C "$tree" -xf -

# The test binaries, in the order they run: the packet-level tests first
# (fast and most to the point), the simulator ones (test_lab is ~20 s) last.
bins=()
for dir in tcp udp unit sim; do
    for src in "$tree"/tests/$dir/test_*.c; do
        [ -e "$src" ] || continue
        b=${src#"$tree"/tests/}
        bins+=("build/tests/${b%.c}")
    done
done

build() { make -C "$tree" -j"$jobs" --no-print-directory "${bins[@]}" > "$1" 2>&1; }

# Runs the binaries until one fails; prints nothing and returns 0 if all
# pass, else prints "binary: first failed test" and returns 1.
run_tests() {
    local b rc log=$scratch/log/run
    for b in "${bins[@]}"; do
        (cd "$tree" && timeout "$per_bin" "./$b") > "$log" 2>&1
        rc=$?
        if [ "$rc" -ne 0 ]; then
            local what
            what=$(grep -m1 -Eo '\[  (FAILED|ERROR)  *\] [A-Za-z0-9_]+' "$log" | awk '{print $NF}')
            [ "$rc" -eq 124 ] && what="timed out after ${per_bin}s"
            echo "$(basename "$b"): ${what:-exit status $rc}"
            return 1
        fi
    done
    return 0
}

# Replace the one occurrence of $PAT in file $1 by $REP (literally).
# Exit 0 done, 1 not found, 2 found more than once.
apply() {
    PAT=$2 REP=$3 perl -e '
        my ($f) = @ARGV;
        local $/;
        open(my $in, "<", $f) or exit 1;
        my $s = <$in>;
        close $in;
        my $n = () = $s =~ /\Q$ENV{PAT}\E/g;
        exit($n == 0 ? 1 : 2) if $n != 1;
        substr($s, index($s, $ENV{PAT}), length $ENV{PAT}) = $ENV{REP};
        open(my $out, ">", $f) or exit 1;
        print $out $s;
        close $out;' "$1"
}

start=$(date +%s)
echo "mutate: building the unmutated tree in $tree"
if ! build "$scratch/log/baseline-build"; then
    tail -n 20 "$scratch/log/baseline-build"
    echo "mutate: the unmutated tree does not build" >&2
    exit 1
fi
if failed=$(run_tests); then
    echo "mutate: baseline green ($(( $(date +%s) - start )) s); $total mutations"
else
    echo "mutate: the unmutated tree fails its tests ($failed): fix that first" >&2
    exit 1
fi

caught=0 survivors=() problems=()
for ((i = 0; i < total; i++)); do
    f=${files[i]} label="${files[i]}: ${names[i]}"
    t0=$(date +%s)
    cp -p "$tree/$f" "$scratch/orig/file"
    apply "$tree/$f" "${pats[i]}" "${reps[i]}"
    rc=$?
    if [ "$rc" -ne 0 ]; then
        [ "$rc" -eq 1 ] && why="pattern not found" || why="pattern found more than once"
        printf '[%2d/%d] STALE     %s (%s)\n' $((i + 1)) "$total" "$label" "$why"
        problems+=("$label: $why")
        cp -p "$scratch/orig/file" "$tree/$f"
        continue
    fi
    if ! build "$scratch/log/build-$((i + 1))"; then
        printf '[%2d/%d] NO BUILD  %s (log: %s)\n' $((i + 1)) "$total" "$label" \
            "$scratch/log/build-$((i + 1))"
        problems+=("$label: does not compile")
    elif failed=$(run_tests); then
        printf '[%2d/%d] SURVIVED  %s (%d s)\n' $((i + 1)) "$total" "$label" $(( $(date +%s) - t0 ))
        survivors+=("$label")
    else
        printf '[%2d/%d] caught    %s — by %s (%d s)\n' $((i + 1)) "$total" "$label" "$failed" \
            $(( $(date +%s) - t0 ))
        caught=$((caught + 1))
    fi
    # Restore with a fresh mtime so the next build recompiles the file.
    cp "$scratch/orig/file" "$tree/$f"
done

ran=$((total - ${#problems[@]}))
echo
if [ "${#survivors[@]}" -gt 0 ]; then
    echo "Survivors (no test noticed):"
    printf '  %s\n' "${survivors[@]}"
fi
if [ "${#problems[@]}" -gt 0 ]; then
    echo "Not run (fix scripts/mutations.txt):"
    printf '  %s\n' "${problems[@]}"
fi
echo "mutate: $caught of $ran caught, ${#survivors[@]} survived ($(( $(date +%s) - start )) s)"
[ "${#problems[@]}" -eq 0 ]
