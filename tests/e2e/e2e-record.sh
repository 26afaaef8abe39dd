#!/bin/bash
# e2e-record.sh - the decision record through the sandbox's real Postfix:
# one ingress row for an accepted, a fixed and a refused message (with
# rule, reply, queue ID, SASL-free sender, body SHA-256) and one egress
# row for each message that left, with its Message-ID claimed; a
# recipient refused at RCPT, a duplicate Message-ID (HDR-MSGID) and a
# duplicate ENVID (ENV-ENVID) of a message already sent refused at end
# of message and recorded, htgate-report showing why a message was
# refused and what the sender was told, a milter that cannot write its
# record deferring HTG mail (fail closed), and a row that survives
# kill -9 of the milter right after its decision.
# Ports 10170-10171.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
command -v sqlite3 >/dev/null 2>&1 || { echo "SKIP: sqlite3 missing"; exit 77; }
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 missing"; exit 77; }
e2e_begin 10170 10171

DB=$SB_TMP/state/record.db
REPORT=$top_builddir/tools/htgate-report

# q - one SQL answer from the record
q() { sqlite3 "$DB" "$1"; }
# row - "action|rules|daemon" of the ingress rows for Message-ID <id>
row() { q "select action, coalesce(rules,'-'), daemon from decision where message_id = '<$1>' and daemon <> 'egress' order by id"; }
# egress_row - the same for the egress stage (rows once delivered to it)
egress_row() { q "select action, coalesce(rules,'-'), daemon from decision where message_id = '<$1>' and daemon = 'egress' order by id"; }
# want - label, expected, got
want() { [ "$2" = "$3" ] || e2e_fail "$1: wanted [$2], got [$3]"; e2e_ok "$1: $3"; }

# smtp - python smtplib: PORT FILE TO ENVID; prints the final code
smtp() {
	python3 - "$SB_PORT_RELAY" "$@" <<'PY'
import smtplib, sys
port, path, to, envid = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
data = open(path, "rb").read()
try:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        s.ehlo("erp.example.com")
        s.sendmail("erp@example.com", [to], data,
                   mail_options=["ENVID=" + envid],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
    print("250")
except smtplib.SMTPResponseException as e:
    print(e.smtp_code, e.smtp_error.decode(errors="replace").replace("\n", " / "))
except smtplib.SMTPRecipientsRefused as e:
    for code, msg in e.recipients.values():
        print(code, msg.decode(errors="replace").replace("\n", " / "))
PY
}

# 1. accepted
e2e_send ok ags-edifact.eml erp@example.com AGS@htpoort.nl
ok=$SB_MSGID
e2e_assert_accepted ok
want "accepted: row" "accept|-|milter" "$(row "$ok")"
qid=$(sb_swaks_verdict "$E2E_OUT/ok.swaks" | sed -n 's/.*queued as \([0-9A-F]*\).*/\1/p')
want "accepted: queue ID, sender, recipient, stream, environment" \
    "$qid|erp@example.com|AGS@htpoort.nl|AGS|production" \
    "$(q "select queue_id, sender, recipient, stream, environment from decision where daemon = 'milter' and message_id = '<$ok>'")"
# the body as the relay got it: the lines after the header block with
# CR LF, and the empty line swaks sends before the final "."
sha=$( (sed '1,/^$/d' "$E2E_OUT/ok.eml" | sed 's/$/\r/'; printf '\r\n') | sha256sum | cut -d' ' -f1)
want "accepted: body SHA-256" "$sha" "$(q "select body_sha256 from decision where daemon = 'milter' and message_id = '<$ok>'")"
[ "$(q "select size > 0 and time > strftime('%s','now') - 300 from decision where daemon = 'milter' and message_id = '<$ok>'")" = 1 ] ||
    e2e_fail "accepted: size or time wrong"
e2e_ok "accepted: size and time set"

# 2. fixed: Single Window without NOTIFY gets NOTIFY and an ENVID
e2e_send fix sw-no-notify.eml erp@example.com SINGLEWINDOW@htpoort.nl
fix=$SB_MSGID
e2e_assert_accepted fix
r=$(row "$fix")
case "$r" in
fix\|*ENV-NOTIFY*\|milter) e2e_ok "fixed: row $r" ;;
*) e2e_fail "fixed: row [$r]" ;;
esac
[ -n "$(q "select envid from decision where daemon = 'milter' and message_id = '<$fix>'")" ] ||
    e2e_fail "fixed: the ENVID htgate added is not recorded"
e2e_ok "fixed: ENVID $(q "select envid from decision where daemon = 'milter' and message_id = '<$fix>'") recorded"

# 3. refused at end of message: rule and the reply the sender got
e2e_send cc ags-cc.eml erp@example.com AGS@htpoort.nl
cc=$SB_MSGID
e2e_assert_reply cc 5 END-OF-MESSAGE "[HTG HDR-CC]"
want "refused: row" "reject|HDR-CC|milter" "$(row "$cc")"
reply=$(q "select reply from decision where daemon = 'milter' and message_id = '<$cc>'")
case "$reply" in
550*"[HTG HDR-CC]"*) e2e_ok "refused: reply recorded: $(echo "$reply" | head -n 1)" ;;
*) e2e_fail "refused: reply [$reply]" ;;
esac
grep -E '^<\*\* ' "$E2E_OUT/cc.swaks" | head -n 1 | grep -qF "$(echo "$reply" | head -n 1 | cut -c5-60)" ||
    e2e_fail "refused: the recorded reply is not what swaks was told"
e2e_ok "refused: the recorded reply is what the client was told"

# 4. refused at RCPT (unknown stream): the recipient is in the row
e2e_send stream ags-edifact.eml erp@example.com FOO@htpoort.nl
e2e_assert_reply stream 5 RCPT "[HTG ENV-STREAM]"
n=$(q "select count(*) from decision where rules like '%ENV-STREAM%' and action = 'reject' and recipient like '%FOO@htpoort.nl%'")
[ "$n" -ge 1 ] || e2e_fail "RCPT refusal: no ENV-STREAM row with the recipient"
e2e_ok "RCPT refusal: $n ENV-STREAM row(s) ($(q "select group_concat(daemon) from decision where rules like '%ENV-STREAM%'"))"

# 4b. a second recipient refused at RCPT by the policy daemon: its row
# has the queue ID but not the Message-ID; show by Message-ID finds it
e2e_send two ags-edifact.eml erp@example.com AGS@htpoort.nl,DMS@htpoort.nl
two=$SB_MSGID
e2e_assert_reply two 550 RCPT "[HTG ENV-ONE-RCPT]"
# The policy daemon records after it has answered, and the milter
# after end-of-message: poll (up to 10 s) until both rows are written.
show_two_complete() {
    echo "$1" | grep -q '^  rules .*ENV-ONE-RCPT' && echo "$1" | grep -q '^  daemon  *policyd$' &&
        echo "$1" | grep -q '^  action  *accept$'
}
tries=0
out=$("$REPORT" -d "$DB" show "$two")
while ! show_two_complete "$out" && [ $tries -lt 50 ]; do
    sleep 0.2; tries=$((tries + 1))
    out=$("$REPORT" -d "$DB" show "$two")
done
echo "$out" | sed 's/^/# show two: /'
show_two_complete "$out" ||
    e2e_fail "show by Message-ID: no policyd ENV-ONE-RCPT row beside the milter's accept"
e2e_ok "show by Message-ID includes the RCPT refusal of the same queue ID"

# The accepted messages leave through the egress stage, which records
# them and claims their Message-ID and ENVID.
sb_wait_drain || e2e_fail "queues did not drain"
want "accepted: egress row" "accept|-|egress" "$(egress_row "$ok")"
want "accepted: Message-ID claimed at egress" 1 \
    "$(q "select count(*) from claim where kind = 'msgid' and id = '<$ok>'")"
want "refused at ingress: no egress row, nothing claimed" "|0" \
    "$(egress_row "$cc")|$(q "select count(*) from claim where id = '<$cc>'")"

# 5. duplicate Message-ID: the accepted (and sent) message once more
sb_swaks_relay --from erp@example.com --to AGS@htpoort.nl --data "@$E2E_OUT/ok.eml" \
    >"$E2E_OUT/dup.swaks" 2>&1 || true
sb_swaks_transcript "$E2E_OUT/dup.swaks" | sed 's/^/# dup: /'
e2e_assert_reply dup 550 END-OF-MESSAGE "[HTG HDR-MSGID]"
want "duplicate Message-ID: rows" "accept|-|milter
reject|HDR-MSGID|milter" "$(row "$ok")"

# 6. duplicate ENVID: two messages, two Message-IDs, one ENVID
envid="rec-e2e-$$"
sb_render "$E2E_SAMPLES/sw-no-notify.eml" "$E2E_OUT/e1.eml"; e1=$SB_MSGID
sb_render "$E2E_SAMPLES/sw-no-notify.eml" "$E2E_OUT/e2.eml"; e2=$SB_MSGID
want "ENVID first use" "250" "$(smtp "$E2E_OUT/e1.eml" SINGLEWINDOW@htpoort.nl "$envid")"
sb_wait_drain || e2e_fail "queues did not drain"
r=$(smtp "$E2E_OUT/e2.eml" SINGLEWINDOW@htpoort.nl "$envid")
case "$r" in
550*"[HTG ENV-ENVID]"*) e2e_ok "ENVID reused: $r" | cut -c1-200 ;;
*) e2e_fail "ENVID reused: [$r]" ;;
esac
want "duplicate ENVID: row" "reject|ENV-ENVID|milter" "$(row "$e2")"
want "duplicate ENVID: the first one's row" "accept|-|milter" "$(row "$e1")"

# 7. htgate-report: why was it refused, what was the sender told?
out=$("$REPORT" -d "$DB" show "$cc")
echo "$out" | sed 's/^/# show: /'
echo "$out" | grep -q '^  action  *reject$' && echo "$out" | grep -q '^  rules  *HDR-CC$' &&
    echo "$out" | grep -qF '[HTG HDR-CC]' || e2e_fail "report show: no action, rule or reply"
e2e_ok "htgate-report show names the rule and the reply"
"$REPORT" -d "$DB" show "$qid" | grep -q "^  message_id  *<$ok>\$" || e2e_fail "report show by queue ID"
e2e_ok "htgate-report show by queue ID"
csv=$("$REPORT" -d "$DB" summary --by rule --format csv)
echo "$csv" | sed 's/^/# csv: /'
want "summary: HDR-MSGID" 'HDR-MSGID,1,0,1,0' "$(echo "$csv" | tr -d '\r' | grep '^HDR-MSGID,')"

# 8. fail closed: a milter that cannot write its record defers HTG mail
cp "$SB_HTGATE_CONF" "$SB_TMP/htgate.conf.good"
# (unique_window 0: no lookup first, so the failing step is the write)
sed -i -e "s|^database =.*|database = $SB_TMP/no-such-dir/record.db|" \
    -e 's|^unique_window =.*|unique_window = 0|' "$SB_HTGATE_CONF"
sb_stop_milter
sb_start_milter
e2e_send unrecorded ags-edifact.eml erp@example.com AGS@htpoort.nl
e2e_assert_reply unrecorded 451 END-OF-MESSAGE "[HTG INTERNAL]"
grep -q 'decision record not written: .*no-such-dir.*; deferring' "$SB_TMP/milter.log" ||
    e2e_fail "unrecorded: no log line saying why"
grep -E '^<\*\* ' "$E2E_OUT/unrecorded.swaks" | grep -q no-such-dir &&
    e2e_fail "unrecorded: the reply shows the database path"
e2e_ok "unrecorded: deferred, the log says why, the reply shows no path"
cp "$SB_TMP/htgate.conf.good" "$SB_HTGATE_CONF"
sb_stop_milter
sb_start_milter

# 9. kill -9 right after the decision: the row is there; the message
# waits in the queue (egress fails closed) until the milter is back
e2e_send killed ags-edifact.eml erp@example.com AGS@htpoort.nl
killed=$SB_MSGID
kill -9 "$SB_MILTER_PID"
e2e_assert_accepted killed
want "after kill -9: row" "accept|-|milter" "$(row "$killed")"
want "integrity after kill -9" "ok" "$(q 'pragma integrity_check')"
sb_stop_milter
sb_start_milter
sb_postqueue_flush relay

sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived ok "$ok" 1
e2e_assert_arrived killed "$killed" 1
e2e_assert_secret_unseen
pw=$(cat "$SB_PWFILE")
sqlite3 "$DB" .dump | grep -qF "$pw" && e2e_fail "the password is in the record"
e2e_ok "no password in the record ($(q 'select count(*) from decision') rows)"
