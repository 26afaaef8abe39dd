#!/bin/bash
# fetch-lock: two runs at once never work one mailbox: the second exits
# cleanly with a message (-w 0) or waits for the first (-w N).
. "$srcdir/fetch/lib.sh"
POP3=10194 SMTP=10195 SPROXY=10196

fetch_begin $POP3 $SMTP
fetch_start_pop3 $POP3
fetch_start_mta $SMTP
mkdir -p "$T/sf"
start_helper proxy $SPROXY $SMTP "$T/sf" 0
wait_port $SPROXY || tap_bail_out "proxy did not start"
sleep 0.2; rm -f "$T/sf/stalled"	# the probe itself was a session
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SPROXY"
put_msg m1 "One"; put_msg m2 "Two"

"$FETCH" -c "$T/htgate.conf" -t 20 >"$T/first.log" 2>&1 &
P1=$!; SB_STARTED_PIDS="$SB_STARTED_PIDS $P1"
check "first run holds the mailbox (MTA stalled)" wait_file "$T/sf/stalled"
run_fetch "$T/second.log" -w 0
check "second run (-w 0): exit 75 at once" [ "$rc" -eq 75 ]
check "second run: clear message" grep -q 'another htgate-fetch is working this mailbox' "$T/second.log"
"$FETCH" -c "$T/htgate.conf" -t 20 -w 30 >"$T/third.log" 2>&1 &
P3=$!; SB_STARTED_PIDS="$SB_STARTED_PIDS $P3"
sleep 1
check "third run (-w 30) is waiting" kill -0 $P3
touch "$T/sf/release"
wait $P1; rc1=$?
wait $P3; rc3=$?
check "first run: temporary failure for the stalled message" [ "$rc1" -eq 75 ]
check "third run: waited, then delivered everything" \
	eval '[ "$rc3" -eq 0 ] && wait_delivered answers 2'
check "server empty" [ "$(server_count)" -eq 0 ]
check "exactly once" exactly_once 2
fetch_done
