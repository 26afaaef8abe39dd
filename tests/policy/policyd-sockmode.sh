#!/bin/sh
# policyd-sockmode.sh - htgate-policyd tests, part "sockmode" (see
# policyd_test.py): the unix socket is 0660 under umask 022, 077 and 000,
# and (as root) a client in the socket's group is served, others refused.
# TAP (tests/tap.py); skipped only without python3; uses no TCP port.
: "${srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:?set top_builddir to the build directory}"
export top_builddir
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not found"; exit 0; }
exec python3 "$srcdir/policy/policyd_test.py" sockmode
