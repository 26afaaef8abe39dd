#!/bin/bash
# e2e-notify.sh - DSN parameters reach the stand-in intact: a Single Window
# message without NOTIFY gets NOTIFY=SUCCESS,FAILURE and an ENVID from the
# milter; NOTIFY and ENVID given by the client arrive unchanged.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10154 10155

e2e_send sw sw-no-notify.eml erp@example.com SINGLEWINDOW@htpoort.nl
e2e_assert_accepted sw
sw=$SB_MSGID

given=
if command -v python3 >/dev/null 2>&1; then
	sb_render "$E2E_SAMPLES/sw-no-notify.eml" "$E2E_OUT/given.eml"
	given=$SB_MSGID
	python3 - "$SB_PORT_RELAY" "$E2E_OUT/given.eml" <<'PY' || e2e_fail "given: not accepted"
import smtplib, sys
port, path = int(sys.argv[1]), sys.argv[2]
with open(path, "rb") as f:
    data = f.read()
with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
    s.ehlo("erp.example.com")
    s.sendmail("erp@example.com", ["SINGLEWINDOW@htpoort.nl"], data,
               mail_options=["ENVID=sw-e2e-0001"],
               rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
print("# given: accepted with ENVID=sw-e2e-0001 NOTIFY=SUCCESS,FAILURE")
PY
else
	echo "# python3 missing: not testing client-given NOTIFY/ENVID"
fi

# assert_dsn_args NAME MSGID ENVID-RE WHAT - arrived once, and the stand-in
# saw NOTIFY=SUCCESS,FAILURE and an ENVID matching ENVID-RE (ok: WHAT)
assert_dsn_args()
{
	local env
	e2e_assert_arrived "$1" "$2" 1
	env=$(sb_dump_envelope "$(sb_dump_file_for_msgid "$2")")
	echo "$env" | sed "s/^/# $1: /"
	echo "$env" | grep -E '^X-Rcpt-Args: <SINGLEWINDOW@msa-smtp.htpoort.nl> .*NOTIFY=SUCCESS,FAILURE( |$)' >/dev/null ||
	    e2e_fail "$1: NOTIFY=SUCCESS,FAILURE missing or changed at the stand-in"
	echo "$env" | grep -E "^X-Mail-Args: <erp@example.com> .*ENVID=$3" >/dev/null ||
	    e2e_fail "$1: ENVID missing or changed at the stand-in"
	e2e_ok "$1: $4"
}

sb_wait_drain || e2e_fail "queues did not drain"
assert_dsn_args sw "$sw" '[!-~]+' \
    "NOTIFY=SUCCESS,FAILURE and an ENVID added by the milter arrived"
[ -z "$given" ] ||
    assert_dsn_args given "$given" 'sw-e2e-0001( |$)' "NOTIFY and ENVID arrived unchanged"
