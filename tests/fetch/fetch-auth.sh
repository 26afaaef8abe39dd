#!/bin/bash
# fetch-auth: wrong password -> clear error, nothing touched; a password
# file open to others is refused; the password never shows.
. "$srcdir/fetch/lib.sh"
POP3=10192 SMTP=10193

fetch_begin $POP3 $SMTP
fetch_start_pop3 $POP3
fetch_start_mta $SMTP
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP"
put_msg m1 "Answer"
echo 'Wrong-Pass-Word' > "$T/company.pw"

run_fetch "$T/wrongpw.log"
check "wrong password: exit 1" [ "$rc" -eq 1 ]
check "wrong password: clear error" grep -q "authentication as $MAILBOX failed" "$T/wrongpw.log"
check "wrong password: message untouched" [ "$(server_count)" -eq 1 ]
check "wrong password: nothing delivered" [ "$(delivered_count answers)" -eq 0 ]
check "wrong password: not in the output" sh -c "! grep -q Wrong-Pass-Word '$T/wrongpw.log' '$T/wrongpw.log.out'"

printf '%s\n' "$PASSWORD" > "$T/company.pw"; chmod 644 "$T/company.pw"
run_fetch "$T/mode.log"
check "world-readable password file: configuration error, exit 1" [ "$rc" -eq 1 ]
check "world-readable password file: reported" grep -q 'password_file' "$T/mode.log"
chmod 600 "$T/company.pw"

run_fetch "$T/ok.log" -v
check "right password: delivered (-v)" eval '[ "$rc" -eq 0 ] && wait_delivered answers 1'
check "verbose log hides the secret" grep -q 'AUTH PLAIN (secret not shown)' "$T/ok.log"
check "password never logged" no_secret "$T"/*.log "$T"/*.out
fetch_done
