#!/usr/bin/env bash
# structure.sh — the rules of the code's shape that a compiler does not check:
#  - tcb_set_state is the only writer of a connection's state;
#  - the core (src/base … src/stack) makes no OS calls and includes nothing
#    from the layers outside it;
#  - tools include only the public header and the simulator's and devices'
#    own headers;
#  - libsynack.so exports only synack_* symbols;
#  - no function in src/ is longer than 100 lines.
set -u
cd "$(dirname "$0")/../.." || exit 1
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# 1. One writer of a connection's state: tcb_set_state (src/tcp/state.c).
writers=$(grep -rnE -- '(->|\.)state\s*=[^=]' src/tcp src/stack |
          grep -vE 'ev\.|i->state|^src/tcp/state\.c:' || true)
[ -z "$writers" ] || bad "a connection's state written outside tcb_set_state:
$writers"

# 2. The core is pure: no OS headers, nothing from dev/, sim/, tools/.
core="src/base src/wire src/tcp src/udp src/net src/stack"
os=$(grep -rnE '#include <(sys/|unistd|pthread|time\.h|fcntl|poll|netinet|arpa|net/|linux/)' \
     $core --include='*.[ch]' | grep -v 'sys/types.h' || true)
[ -z "$os" ] || bad "OS headers in the core:
$os"
up=$(grep -rnE '#include "(dev|sim|rt|tools)/' $core --include='*.[ch]' || true)
[ -z "$up" ] || bad "the core includes from above:
$up"

# 3. Tools see the public API (and the simulator's and devices' headers).
inner=$(grep -rnE '#include "(base|wire|tcp|udp|net|stack)/' tools --include='*.[ch]' || true)
[ -z "$inner" ] || bad "tools include core internals:
$inner"

# 4. Only synack_* leaves the shared library.
if [ -f build/libsynack.so ]; then
    leaked=$(nm -D --defined-only build/libsynack.so | awk '$3 !~ /^synack_/ {print $3}')
    [ -z "$leaked" ] || bad "libsynack.so exports non-synack symbols: $(echo $leaked | head -c 400)"
else
    bad "build/libsynack.so is missing (make lib)"
fi

# 5. Short functions: a body (from a '{' in column 0 to the next '}' in
#    column 0, the project's format) of at most 100 lines.
long=$(awk 'FNR == 1 { open = 0 }
            /^\{/ { open = FNR; next }
            /^\}/ && open { if (FNR - open - 1 > 100) printf "%s:%d: %d lines\n", FILENAME, open, FNR - open - 1; open = 0 }' \
       $(find src -name '*.c'))
[ -z "$long" ] || bad "functions longer than 100 lines:
$long"

[ "$fail" -eq 0 ] && echo "ok: state writer, core purity, tools' includes, exports, function length"
exit "$fail"
