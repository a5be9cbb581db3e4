#!/usr/bin/env python3
"""iperf_check.py JSON MIN_BYTES — check an iperf3 -J report: no error, and
the receiver got at least MIN_BYTES; prints one line with the figures."""
import json
import sys

with open(sys.argv[1]) as f:
    text = f.read()
try:
    r = json.loads(text[text.index("{"):])
except ValueError:
    print("no JSON report")
    sys.exit(1)
if r.get("error"):
    print("iperf3 says:", r["error"])
    sys.exit(1)
end = r["end"]
got = end["sum_received"]["bytes"]
mbit = end["sum_received"]["bits_per_second"] / 1e6
sent = end["sum_sent"]["bytes"]
print("sent %d bytes, received %d (%.0f Mbit/s), %d retransmitted segments"
      % (sent, got, mbit, end["sum_sent"].get("retransmits", 0)))
sys.exit(0 if got >= int(sys.argv[2]) else 1)
