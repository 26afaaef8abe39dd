#!/bin/bash
# e2e-milter-down.sh - with htgate-milter stopped the relay answers 4xx
# (milter_default_action = tempfail) and nothing passes unchecked; after
# the milter is restarted the client's retry goes through, once.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10152 10153

sb_stop_milter
e2e_send down ags-edifact.eml erp@example.com AGS@htpoort.nl
e2e_assert_reply down 4 - ""
id=$SB_MSGID
# A non-conforming message must not slip through either.
e2e_send down-cc ags-cc.eml erp@example.com AGS@htpoort.nl
e2e_assert_reply down-cc 4 - ""
sb_wait_drain || e2e_fail "queues did not drain"
[ -z "$(sb_arrived_files)" ] || e2e_fail "mail passed while the milter was down"
[ "$(sb_queue_deferred relay)" = 0 ] || e2e_fail "the relay queued mail while the milter was down"
e2e_ok "nothing passed, nothing queued while the milter was down"

# The client retries the same message after the milter is back.
sb_start_milter
sb_swaks_relay --from erp@example.com --to AGS@htpoort.nl --data "@$E2E_OUT/down.eml" \
    >"$E2E_OUT/retry.swaks" 2>&1 || true
e2e_assert_accepted retry
sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived retry "$id" 1
