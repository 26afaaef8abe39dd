#!/bin/sh
#
# NAME
#	run.sh - the decision record and htgate-report
# DESCRIPTION
#	Writes a known set of decisions (generated below, times relative to
#	now) with record_fill, then checks: summary --by rule/day/sender in
#	text, CSV and HTML against counts computed from the same input;
#	show by queue id, Message-ID and ENVID prints rule and reply; HTML
#	escapes hostile values; two concurrent writers of 500 rows each give
#	1000 rows; a writer killed with SIGKILL loses no acknowledged row;
#	claims of Message-IDs and ENVIDs (retry by the same holder, another
#	holder refused); four threads sharing one handle
#	write 1000 rows; purge; the body hash; the [record] keys of
#	htgate.conf (file:line errors, database default, retention used by
#	purge).  Schema version 4 in schema_version (and PRAGMA
#	user_version); the query plan of every lookup uses an index (a full
#	scan of a table fails the test), the summaries read covering
#	indexes; init, info (database size), metrics parsed by the
#	Prometheus text-format parser of Debian's python3-prometheus-client
#	(plus a strict line check).
#	TAP (tests/tap.sh): one line per check; exit 0 all passed, 1 a
#	failure; skipped when sqlite3 or python3 is missing.
# OWNERSHIP
#	tests/report.
#
set -u
: "${top_builddir:?}"
REPORT=${REPORT:-$top_builddir/tools/htgate-report}
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
FILL=${FILL:-$top_builddir/tests/report/record_fill}
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/tap.sh"
for b in sqlite3 python3; do
	command -v $b >/dev/null 2>&1 || tap_skip_all "$b missing"
done
[ -x "$REPORT" ] && [ -x "$FILL" ] || tap_bail_out "programs not built"
TMP=$(mktemp -d) || exit 1
PIDS=
trap 'st=$?; for p in $PIDS; do kill -9 $p 2>/dev/null; done; rm -rf "$TMP"; tap_end $st; exit $?' EXIT
DB=$TMP/record.db
T=$(printf '\t')

# ok LABEL / fail LABEL [DETAIL] - one result line
ok() { tap_ok "$1"; }
fail() { tap_not_ok "$@"; }
# check - "label" "want" "got"
check() { if [ "$2" = "$3" ]; then ok "$1"; else fail "$1" "want [$2] got [$3]"; fi; }

# 1. the input: day offset, action, rules, sender, qid, msgid, envid, reply
now=$(date +%s)
day0=$(( (now / 86400 - 3) * 86400 + 3600 ))	# 01:00 UTC three days ago
gen() {
	cat <<'IN'
0 accept - erp@example.com Q1 <m1@example.com> E1 -
0 reject HDR-CC erp@example.com Q2 <m2@example.com> E2 550 5.6.0 [HTG HDR-CC] Cc not allowed
0 reject HDR-CC,MIME-CHARSET ops@example.com Q3 <m3@example.com> E3 550 5.6.0 [HTG HDR-CC] Cc not allowed\n550 5.6.0 [HTG MIME-CHARSET] charset
1 fix HDR-MSGID erp@example.com Q4 <m4@example.com> E4 -
1 tempfail INTERNAL ops@example.com Q5 <m5@example.com> E5 451 4.3.0 [HTG INTERNAL] try again
1 warn HDR-CC <script>&x"@evil.example Q6 <m6@example.com> E6 -
2 reject ENV-NOTIFY erp@example.com Q7 <m7@example.com> E7 550 5.5.4 [HTG ENV-NOTIFY] NOTIFY required
2 accept - erp@example.com Q8 <m8@example.com> E8 -
2 reject HDR-CC,ENV-RATE:warn ops@example.com Q9 <m9@example.com> E9 550 5.6.0 [HTG HDR-CC] Cc not allowed
IN
}
gen | while read -r d action rules sender qid msgid envid reply; do
	t=$((day0 + d * 86400))
	[ "$reply" = "" ] && reply=-
	printf '%s\thost1\t%s\teom\t%s\t%s\t%s\tlogin\tAGS@msa-smtp.htpoort.nl\tAGS\tproduction\t%s\t%s\t1234\t-\t%s\tmilter\n' \
		"$t" "$qid" "$action" "$(echo "$rules" | tr , ' ')" "$sender" "$msgid" "$envid" "$reply"
done >"$TMP/in.tsv"
"$FILL" "$DB" tsv <"$TMP/in.tsv" || tap_bail_out "record_fill tsv failed"
check "rows written" "$(wc -l <"$TMP/in.tsv" | tr -d ' ')" "$(sqlite3 "$DB" 'select count(*) from decision')"
check "journal mode" "wal" "$(sqlite3 "$DB" 'pragma journal_mode')"
check "schema version" "4" "$(sqlite3 "$DB" 'select max(version) from schema_version')"
check "PRAGMA user_version follows schema_version" "4" "$(sqlite3 "$DB" 'pragma user_version')"
"$REPORT" -d "$DB" init | grep -q '^schema version 4: up to date$' && ok "init: up to date" || fail "init: up to date"
"$REPORT" -d "$TMP/new.db" init | grep -q '^schema version 4: created$' && ok "init: created" || fail "init: created"
out=$("$REPORT" -d "$DB" info)
echo "$out" | grep -q '^backend: sqlite$' && echo "$out" | grep -q '^decisions: 9$' \
	&& echo "$out" | grep -qE '^database size: [0-9]+ bytes' && ok "info: backend, rows, size" || fail "info" "$out"

# EXPLAIN QUERY PLAN: every lookup uses an index; a full scan of a table
# ("SCAN decision" without an index) fails; a summary reads an index
for q in claim claimed show sender_of purge rate; do
	plan=$("$FILL" "$DB" explain $q)
	if echo "$plan" | grep -qE 'SCAN (decision|claim|rate_event)( |;|$)' || [ -z "$plan" ]; then
		fail "query plan of $q uses an index" "$plan"
	else
		ok "query plan of $q uses an index"
	fi
done
plan=$("$FILL" "$DB" explain summary-since)
case $plan in *"COVERING INDEX"*) ok "summary reads a covering index" ;;
*) fail "summary reads a covering index" "$plan" ;; esac

# metrics: the Prometheus text format, parsed; the counts of the rows
"$REPORT" -d "$DB" metrics -o "$TMP/htgate.prom" && [ ! -e "$TMP/htgate.prom.tmp" ] \
	&& ok "metrics -o writes the file (renamed into place)" || fail "metrics -o"
if /usr/bin/python3 -c 'import prometheus_client.parser' 2>/dev/null; then
	got=$(/usr/bin/python3 "$top_srcdir/tests/report/prom_check.py" "$TMP/htgate.prom" 2>&1)
	check "metrics parsed: decisions, HDR-CC findings, rejects, histogram, rows" "9 4 4 histogram 9" "$got"
else
	tap_skip "metrics parsed by prometheus_client" "python3-prometheus-client not installed"
fi
bad=$(grep -v -E '^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+|[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? -?[0-9.e+]+)$' "$TMP/htgate.prom")
check "metrics: every line is a HELP, TYPE or sample line" "" "$bad"
grep -q '^htgate_record_write_seconds_bucket{daemon="milter",le="+Inf"} ' "$TMP/htgate.prom" \
	&& ok "metrics: write latency histogram with +Inf" || fail "metrics: write latency histogram"

# expect - "key total accepted rejected tempfailed" lines from the input, by field
# (1 day, 2 rule, 3 sender), sorted like the text output of that kind
expect() {
	awk -F"$T" -v by="$1" '
	# a rule written "RULE:warn" counts under its own action
	function add(k, a) { tot[k]++; if (a == "reject") rej[k]++; else if (a == "tempfail") tf[k]++; else acc[k]++ }
	{ if (by == "day") add(strftime("%Y-%m-%d", $1, 1), $5);
	  else if (by == "sender") add($7, $5);
	  else { n = split($6, r, " "); for (i = 1; i <= n; i++) if (r[i] != "-" && !(r[i] in seen)) { seen[r[i]]; m = split(r[i], ra, ":"); add(ra[1], m > 1 ? ra[2] : $5) } delete seen } }
	END { for (k in tot) printf "%s %d %d %d %d\n", k, tot[k], acc[k] + 0, rej[k] + 0, tf[k] + 0 }' "$TMP/in.tsv" | sort
}

for by in day rule sender; do
	want=$(expect $by)
	# text output escapes quotes and control characters (log_sanitize)
	got=$("$REPORT" -d "$DB" summary --by $by --format text | tail -n +2 | awk '{k=$1; for (i=2;i<NF-3;i++) k=k" "$i; print k, $(NF-3), $(NF-2), $(NF-1), $NF}' | sed 's/\\"/"/g' | sort)
	check "summary --by $by text" "$want" "$got"
	got=$("$REPORT" -d "$DB" summary --by $by --format csv | tail -n +2 | tr -d '\r' | python3 -c '
import csv, sys
for r in csv.reader(sys.stdin): print(" ".join(r))' | sort)
	check "summary --by $by csv" "$want" "$got"
done
since=$(date -u -d "@$((day0 + 86400))" +%Y-%m-%d)
check "summary --since $since" "$(awk -F"$T" -v c=$((day0 + 86400 - 3600)) '$1 >= c' "$TMP/in.tsv" | wc -l | tr -d ' ')" \
	"$("$REPORT" -d "$DB" summary --since "$since" --format csv | tail -n +2 | awk -F, '{s += $2} END {print s}')"
"$REPORT" -d "$DB" summary --since 2026-13-45 >/dev/null 2>&1; check "bad --since exit" 2 $?
"$REPORT" -d "$DB" summary --by sender --format csv | grep -q '^"<script>&x""@evil.example",' \
	&& ok "csv quoting" || fail "csv quoting"

# HTML: per-day table counts, top rules, escaping
"$REPORT" -d "$DB" summary --by day --format html -o "$TMP/r.html" || fail "html report written (exit 0)"
for line in $(expect day | tr ' ' ':'); do
	set -- $(echo "$line" | tr ':' ' ')
	grep -q "<tr><td>$1</td><td class=n>$2</td><td class=n>$3</td><td class=n>$4</td><td class=n>$5</td></tr>" "$TMP/r.html" \
		&& ok "html day $1" || fail "html day $1"
done
for line in $(expect rule | tr ' ' ':'); do
	set -- $(echo "$line" | tr ':' ' ')
	grep -q "<tr><td>$1</td><td class=n>$2</td>" "$TMP/r.html" && ok "html rule $1" || fail "html rule $1"
done
"$REPORT" -d "$DB" summary --by sender --format html -o "$TMP/s.html"
grep -q '&lt;script&gt;&amp;x&quot;@evil.example' "$TMP/s.html" && ! grep -q '<script' "$TMP/s.html" \
	&& ok "html escaping" || fail "html escaping"
grep -q '<svg' "$TMP/r.html" && ! grep -qi 'src=\|href=' "$TMP/r.html" && ok "html self-contained" || fail "html self-contained"

# show: by queue id, Message-ID (with or without <>), ENVID
out=$("$REPORT" -d "$DB" show Q3)
echo "$out" | grep -q 'rules  *HDR-CC MIME-CHARSET' && echo "$out" | grep -q '\[HTG MIME-CHARSET\] charset' \
	&& echo "$out" | grep -q 'action  *reject' && ok "show queue id" || fail "show queue id" "$out"
"$REPORT" -d "$DB" show m2@example.com | grep -q 'reply  *550 5.6.0 \[HTG HDR-CC\]' && ok "show message-id" || fail "show message-id"
"$REPORT" -d "$DB" show E7 | grep -q 'NOTIFY required' && ok "show envid" || fail "show envid"
"$REPORT" -d "$DB" show Q6 | grep -q 'sender  *<script>&x\\"@evil.example$' && ok "show sanitises" || fail "show sanitises"
"$REPORT" -d "$TMP/none.db" summary >/dev/null 2>&1; check "missing database exit" 2 $?
[ ! -e "$TMP/none.db" ] && ok "missing database not created" || fail "missing database not created"
"$REPORT" -d "$DB" show nosuch >/dev/null 2>&1; check "show unknown exit" 1 $?

# claims (record_claim): a Message-ID or ENVID is used when the egress
# stage hands the message to HTG; a decision row alone claims nothing
check "claim new msgid" 0 "$("$FILL" "$DB" claim msgid '<c1@example.com>' H1 86400)"
check "claim again by the same holder (a retry)" 0 "$("$FILL" "$DB" claim msgid '<c1@example.com>' H1 86400)"
check "claim by another holder" 1 "$("$FILL" "$DB" claim msgid '<c1@example.com>' H2 86400)"
check "claimed (read-only)" 1 "$("$FILL" "$DB" claimed msgid '<c1@example.com>' 86400)"
check "claimed: unknown msgid" 0 "$("$FILL" "$DB" claimed msgid '<c9@example.com>' 86400)"
check "claim new envid" 0 "$("$FILL" "$DB" claim envid E-c1 H1 86400)"
check "claim envid by another holder" 2 "$("$FILL" "$DB" claim envid E-c1 H3 86400)"
check "a delivered decision row is no claim" 0 "$("$FILL" "$DB" claimed msgid '<m1@example.com>' $((5 * 86400)))"
check "claimed: unknown envid" 0 "$("$FILL" "$DB" claimed envid E99 $((5 * 86400)))"

# body hash, chunked, against sha256sum
printf 'line one\r\nline two\r\n' >"$TMP/body"
check "body hash" "$(sha256sum <"$TMP/body" | cut -d' ' -f1)" "$("$FILL" "$DB" hash <"$TMP/body")"

# concurrency: two processes, 500 rows each, at the same time
C=$TMP/conc.db
"$FILL" "$C" many 500 A >"$TMP/a.out" 2>"$TMP/a.err" & pa=$!
"$FILL" "$C" many 500 B >"$TMP/b.out" 2>"$TMP/b.err" & pb=$!
PIDS="$pa $pb"
wait $pa; ra=$?; wait $pb; rb=$?
check "concurrent writers exit" "0 0" "$ra $rb"
check "concurrent rows" 1000 "$(sqlite3 "$C" 'select count(*) from decision')"

# one handle shared by 4 threads (the milter's case), 250 writes each
M=$TMP/threads.db
"$FILL" "$M" threads 4 250 2>"$TMP/t.err"; check "threads exit" 0 $?
check "threads rows" 1000 "$(sqlite3 "$M" 'select count(*) from decision')"
check "threads distinct queue ids" 1000 "$(sqlite3 "$M" 'select count(distinct queue_id) from decision')"
tap_diag "write cost with 4 threads: $(cat "$TMP/t.err")"

# SIGKILL mid-run: every acknowledged write is in the database
K=$TMP/kill.db
: >"$TMP/k.out"
"$FILL" "$K" many 1000000 K >"$TMP/k.out" 2>/dev/null & pk=$!
PIDS="$pk"
i=0
while [ "$(wc -l <"$TMP/k.out")" -lt 200 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill -9 $pk; wait $pk 2>/dev/null
acked=$(grep -c '^ok ' "$TMP/k.out")
rows=$(sqlite3 "$K" 'select count(*) from decision')
if [ "$acked" -gt 0 ] && [ "$rows" -ge "$acked" ]; then ok "sigkill: $acked acknowledged, $rows rows"
else fail "sigkill: $acked acknowledged, $rows rows"; fi
last=$(tail -1 "$TMP/k.out" | cut -d' ' -f2)
check "sigkill last acknowledged row present" 1 "$(sqlite3 "$K" "select count(*) from decision where queue_id = 'K-$last'")"

# purge: the expected counts come from the input (its times depend on
# the time of day): --older-than 3 days, then 2.5 days through the API
older() { awk -F"$T" -v c=$((now - $1)) '$1 < c' "$TMP/in.tsv" | wc -l | tr -d ' '; }
old3=$(older 259200)
"$REPORT" -d "$DB" purge --older-than 3 | grep -q "^purged $old3 " && ok "purge --older-than 3 ($old3)" || fail "purge --older-than 3 ($old3)"
old=$(older 216000)
check "purge via api" "$((old - old3))" "$("$FILL" "$DB" purge 216000)"
check "rows after purge" "$(( $(wc -l <"$TMP/in.tsv") - old ))" "$(sqlite3 "$DB" 'select count(*) from decision')"
"$REPORT" -d "$DB" purge --older-than 0 | grep -q "^purged $(( $(wc -l <"$TMP/in.tsv") - old )) " \
	&& ok "purge --older-than 0" || fail "purge --older-than 0"

# [record] in htgate.conf: errors with file:line, database and retention
# used by htgate-report -c (purge without --older-than uses retention)
MILTER=$top_builddir/milter/htgate-milter
printf '[record]\nenabled = yes\nduplicate_action = fix\n' >"$TMP/fix.conf"
check "[record] duplicate_action = fix refused" "$TMP/fix.conf:3: duplicate_action: a duplicate cannot be fixed; use reject, tempfail, warn or ignore" \
	"$("$MILTER" -n -c "$TMP/fix.conf" 2>&1)"
printf '[record]\nretention = 0\n' >"$TMP/ret.conf"
"$MILTER" -n -c "$TMP/ret.conf" 2>&1 | grep -q "ret.conf:2: retention: " && ok "[record] retention range" || fail "[record] retention range"
printf '[record] x\n' >"$TMP/name.conf"
"$MILTER" -n -c "$TMP/name.conf" >/dev/null 2>&1 && fail "[record NAME] refused" || ok "[record NAME] refused"
P=$TMP/p.db
printf '%s\th\tOLD\teom\taccept\t-\ts@x\t-\tr\t-\t-\t-\t-\t1\t-\t-\tmilter\n%s\th\tNEW\teom\taccept\t-\ts@x\t-\tr\t-\t-\t-\t-\t1\t-\t-\tmilter\n' \
	$((now - 11 * 86400)) $((now - 9 * 86400)) | "$FILL" "$P" tsv
printf '[global]\nstate_dir = %s\n[record]\nenabled = yes\ndatabase = %s\nretention = 10\n' "$TMP" "$P" >"$TMP/r.conf"
"$REPORT" -c "$TMP/r.conf" purge | grep -q '^purged 1 records older than 10 days' && ok "purge uses [record] retention" \
	|| fail "purge uses [record] retention"
check "purge kept the younger row" NEW "$(sqlite3 "$P" 'select queue_id from decision')"
cp "$P" "$TMP/record.db"
printf '[global]\nstate_dir = %s\n' "$TMP" >"$TMP/s.conf"
"$REPORT" -c "$TMP/s.conf" show NEW >/dev/null 2>&1 && ok "default database: state_dir/record.db" \
	|| fail "default database: state_dir/record.db"
