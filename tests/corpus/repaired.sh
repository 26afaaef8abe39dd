#!/bin/sh
#
# NAME
#	repaired.sh - repaired corpus messages deliver the file byte for byte
# DESCRIPTION
#	Runs repaired.py (see there): each corpus message expected to be
#	repaired is written with htgate-check --fix -o, its decoded file
#	compared with the original attachment as Python's email package
#	reads it, and the result judged again.  TAP; skipped without python3.
# OWNERSHIP
#	tests/corpus.
#
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/tap.sh"
command -v python3 >/dev/null 2>&1 || tap_skip_all "python3 missing"
[ -x "$top_builddir/tools/htgate-check" ] || tap_bail_out "htgate-check not built"
tap_export
rc=0
python3 "$top_srcdir/tests/corpus/repaired.py" || rc=1
exit $rc
