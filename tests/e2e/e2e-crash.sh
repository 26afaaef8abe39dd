#!/bin/bash
# e2e-crash.sh - the input that used to crash htgate-milter (a non-HTG
# recipient first, then an HTG one, with To: AGS@htpoort.nl, when the
# second recipient is kept) in each mode that keeps it: sendmail(1)
# (defer mode), ENV-MIXED = warn, and report_only = yes over SMTP.  The
# milter keeps its pid throughout, nothing stays in the maildrop, and
# what reaches HTG was judged at egress on its own envelope.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10176 10177
pid=$SB_MILTER_PID

# 1. sendmail(1): refused at end of message (ENV-MIXED), bounced
sb_render "$E2E_SAMPLES/ags-edifact.eml" "$E2E_OUT/sm.eml"
sm=$SB_MSGID
sb_sendmail -f erp@example.com boss@example.com AGS@htpoort.nl <"$E2E_OUT/sm.eml" ||
    e2e_fail "sendmail failed"
sb_wait_drain || e2e_fail "queues did not drain"
kill -0 "$pid" 2>/dev/null || e2e_fail "sendmail: the milter died"
e2e_ok "sendmail: the milter (pid $pid) is still there"
[ "$(find "$SB_TMP/relay/queue/maildrop" -type f | wc -l)" = 0 ] ||
    e2e_fail "sendmail: the submission stays in the maildrop"
e2e_ok "sendmail: nothing stays in the maildrop"
for i in $(seq 1 50); do
	b=$(grep -l -F "$sm" $(sb_relay_bounces) 2>/dev/null || true)
	[ -n "$b" ] && break
	sleep 0.2
done
[ -n "$b" ] && grep -q -F '[HTG ENV-MIXED]' $b || e2e_fail "sendmail: no bounce naming [HTG ENV-MIXED]"
e2e_ok "sendmail: bounced naming [HTG ENV-MIXED]"
e2e_assert_arrived sendmail "$sm" 0

# set_rule LINE - add LINE to [rules] or [global] and reload both daemons
set_conf() {
	awk -v sect="$1" -v line="$2" '{ print } $0 == sect { print line }' \
	    "$SB_TMP/htgate.conf.orig" >"$SB_HTGATE_CONF"
	kill -HUP "$SB_MILTER_PID" "$SB_POLICYD_PID"
	for i in $(seq 1 50); do
		[ "$(grep -c 'configuration reloaded' "$SB_TMP/milter.log")" -gt "$3" ] && break
		sleep 0.1
	done
}
cp "$SB_HTGATE_CONF" "$SB_TMP/htgate.conf.orig"

# 2. ENV-MIXED = warn and 3. report_only = yes, over SMTP
n=0
for mode in "[rules]|ENV-MIXED = warn" "[global]|report_only = yes"; do
	set_conf "${mode%%|*}" "${mode#*|}" "$n"
	n=$((n + 1))
	e2e_send mixed$n ags-edifact.eml erp@example.com boss@example.com,AGS@htpoort.nl
	e2e_assert_accepted mixed$n
	id=$SB_MSGID
	sb_wait_drain || e2e_fail "queues did not drain"
	kill -0 "$pid" 2>/dev/null || e2e_fail "${mode#*|}: the milter died"
	e2e_ok "${mode#*|}: the milter (pid $pid) is still there"
	e2e_assert_arrived "mixed$n" "$id" 1
	grep -lF "$id" "$SB_TMP"/relay/mail/local/new/* >/dev/null 2>&1 ||
	    e2e_fail "${mode#*|}: the copy for boss@example.com was not delivered"
	e2e_ok "${mode#*|}: boss@example.com got its copy"
done
grep -q 'role=egress' "$SB_TMP/milter.log" || e2e_fail "no egress decision in the log"
e2e_ok "the copies for HTG were judged at egress"
