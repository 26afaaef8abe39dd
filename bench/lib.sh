# bench/lib.sh - shared shell functions of the benchmarks (bench/run,
# bench/large): the bench configuration, a conforming HTG-bound message
# of a given size, timing, and the private relay forwarding to smtp-sink.
#
# SYNOPSIS
#	. "$SRC/bench/lib.sh"		# after . sandbox/lib.sh and sb_init
#	bn_write_conf			# $SB_TMP/bench.conf -> $BN_CONF
#	bn_message BYTES FILE		# conforming message of ~BYTES
#	bn_now				# seconds since the epoch, ns precision
#	bn_start_sink PORT; bn_start_relay RELAY_PORT SINK_PORT
#	bn_relay_milters SPEC [POLICY_SOCKET]; bn_relay_sent
#	bn_relay_egress MILTER_SOCKET EGRESS_PORT SINK_PORT
#
# DESCRIPTION
#	The messages are what htgate must check in full: envelope
#	erp@example.com -> AGS@msa-smtp.htpoort.nl (allowed by the
#	[account example] of conf/htgate.conf), From/To/Subject/Date,
#	application/edifact, base64, attachment with a file name, and no
#	Message-ID: htgate adds one (HDR-MSGID = fix), so the record's
#	uniqueness never refuses the repeats.  The bench configuration is
#	the shipped conf/htgate.conf (decision record on, no size_limit)
#	with state_dir in $SB_TMP.
#	Processes and the temp dir are cleaned up by sandbox/lib.sh's
#	EXIT trap (sb_init).
#
# OWNERSHIP
#	bench/.

BN_FROM=erp@example.com
BN_RCPT=AGS@msa-smtp.htpoort.nl

# bn_write_conf - the bench's htgate.conf in $SB_TMP: the shipped
# conf/htgate.conf (decision record on, no size_limit) with state_dir in
# $SB_TMP and a password file -> $BN_CONF; the same with the record
# off -> $BN_CONF_NOREC; with BN_PG_URL set, the record in PostgreSQL
# -> $BN_CONF_PG
bn_write_conf()
{
	BN_CONF=$SB_TMP/bench.conf
	BN_CONF_NOREC=$SB_TMP/bench-norecord.conf
	mkdir -p "$SB_TMP/state"
	(umask 077; openssl rand -hex 16 >"$SB_TMP/secrets/bench.pw")
	sed -e "s|^state_dir[ 	]*=.*|state_dir = $SB_TMP/state|" \
	    -e "s|^# password_file = .*|password_file = $SB_TMP/secrets/bench.pw|" \
	    "$SB_SRC/conf/htgate.conf" >"$BN_CONF" ||
	    sb_die "cannot write $BN_CONF"
	grep -q '^size_limit' "$BN_CONF" && sb_die "bench.conf: a size_limit (bench/large needs 20 MB)"
	grep -q '^enabled = yes$' "$BN_CONF" || sb_die "bench.conf: the record is not on"
	sed -e 's/^enabled = yes$/enabled = no/' "$BN_CONF" >"$BN_CONF_NOREC"
	if [ -n "${BN_PG_URL:-}" ]; then
		BN_CONF_PG=$SB_TMP/bench-pg.conf
		sed -e "s|^database =.*|database = ${BN_PG_URL//&/\\&}|" "$BN_CONF" >"$BN_CONF_PG"
	fi
}

# bn_message - write a conforming HTG message of about BYTES to FILE
bn_message()
{
	local bytes=$1 file=$2 raw
	printf '%s\n' \
	    "Date: $(LC_ALL=C date -R)" \
	    "From: ERP Export <$BN_FROM>" \
	    "To: AGS@htpoort.nl" \
	    "Subject: AGS declaration bench" \
	    "MIME-Version: 1.0" \
	    "Content-Type: application/edifact" \
	    "Content-Transfer-Encoding: base64" \
	    "Content-Disposition: attachment; filename=\"AGSBENCH.edi\"" \
	    "" >"$file" || sb_die "cannot write $file"
	# base64 -w 76: 57 bytes become 77 (76 characters and a newline).
	raw=$(( (bytes - $(wc -c <"$file")) * 57 / 77 ))
	[ "$raw" -gt 0 ] || raw=1
	head -c "$raw" /dev/urandom | base64 -w 76 >>"$file"
}

# bn_now - the time in seconds, with nanoseconds
bn_now()
{
	date +%s.%N
}

# bn_start_sink - smtp-sink on 127.0.0.1:PORT discarding everything
bn_start_sink()
{
	sb_port_free "$1"
	BN_SINK_PORT=$1
	smtp-sink -u postfix "127.0.0.1:$1" 256 </dev/null \
	    >"$SB_TMP/sink.log" 2>&1 &
	SB_STARTED_PIDS="$SB_STARTED_PIDS $!"
	disown "$!"
	sb_wait_port "$1"
}

# bn_start_relay - private Postfix on RELAY_PORT relaying HTG mail to SINK_PORT
bn_start_relay()
{
	local e
	sb_postfix_new relay "$1" relay.example.com
	e=$SB_TMP/relay/etc
	cat >>"$e/main.cf" <<EOF
mydomain = example.com
myorigin = example.com
relay_domains = msa-smtp.htpoort.nl
relayhost = [127.0.0.1]:$2
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
milter_default_action = tempfail
# The bench opens 10 sessions; keep Postfix from throttling them.
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
EOF
	sb_postfix_start relay "$1"
}

# bn_relay_egress - the egress stage htgate-config generates, added to the
# relay (used when transport_maps names $SB_TMP/egress/transport): its
# services and parameters as shipped, the egress content_filter pointed
# at smtp-sink (which speaks neither TLS nor AUTH)
bn_relay_egress()
{
	local e=$SB_TMP/relay/etc g=$SB_TMP/egress
	"$SB_BUILD/tools/htgate-config" -c "$BN_CONF" postfix -o "$g" \
	    --milter-socket "unix:$1" --egress-port "$2" >"$g.log" 2>&1 ||
	    { cat "$g.log" >&2; sb_die "htgate-config failed"; }
	postconf -c "$e" -e "$(grep '^htgate_egress_milters = ' "$g/main.cf")" \
	    "$(grep '^htg-gate_destination_recipient_limit = ' "$g/main.cf")" ||
	    sb_die "postconf"
	sed -e '/^[[:space:]]*#/d' "$g/master.cf" >>"$e/master.cf"
	postconf -c "$e" -P "127.0.0.1:$2/inet/content_filter=smtp:[127.0.0.1]:$3" ||
	    sb_die "postconf -P"
	postfix -c "$e" reload >/dev/null 2>&1 || sb_die "postfix reload"
	sb_wait_port "$2"
}

# bn_relay_milters - set the relay's milter SPEC (or none) and the policy service
bn_relay_milters()
{
	local e=$SB_TMP/relay/etc spec=$1 policy=${2:-} r=
	[ -n "$policy" ] &&
	    r="check_policy_service { unix:$policy, default_action=DEFER }"
	postconf -c "$e" -e "smtpd_milters = $spec" \
	    "smtpd_recipient_restrictions = $r" \
	    "smtpd_end_of_data_restrictions = $r" || sb_die "postconf"
	postfix -c "$e" reload >/dev/null 2>&1 || sb_die "postfix reload"
	# Idle smtpd processes exit after a reload; let them go.
	sleep 1
}

# bn_relay_sent - number of deliveries to smtp-sink logged so far (a hop
# to the egress stage is not one)
bn_relay_sent()
{
	grep 'status=sent' "$SB_TMP/relay/maillog" 2>/dev/null |
	    grep -c -F "]:$BN_SINK_PORT," || true
}

# bn_relay_rejected - number of refusals (milter or policy) logged so far
bn_relay_rejected()
{
	grep -c -E 'milter-reject|NOQUEUE: reject' "$SB_TMP/relay/maillog" 2>/dev/null || true
}
