#!/bin/sh
#
# NAME
#	check-rules-doc.sh - doc/rules.md documents exactly the rule table
# DESCRIPTION
#	Fails when a rule ID printed by "htgate-check --list-rules" has no
#	"## ID" section in doc/rules.md, or when doc/rules.md has a section
#	for an ID that does not exist.
# OWNERSHIP
#	tests/corpus.
#
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
CHECK=$top_builddir/tools/htgate-check
DOC=$top_srcdir/doc/rules.md
[ -x "$CHECK" ] || { echo "FAIL: $CHECK not built"; exit 1; }
TMP=$(mktemp -d) || exit 1
trap 'rm -rf "$TMP"' EXIT
"$CHECK" --list-rules >"$TMP/out" || { echo "FAIL: --list-rules"; exit 1; }
awk 'NR > 1 { print $1 }' "$TMP/out" | sort >"$TMP/table"
sed -n 's/^## \([A-Z0-9-]*\)[[:space:]]*$/\1/p' "$DOC" | sort >"$TMP/doc"
[ -s "$TMP/table" ] || { echo "FAIL: empty rule table"; exit 1; }
rc=0
for id in $(comm -23 "$TMP/table" "$TMP/doc"); do
	echo "FAIL: rule $id missing from doc/rules.md"; rc=1
done
for id in $(comm -13 "$TMP/table" "$TMP/doc"); do
	echo "FAIL: doc/rules.md documents unknown rule $id"; rc=1
done
[ "$rc" = 0 ] && echo "ok: $(wc -l <"$TMP/table") rules documented"
exit $rc
