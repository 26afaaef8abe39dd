#!/bin/bash
# fetch-record: with the decision record on, an HTG answer or DSN that
# names the Message-ID (In-Reply-To/References, returned headers) or the
# ENVID (Original-Envelope-Id) of a message in the record goes to the
# person who sent it; an answer about a refused message, or about
# nothing in the record, goes to the default mailbox; with the record
# off, everything goes to the default mailbox.  Ports 10172-10173.
. "$srcdir/fetch/lib.sh"
POP3=10172 SMTP=10173
FILL=$top_builddir/tests/report/record_fill
[ -x "$FILL" ] || tap_bail_out "$FILL not built"

fetch_begin $POP3 $SMTP
fetch_start_pop3 $POP3
fetch_start_mta $SMTP
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP" "[record]" "enabled = yes"

# The record: one delivered message of erp@, one refused message of refused@.
now=$(date +%s)
printf '%s\th\tQ1\teom\taccept\t-\terp@local.test\t-\tAGS@htpoort.test\tAGS\ttest\t<orig-1@erp.example.com>\tENV-ORIG-1\t100\t-\t-\tmilter\n%s\th\tQ2\teom\treject\tHDR-CC\trefused@local.test\t-\tAGS@htpoort.test\tAGS\ttest\t<refused-1@erp.example.com>\tENV-REF-1\t100\t-\t550 no\tmilter\n' \
	"$now" "$now" | "$FILL" "$T/state/record.db" tsv || tap_bail_out "record_fill"

# put_raw NAME HEADERS BODY - a message with extra header lines
put_raw() {
	d=$POP3_MAILDIR
	mkdir -p "$d/new" "$d/cur" "$d/tmp"
	printf 'From: HTG <noreply@htpoort.test>\nTo: %s\nSubject: %s\nMessage-ID: <%s@htpoort.test>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n%b\n%b\n' \
		"$MAILBOX" "answer $1" "$1" "$2" "$3" >"$d/new/$(date +%s).$1.htgtest"
	chown -R nobody:nogroup "$d"
}

put_raw reply 'In-Reply-To: <orig-1@erp.example.com>\nReferences: <x@y>\n <orig-1@erp.example.com>' 'Your declaration was received.'
put_raw dsn 'Content-Type: multipart/report; report-type=delivery-status; boundary=b' \
	'--b\nContent-Type: text/plain\n\nDelivered.\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; msa-smtp.htpoort.test\nOriginal-Envelope-Id: ENV-ORIG-1\n\nFinal-Recipient: rfc822; AGS@msa-smtp.htpoort.test\nAction: delivered\nStatus: 2.0.0\n--b--'
put_raw refused 'In-Reply-To: <refused-1@erp.example.com>' 'About a message that was refused.'
put_raw other 'In-Reply-To: <unknown@erp.example.com>' 'About something else.'

run_fetch "$T/run1.log" -v
check "run 1 exit 0" [ "$rc" -eq 0 ]
check "reply and DSN of erp's message go to erp@" wait_delivered erp 2
check "answers about a refused or unknown message go to answers@" wait_delivered answers 2
check "the log names erp@ as recipient twice" \
	[ "$(grep -c 'recipient=erp@local.test outcome=delivered' "$T/run1.log")" -eq 2 ]
check "erp@ got the reply and the DSN" \
	sh -c "grep -q '^Subject: answer reply' $MTA/vmail/erp/new/* && grep -q '^Subject: answer dsn' $MTA/vmail/erp/new/*"

# The record off: the same reply goes to the default mailbox.
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP" "[record]" "enabled = no"
put_raw reply2 'In-Reply-To: <orig-1@erp.example.com>' 'Again.'
run_fetch "$T/run2.log"
check "record off: exit 0" [ "$rc" -eq 0 ]
check "record off: the reply goes to answers@" wait_delivered answers 3
check "record off: nothing more for erp@" [ "$(delivered_count erp)" -eq 2 ]
check "exactly once overall" exactly_once 5
check "no password in the logs" no_secret "$T"/run*.log
fetch_done
