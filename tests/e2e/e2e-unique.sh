#!/bin/bash
# e2e-unique.sh - a Message-ID counts as used when the message is handed
# to the HTG transport (the egress stage claims it), not when a milter
# first likes it.  (1) A later milter tempfails the first attempt: the
# client's retry of the same message is accepted and arrives once.
# (2) N identical messages sent at once: exactly one reaches HTG, the
# others are refused (at ingress, or bounced by egress) naming HDR-MSGID.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10168 10169
e=$SB_TMP/relay/etc
N=${UNIQUE_N:-8}

# 1. a second milter after htgate that tempfails at end of message
LATER=$SB_SOCKET_DIR/later.sock
HTGATE_TEST_FAIL_AT=eom "$SB_MILTER" -c "$SB_HTGATE_CONF" -p "unix:$LATER" -f -l \
    </dev/null >>"$SB_TMP/later.log" 2>&1 &
later=$!
SB_STARTED_PIDS="$SB_STARTED_PIDS $later"
sb_wait_socket "$LATER"
chmod 666 "$LATER"
orig=$(postconf -c "$e" -h smtpd_milters)
postconf -c "$e" -e "smtpd_milters = $orig, { unix:htgate/later.sock, default_action=tempfail }"
postfix -c "$e" reload >/dev/null 2>&1
sleep 1
e2e_send first ags-edifact.eml erp@example.com AGS@htpoort.nl
id=$SB_MSGID
e2e_assert_reply first 451 END-OF-MESSAGE ""
kill "$later"
postconf -c "$e" -e "smtpd_milters = $orig"
postfix -c "$e" reload >/dev/null 2>&1
sleep 1
sb_swaks_relay --from erp@example.com --to AGS@htpoort.nl --data "@$E2E_OUT/first.eml" \
    >"$E2E_OUT/retry.swaks" 2>&1 || true
e2e_assert_accepted retry
sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived retry "$id" 1

# 2. N identical messages at once
sb_render "$E2E_SAMPLES/ags-edifact.eml" "$E2E_OUT/same.eml"
same=$SB_MSGID
for i in $(seq 1 "$N"); do
	sb_swaks_relay --from erp@example.com --to AGS@htpoort.nl \
	    --data "@$E2E_OUT/same.eml" >"$E2E_OUT/same$i.swaks" 2>&1 &
done
wait
e2e_tally_copies "$N"
queued=$E2E_QUEUED
e2e_ok "$N copies: $queued queued, $E2E_REFUSED refused at ingress naming HDR-MSGID"
sb_wait_drain || e2e_fail "queues did not drain"
sleep 1
sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived same "$same" 1
bounced=0
for f in $(sb_relay_bounces); do
	grep -q -F "$same" "$f" && grep -q -F '[HTG HDR-MSGID]' "$f" && bounced=$((bounced + 1))
done
[ $((queued - 1)) = "$bounced" ] ||
    e2e_fail "wanted $((queued - 1)) bounces naming HDR-MSGID, found $bounced"
e2e_ok "the $bounced other queued copies were bounced by the egress stage naming HDR-MSGID"
