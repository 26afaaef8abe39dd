#!/bin/bash
#
# NAME
#	milter-agree.sh - the running milter gives the corpus the same
#	verdicts as htgate-check
# DESCRIPTION
#	Starts a private Postfix relay (loopback port 10164, everything it
#	accepts discarded) with htgate-milter as smtpd_milters, using the
#	corpus configuration, and sends every message of expected.tsv with
#	its envelope (MAIL FROM with ENVID, RCPT TO with NOTIFY) over SMTP
#	(agree-client.py).  A message expected to be accepted must get 250;
#	one expected to be refused must get a 5xx at some stage whose reply
#	names one of the rules expected to reject it.  One TAP line per
#	message (tests/tap.sh).  Skipped only when postfix or python3 is
#	missing.  HTGATE_WRAPPER: see tests/e2e/e2e-lib.sh.
# OWNERSHIP
#	tests/corpus.
#
set -u
: "${top_srcdir:?}" "${top_builddir:?}"
PATH=$PATH:/usr/sbin
. "$top_srcdir/tests/tap.sh"
for p in postfix python3; do
	command -v "$p" >/dev/null 2>&1 || tap_skip_all "$p missing"
done
. "$top_srcdir/sandbox/lib.sh"
DIR=$top_srcdir/tests/corpus
sb_init "$top_builddir" 10165 10164
# sb_init's EXIT trap (sb_cleanup) stops everything; the plan comes first.
trap 'st=$?; tap_end $st || st=1; (exit $st); sb_cleanup' EXIT
SB_HTGATE_CONF=$DIR/htgate.conf
sb_start_milter
sb_postfix_new relay 10164 relay.example.com
cat >>"$SB_TMP/relay/etc/main.cf" <<CONF
smtpd_milters = unix:$SB_MILTER_SOCKET
milter_default_action = tempfail
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relay_domains = msa-smtp.htpoort.nl, msa-smtp.preprod.htpoort.nl, htpoort.nl, preprod.htpoort.nl, example.com, example.org
default_transport = discard:corpus
# Judge the messages as a remote client sends them: Postfix would add a
# missing From:, Date: or Message-ID: (and drop Bcc:) for a client on
# its own interfaces, as this loopback test is.
local_header_rewrite_clients =
# Postfix drops Bcc: by default (so HTG never sees one); keep it here so
# that the milter's HDR-CC check on Bcc: is compared too.
message_drop_headers = content-length, resent-bcc, return-path
CONF
sb_postfix_start relay 10164

python3 "$DIR/agree-client.py" 127.0.0.1 10164 "$DIR" <"$DIR/expected.tsv" >"$SB_TMP/replies"
rc=0
total=0
while IFS='	' read -r file verdict code rules; do
	total=$((total + 1))
	want=$(awk -F'\t' -v f="$file" '$1 == f { print $3 "\t" $4 }' "$DIR/expected.tsv")
	wverdict=${want%%	*}
	wfindings=${want#*	}
	case $wverdict in
	accept)
		[ "$verdict" = accept ] && { tap_ok "$file: $code"; continue; } ;;
	tempfail)
		[ "$verdict" = tempfail ] && { tap_ok "$file: $code"; continue; } ;;
	reject)
		if [ "$verdict" = reject ]; then
			hit=
			for r in $rules; do
				case " $wfindings " in *" reject:$r "*) hit=$r ;; esac
			done
			[ -n "$hit" ] && { tap_ok "$file: $code [$hit]"; continue; }
		fi ;;
	esac
	tap_not_ok "$file: $verdict $code [$rules]" \
		"htgate-check says $wverdict ($wfindings), milter replied $verdict $code [$rules]"
	rc=1
done <"$SB_TMP/replies"
n=$(grep -vc '^#' "$DIR/expected.tsv")
if [ "$total" != "$n" ]; then
	tap_not_ok "one reply per message" "$total replies for $n messages"
	rc=1
fi
[ $rc = 0 ] || tail -n 20 "$SB_TMP/milter.log" | tap_diag
tap_diag "$total messages through the milter"
exit $rc
