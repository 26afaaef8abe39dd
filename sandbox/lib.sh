# sandbox/lib.sh - shared shell functions for the htgate sandbox and the
# end-to-end tests: private Postfix instances, a CA, Dovecot SASL, the
# HTG stand-in, htgate-milter, htgate-policyd and the relay, on loopback.
#
# SYNOPSIS
#	. "$top_srcdir/sandbox/lib.sh"
#	sb_init BUILDDIR STANDIN_PORT RELAY_PORT	# temp dir + EXIT trap
#	sb_start_all					# CA, Dovecot, stand-in, milter,
#							# policyd, relay
#	sb_swaks_relay [swaks options]			# one SMTP transaction
#	sb_wait_drain; sb_arrived_count RCPT; ...
#
# DESCRIPTION
#	Everything lives in one temporary directory ($SB_TMP): no system
#	configuration is read or changed, no system service is used.  The
#	HTG stand-in is a private Postfix (STARTTLS with a certificate of a
#	CA made here, TLS 1.3 only, AUTH PLAIN/LOGIN only after TLS through
#	a private Dovecot, one recipient per message, DSN) that hands what
#	it accepts over LMTP to smtp-sink(1), which dumps every transaction
#	with its envelope (MAIL/RCPT arguments: ENVID, NOTIFY, ORCPT) into
#	$SB_TMP/standin/arrived/.  The relay is a second private Postfix,
#	set up from Debian's stock master.cf (smtpd, cleanup, pickup and the
#	smtp client chrooted in its queue directory, as Debian ships them)
#	into which "htgate-config apply" merges htgate's configuration, as
#	an admin does: htgate-milter in smtpd_milters and non_smtpd_milters,
#	htgate-policyd, and the routing of HTG mail through the egress stage
#	(a loopback smtpd on relay port + 100 for production, + 101 for
#	preprod, where the milter judges the final envelope) to the
#	stand-in.  The daemons
#	listen in the relay's queue directory (htgate/milter.sock,
#	htgate/policy.sock), where chrooted and unchrooted Postfix processes
#	both find them.  A failing htgate-config fails the setup.  Mail for
#	other domains (bounces) is kept in $SB_TMP/relay/mail/; the address
#	customs@example.com is an alias (virtual_alias_maps) of
#	AGS@msa-smtp.htpoort.nl, which only the egress stage can judge.
#
#	sb_init installs an EXIT trap that stops everything the functions
#	started (only those processes, by pid or by their private config)
#	and removes the temp dir (kept if SB_KEEP=1).
#
#	Secrets: the example account's password is generated into a 0600
#	file and never printed; logs shown are the servers' own (Postfix
#	and Dovecot do not log passwords).
#
# ENVIRONMENT
#	SB_KEEP=1	keep $SB_TMP after exit.
#	SB_VERBOSE=1	progress messages on stderr.
#	SB_RATE_DELAY	the HTG transports' rate delay (htgate-config
#			--rate-delay; default 0s, so tests do not wait).
#
# Needs bash (uses /dev/tcp for port probes), postfix, smtp-sink, swaks,
# dovecot, openssl.  Runs as root.

SB_MAILBOX=example@htpoort.nl
SB_CERTNAME=msa-smtp.htpoort.nl
SB_STARTED_PIDS=
SB_POSTFIX_DIRS=
SB_DOVECOT_PID=
SB_LAUNCH_PIDS=
SB_CLEANUP_HOOK=

# sb_msg - progress message on stderr
sb_msg()
{
	[ "${SB_VERBOSE:-0}" = 1 ] && echo "sandbox: $*" >&2
	return 0
}

# sb_die - fatal error on stderr; the EXIT trap cleans up
sb_die()
{
	echo "sandbox: error: $*" >&2
	exit 99
}

# sb_missing_bins - print the needed programs that are not installed
sb_missing_bins()
{
	local b miss=
	for b in postfix postconf postqueue smtp-sink swaks dovecot openssl sendmail; do
		if ! command -v "$b" >/dev/null 2>&1 &&
		    ! [ -x "/usr/sbin/$b" ]; then
			miss="$miss $b"
		fi
	done
	echo "${miss# }"
}

# sb_init - create the temp dir, remember ports and programs, set the trap
sb_init()
{
	[ $# -eq 3 ] || sb_die "usage: sb_init BUILDDIR STANDIN_PORT RELAY_PORT"
	PATH=$PATH:/usr/sbin:/sbin
	export PATH
	SB_BUILD=$(cd "$1" && pwd) || sb_die "no build directory $1"
	SB_PORT_STANDIN=$2
	SB_PORT_RELAY=$3
	SB_PORT_EGRESS=$(($3 + 100))
	SB_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
	SB_MILTER=$SB_BUILD/milter/htgate-milter
	SB_POLICYD=$SB_BUILD/policy/htgate-policyd
	SB_CONFIG=$SB_BUILD/tools/htgate-config
	[ "$(id -u)" = 0 ] || sb_die "must run as root (private Postfix instances)"
	SB_TMP=$(mktemp -d /tmp/htgate-sandbox.XXXXXX) || sb_die "mktemp"
	# Postfix and Dovecot daemons run as their own users: let them
	# traverse; secrets live in 0700/0600 subdirectories.
	chmod 755 "$SB_TMP"
	mkdir -m 700 "$SB_TMP/secrets"
	trap sb_cleanup EXIT
	trap 'exit 130' INT TERM HUP
	sb_msg "temp dir $SB_TMP"
}

# sb_cleanup - stop everything started here, remove the temp dir
sb_cleanup()
{
	local rc=$? d p i
	trap - EXIT
	set +e
	[ -n "$SB_CLEANUP_HOOK" ] && $SB_CLEANUP_HOOK
	# A "postfix start" still running would start a master after we
	# stopped it: let those finish first.
	for p in $SB_LAUNCH_PIDS; do
		wait "$p" 2>/dev/null
	done
	for d in $SB_POSTFIX_DIRS; do
		postfix -c "$d/etc" stop >/dev/null 2>&1 ||
		    postfix -c "$d/etc" abort >/dev/null 2>&1
	done
	for p in $SB_STARTED_PIDS; do
		kill "$p" 2>/dev/null
	done
	# Dovecot's master takes seconds to stop on SIGTERM; it only holds
	# private sockets, so stop it and its children at once.
	for p in $SB_DOVECOT_PID; do
		kill -9 $(ps -o pid= --ppid "$p" 2>/dev/null) "$p" 2>/dev/null
	done
	# Wait (bounded) until the Postfix masters and the rest are gone.
	for i in $(seq 1 50); do
		local alive=
		for d in $SB_POSTFIX_DIRS; do
			p=$(tr -d ' ' <"$d/data/master.lock" 2>/dev/null)
			[ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1
		done
		for p in $SB_STARTED_PIDS $SB_DOVECOT_PID; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ -z "$alive" ] && break
		# libmilter daemons can take seconds to notice SIGTERM.
		if [ "$i" = 15 ]; then
			for p in $SB_STARTED_PIDS; do
				kill -9 "$p" 2>/dev/null
			done
		fi
		sleep 0.1
	done
	sb_msg "stopped after $i rounds"
	for p in $SB_STARTED_PIDS $SB_DOVECOT_PID; do
		kill -9 "$p" 2>/dev/null
	done
	for d in $SB_POSTFIX_DIRS; do
		p=$(tr -d ' ' <"$d/data/master.lock" 2>/dev/null)
		[ -n "$p" ] && kill -0 "$p" 2>/dev/null &&
		    { echo "sandbox: Postfix in $d did not stop; killing it" >&2
		      kill -9 "$p"; }
	done
	if [ "${SB_KEEP:-0}" = 1 ]; then
		echo "sandbox: kept $SB_TMP" >&2
	elif [ -n "${SB_TMP:-}" ] && [ -d "$SB_TMP" ]; then
		rm -rf "$SB_TMP"
	fi
	exit $rc
}

# sb_wait_port - wait until something listens on 127.0.0.1:PORT
sb_wait_port()
{
	local port=$1 i
	for i in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	sb_die "nothing listens on 127.0.0.1:$port"
}

# sb_wait_test TEST PATH WHAT PAUSE - wait (100 tries PAUSE apart) until
# "test TEST PATH" holds, else sb_die "no WHAT PATH"
sb_wait_test()
{
	local i
	for i in $(seq 1 100); do
		test "$1" "$2" && return 0
		sleep "$4"
	done
	sb_die "no $3 $2"
}

# sb_wait_file - wait until a file exists and is not empty (a pid file)
sb_wait_file() { sb_wait_test -s "$1" file 0.05; }

# sb_wait_socket - wait until a unix socket exists
sb_wait_socket() { sb_wait_test -S "$1" socket 0.1; }

# sb_port_free - fail if something already listens on 127.0.0.1:PORT
sb_port_free()
{
	if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
		sb_die "port 127.0.0.1:$1 is in use (another sandbox or test?)"
	fi
}

# sb_make_ca - a CA, a server certificate for the stand-in, a rogue CA
sb_make_ca()
{
	local d=$SB_TMP/ca
	mkdir -p "$d"
	(
		cd "$d"
		for ca in ca rogue; do
			openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
			    -nodes -keyout "$ca.key" -out "$ca.crt" -days 2 \
			    -subj "/O=htgate sandbox/CN=htgate sandbox $ca CA" \
			    -addext basicConstraints=critical,CA:TRUE \
			    -addext keyUsage=critical,keyCertSign,cRLSign
		done
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout server.key -out server.csr -subj "/CN=$SB_CERTNAME"
		printf '%s\n' \
		    "subjectAltName=DNS:$SB_CERTNAME,DNS:localhost,IP:127.0.0.1" \
		    "extendedKeyUsage=serverAuth" \
		    "basicConstraints=CA:FALSE" >server.ext
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 2 -extfile server.ext -out server.crt
		# The same name from a CA the relay does not trust.
		openssl x509 -req -in server.csr -CA rogue.crt -CAkey rogue.key \
		    -CAcreateserial -days 2 -extfile server.ext -out server-rogue.crt
		chmod 644 ./*.crt
		chmod 600 ./*.key
	) >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; sb_die "openssl"; }
	SB_CA=$d/ca.crt
}

# sb_standin_rogue_cert - make the stand-in present an untrusted certificate
sb_standin_rogue_cert()
{
	cp "$SB_TMP/ca/server-rogue.crt" "$SB_TMP/ca/server.crt"
	postfix -c "$SB_TMP/standin/etc" reload >/dev/null 2>&1
	sleep 1
}

# sb_make_password - the example account's password, 0600, never printed
sb_make_password()
{
	SB_PWFILE=$SB_TMP/secrets/example.pw
	(umask 077; openssl rand -hex 16 >"$SB_PWFILE")
}

# sb_start_dovecot - a private Dovecot that only serves SASL to Postfix
sb_start_dovecot()
{
	local d=$SB_TMP/dovecot
	mkdir -p "$d/run" "$d/state"
	chmod 755 "$d"
	SB_DOVECOT_CONF=$d/dovecot.conf
	SB_SASL_SOCKET=$d/auth-postfix
	(umask 077
	 printf '%s:{PLAIN}%s\n' "$SB_MAILBOX" "$(cat "$SB_PWFILE")" >"$d/users")
	chown dovecot "$d/users"
	cat >"$SB_DOVECOT_CONF" <<EOF
# htgate sandbox: SASL for the HTG stand-in's Postfix, nothing else.
base_dir = $d/run
state_dir = $d/state
instance_name = htgate-sandbox-$$
log_path = $d/dovecot.log
protocols =
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# HTG answers a wrong password at once; so do we (tests stay fast).
auth_failure_delay = 0
auth_username_format = %Lu
passdb {
  driver = passwd-file
  args = scheme=PLAIN $d/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=/nonexistent
}
service auth {
  unix_listener $SB_SASL_SOCKET {
    mode = 0666
  }
}
EOF
	dovecot -c "$SB_DOVECOT_CONF" </dev/null >>"$d/dovecot.out" 2>&1 || sb_die "dovecot did not start ($d/dovecot.log)"
	sb_wait_socket "$SB_SASL_SOCKET"
	sb_wait_file "$d/run/master.pid"
	SB_DOVECOT_PID="$SB_DOVECOT_PID $(cat "$d/run/master.pid")"
	sb_msg "dovecot pids $SB_DOVECOT_PID"
}

# sb_start_pop3 PORT [NAME [CERT]] - HTG's POP3 mailbox stand-in: a
# second private Dovecot on 127.0.0.1:PORT, STLS required, TLS 1.3 only,
# the sandbox CA's certificate, the example account with the same
# password.  Messages put in $SB_POP3_NEW are what HTG has for the
# company.  NAME (default pop3) is its directory in $SB_TMP, CERT
# (default server) the certificate of $SB_TMP/ca it presents (more
# than one instance: the tests of htgate-fetch; SB_PORT_POP3 and
# SB_POP3_NEW are the last one's).
sb_start_pop3()
{
	local name=${2:-pop3} cert=${3:-server}
	local d=$SB_TMP/$name
	SB_PORT_POP3=$1
	sb_port_free "$SB_PORT_POP3"
	mkdir -p "$d/run" "$d/state"
	chmod 755 "$d"
	SB_POP3_NEW=$d/mail/$SB_MAILBOX/new
	mkdir -p "$SB_POP3_NEW" "$d/mail/$SB_MAILBOX/cur" "$d/mail/$SB_MAILBOX/tmp"
	chown -R nobody:nogroup "$d/mail"
	cat >"$d/dovecot.conf" <<EOF
# htgate sandbox: the HTG POP3 mailbox stand-in (MSA section 4).
base_dir = $d/run
state_dir = $d/state
instance_name = htgate-sandbox-$name-$$
log_path = $d/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = required
ssl_cert = <$SB_TMP/ca/$cert.crt
ssl_key = <$SB_TMP/ca/$cert.key
ssl_min_protocol = TLSv1.3
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_failure_delay = 0
first_valid_uid = 1
default_login_user = dovenull
default_internal_user = dovecot
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%Lu $SB_TMP/dovecot/users
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$d/mail/%u
}
mail_location = maildir:$d/mail/%u
pop3_uidl_format = %08Xu%08Xv
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $SB_PORT_POP3
  }
  inet_listener pop3s {
    port = 0
  }
}
service anvil {
  chroot =
}
EOF
	dovecot -c "$d/dovecot.conf" </dev/null >>"$d/dovecot.out" 2>&1 ||
	    sb_die "dovecot (POP3) did not start ($d/dovecot.log)"
	sb_wait_file "$d/run/master.pid"
	SB_DOVECOT_PID="$SB_DOVECOT_PID $(cat "$d/run/master.pid")"
	sb_wait_port "$SB_PORT_POP3"
	sb_msg "POP3 stand-in on 127.0.0.1:$SB_PORT_POP3"
}

# sb_fetch_conf - htgate.conf for htgate-fetch: the POP3 stand-in, answers
# handed to the relay, unreferenced ones to htg-answers@example.com
sb_fetch_conf()
{
	SB_FETCH_CONF=$SB_TMP/htgate-fetch.conf
	awk -v port="$SB_PORT_POP3" -v relay="$SB_PORT_RELAY" '
		/^\[/ { sect = $0 }
		sect == "[environment production]" && /^#? *pop3_host[ \t]*=/ {
			print "pop3_host = 127.0.0.1"
			next
		}
		sect == "[environment production]" && /^pop3_port[ \t]*=/ {
			print "pop3_port = " port
			next
		}
		{ print }
		/^\[global\]/ {
			print "fetch_deliver = smtp:127.0.0.1:" relay
			print "fetch_sender = postmaster@example.com"
		}
		/^\[account example\]/ {
			print "fetch = yes"
			print "fetch_environment = production"
			print "fetch_recipient = htg-answers@example.com"
		}
	' "$SB_HTGATE_CONF" >"$SB_FETCH_CONF"
}

# sb_postfix_new - create a private Postfix instance NAME on PORT; with
# CHROOT=keep the chroot column stays as Debian ships it (the queue
# directory gets the etc/ files Debian's init script copies there)
sb_postfix_new()
{
	local name=$1 port=$2 host=$3 chroot=${4:-off} d=$SB_TMP/$1 f
	mkdir -p "$d/etc" "$d/queue" "$d/data"
	chown postfix "$d/data"
	cp /usr/share/postfix/master.cf.dist "$d/etc/master.cf"
	cat >"$d/etc/main.cf" <<EOF
# htgate sandbox: private Postfix instance "$name".
compatibility_level = 3.6
queue_directory = $d/queue
data_directory = $d/data
mail_owner = postfix
setgid_group = postdrop
myhostname = $host
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
maillog_file = $d/maillog
maillog_file_prefixes = $SB_TMP
smtp_host_lookup = native
smtp_dns_support_level = disabled
EOF
	if [ "$chroot" = keep ]; then
		mkdir -p "$d/queue/etc"
		for f in localtime hosts resolv.conf nsswitch.conf services host.conf; do
			[ -f "/etc/$f" ] && cp "/etc/$f" "$d/queue/etc/"
		done
	else
		postconf -c "$d/etc" -F '*/*/chroot = n'
	fi
	# The SMTP service on PORT.
	postconf -c "$d/etc" -MX smtp/inet
	postconf -c "$d/etc" -M "127.0.0.1:$port/inet=127.0.0.1:$port inet n - $([ "$chroot" = keep ] && echo y || echo n) - - smtpd"
	SB_POSTFIX_DIRS="$SB_POSTFIX_DIRS $d"
}

# sb_postfix_debian NAME PORT HOST - a private instance as a Debian 12
# relay is set up: Debian's stock main.cf (/usr/share/postfix/main.cf.debian
# plus what Debian's postinst writes for an "Internet Site") and stock
# master.cf (master.cf.dist: smtpd, cleanup, pickup and the smtp client
# chrooted); changed only where a private instance must be: its own
# queue and data directories and log, loopback only, no DNS, not the
# host's aliases, the SMTP service on 127.0.0.1:PORT (still chrooted)
sb_postfix_debian()
{
	local name=$1 port=$2 host=$3 d=$SB_TMP/$1 f
	mkdir -p "$d/etc" "$d/queue/etc" "$d/data"
	chown postfix "$d/data"
	cp /usr/share/postfix/main.cf.debian "$d/etc/main.cf"
	cp /usr/share/postfix/master.cf.dist "$d/etc/master.cf"
	cat >>"$d/etc/main.cf" <<EOF

# What Debian's postinst adds for an "Internet Site" (no server
# certificate here: smtpd offers no STARTTLS)
smtp_tls_CApath=/etc/ssl/certs
smtp_tls_security_level=may
smtp_tls_session_cache_database = btree:\${data_directory}/smtp_scache
smtpd_relay_restrictions = permit_mynetworks permit_sasl_authenticated defer_unauth_destination
myhostname = $host
mydestination = \$myhostname, localhost
relayhost =
mynetworks = 127.0.0.0/8 [::ffff:127.0.0.0]/104 [::1]/128
mailbox_size_limit = 0
recipient_delimiter = +

# A private instance: its own directories and log, loopback, no DNS, not
# the host's /etc/aliases or /etc/mailname
queue_directory = $d/queue
data_directory = $d/data
maillog_file = $d/maillog
maillog_file_prefixes = $SB_TMP
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myorigin = \$myhostname
alias_maps =
alias_database =
smtp_host_lookup = native
smtp_dns_support_level = disabled
EOF
	# what Debian's init script copies into the chroot
	for f in localtime hosts resolv.conf nsswitch.conf services host.conf; do
		[ -f "/etc/$f" ] && cp "/etc/$f" "$d/queue/etc/"
	done
	postconf -c "$d/etc" -MX smtp/inet
	postconf -c "$d/etc" -M "127.0.0.1:$port/inet=127.0.0.1:$port inet n - y - - smtpd"
	SB_POSTFIX_DIRS="$SB_POSTFIX_DIRS $d"
}

# sb_postfix_launch - start a private instance in the background
sb_postfix_launch()
{
	local d=$SB_TMP/$1
	sb_port_free "$2"
	# The first start creates the queue (post-install): about 2 s, so
	# the two instances start in parallel; sb_postfix_wait collects.
	postfix -c "$d/etc" start </dev/null >"$d/start.log" 2>&1 &
	eval "SB_LAUNCH_$1=\$!"
	SB_LAUNCH_PIDS="$SB_LAUNCH_PIDS $!"
}

# sb_postfix_wait - wait for a launched instance's start and its port
sb_postfix_wait()
{
	local d=$SB_TMP/$1 port=$2 pid
	eval "pid=\$SB_LAUNCH_$1"
	wait "$pid" ||
	    { cat "$d/start.log" "$d/maillog" >&2; sb_die "postfix start ($1)"; }
	sb_wait_port "$port"
	sb_msg "postfix $1 on 127.0.0.1:$port"
}

# sb_postfix_start - start a private instance and wait for its port
sb_postfix_start()
{
	sb_postfix_launch "$1" "$2"
	sb_postfix_wait "$1" "$2"
}

# sb_start_standin - the HTG stand-in: Postfix + Dovecot SASL + smtp-sink
sb_start_standin()
{
	local d=$SB_TMP/standin
	sb_postfix_new standin "$SB_PORT_STANDIN" "$SB_CERTNAME"
	mkdir -p "$d/arrived"
	chown postfix "$d/arrived"
	SB_SINK_SOCKET=$d/sink.sock
	# smtp-sink keeps each transaction (envelope + message) in arrived/.
	smtp-sink -L -u postfix -h "$SB_CERTNAME" -d "$d/arrived/%H%M%S." \
	    "unix:$SB_SINK_SOCKET" 10 </dev/null >"$d/sink.log" 2>&1 &
	SB_STARTED_PIDS="$SB_STARTED_PIDS $!"
	disown "$!"
	sb_wait_socket "$SB_SINK_SOCKET"
	cat >>"$d/etc/main.cf" <<EOF
# HTG MSA behaviour: STARTTLS required, TLS 1.3 only, AUTH only after TLS.
smtpd_tls_security_level = encrypt
smtpd_tls_cert_file = $SB_TMP/ca/server.crt
smtpd_tls_key_file = $SB_TMP/ca/server.key
smtpd_tls_protocols = >=TLSv1.3
smtpd_tls_mandatory_protocols = >=TLSv1.3
smtpd_tls_auth_only = yes
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $SB_SASL_SOCKET
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_sasl_authenticated_header = yes
broken_sasl_auth_clients = no
# One recipient per message; DSN is on by default (smtpd_discard_ehlo_keywords empty).
smtpd_recipient_limit = 1
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = reject_unauth_destination
relay_domains = msa-smtp.htpoort.nl, msa-smtp.preprod.htpoort.nl
# Keep what is accepted: hand it to smtp-sink, which dumps it to arrived/.
relay_transport = lmtp:unix:$SB_SINK_SOCKET
default_transport = lmtp:unix:$SB_SINK_SOCKET
EOF
	sb_postfix_launch standin "$SB_PORT_STANDIN"
	[ "${1:-}" = nowait ] || sb_postfix_wait standin "$SB_PORT_STANDIN"
}

# sb_write_htgate_conf - conf/htgate.conf with the stand-in and the secret
sb_write_htgate_conf()
{
	SB_HTGATE_CONF=$SB_TMP/htgate.conf
	mkdir -p "$SB_TMP/state"
	awk -v port="$SB_PORT_STANDIN" -v ca="$SB_CA" -v pw="$SB_PWFILE" \
	    -v state="$SB_TMP/state" '
		/^\[/ { sect = $0 }
		sect == "[environment production]" && /^smtp_host[ \t]*=/ {
			print "smtp_host = 127.0.0.1"
			print "tls_name = msa-smtp.htpoort.nl"
			next
		}
		sect == "[environment production]" && /^smtp_port[ \t]*=/ {
			print "smtp_port = " port
			print "ca_file = " ca
			next
		}
		sect == "[global]" && /^state_dir[ \t]*=/ {
			print "state_dir = " state
			next
		}
		sect == "[account example]" && /^#? *password_file[ \t]*=/ {
			print "password_file = " pw
			next
		}
		{ print }
	' "$SB_SRC/conf/htgate.conf" >"$SB_HTGATE_CONF"
	grep -q "^password_file = $SB_PWFILE\$" "$SB_HTGATE_CONF" ||
	    sb_die "conf/htgate.conf: no password_file line in [account example]"
}

# sb_socket_dir - where the daemons listen: htgate/ in the relay's queue
# directory (Postfix names the sockets unix:htgate/NAME.sock)
sb_socket_dir()
{
	SB_SOCKET_DIR=$SB_TMP/relay/queue/htgate
	mkdir -p "$SB_SOCKET_DIR"
	chmod 755 "$SB_TMP/relay" "$SB_TMP/relay/queue" "$SB_SOCKET_DIR"
}

# sb_start_daemon PROGRAM SOCKET LOG - an htgate daemon in the foreground
# on unix:SOCKET with the sandbox's htgate.conf; its pid in SB_LAST_PID
sb_start_daemon()
{
	local prog=$1 sock=$2 log=$3
	[ -x "$prog" ] || sb_die "$prog not built"
	sb_socket_dir
	rm -f "$sock"
	# HTGATE_WRAPPER: e.g. valgrind or the TSan preload (bench/valgrind,
	# scripts/test); it keeps the pid.
	${HTGATE_WRAPPER:-} "$prog" -c "$SB_HTGATE_CONF" -p "unix:$sock" -f -l </dev/null >>"$log" 2>&1 &
	SB_LAST_PID=$!
	disown "$SB_LAST_PID"
	SB_STARTED_PIDS="$SB_STARTED_PIDS $SB_LAST_PID"
	sb_wait_socket "$sock"
	chmod 666 "$sock"
	sb_msg "$(basename "$prog") pid $SB_LAST_PID"
}

# sb_stop_daemon PID SOCKET - SIGTERM, wait (bounded), remove the socket
sb_stop_daemon()
{
	local i
	kill "$1" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	rm -f "$2"
}

# sb_start_milter, sb_start_policyd - htgate-milter and htgate-policyd on
# unix sockets in the relay's queue directory (logs in the temp dir);
# sb_stop_milter, sb_stop_policyd stop them (the relay must then tempfail,
# or defer)
sb_start_milter()
{
	SB_MILTER_SOCKET=$SB_TMP/relay/queue/htgate/milter.sock
	sb_start_daemon "$SB_MILTER" "$SB_MILTER_SOCKET" "$SB_TMP/milter.log"
	SB_MILTER_PID=$SB_LAST_PID
}
sb_start_policyd()
{
	SB_POLICY_SOCKET=$SB_TMP/relay/queue/htgate/policy.sock
	sb_start_daemon "$SB_POLICYD" "$SB_POLICY_SOCKET" "$SB_TMP/policyd.log"
	SB_POLICYD_PID=$SB_LAST_PID
}
sb_stop_milter() { sb_stop_daemon "$SB_MILTER_PID" "$SB_MILTER_SOCKET"; }
sb_stop_policyd() { sb_stop_daemon "$SB_POLICYD_PID" "$SB_POLICY_SOCKET"; }

# sb_postqueue_flush - ask INSTANCE to retry its deferred mail now
sb_postqueue_flush()
{
	postqueue -c "$SB_TMP/$1/etc" -f
}

# sb_relay_bounces - the bounce messages delivered to example.com senders
sb_relay_bounces()
{
	ls "$SB_TMP"/relay/mail/local/new/* 2>/dev/null || true
}

# sb_relay_routing - htgate-config apply: the relay's main.cf and
# master.cf get htgate's configuration the way an admin's do, the maps
# (transport, SASL password maps) and apply's state go to
# relay/htgate-config/, its output to relay/htgate-config.log
sb_relay_routing()
{
	local e=$SB_TMP/relay/etc g=$SB_TMP/relay/htgate-config
	[ -x "$SB_CONFIG" ] || sb_die "$SB_CONFIG not built"
	"$SB_CONFIG" -c "$SB_HTGATE_CONF" apply --postfix-dir "$e" --map-dir "$g" \
	    --egress-port "$SB_PORT_EGRESS" --rate-delay "${SB_RATE_DELAY:-0s}" \
	    >"$g.log" 2>&1 || { cat "$g.log" >&2; sb_die "htgate-config apply failed"; }
}

# sb_relay_main_cf DIR - what a company relay's main.cf (DIR/etc, made
# by sb_postfix_new) adds to Debian's: local mailboxes for example.com in
# DIR/mail, the HTG domains relayed, an alias to HTG (customs@example.com),
# quick retries
sb_relay_main_cf()
{
	local d=$1 e=$1/etc
	mkdir -p "$d/mail"
	chown nobody:nogroup "$d/mail"
	cat >>"$e/main.cf" <<EOF
mydomain = example.com
myorigin = example.com
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
# Everything that is not for HTG (bounces to the senders) stays here.
virtual_mailbox_domains = example.com
virtual_mailbox_base = $d/mail
virtual_mailbox_maps = regexp:$e/local_mailboxes
virtual_uid_maps = static:$(id -u nobody)
virtual_gid_maps = static:$(id -g nobody)
# An alias that sends to HTG: only the egress stage sees where it goes.
virtual_alias_maps = texthash:$e/aliases
relay_domains = msa-smtp.htpoort.nl, msa-smtp.preprod.htpoort.nl, htpoort.nl, preprod.htpoort.nl
# A second recipient is retried at once, not after minutes.
minimal_backoff_time = 2s
maximal_backoff_time = 4s
queue_run_delay = 2s
EOF
	printf '/@example\\.com$/ local/\n' >"$e/local_mailboxes"
	printf 'customs@example.com AGS@msa-smtp.htpoort.nl\n' >"$e/aliases"
}

# sb_start_relay - the company relay: htgate-milter, htgate-policyd, routing
sb_start_relay()
{
	sb_postfix_new relay "$SB_PORT_RELAY" relay.example.com keep
	sb_relay_main_cf "$SB_TMP/relay"
	sb_relay_routing
	sb_postfix_launch relay "$SB_PORT_RELAY"
	[ "${1:-}" = nowait ] || sb_postfix_wait relay "$SB_PORT_RELAY"
	SB_ROUTING="merged by htgate-config apply; egress stage on 127.0.0.1:$SB_PORT_EGRESS"
	sb_msg "relay routing: $SB_ROUTING"
}

# sb_start_all - everything, in dependency order
sb_start_all()
{
	sb_port_free "$SB_PORT_EGRESS"
	sb_make_ca
	sb_make_password
	sb_start_dovecot
	sb_start_standin nowait
	sb_write_htgate_conf
	sb_start_milter
	sb_start_policyd
	sb_start_relay nowait
	sb_postfix_wait standin "$SB_PORT_STANDIN"
	sb_postfix_wait relay "$SB_PORT_RELAY"
}

# sb_swaks_relay - one SMTP transaction with the relay; output on stdout
sb_swaks_relay()
{
	swaks --server 127.0.0.1 --port "$SB_PORT_RELAY" --helo erp.example.com \
	    --timeout 30 "$@"
}

# sb_sendmail - submit stdin with the relay's sendmail(1); args follow -C
sb_sendmail()
{
	sendmail -C "$SB_TMP/relay/etc" "$@"
}

# sb_queue_busy - count messages not yet delivered or deferred in INSTANCE
sb_queue_busy()
{
	local q=$SB_TMP/$1/queue
	find "$q/maildrop" "$q/incoming" "$q/active" -type f 2>/dev/null | wc -l
}

# sb_queue_deferred - count deferred messages in INSTANCE
sb_queue_deferred()
{
	find "$SB_TMP/$1/queue/deferred" -type f 2>/dev/null | wc -l
}

# sb_wait_drain - wait until the relay and the stand-in have nothing in
# progress (sb_wait_drain_all)
sb_wait_drain()
{
	sb_wait_drain_all relay standin
}

# sb_arrived_files - the stand-in's dump files, oldest first
sb_arrived_files()
{
	ls -tr "$SB_TMP"/standin/arrived/* 2>/dev/null || true
}

# sb_arrived_for - dump files whose envelope recipient is RCPT
sb_arrived_for()
{
	local f
	for f in $(sb_arrived_files); do
		if sb_dump_envelope "$f" | grep -qi "^X-Rcpt-Args: <$1>"; then
			echo "$f"
		fi
	done
}

# sb_arrived_count - number of transactions that reached the stand-in for RCPT
sb_arrived_count()
{
	sb_arrived_for "$1" | wc -l
}

# sb_dump_envelope - the smtp-sink envelope lines of one dump file
sb_dump_envelope()
{
	awk '/^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): / {
		print; next } { exit }' "$1"
}

# sb_dump_message - the message (headers and body) of one dump file
sb_dump_message()
{
	awk 'body { print; next }
	    /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args): / { next }
	    { body = 1; print }' "$1"
}

# sb_dump_header - each value of header NAME (unfolded) in one dump file
sb_dump_header()
{
	sb_dump_message "$1" | awk -v h="$2" '
		function out() { if (n) { sub(/^[ \t]+/, "", val); print val } }
		BEGIN { h = tolower(h) }
		/^$/ { exit }
		/^[ \t]/ { if (cur == h) val = val " " substr($0, 2); next }
		{
			if (cur == h) out()
			n = 0
			cur = tolower(substr($0, 1, index($0, ":") - 1))
			if (cur == h) { n = 1; val = substr($0, index($0, ":") + 1) }
		}
		END { if (cur == h) out() }'
}

# sb_dump_file_for_msgid - the dump file holding Message-ID ID (first match)
sb_dump_file_for_msgid()
{
	local f
	for f in $(sb_arrived_files); do
		if sb_dump_header "$f" Message-ID | grep -qF "<$1>"; then
			echo "$f"
		fi
	done
}

# sb_dump_tls - TLS protocol the stand-in's Postfix received a dump's message with
sb_dump_tls()
{
	sb_dump_header "$1" Received | grep -F "by $SB_CERTNAME (Postfix)" |
	    sed -n 's/.*(using \(TLSv[0-9.]*\) with cipher \([^ ]*\).*/\1 \2/p' | head -n 1
}

# sb_dump_sasl - SASL user the stand-in's Postfix authenticated for a dump
sb_dump_sasl()
{
	sb_dump_header "$1" Received | grep -F "by $SB_CERTNAME (Postfix)" |
	    sed -n 's/.*(Authenticated sender: \([^)]*\)).*/\1/p' | head -n 1
}

# sb_standin_log - the stand-in's Postfix log
sb_standin_log()
{
	cat "$SB_TMP/standin/maillog" 2>/dev/null
}

# sb_relay_log - the relay's Postfix log
sb_relay_log()
{
	cat "$SB_TMP/relay/maillog" 2>/dev/null
}

# sb_report - htgate-report on the sandbox's decision record (found through
# htgate.conf: [record] database, or state_dir/record.db)
sb_report()
{
	"$SB_BUILD/tools/htgate-report" -c "$SB_HTGATE_CONF" "$@"
}

# sb_render - TEMPLATE with a fresh Date and Message-ID into OUT; sets SB_MSGID
sb_render()
{
	local tmpl=$1 out=$2
	SB_SEQ=$(( ${SB_SEQ:-0} + 1 ))
	SB_MSGID="sandbox.$(date +%Y%m%d%H%M%S).$$.$SB_SEQ@erp.example.com"
	sed -e "s/@DATE@/$(date -R)/" -e "s/@MSGID@/$SB_MSGID/" "$tmpl" >"$out"
}

# sb_swaks_verdict - the deciding server reply in a swaks transcript
sb_swaks_verdict()
{
	local err
	err=$(grep -m 1 -E '^<\*\* +[0-9]{3}[ -]' "$1" | sed 's/^<\*\* *//')
	if [ -n "$err" ]; then
		# A multi-line reply: show its last line (the Dutch one) too.
		echo "$err"
		return 0
	fi
	grep -E '^<- +250 .*queued as' "$1" | tail -n 1 | sed 's/^<- *//'
}

# sb_swaks_transcript - the SMTP commands and replies of a swaks run
sb_swaks_transcript()
{
	grep -E '^( -> (EHLO|MAIL|RCPT|DATA|QUIT|\.)|<- |<\*\* |\*\*\* )' "$1" |
	    grep -v -E '^<- +250(-| [A-Z])' || true
}

# sb_table - print '|'-separated lines from stdin as aligned columns
sb_table()
{
	awk -F'|' '
		{ for (i = 1; i <= NF; i++) { c[NR, i] = $i
			if (length($i) > w[i]) w[i] = length($i) }
		  if (NF > nf) nf = NF; n = NR }
		END { for (r = 1; r <= n; r++) { line = ""
			for (i = 1; i <= nf; i++)
				line = line sprintf(i < nf ? "%-" w[i] "s  " : "%s", c[r, i])
			print line
			if (r == 1) { line = ""
				for (i = 1; i <= nf; i++) { s = sprintf("%" w[i] "s", "")
					gsub(/ /, "-", s); line = line s (i < nf ? "  " : "") }
				print line } } }'
}

# sb_pg_start [BINDIR] - a private PostgreSQL server for the decision
# record (issue 13): initdb/pg_ctl of BINDIR (default
# /usr/lib/postgresql/15/bin, Debian's postgresql-15) as user postgres in
# $SB_TMP/pg, listening on a unix socket in $SB_TMP/pg/sock only (no
# TCP), trust authentication, database "htgate".  Sets SB_PG_BIN,
# SB_PG_DATA, SB_PG_SOCK and SB_PG_URL (the [record] database value:
# postgresql:///htgate?host=...&user=postgres).  SB_PG_FSYNC=off for
# tests that need no durability.  Its postmaster is in SB_STARTED_PIDS;
# sb_pg_stop stops it at once (fast shutdown).
sb_pg_start()
{
	local bin=${1:-/usr/lib/postgresql/15/bin} d=$SB_TMP/pg
	[ -x "$bin/initdb" ] || sb_die "$bin/initdb missing (Debian package postgresql-15)"
	id postgres >/dev/null 2>&1 || sb_die "no user postgres (Debian package postgresql-15)"
	SB_PG_BIN=$bin
	SB_PG_DATA=$d/data
	SB_PG_SOCK=$d/sock
	mkdir -p "$SB_PG_DATA" "$SB_PG_SOCK"
	chown -R postgres "$d"
	chmod 755 "$d" "$SB_PG_SOCK"
	runuser -u postgres -- "$bin/initdb" -D "$SB_PG_DATA" -U postgres \
	    --auth=trust -E UTF8 --locale=C --no-sync >"$d/initdb.log" 2>&1 ||
	    { cat "$d/initdb.log" >&2; sb_die "initdb failed"; }
	sb_pg_launch
	runuser -u postgres -- "$bin/createdb" -h "$SB_PG_SOCK" -U postgres htgate \
	    >>"$d/initdb.log" 2>&1 || { cat "$d/initdb.log" >&2; sb_die "createdb failed"; }
	SB_PG_URL="postgresql:///htgate?host=$SB_PG_SOCK&user=postgres"
	sb_msg "PostgreSQL in $d: $SB_PG_URL"
}

# sb_pg_launch - (re)start the server of sb_pg_start and wait for it
sb_pg_launch()
{
	local d=$SB_TMP/pg
	runuser -u postgres -- "$SB_PG_BIN/pg_ctl" -D "$SB_PG_DATA" -w -t 30 \
	    -l "$d/server.log" -o "-k $SB_PG_SOCK -c listen_addresses='' \
	    -c fsync=${SB_PG_FSYNC:-on} -c max_connections=200" start \
	    >"$d/pg_ctl.log" 2>&1 ||
	    { cat "$d/pg_ctl.log" "$d/server.log" >&2; sb_die "PostgreSQL did not start"; }
	SB_PG_PID=$(head -n 1 "$SB_PG_DATA/postmaster.pid")
	SB_STARTED_PIDS="$SB_STARTED_PIDS $SB_PG_PID"
}

# sb_pg_stop - stop the server of sb_pg_start (fast: sessions are cut)
sb_pg_stop()
{
	[ -n "${SB_PG_DATA:-}" ] && [ -f "$SB_PG_DATA/postmaster.pid" ] || return 0
	runuser -u postgres -- "$SB_PG_BIN/pg_ctl" -D "$SB_PG_DATA" -m fast -w \
	    -t 30 stop >>"$SB_TMP/pg/pg_ctl.log" 2>&1
}

# sb_pg_psql SQL - one statement through psql on the sb_pg_start server
sb_pg_psql()
{
	runuser -u postgres -- "$SB_PG_BIN/psql" -h "$SB_PG_SOCK" -U postgres \
	    -d htgate -X -A -t -q -c "$1"
}

# sb_start_relay_named NAME PORT - a second company relay for relay pairs
# (tests/pg): a private Postfix $SB_TMP/NAME on PORT like sb_start_relay's
# (its egress stage on PORT + 100), with its own htgate-milter and
# htgate-policyd on the sandbox's htgate.conf, listening in its own queue
# directory; routing applied by htgate-config as for the first relay.
# Sets SB_NAME_MILTER_PID, SB_NAME_POLICYD_PID (NAME in upper case).
sb_start_relay_named()
{
	local name=$1 port=$2 d=$SB_TMP/$1 e g up
	up=$(echo "$name" | tr '[:lower:]-' '[:upper:]_')
	sb_port_free "$((port + 100))"
	sb_postfix_new "$name" "$port" "$name.example.com" keep
	e=$d/etc
	g=$d/htgate-config
	mkdir -p "$d/queue/htgate"
	chmod 755 "$d" "$d/queue" "$d/queue/htgate"
	sb_relay_main_cf "$d"
	sb_start_daemon "$SB_MILTER" "$d/queue/htgate/milter.sock" "$SB_TMP/$name-milter.log"
	eval "SB_${up}_MILTER_PID=\$SB_LAST_PID"
	sb_start_daemon "$SB_POLICYD" "$d/queue/htgate/policy.sock" "$SB_TMP/$name-policyd.log"
	eval "SB_${up}_POLICYD_PID=\$SB_LAST_PID"
	[ -x "$SB_CONFIG" ] || sb_die "$SB_CONFIG not built"
	"$SB_CONFIG" -c "$SB_HTGATE_CONF" apply --postfix-dir "$e" --map-dir "$g" \
	    --egress-port "$((port + 100))" --rate-delay "${SB_RATE_DELAY:-0s}" \
	    >"$g.log" 2>&1 || { cat "$g.log" >&2; sb_die "htgate-config apply ($name) failed"; }
	sb_postfix_start "$name" "$port"
}

# sb_wait_drain_all INSTANCE... - wait (bounded, 30 s) until none of the
# instances has mail in progress
sb_wait_drain_all()
{
	local i n busy
	for i in $(seq 1 300); do
		busy=0
		for n in "$@"; do
			[ "$(sb_queue_busy "$n")" = 0 ] || busy=1
		done
		if [ "$busy" = 0 ]; then
			sleep 0.3
			for n in "$@"; do
				[ "$(sb_queue_busy "$n")" = 0 ] || busy=1
			done
			[ "$busy" = 0 ] && return 0
		fi
		sleep 0.1
	done
	echo "sandbox: queues of $* did not drain within 30 s" >&2
	for n in "$@"; do
		echo "sandbox: $n:" >&2
		postqueue -c "$SB_TMP/$n/etc" -p >&2 2>&1 || true
	done
	return 1
}

# sb_make_cert NAME SAN - one more server certificate from the sandbox CA
# (after sb_make_ca): $SB_TMP/ca/NAME.crt and NAME.key for the
# subjectAltName SAN (e.g. DNS:wrong.example), EC P-256 like the others
sb_make_cert()
{
	local d=$SB_TMP/ca name=$1 san=$2
	(
		cd "$d"
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "$name.key" -out "$name.csr" -subj "/CN=${san#*:}"
		printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$san" >"$name.ext"
		openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 2 -extfile "$name.ext" -out "$name.crt"
		chmod 644 "$name.crt"
		chmod 600 "$name.key"
	) >>"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; sb_die "openssl ($name)"; }
}

# sb_tap_begin BUILDDIR PORT1 PORT2 [LOG...] - sb_init for a test that
# speaks TAP (tests/tap.sh, sourced first): the EXIT trap hands
# sb_cleanup the exit status (1 after a "not ok"), and before the
# servers stop sb_tap_on_exit shows the last 40 lines of each LOG (paths
# in $SB_TMP, globs allowed) after a failure, then prints the plan
sb_tap_begin()
{
	sb_init "$1" "$2" "$3"
	shift 3
	SB_TAP_LOGS="$*"
	SB_TAP_STATUS=0
	SB_CLEANUP_HOOK=sb_tap_on_exit
	trap 'SB_TAP_STATUS=$?; sb_tap_exit' EXIT
}

# sb_tap_exit - sb_tap_begin's EXIT trap: sb_cleanup with the status
sb_tap_exit()
{
	set +e
	if [ "$SB_TAP_STATUS" = 0 ] && tap_failed; then
		SB_TAP_STATUS=1
	fi
	(exit "$SB_TAP_STATUS")
	sb_cleanup
}

# sb_tap_on_exit - sb_cleanup's hook of sb_tap_begin: logs, then the plan
sb_tap_on_exit()
{
	local f
	if [ "$SB_TAP_STATUS" != 0 ] || tap_failed; then
		tap_diag "---- logs in $SB_TMP (SB_KEEP=1 keeps them)"
		for f in $(cd "$SB_TMP" && eval "ls -d $SB_TAP_LOGS" 2>/dev/null); do
			[ -s "$SB_TMP/$f" ] || continue
			tap_diag "---- $f (last 40 lines)"
			tail -n 40 "$SB_TMP/$f" | tap_diag
		done
	fi
	tap_end "$SB_TAP_STATUS" || :
}
