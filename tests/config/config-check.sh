#!/bin/sh
# tests/config/config-check.sh - htgate-config check --postfix-dir on
# Postfix configuration directories the test builds (Debian's stock
# master.cf; htgate applied with htgate-config apply, then changed the
# way an admin or a later package might): each change that bypasses or
# breaks htgate is reported as a PROBLEM naming what and where, and the
# exit status is 1; a clean apply exits 0.  Covered: htgate not applied;
# a submission smtpd with -o smtpd_milters= or -o
# smtpd_recipient_restrictions=...; receive_override_options=no_milters
# in main.cf and on pickup; a cleanup with -o non_smtpd_milters=; a
# service with its own -o transport_maps; htgate-policyd not first;
# htgate's transport map not first; an HTG address routed elsewhere by
# an address entry in another map (which Postfix prefers to htgate's
# domain entry); a changed htgate service; an absolute milter socket
# with chrooted smtpd/cleanup; a queue directory elsewhere (where the
# daemons must listen); --no-postfix.  TAP (tests/tap.sh).

. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/config/lib.sh"
config_begin postconf postmap
write_htgate_conf "$T/htgate.conf" DMS

# The relay before htgate, and htgate applied to it; each case is a copy.
B=$T/base
M=$T/maps
postfix_dir "$B"
cat >>"$B/main.cf" <<EOF
transport_maps = hash:$T/partner
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
EOF
printf 'partner.example smtp:[192.0.2.7]\n' >"$T/partner"
postmap -c "$B" "$T/partner"
cp -r "$B" "$T/plain"
"$CONFIG" -c "$T/htgate.conf" apply --postfix-dir "$B" --map-dir "$M" \
	--egress-port 10090 >"$T/apply.out" 2>&1 || tap_bail_out "apply: $(cat "$T/apply.out")"

# case NAME - a fresh copy of the applied configuration in $T/NAME ($C)
case_dir() {
	C=$T/$1
	rm -rf "$C"
	cp -r "$B" "$C"
	sed -i "s|$B/|$C/|g" "$C/main.cf" "$C/master.cf"
}
# check NAME [ARGS] - htgate-config check of $C; output $T/NAME.out
check() {
	n=$1
	shift
	"$CONFIG" -c "$T/htgate.conf" check --map-dir "$M" "$@" >"$T/$n.out" 2>&1
}
# finds LABEL NAME TEXT - check of $C exits 1 and reports TEXT as a PROBLEM
finds() {
	check "$2" --postfix-dir "$C"
	st=$?
	if [ "$st" = 1 ] && grep '^PROBLEM: ' "$T/$2.out" | grep -qF -- "$3"; then
		tap_ok "$1"
	else
		tap_not_ok "$1" "exit $st, wanted 1 and a PROBLEM with: $3" "$(cat "$T/$2.out")"
	fi
}

# 1. as applied: nothing bypasses htgate
C=$B
check clean --postfix-dir "$B"
st=$?
if [ "$st" = 0 ] && grep -q "htgate is applied; nothing found that bypasses it" "$T/clean.out" &&
    ! grep -q '^PROBLEM' "$T/clean.out"; then
	tap_ok "applied: exit 0, nothing bypasses htgate"
else
	tap_not_ok "applied: exit 0, nothing bypasses htgate" "exit $st" "$(cat "$T/clean.out")"
fi
C=$T/plain
finds "not applied" plain "htgate is not applied to $T/plain"

case_dir submission
postconf -c "$C" -M 'submission/inet=submission inet n - y - - smtpd -o syslog_name=postfix/submission -o smtpd_milters='
finds "submission with -o smtpd_milters= (empty)" submission \
	"master.cf service submission/inet: -o smtpd_milters= leaves out htgate-milter"

case_dir submission2
postconf -c "$C" -e 'mua_recipient_restrictions = permit_sasl_authenticated, reject'
postconf -c "$C" -M 'submission/inet=submission inet n - y - - smtpd -o smtpd_recipient_restrictions=$mua_recipient_restrictions'
finds "submission with its own smtpd_recipient_restrictions" submission2 \
	'submission/inet: -o smtpd_recipient_restrictions=$mua_recipient_restrictions does not ask htgate-policyd first'

case_dir submission3
postconf -c "$C" -M 'submission/inet=submission inet n - y - - smtpd -o smtpd_recipient_restrictions=htgate_policy,permit_sasl_authenticated,reject'
check submission3 --postfix-dir "$C"
if [ $? = 0 ]; then tap_ok "submission asking htgate_policy first: no problem"
else tap_not_ok "submission asking htgate_policy first: no problem" "$(cat "$T/submission3.out")"; fi

case_dir nomilters
postconf -c "$C" -e 'receive_override_options = no_address_mappings, no_milters'
finds "main.cf receive_override_options=no_milters" nomilters \
	"main.cf: receive_override_options = no_address_mappings, no_milters"

case_dir pickup
postconf -c "$C" -P 'pickup/unix/receive_override_options=no_milters'
finds "pickup with -o receive_override_options=no_milters" pickup \
	"master.cf service pickup/unix: -o receive_override_options=no_milters"

case_dir cleanup
postconf -c "$C" -P 'cleanup/unix/non_smtpd_milters='
finds "cleanup with -o non_smtpd_milters=" cleanup \
	"master.cf service cleanup/unix: -o non_smtpd_milters= leaves out htgate-milter"

case_dir rewrite
postconf -c "$C" -P "rewrite/unix/transport_maps=hash:$T/partner"
finds "trivial-rewrite with its own -o transport_maps" rewrite \
	"master.cf service rewrite/unix: -o transport_maps=hash:$T/partner"

case_dir policy
postconf -c "$C" -e 'smtpd_recipient_restrictions = permit_mynetworks, htgate_policy, reject_unauth_destination'
finds "htgate_policy not first" policy "htgate's htgate_policy is not first in smtpd_recipient_restrictions"

case_dir order
postconf -c "$C" -e "transport_maps = hash:$T/partner, texthash:$M/transport"
finds "htgate's transport map not first" order "htgate's texthash:$M/transport is not first in transport_maps"

case_dir route
printf 'partner.example smtp:[192.0.2.7]\nAGS@htpoort.nl smtp:[192.0.2.9]:25\n' >"$T/partner2"
postmap -c "$C" "$T/partner2"
postconf -c "$C" -e "transport_maps = texthash:$M/transport, hash:$T/partner2"
finds "an address entry in a later map routes AGS@htpoort.nl past egress" route \
	"AGS@htpoort.nl: transport_maps routes it to smtp:[192.0.2.9]:25 (hash:$T/partner2, by address)"
if grep -q 'DMS@htpoort.nl' "$T/route.out"; then
	tap_not_ok "DMS@htpoort.nl (routed by htgate's map) is not reported" "$(cat "$T/route.out")"
else
	tap_ok "DMS@htpoort.nl (routed by htgate's map) is not reported"
fi

case_dir service
postconf -c "$C" -F 'htg/unix/process_limit=5'
finds "htgate's HTG transport changed (maxproc 5)" service \
	"master.cf service htg/unix is not what htgate generates: maxproc 5 instead of 1"

case_dir absolute
check absolute --postfix-dir "$C" --milter-socket unix:/run/htgate/milter.sock
if [ $? = 1 ] && grep '^PROBLEM' "$T/absolute.out" | grep -q 'is an absolute path, and smtp/inet, cleanup/unix run chrooted'; then
	tap_ok "an absolute milter socket, smtpd and cleanup chrooted"
else
	tap_not_ok "an absolute milter socket, smtpd and cleanup chrooted" "$(cat "$T/absolute.out")"
fi

C=$B
check queue --postfix-dir "$B"
if grep '^note' "$T/queue.out" | grep -qF "htgate-milter -p unix:$T/queue/htgate/milter.sock"; then
	tap_ok "queue_directory elsewhere: where the daemons must listen"
else
	tap_not_ok "queue_directory elsewhere: where the daemons must listen" "$(cat "$T/queue.out")"
fi
if grep '^warning' "$T/queue.out" | grep -qF "nothing listens on $T/queue/htgate/milter.sock"; then
	tap_ok "a socket nobody listens on: a warning"
else
	tap_not_ok "a socket nobody listens on: a warning" "$(cat "$T/queue.out")"
fi

check nopf --no-postfix
if [ $? = 0 ] && ! grep -q '^postfix ' "$T/nopf.out"; then
	tap_ok "--no-postfix: the configuration only"
else
	tap_not_ok "--no-postfix: the configuration only" "$(cat "$T/nopf.out")"
fi
check missing --postfix-dir "$T/nowhere"
[ $? = 1 ] && tap_ok "a missing Postfix directory: exit 1" ||
    tap_not_ok "a missing Postfix directory: exit 1" "$(cat "$T/missing.out")"
if cat "$T"/*.out | grep -qF 'Check-Pw-77_secret'; then
	tap_not_ok "no password in any output"
else
	tap_ok "no password in any output"
fi
