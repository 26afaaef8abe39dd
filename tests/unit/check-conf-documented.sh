#!/bin/sh
# check-conf-documented - htgate.conf(5) against the key table of
# lib/cfg.c (htgate-check --list-config-keys: "section key<TAB>default<TAB>
# doc", default "-" when there is none): every key the parser knows has a
# doc string in the table and a paragraph (".TP" then ".B key") under its
# own section of the page (".SS [section ...]"); the page documents no key
# the parser does not know in that section; a "Default: ..." line in a
# key's paragraph starts with the table's default ("empty" or "none" for
# an empty one).  TAP (tests/tap.sh): one line per key the parser knows;
# one "not ok" per documented key it does not know.
set -eu
. "$top_srcdir/tests/tap.sh"
page="$top_srcdir/doc/htgate.conf.5"
T=$(mktemp -d "${TMPDIR:-/tmp}/htgate-confdoc.XXXXXX")
trap 'st=$?; rm -rf "$T"; tap_end $st; exit $?' EXIT
"$top_builddir/tools/htgate-check" --list-config-keys >"$T/table"
# The page: "section key<TAB>-" per paragraph, "section key<TAB>default"
# for the first "Default:" line after it.
awk '
	/^\.SS \[/ { sec = $2; gsub(/[][]/, "", sec); next }
	/^\.S[HS] / { sec = ""; next }
	/^\.TP/ { tp = 1; next }
	tp && /^\.B / && sec != "" { key = $2; print sec " " key "\t-"; tp = 0; next }
	/^Default: / && key != "" { d = $0; sub(/^Default: /, "", d)
		print sec " " key "\t" d; key = ""; next }
	{ tp = 0 }' "$page" >"$T/page"
# One verdict per table row: "ok<TAB>key" or "bad<TAB>key<TAB>why".
awk -F'\t' '
	FNR == NR { if ($2 == "-") doc[$1] = 1; else if (!($1 in def)) def[$1] = $2; next }
	{
		why = ""
		if ($3 == "") why = "no doc string in the key table"
		if (!($1 in doc)) why = why (why ? "; " : "") "not under its section in htgate.conf(5)"
		if (($1 in def) && $2 != "-") {
			d = def[$1]
			if ($2 == "")
				ok = (d ~ /^(empty|none)/)
			else
				ok = (substr(d, 1, length($2)) == $2 && \
				      substr(d, length($2) + 1, 1) ~ /^([ .,(]|)$/)
			if (!ok) why = why (why ? "; " : "") "the page says Default: " d ", the table " ($2 == "" ? "empty" : $2)
		}
		print (why ? "bad" : "ok") "\t" $1 "\t" why
	}' "$T/page" "$T/table" >"$T/verdicts"
while IFS='	' read -r verdict key why; do
	if [ "$verdict" = ok ]; then
		tap_ok "key $key documented in htgate.conf(5) and the table"
	else
		tap_not_ok "key $key documented in htgate.conf(5) and the table" "$why"
	fi
done <"$T/verdicts"
cut -f1 "$T/table" >"$T/known"
awk -F'\t' '$2 == "-" { print $1 }' "$T/page" | while read -r sec key; do
	grep -qx "$sec $key" "$T/known" ||
		tap_not_ok "htgate.conf(5) documents unknown key $key in [$sec]"
done
