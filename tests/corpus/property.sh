#!/bin/sh
#
# NAME
#	property.sh - property test of the repairs (property.py)
# DESCRIPTION
#	Random attachments in random mail-client wrappings (Thunderbird,
#	Outlook, Apple Mail, iOS Mail, a single 8bit/binary part): each is
#	repaired by htgate-check --fix, decodes byte for byte as attached,
#	and passes htgate-check again.  PROPERTY_N (default 200) messages,
#	PROPERTY_SEED (default 20261124).  TAP; skipped without python3.
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
python3 "$top_srcdir/tests/corpus/property.py" "${PROPERTY_N:-200}" \
    "${PROPERTY_SEED:-20261124}" || rc=1
exit $rc
