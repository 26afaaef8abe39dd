# shellcheck shell=sh
# tests/config/lib.sh - common part of the htgate-config suites
# (config-postfix.sh, config-apply.sh, config-check.sh; sourced, POSIX sh)
#
# SYNOPSIS
#	. "${top_srcdir:-...}/tests/config/lib.sh"; config_begin [PROGRAM...]
#	expect LABEL WANT GOT		WANT = GOT
#	has LABEL FILE TEXT		FILE holds the fixed string TEXT
#	same LABEL A B			the files are byte-identical
#	no_secret LABEL FILE...		neither password in the files
#	write_htgate_conf FILE [STREAM...]
#	postfix_dir DIR
#
# DESCRIPTION
#	config_begin skips the whole test when one of PROGRAM... (postconf,
#	postmap, ...) or Postfix's stock master.cf is missing, bails out
#	when htgate-config is not built, makes the private directory $T
#	(htg-SCRIPT.XXXXXX), removed by the EXIT trap, and writes the
#	password files $T/acme.pw ($SECRET) and $T/pre.pw ($SECRET2), mode
#	0600.
#
#	write_htgate_conf: an htgate.conf with the production environment,
#	the standard streams AGS and each STREAM, and the account acme
#	(password file $T/acme.pw).  postfix_dir: DIR with Debian's stock
#	master.cf and the main.cf of a loopback relay (queue $T/queue, data
#	$T/data); a test appends its own settings.
# OWNERSHIP
#	tests/config.

set -u
: "${top_builddir:?}"
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/tap.sh"
CONFIG=$top_builddir/tools/htgate-config
PATH=$PATH:/usr/sbin:/sbin
SECRET='Pw-7f3a9Q!x_secret'
SECRET2='Pre-Pw-41b2e8_secret'

# config_begin [PROGRAM...] - see DESCRIPTION
config_begin() {
	for b in "$@"; do
		command -v "$b" >/dev/null 2>&1 || tap_skip_all "$b not found"
	done
	[ -x "$CONFIG" ] || tap_bail_out "$CONFIG not built"
	MASTER_DIST=/usr/share/postfix/master.cf.dist
	[ -f "$MASTER_DIST" ] || MASTER_DIST=/etc/postfix/master.cf
	[ -f "$MASTER_DIST" ] || tap_skip_all "no master.cf template"
	T=$(mktemp -d "/tmp/htg-$(basename "$0" .sh).XXXXXX")
	trap 'st=$?; rm -rf "$T"; tap_end $st; exit $?' EXIT
	(umask 077; printf '%s\n' "$SECRET" >"$T/acme.pw"; printf '%s\n' "$SECRET2" >"$T/pre.pw")
}

# expect LABEL WANT GOT (never used on secrets)
expect() {
	if [ "$2" = "$3" ]; then tap_ok "$1"; else tap_not_ok "$1" "expected '$2'" "got      '$3'"; fi
}
# has LABEL FILE TEXT - FILE contains the fixed string TEXT
has() {
	if grep -qF -- "$3" "$2"; then tap_ok "$1"; else tap_not_ok "$1" "no '$3' in:" "$(cat "$2")"; fi
}
# same LABEL A B - the files are byte-identical
same() {
	if cmp -s "$2" "$3"; then tap_ok "$1"; else tap_not_ok "$1" "$(diff -u "$2" "$3" | head -n 20)"; fi
}
# no_secret LABEL FILE... - the passwords appear in none of the files
no_secret() {
	n=$1; shift
	if cat "$@" | grep -qF -e "$SECRET" -e "$SECRET2"; then
		tap_not_ok "$n: no password in output" "a password leaked"
	else
		tap_ok "$n: no password in output"
	fi
}

# write_htgate_conf FILE [STREAM...] - see DESCRIPTION
write_htgate_conf() {
	f=$1; shift
	{
		printf '%s\n' "[environment production]" \
		    "envelope_domain = msa-smtp.htpoort.nl" "header_domain = htpoort.nl" \
		    "smtp_host = msa-smtp.htpoort.nl" "smtp_port = 587" ""
		for s in AGS "$@"; do
			printf '[stream %s]\nprofile = standard\n\n' "$s"
		done
		printf '%s\n' "[account acme]" "mailbox = acme@htpoort.nl" \
		    "senders = *@acme.example" "password_file = $T/acme.pw"
	} >"$f"
}

# postfix_dir DIR - see DESCRIPTION
postfix_dir() {
	mkdir -p "$1" "$T/queue" "$T/data"
	cp "$MASTER_DIST" "$1/master.cf"
	printf '%s\n' "compatibility_level = 3.6" "queue_directory = $T/queue" \
	    "data_directory = $T/data" "inet_interfaces = 127.0.0.1" \
	    "mydestination =" "mynetworks = 127.0.0.0/8" >"$1/main.cf"
}
