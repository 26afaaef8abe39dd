#!/bin/sh
#
# NAME
#	html-render.sh - the HTML report renders in headless Chromium
# DESCRIPTION
#	Fills a record with decisions over five days, writes the HTML
#	summary with htgate-report and takes a screenshot with headless
#	Chromium (Debian package "chromium").  Passes when the PNG exists,
#	is a PNG and is larger than 10 KB (a blank page is about 4 KB).
#	The screenshot is kept as $top_builddir/tests/report/report.png.
#	TAP (tests/tap.sh): one check; skipped when chromium is missing.
# OWNERSHIP
#	tests/report.
#
set -u
: "${top_builddir:?}"
REPORT=${REPORT:-$top_builddir/tools/htgate-report}
FILL=${FILL:-$top_builddir/tests/report/record_fill}
OUT=${OUT:-$top_builddir/tests/report/report.png}
CHROMIUM=
for b in chromium chromium-browser google-chrome; do
	command -v $b >/dev/null 2>&1 && { CHROMIUM=$b; break; }
done
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/tap.sh"
[ -n "$CHROMIUM" ] || tap_skip_all "chromium missing"
[ -x "$REPORT" ] && [ -x "$FILL" ] || tap_bail_out "programs not built"
TMP=$(mktemp -d) || exit 1
trap 'st=$?; rm -rf "$TMP"; tap_end $st; exit $?' EXIT

now=$(date +%s)
i=0
while [ $i -lt 60 ]; do
	t=$((now - (i % 5) * 86400 - 60))
	case $((i % 4)) in
	0) a=reject r="HDR-CC MIME-CHARSET" ;;
	1) a=reject r=ENV-NOTIFY ;;
	2) a=tempfail r=INTERNAL ;;
	*) a=accept r=- ;;
	esac
	[ $((i % 3)) -eq 0 ] && a=accept r=-
	printf '%s\th\tQ%d\teom\t%s\t%s\ts%d@example.com\t-\tAGS@msa-smtp.htpoort.nl\tAGS\tproduction\t<m%d@x>\tE%d\t10\t-\t-\tmilter\n' \
		"$t" $i "$a" "$r" $((i % 3)) $i $i
	i=$((i + 1))
done | "$FILL" "$TMP/r.db" tsv || tap_bail_out "record_fill failed"
"$REPORT" -d "$TMP/r.db" summary --by day --format html -o "$TMP/report.html" ||
	tap_bail_out "htgate-report failed"
rm -f "$OUT"
HOME=$TMP timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
	--user-data-dir="$TMP/profile" --screenshot="$OUT" --window-size=1200,900 \
	"file://$TMP/report.html" >"$TMP/chromium.log" 2>&1
size=$(stat -c %s "$OUT" 2>/dev/null || echo 0)
magic=$(head -c 4 "$OUT" 2>/dev/null | od -An -c | tr -d ' ')
if [ "$size" -gt 10240 ] && [ "$magic" = "211PNG" ]; then
	tap_ok "screenshot $OUT is a PNG above 10 KB ($size bytes)"
else
	tap_not_ok "screenshot $OUT is a PNG above 10 KB" "size=$size magic=$magic"
	tap_diag <"$TMP/chromium.log"
fi
