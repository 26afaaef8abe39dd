#!/bin/bash
# e2e-debian.sh - htgate added to a relay set up the Debian way, as the
# admin guide says, and taken out again.
#
# The relay is a private Postfix from Debian's stock main.cf
# (main.cf.debian plus what the postinst writes) and master.cf.dist,
# chroot "y" as shipped (smtpd, cleanup, pickup, smtp), changed only
# where a private instance must be (sandbox/lib.sh sb_postfix_debian);
# it already has a hash: transport map with a partner route
# (partner.example -> a second smtp-sink on 127.0.0.1:10172) and its own
# smtpd_recipient_restrictions.  htgate is installed with "make install
# DESTDIR=..." and every htgate program used comes from there.
# "htgate-config apply --dry-run" shows the diff and changes nothing;
# "apply" merges; then: partner mail still takes the partner route, a
# sendmail(1) message to a non-HTG address is delivered (the chrooted
# pickup and cleanup reach the milter: a non-conforming HTG message
# submitted with sendmail is refused by it), HTG mail arrives at the
# stand-in, a refusal names the rule, a second apply changes nothing,
# and "unapply" restores main.cf and master.cf byte for byte and removes
# the map dir.  Ports: stand-in 10178, relay 10179, egress 10279,
# partner 10172 (10278 is the test environment egress of e2e-crash.sh).
. "${srcdir:-$(dirname "$0")/..}/e2e/e2e-lib.sh"
e2e_begin 10178 10179 stand-in-only
PARTNER=10172
d=$SB_TMP/relay
e=$d/etc
g=$d/htgate-config

# 1. htgate installed into a temporary root
inst=$SB_TMP/inst
make -s -C "$top_builddir" install DESTDIR="$inst" >"$SB_TMP/install.log" 2>&1 ||
    e2e_fail "make install DESTDIR=... failed: $(tail -n 5 "$SB_TMP/install.log" | tr '\n' ' ')"
sbin=$(dirname "$(find "$inst" -path '*/sbin/htgate-config' | head -n 1)")
for p in htgate-config htgate-milter htgate-policyd; do
	[ -x "$sbin/$p" ] || e2e_fail "make install did not install $p"
done
SB_CONFIG=$sbin/htgate-config
SB_MILTER=$sbin/htgate-milter
SB_POLICYD=$sbin/htgate-policyd
e2e_ok "make install DESTDIR: htgate-config, htgate-milter, htgate-policyd in ${sbin#"$inst"}"

# 2. the partner's server, and the relay as Debian sets it up
mkdir -p "$SB_TMP/partner"
chown postfix "$SB_TMP/partner"
sb_port_free "$PARTNER"
sb_port_free "$SB_PORT_EGRESS"
smtp-sink -u postfix -d "$SB_TMP/partner/%H%M%S." "127.0.0.1:$PARTNER" 10 \
    </dev/null >"$SB_TMP/partner.log" 2>&1 &
SB_STARTED_PIDS="$SB_STARTED_PIDS $!"
disown "$!"
sb_wait_port "$PARTNER"
sb_postfix_debian relay "$SB_PORT_RELAY" relay.example.com
cat >>"$e/main.cf" <<EOF

# The company's own routing and restrictions, from before htgate
transport_maps = hash:$e/transport
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
EOF
printf 'partner.example\tsmtp:[127.0.0.1]:%s\n' "$PARTNER" >"$e/transport"
postmap -c "$e" "$e/transport" || e2e_fail "postmap of the partner transport map"
cp -p "$e/main.cf" "$SB_TMP/main.cf.stock"
cp -p "$e/master.cf" "$SB_TMP/master.cf.stock"
chroots=$(postconf -c "$e" -F "127.0.0.1:$SB_PORT_RELAY/inet/chroot" cleanup/unix/chroot \
    pickup/unix/chroot smtp/unix/chroot | awk '{ printf "%s ", $3 }')
[ "$chroots" = "y y y y " ] || e2e_fail "stock master.cf: smtpd, cleanup, pickup, smtp not chrooted: $chroots"
e2e_ok "relay from Debian's main.cf.debian and master.cf.dist: smtpd, cleanup, pickup, smtp chrooted"

sb_write_htgate_conf
sb_start_milter
sb_start_policyd

# 3. the dry run shows the merge and changes nothing
apply() {
	"$SB_CONFIG" -c "$SB_HTGATE_CONF" apply --postfix-dir "$e" --map-dir "$g" \
	    --egress-port "$SB_PORT_EGRESS" --rate-delay 0s "$@"
}
apply --dry-run >"$E2E_OUT/dry.out" 2>&1 || e2e_fail "apply --dry-run: $(cat "$E2E_OUT/dry.out")"
sed -n '/^--- .*main.cf$/,/^--- .*master.cf$/p' "$E2E_OUT/dry.out" | sed '$d' | tap_diag
grep -qxF "+transport_maps = texthash:$g/transport, hash:$e/transport" "$E2E_OUT/dry.out" ||
    e2e_fail "dry run: no diff line merging transport_maps (htgate's map first, the partner map kept)"
grep -qxF "+smtpd_recipient_restrictions = htgate_policy, permit_mynetworks, reject_unauth_destination" \
    "$E2E_OUT/dry.out" || e2e_fail "dry run: no diff line with htgate_policy first in smtpd_recipient_restrictions"
cmp -s "$e/main.cf" "$SB_TMP/main.cf.stock" && cmp -s "$e/master.cf" "$SB_TMP/master.cf.stock" &&
    [ ! -e "$g" ] || e2e_fail "apply --dry-run changed main.cf, master.cf or wrote $g"
e2e_ok "apply --dry-run: unified diff shown, main.cf, master.cf unchanged, no map dir"

# 4. apply
apply >"$E2E_OUT/apply.out" 2>&1 || e2e_fail "apply: $(cat "$E2E_OUT/apply.out")"
grep -v -e '^  main.cf: ' -e '^  master.cf: ' "$E2E_OUT/apply.out" | tap_diag
[ "$(postconf -c "$e" -h transport_maps)" = "texthash:$g/transport, hash:$e/transport" ] ||
    e2e_fail "transport_maps after apply: $(postconf -c "$e" -h transport_maps)"
[ "$(postconf -c "$e" -h smtpd_recipient_restrictions)" = \
    "htgate_policy, permit_mynetworks, reject_unauth_destination" ] ||
    e2e_fail "smtpd_recipient_restrictions after apply: $(postconf -c "$e" -h smtpd_recipient_restrictions)"
now=$(postconf -c "$e" -F "127.0.0.1:$SB_PORT_RELAY/inet/chroot" cleanup/unix/chroot \
    pickup/unix/chroot smtp/unix/chroot | awk '{ printf "%s ", $3 }')
[ "$now" = "y y y y " ] || e2e_fail "apply changed the chroot column: $now"
[ "$(stat -c %a "$g/sasl_passwd.production")" = 600 ] || e2e_fail "sasl_passwd.production is not 0600"
e2e_ok "apply: htgate's map first and the partner map kept, htgate_policy first and the admin's restrictions kept, chroot untouched, SASL map 0600"
postfix -c "$e" check >"$E2E_OUT/check.out" 2>&1 || e2e_fail "postfix check: $(cat "$E2E_OUT/check.out")"
cp -p "$e/main.cf" "$SB_TMP/main.cf.applied"
cp -p "$e/master.cf" "$SB_TMP/master.cf.applied"
sb_postfix_start relay "$SB_PORT_RELAY"

# 5. partner mail over SMTP and a sendmail(1) message: the partner route
sb_swaks_relay --from erp@example.com --to bob@partner.example \
    --header 'Subject: order 4711' --body 'for the partner' >"$E2E_OUT/partner.swaks" 2>&1 || true
e2e_assert_accepted partner
printf 'From: ERP <erp@example.com>\nTo: ops@partner.example\nSubject: nightly report\n\nall fine\n' |
    sb_sendmail -f erp@example.com ops@partner.example ||
    e2e_fail "sendmail to ops@partner.example failed"
# a non-conforming HTG message with sendmail: the chrooted cleanup's milter refuses it
sb_render "$E2E_SAMPLES/erp-cp1252.eml" "$E2E_OUT/cp1252.eml"
cp1252=$SB_MSGID
sb_sendmail -f erp@example.com -t <"$E2E_OUT/cp1252.eml" || e2e_fail "sendmail of the cp1252 message failed"

# 6. HTG mail, and a refusal naming the rule
e2e_send good ags-edifact.eml erp@example.com AGS@htpoort.nl
good=$SB_MSGID
e2e_assert_accepted good
e2e_send cc ags-cc.eml erp@example.com AGS@htpoort.nl
e2e_assert_reply cc 5 END-OF-MESSAGE "[HTG HDR-CC]"

sb_wait_drain || e2e_fail "queues did not drain"
for i in $(seq 1 50); do
	[ "$(grep -l -e '^X-Rcpt-Args: <bob@partner.example>' -e '^X-Rcpt-Args: <ops@partner.example>' \
	    "$SB_TMP"/partner/* 2>/dev/null | wc -l)" = 2 ] && break
	sleep 0.2
done
grep -q '^X-Rcpt-Args: <bob@partner.example>' "$SB_TMP"/partner/* 2>/dev/null ||
    e2e_fail "SMTP mail to bob@partner.example did not reach the partner's server"
sb_relay_log | grep -q "to=<bob@partner.example>, relay=127.0.0.1\[127.0.0.1\]:$PARTNER,.*status=sent" ||
    e2e_fail "the relay's log shows no delivery of bob@partner.example by the partner route"
e2e_ok "partner mail (SMTP) still takes the partner route: 127.0.0.1:$PARTNER"
grep -q '^X-Rcpt-Args: <ops@partner.example>' "$SB_TMP"/partner/* 2>/dev/null ||
    e2e_fail "the sendmail(1) message to ops@partner.example was not delivered"
e2e_ok "a sendmail(1) message to a non-HTG address is delivered (partner route)"
qid=$(sb_relay_log | grep -F "message-id=<$cp1252>" | sed -n 's/.*]: \([0-9A-F]*\): message-id=.*/\1/p' | head -n 1)
[ -n "$qid" ] && sb_relay_log | grep -F "$qid: milter-reject: END-OF-MESSAGE" | grep -qF '[HTG MIME-CHARSET]' ||
    e2e_fail "the chrooted cleanup did not have the cp1252 sendmail message refused by htgate-milter"
e2e_ok "chrooted pickup/cleanup reach htgate-milter: the cp1252 sendmail message refused naming [HTG MIME-CHARSET]"
if sb_relay_log | grep -E 'warning: .*(Milter service|policy).*(No such file|Permission denied|connect)' >"$E2E_OUT/warn"; then
	tap_diag <"$E2E_OUT/warn"
	e2e_fail "the relay could not reach htgate's sockets"
fi
grep -q 'action=.*to=<AGS@htpoort.nl>' "$SB_TMP/policyd.log" ||
    e2e_fail "htgate-policyd was not asked by the chrooted smtpd"
e2e_ok "the chrooted smtpd reaches htgate-milter and htgate-policyd (unix:htgate/*.sock in the queue directory)"
e2e_assert_arrived good "$good" 1
e2e_assert_arrived cp1252 "$cp1252" 0

# 7. apply again: nothing changes
apply >"$E2E_OUT/apply2.out" 2>&1 || e2e_fail "second apply: $(cat "$E2E_OUT/apply2.out")"
cmp -s "$e/main.cf" "$SB_TMP/main.cf.applied" && cmp -s "$e/master.cf" "$SB_TMP/master.cf.applied" ||
    e2e_fail "a second apply changed main.cf or master.cf"
grep -q 'nothing changed there' "$E2E_OUT/apply2.out" || e2e_fail "second apply: $(cat "$E2E_OUT/apply2.out")"
[ "$(ls "$e" | grep -c 'before-htgate')" = 2 ] || e2e_fail "second apply wrote backups: $(ls "$e")"
e2e_ok "apply again: main.cf and master.cf byte-identical, no new backup"

# 8. unapply: main.cf and master.cf as they were, byte for byte
"$SB_CONFIG" unapply --postfix-dir "$e" --map-dir "$g" >"$E2E_OUT/unapply.out" 2>&1 ||
    e2e_fail "unapply: $(cat "$E2E_OUT/unapply.out")"
grep -v -e '^[-+@ ]' -e '^$' "$E2E_OUT/unapply.out" | tap_diag
grep '^  ' "$E2E_OUT/unapply.out" | grep -v '^   ' | tap_diag
cmp "$e/main.cf" "$SB_TMP/main.cf.stock" || e2e_fail "unapply: main.cf differs from before apply"
cmp "$e/master.cf" "$SB_TMP/master.cf.stock" || e2e_fail "unapply: master.cf differs from before apply"
[ "$(stat -c '%a %U' "$e/main.cf")" = "$(stat -c '%a %U' "$SB_TMP/main.cf.stock")" ] ||
    e2e_fail "unapply: main.cf's mode or owner changed"
e2e_ok "unapply: main.cf and master.cf byte-identical to before apply (cmp)"
[ ! -e "$g" ] || e2e_fail "unapply left $g: $(ls -a "$g")"
[ "$(ls "$e" | grep -c 'before-htgate')" = 0 ] || e2e_fail "unapply left backups: $(ls "$e")"
e2e_ok "unapply: the map dir (with the SASL password maps) and the backups are gone"
postfix -c "$e" reload >/dev/null 2>&1 || e2e_fail "postfix reload after unapply"
e2e_assert_secret_unseen
