#!/bin/bash
# fetch-tls: no STLS -> no credentials sent; TLS below 1.3, a certificate
# for another host or from an unknown CA, data sent before the TLS
# handshake (command injection) -> refused before logging in.
. "$srcdir/fetch/lib.sh"
NOSTLS=10188 TLS12=10189 WRONG=10190 GOOD=10191 SMTP=10199	# SMTP: nobody listens
INJECT=10125

fetch_begin $GOOD $SMTP
sb_make_cert wrong DNS:wrong.example
start_helper nostls $NOSTLS "$T/nostls.wire"
start_helper tls12 $TLS12 "$T/ca/server.crt" "$T/ca/server.key" "$T/tls12.wire"
fetch_start_pop3 $WRONG pop3-wrong wrong
fetch_start_pop3 $GOOD
wait_port $NOSTLS && wait_port $TLS12 || tap_bail_out "helpers did not start"
put_msg m1 "Answer"

write_conf "$T/htgate.conf" $NOSTLS "smtp:127.0.0.1:$SMTP"
run_fetch "$T/nostls.log"
check "no STLS: exit 1" [ "$rc" -eq 1 ]
check "no STLS: clear error" grep -q 'does not offer STLS.*refusing to send credentials' "$T/nostls.log"
check "no STLS: only STLS and QUIT were sent" \
	[ "$(tr -d '\r' < "$T/nostls.wire" | tr '\n' ' ')" = "STLS QUIT " ]
check "no STLS: password never on the wire" no_secret "$T/nostls.wire" "$T/nostls.log"

write_conf "$T/htgate.conf" $TLS12 "smtp:127.0.0.1:$SMTP"
run_fetch "$T/tls12.log"
check "TLS 1.2 server: exit 1" [ "$rc" -eq 1 ]
check "TLS 1.2 server: handshake refused" grep -q 'TLS handshake failed' "$T/tls12.log"
check "TLS 1.2 server: no data sent over it" sh -c "! grep -q TLS-DATA '$T/tls12.wire'"

write_conf "$T/htgate.conf" $WRONG "smtp:127.0.0.1:$SMTP"
run_fetch "$T/wrongip.log"
check "wrong-host cert (IP): exit 1" [ "$rc" -eq 1 ]
check "wrong-host cert (IP): refused" grep -q 'certificate verification failed: IP address mismatch' "$T/wrongip.log"
sed -i 's/^pop3_host = 127.0.0.1/pop3_host = localhost/' "$T/htgate.conf"
run_fetch "$T/wrongname.log"
check "wrong-host cert (name): refused" grep -q 'certificate verification failed: hostname mismatch' "$T/wrongname.log"

write_conf "$T/htgate.conf" $GOOD "smtp:127.0.0.1:$SMTP"
sed -i "s|^ca_file = .*|ca_file = $T/ca/rogue.crt|" "$T/htgate.conf"
run_fetch "$T/unknownca.log"
check "unknown CA: exit 1" [ "$rc" -eq 1 ]
check "unknown CA: refused" grep -q 'certificate verification failed: unable to get local issuer certificate' "$T/unknownca.log"
check "refused servers never saw a login" sh -c "! grep -q 'user=<$MAILBOX>' '$T'/pop3*/dovecot.log"

# A server that sends a second line with its answer to STLS: whatever
# came before the handshake could be taken for an answer inside TLS.
mkdir -p "$T/inject/new" "$T/inject-flags"
touch "$T/inject-flags/inject"
start_helper pop3 $INJECT "$T/ca/server.crt" "$T/ca/server.key" "$T/inject" \
	"$MAILBOX" "$T/company.pw" "$T/inject-flags" "$T/inject.wire"
wait_port $INJECT
write_conf "$T/htgate.conf" $INJECT "smtp:127.0.0.1:$SMTP"
run_fetch "$T/inject.log"
check "data before the TLS handshake: exit 1" [ "$rc" -eq 1 ]
check "data before the TLS handshake: refused" \
	grep -q 'server sent data before the TLS handshake; refusing' "$T/inject.log"
check "data before the TLS handshake: no login" \
	sh -c "! grep -q '^AUTH\\|^USER' '$T/inject.wire'"
check "message untouched" [ "$(server_count)" -eq 1 ]

write_conf "$T/htgate.conf" $GOOD "smtp:127.0.0.1:$SMTP"
sed -i 's/^pop3_host = 127.0.0.1/pop3_host = localhost/' "$T/htgate.conf"
run_fetch "$T/goodname.log"
check "right CA and name: logs in, MTA down -> exit 75" [ "$rc" -eq 75 ]
check "right CA and name: reached the message" grep -q 'outcome=deferred' "$T/goodname.log"
check "password never logged" no_secret "$T"/*.log
fetch_done
