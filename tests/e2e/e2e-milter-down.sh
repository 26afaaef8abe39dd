#!/bin/bash
# e2e-milter-down.sh - an htgate-milter outage: ingress is best effort,
# egress fails closed.  With the milter stopped, mail that is not for HTG
# still flows; HTG mail is taken into the relay's queue but the egress
# stage defers it, so nothing reaches HTG unchecked and nothing is lost.
# Once the milter is back the queue is retried: the conforming message
# arrives once, the non-conforming one (a Cc) is bounced to its sender
# naming the rule.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10152 10153

sb_stop_milter
e2e_accept local ags-edifact.eml erp@example.com colleague@example.com
local_id=$SB_MSGID
e2e_accept down ags-edifact.eml erp@example.com AGS@htpoort.nl
id=$SB_MSGID
e2e_accept down-cc ags-cc.eml erp@example.com AGS@htpoort.nl
cc=$SB_MSGID
e2e_wait_deferred 2 100 ||
    e2e_fail "wanted the 2 HTG messages deferred at the relay, found $(sb_queue_deferred relay)"
sb_relay_log | grep 'htg-gate' | grep -q 'status=deferred' ||
    e2e_fail "no deferral by the egress stage in the relay's log"
e2e_ok "both HTG messages deferred by the egress stage"
[ -z "$(sb_arrived_files)" ] || e2e_fail "mail reached HTG while the milter was down"
e2e_ok "nothing reached the HTG stand-in while the milter was down"
grep -lF "$local_id" "$SB_TMP"/relay/mail/local/new/* >/dev/null 2>&1 ||
    e2e_fail "mail that is not for HTG was not delivered during the outage"
e2e_ok "mail that is not for HTG was delivered during the outage"

# The milter is back: the queue is retried.
sb_start_milter
sb_postqueue_flush relay
sb_wait_drain || e2e_fail "queues did not drain"
e2e_wait_deferred 0 || :
e2e_assert_arrived down "$id" 1
e2e_assert_arrived down-cc "$cc" 0
b=$(grep -l -F "$cc" $(sb_relay_bounces) 2>/dev/null)
[ -n "$b" ] || e2e_fail "down-cc: no bounce to the sender"
grep -q -F '[HTG HDR-CC]' $b || e2e_fail "down-cc: the bounce does not name [HTG HDR-CC]"
e2e_ok "down-cc: bounced to erp@example.com naming [HTG HDR-CC]"
[ "$(sb_queue_deferred relay)" = 0 ] || e2e_fail "mail stays queued at the relay"
e2e_ok "nothing left in the relay's queue"
