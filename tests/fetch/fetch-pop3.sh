#!/bin/bash
# fetch-pop3: the POP3 client and the hand-over against servers that
# misbehave (helper.py pop3 and its flags): logins without CAPA, without
# SASL PLAIN or with AUTH PLAIN refused go through USER/PASS; an odd AUTH
# answer, a [SYS/TEMP] login refusal, a RETR refused, a silent server
# (timeout), a greeting that is not +OK, an unknown host or a closed port
# are temporary (75); a connection closed at STLS, a missing CA file, a
# message bigger than LIST said, with a NUL byte or a 70000-byte line,
# one no [route] and no fetch_recipient claim, or a sendmail that fails
# are kept or fail (1); a 10000-byte greeting is read in pieces; the
# progress line on a terminal; an IPv6 fetch_deliver address.  Ports
# 10129 (POP3) and 10118 (MTA).
. "$srcdir/fetch/lib.sh"
POP3=10129 SMTP=10118

fetch_begin $POP3 $SMTP
fetch_start_mta $SMTP
fetch_fake_pop3 $POP3

# with FLAG... - the next runs see these helper flags only
with()
{
	rm -f "$T/flags"/*
	for f in "$@"; do touch "$T/flags/$f"; done
}

# outcome LABEL WANT_RC PATTERN [ARGS...] - one run: exit status, log line
outcome()
{
	local label=$1 want=$2 pat=$3
	shift 3
	run_fetch "$T/run.log" "$@"
	if [ "$rc" = "$want" ] && grep -q -- "$pat" "$T/run.log"; then
		tap_ok "$label"
	else
		tap_not_ok "$label" "exit $rc, wanted $want; log lacks: $pat" \
		    "$(tail -n 5 "$T/run.log")"
	fi
}

n=0
for f in nocapa noplain authrefuse; do
	with "$f"
	put_msg "$f" "Answer $f"
	n=$((n + 1))
	outcome "$f: logged in with USER/PASS, delivered" 0 "message_id=<$f@htpoort.test> .*outcome=delivered"
	check "$f: USER/PASS on the wire" grep -q '^PASS (secret)' "$T/pop3.wire"
	: >"$T/pop3.wire"
done
check "three answers delivered" wait_delivered answers $n
with authodd
outcome "AUTH PLAIN answered +OK: temporary" 75 "AUTH PLAIN: unexpected answer"
with systemp
outcome "[SYS/TEMP] login refusal: temporary" 75 "authentication as $MAILBOX failed (.*\[SYS/TEMP\]"
put_msg vanish "Vanishing"
with vanish
outcome "RETR refused: temporary, kept" 75 "RETR 1: server said: -ERR no such message any more"
with stall
outcome "a server that stops answering: timeout, temporary" 75 "timeout after 2 seconds" -t 2
with badgreet
outcome "a greeting that is not +OK: temporary" 75 "greeting: server said: HELLO"
with closetls
outcome "closed at STLS: failure" 1 "TLS handshake failed"
with longgreet
outcome "a 10000-byte greeting: read in pieces, delivered" 0 "message_id=<vanish@htpoort.test> .*outcome=delivered"

# Messages the client keeps: bigger than LIST said, a NUL byte, a long line.
head -c 150000 /dev/zero | tr '\0' 'x' | fold -w 76 >"$T/big.body"
put_msg lie "Lying size" "$(cat "$T/big.body")"
with liesize
outcome "bigger than LIST said: kept" 1 'outcome=kept reason="too large (fetch_max_size)"'
rm -f "$MAILDIR"/new/*lie*
printf 'From: HTG <noreply@htpoort.test>\nSubject: nul\n\nbody \001\000 x\n' >"$MAILDIR/new/1.nul"
with
outcome "a NUL byte: kept" 1 'outcome=kept reason="unparseable: NUL byte"'
rm -f "$MAILDIR/new/1.nul"
{ printf 'From: HTG <noreply@htpoort.test>\nSubject: long\n\n'; head -c 70000 /dev/zero | tr '\0' 'y'; echo; } >"$MAILDIR/new/2.long"
outcome "a 70000-byte line: kept" 1 'outcome=kept reason="unparseable: line too long"'
rm -f "$MAILDIR/new/2.long"

# Messages the local MTA or the parser cannot take: empty, too many
# header fields, refused after DATA (Postfix header_checks).
: >"$MAILDIR/new/3.empty"
outcome "an empty message: kept" 1 'outcome=kept reason="unparseable: empty message"'
rm -f "$MAILDIR/new/3.empty"
{ for i in $(seq 1 2100); do echo "X-H$i: x"; done; printf '\nbody\n'; } >"$MAILDIR/new/4.hdrs"
outcome "2100 header fields: kept" 1 'outcome=kept reason="unparseable: '
rm -f "$MAILDIR/new/4.hdrs"
printf '/^Subject: .*REJECTDATA/ REJECT not here\n' >"$T/hc.regexp"
postconf -c "$MTA/etc" -e "header_checks = regexp:$T/hc.regexp"
mta_reload
put_msg rd "Please REJECTDATA"
outcome "refused after DATA: kept" 1 'outcome=kept reason="local MTA at end of data: 550 5.7.1 not here'
rm -f "$MAILDIR"/new/*rd*
postconf -c "$MTA/etc" -e "header_checks ="
mta_reload

# Delivery: no recipient for an answer, sendmail failing, an IPv6 MTA
# address; the progress line on a terminal.
put_msg norcpt "Nobody"
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP" "[route other]" \
	"account = someone-else" "header = Subject" "pattern = *" "recipient = sw@local.test"
sed -i 's/^fetch_recipient = .*/fetch_recipient =/' "$T/htgate.conf"
outcome "no route, no fetch_recipient: kept" 1 "no \[route\] matched and account company has no fetch_recipient"
write_conf "$T/htgate.conf" $POP3 "sendmail:/bin/false"
outcome "a sendmail that fails: kept" 1 "/bin/false exited with status 1"
write_conf "$T/htgate.conf" $POP3 "smtp:[::1]:$SMTP"
outcome "fetch_deliver at [::1] (nobody listens): deferred" 75 "outcome=deferred"
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP"
script -qec "$FETCH -c '$T/htgate.conf' -t 10" /dev/null >"$T/tty.out" 2>&1 </dev/null
check "on a terminal: the progress line" grep -q "company ($MAILBOX): 1 listed, 1 delivered, 0 deleted (delivered earlier), 0 kept, 0 deferred: ok" "$T/tty.out"

# The server itself: an unknown host, a closed port, a CA file missing;
# an empty password file.
sed -i 's/^pop3_host = .*/pop3_host = host.invalid/' "$T/htgate.conf"
outcome "an unknown POP3 host: temporary" 75 "host.invalid"
write_conf "$T/htgate.conf" 10 "smtp:127.0.0.1:$SMTP"
outcome "a closed POP3 port: temporary" 75 "port=10: "
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP"
sed -i "s|^ca_file = .*|ca_file = $T/no-such-ca.crt|" "$T/htgate.conf"
outcome "a CA file that is missing: failure" 1 "cannot load CA file $T/no-such-ca.crt"
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP"
: >"$T/company.pw"
outcome "an empty password file: failure" 1 "password_file: .*company.pw: empty"
check "password never on the wire log or in the logs" no_secret "$T/pop3.wire" "$T"/*.log
fetch_done
