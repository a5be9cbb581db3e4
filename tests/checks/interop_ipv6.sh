#!/usr/bin/env bash
# The interop test tests/interop/ipv6.sh (TCP over IPv6 with the kernel:
# curl, 20 MB echo, the four-way close with ss, synack as the client, and
# path MTU through a 1280-byte hop; in namespaces of its own; skipped
# unless root).
exec bash "$(dirname "$0")/../interop/ipv6.sh"
