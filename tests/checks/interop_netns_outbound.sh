#!/usr/bin/env bash
# The interop test tests/interop/netns_outbound.sh (`synack netns
# --outbound-addr`: the host address outbound traffic leaves from; skipped
# unless root).
exec bash "$(dirname "$0")/../interop/netns_outbound.sh"
