#!/bin/bash
# fetch-basic: every answer delivered once, routed, traced and deleted;
# too large and unparseable answers stay; a second run is a no-op;
# daemon mode polls; sendmail mode hands over through the real Postfix.
. "$srcdir/fetch/lib.sh"
POP3=10180 SMTP=10181

fetch_begin $POP3 $SMTP
fetch_start_pop3 $POP3
fetch_start_mta $SMTP
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP"

put_msg m1 "Declaration response 1"
put_msg m2 "Process response"
put_msg m3 "Control message SINGLEWINDOW AGS"
# too large (fetch_max_size = 100K)
put_msg big "Large" "$(head -c 150000 /dev/zero | tr '\0' 'x' | fold -w 76)"
# unparseable: no header block at all
mkdir -p "$POP3_MAILDIR/new"
printf 'this is not a mail header\n\nbody\n' > "$POP3_MAILDIR/new/$(date +%s).junk.htgtest"
chown -R nobody:nogroup "$T/mail"

run_fetch "$T/run1.log"
check "run 1 exits 1 (messages kept for the administrator)" [ "$rc" -eq 1 ]
check "two answers to the default recipient" wait_delivered answers 2
check "SINGLEWINDOW answer routed to sw@" wait_delivered sw 1
check "too large and unparseable messages stay on the server" [ "$(server_count)" -eq 2 ]
check "one log line per delivered message with queue id" \
	[ "$(grep -c 'outcome=delivered' "$T/run1.log")" -eq 3 ]
check "queue id from the 250 reply is logged" \
	grep -q 'message_id=<m1@htpoort.test> queue_id=[0-9A-Za-z]\{6,\} recipient=answers@local.test outcome=delivered' "$T/run1.log"
check "too large reported" grep -q 'outcome=kept reason="too large' "$T/run1.log"
check "unparseable reported" grep -q 'outcome=kept reason="unparseable' "$T/run1.log"
f=$(find "$MTA/vmail/answers/new" -type f | head -1)
check "X-HTG-Account header" grep -q '^X-HTG-Account: company' "$f"
check "X-HTG-Mailbox header" grep -q "^X-HTG-Mailbox: $MAILBOX" "$f"
check "X-HTG-UIDL header" grep -q '^X-HTG-UIDL: [0-9A-Fa-f]\{16\}' "$f"
check "dot-unstuffing kept the leading dot line" grep -q '^\.leading dot line' "$f"
check "local envelope sender" grep -q '^Return-Path: <postmaster@local.test>' "$f"
check "state file has no pending UIDLs" [ "$(grep -vc '^#' "$T/state/fetch-company.state")" -eq 0 ]
check "password never logged" no_secret "$T/run1.log" "$T/run1.log.out"

run_fetch "$T/run2.log"
check "run 2 delivers nothing new" [ "$(delivered_count answers)" -eq 2 ] 
check "run 2 reports the kept messages again" [ "$(grep -c 'outcome=kept' "$T/run2.log")" -eq 2 ]

# Clean the server, then daemon mode picks up a new answer.
rm -f "$POP3_MAILDIR"/new/*big* "$POP3_MAILDIR"/new/*junk* "$POP3_MAILDIR"/cur/*big* "$POP3_MAILDIR"/cur/*junk*
"$FETCH" -c "$T/htgate.conf" -d -i 1 -t 10 2>"$T/daemon.log" &
DPID=$!; SB_STARTED_PIDS="$SB_STARTED_PIDS $DPID"
sleep 1
put_msg m4 "Later answer"
check "daemon delivers a new answer" wait_delivered answers 3
kill -TERM $DPID; wait $DPID; drc=$?
check "daemon stops cleanly on SIGTERM" [ "$drc" -eq 0 ]
check "daemon emptied the server" [ "$(server_count)" -eq 0 ]

# sendmail mode through the same private Postfix (MAIL_CONFIG).
write_conf "$T/htgate.conf" $POP3 "sendmail:/usr/sbin/sendmail"
put_msg m5 "Via sendmail"
MAIL_CONFIG=$MTA/etc run_fetch "$T/run3.log"
check "sendmail mode exits 0" [ "$rc" -eq 0 ]
check "sendmail mode delivered" wait_delivered answers 4
check "-a with an unknown account is a usage error" sh -c \
	"'$FETCH' -c '$T/htgate.conf' -a nosuch 2>/dev/null; [ \$? -eq 2 ]"
fetch_done
