# shellcheck shell=sh
# tests/corpus/pylib.sh - run a Python part of the corpus suite as a TAP
# test (sourced by property.sh and repaired.sh; POSIX sh)
#
# SYNOPSIS
#	. "$top_srcdir/tests/corpus/pylib.sh"
#	corpus_python SCRIPT [ARG...]
# DESCRIPTION
#	Runs tests/corpus/SCRIPT with python3, which continues the TAP
#	numbering (tests/tap.sh tap_export, tests/tap.py), and exits 1 if it
#	failed, 0 otherwise.  Skipped without python3; bails out when
#	htgate-check is not built.  Environment: top_srcdir, top_builddir.
# OWNERSHIP
#	tests/corpus.

set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/tap.sh"

# corpus_python SCRIPT [ARG...] - see DESCRIPTION
corpus_python() {
	command -v python3 >/dev/null 2>&1 || tap_skip_all "python3 missing"
	[ -x "$top_builddir/tools/htgate-check" ] || tap_bail_out "htgate-check not built"
	tap_export
	script=$1
	shift
	rc=0
	python3 "$top_srcdir/tests/corpus/$script" "$@" || rc=1
	exit $rc
}
