#!/bin/sh
#
# NAME
#	run.sh - judge every message of the corpus with htgate-check
# DESCRIPTION
#	For each line of expected.tsv (file, envelope options, verdict,
#	sorted action:RULE findings) runs htgate-check -c htgate.conf --json
#	and compares verdict and finding set; one TAP line per file
#	(tests/tap.sh).  Then checks the text output format, the exit codes
#	(0 accept, 1 reject, 2 bad configuration with "FILE:LINE: reason")
#	and that every rule of --list-rules except ENV-RATE and INTERNAL is
#	found by at least one corpus file and passed by at least one, so a
#	new rule without corpus cases fails the suite.
#	Exit 0 all passed, 1 a mismatch; skipped (TAP) without python3.
# OWNERSHIP
#	tests/corpus.
#
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
CHECK=$top_builddir/tools/htgate-check
DIR=$top_srcdir/tests/corpus
CONF=$DIR/htgate.conf
. "$top_srcdir/tests/tap.sh"
command -v python3 >/dev/null 2>&1 || tap_skip_all "python3 missing"
[ -x "$CHECK" ] || tap_bail_out "$CHECK not built"
TMP=$(mktemp -d) || exit 1
trap 'st=$?; rm -rf "$TMP"; tap_end $st; exit $?' EXIT

# ok LABEL - one passed check
ok() {
	tap_ok "$1"
}

# fail LABEL [DETAIL] - one failed check
fail() {
	tap_not_ok "$@"
}

# findings_of - "verdict<TAB>sorted action:RULE set" from JSON on stdin
findings_of() {
	python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except ValueError as e:
    print("badjson\t%s" % e); sys.exit(0)
f = sorted(set("%s:%s" % (x["action"], x["rule"]) for x in d.get("findings", [])))
print("%s\t%s" % (d.get("verdict"), " ".join(f) or "-"))'
}

# 1. every corpus message
while IFS='	' read -r file opts verdict findings; do
	case $file in ''|'#'*) continue ;; esac
	[ -f "$DIR/$file" ] || { fail "$file" "missing"; continue; }
	[ "$opts" = "-" ] && opts=
	eval "set -- $opts"
	"$CHECK" -c "$CONF" --json "$@" "$DIR/$file" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	got=$(findings_of <"$TMP/out")
	want="$verdict	$findings"
	case $verdict in accept) wrc=0 ;; reject) wrc=1 ;; tempfail) wrc=3 ;; *) wrc=x ;; esac
	if [ "$got" = "$want" ] && [ "$rc" = "$wrc" ]; then
		ok "$file"
	else
		fail "$file" "expected [$want] exit $wrc, got [$got] exit $rc $(head -c 300 "$TMP/err")"
	fi
	printf '%s\t%s\n' "$file" "$got" >>"$TMP/results"
done <"$DIR/expected.tsv"

# 2. text output of one case: "FILE: reject HDR-CC 550 5.6.0 <text>"
"$CHECK" -c "$CONF" --from erp@example.com --rcpt AGS@msa-smtp.htpoort.nl \
    "$DIR/cc-header.eml" >"$TMP/text" 2>&1
rc=$?
f=$DIR/cc-header.eml
if [ "$rc" = 1 ] && grep -q "^$f: reject HDR-CC 550 5\.6\.0 Cc and Bcc are not allowed in a message to HTG (.*); remove them\.$" "$TMP/text" \
    && [ "$(tail -n 1 "$TMP/text")" = "$f: verdict reject" ]; then
	ok "text output"
else
	fail "text output" "exit $rc: $(cat "$TMP/text")"
fi

# 3. exit codes: accept 0, bad configuration 2 with FILE:LINE: reason
"$CHECK" -c "$CONF" --from erp@example.com --rcpt AGS@msa-smtp.htpoort.nl "$DIR/edifact-ok.eml" >/dev/null 2>&1
rc=$?
if [ "$rc" = 0 ]; then ok "exit 0 on accept"; else fail "exit 0 on accept" "exit $rc"; fi
printf '[global]\nsize_limit = 10M\nno_such_key = 1\n' >"$TMP/bad.conf"
"$CHECK" -c "$TMP/bad.conf" "$DIR/edifact-ok.eml" >/dev/null 2>"$TMP/err"
rc=$?
if [ "$rc" = 2 ] && grep -q "$TMP/bad.conf:3: " "$TMP/err"; then
	ok "exit 2 on bad config"
else
	fail "exit 2 on bad config" "exit $rc, stderr: $(cat "$TMP/err")"
fi
"$CHECK" -c "$CONF" >/dev/null 2>&1
rc=$?
if [ "$rc" = 2 ]; then ok "exit 2 on usage error"; else fail "exit 2 on usage error" "exit $rc"; fi

# 4. every rule has a corpus case where it is found and one where it passes
"$CHECK" --list-rules >"$TMP/rules" || fail "--list-rules" "failed"
for rule in $(awk 'NR > 1 { print $1 }' "$TMP/rules"); do
	case $rule in ENV-RATE|INTERNAL) continue ;; esac
	if ! cut -f4 "$DIR/expected.tsv" | tr ' ' '\n' | grep -q ":$rule\$"; then
		fail "rule $rule covered" "no corpus file expects it to be found"
	elif ! awk -F '\t' -v r="$rule" '$1 !~ /^#/ && $3 == "accept" && $4 !~ (":" r "( |$)") { ok = 1 } END { exit !ok }' \
	    "$DIR/expected.tsv"; then
		fail "rule $rule covered" "no corpus file where it passes"
	else
		ok "rule $rule covered"
	fi
done
