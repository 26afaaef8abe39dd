#!/bin/bash
# e2e-policy-down.sh - with htgate-policyd stopped the relay answers 4xx
# at RCPT (check_policy_service default_action = DEFER) and nothing passes;
# after a restart the retry goes through.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10156 10157

sb_stop_policyd
e2e_send down ags-edifact.eml erp@example.com AGS@htpoort.nl
e2e_assert_reply down 4 RCPT ""
id=$SB_MSGID
sb_wait_drain || e2e_fail "queues did not drain"
[ -z "$(sb_arrived_files)" ] || e2e_fail "mail passed while the policy daemon was down"
e2e_ok "nothing passed while the policy daemon was down"

sb_start_policyd
sb_swaks_relay --from erp@example.com --to AGS@htpoort.nl --data "@$E2E_OUT/down.eml" \
    >"$E2E_OUT/retry.swaks" 2>&1 || true
e2e_assert_accepted retry
sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived retry "$id" 1
