#!/bin/bash
# daemon-check.sh - the three long-running programs (htgate-milter,
# htgate-policyd, htgate-fetch: lib/daemon.c) agree on the command line:
# "-n" gives the same verdict, the same words and the same exit status
# for the same good and bad files ("FILE: configuration OK" and 0, or
# "FILE:LINE: reason" on standard error and 1); a usage error exits 2
# with the synopsis; -h prints the synopsis on standard output, exit 0.
# htgate-fetch alone also checks password files (a configuration error,
# 1) and -a (a usage error, 2).  TAP (tests/tap.sh); no network, no root.
. "$(dirname "$0")/lib.sh"

# run_n PROG FILE - "-n -c FILE": standard output, standard error, status
run_n()
{
	local out err rc=0
	out=$("$1" -n -c "$2" 2>"$T/err") || rc=$?
	err=$(cat "$T/err")
	printf 'out=%s\nerr=%s\nrc=%s\n' "$out" "$err" "$rc"
}

# agree LABEL FILE WANT_RC WANT_TEXT - all three the same, as wanted
agree()
{
	local label=$1 f=$2 rc=$3 text=$4 m p pf
	m=$(run_n "$MILTER" "$f")
	p=$(run_n "$POLICYD" "$f")
	pf=$(run_n "$FETCH" "$f")
	if [ "$m" = "$p" ] && [ "$m" = "$pf" ]; then
		tap_ok "$label: the three programs agree"
	else
		tap_not_ok "$label: the three programs agree" "milter: $m" \
		    "policyd: $p" "fetch: $pf"
	fi
	case $m in
	*"rc=$rc") tap_ok "$label: exit $rc" ;;
	*) tap_not_ok "$label: exit $rc" "$m" ;;
	esac
	case $m in
	*"$text"*) tap_ok "$label: says \"$text\"" ;;
	*) tap_not_ok "$label: says \"$text\"" "$m" ;;
	esac
}

# conf NAME TEXT - a configuration file NAME.conf in the temp dir
conf()
{
	printf '%b' "$2" >"$T/$1.conf"
	echo "$T/$1.conf"
}

pw=$T/secret.pw
(umask 077; echo 'not-a-real-password' >"$pw")
agree "shipped htgate.conf" "$top_srcdir/conf/htgate.conf" 0 \
    "$top_srcdir/conf/htgate.conf: configuration OK"
agree "missing file" "$T/nonexistent.conf" 1 "err=$T/nonexistent.conf: No such file or directory"
# The cases: NAME, exit status, what the output says (FILE: the file's
# path), the file's text (printf %b; PW: a password file of mode 0600).
while IFS='|' read -r name rc text body; do
	f=$(conf "$name" "${body//PW/$pw}")
	agree "$name" "$f" "$rc" "${text//FILE/$f}"
done <<'CASES'
minimal file|0|out=FILE: configuration OK|[global]\n
an account with fetch = yes|0|out=FILE: configuration OK|[environment production]\nenvelope_domain = msa-smtp.htpoort.nl\nheader_domain = htpoort.nl\npop3_host = 127.0.0.1\n[account a]\nsenders = *@example.com\nmailbox = a@htpoort.nl\npassword_file = PW\nfetch = yes\n
section without ]|1|err=FILE:1: section header without closing ']'|[global\n
unknown key|1|err=FILE:2: unknown key "no_such_key" in [global]|[global]\nno_such_key = 1\n
fetch_deliver without port|1|err=FILE:2: fetch_deliver: "smtp:localhost" is not smtp:HOST:PORT|[global]\nfetch_deliver = smtp:localhost\n
fetch = yes without pop3_host|1|err=FILE:1: [account a]: fetch = yes needs pop3_host|[account a]\nsenders = *\nmailbox = a@htpoort.nl\npassword_file = PW\nfetch = yes\n
unknown action|1|err=FILE:2: HDR-CC: "maybe" is not one of ignore, warn, fix, tempfail or reject|[rules]\nHDR-CC = maybe\n
unknown rate mode|1|err=FILE:3: rate: "sometimes" is not off, warn or defer|[account a]\nsenders = *\nrate = sometimes\n
unknown profile|1|err=FILE:2: profile: "fast" is not standard or single-window|[stream AGS]\nprofile = fast\n
CASES

# Password files: only htgate-fetch reads them, so only it refuses.
f=$(conf open-pw "[environment production]\nenvelope_domain = msa-smtp.htpoort.nl\nheader_domain = htpoort.nl\npop3_host = 127.0.0.1\n[account a]\nsenders = *\nmailbox = a@htpoort.nl\npassword_file = $T/open.pw\nfetch = yes\n")
echo 'x' >"$T/open.pw"; chmod 644 "$T/open.pw"
tap_check "password file open to others: htgate-milter -n accepts" \
    sh -c '"$1" -n -c "$2" >/dev/null 2>&1' - "$MILTER" "$f"
r=$(run_n "$FETCH" "$f")
case $r in
*"err=$f:5: [account a] password_file $T/open.pw: mode 0644 is open to group or others"*"rc=1")
	tap_ok "password file open to others: htgate-fetch -n refuses, exit 1" ;;
*)	tap_not_ok "password file open to others: htgate-fetch -n refuses, exit 1" "$r" ;;
esac
f="$T/an account with fetch = yes.conf"
rc=0; "$FETCH" -n -a nosuch -c "$f" >/dev/null 2>"$T/err" || rc=$?
tap_check "htgate-fetch -a with no such account: usage error, exit 2" \
    sh -c '[ "$1" = 2 ] && grep -q -- "-a nosuch: no \[account nosuch\]" "$2"' - "$rc" "$T/err"
f=$(conf nofetch '[account b]\nsenders = *\n')
rc=0; "$FETCH" -n -a b -c "$f" >/dev/null 2>"$T/err" || rc=$?
tap_check "htgate-fetch -a with fetch = no: usage error, exit 2" \
    sh -c '[ "$1" = 2 ] && grep -q "account b has fetch = no" "$2"' - "$rc" "$T/err"

# Usage: an unknown option or a stray argument exits 2 with the
# synopsis; -h prints it on standard output and exits 0.
for p in "$MILTER" "$POLICYD" "$FETCH"; do
	n=$(basename "$p")
	rc=0; "$p" -Z >/dev/null 2>"$T/err" || rc=$?
	tap_check "$n -Z: exit 2 with the synopsis" \
	    sh -c '[ "$1" = 2 ] && grep -q "^usage: $2 " "$3"' - "$rc" "$n" "$T/err"
	rc=0; "$p" -n -c "$T/minimal file.conf" stray >/dev/null 2>"$T/err" || rc=$?
	tap_check "$n with a stray argument: exit 2" [ "$rc" = 2 ]
	rc=0; out=$("$p" -h 2>/dev/null) || rc=$?
	tap_check "$n -h: the synopsis on standard output, exit 0" \
	    sh -c '[ "$1" = 0 ] && case "$2" in "usage: $3 "*) exit 0;; *) exit 1;; esac' - "$rc" "$out" "$n"
done
rc=0; "$POLICYD" -f -c "$T/minimal file.conf" >/dev/null 2>&1 || rc=$?
tap_check "htgate-policyd without -p or -s: exit 2" [ "$rc" = 2 ]
rc=0; "$POLICYD" -s -p unix:/x -c "$T/minimal file.conf" >/dev/null 2>&1 || rc=$?
tap_check "htgate-policyd with -p and -s: exit 2" [ "$rc" = 2 ]
rc=0; "$POLICYD" -n -p unix:/1 -p unix:/2 -p unix:/3 -p unix:/4 -p unix:/5 \
    -p unix:/6 -p unix:/7 -p unix:/8 -p unix:/9 -c "$T/minimal file.conf" >/dev/null 2>&1 || rc=$?
tap_check "htgate-policyd with nine -p: exit 2" [ "$rc" = 2 ]
for opt in "-t 0" "-i x" "-w -1" "-S relative"; do
	rc=0; "$FETCH" $opt -n -c "$T/minimal file.conf" >/dev/null 2>&1 || rc=$?
	tap_check "htgate-fetch $opt: exit 2" [ "$rc" = 2 ]
done
