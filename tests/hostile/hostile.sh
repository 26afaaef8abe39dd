#!/bin/sh
# hostile.sh - hostile input against htgate-check and htgate-policyd
# (tests/hostile/hostile.py: check, then policyd).  TAP (tests/tap.sh):
# both parts continue one numbering, the plan comes at the end.  Skipped
# only without python3; anything else that goes wrong fails.  Owner:
# hardening.
: "${srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:?set top_builddir to the build directory}"
export srcdir top_builddir
. "${top_srcdir:-$srcdir/..}/tests/tap.sh"
command -v python3 >/dev/null 2>&1 || tap_skip_all "python3 not found"
tap_export
rc=0
python3 "$srcdir/hostile/hostile.py" check || rc=1
python3 "$srcdir/hostile/hostile.py" policyd || rc=1
exit $rc
