#!/bin/bash
# pg-record.sh - the decision record on PostgreSQL (lib/record_pg.c):
# the record's unit suite (claims, races, group commit, rate windows)
# against a private server; htgate-report init (created, then up to
# date), info, summary, show, purge and metrics through the same
# interface as SQLite; every lookup's plan uses an index even when
# sequential scans are discouraged (a missing index shows as "Seq Scan";
# the test fails on it); a daemon refuses a database without the
# schema, naming htgate-report init.  TAP.
. "$(dirname "$0")/../tap.sh"
. "$(dirname "$0")/pg-lib.sh"
. "$top_srcdir/sandbox/lib.sh"
pg_skip_unless_installed
pg_start_bare
REPORT=$top_builddir/tools/htgate-report
FILL=$top_builddir/tests/report/record_fill
URL=$SB_PG_URL

# a daemon's open refuses an empty database, naming htgate-report init
out=$("$FILL" "$URL" many 1 X 2>&1)
case $out in *"run htgate-report init"*) tap_ok "without a schema: refused, naming htgate-report init" ;;
*) tap_not_ok "without a schema: refused, naming htgate-report init" "$out" ;; esac
tap_check "init: created" sh -c "'$REPORT' -d '$URL' init | grep -q '^schema version 4: created\$'"
tap_check "init again: up to date" sh -c "'$REPORT' -d '$URL' init | grep -q '^schema version 4: up to date\$'"
tap_check "one schema version table" test "$(sb_pg_psql 'select max(version) from schema_version')" = 4

# the unit suite of the record against this server
if HTGATE_TEST_PG_URL=$URL "$top_builddir/tests/unit/test_record" >"$SB_TMP/unit.log" 2>&1; then
	tap_ok "unit/test_record on PostgreSQL: $(grep -o 'Checks: [0-9]*, Failures: [0-9]*, Errors: [0-9]*' "$SB_TMP/unit.log")"
else
	tap_not_ok "unit/test_record on PostgreSQL" "$(cat "$SB_TMP/unit.log")"
fi
sb_pg_psql "TRUNCATE decision, claim, tally, rate_event, fetch_msg" >/dev/null

# rows through the same interface as SQLite
now=$(date +%s)
for i in 1 2 3; do
	printf '%s\th\tPQ%s\teom\taccept\t-\ts%s@example.com\t-\tAGS@msa-smtp.htpoort.nl\tAGS\tproduction\t<p%s@x>\tE%s\t10\t-\t-\tmilter\n' \
		"$((now - i * 86400))" $i $i $i $i
done >"$SB_TMP/in.tsv"
printf '%s\th\tPQ9\trcpt\treject\tENV-ONE-RCPT\ts9@example.com\t-\tAGS@msa-smtp.htpoort.nl\tAGS\tproduction\t-\t-\t-\t-\t550 5.5.3 [HTG ENV-ONE-RCPT] one\tpolicyd\n' \
	"$((now - 100 * 86400))" >>"$SB_TMP/in.tsv"
tap_check "rows written" "$FILL" "$URL" tsv <"$SB_TMP/in.tsv"
tap_check "show by Message-ID" sh -c "'$REPORT' -d '$URL' show p2@x | grep -q 'queue_id  *PQ2'"
tap_check "show by queue ID with the reply" sh -c "'$REPORT' -d '$URL' show PQ9 | grep -q 'reply  *550 5.5.3'"
got=$("$REPORT" -d "$URL" summary --by rule --format csv | tr -d '\r' | tail -n +2)
tap_check "summary --by rule" test "$got" = "ENV-ONE-RCPT,1,0,1,0"
got=$("$REPORT" -d "$URL" summary --by day --format csv | tail -n +2 | wc -l)
tap_check "summary --by day: 4 days" test "$got" -eq 4
tap_check "info: postgresql, 4 decisions, a size" sh -c "'$REPORT' -d '$URL' info | tr '\n' ' ' | grep -Eq 'backend: postgresql .*decisions: 4 .*database size: [0-9]+ bytes'"
tap_check "purge --older-than 30: one row" sh -c "'$REPORT' -d '$URL' purge --older-than 30 | grep -q '^purged 1 records'"
"$REPORT" -d "$URL" metrics -o "$SB_TMP/m.prom"
if /usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null; then
	got=$(/usr/bin/python3 "$top_srcdir/tests/report/prom_check.py" "$SB_TMP/m.prom" 2>&1)
	tap_check "metrics parsed ($got)" test "$got" = "3 0 1 histogram 3"
else
	tap_skip "metrics parsed" "python3-prometheus-client not installed"
fi

# the plans: an index for every lookup (sequential scans discouraged)
for q in claim claimed show sender_of purge summary-since rate; do
	plan=$("$FILL" "$URL" explain $q 2>&1)
	case $plan in
	*"Seq Scan on decision"*|*"Seq Scan on claim"*|*"Seq Scan on rate_event"*|"")
		tap_not_ok "query plan of $q uses an index" "$plan" ;;
	*) tap_ok "query plan of $q uses an index" ;;
	esac
done
