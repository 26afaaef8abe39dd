# shellcheck shell=sh
# tests/milter/lib.sh - common part of the htgate-milter suites run.sh
# and repair.sh (sourced, POSIX sh, after "set -eu")
#
# SYNOPSIS
#	. "${top_srcdir:-...}/tests/milter/lib.sh"
#	start_milter NAME ENV|- [ARGS...]	sets MPID
#	run_case SCRIPT INSTANCE [PATTERN...]
#	wait_log NAME TEXT
#	result STATUS DESCRIPTION
#
# DESCRIPTION
#	Sourcing it reads tests/tap.sh, skips the whole test without
#	miltertest, bails out when htgate-milter is not built, makes the
#	private directory $T (htgate-milter-SCRIPT.XXXXXX) and installs the EXIT
#	trap that stops every milter started (PIDS), removes $T and prints
#	the plan.  Each instance NAME listens on unix:$T/NAME.sock and logs
#	to $T/NAME.log, with the configuration $T/htgate.conf.
#
#	Environment: top_srcdir, top_builddir (automake's test driver);
#	HTGATE_MILTER overrides the binary under test; HTGATE_WRAPPER, if
#	set, is a command line the daemons are started under (e.g.
#	valgrind ...).  MTDEFS: extra "-D name=value" words for miltertest.
# OWNERSHIP
#	tests/milter.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/tap.sh"
MILTER=${HTGATE_MILTER:-$top_builddir/milter/htgate-milter}
WRAPPER=${HTGATE_WRAPPER:-}
MTDIR=$top_srcdir/tests/milter
MTDEFS=""

command -v miltertest >/dev/null 2>&1 ||
	tap_skip_all "miltertest not installed (Debian package miltertest)"
[ -x "$MILTER" ] || tap_bail_out "$MILTER not built"

T=$(mktemp -d "${TMPDIR:-/tmp}/htgate-milter-$(basename "$0" .sh).XXXXXX")
PIDS=""

# cleanup - stop every milter still running, remove the directory, plan
cleanup() {
	st=$?
	for p in $PIDS; do
		kill "$p" 2>/dev/null || :
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || :
	done
	rm -rf "$T"
	tap_end $st
}
trap 'cleanup; exit $?' EXIT
trap 'exit 1' INT TERM HUP

# result STATUS DESCRIPTION - one TAP line: ok when STATUS is 0
result() {
	if [ "$1" -eq 0 ]; then
		tap_ok "$2"
	else
		tap_not_ok "$2"
	fi
}

# start_milter NAME ENV|- [ARGS...] - start an instance; sets MPID
start_milter() {
	name=$1
	envset=$2
	shift 2
	rm -f "$T/$name.sock"
	# shellcheck disable=SC2086 # WRAPPER: a command line
	if [ "$envset" = - ]; then
		$WRAPPER "$MILTER" -f -l -v -c "$T/htgate.conf" \
			-p "unix:$T/$name.sock" "$@" >"$T/$name.log" 2>&1 &
	else
		env "$envset" $WRAPPER "$MILTER" -f -l -v -c "$T/htgate.conf" \
			-p "unix:$T/$name.sock" "$@" >"$T/$name.log" 2>&1 &
	fi
	MPID=$!
	PIDS="$PIDS $MPID"
	i=0
	while [ ! -S "$T/$name.sock" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$MPID" 2>/dev/null; then
			tap_diag <"$T/$name.log"
			tap_bail_out "$name did not start"
		fi
		sleep 0.05
	done
}

# wait_log NAME TEXT - wait up to 5 s for TEXT in the instance's log
wait_log() {
	i=0
	while ! grep -F -e "$2" "$T/$1.log" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -gt 100 ] && return 1
		sleep 0.05
	done
	return 0
}

# run_case SCRIPT INSTANCE [PATTERN...] - run a script; each PATTERN
# must appear in the log lines it caused ("!PATTERN": must not)
run_case() {
	script=$1
	inst=$2
	shift 2
	before=$(wc -l <"$T/$inst.log")
	rc=0
	# shellcheck disable=SC2086 # MTDEFS: extra "-D name=value" words
	miltertest -D mtdir="$MTDIR" -D sock="unix:$T/$inst.sock" $MTDEFS \
		-s "$MTDIR/$script.lua" >"$T/mt.out" 2>&1 || rc=$?
	sleep 0.1	# the log lines of the last callback
	tail -n +"$((before + 1))" "$T/$inst.log" >"$T/case.log"
	why=
	for pat in "$@"; do
		case $pat in
		!*)
			if grep -F -e "${pat#!}" "$T/case.log" >/dev/null; then
				why="$why
log has unexpected: ${pat#!}"
				rc=1
			fi
			;;
		*)
			if ! grep -F -e "$pat" "$T/case.log" >/dev/null; then
				why="$why
log lacks: $pat"
				rc=1
			fi
			;;
		esac
	done
	result $rc "$script on $inst"
	if [ $rc -ne 0 ]; then
		tap_diag <"$T/mt.out"
		[ -z "$why" ] || tap_diag "${why#?}"
		sed 's/^/log: /' "$T/case.log" | tap_diag
	fi
}
