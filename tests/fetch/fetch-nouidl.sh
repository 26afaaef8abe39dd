#!/bin/bash
# fetch-nouidl: a POP3 server without UIDL (RFC 1939 makes it optional;
# helper.py pop3): every answer is retrieved, handed over and deleted in
# one session, told apart by Message-ID and size; a session cut before
# QUIT (the deletions not committed) delivers nothing twice on the next
# run; the same Message-ID with another size, and an answer without a
# Message-ID, are answers of their own.  And a server with UIDL that
# names a message with an identifier RFC 1939 does not allow: that
# message is kept and reported, the others delivered.  Ports 10123-10124.
. "$srcdir/fetch/lib.sh"
POP3=10123 SMTP=10124

fetch_begin $POP3 $SMTP
fetch_start_mta $SMTP
fetch_fake_pop3 $POP3

put_msg n1 "Answer one"
put_msg n2 "Control message SINGLEWINDOW"
run_fetch "$T/run1.log"
check "no UIDL: exit 0" [ "$rc" -eq 0 ]
check "no UIDL: said once" grep -q 'the server offers no UIDL; messages are told apart by Message-ID and size' "$T/run1.log"
check "no UIDL: UIDL was asked, then LIST" sh -c "grep -q '^UIDL' '$T/pop3.wire' && grep -q '^LIST' '$T/pop3.wire'"
check "no UIDL: both delivered, routed" eval 'wait_delivered answers 1 && wait_delivered sw 1'
check "no UIDL: server empty" [ "$(server_count)" -eq 0 ]
check "no UIDL: the key in X-HTG-UIDL" \
	eval '[ "$(uidls_delivered | grep -c "^mid-[0-9a-f]\{64\}$")" -eq 2 ]'
check "no UIDL: the key in the log line" grep -q 'uidl=mid-[0-9a-f]\{64\} size=[0-9]* message_id=<n1@htpoort.test> .*outcome=delivered' "$T/run1.log"
check "no UIDL: state empty after QUIT" [ "$(grep -vc '^#' "$T/state/fetch-company.state")" -eq 0 ]

# A cut before QUIT: delivered and marked, the deletion not committed.
put_msg n3 "Answer three"
put_msg n4 "Answer four"
touch "$T/flags/cut"
run_fetch "$T/cut.log"
check "cut: exit 75 (deletion not confirmed)" [ "$rc" -eq 75 ]
check "cut: both handed over" wait_delivered answers 3
check "cut: both still on the server" [ "$(server_count)" -eq 2 ]
check "cut: the state holds both keys" [ "$(grep -vc '^#' "$T/state/fetch-company.state")" -eq 2 ]
rm -f "$T/flags/cut"
run_fetch "$T/after.log"
check_no_redelivery "after the cut" "$T/after.log" 2 answers 3

# The same Message-ID with another size is another answer; so is one
# without a Message-ID (told apart by its content).
put_msg n1 "Answer one, again" "A longer body than the first answer n1 had"
printf 'From: HTG <noreply@htpoort.test>\nSubject: no id\n\nno Message-ID here\n' \
	>"$MAILDIR/new/$(date +%s).noid.htgtest"
run_fetch "$T/more.log"
check "same Message-ID, other size: delivered" \
	grep -q 'message_id=<n1@htpoort.test> .*outcome=delivered' "$T/more.log"
check "no Message-ID: delivered, keyed by content" \
	grep -q 'uidl=sha-[0-9a-f]\{64\} .*message_id=- .*outcome=delivered' "$T/more.log"
check "exactly once overall" exactly_once 6

# A server with UIDL naming one message with a bad identifier.
put_msg b1 "Bad identifier"
put_msg b2 "Good identifier"
touch "$T/flags/baduidl"
run_fetch "$T/baduidl.log"
check "bad UIDL: exit 1 (kept for an administrator)" [ "$rc" -eq 1 ]
check "bad UIDL: that message kept and reported" \
	grep -q 'uidl=- .*outcome=kept reason="no valid UIDL"' "$T/baduidl.log"
check "bad UIDL: the other delivered" \
	grep -q 'uidl=uid-2 .*message_id=<b2@htpoort.test> .*outcome=delivered' "$T/baduidl.log"
check "bad UIDL: one message left on the server" [ "$(server_count)" -eq 1 ]
check "password never on the wire log or in the logs" no_secret "$T/pop3.wire" "$T"/*.log
fetch_done
