#!/bin/sh
# policyd-spawn.sh - htgate-policyd tests, part "spawn" (see policyd_test.py).
# TAP (tests/tap.py); skipped only without python3; everything else
# that goes wrong fails.
: "${srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:?set top_builddir to the build directory}"
export top_builddir
command -v python3 >/dev/null 2>&1 || { echo "1..0 # SKIP python3 not found"; exit 0; }
exec python3 "$srcdir/policy/policyd_test.py" spawn
