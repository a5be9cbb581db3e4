#!/usr/bin/env bash
# `make install PREFIX=...` gives a library, header and pkg-config file that
# an outside program can build and link against (static and shared).
set -eu
cd "$(dirname "$0")/../.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v pkg-config >/dev/null || { echo "skip: pkg-config not installed"; exit 77; }
make -s install PREFIX="$tmp/prefix" >/dev/null
cat > "$tmp/t.c" <<'C'
#include <synack.h>
#include <string.h>
int main(void)
{
    synack_config c;
    synack_config_init(&c);
    return strcmp(synack_state_name(SYNACK_TIME_WAIT), "TIME-WAIT") != 0 || c.net.tcp_msl != 30000;
}
C
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -o "$tmp/shared" "$tmp/t.c" $(pkg-config --cflags --libs synack) -Wl,-rpath,"$tmp/prefix/lib"
"$tmp/shared"
# shellcheck disable=SC2046
cc -o "$tmp/static" "$tmp/t.c" $(pkg-config --cflags synack) "$tmp/prefix/lib/libsynack.a"
"$tmp/static"
test -x "$tmp/prefix/bin/synack"
# synack run looks for the preload library in ../lib/synack/ beside its binary.
test -f "$tmp/prefix/lib/synack/libsynack-preload.so"
nm -D "$tmp/prefix/lib/synack/libsynack-preload.so" | grep -qw connect
echo "install: library, header, pkg-config, tool and preload library installed under PREFIX and usable"
