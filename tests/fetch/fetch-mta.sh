#!/bin/bash
# fetch-mta: local MTA down or tempfailing -> nothing deleted, delivered
# on the next run; a permanent local reject keeps the answer on the server.
. "$srcdir/fetch/lib.sh"
POP3=10182 SMTP=10183

fetch_begin $POP3 $SMTP
fetch_start_pop3 $POP3
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP" \
	"[route reject-test]" "header = Subject" "pattern = *REJECTME*" \
	"recipient = nosuchuser@local.test"
put_msg m1 "Answer one"
put_msg m2 "Answer two"

run_fetch "$T/down.log"
check "MTA down: exit 75 (temporary)" [ "$rc" -eq 75 ]
check "MTA down: nothing deleted" [ "$(server_count)" -eq 2 ]
check "MTA down: reported as deferred" grep -q 'outcome=deferred reason="local MTA' "$T/down.log"
check "MTA down: nothing recorded as handed over" [ "$(grep -vc '^#' "$T/state/fetch-company.state" 2>/dev/null || echo 0)" -eq 0 ]

fetch_start_mta $SMTP
run_fetch "$T/up.log"
check "MTA up: exit 0" [ "$rc" -eq 0 ]
check "MTA up: both delivered" wait_delivered answers 2
check "MTA up: server empty" [ "$(server_count)" -eq 0 ]

postconf -c "$MTA/etc" -e 'smtpd_client_restrictions = check_client_access static:DEFER'
mta_reload
put_msg m3 "Answer three"
run_fetch "$T/tempfail.log"
check "MTA 4xx: exit 75" [ "$rc" -eq 75 ]
check "MTA 4xx: message stays" [ "$(server_count)" -eq 1 ]
check "MTA 4xx: reported with the MTA's reply" grep -q 'outcome=deferred reason="local MTA at .*: 4[0-9][0-9]' "$T/tempfail.log"
postconf -c "$MTA/etc" -e 'smtpd_client_restrictions ='
mta_reload
run_fetch "$T/retry.log"
check "after 4xx: delivered on the next run" wait_delivered answers 3
check "after 4xx: exit 0, server empty" eval '[ "$rc" -eq 0 ] && [ "$(server_count)" -eq 0 ]'

put_msg m4 "Please REJECTME"
run_fetch "$T/reject.log"
check "MTA 5xx: exit 1" [ "$rc" -eq 1 ]
check "MTA 5xx: kept on the server and reported" \
	grep -q 'recipient=nosuchuser@local.test outcome=kept reason="local MTA at RCPT TO: 55' "$T/reject.log"
check "MTA 5xx: still on the server" [ "$(server_count)" -eq 1 ]
check "exactly once overall" exactly_once 3
fetch_done
