#!/bin/sh
#
# NAME
#	rate-override.sh - ENV-RATE: one knob per rule ([rules] ENV-RATE)
# DESCRIPTION
#	htgate-policyd judges ENV-RATE with lib/rate.c; what a message over
#	its account's rate gets is [rules] ENV-RATE, which an account's older
#	"rate" key can only narrow (off, defer).  Before issue 13 the policy
#	daemon passed the account's rate mode and ignored [rules]: the first
#	two cases below failed then.  Each case starts htgate-policyd on a
#	unix socket with its own configuration (rate_limit = 1) and sends the
#	RCPT requests of three transactions of one account:
#	  [rules] ENV-RATE = ignore, account rate = defer: DUNNO, DUNNO, DUNNO
#	  [rules] ENV-RATE = tempfail, account rate default: DUNNO, then
#	    DEFER_IF_PERMIT 4.7.0 [HTG ENV-RATE] (not counted), again
#	  [rules] ENV-RATE = reject: DUNNO, then 550 5.7.0 (a rule that
#	    defers by default, set to reject, refuses with 5xx), again
#	  defaults (warn): DUNNO three times, the second and third logged as
#	    warnings (rule=warn:ENV-RATE)
#	  account rate = off, [rules] ENV-RATE = tempfail: DUNNO three times
#	  account rate = defer, [rules] default: DEFER_IF_PERMIT (unchanged)
#	and once with [record] enabled (the window in the record's SQLite
#	file): tempfail as above, and a second htgate-policyd process sharing
#	the file sees the same window.
#	TAP (tests/tap.sh).
# OWNERSHIP
#	tests/rate.
#
set -u
: "${top_builddir:?}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/tap.sh"
POLICYD=$top_builddir/policy/htgate-policyd
[ -x "$POLICYD" ] || tap_bail_out "$POLICYD not built"
command -v python3 >/dev/null 2>&1 || tap_skip_all "python3 missing"
TMP=$(mktemp -d) || exit 1
PIDS=
trap 'st=$?; for p in $PIDS; do kill $p 2>/dev/null; done; rm -rf "$TMP"; tap_end $st; exit $?' EXIT

# conf NAME RULE RATE [RECORD] - htgate.conf with one account, limit 1
conf() {
	{
		printf '[global]\nstate_dir = %s\n\n' "$TMP"
		printf '[stream AGS]\n\n'
		printf '[account acme]\nsenders = *@example.com\nstreams = *\n'
		[ "$3" = - ] || printf 'rate = %s\n' "$3"
		printf 'rate_limit = 1\nrate_window = 600\n\n'
		[ "$2" = - ] || printf '[rules]\nENV-RATE = %s\n\n' "$2"
		[ "${4:-}" = record ] && printf '[record]\nenabled = yes\ndatabase = %s/record.db\n' "$TMP"
	} >"$TMP/$1.conf"
}

# start NAME - htgate-policyd on unix:$TMP/NAME.sock
start() {
	rm -f "$TMP/$1.sock"
	"$POLICYD" -c "$TMP/$2.conf" -p "unix:$TMP/$1.sock" -f -l >"$TMP/$1.log" 2>&1 &
	PIDS="$PIDS $!"
	for _ in $(seq 1 50); do [ -S "$TMP/$1.sock" ] && return 0; sleep 0.1; done
	tap_bail_out "htgate-policyd $1 did not start: $(cat "$TMP/$1.log")"
}

# ask SOCK N FIRST - N RCPT transactions (instances FIRST..); one action a line
ask() {
	python3 - "$TMP/$1.sock" "$2" "$3" <<'PY'
import socket, sys
path, n, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(first, first + n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    req = ("request=smtpd_access_policy\nprotocol_state=RCPT\nprotocol_name=ESMTP\n"
           "client_address=192.0.2.1\nclient_name=erp.example.com\n"
           "sender=erp@example.com\nrecipient=AGS@msa-smtp.htpoort.nl\n"
           "recipient_count=0\nqueue_id=Q%d\ninstance=rate.%d\nsize=100\n\n" % (i, i))
    s.sendall(req.encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        d = s.recv(4096)
        if not d:
            break
        buf += d
    s.close()
    a = buf.decode().split("\n")[0]
    a = a[len("action="):] if a.startswith("action=") else a
    print(a.split(" [HTG")[0] if "ENV-RATE" in a else a)
PY
}

# case LABEL RULE RATE WANT - three transactions give WANT (joined by |)
case_() {
	conf "$2-$3" "$2" "$3"
	start "$2-$3" "$2-$3"
	got=$(ask "$2-$3" 3 1 | tr '\n' '|')
	if [ "$got" = "$4|" ]; then tap_ok "$1: $4"; else tap_not_ok "$1" "want [$4|] got [$got]" "$(tail -5 "$TMP/$2-$3.log")"; fi
}

case_ "[rules] ENV-RATE = ignore overrides the account's rate = defer" ignore defer "DUNNO|DUNNO|DUNNO"
case_ "[rules] ENV-RATE = tempfail defers (account rate by default)" tempfail - "DUNNO|DEFER_IF_PERMIT 4.7.0|DEFER_IF_PERMIT 4.7.0"
case_ "[rules] ENV-RATE = reject refuses permanently (5xx, not the rule's 450)" reject - "DUNNO|550 5.7.0|550 5.7.0"
case_ "defaults: warn" - - "DUNNO|DUNNO|DUNNO"
tap_check "defaults: the second and third are logged as ENV-RATE warnings" \
	test "$(grep -c 'warn:ENV-RATE' "$TMP/---.log")" -ge 2
case_ "account rate = off exempts the account from [rules] ENV-RATE = tempfail" tempfail off "DUNNO|DUNNO|DUNNO"
case_ "account rate = defer with [rules] by default: deferred, as before" - defer "DUNNO|DEFER_IF_PERMIT 4.7.0|DEFER_IF_PERMIT 4.7.0"

# the window in the record: shared by two processes
conf rec tempfail - record
start rec1 rec
start rec2 rec
got=$( (ask rec1 1 100; ask rec2 1 101; ask rec1 1 102) | tr '\n' '|')
if [ "$got" = "DUNNO|DEFER_IF_PERMIT 4.7.0|DEFER_IF_PERMIT 4.7.0|" ]; then
	tap_ok "[record] on: two htgate-policyd processes share the window"
else
	tap_not_ok "[record] on: two htgate-policyd processes share the window" "got [$got]" "$(tail -5 "$TMP/rec2.log")"
fi
if command -v sqlite3 >/dev/null 2>&1; then
	n=$(sqlite3 "$TMP/record.db" "select count(*) from rate_event where key = 'acme'" 2>&1)
	tap_check "[record] on: the window is in the record file ($n)" test "$n" = 1
else
	tap_skip "[record] on: the window is in the record file" "sqlite3 missing"
fi
