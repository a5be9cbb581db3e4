#!/usr/bin/env bash
# cli_errors.sh — the synack command under bad input. Every subcommand
# refuses a bad command line with exit status 2 and one line on stderr that
# names the option; a failure at run time (here: a write to a full disk,
# /dev/full) is exit status 1 with one line, never a silent 0. None of these
# needs root: the interface commands refuse before they open a device.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=${SYNACK_BIN:-build/san/synack}
[ -x "$bin" ] || bin=build/synack
if [ ! -x "$bin" ]; then
    echo "FAIL: build/san/synack and build/synack are missing (run make test-build)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
bad() { echo "FAIL: $*"; fail=1; }

# expect STATUS WORD ARGS...: `synack ARGS` (stdout thrown away) exits with
# STATUS and says exactly one line on stderr, which contains WORD.
expect() {
    local want=$1 word=$2; shift 2
    timeout 20 "$bin" "$@" >/dev/null 2>"$tmp/err"
    check "$want" "$word" $? "$*"
}
# expect_full STATUS WORD ARGS...: the same with stdout on /dev/full.
expect_full() {
    local want=$1 word=$2; shift 2
    timeout 20 "$bin" "$@" >/dev/full 2>"$tmp/err"
    check "$want" "$word" $? "$* >/dev/full"
}
check() { # check WANT WORD GOT WHAT
    n=$((n + 1))
    local lines
    lines=$(wc -l <"$tmp/err")
    if [ "$3" -ne "$1" ]; then
        bad "synack $4: exit status $3, want $1; stderr: $(head -c 300 "$tmp/err")"
    elif [ "$lines" -ne 1 ]; then
        bad "synack $4: $lines lines on stderr, want 1:
$(head -n 5 "$tmp/err" | sed 's/^/    /')"
    elif ! grep -qF -- "$2" "$tmp/err"; then
        bad "synack $4: stderr does not name '$2': $(cat "$tmp/err")"
    fi
}

# The interface options: a TAP name that is never opened (they fail first).
tap=(--tap synack-none0 --ip 10.77.0.2/24)
con=(connect "${tap[@]}" --to 10.77.0.1:7)
srv=(serve "${tap[@]}" --port 80 --app echo)

# --timeout: only finite seconds from 0.001 to a year
for v in 1e11 inf -inf nan 0 -1 1e-9 abc 5s; do
    expect 2 "--timeout $v" "${con[@]}" --timeout "$v"
done
expect 2 "0.001 to 31536000" "${con[@]}" --timeout inf

# --seed: a whole number, as demo and lab both read it
for cmd in demo "lab why-three-way"; do
    for v in abc -3 " 3" 1.5 ""; do
        # shellcheck disable=SC2086
        expect 2 "--seed $v" $cmd --seed "$v"
    done
done

# -o: the same knob error is bad usage everywhere
for cmd in demo "${srv[*]}" "${con[*]}"; do
    # shellcheck disable=SC2086
    expect 2 "-o nosuch=1" $cmd -o nosuch=1
    # shellcheck disable=SC2086
    expect 2 "-o tcp_msl=abc" $cmd -o tcp_msl=abc
    # shellcheck disable=SC2086
    expect 2 "-o tcp_msl" $cmd -o tcp_msl
done

# addresses: --ip, --to and --gw must be unicast hosts, --to and --gw not synack itself
for v in 255.255.255.255 0.0.0.0 224.0.0.1 239.1.2.3 240.0.0.1 127.0.0.1 10.77.0.255 10.77.0.0 10.77.0.2; do
    expect 2 "--to $v:7" connect "${tap[@]}" --to "$v:7"
done
for v in 255.255.255.255 0.0.0.0/24 224.0.0.1/24 127.0.0.2/8 10.77.0.255/24 10.77.0.0/24; do
    expect 2 "--ip $v" serve --tap synack-none0 --ip "$v" --port 80 --app echo
done
expect 2 "--gw 10.78.0.1" "${con[@]}" --gw 10.78.0.1
expect 2 "--gw 10.77.0.2" "${con[@]}" --gw 10.77.0.2
expect 2 "--gw 10.77.0.255" "${con[@]}" --gw 10.77.0.255
# an IPv6 --gw: unicast, with an IPv6 --ip, on its link, not synack itself
expect 2 "--gw ff02::2" "${con[@]}" --gw ff02::2
expect 2 "--gw fe80::1" "${con[@]}" --gw fe80::1
expect 2 "--gw 2001:db8::1" "${con[@]}" --ip fd77::2/64 --gw 2001:db8::1
expect 2 "--gw fd77::2" "${con[@]}" --ip fd77::2/64 --gw fd77::2
expect 2 "--to 10.77.0.1" connect "${tap[@]}" --to 10.77.0.1
expect 2 "--to 10.77.0.1:0" connect "${tap[@]}" --to 10.77.0.1:0
# --ip that the kernel already has (here: any global address of this host)
kip=$(ip -4 -o addr show scope global 2>/dev/null | awk '{ print $4; exit }')
if [ -n "$kip" ]; then
    expect 2 "the kernel has this address" serve --tap synack-none0 --ip "$kip" --port 80 --app echo
else
    echo "note: no global IPv4 address here: the kernel's-address case not run"
fi

# other values and options
expect 2 "--impair loss=nan" "${con[@]}" --impair loss=nan
expect 2 "--impair delay=infms" "${con[@]}" --impair delay=infms
expect 2 "--impair limit=-1" "${con[@]}" --impair limit=-1
expect 2 "--max-conns 99999999999999999999" "${srv[@]}" --max-conns 99999999999999999999
expect 2 "--count 0" "${con[@]}" --count 0
for v in 0 65 -1 two; do
    expect 2 "--threads $v" "${srv[@]}" --threads "$v"
done
expect 2 "--threads takes --tap or --tun" "${srv[@]}" --threads 2 --pcap /tmp/x.pcap
expect 2 "--port" serve "${tap[@]}" --app echo --port
expect 2 "--bogus" serve --bogus x
expect 2 "--bogus" connect --bogus x
expect 2 "--bogus" demo --bogus
expect 2 "--bogus" lab why-three-way --bogus
expect 2 "--delay nan" demo --delay nan
expect 2 "--loss inf" demo --loss inf
expect 2 "--width 1e3" demo --width 1e3
expect 2 "nosuch" demo nosuch
expect 2 "nosuch" lab nosuch
expect 2 "nosuch" nosuch
expect 2 "lab --list" lab
# a NAT of clients sharing one address has no IPv6 form: refused, not run
expect 2 "tw-recycle-nat cannot run over IPv6" lab tw-recycle-nat --ipv6
expect 2 "tw-recycle-nat cannot run over IPv6" lab tw-recycle-nat --json --ipv6

# lab's series outputs: checked (and opened) before the run
expect 2 "--csv $tmp/x.csv: why-three-way has no series" lab why-three-way --csv "$tmp/x.csv"
expect 2 "--plot $tmp/x.svg: tw-reuse has no series" lab tw-reuse --plot "$tmp/x.svg"
expect 2 "--csv -: stdout already carries --json" lab why-four-way --json --csv -
expect 2 "--plot -: stdout already carries --csv" lab why-four-way --csv - --plot -
# netns refuses before it makes a namespace
expect 2 "give one of -- COMMAND, --pid PID, --netns NAME" netns
expect 2 "give one of -- COMMAND, --pid PID, --netns NAME" netns --pid 1 -- true
expect 2 "--: needs a COMMAND" netns --
expect 2 "--mtu 10" netns --mtu 10 -- true
expect 2 "--cidr 10.0.2.0/28" netns --cidr 10.0.2.0/28 -- true
expect 2 "-p 80" netns -p 80 -- true
expect 2 "--publish 1:2:3:4" netns --publish 1:2:3:4 -- true
expect 2 "--netns ..: not a name or a path" netns --netns ..
expect 2 "--ready-fd 99: not an open file descriptor" netns --ready-fd 99 --pid 1
expect 2 "--userns goes with --pid or --netns" netns --userns /proc/1/ns/user -- true
expect 2 "--threads takes no --ladder, --pcap or --api-socket" netns --threads 2 --api-socket /tmp/x --pid 1
expect 2 "--outbound-addr6 nosuch0: not an IPv6 address or an interface with one" netns --outbound-addr6 nosuch0 -- true
expect 2 "--outbound-addr 300.1.1.1: not an IPv4 address" netns --outbound-addr 300.1.1.1 -- true
expect 2 "--loopback-cc nosuch: not available" netns --loopback-cc nosuch -- true
expect 2 "--loopback-cc 0123456789abcdef: not a congestion control's name" netns --loopback-cc 0123456789abcdef -- true
expect 2 "--ns-cc nosuch: not available" netns --ns-cc nosuch -- true
expect 2 "--ns-cc : not a congestion control's name" netns --ns-cc "" -- true
# slirp4netns's command line: its exit status for bad usage, 1
expect 1 "needs PID|PATH" slirp4netns
expect 1 "--enable-sandbox: not supported" slirp4netns --enable-sandbox 1
expect 1 "--netns-type x: expected pid or path" slirp4netns --netns-type=x 1
expect 1 "--bogus: unknown option" slirp4netns --bogus 1
expect 1 "--macaddress zz: not a unicast MAC address" slirp4netns --macaddress=zz 1
expect 1 "--macaddress needs the TAP configured" slirp4netns --macaddress=02:00:5e:10:00:01 1
expect 1 "one PID|PATH and one TAPNAME at most" slirp4netns 1 tap0 extra
expect 2 "--dns-upstream x" netns --dns-upstream x -- true
expect 2 "--bogus" netns --bogus -- true
start=$(date +%s)
expect 1 "--csv $tmp: Is a directory" lab port-exhaustion --csv "$tmp"
[ $(( $(date +%s) - start )) -le 2 ] || bad "lab port-exhaustion --csv DIR ran before failing"
expect 1 "--plot $tmp/no/such.svg" lab port-exhaustion --plot "$tmp/no/such.svg"
[ -e "$tmp/x.csv" ] && bad "a refused --csv created its file"
[ -e ./- ] && bad "a file named '-' exists before the --csv - run"
"$bin" lab why-four-way --csv - >"$tmp/out.csv" 2>"$tmp/err" || bad "lab why-four-way --csv -: exit status $?"
head -n 1 "$tmp/out.csv" | grep -q '^series,' || bad "lab --csv -: stdout does not start with the CSV header"
[ "$(grep -vc ',' "$tmp/out.csv")" -eq 0 ] || bad "lab --csv -: text mixed into the CSV on stdout"
[ -e ./- ] && { bad "lab --csv - created a file named '-'"; rm -f ./-; }

# write errors: exit 1 and one line, whatever the output
expect_full 1 "standard output" demo
expect_full 1 "--json -: write error" demo --json -
expect_full 1 "standard output" demo --list
expect_full 1 "standard output" lab why-three-way
expect_full 1 "standard output" lab why-three-way --json
expect_full 1 "standard output" lab --list
expect_full 1 "standard output" --version
expect_full 1 "standard output" --help
expect_full 1 "standard output" netns --help
expect_full 1 "--csv -" lab why-four-way --csv -
expect 1 "--pcap /dev/full" demo --quiet --pcap /dev/full
expect 1 "--json /dev/full" demo --quiet --json /dev/full
expect 1 "--pcap $tmp/no/such.pcap" demo --quiet --pcap "$tmp/no/such.pcap"
expect 1 "--csv /dev/full" lab why-four-way --csv /dev/full
expect 1 "--plot /dev/full" lab why-four-way --plot /dev/full

# --version and --list: one version everywhere, lab's names like demo's
want="synack $(sed -n 's/^#define SYNACK_VERSION "\(.*\)"/\1/p' tools/synack/version.h)"
for cmd in "" demo lab serve connect; do
    # shellcheck disable=SC2086
    got=$("$bin" $cmd --version 2>&1)
    [ "$got" = "$want" ] || bad "synack $cmd --version says '$got', want '$want'"
done
names=$("$bin" lab --list) || bad "synack lab --list: exit status $?"
for name in $names; do
    "$bin" lab --help | grep -q "^  $name " || bad "lab --list names '$name', which lab --help does not"
done
[ "$(echo "$names" | wc -l)" -ge 6 ] || bad "lab --list: $(echo "$names" | wc -l) names"

[ "$fail" -eq 0 ] && echo "ok: $n bad command lines and failed writes: right exit status, one line naming the option"
exit "$fail"
