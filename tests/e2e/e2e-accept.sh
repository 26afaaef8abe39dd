#!/bin/bash
# e2e-accept.sh - a conforming EDIFACT declaration to AGS@htpoort.nl goes
# through the relay (htgate-milter, htgate-policyd) and arrives at the HTG
# stand-in exactly once: envelope recipient rewritten to the msa-smtp form,
# header To: unchanged, over a verified TLS 1.3 connection, authenticated
# as the sender's account's mailbox.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10144 10145

e2e_send ok ags-edifact.eml erp@example.com AGS@htpoort.nl
id=$SB_MSGID
e2e_assert_accepted ok
sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived ok "$id" 1
[ "$(sb_arrived_files | grep -c .)" = 1 ] || e2e_fail "more than one transaction at the stand-in"

f=$(sb_dump_file_for_msgid "$id")
env=$(sb_dump_envelope "$f")
echo "$env" | sed 's/^/# /'
echo "$env" | grep -qx 'X-Mail-Args: <erp@example.com>.*' || e2e_fail "envelope sender changed"
echo "$env" | grep -q '^X-Rcpt-Args: <AGS@msa-smtp.htpoort.nl>' ||
    e2e_fail "envelope recipient not AGS@msa-smtp.htpoort.nl"
[ "$(sb_dump_header "$f" To)" = "AGS@htpoort.nl" ] || e2e_fail "header To: changed: $(sb_dump_header "$f" To)"
e2e_ok "envelope <AGS@msa-smtp.htpoort.nl>, header To: AGS@htpoort.nl"

tls=$(sb_dump_tls "$f")
[ "${tls%% *}" = TLSv1.3 ] || e2e_fail "not received over TLS 1.3: '$tls'"
sasl=$(sb_dump_sasl "$f")
[ "$sasl" = "$SB_MAILBOX" ] || e2e_fail "SASL user '$sasl', wanted $SB_MAILBOX"
sb_standin_log | grep -q "sasl_username=$SB_MAILBOX\$" || e2e_fail "no sasl_username in the stand-in's log"
sb_relay_log | grep -q 'Verified TLS connection established to 127.0.0.1\[127.0.0.1\]:'"$SB_PORT_STANDIN"': TLSv1.3' ||
    e2e_fail "the relay did not verify the stand-in's certificate over TLS 1.3"
e2e_ok "received over $tls, verified by the relay, AUTH as $sasl"

# The body arrived unchanged (smtp-sink's dump ends with blank lines).
body() { sed '1,/^$/d' | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}'; }
sb_dump_message "$f" | body >"$E2E_OUT/ok.body"
body <"$E2E_OUT/ok.eml" | cmp -s - "$E2E_OUT/ok.body" || e2e_fail "body changed on the way"
e2e_ok "body unchanged"
e2e_assert_secret_unseen
