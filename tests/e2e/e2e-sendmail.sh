#!/bin/bash
# e2e-sendmail.sh - mail submitted on the relay with sendmail(1) (an ERP)
# goes through non_smtpd_milters: a conforming message arrives once; a
# non-conforming one (windows-1252) is refused at end of message, i.e.
# bounced to the sender naming [HTG MIME-CHARSET], and never arrives.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10150 10151

sb_render "$E2E_SAMPLES/dms-xml-erp.eml" "$E2E_OUT/good.eml"
good=$SB_MSGID
sb_sendmail -f erp@example.com -t <"$E2E_OUT/good.eml" || e2e_fail "sendmail of a good message failed"
sb_render "$E2E_SAMPLES/erp-cp1252.eml" "$E2E_OUT/bad.eml"
bad=$SB_MSGID
rc=0
sb_sendmail -f erp@example.com -t <"$E2E_OUT/bad.eml" || rc=$?
echo "# sendmail exit status for the bad message: $rc"

sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived good "$good" 1
f=$(sb_dump_file_for_msgid "$good")
sb_dump_envelope "$f" | grep -q '^X-Rcpt-Args: <DMS@msa-smtp.htpoort.nl>' ||
    e2e_fail "good: envelope recipient not DMS@msa-smtp.htpoort.nl"

# The bad one: refused by the milter at end of message ...
qid=$(sb_relay_log | grep -F "message-id=<$bad>" | sed -n 's/.*]: \([0-9A-F]*\): message-id=.*/\1/p' | head -n 1)
if [ -n "$qid" ]; then
	sb_relay_log | grep -F "$qid: milter-reject: END-OF-MESSAGE" | grep -qF '[HTG MIME-CHARSET]' ||
	    e2e_fail "bad: no milter-reject at END-OF-MESSAGE naming [HTG MIME-CHARSET] for $qid"
	e2e_ok "bad: milter-reject at END-OF-MESSAGE with [HTG MIME-CHARSET] ($qid)"
fi
# ... and the sender learns it: a bounce (or a failing sendmail).
if [ "$rc" = 0 ]; then
	for i in $(seq 1 50); do
		[ -n "$(sb_relay_bounces)" ] && break
		sleep 0.2
	done
	b=$(sb_relay_bounces)
	[ -n "$b" ] || e2e_fail "bad: sendmail exit 0 and no bounce to the sender"
	grep -l -F "$bad" $b >/dev/null || e2e_fail "bad: the bounce does not quote the message"
	grep -h -F '[HTG MIME-CHARSET]' $b | head -n 1 | sed 's/^/# bounce: /'
	grep -q -F '[HTG MIME-CHARSET]' $b || e2e_fail "bad: the bounce does not name [HTG MIME-CHARSET]"
	e2e_ok "bad: bounced to erp@example.com naming [HTG MIME-CHARSET]"
else
	e2e_ok "bad: sendmail exit status $rc"
fi
sb_wait_drain || true
e2e_assert_arrived bad "$bad" 0
[ "$(sb_queue_deferred relay)" = 0 ] || e2e_fail "mail stays queued at the relay"
