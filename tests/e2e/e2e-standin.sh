#!/bin/bash
# e2e-standin.sh - the HTG stand-in itself behaves like HTG's MSA where it
# matters: STARTTLS required, TLS 1.3 only, AUTH PLAIN/LOGIN only after
# TLS, one recipient per message, DSN offered.  (Without this, the other
# end-to-end tests could pass against a lenient stand-in.)
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10162 10163 stand-in-only

P=$SB_PORT_STANDIN
pw=$(cat "$SB_PWFILE")
st() { swaks --server 127.0.0.1 --port "$P" --helo erp.example.com --timeout 20 "$@" 2>&1 || true; }

# Before STARTTLS: no AUTH offered, MAIL refused.
out=$(st --quit-after EHLO)
echo "$out" | grep -q '^<-  250-STARTTLS' || e2e_fail "STARTTLS not offered"
echo "$out" | grep -q 'AUTH' && e2e_fail "AUTH offered before TLS"
out=$(st --from erp@example.com --to AGS@msa-smtp.htpoort.nl --quit-after MAIL)
echo "$out" | grep -qE '^<\*\* +530' || e2e_fail "MAIL without TLS not refused with 530"
e2e_ok "no AUTH and no MAIL before STARTTLS"

# TLS 1.2 is refused; TLS 1.3 offers AUTH PLAIN LOGIN and DSN.
out=$(st --tls --tls-protocol tlsv1_2 --quit-after TLS)
echo "$out" | grep -q 'TLS started' && e2e_fail "TLS 1.2 accepted"
echo "$out" | grep -q 'TLS startup failed' || e2e_fail "TLS 1.2 not refused in the handshake"
out=$(st --tls --tls-protocol tlsv1_3 --quit-after EHLO)
echo "$out" | grep -q 'TLS started with cipher TLSv1.3' || e2e_fail "no TLS 1.3: $out"
echo "$out" | grep -qE '^<~  250-AUTH PLAIN LOGIN$' || e2e_fail "AUTH PLAIN LOGIN not offered after TLS"
echo "$out" | grep -qE '^<~  250-DSN$' || e2e_fail "DSN not offered"
e2e_ok "TLS 1.2 refused; TLS 1.3 offers AUTH PLAIN LOGIN and DSN"

# One recipient per message: the second RCPT gets 452.
out=$(st --tls -a PLAIN -au "$SB_MAILBOX" -ap "$pw" --from erp@example.com \
    --to AGS@msa-smtp.htpoort.nl,DMS@msa-smtp.htpoort.nl --quit-after RCPT)
echo "$out" | grep -qE '^<~\* +452 4.5.3' || e2e_fail "second recipient not refused with 452 4.5.3"
e2e_ok "second recipient refused with 452 4.5.3"

# Only its own domains: relaying elsewhere is refused even after AUTH.
out=$(st --tls -a PLAIN -au "$SB_MAILBOX" -ap "$pw" --from erp@example.com \
    --to someone@example.net --quit-after RCPT)
echo "$out" | grep -qE '^<~\* +554' || e2e_fail "relaying to example.net not refused"
e2e_ok "no relaying to other domains"

# The right password works for PLAIN and LOGIN; a wrong one is refused
# (last: Dovecot then delays 127.0.0.1 for a few seconds).
for m in PLAIN LOGIN; do
	out=$(st --tls -a "$m" -au "$SB_MAILBOX" -ap "$pw" --quit-after AUTH)
	echo "$out" | grep -qE '^<~  235' || e2e_fail "AUTH $m failed"
done
out=$(st --tls -a PLAIN -au "$SB_MAILBOX" -ap wrong-password --quit-after AUTH)
echo "$out" | grep -qE '^<~\* +535' || e2e_fail "wrong password not refused with 535"
e2e_ok "wrong password refused (535); AUTH PLAIN and LOGIN accepted"

# The password was never logged.
echo "$pw" | grep -q . || e2e_fail "empty password"
if grep -qF "$pw" "$SB_TMP/standin/maillog" "$SB_TMP/dovecot/dovecot.log" 2>/dev/null; then
	e2e_fail "password in a log"
fi
e2e_ok "password not in the stand-in's logs"
