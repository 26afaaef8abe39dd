#!/bin/bash
# e2e-forms.sh - a recipient is HTG-bound by where Postfix delivers it.
# Spellings that Postfix rewrites into an HTG address (trailing dot,
# percent hack, bang path) are refused at RCPT naming ENV-ADDRESS; mail
# that a rewrite sends to HTG (an alias in virtual_alias_maps, the
# admin's own recipient_canonical_maps) is judged at the egress stage on
# the envelope Postfix delivers: a non-conforming one is bounced naming
# the rule, a conforming one arrives.  Every message is multipart or has
# a Cc unless it should arrive: nothing of that kind reaches HTG.
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10166 10167

# 1. spellings Postfix rewrites: refused at RCPT
n=0
for rcpt in 'AGS@msa-smtp.htpoort.nl.' 'AGS@htpoort.nl.' \
    'AGS%msa-smtp.htpoort.nl@[127.0.0.1]' 'AGS%msa-smtp.htpoort.nl@example.com' \
    'msa-smtp.htpoort.nl!AGS'; do
	n=$((n + 1))
	e2e_send form$n ags-cc.eml erp@example.com "$rcpt"
	e2e_assert_reply form$n 550 RCPT "[HTG ENV-ADDRESS]"
done

# 2. an alias (virtual_alias_maps: customs@example.com -> AGS@msa-smtp...)
e2e_send alias-cc ags-cc.eml erp@example.com customs@example.com
e2e_assert_accepted alias-cc
alias_cc=$SB_MSGID
e2e_send alias-to alias-customs.eml erp@example.com customs@example.com
e2e_assert_accepted alias-to
alias_to=$SB_MSGID
e2e_send alias-ok ags-edifact.eml erp@example.com customs@example.com
e2e_assert_accepted alias-ok
alias_ok=$SB_MSGID

# 3. the admin's own recipient_canonical_maps: desk@example.com -> AGS@htpoort.nl
e=$SB_TMP/relay/etc
printf 'desk@example.com AGS@htpoort.nl\n' >"$e/canonical"
postconf -c "$e" -e "recipient_canonical_maps = texthash:$e/canonical" ||
    e2e_fail "postconf recipient_canonical_maps"
postfix -c "$e" reload >/dev/null 2>&1 || e2e_fail "postfix reload"
sleep 1
sb_render "$E2E_SAMPLES/thunderbird-two.eml" "$E2E_OUT/canon.eml"
canon=$SB_MSGID
sb_swaks_relay --from jan.devries@example.com --to desk@example.com \
    --data "@$E2E_OUT/canon.eml" >"$E2E_OUT/canon.swaks" 2>&1 || true
e2e_assert_accepted canon

sb_wait_drain || e2e_fail "queues did not drain"
e2e_assert_arrived alias-cc "$alias_cc" 0
e2e_assert_arrived alias-to "$alias_to" 0
e2e_assert_arrived alias-ok "$alias_ok" 1
e2e_assert_arrived canon "$canon" 0
f=$(sb_dump_file_for_msgid "$alias_ok")
sb_dump_envelope "$f" | grep -q '^X-Rcpt-Args: <AGS@msa-smtp.htpoort.nl>' ||
    e2e_fail "alias-ok: not delivered to AGS@msa-smtp.htpoort.nl"
[ "$(sb_dump_sasl "$f")" = "$SB_MAILBOX" ] || e2e_fail "alias-ok: not authenticated"
e2e_ok "alias-ok: arrived as AGS@msa-smtp.htpoort.nl, authenticated"

# bounce_names ID RULE - the sender got a bounce for ID naming RULE
bounce_names() {
	local b= i
	for i in $(seq 1 50); do
		b=$(grep -l -F "$1" $(sb_relay_bounces) 2>/dev/null || true)
		[ -n "$b" ] && break
		sleep 0.2
	done
	[ -n "$b" ] || e2e_fail "no bounce for $1"
	grep -q -F "[HTG $2]" $b || e2e_fail "the bounce for $1 does not name [HTG $2]"
	e2e_ok "bounced by the egress stage naming [HTG $2]"
}
bounce_names "$alias_cc" HDR-CC
bounce_names "$alias_to" HDR-TO
bounce_names "$canon" MIME-SINGLE
grep -c 'role=egress' "$SB_TMP/milter.log" | sed 's/^/# egress decisions: /'
[ -z "$(sb_arrived_files | while read -r f; do sb_dump_header "$f" Cc; done)" ] ||
    e2e_fail "a message with a Cc reached HTG"
e2e_ok "no message with a Cc reached HTG"
