#!/bin/bash
# e2e-refuse.sh - non-conforming messages get their 5xx at the right SMTP
# stage, naming the rule, and nothing of them reaches the HTG stand-in:
# a Cc: header (end of message, HDR-CC), a Thunderbird message with two
# attachments (end of message, MIME-SINGLE; one would be unwrapped), an
# unknown stream (RCPT, ENV-STREAM) and a sender no account covers (RCPT,
# ENV-AUTH).
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10146 10147

ids=
e2e_send cc ags-cc.eml erp@example.com AGS@htpoort.nl
ids="$ids $SB_MSGID"
e2e_assert_reply cc 5 END-OF-MESSAGE "[HTG HDR-CC]"

e2e_send tb thunderbird-two.eml jan.devries@example.com AGS@htpoort.nl
ids="$ids $SB_MSGID"
e2e_assert_reply tb 5 END-OF-MESSAGE "[HTG MIME-SINGLE]"

e2e_send stream ags-edifact.eml erp@example.com FOO@htpoort.nl
ids="$ids $SB_MSGID"
e2e_assert_reply stream 5 RCPT "[HTG ENV-STREAM]"

e2e_send auth ags-edifact.eml someone@other.example.org AGS@htpoort.nl
ids="$ids $SB_MSGID"
e2e_assert_reply auth 5 RCPT "[HTG ENV-AUTH]"

sb_wait_drain || e2e_fail "queues did not drain"
for id in $ids; do
	e2e_assert_arrived "$id" "$id" 0
done
[ -z "$(sb_arrived_files)" ] || e2e_fail "something arrived at the stand-in"
[ "$(sb_queue_deferred relay)" = 0 ] || e2e_fail "something is queued at the relay"
e2e_ok "nothing arrived, nothing queued"
