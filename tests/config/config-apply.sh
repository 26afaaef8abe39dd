#!/bin/sh
# tests/config/config-apply.sh - htgate-config apply and unapply on
# Postfix configuration directories the test builds (Debian's stock
# master.cf, a main.cf with the admin's own lists); no daemon is started.
#
# apply --dry-run: the unified diff, nothing written; apply: every list
# merged with the admin's entries kept (transport_maps, smtpd_milters,
# restriction lists and classes), the other settings untouched, the
# services added, the maps written (SASL 0600), backups and the state
# written; apply again: nothing rewritten; unapply: main.cf and master.cf
# byte-identical to before (cmp), the map dir and the backups gone.
# Refused, with nothing changed: a setting htgate needs set otherwise, a
# service of htgate's name that differs, a service on an egress port,
# htgate's milter in a list in another form, an absolute socket path a
# chrooted smtpd or cleanup cannot reach, a map dir that belongs to
# another Postfix directory.  After the admin changed main.cf, unapply
# takes out only htgate's pieces; a changed plan (another egress port)
# replaces what the earlier apply made; options come from the state.
# No password in any output.  TAP (tests/tap.sh).

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/config/lib.sh"
config_begin postconf postmap postfix diff
write_htgate_conf "$T/htgate.conf"

# A Postfix directory (the company relay): stock master.cf, a main.cf
# with the admin's lists.
P=$T/pf
M=$P/htgate
postfix_dir "$P"
cat >>"$P/main.cf" <<EOF
transport_maps = texthash:$T/partner
recipient_canonical_maps = texthash:$T/canonical
smtpd_milters = inet:localhost:8891
smtpd_restriction_classes = internal_only
internal_only = check_sender_access texthash:$T/internal
smtpd_recipient_restrictions = permit_mynetworks,
    permit_sasl_authenticated, reject_unauth_destination
EOF
printf 'partner.example smtp:[192.0.2.7]\n' >"$T/partner"
: >"$T/canonical"
: >"$T/internal"
chmod 640 "$P/main.cf"
cp -p "$P/main.cf" "$T/main.cf.orig"
cp -p "$P/master.cf" "$T/master.cf.orig"
OPTS="--postfix-dir $P --milter-socket unix:htgate/m.sock --egress-port 10090 --rate-delay 30s"
# apply [ARGS] - htgate-config apply on $P; output in $T/out, $T/err
apply() { "$CONFIG" -c "$T/htgate.conf" apply $OPTS "$@" >"$T/out" 2>"$T/err"; }
unapply() { "$CONFIG" unapply --postfix-dir "$P" "$@" >"$T/out" 2>"$T/err"; }
pc() { postconf -c "$P" -h "$1" 2>/dev/null; }
backups() { ls "$P" | grep -c 'before-htgate' ; }
restore() { cp -p "$T/main.cf.orig" "$P/main.cf"; cp -p "$T/master.cf.orig" "$P/master.cf"; }

# 1. the dry run
apply --dry-run
expect "dry run: exit status" 0 "$?"
has "dry run: diff of main.cf" "$T/out" "--- $P/main.cf"
has "dry run: transport_maps, htgate's first" "$T/out" "+transport_maps = texthash:$M/transport, texthash:$T/partner"
has "dry run: diff of master.cf" "$T/out" "+htg        unix  -       -       n       -       1       smtp"
same "dry run: main.cf unchanged" "$T/main.cf.orig" "$P/main.cf"
same "dry run: master.cf unchanged" "$T/master.cf.orig" "$P/master.cf"
expect "dry run: no map dir, no backup" "no 0" "$([ -e "$M" ] && echo yes || echo no) $(backups)"
no_secret "dry run" "$T/out" "$T/err"

# 2. apply
apply
expect "apply: exit status" 0 "$?"
tap_diag <"$T/err"
no_secret "apply" "$T/out" "$T/err"
expect "transport_maps: htgate's first, the partner map kept" \
	"texthash:$M/transport, texthash:$T/partner" "$(pc transport_maps)"
expect "smtpd_milters: the admin's milter kept, htgate's last" \
	"inet:localhost:8891, { unix:htgate/m.sock, default_action=accept }" "$(pc smtpd_milters)"
expect "non_smtpd_milters: htgate's" "{ unix:htgate/m.sock, default_action=accept }" \
	"$(pc non_smtpd_milters)"
expect "smtpd_restriction_classes: the admin's class kept" "internal_only, htgate_policy" \
	"$(pc smtpd_restriction_classes)"
expect "smtpd_recipient_restrictions: htgate_policy first, the rest kept" \
	"htgate_policy, permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination" \
	"$(pc smtpd_recipient_restrictions)"
expect "recipient_canonical_maps untouched" "texthash:$T/canonical" "$(pc recipient_canonical_maps)"
expect "internal_only untouched" "check_sender_access texthash:$T/internal" "$(pc internal_only)"
expect "htg service added" "htg unix - - n - 1 smtp" \
	"$(postconf -c "$P" -M htg/unix | awk '{print $1,$2,$3,$4,$5,$6,$7,$8}')"
expect "egress service added, stock smtpd still chrooted" "127.0.0.1:10090 y" \
	"$(postconf -c "$P" -M 127.0.0.1:10090/inet | awk '{print $1}') $(postconf -c "$P" -h -F smtp/inet/chroot)"
expect "sasl_passwd.production mode 0600" 600 "$(stat -c %a "$M/sasl_passwd.production")"
expect "state mode 0600" 600 "$(stat -c %a "$M/apply.state")"
expect "main.cf keeps its mode 0640" 640 "$(stat -c %a "$P/main.cf")"
expect "two backups" 2 "$(backups)"
same "backup of main.cf = main.cf before" "$T/main.cf.orig" "$(ls "$P"/main.cf.before-htgate.*)"
same "backup of master.cf = master.cf before" "$T/master.cf.orig" "$(ls "$P"/master.cf.before-htgate.*)"
expect "backup keeps main.cf's mode" 640 "$(stat -c %a "$P"/main.cf.before-htgate.*)"
postconf -c "$P" -n >/dev/null 2>"$T/n.err"
expect "postconf -n: no warning" "" "$(cat "$T/n.err")"
if [ "$(id -u)" = 0 ]; then
	chown postfix "$T/data" 2>/dev/null
	postfix -c "$P" check >"$T/check.out" 2>&1
	expect "postfix check" "0 " "$? $(cat "$T/check.out")"
fi
cp -p "$P/main.cf" "$T/main.cf.applied"
cp -p "$P/master.cf" "$T/master.cf.applied"

# 3. apply again: nothing rewritten
before=$(stat -c '%i %Y' "$M/transport" "$M/apply.state" "$M/sasl_passwd.production" | tr '\n' ' ')
sleep 1
apply
expect "apply again: exit status" 0 "$?"
has "apply again: says nothing changed" "$T/out" "nothing changed there"
same "apply again: main.cf byte-identical" "$T/main.cf.applied" "$P/main.cf"
same "apply again: master.cf byte-identical" "$T/master.cf.applied" "$P/master.cf"
expect "apply again: no new backup" 2 "$(backups)"
expect "apply again: maps and state not rewritten" "$before" \
	"$(stat -c '%i %Y' "$M/transport" "$M/apply.state" "$M/sasl_passwd.production" | tr '\n' ' ')"

# 4. options from the state: apply without them changes nothing
"$CONFIG" -c "$T/htgate.conf" apply --postfix-dir "$P" >"$T/out" 2>"$T/err"
expect "apply without options: the state's options" "0 0" \
	"$?$(cmp -s "$T/main.cf.applied" "$P/main.cf"; echo " $?")"

# 5. unapply: the dry run, then exactly as before
unapply --dry-run
expect "unapply --dry-run: exit status" 0 "$?"
has "unapply --dry-run: diff" "$T/out" "-transport_maps = texthash:$M/transport, texthash:$T/partner"
same "unapply --dry-run: main.cf unchanged" "$T/main.cf.applied" "$P/main.cf"
expect "unapply --dry-run: map dir kept" yes "$([ -d "$M" ] && echo yes)"
unapply
expect "unapply: exit status" 0 "$?"
tap_diag <"$T/err"
same "unapply: main.cf byte-identical to before apply" "$T/main.cf.orig" "$P/main.cf"
same "unapply: master.cf byte-identical to before apply" "$T/master.cf.orig" "$P/master.cf"
expect "unapply: main.cf's mode" 640 "$(stat -c %a "$P/main.cf")"
expect "unapply: map dir removed" no "$([ -e "$M" ] && echo yes || echo no)"
expect "unapply: backups removed" 0 "$(backups)"
unapply
expect "unapply again: exit status 1" 1 "$?"
has "unapply again: nothing to undo" "$T/err" "nothing to undo"

# 6. refusals: nothing changed, nothing written
refused() {	# LABEL TEXT [apply args] - apply is refused naming TEXT
	label=$1 text=$2
	shift 2
	apply "$@"
	st=$?
	if [ "$st" = 1 ] && grep -qF -- "$text" "$T/err" && cmp -s "$P/main.cf" "$T/main.cf.before" &&
	    cmp -s "$P/master.cf" "$T/master.cf.before" && [ ! -e "$M" ] && [ "$(backups)" = 0 ]; then
		tap_ok "refused, nothing changed: $label"
	else
		tap_not_ok "refused, nothing changed: $label" "exit $st" "$(cat "$T/err")"
	fi
	rm -rf "$M" "$P"/*.before-htgate.*
	restore
}
snap() { cp -p "$P/main.cf" "$T/main.cf.before"; cp -p "$P/master.cf" "$T/master.cf.before"; }
restore
postconf -c "$P" -e 'htg_destination_rate_delay = 10s'
snap
refused "a setting htgate needs, set otherwise" "main.cf has htg_destination_rate_delay = 10s"
has "the refusal says it does not override" "$T/err" "does not override"
postconf -c "$P" -M 'htg/unix=htg unix - - n - - smtp'
snap
refused "a service named htg/unix that differs" "master.cf already has a service htg/unix"
postconf -c "$P" -M '10090/inet=10090 inet n - n - - smtpd'
snap
refused "a service on the egress port" "choose other ports with --egress-port"
postconf -c "$P" -e 'non_smtpd_milters = unix:htgate/m.sock'
snap
refused "htgate's milter listed in another form" "non_smtpd_milters already names unix:htgate/m.sock"
snap
refused "an absolute socket path, smtpd and cleanup chrooted" "run chrooted" \
	--milter-socket unix:/run/htgate/milter.sock
has "the refusal suggests the relative name" "$T/err" "unix:htgate/milter.sock"

# 7. the admin changes main.cf after apply: unapply takes out htgate's pieces
restore
apply
postconf -c "$P" -e 'smtpd_milters = inet:localhost:8891, { unix:htgate/m.sock, default_action=accept }, inet:localhost:9999' \
	'admin_note = added after htgate'
unapply
expect "unapply after a change: exit status" 0 "$?"
has "unapply says it takes out pieces" "$T/out" "only htgate's pieces are taken out"
expect "pieces: the admin's later milter kept, htgate's gone" "inet:localhost:8891, inet:localhost:9999" \
	"$(pc smtpd_milters)"
expect "pieces: the admin's later setting kept" "admin_note = added after htgate" "$(grep '^admin_note' "$P/main.cf")"
expect "pieces: transport_maps as before" "texthash:$T/partner" "$(pc transport_maps)"
expect "pieces: restrictions as before" \
	"permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination" \
	"$(pc smtpd_recipient_restrictions)"
expect "pieces: no htgate parameter left" "" "$(grep -E '^(htg|htgate_|non_smtpd_milters|smtpd_end_of)' "$P/main.cf")"
same "pieces: master.cf (unchanged since apply) restored exactly" "$T/master.cf.orig" "$P/master.cf"
expect "pieces: the backups are kept" 2 "$(backups)"
has "pieces: the backups are named" "$T/out" "backup kept: $P/main.cf.before-htgate."
rm -f "$P"/*.before-htgate.*

# 8. a changed plan replaces what the earlier apply made
restore
apply
OPTS="--postfix-dir $P --milter-socket unix:htgate/m.sock --egress-port 10190 --rate-delay 30s"
apply
expect "new egress port: exit status" 0 "$?"
expect "new egress port: the old egress service gone, the new one there" " 127.0.0.1:10190" \
	"$(postconf -c "$P" -M 127.0.0.1:10090/inet 2>/dev/null | awk '{print $1}') $(postconf -c "$P" -M 127.0.0.1:10190/inet | awk '{print $1}')"
expect "new egress port: transport map" "htg-gate:[127.0.0.1]:10190" \
	"$(postmap -c "$P" -q htpoort.nl "texthash:$M/transport")"
unapply
same "unapply after two applies: main.cf as before the first" "$T/main.cf.orig" "$P/main.cf"
same "unapply after two applies: master.cf as before the first" "$T/master.cf.orig" "$P/master.cf"

# 9. a map dir that belongs to another Postfix directory
restore
apply
mkdir -p "$T/other"
cp "$T/main.cf.orig" "$T/other/main.cf"
cp "$T/master.cf.orig" "$T/other/master.cf"
"$CONFIG" -c "$T/htgate.conf" apply --postfix-dir "$T/other" --map-dir "$M" >"$T/out" 2>"$T/err"
expect "another Postfix directory, same map dir: refused" 1 "$?"
has "the refusal names the directory of the state" "$T/err" "records an apply to $P"
unapply
no_secret "every command" "$T/out" "$T/err"
