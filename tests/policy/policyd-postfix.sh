#!/bin/bash
# policyd-postfix.sh - htgate-policyd behind a real, private Postfix.
#
# Starts (sandbox/lib.sh) htgate-policyd on a unix socket and a private
# Postfix on 127.0.0.1:10126 whose smtpd asks it through
# check_policy_service at RCPT and at END-OF-MESSAGE (nothing else of
# htgate: no milter), then sends with swaks: two HTG recipients (the
# second must get the HTG reply text), an oversized HTG message (refused
# at end of data) and a non-HTG message (accepted).  Accepted mail goes
# to Postfix's discard transport.  TAP (tests/tap.sh); skipped without
# postfix, swaks, python3 or root; everything started is stopped by the
# EXIT trap.
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:?set top_builddir to the build directory}"
PATH=$PATH:/usr/sbin:/sbin
. "$top_srcdir/tests/tap.sh"
for b in postfix postconf swaks; do
	command -v "$b" >/dev/null 2>&1 || tap_skip_all "$b not found"
done
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (private Postfix)"

. "$top_srcdir/sandbox/lib.sh"
RELAY_PORT=10126

# ok - one check: ok DESCRIPTION COMMAND...
ok()
{
	tap_check "$@"
}

# show_logs - on failure, what the servers said
show_logs()
{
	tap_failed || return 0
	for f in policyd.log relay/maillog out/two.swaks out/big.swaks; do
		[ -s "$SB_TMP/$f" ] || continue
		tap_diag "---- $f (last 30 lines)"
		tail -n 30 "$SB_TMP/$f" | tap_diag
	done
}

sb_init "$top_builddir" 10127 "$RELAY_PORT"
SB_CLEANUP_HOOK=show_logs
# sb_init's EXIT trap (sb_cleanup) stops everything; the plan comes first.
trap 'st=$?; show_logs; SB_CLEANUP_HOOK=; tap_end $st || st=1; (exit $st); sb_cleanup' EXIT
mkdir -p "$SB_TMP/out"
SB_HTGATE_CONF=$SB_TMP/htgate.conf
cat >"$SB_HTGATE_CONF" <<'EOF'
[global]
language = en nl
size_limit = 2K

[stream AGS]
profile = standard

[stream DMS]
profile = standard

[account plain]
mailbox = plain@htpoort.nl
senders = *@plain.example
streams = *
rate = off
EOF
sb_start_policyd

sb_postfix_new relay "$RELAY_PORT" relay.test
policy="{ unix:$SB_POLICY_SOCKET, default_action=DEFER_IF_PERMIT }"
cat >>"$SB_TMP/relay/etc/main.cf" <<EOF
smtpd_recipient_restrictions = check_policy_service $policy,
    permit_mynetworks, reject_unauth_destination
smtpd_end_of_data_restrictions = check_policy_service $policy
smtpd_policy_service_default_action = 451 4.3.5 htgate-policyd unavailable
default_transport = discard
relay_transport = discard
EOF
sb_postfix_start relay "$RELAY_PORT"

send()
{
	local name=$1
	shift
	swaks --server 127.0.0.1 --port "$RELAY_PORT" --helo erp.plain.example \
	    --timeout 30 --from x@plain.example "$@" \
	    >"$SB_TMP/out/$name.swaks" 2>&1
	return 0
}
has()
{
	grep -qE "$2" "$SB_TMP/out/$1.swaks"
}
logged()
{
	local i
	for i in $(seq 1 50); do
		grep -qE "$1" "$SB_TMP/policyd.log" && return 0
		sleep 0.1
	done
	return 1
}

send two --to AGS@htpoort.nl,DMS@htpoort.nl
ok "first HTG recipient accepted" \
    has two '^<-  250 .*Ok'
ok "second HTG recipient refused with the HTG reply (550 5.5.3 ENV-ONE-RCPT, en / nl)" \
    has two '^<\*\* *550 5\.5\.3 .*\[HTG ENV-ONE-RCPT\] A message to HTG may have only one recipient.* / \[HTG ENV-ONE-RCPT\] Een bericht'
ok "the message with its one HTG recipient is queued" \
    has two '^<-  250 2\.0\.0 Ok: queued'
ok "policyd logged the ENV-ONE-RCPT decision" \
    logged 'action=reject stage=rcpt rule=ENV-ONE-RCPT from=<x@plain.example> to=<AGS@htpoort.nl>'
ok "policyd logged the accepted message with its Postfix queue ID" \
    logged '[0-9A-F]{6,}: action=accept stage=eom rule=- from=<x@plain.example> to=<AGS@htpoort.nl>'

send big --to AGS@htpoort.nl --body "$(head -c 3000 /dev/zero | tr '\0' 'x' | fold -w 70)"
ok "message above size_limit refused at end of data (552 5.3.4 ENV-SIZE)" \
    has big '^<\*\* *552 5\.3\.4 .*\[HTG ENV-SIZE\]'

send mixed --to AGS@htpoort.nl,bob@example.org
ok "HTG plus non-HTG recipient: ENV-MIXED" \
    has mixed '^<\*\* *550 5\.5\.3 .*\[HTG ENV-MIXED\]'

send stream --to NOSUCH@htpoort.nl
ok "unknown stream: 550 5.1.1 ENV-STREAM" \
    has stream '^<\*\* *550 5\.1\.1 .*\[HTG ENV-STREAM\]'

send other --to bob@example.org,carol@example.net
ok "mail not for HTG passes (DUNNO)" \
    has other '^<-  250 2\.0\.0 Ok: queued'

ok "no sanitizer report from policyd" \
    eval '! grep -qE "Sanitizer|runtime error" "$SB_TMP/policyd.log"'
