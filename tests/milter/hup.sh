#!/bin/sh
# tests/milter/hup.sh - reload never stops htgate-milter: hundreds of
# pairs of SIGHUP sent back to back (libmilter's own signal thread stops
# the milter on a SIGHUP it catches), then the same pid must still be
# there, answer a message through miltertest and have reloaded; last, a
# SIGTERM still stops it cleanly, even when libmilter's own signal
# thread takes it (tests/milter/sigthread.py).  TAP (tests/tap.sh).
#
# Environment: top_srcdir, top_builddir; HTGATE_MILTER overrides the
# binary; HUP_PAIRS the number of pairs (default 300).
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
. "$top_srcdir/tests/tap.sh"
MILTER=${HTGATE_MILTER:-$top_builddir/milter/htgate-milter}
MTDIR=$top_srcdir/tests/milter
PAIRS=${HUP_PAIRS:-300}

command -v miltertest >/dev/null 2>&1 || tap_skip_all "miltertest not installed"
[ -x "$MILTER" ] || tap_bail_out "$MILTER not built"
T=$(mktemp -d "${TMPDIR:-/tmp}/htgate-hup.XXXXXX")
PID=
trap 'st=$?; [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; tap_end $st; exit $?' EXIT

cat >"$T/htgate.conf" <<CONF
[global]
language = en
[stream AGS]
[account example]
senders = *@example.com
CONF
${HTGATE_WRAPPER:-} "$MILTER" -f -l -c "$T/htgate.conf" -p "unix:$T/m.sock" >"$T/m.log" 2>&1 &
PID=$!
i=0
while [ ! -S "$T/m.sock" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && tap_bail_out "htgate-milter did not start"
	sleep 0.05
done

n=0
while [ $n -lt "$PAIRS" ] && kill -0 "$PID" 2>/dev/null; do
	kill -HUP "$PID"; kill -HUP "$PID"
	n=$((n + 1))
done
# Let the queued reloads finish.
i=0
while [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
tap_check "alive after $n pairs of SIGHUP sent back to back (pid $PID)" kill -0 "$PID"
reloads=$(grep -c "configuration reloaded" "$T/m.log")
tap_check "reloaded ($reloads times; pairs may merge)" test "$reloads" -ge 1
if grep -q "stopping on signal" "$T/m.log"; then
	tap_not_ok "no stop while reloading" "$(grep "stopping on signal" "$T/m.log" | head -n 3)"
else
	tap_ok "no stop while reloading"
fi
rc=0
miltertest -D mtdir="$MTDIR" -D sock="unix:$T/m.sock" -s "$MTDIR/accept.lua" \
	>"$T/mt.out" 2>&1 || rc=$?
tap_check "still answers a message after the reloads" test $rc -eq 0
[ $rc -eq 0 ] || tap_diag <"$T/mt.out"
# SIGTERM taken by libmilter's signal thread (when the main thread cannot
# take it at that moment): the milter still stops cleanly.
out=$(python3 "$MTDIR/sigthread.py" "$PID" 15 2>&1) ||
	tap_diag "$out"
rc=0
wait "$PID" || rc=$?
PID=
tap_check "stops cleanly on SIGTERM afterwards, taken by libmilter's signal thread (exit $rc)" \
	test $rc -eq 0
tap_check "the stop was logged" grep -q "stopped" "$T/m.log"
