# e2e-lib.sh - common part of the end-to-end tests: skip or set up the
# sandbox (sandbox/lib.sh) and give assertions that show logs on failure.
#
# SYNOPSIS
#	. "$srcdir/e2e/e2e-lib.sh"
#	e2e_begin STANDIN_PORT RELAY_PORT [stand-in-only]
#	e2e_send NAME SAMPLE FROM TO...	-> $E2E_OUT/NAME.swaks, $SB_MSGID
#	e2e_assert_reply NAME CODE-PREFIX STAGE [TEXT]
#	e2e_assert_accepted NAME; e2e_assert_arrived NAME MSGID N
#	e2e_accept NAME SAMPLE FROM TO...	e2e_send, e2e_assert_accepted
#	e2e_wait_deferred N [TRIES]	the relay's deferred queue holds N
#	e2e_tally_copies N		-> E2E_QUEUED, E2E_REFUSED of same1..N
#	e2e_assert_secret_unseen
#	e2e_ok MESSAGE; e2e_fail MESSAGE; e2e_skip REASON
#
# DESCRIPTION
#	Run by automake's test driver (top_srcdir, top_builddir, srcdir set),
#	or by hand from the source tree with top_builddir=BUILDDIR.  Output
#	is TAP (tests/tap.sh): e2e_ok and each e2e_assert_* that holds print
#	"ok N - MESSAGE"; e2e_fail (and an assertion that does not hold)
#	prints "not ok N - MESSAGE" and stops the test; the plan comes at
#	the end, printed on exit before the sandbox is stopped, with the
#	servers' logs as "# " lines after a failure.  An exit with another
#	status (sb_die, set -e) is a "not ok" too.  Skipped (TAP "1..0 #
#	SKIP", e2e_skip) only when a needed program (postfix, swaks,
#	dovecot, openssl) is missing; an "exit 77" before the first
#	assertion still counts as a skip.  Every test uses its own two
#	loopback ports (10142-10179; the sandbox itself uses 10140-10141)
#	and its own temp dir, so tests can run in parallel.
#
#	HTGATE_WRAPPER: a command line the sandbox starts htgate-milter and
#	htgate-policyd under (e.g. valgrind ...), honoured by sandbox/lib.sh
#	sb_start_daemon.

set -eu
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:?set top_builddir to the build directory}"
. "$top_srcdir/tests/tap.sh"
. "$top_srcdir/sandbox/lib.sh"
E2E_SAMPLES=$top_srcdir/sandbox/samples
E2E_NAME=$(basename "$0" .sh)

# e2e_begin - skip if programs are missing, else start the sandbox
e2e_begin()
{
	local miss
	miss=$(sb_missing_bins)
	if [ -n "$miss" ]; then
		e2e_skip "$E2E_NAME: missing programs: $miss"
	fi
	# sb_tap_begin: the EXIT trap hands sb_cleanup the exit status (1
	# after a "not ok", also one printed in a subshell); its hook prints
	# these logs after a failure, then the plan.
	sb_tap_begin "$top_builddir" "$1" "$2" relay/maillog standin/maillog \
	    milter.log policyd.log dovecot/dovecot.log relay/htgate-config.log
	E2E_OUT=$SB_TMP/out
	mkdir -p "$E2E_OUT"
	if [ "${3:-}" = stand-in-only ]; then
		sb_make_ca
		sb_make_password
		sb_start_dovecot
		sb_start_standin
	else
		sb_start_all
		echo "# relay routing: $SB_ROUTING"
	fi
}

# e2e_fail - report a failed assertion and stop
e2e_fail()
{
	tap_not_ok "$*"
	exit 1
}

# e2e_ok - report a passed assertion
e2e_ok()
{
	tap_ok "$*"
}

# e2e_skip - skip the whole test (before its first assertion)
e2e_skip()
{
	tap_skip_all "$*"
}

# e2e_send - render SAMPLE and send it to the relay; transcript in NAME.swaks
e2e_send()
{
	local name=$1 sample=$2 from=$3 to=$4
	shift 4
	sb_render "$E2E_SAMPLES/$sample" "$E2E_OUT/$name.eml"
	sb_swaks_relay --from "$from" --to "$to" --data "@$E2E_OUT/$name.eml" "$@" \
	    >"$E2E_OUT/$name.swaks" 2>&1 || true
	sb_swaks_transcript "$E2E_OUT/$name.swaks" | sed "s/^/# $name: /"
}

# e2e_reply_stage - the client command the first error reply answered
e2e_reply_stage()
{
	awk '/^ -> (MAIL|RCPT|DATA|\.)/ { split($0, w, " "); cmd = w[2] }
	    /^<\*\* / { print (cmd == "." ? "END-OF-MESSAGE" : cmd); exit }' "$1"
}

# e2e_assert_reply - the first error reply has CODE prefix, STAGE and TEXT
e2e_assert_reply()
{
	local name=$1 code=$2 stage=$3 text=${4:-} f=$E2E_OUT/$1.swaks v s
	v=$(sb_swaks_verdict "$f")
	case "$v" in
	"$code"*) ;;
	*) e2e_fail "$name: wanted a $code reply, got: ${v:-nothing}" ;;
	esac
	if [ "$stage" != - ]; then
		s=$(e2e_reply_stage "$f")
		[ "$s" = "$stage" ] || e2e_fail "$name: reply at ${s:-no stage}, wanted at $stage"
	fi
	if [ -n "$text" ] && ! grep -E '^<\*\* ' "$f" | grep -qF "$text"; then
		e2e_fail "$name: reply does not name $text"
	fi
	e2e_ok "$name: $v${stage:+ (at $stage)}"
}

# e2e_assert_accepted - the relay queued the message
e2e_assert_accepted()
{
	local v
	v=$(sb_swaks_verdict "$E2E_OUT/$1.swaks")
	case "$v" in
	"250 "*queued*) e2e_ok "$1: $v" ;;
	*) e2e_fail "$1: not accepted by the relay: ${v:-no reply}" ;;
	esac
}

# e2e_assert_arrived - the message with Message-ID ID arrived N times
e2e_assert_arrived()
{
	local name=$1 id=$2 want=$3 n
	n=$(sb_dump_file_for_msgid "$id" | grep -c . || true)
	[ "$n" = "$want" ] ||
	    e2e_fail "$name: arrived ${n}x at the stand-in, wanted ${want}x"
	e2e_ok "$name: arrived ${n}x at the stand-in"
}

# e2e_accept - e2e_send, and the relay must have queued the message
e2e_accept()
{
	e2e_send "$@"
	e2e_assert_accepted "$1"
}

# e2e_wait_deferred - wait up to TRIES (default 50) times 0.2 s
# until the relay's deferred queue holds N messages; false if it never did
e2e_wait_deferred()
{
	local i
	for i in $(seq 1 "${2:-50}"); do
		[ "$(sb_queue_deferred relay)" = "$1" ] && return 0
		sleep 0.2
	done
	[ "$(sb_queue_deferred relay)" = "$1" ]
}

# e2e_tally_copies - the answers to N copies of one message, sent as
# same1..sameN: each queued (counted in E2E_QUEUED) or refused naming
# HDR-MSGID (E2E_REFUSED); any other answer fails
e2e_tally_copies()
{
	local i v
	E2E_QUEUED=0 E2E_REFUSED=0
	for i in $(seq 1 "$1"); do
		v=$(sb_swaks_verdict "$E2E_OUT/same$i.swaks")
		case "$v" in
		250*) E2E_QUEUED=$((E2E_QUEUED + 1)) ;;
		550*) grep -E '^<\*\* ' "$E2E_OUT/same$i.swaks" | grep -qF '[HTG HDR-MSGID]' ||
			e2e_fail "copy $i refused, but not for HDR-MSGID: $v"
		      E2E_REFUSED=$((E2E_REFUSED + 1)) ;;
		*) e2e_fail "copy $i: unexpected answer: $v" ;;
		esac
	done
}

# e2e_assert_secret_unseen - the password appears in no log or output
e2e_assert_secret_unseen()
{
	local pw
	pw=$(cat "$SB_PWFILE")
	if grep -rlF "$pw" "$SB_TMP" --exclude-dir=secrets --exclude=users \
	    --exclude='htg_sasl_passwd*' --exclude-dir=htgate-config 2>/dev/null |
	    grep -q .; then
		e2e_fail "the SASL password appears in: $(grep -rlF "$pw" "$SB_TMP" \
		    --exclude-dir=secrets --exclude=users --exclude='htg_sasl_passwd*' \
		    --exclude-dir=htgate-config | tr '\n' ' ')"
	fi
	e2e_ok "the SASL password appears in no log, reply or dump"
}
