#!/bin/bash
# e2e-policy-down.sh - an htgate-policyd outage: the policy lookup is best
# effort (default_action=DUNNO), so mail still flows; htgate-milter
# judges the same envelope rules, so nothing passes unchecked: a second
# HTG recipient is refused at RCPT, a Cc at end of message, and the
# conforming message arrives once.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10156 10157

sb_stop_policyd
e2e_accept down ags-edifact.eml erp@example.com AGS@htpoort.nl
id=$SB_MSGID
e2e_send two ags-edifact.eml erp@example.com AGS@htpoort.nl,DMS@htpoort.nl
e2e_assert_reply two 550 RCPT "[HTG ENV-ONE-RCPT]"
two=$SB_MSGID
e2e_send cc ags-cc.eml erp@example.com AGS@htpoort.nl
e2e_assert_reply cc 550 END-OF-MESSAGE "[HTG HDR-CC]"
cc=$SB_MSGID
sb_relay_log | grep -q 'htgate/policy.sock' ||
    e2e_fail "the relay did not notice the policy daemon was down"
e2e_ok "the relay logged the unreachable policy service and went on"
sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived down "$id" 1
e2e_assert_arrived two "$two" 1
e2e_assert_arrived cc "$cc" 0
f=$(sb_dump_file_for_msgid "$two")
sb_dump_envelope "$f" | grep -q '^X-Rcpt-Args: <AGS@msa-smtp.htpoort.nl>' ||
    e2e_fail "two: the message did not go to AGS alone"
e2e_ok "two: went to AGS only"
