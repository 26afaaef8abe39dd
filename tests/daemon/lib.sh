# tests/daemon/lib.sh - what the tests of lib/daemon.c share (sourced by
# bash): TAP (tests/tap.sh), the three programs ($MILTER, $POLICYD,
# $FETCH; a missing one bails out), a temp dir $T (mode 0755) removed at
# exit, and the pids in $PIDS killed then.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:?set top_builddir to the build directory}"
. "$top_srcdir/tests/tap.sh"
MILTER=$top_builddir/milter/htgate-milter
POLICYD=$top_builddir/policy/htgate-policyd
FETCH=$top_builddir/tools/htgate-fetch
for p in "$MILTER" "$POLICYD" "$FETCH"; do
	[ -x "$p" ] || tap_bail_out "$p not built"
done
T=$(mktemp -d "${TMPDIR:-/tmp}/htgate-daemon.XXXXXX")
chmod 755 "$T"
PIDS=
trap 'st=$?; for p in $PIDS; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; tap_end $st; exit $?' EXIT
