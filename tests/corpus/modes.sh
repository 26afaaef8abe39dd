#!/bin/sh
#
# NAME
#	modes.sh - every corpus message in every mode htgate judges in
# DESCRIPTION
#	Each message of expected.tsv, with its envelope, through
#	htgate-check in the three modes (smtp, sendmail(1) = defer mode,
#	egress) under three configurations: the corpus htgate.conf, the
#	same with report_only = yes, and the same with every rule (but
#	INTERNAL) set to warn (streams' own rules removed).  These modes keep recipients and findings that
#	the default refuses early, which is where a late HTG recipient once
#	crashed the milter.  Each run must end with a verdict (exit 0, 1 or 3,
#	never a signal or a sanitizer report); sendmail mode must accept
#	exactly what smtp mode accepts; report-only and all-warn must refuse
#	nothing (except a temporary failure).  TAP: one line per mode and
#	configuration, listing the files that broke it.
# OWNERSHIP
#	tests/corpus.
#
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
CHECK=$top_builddir/tools/htgate-check
DIR=$top_srcdir/tests/corpus
. "$top_srcdir/tests/tap.sh"
[ -x "$CHECK" ] || tap_bail_out "$CHECK not built"
TMP=$(mktemp -d) || exit 1
trap 'st=$?; rm -rf "$TMP"; tap_end $st; exit $?' EXIT

# The configurations.
cp "$DIR/htgate.conf" "$TMP/default.conf"
sed 's/^report_only = no$/report_only = yes/' "$DIR/htgate.conf" >"$TMP/report-only.conf"
grep -q '^report_only = yes$' "$TMP/report-only.conf" || tap_bail_out "no report_only line to change"
# (a stream's own "rules" would override [rules]: dropped too)
grep -v -e '^[A-Z][A-Z0-9-]* = ' -e '^rules = ' "$DIR/htgate.conf" >"$TMP/all-warn.conf"
"$CHECK" --list-rules | awk 'NR > 1 && $1 != "INTERNAL" { print $1 " = warn" }' \
    >>"$TMP/all-warn.conf"

# run CONF MODE - every corpus file; "file<TAB>exit<TAB>verdict" lines
run() {
	while IFS='	' read -r file opts verdict findings; do
		case "$file" in ''|'#'*) continue ;; esac
		[ "$opts" = - ] && opts=
		rc=0
		eval "\"\$CHECK\" -c \"\$TMP/$1.conf\" --mode $2 --json $opts \"\$DIR/\$file\"" \
		    >"$TMP/out" 2>"$TMP/err" || rc=$?
		if grep -q -e 'runtime error' -e 'Sanitizer' "$TMP/err"; then
			rc=sanitizer
		fi
		printf '%s\t%s\n' "$file" "$rc"
	done <"$DIR/expected.tsv"
}

for conf in default report-only all-warn; do
	for mode in smtp sendmail egress; do
		run $conf $mode >"$TMP/$conf.$mode"
		bad=$(awk -F'\t' '$2 != 0 && $2 != 1 && $2 != 3 { print $1 "=" $2 }' "$TMP/$conf.$mode" | tr '\n' ' ')
		if [ -n "$bad" ]; then
			tap_not_ok "$conf/$mode: every message ends with a verdict" "$bad"
		else
			tap_ok "$conf/$mode: every message ends with a verdict ($(wc -l <"$TMP/$conf.$mode") files)"
		fi
	done
	bad=$(paste "$TMP/$conf.smtp" "$TMP/$conf.sendmail" |
	    awk -F'\t' '($2 == 0) != ($4 == 0) { print $1 ":" $2 "/" $4 }' | tr '\n' ' ')
	if [ -n "$bad" ]; then
		tap_not_ok "$conf: sendmail mode accepts exactly what smtp mode accepts" "$bad"
	else
		tap_ok "$conf: sendmail mode accepts exactly what smtp mode accepts"
	fi
done
for conf in report-only all-warn; do
	bad=$(cat "$TMP/$conf.smtp" "$TMP/$conf.sendmail" "$TMP/$conf.egress" |
	    awk -F'\t' '$2 == 1 { print $1 }' | sort -u | tr '\n' ' ')
	if [ -n "$bad" ]; then
		tap_not_ok "$conf: nothing refused in any mode" "$bad"
	else
		tap_ok "$conf: nothing refused in any mode"
	fi
done
