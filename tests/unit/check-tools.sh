#!/bin/bash
# check-tools.sh - command-line paths of htgate-check, htgate-report and
# htgate-config that production takes and the other suites do not:
# --dump-config (the key table's cfg_dump), --mode egress:ENV and a bad
# --mode, standard input, --sasl-user, JSON escapes, --fix -o to a place
# that cannot be written, too many --rcpt, an unknown option; a rule set
# to ignore (HDR-CC = ignore: a Cc passes); HDR-TO with a To: that is
# not an HTG address; a decision record whose schema is newer than this
# htgate-report knows (refused, not read); htgate-config's usage errors,
# dump, and the size limits check prints.  TAP (tests/tap.sh).
set -u
. "$top_srcdir/tests/tap.sh"	# make check sets top_srcdir, top_builddir
T=$(mktemp -d "${TMPDIR:-/tmp}/htgate-tools.XXXXXX")
trap 'st=$?; rm -rf "$T"; tap_end $st; exit $?' EXIT
CHECK=$top_builddir/tools/htgate-check
REPORT=$top_builddir/tools/htgate-report
CONFIG=$top_builddir/tools/htgate-config
for p in "$CHECK" "$REPORT" "$CONFIG"; do [ -x "$p" ] || tap_bail_out "$p not built"; done
CONF=$top_srcdir/conf/htgate.conf
FROM=erp@example.com RCPT=AGS@msa-smtp.htpoort.nl

# msg FILE TO [EXTRA-HEADER] - a conforming EDIFACT declaration
msg()
{
	printf 'From: ERP <erp@example.com>\nTo: %s\n%sSubject: AGS\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMessage-ID: <%s@erp.example.com>\nMIME-Version: 1.0\nContent-Type: application/edifact\nContent-Transfer-Encoding: 7bit\nContent-Disposition: attachment; filename="order.edi"\n\nUNA:+.? '"'"'\nUNB+UNOC:3+SENDER+HTG+260101:1200+1'"'"'\n' \
		"$2" "${3:+$3
}" "$(basename "$1" .eml)" >"$1"
}

# exits WANT LABEL CMD... - CMD exits WANT; its output in $T/out and
# (standard error) $T/err
exits()
{
	local want=$1 label=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" = "$want" ]; then
		tap_ok "$label"
	else
		tap_not_ok "$label" "exit $rc, wanted $want" "$(cat "$T/out" "$T/err")"
	fi
}

# verdict WANT LABEL ARGS... - htgate-check's exit status
verdict()
{
	exits "$1" "$2" "$CHECK" "${@:3}"
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

# htgate-config: its command line
# config_rc WANT LABEL ARGS... - htgate-config's exit status
config_rc()
{
	exits "$1" "htgate-config $2: exit $1" "$CONFIG" "${@:3}"
}
config_rc 0 "dump" -c "$CONF" dump
tap_check "htgate-config dump: the effective configuration" grep -q '^\[environment production\]$' "$T/out"
config_rc 2 "without a command" -c "$CONF"
config_rc 2 "postfix --egress-port 0" -c "$CONF" postfix --egress-port 0
config_rc 2 "postfix with an unknown option" -c "$CONF" postfix --bogus
config_rc 2 "postfix --dry-run (an option of apply)" -c "$CONF" postfix --dry-run
config_rc 2 "check --postfix-dir with --no-postfix" -c "$CONF" check --postfix-dir /x --no-postfix
config_rc 2 "postfix --map-dir relative" -c "$CONF" postfix --map-dir relative -o "$T/pf1"
config_rc 2 "postfix --rate-delay bogus" -c "$CONF" postfix --rate-delay bogus -o "$T/pf2"
printf '[globl]\n' >"$T/bad.conf"
config_rc 1 "a bad configuration" -c "$T/bad.conf" postfix -o "$T/pf3"
printf '[global]\nsize_limit = 1M\n[stream AGS]\n[account a]\nsenders = *@example.com\nmailbox = a@htpoort.nl\npassword_file = %s\nsize_limit = 2M\n[account b]\nsenders = @b.example\nmailbox = b@htpoort.nl\npassword_file = %s\n' \
	"$T/pw" "$T/pw" >"$T/limits.conf"
(umask 077; echo secret >"$T/pw")
config_rc 0 "check --no-postfix with size limits" -c "$T/limits.conf" check --no-postfix
tap_check "htgate-config check: each account's size limit" \
    sh -c 'grep -q "size limit 2097152 bytes" "$1" && grep -q "size limit 1048576 bytes (\[global\])" "$1"' - "$T/out"
config_rc 1 "postfix -o into a directory that cannot be made" -c "$T/limits.conf" postfix -o "$T/bad.conf/out"
# htgate-config postfix: values Postfix cannot take
envtext='envelope_domain = msa-smtp.t.nl\nheader_domain = t.nl'
acct="[stream AGS]\n[account a]\nsenders = *@example.com\nmailbox = a@htpoort.nl\npassword_file = $T/pw\nfetch = no"
while IFS='|' read -r label text body; do
	printf "%b\n" "$body" >"$T/pf.conf"
	rc=0; "$CONFIG" -c "$T/pf.conf" postfix -o "$T/pf-out" >"$T/out" 2>&1 || rc=$?
	tap_check "htgate-config postfix, $label: refused" \
	    sh -c '[ "$1" != 0 ] && grep -q -- "$2" "$3"' - "$rc" "$text" "$T/out"
done <<CASES
an environment name with a dot|name must be letters, digits|[environment bad.name]\n$envtext\n$acct
an smtp_host with a blank|smtp_host is empty or has characters|[environment e]\n$envtext\nsmtp_host = a b\n$acct
a tls_name with a blank|tls_name is empty or has characters|[environment e]\n$envtext\ntls_name = a b\n$acct
a ca_file with a blank|ca_file contains blanks|[environment e]\n$envtext\nca_file = /etc/x y.pem\n$acct
a mailbox with a colon|mailbox has characters Postfix cannot take|[environment e]\n$envtext\n${acct/a@htpoort.nl/a:b@htpoort.nl}
CASES

# htgate-check: a file that is not there; --fix -o of a refused message;
# a rule set to tempfail (exit 3)
verdict 2 "a message file that does not exist" -c "$CONF" --from "$FROM" --rcpt "$RCPT" "$T/nonexistent.eml"
verdict 1 "--fix -o of a refused message: not written" -c "$CONF" --from "$FROM" \
    --rcpt "$RCPT" --fix -o "$T/fixed.eml" "$T/cc.eml"
tap_check "--fix -o of a refused message: says so, writes nothing" \
    sh -c 'grep -q "not written: the message is refused" "$1" && [ ! -e "$2" ]' - "$T/out" "$T/fixed.eml"
sed -e 's/^HDR-CC = ignore$/HDR-CC = tempfail/' "$T/ignore.conf" >"$T/tempfail.conf"
verdict 3 "HDR-CC = tempfail: a Cc: defers (exit 3)" -c "$T/tempfail.conf" --from "$FROM" --rcpt "$RCPT" "$T/cc.eml"

# htgate-report: its command line
report_rc()
{
	exits "$1" "htgate-report $2: exit $1" "$REPORT" "${@:3}"
}
"$REPORT" -d "$T/ok.db" init >/dev/null 2>&1
report_rc 2 "without a command"
report_rc 2 "an unknown command" -d "$T/ok.db" nonsense
report_rc 2 "summary --by nonsense" -d "$T/ok.db" summary --by nonsense
report_rc 2 "summary -o into a directory that does not exist" -d "$T/ok.db" summary -o "$T/no/such/dir/x.txt"
report_rc 2 "summary with an unknown option" -d "$T/ok.db" summary --bogus
