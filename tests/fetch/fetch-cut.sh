#!/bin/bash
# fetch-cut: the POP3 connection is cut (or htgate-fetch is killed with
# SIGKILL while it waits for the local MTA) after a message was handed over
# and marked DELE but before QUIT committed the deletion: the next run
# deletes it without delivering it again.
. "$srcdir/fetch/lib.sh"
POP3=10184 SMTP=10185 PPROXY=10186 SPROXY=10187

# stalled_by PID - the SMTP session the proxy stalled (FLAGDIR/stalled:
# the client's address and port) is a connection of process PID
stalled_by() {
	sport=$(awk '{ print $2 }' "$T/sf/stalled" 2>/dev/null)
	[ -n "$sport" ] &&
	ss -Htnp state established "( sport = :$sport )" | grep -q "pid=$1,"
}

fetch_begin $POP3 $SMTP
fetch_start_pop3 $POP3
fetch_start_mta $SMTP
mkdir -p "$T/pf" "$T/sf"
start_helper proxy $PPROXY $POP3 "$T/pf"
start_helper proxy $SPROXY $SMTP "$T/sf" 1
SPROXY_PID=$!
wait_port $PPROXY && wait_port $SPROXY || tap_bail_out "proxies did not start"
write_conf "$T/htgate.conf" $PPROXY "smtp:127.0.0.1:$SPROXY"
put_msg m1 "One"; put_msg m2 "Two"; put_msg m3 "Three"

# Run 1: message 1 delivered + DELE; the MTA stalls on message 2; then
# the POP3 connection is cut, then the stalled MTA session closes.
"$FETCH" -c "$T/htgate.conf" -t 20 >"$T/cut1.log" 2>&1 &
FPID=$!; SB_STARTED_PIDS="$SB_STARTED_PIDS $FPID"
check "cut: MTA stalls on the second message" wait_file "$T/sf/stalled"
touch "$T/pf/cut"; sleep 0.3; touch "$T/sf/release"
wait $FPID; rc=$?
check "cut: exit 75 (deletion not confirmed)" [ "$rc" -eq 75 ]
check "cut: message 1 delivered" wait_delivered answers 1
check "cut: deletion was not committed (all 3 on the server)" [ "$(server_count)" -eq 3 ]
check "cut: state records message 1" [ "$(grep -vc '^#' "$T/state/fetch-company.state")" -eq 1 ]
check "cut: error says deletions complete next run" grep -q 'deletions not confirmed' "$T/cut1.log"

rm -f "$T/pf/cut"
run_fetch "$T/cut2.log"
check_no_redelivery "next run (message 1 handed over before)" "$T/cut2.log" 1 answers 3
check "cut: each message exactly once" exactly_once 3

# Crash variant: kill -9 while the MTA stalls after one hand-over.  A
# fresh SMTP proxy (its count of hand-overs back at 0): stop the old one
# and wait until its port is free.
kill $SPROXY_PID 2>/dev/null; wait $SPROXY_PID 2>/dev/null
rm -f "$T/sf/stalled" "$T/sf/release"
for _ in $(seq 1 50); do
	ss -Htln "( sport = :$SPROXY )" | grep -q . || break
	sleep 0.1
done
start_helper proxy $SPROXY $SMTP "$T/sf" 1
SPROXY_PID=$!
wait_port $SPROXY || tap_bail_out "the second SMTP proxy did not start"
check "kill: a fresh SMTP proxy (no session stalled yet)" [ ! -e "$T/sf/stalled" ]
put_msg m4 "Four"; put_msg m5 "Five"
"$FETCH" -c "$T/htgate.conf" -t 20 >"$T/kill1.log" 2>&1 &
FPID=$!; SB_STARTED_PIDS="$SB_STARTED_PIDS $FPID"
check "kill: MTA stalls on the second message" wait_file "$T/sf/stalled"
check "kill: htgate-fetch is blocked in the MTA dialogue when killed" stalled_by $FPID
check "kill: the first message was handed over before the stall" \
	grep -q 'message_id=<m4@htpoort.test> .*outcome=delivered' "$T/kill1.log"
kill -9 $FPID; wait $FPID; krc=$?
check "kill: htgate-fetch died of SIGKILL (status $krc)" [ "$krc" -eq 137 ]
touch "$T/sf/release"
check "kill: nothing deleted on the server" [ "$(server_count)" -eq 2 ]
run_fetch "$T/kill2.log"
u4=$(sed -n 's/.* uidl=\([^ ]*\) .*message_id=<m4@htpoort.test> .*outcome=delivered.*/\1/p' "$T/kill1.log")
check "after kill: message 4 deleted without delivery" \
	eval '[ -n "$u4" ] && [ "$(grep -c "uidl=$u4 .*outcome=deleted-already-delivered" "$T/kill2.log")" -eq 1 ]'
check "after kill: exit 0, server empty" eval '[ "$rc" -eq 0 ] && [ "$(server_count)" -eq 0 ]'
check "after kill: 5 messages delivered" wait_delivered answers 5
check "after kill: exactly once" exactly_once 5
fetch_done
