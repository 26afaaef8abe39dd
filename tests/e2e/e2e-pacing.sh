#!/bin/bash
# e2e-pacing.sh - the HTG transport paces: three conforming messages sent
# at once, to AGS, DMS and DECO, leave one at a time with the rate delay
# between them (htgate-config --rate-delay 3s; one process, concurrency 1
# and htg_destination_rate_delay, per environment whatever the
# recipient), so the HTG stand-in receives them in three separate
# connections that do not overlap, at least 3 s apart (the stand-in's
# log; the arrival time of each smtp-sink dump, to the millisecond),
# never two in one second (the dump names).
# Ports: stand-in 10142, relay 10143, egress 10243.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
DELAY=3
SB_RATE_DELAY=${DELAY}s
e2e_begin 10142 10143
[ "$(postconf -c "$SB_TMP/relay/etc" -h htg_destination_rate_delay)" = "${DELAY}s" ] ||
    e2e_fail "htg_destination_rate_delay is not ${DELAY}s"
e2e_ok "htgate-config apply --rate-delay ${DELAY}s: htg_destination_rate_delay = ${DELAY}s, htg process limit $(postconf -c "$SB_TMP/relay/etc" -h -F htg/unix/process_limit)"

ids=
for s in AGS DMS DECO; do
	sb_render "$E2E_SAMPLES/ags-edifact.eml" "$E2E_OUT/$s.eml"
	sed -i "s/^To: AGS@htpoort.nl/To: $s@htpoort.nl/" "$E2E_OUT/$s.eml"
	echo "$SB_MSGID" >"$E2E_OUT/$s.id"
done
for s in AGS DMS DECO; do
	sb_swaks_relay --from erp@example.com --to "$s@htpoort.nl" \
	    --data "@$E2E_OUT/$s.eml" >"$E2E_OUT/$s.swaks" 2>&1 &
done
wait
for s in AGS DMS DECO; do
	e2e_assert_accepted "$s"
done

# all three arrive: the last one after about twice the delay
for i in $(seq 1 200); do
	n=0
	for s in AGS DMS DECO; do
		[ -n "$(sb_dump_file_for_msgid "$(cat "$E2E_OUT/$s.id")")" ] && n=$((n + 1))
	done
	[ "$n" = 3 ] && break
	sleep 0.1
done
[ "$n" = 3 ] || e2e_fail "only $n of the 3 messages arrived at the stand-in"
for s in AGS DMS DECO; do
	e2e_assert_arrived "$s" "$(cat "$E2E_OUT/$s.id")" 1
done

# when each arrived (the dump file's modification time), in order
for s in AGS DMS DECO; do
	f=$(sb_dump_file_for_msgid "$(cat "$E2E_OUT/$s.id")")
	printf '%s %s %s\n' "$(date -r "$f" +%s.%N)" "$s" "$(basename "$f")"
done | sort -n >"$E2E_OUT/arrivals"
awk '{ printf "# arrived %s  %s  (dump %s)\n", strftime("%H:%M:%S", $1) substr(sprintf("%.3f", $1 - int($1)), 2), $2, $3 }' \
    "$E2E_OUT/arrivals"
gaps=$(awk 'NR > 1 { printf "%.3f ", $1 - prev } { prev = $1 }' "$E2E_OUT/arrivals")
echo "# gaps between arrivals: $gaps(s)"
# An arrival is the end of a delivery plus the stand-in's own queue (a
# few ms, not always the same): allow 0.2 s of that jitter here; the
# connection times below are exact.
for gap in $gaps; do
	awk -v g="$gap" -v d="$DELAY" 'BEGIN { exit !(g >= d - 0.2) }' ||
	    e2e_fail "two messages arrived ${gap}s apart, less than the ${DELAY}s rate delay"
done
e2e_ok "the stand-in's smtp-sink got them ${gaps}s apart"
names=$(awk '{ print substr($3, 1, 6) }' "$E2E_OUT/arrivals" | sort -u | wc -l)
[ "$names" = 3 ] || e2e_fail "two dumps have the same second in their name"
e2e_ok "no two in the same second (dump names $(awk '{ printf "%s ", substr($3, 1, 6) }' "$E2E_OUT/arrivals"))"

# one at a time: the relay's connections to the stand-in do not overlap
# (a session that ends right after CONNECT is a port probe of the setup)
sb_standin_log | grep -E 'postfix/smtpd\[[0-9]+\]: (connect from|disconnect from|lost connection after CONNECT)' |
    sed -E 's/^[A-Z][a-z]* +[0-9]+ ([0-9:]+) .*: (connect from|disconnect from|lost connection after CONNECT).*/\1 \2/' |
    awk '{ print $1, $2 == "lost" ? "probe" : $2 }' >"$E2E_OUT/conns"
tap_diag <"$E2E_OUT/conns"
awk '$2 == "connect" { open++; if (open > max) max = open; n++ }
    $2 == "probe" { n--; probe = 1 }
    $2 == "disconnect" { open-- }
    END { exit !(max == 1 && n == 3) }' "$E2E_OUT/conns" ||
    e2e_fail "the stand-in saw overlapping connections, or not 3"
e2e_ok "three connections to the stand-in, one at a time"
# The next connection starts DELAY after the previous delivery ended, so
# the connections are more than DELAY apart: whole seconds in the log
# differ by DELAY or more.
cgaps=$(awk '$2 == "connect" { split($1, t, ":"); c[++n] = t[1] * 3600 + t[2] * 60 + t[3] }
    $2 == "probe" { n-- }
    END { for (i = 2; i <= n; i++) { g = c[i] - c[i - 1]; if (g < 0) g += 86400; printf "%d ", g } }' \
    "$E2E_OUT/conns")
for gap in $cgaps; do
	[ "$gap" -ge "$DELAY" ] || e2e_fail "two connections to the stand-in only ${gap}s apart"
done
e2e_ok "the connections to the stand-in are ${cgaps}s apart (rate delay ${DELAY}s)"
