#!/usr/bin/env bash
# The interop test tests/interop/slirp4netns.sh (synack behind slirp4netns's
# command line, as podman and rootlesskit start it; skipped unless root).
exec bash "$(dirname "$0")/../interop/slirp4netns.sh"
