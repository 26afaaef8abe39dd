#!/bin/bash
# pg-fetch.sh - two htgate-fetch on two relays (each with its own state
# directory, -S, as two hosts have), one POP3 mailbox, one PostgreSQL
# record (issue 13): the hand-over is claimed in the database (SELECT ...
# FOR UPDATE SKIP LOCKED).  (1) While one fetcher holds an answer (its
# MTA stalls), the other leaves that answer alone ("another htgate-fetch
# is handing it over") and hands over the rest; after the stall the held
# answer is handed over once.  (2) Both fetchers at once over fresh
# answers, several rounds.  Every answer is delivered exactly once and
# the mailbox ends empty; the runs are counted for htgate-report
# metrics.  Ports 10135-10137.  TAP; skipped only without PostgreSQL.
. "$srcdir/fetch/lib.sh"
. "$(dirname "$0")/pg-lib.sh"
pg_skip_unless_installed
POP3=10135 SMTP=10136 SPROXY=10137
fetch_begin $POP3 $SMTP
# pg_fetch_exit - stop PostgreSQL first, then fetch/lib.sh's own hook
pg_fetch_exit()
{
	sb_pg_stop
	sb_tap_on_exit
}
SB_CLEANUP_HOOK=pg_fetch_exit
SB_PG_FSYNC=off sb_pg_start "$PG_BIN"
REPORT=$top_builddir/tools/htgate-report

fetch_start_pop3 $POP3
fetch_start_mta $SMTP
mkdir -p "$T/sf"
start_helper proxy $SPROXY $SMTP "$T/sf" 0
wait_port $SPROXY
sleep 0.2; rm -f "$T/sf/stalled"	# the probe itself was a session
rec="[record]
enabled = yes
database = $SB_PG_URL"
write_conf "$T/a.conf" $POP3 "smtp:127.0.0.1:$SPROXY" "$rec"
write_conf "$T/b.conf" $POP3 "smtp:127.0.0.1:$SMTP" "$rec"
check "htgate-report init" "$REPORT" -c "$T/a.conf" init
mkdir -m 700 "$T/relay1" "$T/relay2"

# 1. relay 1 holds an answer (its MTA stalls); relay 2 leaves it alone
for i in $(seq 1 10); do put_msg "a$i" "Answer $i"; done
"$FETCH" -c "$T/a.conf" -S "$T/relay1" -t 20 >"$T/a1.log" 2>&1 &
PA=$!; SB_STARTED_PIDS="$SB_STARTED_PIDS $PA"
check "relay 1 holds an answer (its MTA stalls)" wait_file "$T/sf/stalled"
"$FETCH" -c "$T/b.conf" -S "$T/relay2" -t 20 >"$T/b1.log" 2>&1; rcb=$?
check "relay 2: done (exit $rcb)" [ "$rcb" -eq 0 ]
check "relay 2 left the held answer alone" grep -q 'outcome=left reason="another htgate-fetch is handing it over"' "$T/b1.log"
check "relay 2 handed over the 9 others" wait_delivered answers 9
touch "$T/sf/release"
wait $PA; rca=$?
check "relay 1: temporary failure for the stalled hand-over (exit $rca)" [ "$rca" -eq 75 ]
"$FETCH" -c "$T/b.conf" -S "$T/relay2" -t 20 >"$T/b2.log" 2>&1
check "the held answer handed over once after the stall" wait_delivered answers 10
check "mailbox empty" [ "$(server_count)" -eq 0 ]
check "exactly once (10)" exactly_once 10

# 2. both relays at once, fresh answers, a few rounds
for i in $(seq 1 30); do put_msg "b$i" "Answer b$i"; done
for round in 1 2 3; do
	"$FETCH" -c "$T/b.conf" -S "$T/relay1" -t 20 >>"$T/c1.log" 2>&1 &
	p1=$!
	"$FETCH" -c "$T/b.conf" -S "$T/relay2" -t 20 >>"$T/c2.log" 2>&1 &
	p2=$!
	wait $p1 $p2
	[ "$(server_count)" -eq 0 ] && break
done
check "both at once: mailbox empty" [ "$(server_count)" -eq 0 ]
check "both at once: 40 handed over" wait_delivered answers 40
check "exactly once (40)" exactly_once 40
n1=$(grep -c 'outcome=delivered' "$T/c1.log"); n2=$(grep -c 'outcome=delivered' "$T/c2.log")
ok "shared between the relays: $n1 and $n2 handed over"
check "40 hand-overs recorded in PostgreSQL" [ "$(sb_pg_psql "select count(*) from fetch_msg where state = 'delivered'")" -eq 40 ]
"$REPORT" -c "$T/b.conf" metrics >"$T/m.prom"
check "metrics: fetch runs counted" grep -q '^htgate_fetch_runs_total{account="company",result="ok"} [1-9]' "$T/m.prom"
check "metrics: last success" grep -q '^htgate_fetch_last_success_timestamp_seconds{account="company"} [1-9]' "$T/m.prom"
check "metrics: the failed run counted" grep -q '^htgate_fetch_runs_total{account="company",result="temp"} 1$' "$T/m.prom"
fetch_done
