#!/bin/bash
# e2e-bad-password.sh - when the stand-in refuses the relay's SASL password
# the message stays queued at the relay: deferred, not bounced, not lost;
# once the password is right again it is delivered, once.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10158 10159

# Change the account's password on the HTG side only.
users=$SB_TMP/dovecot/users
cp -p "$users" "$E2E_OUT/users.saved"
(umask 077; printf '%s:{PLAIN}%s\n' "$SB_MAILBOX" "$(openssl rand -hex 16)" >"$users.new")
chown dovecot "$users.new"
mv "$users.new" "$users"

e2e_accept pw ags-edifact.eml erp@example.com AGS@htpoort.nl
id=$SB_MSGID
e2e_wait_deferred 1 || e2e_fail "message not deferred at the relay"
sb_relay_log | grep 'status=deferred' | grep -q 'SASL authentication failed' ||
    sb_relay_log | grep 'status=deferred' | grep -q ' 535 ' ||
    e2e_fail "no deferral for the SASL failure in the relay's log"
sb_relay_log | grep -q 'status=bounced' && e2e_fail "bounced"
[ -z "$(sb_relay_bounces)" ] || e2e_fail "a bounce was sent"
[ -z "$(sb_arrived_files)" ] || e2e_fail "arrived without authentication"
e2e_ok "deferred at the relay (not bounced, nothing arrived)"

# Right password again: the queued message goes out.
cp -p "$E2E_OUT/users.saved" "$users"
sb_postqueue_flush relay
for i in $(seq 1 100); do
	[ -n "$(sb_arrived_files)" ] && break
	sleep 0.2
done
sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived pw "$id" 1
[ "$(sb_queue_deferred relay)" = 0 ] || e2e_fail "still queued"
