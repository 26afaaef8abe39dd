#!/bin/bash
# e2e-repair.sh - a Thunderbird message (a text and an XML attachment
# labelled text/xml) sent by SMTP and by sendmail(1) through the sandbox
# relay with the shipped htgate.conf (repairs on) arrives at the HTG
# stand-in as one application/xml part, base64, whose decoded bytes are
# the attachment's (Python's email package reads both); the repair and
# what it dropped (size, SHA-256 and first line of the text, the SHA-256
# computed here from the sample) are in the milter's decision log line,
# and the decision record has the row with action fix naming MIME-SINGLE
# and MIME-TYPE for both the ingress and the egress stage, its details
# keeping what the repair dropped.  Ports 10138
# (stand-in) and 10132 (relay; egress 10232).
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10138 10132

command -v python3 >/dev/null 2>&1 || e2e_fail "python3 missing"

# check_arrived NAME ID - the dump of ID is the repaired message
check_arrived()
{
	local name=$1 id=$2 f
	e2e_assert_arrived "$name" "$id" 1
	f=$(sb_dump_file_for_msgid "$id")
	sb_dump_message "$f" >"$E2E_OUT/$name.arrived"
	python3 - "$E2E_OUT/$name.eml" "$E2E_OUT/$name.arrived" \
	    >"$E2E_OUT/$name.check" 2>&1 <<'PY' ||
import email, email.policy, sys
pol = email.policy.compat32
sent = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=pol)
got = email.message_from_bytes(open(sys.argv[2], "rb").read(), policy=pol)
att = [p for p in sent.walk() if p.get_filename()][0]
problems = []
if got.is_multipart():
    problems.append("arrived as multipart")
if got.get_content_type() != "application/xml":
    problems.append("Content-Type %s" % got.get("Content-Type"))
if got.get_param("charset") != att.get_param("charset"):
    problems.append("charset %s, sent %s" % (got.get_param("charset"), att.get_param("charset")))
if (got.get("Content-Transfer-Encoding") or "").strip().lower() != "base64":
    problems.append("Content-Transfer-Encoding %s" % got.get("Content-Transfer-Encoding"))
if got.get_filename() != att.get_filename() or \
        not (got.get("Content-Disposition") or "").lower().startswith("attachment"):
    problems.append("Content-Disposition %s" % got.get("Content-Disposition"))
if got.get_payload(decode=True) != att.get_payload(decode=True):
    problems.append("decoded bytes differ (%d arrived, %d attached)" % (
        len(got.get_payload(decode=True) or b""), len(att.get_payload(decode=True))))
if problems:
    print("; ".join(problems))
    sys.exit(1)
PY
	    e2e_fail "$name: not the repaired message: $(tail -n 3 "$E2E_OUT/$name.check")"
	e2e_ok "$name: one application/xml base64 part, decoded bytes equal to the attachment"
}

# dropped_sha NAME - SHA-256 of the sample's text part as sent (decoded)
dropped_sha()
{
	python3 - "$E2E_OUT/$1.eml" <<'PY'
import email, email.policy, hashlib, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read().replace(b"\n", b"\r\n"),
                             policy=email.policy.compat32)
t = [p for p in m.walk() if p.get_content_type() == "text/plain" and not p.get_filename()][0]
print(hashlib.sha256(t.get_payload(decode=True)).hexdigest())
PY
}

# 1. SMTP
e2e_send smtp thunderbird-xml.eml jan.devries@example.com AGS@htpoort.nl
e2e_assert_accepted smtp
smtp=$SB_MSGID

# 2. sendmail(1) on the relay: non_smtpd_milters, cleanup applies the repair
sb_render "$E2E_SAMPLES/thunderbird-xml.eml" "$E2E_OUT/sendmail.eml"
sm=$SB_MSGID
sb_sendmail -f jan.devries@example.com -t <"$E2E_OUT/sendmail.eml" ||
    e2e_fail "sendmail of the Thunderbird message failed"
e2e_ok "sendmail: submitted"

sb_wait_drain || e2e_fail "queues did not drain"
check_arrived smtp "$smtp"
check_arrived sendmail "$sm"

sha=$(dropped_sha smtp)
for id in "$smtp" "$sm"; do
	line=$(grep -F "msgid=<$id>" "$SB_TMP/milter.log" | grep -F 'action=accept' |
	    grep -v 'role=egress' | head -n 1)
	echo "$line" | grep -q 'rule=fix:MIME-SINGLE,fix:MIME-TYPE' ||
	    e2e_fail "$id: no ingress decision naming fix:MIME-SINGLE,fix:MIME-TYPE: ${line:-none}"
	echo "$line" | grep -qF "dropped text " && echo "$line" | grep -qF "sha256=$sha" &&
	    echo "$line" | grep -qF "first line 'Beste,'" ||
	    e2e_fail "$id: the decision log does not keep the dropped text (sha256=$sha): $line"
	e2e_ok "$id: the log keeps the dropped text (size, sha256=${sha:0:12}..., first line)"
	grep -F "msgid=<$id>" "$SB_TMP/milter.log" | grep -F 'role=egress' |
	    grep -qF 'action=accept' ||
	    e2e_fail "$id: the egress stage did not pass the repaired message"
	e2e_ok "$id: the repaired message passed the egress stage unchanged"
	rows=$(sb_report show "$id" 2>&1)
	echo "$rows" | grep -E '^  action  *fix' >/dev/null &&
	    echo "$rows" | grep -E '^  rules  *.*MIME-SINGLE.*MIME-TYPE' >/dev/null ||
	    e2e_fail "$id: the record has no fix row naming MIME-SINGLE and MIME-TYPE: $rows"
	e2e_ok "$id: the decision record has its fix row (MIME-SINGLE, MIME-TYPE)"
	echo "$rows" | grep -qF "repair: unwrapped multipart/mixed" &&
	    echo "$rows" | grep -qF "sha256 $sha" ||
	    e2e_fail "$id: the record's details do not keep what the repair dropped: $rows"
	e2e_ok "$id: the record's details keep the dropped text (sha256 ${sha:0:12}...)"
done
[ "$(sb_queue_deferred relay)" = 0 ] || e2e_fail "mail stays queued at the relay"
e2e_ok "nothing left queued"
