#!/usr/bin/env bash
# The interop test tests/interop/podman.sh (podman with synack as its
# slirp4netns; skipped unless root and podman can run containers here).
exec bash "$(dirname "$0")/../interop/podman.sh"
