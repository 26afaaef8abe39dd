#!/bin/bash
# e2e-bad-cert.sh - the relay refuses to deliver to a stand-in whose
# certificate (right name, unknown CA) does not verify: the message stays
# deferred at the relay and nothing is sent; no password goes out.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10160 10161

sb_standin_rogue_cert
e2e_accept cert ags-edifact.eml erp@example.com AGS@htpoort.nl
e2e_wait_deferred 1 || e2e_fail "message not deferred at the relay"
sb_relay_log | grep 'status=deferred' | grep -q 'Server certificate not verified' ||
    e2e_fail "no 'Server certificate not verified' deferral in the relay's log"
[ -z "$(sb_arrived_files)" ] || e2e_fail "delivered to an unverified server"
sb_standin_log | grep -q 'sasl_username=' && e2e_fail "the relay authenticated to an unverified server"
e2e_ok "deferred: Server certificate not verified; nothing delivered, no AUTH"
