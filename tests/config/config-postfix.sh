#!/bin/sh
# tests/config/config-postfix.sh - htgate-config postfix against a real Postfix
#
# Generates the Postfix configuration from a temporary htgate.conf and
# password files (mode 0600), merges it with "htgate-config apply" into a
# private Postfix config directory (no daemons are started) whose main.cf
# has Debian's global
# TLS settings (smtp_tls_CApath=/etc/ssl/certs) and a site-wide TLS
# policy map, and checks it with Postfix's own tools: "postfix check",
# "postconf -n/-P/-M" and "postmap -q" against the generated tables:
# ingress milter and policy (best effort), the egress stage (loopback
# smtpd, fail closed, nothing rewritten, content_filter to the HTG
# transport), the HTG transports (ca_file the only trust: CApath and
# policy maps cleared, SNI and the certificate name from tls_name, one
# process).  Then the refusals: a password file open to group/others,
# an inexpressible sender pattern, a bad config line.
# The password never appears in any output.  TAP (tests/tap.sh): one
# line per check.

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/config/lib.sh"
config_begin postconf postmap postfix

# fail LABEL [DETAIL] / ok LABEL - one check
fail() { tap_not_ok "$@"; }
ok() { tap_ok "$1"; }

printf 'dummy CA\n' >"$T/ca.pem"

cat >"$T/htgate.conf" <<EOF
[global]
language = en nl

[environment production]
envelope_domain = msa-smtp.htpoort.nl
header_domain = htpoort.nl
smtp_host = msa-smtp.htpoort.nl
smtp_port = 587
ca_file = $T/ca.pem

[environment preprod]
envelope_domain = msa-smtp.preprod.htpoort.nl
header_domain = preprod.htpoort.nl
smtp_host = 192.0.2.25
tls_name = msa-smtp.preprod.htpoort.nl
smtp_port = 587

[stream AGS]
profile = standard

[stream SINGLEWINDOW]
profile = single-window
environments = production

[account acme]
mailbox = acme@htpoort.nl
senders = *@acme.example, erp@other.example
environments = production
password_file = $T/acme.pw

[account testing]
mailbox = acme-test@preprod.htpoort.nl
senders = *
environments = preprod
password_file = $T/pre.pw
EOF

# 1. generate into a directory
OUT=$T/out
"$CONFIG" -c "$T/htgate.conf" postfix -o "$OUT" --milter-socket unix:htgate/m.sock \
	--policy-socket inet:127.0.0.1:10200 --rate-delay 30s --egress-port 10090 \
	>"$T/gen.out" 2>"$T/gen.err"
expect "postfix -o exit status" 0 "$?"
tap_diag <"$T/gen.err"
no_secret "postfix -o" "$T/gen.out" "$T/gen.err"
expect "sasl_passwd.production mode" 600 "$(stat -c %a "$OUT/sasl_passwd.production" 2>&1)"
expect "sasl_passwd.preprod mode" 600 "$(stat -c %a "$OUT/sasl_passwd.preprod" 2>&1)"
no_secret "main.cf/master.cf/maps" "$OUT/main.cf" "$OUT/master.cf" "$OUT/transport"

# 2. a private Postfix configuration with the generated parts merged in
P=$T/pf
postfix_dir "$P"
cat >>"$P/main.cf" <<EOF
maillog_file = $T/maillog
maillog_file_prefixes = $T
# What Debian's main.cf and a site policy add: must not reach HTG mail.
smtp_tls_CApath = /etc/ssl/certs
smtp_tls_security_level = may
smtp_tls_policy_maps = texthash:$T/tls_policy
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
transport_maps = texthash:$T/partner_transport
EOF
printf 'msa-smtp.htpoort.nl may\n' >"$T/tls_policy"
printf 'partner.example smtp:[192.0.2.7]\n' >"$T/partner_transport"
cp "$P/main.cf" "$P/main.cf.proto"
# Merged the way the admin guide says: htgate-config apply (postconf -e/-M).
"$CONFIG" -c "$T/htgate.conf" apply --postfix-dir "$P" --map-dir "$OUT" \
	--milter-socket unix:htgate/m.sock --policy-socket inet:127.0.0.1:10200 \
	--rate-delay 30s --egress-port 10090 >"$T/apply.out" 2>"$T/apply.err"
expect "apply exit status" 0 "$?"
tap_diag <"$T/apply.err"
no_secret "apply" "$T/apply.out" "$T/apply.err"

postconf -c "$P" -n >"$T/n.out" 2>"$T/n.err"
if [ -s "$T/n.err" ]; then fail "postconf -n: no warnings (no unknown parameter)" "$(cat "$T/n.err")"; else ok "postconf -n: no warnings (no unknown parameter)"; fi
postconf -c "$P" -M >/dev/null 2>"$T/m.err"
if [ -s "$T/m.err" ]; then fail "postconf -M: master.cf parses" "$(cat "$T/m.err")"; else ok "postconf -M: master.cf parses"; fi

if [ "$(id -u)" = 0 ]; then
	chown postfix "$T/data" 2>/dev/null
	postfix -c "$P" check >"$T/check.out" 2>&1
	expect "postfix check exit status" 0 "$?"
	if grep -qi -e fatal -e error "$T/check.out" "$T/maillog" 2>/dev/null; then
		fail "postfix check: no errors" "$(cat "$T/check.out")"
	else
		ok "postfix check: no errors"
	fi
else
	tap_skip "postfix check exit status" "not root"
	tap_skip "postfix check: no errors" "not root"
fi

pc() { postconf -c "$P" -h "$1" 2>&1; }
pp() { postconf -c "$P" -P -h "$1" 2>&1; }
# ingress: best effort (accept/DUNNO when htgate is down)
expect "smtpd_milters" "{ unix:htgate/m.sock, default_action=accept }" "$(pc smtpd_milters)"
expect "non_smtpd_milters" "{ unix:htgate/m.sock, default_action=accept }" "$(pc non_smtpd_milters)"
case " $(pc milter_mail_macros) " in
*" {auth_authen} "*) ok "milter_mail_macros has {auth_authen}" ;;
*) fail "milter_mail_macros has {auth_authen}" "$(pc milter_mail_macros)" ;;
esac
expect "policy class" "check_policy_service { inet:127.0.0.1:10200, default_action=DUNNO }" \
	"$(pc htgate_policy)"
expect "smtpd_restriction_classes" htgate_policy "$(pc smtpd_restriction_classes)"
expect "policy first at RCPT, own restrictions kept" \
	"htgate_policy, permit_mynetworks, reject_unauth_destination" \
	"$(pc smtpd_recipient_restrictions)"
expect "policy at END-OF-DATA" htgate_policy "$(pc smtpd_end_of_data_restrictions)"
expect "transport_maps: htgate's first, the partner map kept" \
	"texthash:$OUT/transport, texthash:$T/partner_transport" "$(pc transport_maps)"
if grep -q '^recipient_canonical' "$T/n.out"; then
	fail "no global recipient rewriting" "$(grep '^recipient_canonical' "$T/n.out")"
else
	ok "no global recipient rewriting"
fi
expect "egress milters fail closed" "{ unix:htgate/m.sock, default_action=tempfail }" \
	"$(pc htgate_egress_milters)"
expect "gate: one recipient per delivery" 1 "$(pc htg-gate_destination_recipient_limit)"
expect "htg concurrency" 1 "$(pc htg_destination_concurrency_limit)"
expect "htg rate delay" 30s "$(pc htg_destination_rate_delay)"
expect "htg-preprod concurrency" 1 "$(pc htg-preprod_destination_concurrency_limit)"
expect "htg: no per-recipient destinations (pacing per environment)" 50 \
	"$(postconf -c "$P" -x -h htg_destination_recipient_limit 2>&1)"

# egress: one loopback smtpd per environment; what passes leaves by the HTG transport
svc() { postconf -c "$P" -M "$1" 2>&1 | awk '{print $1,$2,$3,$4,$5,$6,$7,$8}'; }
expect "egress production service" "127.0.0.1:10090 inet n - n - - smtpd" "$(svc 127.0.0.1:10090/inet)"
expect "egress preprod service" "127.0.0.1:10091 inet n - n - - smtpd" "$(svc 127.0.0.1:10091/inet)"
E=127.0.0.1:10090/inet
expect "egress role (daemon name)" htgate-egress-production "$(pp $E/milter_macro_daemon_name)"
expect "egress milters" '$htgate_egress_milters' "$(pp $E/smtpd_milters)"
expect "egress milter default" tempfail "$(pp $E/milter_default_action)"
expect "egress leaves by htg only" "htg:[msa-smtp.htpoort.nl]:587" "$(pp $E/content_filter)"
expect "egress preprod leaves by htg-preprod" "htg-preprod:[192.0.2.25]:587" \
	"$(pp 127.0.0.1:10091/inet/content_filter)"
expect "egress rewrites nothing" \
	"no_unknown_recipient_checks,no_header_body_checks,no_address_mappings" \
	"$(pp $E/receive_override_options)"
expect "egress own cleanup" htg-cleanup "$(pp $E/cleanup_service_name)"
expect "egress: only loopback" "permit_mynetworks,reject" "$(pp $E/smtpd_recipient_restrictions)"
expect "egress: no proxy filter" "" "$(pp $E/smtpd_proxy_filter)"
expect "egress cleanup service" "htg-cleanup unix n - n - 0 cleanup" "$(svc htg-cleanup/unix)"
expect "egress cleanup: no header rewriting" "" "$(pp htg-cleanup/unix/local_header_rewrite_clients)"
expect "egress cleanup: no aliases" "" "$(pp htg-cleanup/unix/virtual_alias_maps)"
expect "gate service" "htg-gate unix - - n - - smtp" "$(svc htg-gate/unix)"

# HTG transports: ca_file is the only trust
expect "htg service (maxproc 1)" "htg unix - - n - 1 smtp" "$(svc htg/unix)"
expect "htg tls level" secure "$(pp htg/unix/smtp_tls_security_level)"
expect "htg tls protocols" ">=TLSv1.3" "$(pp htg/unix/smtp_tls_mandatory_protocols)"
expect "htg CAfile" "$T/ca.pem" "$(pp htg/unix/smtp_tls_CAfile)"
expect "htg CApath cleared (Debian sets it globally)" "" "$(pp htg/unix/smtp_tls_CApath)"
expect "htg TLS policy maps cleared" "" "$(pp htg/unix/smtp_tls_policy_maps)"
expect "htg SNI" msa-smtp.htpoort.nl "$(pp htg/unix/smtp_tls_servername)"
expect "htg cert match" msa-smtp.htpoort.nl "$(pp htg/unix/smtp_tls_secure_cert_match)"
expect "htg no cached connections" no "$(pp htg/unix/smtp_connection_cache_on_demand)"
expect "htg no MIME conversion" yes "$(pp htg/unix/disable_mime_output_conversion)"
expect "htg no generic maps" "" "$(pp htg/unix/smtp_generic_maps)"
expect "htg sasl enable" yes "$(pp htg/unix/smtp_sasl_auth_enable)"
expect "htg sender-dependent auth" yes "$(pp htg/unix/smtp_sender_dependent_authentication)"
expect "htg mechanisms" plain,login "$(pp htg/unix/smtp_sasl_mechanism_filter)"
expect "htg sasl options" noanonymous "$(pp htg/unix/smtp_sasl_security_options)"
expect "htg sasl map" "texthash:$OUT/sasl_passwd.production" "$(pp htg/unix/smtp_sasl_password_maps)"
expect "htg-preprod tls level" secure "$(pp htg-preprod/unix/smtp_tls_security_level)"
expect "htg-preprod cert match (tls_name, not smtp_host)" msa-smtp.preprod.htpoort.nl \
	"$(pp htg-preprod/unix/smtp_tls_secure_cert_match)"
expect "htg-preprod SNI (tls_name)" msa-smtp.preprod.htpoort.nl \
	"$(pp htg-preprod/unix/smtp_tls_servername)"
expect "htg-preprod CAfile (system default)" /etc/ssl/certs/ca-certificates.crt \
	"$(pp htg-preprod/unix/smtp_tls_CAfile)"
expect "htg-preprod CApath cleared" "" "$(pp htg-preprod/unix/smtp_tls_CApath)"
expect "htg-preprod sasl map" "texthash:$OUT/sasl_passwd.preprod" \
	"$(pp htg-preprod/unix/smtp_sasl_password_maps)"

# 3. the tables, looked up through the map names main.cf/master.cf use
TMAP="texthash:$OUT/transport"
q() { postmap -c "$P" -q "$1" "$2" 2>&1; }
expect "transport htpoort.nl" "htg-gate:[127.0.0.1]:10090" "$(q htpoort.nl "$TMAP")"
expect "transport msa-smtp.htpoort.nl" "htg-gate:[127.0.0.1]:10090" "$(q msa-smtp.htpoort.nl "$TMAP")"
expect "transport preprod.htpoort.nl" "htg-gate:[127.0.0.1]:10091" \
	"$(q preprod.htpoort.nl "$TMAP")"
expect "transport msa-smtp.preprod.htpoort.nl" "htg-gate:[127.0.0.1]:10091" \
	"$(q msa-smtp.preprod.htpoort.nl "$TMAP")"
expect "transport MSA-SMTP.HTPOORT.NL (case)" "htg-gate:[127.0.0.1]:10090" \
	"$(q MSA-SMTP.HTPOORT.NL "$TMAP")"
expect "transport example.com (none)" "" "$(q example.com "$TMAP")"

# SASL maps: compare without ever printing the value
sasl_is() {
	if [ "$(q "$2" "$3")" = "$4" ]; then ok "$1"; else fail "$1" "wrong or missing entry"; fi
}
SPROD=$(pp htg/unix/smtp_sasl_password_maps)
SPRE=$(pp htg-preprod/unix/smtp_sasl_password_maps)
sasl_is "sasl @acme.example (production)" @acme.example "$SPROD" "acme@htpoort.nl:$SECRET"
sasl_is "sasl erp@other.example (production)" erp@other.example "$SPROD" "acme@htpoort.nl:$SECRET"
sasl_is "sasl no other@other.example" other@other.example "$SPROD" ""
sasl_is "sasl * -> preprod nexthop" "[192.0.2.25]:587" "$SPRE" \
	"acme-test@preprod.htpoort.nl:$SECRET2"
sasl_is "sasl acme not in preprod map" @acme.example "$SPRE" ""
sasl_is "sasl null sender (delivery reports) -> the first account" \
	"[msa-smtp.htpoort.nl]:587" "$SPROD" "acme@htpoort.nl:$SECRET"

# 4. stdout mode: main.cf and master.cf only, never a secret
"$CONFIG" -c "$T/htgate.conf" postfix >"$T/stdout.out" 2>"$T/stdout.err"
expect "stdout mode exit status" 0 "$?"
no_secret "stdout mode" "$T/stdout.out" "$T/stdout.err"
if grep -q '^htg-preprod  *unix' "$T/stdout.out" && grep -q '^smtpd_milters = ' "$T/stdout.out"; then
	ok "stdout mode prints main.cf and master.cf"
else
	fail "stdout mode prints main.cf and master.cf" "output incomplete"
fi

# 5. check command
"$CONFIG" -c "$T/htgate.conf" check --no-postfix >"$T/chk.out" 2>&1
expect "check exit status" 0 "$?"
no_secret "check" "$T/chk.out"
expect "check summary" 1 "$(grep -c '^account acme: .*password_file ok$' "$T/chk.out")"

# 6. refusals
chmod 644 "$T/acme.pw"
"$CONFIG" -c "$T/htgate.conf" postfix -o "$T/out644" >"$T/r1.out" 2>"$T/r1.err"
expect "0644 password file refused" 1 "$?"
no_secret "0644 refusal" "$T/r1.out" "$T/r1.err"
if grep -q "$T/acme.pw: mode 0644" "$T/r1.err" && grep -q "chmod 600" "$T/r1.err"; then
	ok "0644 message names file, mode and fix"
else
	fail "0644 message names file, mode and fix" "$(cat "$T/r1.err")"
fi
expect "nothing written after refusal" "" "$(ls "$T/out644" 2>/dev/null)"
chmod 600 "$T/acme.pw"

sed 's/^senders = \*@acme.example, erp@other.example$/senders = erp*@acme.example/' \
	"$T/htgate.conf" >"$T/glob.conf"
"$CONFIG" -c "$T/glob.conf" postfix -o "$T/outglob" >"$T/r2.out" 2>"$T/r2.err"
expect "glob sender pattern refused" 1 "$?"
if grep -q 'erp\*@acme.example" is not user@domain, @domain, \*@domain or \*' "$T/r2.err"; then
	ok "glob pattern message"; else fail "glob pattern message" "$(cat "$T/r2.err")"; fi
expect "no sasl map after refusal" "" "$(ls "$T/outglob" 2>/dev/null)"

{ cat "$T/htgate.conf"; printf '[rules]\nNO-SUCH-RULE = reject\n'; } >"$T/bad.conf"
line=$(wc -l <"$T/bad.conf" | tr -d ' ')
"$CONFIG" -c "$T/bad.conf" check --no-postfix >"$T/r3.out" 2>"$T/r3.err"
expect "bad config exit status" 1 "$?"
if grep -q "$T/bad.conf:$line:" "$T/r3.err"; then
	ok "bad config: file:line error"; else fail "bad config: file:line error" "$(cat "$T/r3.err")"; fi

"$CONFIG" -c "$T/htgate.conf" postfix --milter-socket 'unix:/a b' >/dev/null 2>&1
expect "bad socket is a usage error" 2 "$?"
"$CONFIG" -c "$T/htgate.conf" frobnicate >/dev/null 2>&1
expect "unknown command is a usage error" 2 "$?"

