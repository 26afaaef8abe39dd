#!/bin/sh
# tests/milter/repair.sh - repairs (lib/repair.h) by the real htgate-milter,
# driven by miltertest: the header changes and the replaced body of an
# unwrapped Thunderbird message, an 8bit text re-encoded, a windows-1252
# text relabelled without touching its body, refusals with their hints
# (two attachments, winmail.dat, a euro sign under windows-1252), a 3 MB
# attachment kept in a temporary file (repair_memory = 1K) that leaves
# nothing behind and arrives byte for byte (repair-client.py), and the
# same unwrap for a non-SMTP submission (-N); with repair_dir gone the
# message is deferred.
# The decision log lines name the repairs and what the unwrap dropped.
# TAP (tests/tap.sh); skipped only without miltertest.
#
# Environment: top_srcdir, top_builddir (automake's test driver);
# HTGATE_WRAPPER as in run.sh.
set -eu
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/milter/lib.sh"

mkdir "$T/spool"
cat >"$T/htgate.conf" <<CONF
[global]
language = en nl
unwrap_text_limit = 2K
repair_memory = 1K
repair_dir = $T/spool
[stream AGS]
[account example]
senders = *@example.com
streams = *
[rules]
HDR-MSGID = fix
MIME-SINGLE = fix
MIME-TYPE = fix
MIME-CHARSET = fix
MIME-CTE = fix
MIME-7BIT = fix
CONF

start_milter main -
start_milter nonsmtp - -N

run_case repair-unwrap main "rule=fix:MIME-SINGLE,fix:MIME-TYPE" \
	"action=accept stage=eom" "fix: replacebody" \
	"Fixed: multipart/mixed unwrapped: kept AGS.xml (text/xml, 40 bytes); dropped text 26 bytes sha256=" \
	"first line 'Beste,'"
run_case repair-reencode main "fix:MIME-CTE" "fix:MIME-CHARSET" \
	"fix: chgheader Content-Transfer-Encoding base64" \
	"fix: chgheader Content-Type text/plain; charset=ISO-8859-1"
run_case repair-refuse main "reply 550-5.6.1 [HTG MIME-SINGLE]" \
	"[HTG MIME-SINGLE] Attach exactly one file" \
	"[HTG MIME-TYPE] In Outlook, send this message as HTML or plain text" \
	"[HTG MIME-CHARSET] In your mail client, set the encoding" \
	"Verstuur dit bericht in Outlook als HTML" "!action=accept"
# A 3 MB attachment: miltertest's body replacement breaks above about
# 1 KB, so repair-client.py speaks the protocol, applies the changes and
# the file is compared with what was attached (Python's email package).
python3 - "$T/large.eml" "$T/large.pdf" <<'PY'
import base64, os, sys
pdf = b"%PDF-1.4\n" + os.urandom(3 * 1024 * 1024 - 9)
open(sys.argv[2], "wb").write(pdf)
b = base64.encodebytes(pdf).replace(b"\n", b"\r\n")
open(sys.argv[1], "wb").write(
    b"From: ERP <erp@example.com>\r\nTo: AGS@htpoort.nl\r\nSubject: large\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <large@example.com>\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n"
    b"--zz\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nBijlage.\r\n"
    b"--zz\r\nContent-Type: application/pdf; name=\"large.pdf\"\r\n"
    b"Content-Disposition: attachment; filename=\"large.pdf\"\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + b + b"--zz--\r\n")
PY
before=$(wc -l <"$T/main.log")
rc=0
python3 "$MTDIR/repair-client.py" "$T/main.sock" "$T/large.eml" "$T/large.out" \
	>"$T/client.out" 2>&1 || rc=$?
sleep 0.1
tail -n +"$((before + 1))" "$T/main.log" >"$T/case.log"
if [ $rc = 0 ] && python3 - "$T/large.out" "$T/large.pdf" <<'PY'
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.compat32)
ok = (not m.is_multipart() and m.get_content_type() == "application/pdf"
      and m.get_payload(decode=True) == open(sys.argv[2], "rb").read()
      and m.get("Content-Transfer-Encoding").strip() == "base64")
sys.exit(0 if ok else 1)
PY
then
	tap_ok "3 MB attachment unwrapped through the milter, decoded bytes identical"
else
	tap_not_ok "3 MB attachment unwrapped through the milter, decoded bytes identical"
	tap_diag <"$T/client.out"
	sed 's/^/log: /' "$T/case.log" | tap_diag
fi
grep -F "was kept in a temporary file" "$T/case.log" >/dev/null &&
	tap_ok "the 3 MB body was kept in a temporary file (repair_memory 1K)" ||
	tap_not_ok "the 3 MB body was kept in a temporary file (repair_memory 1K)"
run_case repair-unwrap nonsmtp "non-SMTP submission" \
	"action=accept stage=eom rule=fix:MIME-SINGLE,fix:MIME-TYPE" \
	"fix: replacebody"

left=$(find "$T/spool" -type f | wc -l)
if [ "$left" = 0 ]; then
	tap_ok "no temporary file left in repair_dir"
else
	tap_not_ok "no temporary file left in repair_dir" "$left files"
fi

# Fail closed: with repair_dir gone, the body cannot be kept for its
# repair; the message is deferred (451 INTERNAL), never passed unrepaired.
rm -rf "$T/spool"
before=$(wc -l <"$T/main.log")
python3 "$MTDIR/repair-client.py" "$T/main.sock" "$T/large.eml" "$T/gone.out" \
	>"$T/client.out" 2>&1 || :
sleep 0.1
tail -n +"$((before + 1))" "$T/main.log" >"$T/case.log"
if head -n 1 "$T/client.out" | grep -q '^451[- ]4.3.0 \[HTG INTERNAL\]' &&
    grep -F "cannot keep the body for its repair" "$T/case.log" >/dev/null; then
	tap_ok "repair_dir gone: 451 [HTG INTERNAL], the body is not passed unrepaired"
else
	tap_not_ok "repair_dir gone: 451 [HTG INTERNAL], the body is not passed unrepaired"
	tap_diag <"$T/client.out"
	sed 's/^/log: /' "$T/case.log" | tap_diag
fi

for inst in main nonsmtp; do
	grep -E 'runtime error|Sanitizer|LeakSanitizer' "$T/$inst.log" >/dev/null &&
		tap_not_ok "$inst: no sanitizer report" || tap_ok "$inst: no sanitizer report"
done
