#!/usr/bin/env bash
# Install the Debian packages a make target needs, when they are missing.
# Usage: scripts/deps.sh demo|test
set -u
case "${1:-}" in
  demo) pkgs="gcc make libc6-dev liburing-dev" ;;
  test) pkgs="gcc make libc6-dev liburing-dev pkg-config libcmocka-dev clang libclang-rt-14-dev tshark iproute2 curl python3 iputils-ping wget socat iperf3 nginx wrk rootlesskit uidmap podman runc busybox-static" ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "synack: missing Debian packages:$missing" >&2
  echo "synack: run as root so 'make $1' can install them, or: sudo apt-get install -y$missing" >&2
  exit 1
fi
echo "synack: installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || { echo "synack: apt-get update failed" >&2; exit 1; }
# shellcheck disable=SC2086
apt-get install -y -qq $missing >/dev/null || { echo "synack: apt-get install failed for:$missing" >&2; exit 1; }
