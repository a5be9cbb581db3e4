#!/usr/bin/env bash
# demo_pcap.sh — `synack demo --pcap` writes a capture tshark reads without
# complaint: every IPv4 and TCP checksum verifies, and the capture shows the
# whole conversation: SYN, SYN/ACK, ACK, data and FIN from each side. The
# same over IPv6 (demo --ipv6): every frame is IPv6 between fd00::1 and
# fd00::2, and every TCP checksum (over the IPv6 pseudo-header) verifies.
set -u
cd "$(dirname "$0")/../.." || exit 1
bin=build/san/synack
if ! command -v tshark >/dev/null 2>&1; then
    echo "tshark is not installed (apt-get install tshark)"
    exit 77
fi
if [ ! -x "$bin" ]; then
    echo "FAIL: $bin is missing (run make test-build)"
    exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

for run in lifecycle half-close lossy lifecycle6 half-close6 lossy6 path-mtu6; do
    # IPv4's header checksum status must be 1 (good); IPv6 has none (RFC
    # 8200), its column holds the version, 6
    scenario=${run%6} family=4 flag= src=ip.src ipsum=ip.checksum.status good=1 c=10.0.0.1 s=10.0.0.2
    if [ "$scenario" != "$run" ]; then
        family=6 flag=--ipv6 src=ipv6.src ipsum=ipv6.version good=6 c=fd00::1 s=fd00::2
    fi
    scenario=$scenario${flag:+ (IPv6)}
    pcap=$tmp/$run.pcap
    if ! "$bin" demo "${run%6}" $flag --quiet --pcap "$pcap"; then
        bad "$scenario: synack demo exited with status $?"
        continue
    fi
    if [ "$family" = 6 ]; then
        all=$(tshark -r "$pcap" 2>/dev/null | wc -l)
        v6=$(tshark -r "$pcap" -Y 'ipv6 && !ip && !arp && (ipv6.src == fd00::1 || ipv6.src == fd00::2)' 2>/dev/null | wc -l)
        [ "$all" -gt 0 ] && [ "$v6" -eq "$all" ] || bad "$scenario: $v6 of $all frames IPv6 between the hosts"
    fi
    # one line per frame: src ip, checksum states, SYN ACK FIN RST bits, payload length
    if ! tshark -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -T fields -E separator=' ' -e $src -e $ipsum -e tcp.checksum.status \
        -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.fin -e tcp.flags.reset -e tcp.len \
        >"$tmp/fields" 2>"$tmp/err"; then
        bad "$scenario: tshark could not read the capture: $(cat "$tmp/err")"
        continue
    fi
    frames=$(wc -l <"$tmp/fields")
    [ "$frames" -gt 0 ] || { bad "$scenario: empty capture"; continue; }
    # checksum status 1 = good (0 = bad, 2 = unverified)
    badsum=$(awk -v good=$good '$2 != good || $3 != 1' "$tmp/fields" | wc -l)
    [ "$badsum" -eq 0 ] || bad "$scenario: $badsum of $frames frames with a bad or unchecked checksum"
    expert=$(tshark -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
        -Y 'tcp.checksum_bad.expert || ip.checksum_bad.expert || tcp.checksum.status == 0 || ip.checksum.status == 0' \
        2>/dev/null | wc -l)
    [ "$expert" -eq 0 ] || bad "$scenario: tshark reports $expert frames with bad checksums"

    # has SRC SYN ACK FIN MINLEN: a frame from SRC with those flag bits (RST
    # clear) carrying at least MINLEN payload bytes; "-" matches any bit
    has() {
        awk -v src="$1" -v syn="$2" -v ack="$3" -v fin="$4" -v minlen="$5" '
            $1 == src && $7 == 0 && (syn == "-" || $4 == syn) &&
            (ack == "-" || $5 == ack) && (fin == "-" || $6 == fin) &&
            $8 + 0 >= minlen { found = 1 }
            END { exit !found }' "$tmp/fields"
    }
    has $c 1 0 0 0 || bad "$scenario: no SYN from the client"
    has $s 1 1 0 0 || bad "$scenario: no SYN/ACK from the server"
    has $c 0 1 0 0 || bad "$scenario: no ACK from the client"
    has $c 0 1 - 1 || bad "$scenario: no data from the client"
    [ "${run%6}" = path-mtu ] || has $s 0 1 - 1 || bad "$scenario: no data from the server"
    has $c 0 - 1 0 || bad "$scenario: no FIN from the client"
    has $s 0 - 1 0 || bad "$scenario: no FIN from the server"
    [ "$fail" -eq 0 ] && echo "ok: $scenario: $frames frames, checksums good, SYN, SYN/ACK, ACK, data, FIN both ways"
done
exit $fail
