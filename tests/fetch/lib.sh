# tests/fetch/lib.sh - the htgate-fetch tests' layer over sandbox/lib.sh
# (sourced by bash)
#
# SYNOPSIS
#	. "$srcdir/fetch/lib.sh"
#	fetch_begin POP3_PORT SMTP_PORT	temp dir ($T), CA, password, EXIT trap
#	fetch_start_pop3 PORT [NAME [CERT]]	Dovecot POP3 (sb_start_pop3)
#	fetch_start_mta PORT		a private Postfix for local.test ($MTA)
#	write_conf FILE POP3PORT DELIVER [LINE...]	htgate.conf for the tests
#	put_msg NAME SUBJECT [BODY]	an answer in the POP3 mailbox
#	run_fetch LOG [ARG...]		one htgate-fetch run; sets $rc
#	check LABEL CMD [ARG...]	one TAP assertion
#	start_helper MODE ARGS...	a helper of helper.py in the background
#
# DESCRIPTION
#	The servers are sandbox/lib.sh's, the same as the sandbox and the
#	end-to-end tests use: the CA (sb_make_ca: EC keys, "ca" and an
#	untrusted "rogue" CA, a server certificate for 127.0.0.1 and
#	localhost; sb_make_cert for one with another name), the HTG POP3
#	mailbox stand-in (sb_start_pop3: Dovecot, STLS required, TLS 1.3
#	only, the sandbox account $MAILBOX with the sandbox password), a
#	private Postfix (sb_postfix_new, sb_postfix_start) as the local
#	MTA, port probes, and the cleanup: sb_init's EXIT trap stops
#	everything started (the helpers too) and removes the temp dir
#	(SB_KEEP=1 keeps it).  What is the fetch tests' own: the
#	configuration, the answers put in the mailbox, counting what the
#	local MTA delivered, and helper.py (fake POP3 servers, a TCP proxy
#	that cuts or stalls a connection).  Each test passes its own ports.
#	Output is TAP (tests/tap.sh): check prints one line per assertion;
#	the plan comes at the end, before the servers stop, with their logs
#	after a failure (sb_tap_begin); a set-up step that fails stops the
#	test (sb_die) and counts as a failure.

set -u
: "${top_builddir:?}" "${srcdir:?}"
: "${top_srcdir:=$srcdir/..}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/sandbox/lib.sh"
FETCH=$top_builddir/tools/htgate-fetch
HELPER=$top_srcdir/tests/fetch/helper.py
MAILBOX=$SB_MAILBOX

[ -x "$FETCH" ] || tap_bail_out "$FETCH not built"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (Dovecot/Postfix)"
miss=$(sb_missing_bins)
[ -z "$miss" ] || tap_skip_all "missing programs: $miss"
command -v python3 >/dev/null 2>&1 || tap_skip_all "python3 not found"

# fetch_begin POP3_PORT SMTP_PORT - the sandbox temp dir, CA, password;
# the EXIT trap (sb_tap_begin) shows these logs after a failure
fetch_begin()
{
	sb_tap_begin "$top_builddir" "$1" "$2" '*.log' mta/maillog \
	    'pop3*/dovecot.log'
	T=$SB_TMP
	sb_make_ca
	sb_make_password
	PASSWORD=$(cat "$SB_PWFILE")
	MTA=$T/mta
	POP3_MAILDIR=$T/pop3/mail/$MAILBOX
}

ok() { tap_ok "$*"; }
not_ok() { tap_not_ok "$*"; }
check() {	# check "label" command...
	tap_check "$@"
}

# fetch_start_pop3 PORT [NAME [CERT]] - the POP3 mailbox stand-in (the
# first one needs the sandbox's SASL Dovecot for its users file)
fetch_start_pop3()
{
	[ -f "$T/dovecot/users" ] || sb_start_dovecot
	sb_start_pop3 "$@"
}

# wait_port PORT - until something listens there (else the test stops)
wait_port()
{
	sb_wait_port "$1"
}

# fetch_start_mta PORT - a private Postfix delivering local.test into
# virtual maildirs under $MTA/vmail (answers, sw, erp and postmaster)
fetch_start_mta()
{
	if [ ! -d "$MTA/etc" ]; then
		sb_postfix_new mta "$1" mta.local.test
		mkdir -p "$MTA/vmail"
		chown nobody:nogroup "$MTA/vmail"
		postconf -c "$MTA/etc" -e "mydomain = local.test" \
		    "myorigin = local.test" "local_recipient_maps =" \
		    "virtual_mailbox_domains = local.test" \
		    "virtual_mailbox_base = $MTA/vmail" \
		    "virtual_mailbox_maps = inline:{ {answers@local.test=answers/}, {sw@local.test=sw/}, {erp@local.test=erp/}, {postmaster@local.test=postmaster/} }" \
		    "virtual_uid_maps = static:65534" \
		    "virtual_gid_maps = static:65534" "virtual_minimum_uid = 100"
	fi
	sb_postfix_start mta "$1"
}

# fetch_fake_pop3 PORT - helper.py's POP3 server without UIDL on PORT,
# answers in $MAILDIR ($T/box), flags in $T/flags, its wire log
# $T/pop3.wire; htgate.conf ($T/htgate.conf) fetches from it into the
# local MTA (fetch_start_mta first)
fetch_fake_pop3()
{
	MAILDIR=$T/box
	mkdir -p "$MAILDIR/new" "$T/flags"
	write_conf "$T/htgate.conf" "$1" "smtp:127.0.0.1:$SB_PORT_RELAY"
	start_helper pop3 "$1" "$T/ca/server.crt" "$T/ca/server.key" "$MAILDIR" \
		"$MAILBOX" "$T/company.pw" "$T/flags" "$T/pop3.wire"
	wait_port "$1"
}

# mta_reload - the local MTA after a postconf change
mta_reload()
{
	postfix -c "$MTA/etc" reload >/dev/null 2>&1
	sleep 1
}

# write_conf FILE POP3PORT DELIVER [extra lines...] - htgate.conf for the tests
write_conf()
{
	local f=$1 pport=$2 deliver=$3 l
	shift 3
	(umask 077; printf '%s\n' "$PASSWORD" >"$T/company.pw")
	mkdir -p "$T/state"
	{
	cat <<EOC
[global]
state_dir = $T/state
fetch_deliver = $deliver
fetch_sender = postmaster@local.test
fetch_max_size = 100K

[environment test]
envelope_domain = msa-smtp.htpoort.test
header_domain = htpoort.test
smtp_host = 127.0.0.1
pop3_host = 127.0.0.1
pop3_port = $pport
ca_file = $SB_CA

[account company]
mailbox = $MAILBOX
senders = *@example.com
password_file = $T/company.pw
fetch = yes
fetch_environment = test
fetch_recipient = answers@local.test

[route single-window]
account = *
header = Subject
pattern = *SINGLEWINDOW*
recipient = sw@local.test
EOC
	for l in "$@"; do printf '%s\n' "$l"; done
	} >"$f"
}

# put_msg NAME SUBJECT [BODY] - place an answer in the POP3 maildir (or
# in $MAILDIR when set)
put_msg()
{
	local d=${MAILDIR:-$POP3_MAILDIR}
	mkdir -p "$d/new" "$d/cur" "$d/tmp"
	printf 'From: HTG <noreply@htpoort.test>\nTo: %s\nSubject: %s\nMessage-ID: <%s@htpoort.test>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n%s\n.leading dot line\nend\n' \
		"$MAILBOX" "$2" "$1" "${3:-Answer $1}" >"$d/new/$(date +%s).$1.htgtest"
	chown -R nobody:nogroup "$d"
}

# server_count - messages still on the POP3 server (or in $MAILDIR)
server_count()
{
	local d=${MAILDIR:-$POP3_MAILDIR}
	find "$d/new" "$d/cur" -type f 2>/dev/null | wc -l
}

# delivered_count BOX - messages in a local virtual maildir
delivered_count()
{
	find "$MTA/vmail/$1/new" "$MTA/vmail/$1/cur" -type f 2>/dev/null | wc -l
}

# wait_delivered BOX N - until the local Postfix put N messages there (10 s)
wait_delivered()
{
	local i
	for i in $(seq 1 100); do
		[ "$(delivered_count "$1")" -ge "$2" ] && break
		sleep 0.1
	done
	sleep 0.2
	[ "$(delivered_count "$1")" -eq "$2" ]
}

# run_fetch LOG [args...] - run htgate-fetch once; sets $rc
run_fetch()
{
	local log=$1
	shift
	rc=0
	"$FETCH" -c "$T/htgate.conf" -t 10 "$@" >"$log.out" 2>"$log" </dev/null || rc=$?
	cat "$log" >>"$T/fetch-all.log"
}

# no_secret FILE... - the password never appears
no_secret()
{
	! grep -qF "$PASSWORD" "$@"
}

# fetch_done - the end of a test: the EXIT trap prints the plan
fetch_done()
{
	exit 0
}

# start_helper ARGS... - python3 helper in the background (see helper.py);
# stopped by the cleanup; its pid in $HELPER_PID
start_helper()
{
	python3 "$HELPER" "$@" >>"$T/helper.log" 2>&1 &
	HELPER_PID=$!
	disown "$HELPER_PID"
	SB_STARTED_PIDS="$SB_STARTED_PIDS $HELPER_PID"
}

# wait_file FILE [tenths] - until FILE exists (default 10 s)
wait_file()
{
	local i
	for i in $(seq 1 "${2:-100}"); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# uidls_delivered - UIDLs of everything delivered locally, one a line
uidls_delivered()
{
	cat "$MTA"/vmail/*/new/* "$MTA"/vmail/*/cur/* 2>/dev/null |
		sed -n 's/^X-HTG-UIDL: //p' | tr -d '\r'
}

# check_no_redelivery LABEL LOG DELETED BOX N - the run after a cut
# session: exit 0, DELETED answers deleted as handed over before (not
# delivered again), N in BOX in all, nothing left on the server or in
# the state file
check_no_redelivery()
{
	check "$1: exit 0" [ "$rc" -eq 0 ]
	check "$1: $3 deleted without a second delivery" \
		[ "$(grep -c 'outcome=deleted-already-delivered' "$2")" -eq "$3" ]
	check "$1: $5 delivered to $4 in all" wait_delivered "$4" "$5"
	check "$1: server empty, state empty" \
		eval '[ "$(server_count)" -eq 0 ] && [ "$(grep -vc "^#" "$T/state/fetch-company.state")" -eq 0 ]'
}

# exactly_once N - N messages delivered, no UIDL twice
exactly_once()
{
	[ "$(uidls_delivered | wc -l)" -eq "$1" ] &&
	[ "$(uidls_delivered | sort -u | wc -l)" -eq "$1" ]
}
