#!/bin/sh
# tests/milter/run.sh - protocol tests of htgate-milter with miltertest.
#
# Starts the real htgate-milter (foreground, logging to a file) on unix
# sockets in a private temporary directory with a private configuration,
# runs each tests/milter/*.lua script against it with miltertest, checks
# the reply codes (in the scripts) and the decision log lines (here), then
# tests -n, SIGHUP reloads (broken and good), the HTGATE_TEST_FAIL_AT hook,
# non-SMTP mode (-N) and a clean stop on SIGTERM.  Everything started is
# stopped and removed on exit.  TAP output (tests/tap.sh): one line per
# check; skipped only without miltertest.
#
# Environment: top_srcdir, top_builddir (set by automake's test driver);
# HTGATE_MILTER overrides the binary under test; HTGATE_WRAPPER, if set,
# is a command line the daemons are started under (e.g. valgrind ...).
set -eu
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/milter/lib.sh"

# check DESCRIPTION COMMAND... - a test that passes when COMMAND succeeds
check() {
	tap_check "$@"
}

# write_conf FILE REPORT_ONLY - the private configuration
write_conf() {
	cat >"$1" <<EOF
# htgate-milter test configuration
[global]
language = en nl
report_only = $2
size_limit = 10M

[stream AGS]
profile = standard

[stream DMS]
profile = standard

[stream SINGLEWINDOW]
profile = single-window

[account example]
senders = *@example.com
streams = *

[rules]
ENV-ENVID = fix
ENV-NOTIFY = fix
HDR-MSGID = fix
EOF
}

# write_bad_conf FILE - an error on line 3
write_bad_conf() {
	printf '[global]\nlanguage = en\nno_such_key = 1\n' >"$1"
}

# stop_milters PID:NAME... - SIGTERM to all at once, then each must exit
# 0 (ASan leak reports fail it), all within 3 s (libmilter alone would
# sit up to 5 s in poll(); htgate-milter wakes it)
stop_milters() {
	t0=$(date +%s%N)
	for pn in "$@"; do
		kill -TERM "${pn%%:*}"
	done
	for pn in "$@"; do
		rc=0
		wait "${pn%%:*}" || rc=$?
		PIDS=$(echo "$PIDS" | sed "s/ ${pn%%:*}\$//; s/ ${pn%%:*} / /")
		result $rc "${pn#*:} stops cleanly on SIGTERM (exit $rc)"
		if [ $rc -ne 0 ]; then
			tail -n 40 "$T/${pn#*:}.log" | tap_diag
		fi
	done
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	rc=0
	[ $ms -lt 3000 ] || rc=1
	result $rc "all milters stopped within 3 s of SIGTERM (${ms} ms)"
}

write_conf "$T/htgate.conf" no
write_bad_conf "$T/bad.conf"

# -n: configuration check
rc=0
out=$("$MILTER" -n -c "$T/htgate.conf" 2>&1) || rc=$?
check "-n on a good config prints 'FILE: configuration OK' and exits 0 ($rc: $out)" \
	test $rc -eq 0 -a "$out" = "$T/htgate.conf: configuration OK"
rc=0
out=$("$MILTER" -n -c "$T/bad.conf" 2>&1) || rc=$?
case $out in "$T/bad.conf:3: "*) ok=0 ;; *) ok=1 ;; esac
check "-n on a bad config prints FILE:LINE and exits 1 ($rc: $out)" \
	test $rc -eq 1 -a $ok -eq 0
rc=0
out=$("$MILTER" -f -l -c "$T/bad.conf" -p "unix:$T/never.sock" 2>&1) || rc=$?
case $out in *"$T/bad.conf:3: "*) ok=0 ;; *) ok=1 ;; esac
check "a bad config at start is refused with FILE:LINE ($rc)" \
	test $rc -ne 0 -a $ok -eq 0 -a ! -e "$T/never.sock"

# The instances: main; failer with the test hook at EOH; nonsmtp (-N).
start_milter main -
MAIN=$MPID
start_milter failer HTGATE_TEST_FAIL_AT=eoh
FAILER=$MPID
start_milter nonsmtp - -N
NONSMTP=$MPID
FAILPOINTS="connect mail rcpt header body eom"
FAILERS=""
for at in $FAILPOINTS; do
	start_milter "fail-$at" "HTGATE_TEST_FAIL_AT=$at"
	FAILERS="$FAILERS $MPID:fail-$at"
	start_milter "failn-$at" "HTGATE_TEST_FAIL_AT=$at" -N
	FAILERS="$FAILERS $MPID:failn-$at"
done

run_case accept main "4TestQid42: action=accept stage=eom" "!action=reject"
run_case msgid-fix main "fix:HDR-MSGID" "fix: addheader Message-ID <"
run_case one-rcpt main "reply 550-5.5.3 [HTG ENV-ONE-RCPT]" \
	"reply 550 5.5.3 [HTG ENV-ONE-RCPT]" \
	"action=reject stage=rcpt rule=ENV-ONE-RCPT" "action=accept stage=eom"
run_case mixed main "reply 550-5.5.3 [HTG ENV-MIXED]" "rule=ENV-MIXED"
run_case cc main "[HTG HDR-CC]" "action=reject stage=header" "reply 550-"
run_case multipart main "[HTG MIME-SINGLE]" "action=reject stage=header"
run_case charset main "[HTG MIME-CHARSET]" "action=reject stage=header"
run_case b64-bad main "[HTG MIME-B64]" "action=reject"
run_case b64-truncated main "[HTG MIME-B64]" "action=reject stage=eom"
run_case nonhtg-cc main "not HTG-bound" "!action=reject"
run_case dsn main "action=accept" "!action=reject"
run_case dsn-fake main "action=reject stage=eom rule=ENV-ONE-SENDER" \
	"action=reject stage=header rule=HDR-CC" "!action=accept"
run_case address-forms main "rule=ENV-ADDRESS" "trailing dot" "percent hack" \
	"bang path" "source route" "quoted local part"
run_case egress main "role=egress" "rule=HDR-TO" "rule=ENV-ENVIRONMENT" \
	"not an HTG address" "fix: delrcpt+addrcpt_par <AGS@msa-smtp.htpoort.nl> ORCPT=rfc822;AGS@htpoort.nl" \
	"action=tempfail stage=rcpt rule=INTERNAL"
run_case exchange main "action=accept stage=eom" "!LIMIT"
run_case envid-fix main "fix:ENV-ENVID" \
	"fix: chgfrom <erp@example.com> RET=HDRS ENVID="
run_case disposition-fix main "fix:MIME-DISPOSITION" \
	"fix: addheader Content-Disposition attachment; filename=" \
	"fix: chgheader Content-Disposition attachment; filename="
run_case notify-fix main "fix:ENV-NOTIFY" \
	"fix: delrcpt+addrcpt_par <AGS@msa-smtp.htpoort.nl> NOTIFY=FAILURE"

# Postfix's simulated non-SMTP connection (port 0) is recognised.
if command -v python3 >/dev/null 2>&1; then
	before=$(wc -l <"$T/main.log")
	rc=0
	python3 "$MTDIR/nonsmtp-detect.py" "$T/main.sock" >"$T/nonsmtp.out" 2>&1 || rc=$?
	tail -n +"$((before + 1))" "$T/main.log" >"$T/case.log"
	grep -F "non-SMTP submission" "$T/case.log" >/dev/null || rc=1
	result $rc "non-SMTP connection (localhost, 127.0.0.1, port 0) detected"
	if [ $rc -ne 0 ]; then
		tap_diag <"$T/nonsmtp.out"
		sed 's/^/log: /' "$T/case.log" | tap_diag
	fi
else
	tap_skip "non-SMTP connection (localhost, 127.0.0.1, port 0) detected" \
		"python3 not installed"
fi

# The no-reply steps agreed at negotiation hold for the whole session,
# whichever thread of libmilter's pool runs its next command.
if command -v python3 >/dev/null 2>&1; then
	rc=0
	python3 "$MTDIR/nr-threads.py" "$T/main.sock" 24 >"$T/nr.out" 2>&1 || rc=$?
	result $rc "24 concurrent sessions: no reply at connect, MAIL or a header"
	[ $rc -eq 0 ] || tap_diag <"$T/nr.out"
else
	tap_skip "24 concurrent sessions: no reply at connect, MAIL or a header" \
		"python3 not installed"
fi

# SIGHUP with a broken config: logged, the old one stays in force.
cp "$T/bad.conf" "$T/htgate.conf"
kill -HUP "$MAIN"
check "SIGHUP with a broken config is logged with FILE:LINE" \
	wait_log main "config reload failed: $T/htgate.conf:3: "
check "SIGHUP with a broken config keeps the old configuration" \
	wait_log main "keeping the old configuration"
run_case accept main "action=accept stage=eom"
run_case cc main "[HTG HDR-CC]" "action=reject stage=header"

# SIGHUP with a changed good config: report_only lets a Cc pass.
write_conf "$T/htgate.conf" yes
kill -HUP "$MAIN"
check "SIGHUP with a good config reloads it" \
	wait_log main "configuration reloaded from $T/htgate.conf"
run_case cc-report-only main "HDR-CC" "action=accept stage=eom" "!action=reject"

# Fail closed: an internal error at EOH is a temporary failure.
run_case tempfail failer "reply 451-4.3.0 [HTG INTERNAL]" \
	"action=tempfail stage=header rule=INTERNAL"

# ... and so is one in any other callback.
# shellcheck disable=SC2034 # MTDEFS: read by run_case (lib.sh)
for at in $FAILPOINTS; do
	MTDEFS="-D at=$at"
	run_case failclosed "fail-$at" "rule=INTERNAL" "action=tempfail" \
		"!action=accept"
	MTDEFS=""
done

# ... also on a non-SMTP connection, where MAIL and RCPT cannot refuse.
# shellcheck disable=SC2034 # MTDEFS: read by run_case (lib.sh)
for at in $FAILPOINTS; do
	MTDEFS="-D at=$at"
	run_case failclosed-nonsmtp "failn-$at" "rule=INTERNAL" \
		"action=tempfail" "!action=accept"
	MTDEFS=""
done

# Non-SMTP submissions (-N): nothing refused at RCPT, decided at EOM.
run_case nonsmtp nonsmtp "action=reject stage=eom" "ENV-ONE-RCPT" \
	"!stage=rcpt"
run_case nonsmtp-mixed nonsmtp "action=reject stage=eom rule=ENV-MIXED" \
	"!stage=rcpt"

# shellcheck disable=SC2086 # FAILERS: PID:NAME words
stop_milters "$MAIN:main" "$FAILER:failer" "$NONSMTP:nonsmtp" $FAILERS
# The plan and the exit status: cleanup (tap_end) on exit.
