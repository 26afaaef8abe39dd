#!/bin/bash
# check-tools.sh - command-line paths of htgate-check and htgate-report
# that production takes and the other suites do not: --dump-config (the
# key table's cfg_dump), --mode egress:ENV and a bad --mode, standard
# input, --sasl-user, JSON escapes, --fix -o to a place that cannot be
# written, too many --rcpt, an unknown option; a rule set to ignore
# (HDR-CC = ignore: a Cc passes); HDR-TO with a To: that is not an HTG
# address; and a decision record whose schema is newer than this
# htgate-report knows (refused, not read).  TAP (tests/tap.sh).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:?set top_builddir to the build directory}"
. "$top_srcdir/tests/tap.sh"
CHECK=$top_builddir/tools/htgate-check
REPORT=$top_builddir/tools/htgate-report
[ -x "$CHECK" ] && [ -x "$REPORT" ] || tap_bail_out "htgate-check or htgate-report not built"
T=$(mktemp -d "${TMPDIR:-/tmp}/htgate-tools.XXXXXX")
trap 'st=$?; rm -rf "$T"; tap_end $st; exit $?' EXIT
CONF=$top_srcdir/conf/htgate.conf
FROM=erp@example.com RCPT=AGS@msa-smtp.htpoort.nl

# msg FILE TO [EXTRA-HEADER] - a conforming EDIFACT declaration
msg()
{
	printf 'From: ERP <erp@example.com>\nTo: %s\n%sSubject: AGS\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@erp.example.com>\nMIME-Version: 1.0\nContent-Type: application/edifact\nContent-Transfer-Encoding: 7bit\nContent-Disposition: attachment; filename="order.edi"\n\nUNA:+.? '"'"'\nUNB+UNOC:3+SENDER+HTG+260101:1200+1'"'"'\n' \
		"$2" "${3:+$3
}" "$(basename "$1" .eml)" >"$1"
}

# verdict WANT_RC LABEL ARGS... - htgate-check's exit status
verdict()
{
	local want=$1 label=$2 rc=0
	shift 2
	"$CHECK" "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" = "$want" ]; then
		tap_ok "$label"
	else
		tap_not_ok "$label" "exit $rc, wanted $want" "$(cat "$T/out" "$T/err")"
	fi
}

msg "$T/ok.eml" AGS@htpoort.nl
msg "$T/cc.eml" AGS@htpoort.nl "Cc: boss@example.com"
msg "$T/to.eml" boss@example.org

"$CHECK" -c "$CONF" --dump-config >"$T/dump" 2>&1
tap_check "--dump-config: the effective configuration, every section" \
    sh -c 'grep -q "^# effective configuration of " "$1" && grep -q "^\[global\]$" "$1" &&
	grep -q "^\[environment production\]$" "$1" && grep -q "^\[stream SINGLEWINDOW\]$" "$1" &&
	grep -q "^profile = single-window$" "$1" && grep -q "^\[record\]$" "$1" &&
	grep -q "^HDR-CC = reject$" "$1"' - "$T/dump"
verdict 0 "a conforming message: accepted" -c "$CONF" --from "$FROM" --rcpt "$RCPT" "$T/ok.eml" </dev/null
verdict 0 "the same on standard input" -c "$CONF" --from "$FROM" --rcpt "$RCPT" - <"$T/ok.eml"
"$CHECK" -c "$CONF" --from "$FROM" --rcpt "$RCPT" - <"$T/ok.eml" >"$T/stdin.out" 2>&1
tap_check "standard input: judged" grep -q "verdict accept" "$T/stdin.out"
verdict 0 "--mode egress:production, --sasl-user" -c "$CONF" --from "$FROM" \
    --rcpt "$RCPT" --sasl-user erp --mode egress:production "$T/ok.eml"
verdict 2 "--mode egress:mars: usage error" -c "$CONF" --from "$FROM" --rcpt "$RCPT" --mode egress:mars "$T/ok.eml"
verdict 2 "--mode sideways: usage error" -c "$CONF" --from "$FROM" --rcpt "$RCPT" --mode sideways "$T/ok.eml"
verdict 2 "an unknown option: usage error" --no-such-option "$T/ok.eml"
args=()
for i in $(seq 1 200); do args+=(--rcpt "r$i@example.org"); done
verdict 2 "too many --rcpt: usage error" -c "$CONF" "${args[@]}" "$T/ok.eml"
verdict 1 "a Cc: refused (HDR-CC = reject)" -c "$CONF" --from "$FROM" --rcpt "$RCPT" "$T/cc.eml"
# the shipped file with HDR-CC = ignore in its [rules] (or a new one)
if grep -q '^\[rules\]' "$CONF"; then
	sed -e '/^HDR-CC *=/d' -e '/^\[rules\]/a HDR-CC = ignore' "$CONF" >"$T/ignore.conf"
else
	{ cat "$CONF"; printf '[rules]\nHDR-CC = ignore\n'; } >"$T/ignore.conf"
fi
verdict 0 "HDR-CC = ignore: a Cc: is not judged" -c "$T/ignore.conf" --from "$FROM" --rcpt "$RCPT" "$T/cc.eml"
tap_check "HDR-CC = ignore: no HDR-CC finding" sh -c '! grep -q HDR-CC "$1"' - "$T/out"
verdict 1 "a To: that is no HTG address: refused" -c "$CONF" --from "$FROM" --rcpt "$RCPT" "$T/to.eml"
tap_check "HDR-TO names the address to use" \
    grep -q "To: boss@example.org is not an HTG address; use AGS@htpoort.nl" "$T/out"
printf 'From: erp@example.com\nTo: AGS@htpoort.nl\nSubject: \001bell\nMessage-ID: <x@y>\n\nx\n' >"$T/ctl.eml"
"$CHECK" -c "$CONF" --json --from "$FROM" --rcpt "$RCPT" "$T/ctl.eml" >"$T/json" 2>&1
tap_check "--json escapes control characters" \
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$T/json"
verdict 2 "--fix -o to a directory that does not exist" -c "$CONF" --from "$FROM" \
    --rcpt "$RCPT" --fix -o "$T/no/such/dir/out.eml" "$T/ok.eml"

# A record whose schema is newer than this htgate-report: refused.
"$REPORT" -d "$T/r.db" init >/dev/null 2>&1
sqlite3 "$T/r.db" "INSERT INTO schema_version VALUES (999, 0, 'from the future')"
rc=0; "$REPORT" -d "$T/r.db" summary >"$T/r.out" 2>&1 || rc=$?
tap_check "a record schema newer than known: refused, not read" \
    sh -c '[ "$1" != 0 ] && grep -q "schema version 999 is newer than" "$2"' - "$rc" "$T/r.out"
