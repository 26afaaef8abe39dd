# tests/fetch/lib.sh - shared set-up for the htgate-fetch tests (sourced)
#
# Starts real servers in a private temp dir on loopback: Dovecot POP3
# (STLS required, TLS 1.3 only, certificate from a CA made here, a
# passwd-file user), a private Postfix as the local MTA delivering into
# a virtual maildir, and, when a test asks, the python3 helpers in
# tests/fetch/helper.py.  Everything started is stopped by fetch_cleanup
# (installed as the EXIT trap).  Each test script passes its own ports
# (range 10180-10199) so the scripts can run in parallel.  Output is TAP
# (tests/tap.sh): check prints one line per assertion, the plan comes at
# the end; a set-up step that fails bails out.

set -u
: "${top_builddir:?}" "${srcdir:?}"
. "${top_srcdir:-$srcdir/..}/tests/tap.sh"
FETCH=$top_builddir/tools/htgate-fetch
HELPER=$srcdir/fetch/helper.py
[ -f "$HELPER" ] || HELPER=$srcdir/helper.py
MAILBOX=company@htpoort.test
PASSWORD='Sup3r-Secret-Pw!'

fetch_skip_unless() {
	for b in "$@"; do
		command -v "$b" >/dev/null 2>&1 || [ -x "$b" ] ||
			tap_skip_all "$b not found"
	done
}
fetch_skip_unless dovecot postfix openssl python3 /usr/sbin/postconf
[ -x "$FETCH" ] || tap_bail_out "$FETCH not built"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (Dovecot/Postfix)"

T=$(mktemp -d /tmp/htg-fetch.XXXXXX)
chmod 755 "$T"
PIDS=""
DOVECOTS=""
POSTFIX_UP=""

# fetch_cleanup - the EXIT trap: stop what was started, the plan, the logs
fetch_cleanup() {
	rc=$?
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for d in $DOVECOTS; do
		[ -f "$d/run/master.pid" ] && kill "$(cat "$d/run/master.pid")" 2>/dev/null
	done
	[ -n "$POSTFIX_UP" ] && postfix -c "$T/postfix" stop >/dev/null 2>&1
	sleep 0.3
	for d in $DOVECOTS; do
		[ -f "$d/run/master.pid" ] && kill -9 "$(cat "$d/run/master.pid")" 2>/dev/null
	done
	if tap_failed || [ "$rc" -ne 0 ]; then
		tap_diag "--- logs kept in $T"
		for f in "$T"/*.log "$T"/postfix/maillog; do
			case $f in */pki.log) continue;; esac
			[ -f "$f" ] && { tap_diag "--- $f"; tail -n 40 "$f" | tap_diag; }
		done
		[ -n "${KEEP:-}" ] || rm -rf "$T"
	else
		rm -rf "$T"
	fi
	tap_end "$rc"
	exit $?
}
trap fetch_cleanup EXIT
trap 'exit 1' INT TERM

ok() { tap_ok "$*"; }
not_ok() { tap_not_ok "$*"; }
check() {	# check "label" command...
	tap_check "$@"
}

# make_pki - CA, server cert for 127.0.0.1/localhost, wrong-host cert, other CA
make_pki() {
	P=$T/pki; mkdir -p "$P"
	(
	cd "$P" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=htgate test CA" \
		-keyout ca.key -out ca.crt -addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" \
		-keyout other-ca.key -out other-ca.crt \
		-addext basicConstraints=critical,CA:TRUE
	for n in good wrong; do
		if [ $n = good ]; then cn=127.0.0.1; san="IP:127.0.0.1,DNS:localhost"
		else cn=wrong.example; san="DNS:wrong.example"; fi
		openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" \
			-keyout $n.key -out $n.csr
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" > $n.ext
		openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile $n.ext -out $n.crt
	done
	) >"$T/pki.log" 2>&1 || { tap_diag <"$T/pki.log"; tap_bail_out "openssl"; }
	chmod 644 "$P"/*
}

# start_dovecot NAME PORT CERT - Dovecot POP3 with STLS required, TLS 1.3
start_dovecot() {
	name=$1 port=$2 cert=$3
	D=$T/dovecot-$name
	mkdir -p "$D/run" "$D/state"
	[ -d "$T/mail" ] || { mkdir -p "$T/mail/$MAILBOX"; chown -R nobody:nogroup "$T/mail"; }
	[ -f "$T/passwd" ] || {
		printf '%s:{PLAIN}%s::::::\n' "$MAILBOX" "$PASSWORD" > "$T/passwd"
		chmod 600 "$T/passwd"; chown dovecot "$T/passwd"
	}
	cat > "$D/dovecot.conf" <<EOC
base_dir = $D/run
state_dir = $D/state
instance_name = htg-fetch-$name-$$
log_path = $T/dovecot-$name.log
protocols = pop3
listen = 127.0.0.1
ssl = required
ssl_cert = <$T/pki/$cert.crt
ssl_key = <$T/pki/$cert.key
ssl_min_protocol = TLSv1.3
disable_plaintext_auth = yes
auth_mechanisms = plain
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $T/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$T/mail/%u
}
mail_location = maildir:$T/mail/%u
pop3_uidl_format = %08Xu%08Xv
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $port
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  chroot =
}
EOC
	dovecot -c "$D/dovecot.conf" >"$T/dovecot-$name.start.log" 2>&1 || {
		tap_diag <"$T/dovecot-$name.start.log"
		[ -f "$T/dovecot-$name.log" ] && tap_diag <"$T/dovecot-$name.log"
		tap_bail_out "dovecot $name did not start"; }
	DOVECOTS="$DOVECOTS $D"
	wait_port "$port" || { tap_diag <"$T/dovecot-$name.log"; tap_bail_out "dovecot $name not listening"; }
}

# wait_port PORT - until something listens there (5 s)
wait_port() {
	for _ in $(seq 1 50); do
		python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$1),1)" \
			2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_postfix PORT - private Postfix; answers to @local.test land in $T/vmail
start_postfix() {
	port=$1
	PF=$T/postfix
	mkdir -p "$PF" "$T/queue" "$T/data" "$T/vmail"
	chown postfix "$T/data"; chown nobody:nogroup "$T/vmail"
	sed -e "s/^smtp      inet  n       -       y       -       -       smtpd/127.0.0.1:$port inet n - n - - smtpd/" \
		/usr/share/postfix/master.cf.dist > "$PF/master.cf"
	grep -q "^127.0.0.1:$port" "$PF/master.cf" || tap_bail_out "master.cf edit"
	cat > "$PF/main.cf" <<EOC
compatibility_level = 3.6
queue_directory = $T/queue
data_directory = $T/data
maillog_file = $T/postfix/maillog
maillog_file_prefixes = $T
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mta.local.test
mydomain = local.test
myorigin = local.test
mydestination =
mynetworks = 127.0.0.0/8
relayhost =
smtpd_relay_restrictions = permit_mynetworks, reject
virtual_mailbox_domains = local.test
virtual_mailbox_base = $T/vmail
virtual_mailbox_maps = inline:{ {answers@local.test=answers/}, {sw@local.test=sw/}, {postmaster@local.test=postmaster/} }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
virtual_minimum_uid = 100
alias_maps =
alias_database =
local_recipient_maps =
smtputf8_enable = no
EOC
	postfix -c "$PF" check >"$T/postfix-check.log" 2>&1
	postfix -c "$PF" start >"$T/postfix-start.log" 2>&1 || {
		cat "$T/postfix-start.log" "$PF/maillog" 2>/dev/null | tap_diag
		tap_bail_out "postfix start"; }
	POSTFIX_UP=1
	wait_port "$port" || { tap_diag <"$PF/maillog"; tap_bail_out "postfix not listening"; }
}

# write_conf FILE POP3PORT DELIVER [extra lines...] - htgate.conf for the tests
write_conf() {
	f=$1 pport=$2 deliver=$3; shift 3
	printf '%s\n' "$PASSWORD" > "$T/company.pw"; chmod 600 "$T/company.pw"
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
ca_file = $T/pki/ca.crt

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
	} > "$f"
}

# put_msg NAME SUBJECT [BODY] - place a message in the POP3 maildir
put_msg() {
	d=$T/mail/$MAILBOX
	mkdir -p "$d/new" "$d/cur" "$d/tmp"
	f="$d/new/$(date +%s).$1.htgtest"
	printf 'From: HTG <noreply@htpoort.test>\nTo: %s\nSubject: %s\nMessage-ID: <%s@htpoort.test>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\n\n%s\n.leading dot line\nend\n' \
		"$MAILBOX" "$2" "$1" "${3:-Answer $1}" > "$f"
	chown -R nobody:nogroup "$d"
}

# server_count - messages still on the POP3 server
server_count() {
	find "$T/mail/$MAILBOX/new" "$T/mail/$MAILBOX/cur" -type f 2>/dev/null | wc -l
}

# delivered_count BOX - messages in a local virtual maildir (waits for queue)
delivered_count() {
	find "$T/vmail/$1/new" "$T/vmail/$1/cur" -type f 2>/dev/null | wc -l
}

# wait_delivered BOX N - until the local Postfix put N messages there (10 s)
wait_delivered() {
	for _ in $(seq 1 100); do
		[ "$(delivered_count "$1")" -ge "$2" ] && break
		sleep 0.1
	done
	sleep 0.2
	[ "$(delivered_count "$1")" -eq "$2" ]
}

# run_fetch LOG [args...] - run htgate-fetch once; sets $rc
run_fetch() {
	log=$1; shift
	"$FETCH" -c "$T/htgate.conf" -t 10 "$@" >"$log.out" 2>"$log" </dev/null
	rc=$?
	cat "$log" >>"$T/fetch-all.log"
}

# no_secret FILE... - the password never appears
no_secret() {
	! grep -qF "$PASSWORD" "$@"
}

# fetch_done - the end of a test: the EXIT trap prints the plan
fetch_done() {
	exit 0
}

# start_helper ARGS... - python3 helper in the background (see helper.py)
start_helper() {
	python3 "$HELPER" "$@" >>"$T/helper.log" 2>&1 &
	PIDS="$PIDS $!"
}

# wait_file FILE [tenths] - until FILE exists (default 10 s)
wait_file() {
	for _ in $(seq 1 "${2:-100}"); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# uidls_delivered - UIDLs of everything delivered locally, one a line
uidls_delivered() {
	cat "$T"/vmail/*/new/* "$T"/vmail/*/cur/* 2>/dev/null |
		sed -n 's/^X-HTG-UIDL: //p' | tr -d '\r'
}

# exactly_once N - N messages delivered, no UIDL twice
exactly_once() {
	[ "$(uidls_delivered | wc -l)" -eq "$1" ] &&
	[ "$(uidls_delivered | sort -u | wc -l)" -eq "$1" ]
}
