#!/bin/bash
# pg-relays.sh - a relay pair sharing one PostgreSQL record (issue 13):
# the sandbox's relay and a second relay (sandbox/lib.sh
# sb_start_relay_named), each with its own htgate-milter and
# htgate-policyd, one HTG stand-in, [record] database = postgresql://...
# (1) N identical messages (one Message-ID) sent at once, split across
# both relays: exactly one reaches the stand-in, the others are refused
# naming HDR-MSGID (at ingress, or bounced by an egress stage).
# (2) PostgreSQL stopped: HTG mail queued on both relays tempfails at the
# egress stage and stays queued (nothing reaches HTG, nothing is lost), a
# new submission is refused with a 4xx; after the restart every queued
# message arrives exactly once.  (3) The rate window is shared: with
# [rules] ENV-RATE = tempfail and rate_limit = 2, two messages through
# one relay use the window up and the other relay defers the third.
# Ports 10130, 10131 and 10133 (egress stages 10231-10234: each relay
# has one per environment, at its port + 100 and + 101).  TAP; skipped only
# without PostgreSQL (or without the sandbox's programs).
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
. "$(dirname "$0")/pg-lib.sh"
pg_skip_unless_installed
N=${PG_UNIQUE_N:-8}
RELAY2=10133
e2e_begin 10130 10131
# pg_on_exit - stop PostgreSQL first; then the logs (the relay pair's
# too) after a failure, and the plan
pg_on_exit()
{
	sb_pg_stop
	sb_tap_on_exit
}
SB_TAP_LOGS="$SB_TAP_LOGS relay2/maillog relay2-milter.log relay2-policyd.log pg/server.log"
SB_CLEANUP_HOOK=pg_on_exit
SB_PG_FSYNC=off sb_pg_start "$PG_BIN"
REPORT=$top_builddir/tools/htgate-report

# The record of both relays: PostgreSQL; schema by htgate-report init.
sed -i "s|^database =.*|database = ${SB_PG_URL//&/\\&}|" "$SB_HTGATE_CONF"
grep -q "^database = postgresql://" "$SB_HTGATE_CONF" || e2e_fail "no [record] database line in htgate.conf"
"$REPORT" -c "$SB_HTGATE_CONF" init >"$SB_TMP/init.log" 2>&1 || e2e_fail "htgate-report init: $(cat "$SB_TMP/init.log")"
e2e_ok "htgate-report init: $(cat "$SB_TMP/init.log")"
sb_stop_milter; sb_start_milter
sb_stop_policyd; sb_start_policyd
sb_start_relay_named relay2 "$RELAY2"
e2e_ok "two relays (127.0.0.1:$SB_PORT_RELAY, 127.0.0.1:$RELAY2) with their own daemons, one PostgreSQL"

# send2 NAME PORT FILE [swaks args] - one message to a relay
send2()
{
	local name=$1 port=$2 file=$3
	shift 3
	swaks --server 127.0.0.1 --port "$port" --helo erp.example.com --timeout 30 \
	    --from erp@example.com --to AGS@htpoort.nl --data "@$file" "$@" \
	    >"$E2E_OUT/$name.swaks" 2>&1 || true
}
# bounces_for ID - bounces naming HDR-MSGID for Message-ID ID on both relays
bounces_for()
{
	local f n=0
	for f in "$SB_TMP"/relay/mail/local/new/* "$SB_TMP"/relay2/mail/local/new/*; do
		[ -f "$f" ] || continue
		grep -q -F "$1" "$f" && grep -q -F '[HTG HDR-MSGID]' "$f" && n=$((n + 1))
	done
	echo $n
}
both() { postconf -c "$SB_TMP/relay/etc" "$@" && postconf -c "$SB_TMP/relay2/etc" "$@"; }
reload_both() {
	postfix -c "$SB_TMP/relay/etc" reload >/dev/null 2>&1
	postfix -c "$SB_TMP/relay2/etc" reload >/dev/null 2>&1
	sleep 1
}

# 1. N identical Message-IDs at once, split across the relays
sb_render "$E2E_SAMPLES/ags-edifact.eml" "$E2E_OUT/same.eml"
same=$SB_MSGID
for i in $(seq 1 "$N"); do
	if [ $((i % 2)) = 1 ]; then port=$SB_PORT_RELAY; else port=$RELAY2; fi
	send2 "same$i" "$port" "$E2E_OUT/same.eml" &
done
wait
e2e_tally_copies "$N"
queued=$E2E_QUEUED
e2e_ok "$N copies over two relays: $queued queued, $E2E_REFUSED refused at ingress naming HDR-MSGID"
sb_wait_drain_all relay relay2 standin || e2e_fail "queues did not drain"
sleep 1
sb_wait_drain_all relay relay2 standin || e2e_fail "queues did not drain"
e2e_assert_arrived same "$same" 1
b=$(bounces_for "$same")
[ "$b" = $((queued - 1)) ] || e2e_fail "wanted $((queued - 1)) bounces naming HDR-MSGID, found $b"
e2e_ok "the $b other queued copies were bounced by an egress stage naming HDR-MSGID"
n=$(sb_pg_psql "select count(*) from claim where kind = 'msgid' and id = '<$same>'")
[ "$n" = 1 ] || e2e_fail "claims of the Message-ID in PostgreSQL: $n"
e2e_ok "one claim of the Message-ID in PostgreSQL"

# 2. PostgreSQL stopped: HTG mail tempfails, nothing lost, then flows
both -e "defer_transports = htg-gate"
reload_both
ids=
for r in relay relay2; do
	for i in 1 2; do
		sb_render "$E2E_SAMPLES/ags-edifact.eml" "$E2E_OUT/down-$r-$i.eml"
		ids="$ids $SB_MSGID"
		if [ $r = relay ]; then port=$SB_PORT_RELAY; else port=$RELAY2; fi
		send2 "down-$r-$i" "$port" "$E2E_OUT/down-$r-$i.eml"
		e2e_assert_accepted "down-$r-$i"
	done
done
sb_pg_stop
e2e_ok "PostgreSQL stopped with 2 HTG messages queued on each relay"
sb_render "$E2E_SAMPLES/ags-edifact.eml" "$E2E_OUT/while-down.eml"
send2 while-down "$SB_PORT_RELAY" "$E2E_OUT/while-down.eml"
v=$(sb_swaks_verdict "$E2E_OUT/while-down.swaks")
case $v in 4*) e2e_ok "a new HTG submission while PostgreSQL is down: $v" ;;
*) e2e_fail "a new HTG submission while PostgreSQL is down: wanted 4xx, got $v" ;; esac
both -X defer_transports
reload_both
sb_postqueue_flush relay; sb_postqueue_flush relay2
# wait (40 s at most) for the egress stages' tempfails (451 4.3.0)
for i in $(seq 1 200); do
	[ "$(grep -c 'status=deferred.*4\.3\.0' "$SB_TMP/relay/maillog")" -ge 2 ] &&
	    [ "$(grep -c 'status=deferred.*4\.3\.0' "$SB_TMP/relay2/maillog")" -ge 2 ] && break
	sleep 0.2
done
sleep 0.5
for id in $ids; do
	n=$(sb_dump_file_for_msgid "$id" | grep -c . || true)
	[ "$n" = 0 ] || e2e_fail "$id reached the stand-in while PostgreSQL was down"
done
d1=$(sb_queue_deferred relay) d2=$(sb_queue_deferred relay2)
[ "$d1" -ge 2 ] && [ "$d2" -ge 2 ] || e2e_fail "deferred while down: relay $d1, relay2 $d2 (wanted 2 each)"
grep -q 'status=deferred.*4\.3\.0' "$SB_TMP/relay2/maillog" ||
    e2e_fail "no 4.3.0 deferral (the egress stage's tempfail) in relay2's log"
e2e_ok "while down: nothing reached the stand-in, relay $d1 and relay2 $d2 deferred by the egress stage (4.3.0)"
sb_pg_launch
e2e_ok "PostgreSQL restarted"
sb_postqueue_flush relay; sb_postqueue_flush relay2
sleep 1
sb_wait_drain_all relay relay2 standin || e2e_fail "queues did not drain after the restart"
for i in $(seq 1 50); do
	[ "$(sb_queue_deferred relay)" = 0 ] && [ "$(sb_queue_deferred relay2)" = 0 ] && break
	sb_postqueue_flush relay; sb_postqueue_flush relay2
	sleep 0.5
	sb_wait_drain_all relay relay2 standin >/dev/null 2>&1 || true
done
for id in $ids; do
	n=$(sb_dump_file_for_msgid "$id" | grep -c . || true)
	[ "$n" = 1 ] || e2e_fail "$id arrived ${n}x after the restart, wanted once"
done
e2e_ok "after the restart each of the 4 queued messages arrived exactly once"

# 3. one rate window for both relays
sed -e 's/^\[account example\]$/[account example2]/' \
    -e 's/^rate_limit = .*/rate_limit = 2/' -e 's/^rate_window = .*/rate_window = 600/' \
    -e 's/^\[rules\]$/[rules]\nENV-RATE = tempfail/' "$SB_HTGATE_CONF" >"$SB_TMP/rate.conf"
grep -q '^ENV-RATE = tempfail$' "$SB_TMP/rate.conf" || e2e_fail "rate.conf"
cp "$SB_TMP/rate.conf" "$SB_HTGATE_CONF"
kill -HUP "$SB_MILTER_PID" "$SB_POLICYD_PID" "$SB_RELAY2_MILTER_PID" "$SB_RELAY2_POLICYD_PID"
for i in $(seq 1 50); do
	[ "$(grep -c 'reloaded' "$SB_TMP/policyd.log")" -ge 1 ] &&
	    [ "$(grep -c 'reloaded' "$SB_TMP/relay2-policyd.log")" -ge 1 ] && break
	sleep 0.1
done
grep -q reloaded "$SB_TMP/relay2-policyd.log" ||
    e2e_fail "relay2's htgate-policyd did not reload: $(tail -n 3 "$SB_TMP/relay2-policyd.log")"
for i in 1 2; do
	sb_render "$E2E_SAMPLES/ags-edifact.eml" "$E2E_OUT/rate$i.eml"
	send2 "rate$i" "$SB_PORT_RELAY" "$E2E_OUT/rate$i.eml"
	e2e_assert_accepted "rate$i"
done
sb_render "$E2E_SAMPLES/ags-edifact.eml" "$E2E_OUT/rate3.eml"
send2 rate3 "$RELAY2" "$E2E_OUT/rate3.eml"
e2e_assert_reply rate3 450 RCPT "[HTG ENV-RATE]"
e2e_ok "two messages through the first relay used the shared window up: the second relay deferred the third"
