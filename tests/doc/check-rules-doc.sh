#!/bin/sh
#
# NAME
#	check-rules-doc.sh - doc/rules.md documents exactly the rule table
# DESCRIPTION
#	One TAP line (tests/tap.sh) per rule ID printed by "htgate-check
#	--list-rules" (it has a "## ID" section in doc/rules.md) and one per
#	section of doc/rules.md that names an ID which does not exist; the
#	rule table must not be empty.
# OWNERSHIP
#	tests/corpus.
#
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
. "$top_srcdir/tests/tap.sh"
CHECK=$top_builddir/tools/htgate-check
DOC=$top_srcdir/doc/rules.md
[ -x "$CHECK" ] || tap_bail_out "$CHECK not built"
TMP=$(mktemp -d) || exit 1
trap 'st=$?; rm -rf "$TMP"; tap_end $st; exit $?' EXIT
"$CHECK" --list-rules >"$TMP/out" || tap_bail_out "htgate-check --list-rules failed"
awk 'NR > 1 { print $1 }' "$TMP/out" | sort >"$TMP/table"
sed -n 's/^## \([A-Z0-9-]*\)[[:space:]]*$/\1/p' "$DOC" | sort >"$TMP/doc"
tap_check "the rule table is not empty ($(wc -l <"$TMP/table") rules)" test -s "$TMP/table"
for id in $(cat "$TMP/table"); do
	tap_check "rule $id documented in doc/rules.md" grep -qx "$id" "$TMP/doc"
done
for id in $(comm -13 "$TMP/table" "$TMP/doc"); do
	tap_not_ok "doc/rules.md documents unknown rule $id"
done
