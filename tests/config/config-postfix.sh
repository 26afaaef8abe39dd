#!/bin/sh
# tests/config/config-postfix.sh - htgate-config postfix against a real Postfix
#
# Generates the Postfix configuration from a temporary htgate.conf and
# password files (mode 0600), merges it into a private Postfix config
# directory (no daemons are started) and checks it with Postfix's own
# tools: "postfix check", "postconf -n/-P/-M" and "postmap -q" against
# the generated tables.  Then the refusals: a password file open to
# group/others, an inexpressible sender pattern, a bad config line.
# The password never appears in any output.

set -u
: "${top_builddir:?}"
CONFIG=$top_builddir/tools/htgate-config
PATH=$PATH:/usr/sbin:/sbin
for b in postconf postmap postfix; do
	command -v $b >/dev/null 2>&1 || { echo "SKIP: $b not found"; exit 77; }
done
[ -x "$CONFIG" ] || { echo "FAIL: $CONFIG not built"; exit 1; }
MASTER_DIST=/usr/share/postfix/master.cf.dist
[ -f "$MASTER_DIST" ] || MASTER_DIST=/etc/postfix/master.cf
[ -f "$MASTER_DIST" ] || { echo "SKIP: no master.cf template"; exit 77; }

T=$(mktemp -d /tmp/htg-config.XXXXXX)
trap 'rm -rf "$T"' EXIT
SECRET='Pw-7f3a9Q!x_secret'
SECRET2='Pre-Pw-41b2e8_secret'
failures=0
tests=0

fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

# expect NAME EXPECTED ACTUAL - compare and report (never used on secrets)
expect() {
	tests=$((tests + 1))
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# no_secret NAME FILE... - the passwords appear in none of the files
no_secret() {
	name=$1; shift
	tests=$((tests + 1))
	if cat "$@" | grep -qF -e "$SECRET" -e "$SECRET2"; then
		fail "$name: a password leaked"
	else
		ok "$name: no password in output"
	fi
}

(umask 077; printf '%s\n' "$SECRET" >"$T/acme.pw"; printf '%s\n' "$SECRET2" >"$T/pre.pw")
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
smtp_host = msa-smtp.preprod.htpoort.nl
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
"$CONFIG" -c "$T/htgate.conf" postfix -o "$OUT" --milter-socket unix:/run/htgate/m.sock \
	--policy-socket inet:127.0.0.1:10200 --rate-delay 30s >"$T/gen.out" 2>"$T/gen.err"
expect "postfix -o exit status" 0 "$?"
cat "$T/gen.err"
no_secret "postfix -o" "$T/gen.out" "$T/gen.err"
expect "sasl_passwd.production mode" 600 "$(stat -c %a "$OUT/sasl_passwd.production" 2>&1)"
expect "sasl_passwd.preprod mode" 600 "$(stat -c %a "$OUT/sasl_passwd.preprod" 2>&1)"
no_secret "main.cf/master.cf/maps" "$OUT/main.cf" "$OUT/master.cf" "$OUT/transport" \
	"$OUT/recipient_canonical"

# 2. a private Postfix configuration with the generated parts merged in
P=$T/pf
mkdir -p "$P" "$T/queue" "$T/data"
cp "$MASTER_DIST" "$P/master.cf"
cat >"$P/main.cf" <<EOF
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
maillog_file = $T/maillog
maillog_file_prefixes = $T
inet_interfaces = 127.0.0.1
mydestination =
mynetworks = 127.0.0.0/8
EOF
cp "$P/main.cf" "$P/main.cf.proto"
sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$OUT/main.cf" |
while IFS= read -r line; do
	postconf -c "$P" -e "$line" || exit 1
done
expect "postconf -e of every main.cf line" 0 "$?"
cat "$OUT/master.cf" >>"$P/master.cf"

postconf -c "$P" -n >"$T/n.out" 2>"$T/n.err"
tests=$((tests + 1))
if [ -s "$T/n.err" ]; then fail "postconf -n warns: $(cat "$T/n.err")"; else ok "postconf -n: no warnings (no unknown parameter)"; fi
postconf -c "$P" -M >/dev/null 2>"$T/m.err"
tests=$((tests + 1))
if [ -s "$T/m.err" ]; then fail "postconf -M warns: $(cat "$T/m.err")"; else ok "postconf -M: master.cf parses"; fi

if [ "$(id -u)" = 0 ]; then
	chown postfix "$T/data" 2>/dev/null
	postfix -c "$P" check >"$T/check.out" 2>&1
	expect "postfix check exit status" 0 "$?"
	tests=$((tests + 1))
	if grep -qi -e fatal -e error "$T/check.out" "$T/maillog" 2>/dev/null; then
		fail "postfix check: $(cat "$T/check.out")"
	else
		ok "postfix check: no errors"
	fi
else
	echo "note: not root, postfix check skipped"
fi

pc() { postconf -c "$P" -h "$1" 2>&1; }
pp() { postconf -c "$P" -P -h "$1" 2>&1; }
expect "milter_default_action" tempfail "$(pc milter_default_action)"
expect "milter_protocol" 6 "$(pc milter_protocol)"
expect "smtpd_milters" "{ unix:/run/htgate/m.sock, default_action=tempfail }" "$(pc smtpd_milters)"
expect "non_smtpd_milters" "{ unix:/run/htgate/m.sock, default_action=tempfail }" "$(pc non_smtpd_milters)"
tests=$((tests + 1))
case " $(pc milter_mail_macros) " in
*" {auth_authen} "*) ok "milter_mail_macros has {auth_authen}" ;;
*) fail "milter_mail_macros lacks {auth_authen}" ;;
esac
expect "policy class" "check_policy_service { inet:127.0.0.1:10200, default_action=DEFER_IF_PERMIT }" \
	"$(pc htgate_policy)"
expect "smtpd_restriction_classes" htgate_policy "$(pc smtpd_restriction_classes)"
expect "policy first at RCPT" htgate_policy "$(pc smtpd_recipient_restrictions | cut -d, -f1)"
expect "policy at END-OF-DATA" htgate_policy "$(pc smtpd_end_of_data_restrictions)"
expect "recipient_canonical_classes" envelope_recipient "$(pc recipient_canonical_classes)"
expect "htg concurrency" 1 "$(pc htg_destination_concurrency_limit)"
expect "htg rate delay" 30s "$(pc htg_destination_rate_delay)"
expect "htg-preprod concurrency" 1 "$(pc htg-preprod_destination_concurrency_limit)"
expect "htg recipient limit" 1 "$(pc htg_destination_recipient_limit)"

expect "htg service" "htg unix - - n - - smtp" \
	"$(postconf -c "$P" -M htg/unix 2>&1 | awk '{print $1,$2,$3,$4,$5,$6,$7,$8}')"
expect "htg tls level" secure "$(pp htg/unix/smtp_tls_security_level)"
expect "htg tls protocols" ">=TLSv1.3" "$(pp htg/unix/smtp_tls_mandatory_protocols)"
expect "htg CAfile" "$T/ca.pem" "$(pp htg/unix/smtp_tls_CAfile)"
expect "htg cert match" msa-smtp.htpoort.nl "$(pp htg/unix/smtp_tls_secure_cert_match)"
expect "htg sasl enable" yes "$(pp htg/unix/smtp_sasl_auth_enable)"
expect "htg sender-dependent auth" yes "$(pp htg/unix/smtp_sender_dependent_authentication)"
expect "htg mechanisms" plain,login "$(pp htg/unix/smtp_sasl_mechanism_filter)"
expect "htg sasl options" noanonymous "$(pp htg/unix/smtp_sasl_security_options)"
expect "htg sasl map" "texthash:$OUT/sasl_passwd.production" "$(pp htg/unix/smtp_sasl_password_maps)"
expect "htg-preprod tls level" secure "$(pp htg-preprod/unix/smtp_tls_security_level)"
expect "htg-preprod cert match" msa-smtp.preprod.htpoort.nl \
	"$(pp htg-preprod/unix/smtp_tls_secure_cert_match)"
expect "htg-preprod CAfile (system default)" /etc/ssl/certs/ca-certificates.crt \
	"$(pp htg-preprod/unix/smtp_tls_CAfile)"
expect "htg-preprod sasl map" "texthash:$OUT/sasl_passwd.preprod" \
	"$(pp htg-preprod/unix/smtp_sasl_password_maps)"

# 3. the tables, looked up through the map names main.cf/master.cf use
TMAP=$(pc transport_maps)
CMAP=$(pc recipient_canonical_maps)
q() { postmap -c "$P" -q "$1" "$2" 2>&1; }
expect "transport htpoort.nl" "htg:[msa-smtp.htpoort.nl]:587" "$(q htpoort.nl "$TMAP")"
expect "transport msa-smtp.htpoort.nl" "htg:[msa-smtp.htpoort.nl]:587" "$(q msa-smtp.htpoort.nl "$TMAP")"
expect "transport preprod.htpoort.nl" "htg-preprod:[msa-smtp.preprod.htpoort.nl]:587" \
	"$(q preprod.htpoort.nl "$TMAP")"
expect "transport msa-smtp.preprod.htpoort.nl" "htg-preprod:[msa-smtp.preprod.htpoort.nl]:587" \
	"$(q msa-smtp.preprod.htpoort.nl "$TMAP")"
expect "transport example.com (none)" "" "$(q example.com "$TMAP")"
expect "canonical AGS@htpoort.nl" AGS@msa-smtp.htpoort.nl "$(q AGS@htpoort.nl "$CMAP")"
expect "canonical ags@htpoort.nl (case)" AGS@msa-smtp.htpoort.nl "$(q ags@htpoort.nl "$CMAP")"
expect "canonical AGS@preprod.htpoort.nl" AGS@msa-smtp.preprod.htpoort.nl \
	"$(q AGS@preprod.htpoort.nl "$CMAP")"
expect "canonical SINGLEWINDOW@htpoort.nl" SINGLEWINDOW@msa-smtp.htpoort.nl \
	"$(q SINGLEWINDOW@htpoort.nl "$CMAP")"
expect "canonical SINGLEWINDOW@preprod (production-only stream)" "" \
	"$(q SINGLEWINDOW@preprod.htpoort.nl "$CMAP")"
expect "canonical other@example.com (none)" "" "$(q other@example.com "$CMAP")"

# SASL maps: compare without ever printing the value
sasl_is() {
	tests=$((tests + 1))
	if [ "$(q "$2" "$3")" = "$4" ]; then ok "$1"; else fail "$1: wrong or missing entry"; fi
}
SPROD=$(pp htg/unix/smtp_sasl_password_maps)
SPRE=$(pp htg-preprod/unix/smtp_sasl_password_maps)
sasl_is "sasl @acme.example (production)" @acme.example "$SPROD" "acme@htpoort.nl:$SECRET"
sasl_is "sasl erp@other.example (production)" erp@other.example "$SPROD" "acme@htpoort.nl:$SECRET"
sasl_is "sasl no other@other.example" other@other.example "$SPROD" ""
sasl_is "sasl * -> preprod nexthop" "[msa-smtp.preprod.htpoort.nl]:587" "$SPRE" \
	"acme-test@preprod.htpoort.nl:$SECRET2"
sasl_is "sasl acme not in preprod map" @acme.example "$SPRE" ""

# 4. stdout mode: main.cf and master.cf only, never a secret
"$CONFIG" -c "$T/htgate.conf" postfix >"$T/stdout.out" 2>"$T/stdout.err"
expect "stdout mode exit status" 0 "$?"
no_secret "stdout mode" "$T/stdout.out" "$T/stdout.err"
tests=$((tests + 1))
if grep -q '^htg-preprod unix' "$T/stdout.out" && grep -q '^smtpd_milters = ' "$T/stdout.out"; then
	ok "stdout mode prints main.cf and master.cf"
else
	fail "stdout mode output incomplete"
fi

# 5. check command
"$CONFIG" -c "$T/htgate.conf" check >"$T/chk.out" 2>&1
expect "check exit status" 0 "$?"
no_secret "check" "$T/chk.out"
expect "check summary" 1 "$(grep -c '^account acme: .*password_file ok$' "$T/chk.out")"

# 6. refusals
chmod 644 "$T/acme.pw"
"$CONFIG" -c "$T/htgate.conf" postfix -o "$T/out644" >"$T/r1.out" 2>"$T/r1.err"
expect "0644 password file refused" 1 "$?"
no_secret "0644 refusal" "$T/r1.out" "$T/r1.err"
tests=$((tests + 1))
if grep -q "$T/acme.pw: mode 0644" "$T/r1.err" && grep -q "chmod 600" "$T/r1.err"; then
	ok "0644 message names file, mode and fix"
else
	fail "0644 message unclear: $(cat "$T/r1.err")"
fi
expect "nothing written after refusal" "" "$(ls "$T/out644" 2>/dev/null)"
chmod 600 "$T/acme.pw"

sed 's/^senders = \*@acme.example, erp@other.example$/senders = erp*@acme.example/' \
	"$T/htgate.conf" >"$T/glob.conf"
"$CONFIG" -c "$T/glob.conf" postfix -o "$T/outglob" >"$T/r2.out" 2>"$T/r2.err"
expect "glob sender pattern refused" 1 "$?"
tests=$((tests + 1))
if grep -q 'erp\*@acme.example.*cannot be a Postfix sender key' "$T/r2.err"; then
	ok "glob pattern message"; else fail "glob pattern message: $(cat "$T/r2.err")"; fi
expect "no sasl map after refusal" "" "$(ls "$T/outglob" 2>/dev/null)"

{ cat "$T/htgate.conf"; printf '[rules]\nNO-SUCH-RULE = reject\n'; } >"$T/bad.conf"
line=$(wc -l <"$T/bad.conf" | tr -d ' ')
"$CONFIG" -c "$T/bad.conf" check >"$T/r3.out" 2>"$T/r3.err"
expect "bad config exit status" 1 "$?"
tests=$((tests + 1))
if grep -q "$T/bad.conf:$line:" "$T/r3.err"; then
	ok "bad config: file:line error"; else fail "bad config message: $(cat "$T/r3.err")"; fi

"$CONFIG" -c "$T/htgate.conf" postfix --milter-socket 'unix:/a b' >/dev/null 2>&1
expect "bad socket is a usage error" 2 "$?"
"$CONFIG" -c "$T/htgate.conf" frobnicate >/dev/null 2>&1
expect "unknown command is a usage error" 2 "$?"

# 7. the shipped commented fragments are valid Postfix configuration too
if [ -n "${top_srcdir:-}" ] && [ -d "$top_srcdir/conf/postfix" ]; then
	C=$top_srcdir/conf/postfix
	P2=$T/pf2
	mkdir -p "$P2"
	cp "$P/main.cf.proto" "$P2/main.cf"
	cp "$MASTER_DIST" "$P2/master.cf"
	sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$C/main.cf.htgate" |
	while IFS= read -r line; do postconf -c "$P2" -e "$line" || exit 1; done
	cat "$C/master.cf.htgate" >>"$P2/master.cf"
	postconf -c "$P2" -n >/dev/null 2>"$T/n2.err"
	postconf -c "$P2" -M >/dev/null 2>>"$T/n2.err"
	tests=$((tests + 1))
	if [ -s "$T/n2.err" ]; then fail "shipped fragments: $(cat "$T/n2.err")"
	else ok "shipped main.cf.htgate/master.cf.htgate parse cleanly"; fi
	expect "shipped htg-preprod cert match" msa-smtp.preprod.htpoort.nl \
		"$(postconf -c "$P2" -P -h htg-preprod/unix/smtp_tls_secure_cert_match 2>&1)"
	expect "shipped transport" "htg-preprod:[msa-smtp.preprod.htpoort.nl]:587" \
		"$(q preprod.htpoort.nl "texthash:$C/transport")"
	expect "shipped recipient_canonical" DMS@msa-smtp.preprod.htpoort.nl \
		"$(q dms@preprod.htpoort.nl "texthash:$C/recipient_canonical")"
	expect "shipped recipient_canonical.pcre (as regexp)" AGS@msa-smtp.htpoort.nl \
		"$(q AGS@htpoort.nl "regexp:$C/recipient_canonical.pcre")"
	expect "shipped sender_relay has no active entry" "" \
		"$(grep -v -e '^#' -e '^[[:space:]]*$' "$C/sender_relay")"
fi

echo "$tests checks, $failures failed"
[ "$failures" = 0 ]
