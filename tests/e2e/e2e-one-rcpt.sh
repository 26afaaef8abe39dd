#!/bin/bash
# e2e-one-rcpt.sh - a second recipient is refused at RCPT by the policy
# daemon (ENV-ONE-RCPT for two HTG streams, ENV-MIXED for HTG plus a
# company address); only the first recipient's copy reaches the stand-in.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10148 10149

e2e_send two ags-edifact.eml erp@example.com AGS@htpoort.nl,DMS@htpoort.nl
id1=$SB_MSGID
e2e_assert_reply two 5 RCPT "[HTG ENV-ONE-RCPT]"
grep -E '^<\*\* ' "$E2E_OUT/two.swaks" | grep -q 'DMS@' ||
    grep -B1 -E '^<\*\* ' "$E2E_OUT/two.swaks" | grep -q 'RCPT TO:<DMS@htpoort.nl>' ||
    e2e_fail "the refused recipient is not the second one"

e2e_send mixed ags-edifact.eml erp@example.com AGS@htpoort.nl,archive@example.com
id2=$SB_MSGID
e2e_assert_reply mixed 5 RCPT "[HTG ENV-MIXED]"

sb_wait_drain || e2e_fail "queues did not drain"
[ "$(sb_arrived_count DMS@msa-smtp.htpoort.nl)" = 0 ] || e2e_fail "the second recipient got a copy"
for id in $id1 $id2; do
	n=$(sb_dump_file_for_msgid "$id" | grep -c . || true)
	[ "$n" -le 1 ] || e2e_fail "$id arrived ${n}x"
done
e2e_ok "no copy for the refused recipients"
