# tests/tap.sh - TAP output for the shell test suites (sourced, POSIX sh)
#
# SYNOPSIS
#	. "$top_srcdir/tests/tap.sh"
#	tap_plan N			"1..N" now (optional; else at the end)
#	tap_ok LABEL			"ok N - LABEL"
#	tap_not_ok LABEL [DIAG...]	"not ok N - LABEL", each DIAG as "# ..."
#	tap_check LABEL CMD [ARG...]	ok when CMD succeeds, else not ok
#	tap_skip LABEL REASON		"ok N - LABEL # SKIP REASON"
#	tap_skip_all REASON		"1..0 # SKIP REASON" and exit 0
#	tap_bail_out REASON		"Bail out! REASON" and exit 1
#	tap_diag [TEXT...]		each line of TEXT (or stdin) as "# ..."
#	tap_failed			true once a "not ok" was printed
#	tap_end [STATUS]		the plan, once; returns 0, or 1 after a
#					failure
#	tap_export			let child processes (tests/tap.py, a
#					nested tap.sh) continue the numbering
#
# DESCRIPTION
#	One line per assertion on standard output, read by automake's
#	tap-driver.sh (tests/Makefile.am), so the test log and the summary
#	name every assertion.  Diagnostics go to standard output as "# ..."
#	comments; nothing else a test prints may start with "ok", "not ok",
#	"1.." or "Bail out!".  A label is one line.
#
#	The plan comes at the end unless tap_plan gave it first: sourcing
#	this file installs an EXIT trap that calls tap_end with the exit
#	status.  A script that installs its own EXIT trap must call
#	"tap_end $?" first thing in it.  An exit with a non-zero status
#	before any "not ok" (set -e, a setup step that gave up) becomes a
#	"not ok" line of its own, so the driver (run with --ignore-exit)
#	never misses it.  The exit status stays meaningful by hand: 0 all
#	passed, 1 a failure.  An exit with status 77 before any assertion
#	(a script not yet converted to tap_skip_all) is read as a skip.
#
#	The counters live in a small state file ($TAP_STATE), so assertions
#	made in subshells (a pipeline into "while read", "$(...)") count,
#	and after tap_export a child process continues the numbering and
#	leaves the plan to the parent.
# OWNERSHIP
#	tests/.  The state file is removed by tap_end (or the EXIT trap).

if [ -n "${TAP_STATE:-}" ] && [ -f "$TAP_STATE" ]; then
	_tap_owner=		# a parent prints the plan
else
	TAP_STATE=$(mktemp "${TMPDIR:-/tmp}/htgate-tap.XXXXXX") || exit 1
	echo "0 0" >"$TAP_STATE"
	_tap_owner=1
fi
_tap_planned=
_tap_done=
_tap_rc=0

# _tap_next OK - count one result; sets _tap_n (its number)
_tap_next()
{
	read -r _tap_n _tap_f <"$TAP_STATE"
	_tap_n=$((_tap_n + 1))
	[ "$1" = 1 ] || _tap_f=$((_tap_f + 1))
	echo "$_tap_n $_tap_f" >"$TAP_STATE"
}

# _tap_label TEXT - TEXT on one line, a "# SKIP"/"# TODO" inside escaped
_tap_label()
{
	_tap_l=$*
	case $_tap_l in
	*'
'*)	_tap_l=$(printf '%s' "$_tap_l" | tr '\n' ' ') ;;
	esac
	case $_tap_l in
	*'#'*)	_tap_l=$(printf '%s' "$_tap_l" |
		    sed -E 's/#([[:space:]]*([Tt][Oo][Dd][Oo]|[Ss][Kk][Ii][Pp]))/\\#\1/g') ;;
	esac
}

# tap_plan - the plan first
tap_plan()
{
	echo "1..$1"
	_tap_planned=1
}

# tap_diag - comment lines
tap_diag()
{
	if [ $# -eq 0 ]; then
		sed 's/^/# /'
	else
		printf '%s\n' "$@" | sed 's/^/# /'
	fi
}

# tap_ok - a passed assertion
tap_ok()
{
	_tap_next 1
	_tap_label "$1"
	echo "ok $_tap_n - $_tap_l"
}

# tap_not_ok - a failed assertion, with diagnostics
tap_not_ok()
{
	_tap_next 0
	_tap_label "$1"
	echo "not ok $_tap_n - $_tap_l"
	shift
	[ $# -eq 0 ] || tap_diag "$@"
	return 0
}

# tap_check - an assertion that holds when the command succeeds
tap_check()
{
	_tap_c=$1
	shift
	if "$@"; then
		tap_ok "$_tap_c"
	else
		tap_not_ok "$_tap_c"
	fi
}

# tap_skip - an assertion that could not be made here
tap_skip()
{
	_tap_next 1
	_tap_label "$1"
	echo "ok $_tap_n - $_tap_l # SKIP ${2:-}"
}

# tap_skip_all - the whole script is skipped (before any assertion)
tap_skip_all()
{
	echo "1..0 # SKIP $*"
	_tap_done=1
	[ -z "$_tap_owner" ] || rm -f "$TAP_STATE"
	exit 0
}

# tap_bail_out - the script cannot go on (its set-up failed)
tap_bail_out()
{
	echo "Bail out! $*"
	_tap_done=1
	_tap_rc=1
	[ -z "$_tap_owner" ] || rm -f "$TAP_STATE"
	exit 1
}

# tap_failed - a "not ok" so far?
tap_failed()
{
	read -r _tap_n _tap_f <"$TAP_STATE" 2>/dev/null || return 1
	[ "$_tap_f" -gt 0 ]
}

# tap_export - children continue the numbering (tests/tap.py reads it)
tap_export()
{
	export TAP_STATE
}

# tap_end - the plan (once) and the status: 0 all passed, 1 a failure
tap_end()
{
	_tap_st=${1:-0}
	[ -z "$_tap_done" ] || return "$_tap_rc"
	_tap_done=1
	[ -f "$TAP_STATE" ] || return "$_tap_rc"
	read -r _tap_n _tap_f <"$TAP_STATE"
	if [ "$_tap_st" -eq 77 ] && [ "$_tap_n" -eq 0 ] && [ -n "$_tap_owner" ]; then
		# automake's skip status before any assertion: a skip
		echo "1..0 # SKIP $(basename "$0") exited with status 77"
		rm -f "$TAP_STATE"
		return 0
	fi
	if [ "$_tap_st" -ne 0 ] && [ "$_tap_f" -eq 0 ]; then
		tap_not_ok "$(basename "$0") stopped with exit status $_tap_st"
		read -r _tap_n _tap_f <"$TAP_STATE"
	fi
	[ "$_tap_f" -eq 0 ] || _tap_rc=1
	if [ -n "$_tap_owner" ]; then
		[ -n "$_tap_planned" ] || echo "1..$_tap_n"
		rm -f "$TAP_STATE"
	fi
	return "$_tap_rc"
}

trap 'tap_end $?; exit $?' EXIT
