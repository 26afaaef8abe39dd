#!/bin/bash
# daemon-edges.sh - start-up and run paths of the daemons that production
# takes and the other suites do not: htgate-milter's socket forms
# (local:, a bare path, inet: woken on stop), -E, bad sockets and a bad
# test hook; its callbacks for an egress forced with -E, an egress
# {daemon_name} without or with an unknown environment, a SASL login, a
# "%" in a reply (milter-edges*.lua), non-SMTP detection over IPv6 and a
# unix socket (milter_v6.py); each daemon in the background as root with
# -u root (detach, pid file and the privilege drop, run by a user that
# may write the coverage data); htgate-fetch -d reloading and raising a
# short interval; htgate-policyd's listener errors, and (policyd_edges.py)
# its transaction table when full, requests without instance or
# protocol_state, an IPv6 listener and the client limit.  TAP
# (tests/tap.sh, tests/tap.py); needs root; ports 10119 and 10134 (::1).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
MPORT=10119
printf '[global]\nlanguage = en\n[stream AGS]\n[account a]\nsenders = *@example.com\n' >"$T/good.conf"

# logged FILE TEXT - FILE gets a line with TEXT (5 s)
logged()
{
	local i
	for i in $(seq 1 100); do
		grep -qF -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# fails LABEL TEXT CMD... - CMD exits 1 and says TEXT
fails()
{
	local label=$1 text=$2 rc=0
	shift 2
	"$@" >"$T/fails.out" 2>&1 </dev/null || rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$text" "$T/fails.out"; then
		tap_ok "$label"
	else
		tap_not_ok "$label" "exit $rc" "$(cat "$T/fails.out")"
	fi
}

# fg_life LABEL LOG READY CMD... - start CMD in the foreground mode, wait
# for READY in LOG, stop it with SIGTERM: exit 0
fg_life()
{
	local label=$1 log=$2 ready=$3 pid rc
	shift 3
	"$@" >"$log" 2>&1 </dev/null &
	pid=$!; PIDS="$PIDS $pid"
	tap_check "$label: started" logged "$log" "$ready"
	kill -TERM "$pid"; wait "$pid"; rc=$?
	tap_check "$label: SIGTERM, exit 0" [ "$rc" = 0 ]
}

# htgate-milter's socket forms and start-up errors
fg_life "milter on local:PATH" "$T/m1.log" "starting: config" \
    "$MILTER" -f -l -c "$T/good.conf" -p "local:$T/m1.sock"
fg_life "milter on a bare path" "$T/m2.log" "starting: config" \
    "$MILTER" -f -l -c "$T/good.conf" -p "$T/m2.sock"
fg_life "milter on inet:PORT@127.0.0.1 (-E: egress for production)" "$T/m3.log" \
    "every connection egress for production" \
    "$MILTER" -f -l -E production -c "$T/good.conf" -p "inet:$MPORT@127.0.0.1"
fg_life "milter on inet:PORT (any address: woken over loopback)" "$T/m5.log" "starting: config" \
    "$MILTER" -f -l -c "$T/good.conf" -p "inet:$MPORT"
fg_life "milter on inet6:PORT@[::1] (not woken: stops within libmilter's 5 s)" "$T/m6.log" \
    "starting: config" "$MILTER" -f -l -c "$T/good.conf" -p "inet6:$MPORT@[::1]"
fg_life "milter -E with an empty name (any environment)" "$T/m4.log" \
    "every connection egress for any environment" \
    "$MILTER" -f -l -E "" -c "$T/good.conf" -p "unix:$T/m4.sock"
fails "milter -E with an unknown environment: exit 1" "-E mars: no such environment" \
    "$MILTER" -f -l -E mars -c "$T/good.conf" -p "unix:$T/x.sock"
fails "milter with an empty socket specification: exit 1" "bad socket specification: " \
    "$MILTER" -f -l -c "$T/good.conf" -p ""
fails "milter with an unknown socket type: exit 1" "cannot open the milter socket bogus:x" \
    "$MILTER" -f -l -c "$T/good.conf" -p "bogus:x"
fails "milter with a socket it cannot create: exit 1" "cannot open the milter socket" \
    "$MILTER" -f -l -c "$T/good.conf" -p "unix:$T/no/such/dir/m.sock"
fails "milter with an unknown test hook: exit 1" "HTGATE_TEST_FAIL_AT: unknown callback name" \
    env HTGATE_TEST_FAIL_AT=nowhere "$MILTER" -f -l -c "$T/good.conf" -p "unix:$T/x.sock"

# lua NAME SCRIPT MILTER-ARGS... - a milter with MILTER-ARGS on unix:$T/NAME.sock
# (log $T/NAME.log, verbose), SCRIPT through miltertest against it; stops it
lua()
{
	local name=$1 script=$2 pid rc=0
	shift 2
	"$MILTER" -f -l -v -c "$T/good.conf" -p "unix:$T/$name.sock" "$@" \
	    >"$T/$name.log" 2>&1 </dev/null &
	pid=$!; PIDS="$PIDS $pid"
	logged "$T/$name.log" "starting: config"
	miltertest -D sock="unix:$T/$name.sock" -D mtdir="$top_srcdir/tests/milter" \
	    -s "$(dirname "$0")/$script" >"$T/$name.mt" 2>&1 || rc=$?
	tap_check "$script against htgate-milter $*" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || tap_diag <"$T/$name.mt"
	kill -TERM "$pid"; wait "$pid"
}

# the milter's callbacks on paths the milter suite does not take
if command -v miltertest >/dev/null 2>&1; then
	lua me milter-edges.lua -E production
	tap_check "-E: every connection egress" logged "$T/me.log" "egress connection for environment production"
	tap_check "egress: the egress smtpd's Received: header left out of the identity" \
	    logged "$T/me.log" "4EdgeQid2: egress: identity without its own Received: header"
	lua me2 milter-edges2.lua
	tap_check "an MTA that offers too few modifications: a warning" \
	    logged "$T/me2.log" "the MTA does not offer every modification htgate needs"
	tap_check "an egress for an unknown environment: RCPT refused temporarily" \
	    logged "$T/me2.log" "action=tempfail stage=rcpt rule=INTERNAL reason=\"RCPT without a message\""
else
	tap_skip "milter-edges.lua" "miltertest not installed"
fi

# non-SMTP detection for clients announced over IPv6 or a unix socket
"$MILTER" -f -l -c "$T/good.conf" -p "unix:$T/v6.sock" >"$T/v6.log" 2>&1 </dev/null &
pid=$!; PIDS="$PIDS $pid"
logged "$T/v6.log" "starting: config"
tap_check "non-SMTP detection over IPv6 and a unix socket (milter_v6.py)" \
    python3 "$(dirname "$0")/milter_v6.py" "$T/v6.sock"
kill -TERM "$pid"; wait "$pid"

# htgate-policyd's listener errors
long=$T/$(printf '%0120d' 0).sock
for c in "unix:relative.sock|unix:relative.sock: need an absolute path" \
    "unix:$long|: need an absolute path shorter than" \
    "unix:$T/good.conf|unix:$T/good.conf: exists and is not a socket" \
    "unix:$T/no/dir/p.sock|unix:$T/no/dir/p.sock: No such file or directory" \
    "inet:nohostport|inet:nohostport: expected inet:host:port" \
    "inet:host.invalid:25|inet:host.invalid:25: " \
    "inet:127.0.0.1:$MPORT -p inet:127.0.0.1:$MPORT|inet:127.0.0.1:$MPORT: Address already in use" \
    "nonsense|nonsense: expected unix:/path or inet:host:port"; do
	spec=${c%%|*} text=${c#*|}
	# shellcheck disable=SC2086
	fails "policyd -p $spec: exit 1" "$text" \
	    "$POLICYD" -f -l -c "$T/good.conf" -p $spec
done

# In the background as root with -u root: detach, pid file, the drop.
for p in "$MILTER|unix:$T/bm.sock" "$POLICYD|unix:$T/bp.sock"; do
	prog=${p%%|*} n=$(basename "${p%%|*}")
	rc=0; "$prog" -l -u root -c "$T/good.conf" -p "${p#*|}" -P "$T/$n.pid" \
	    >"$T/$n-bg.log" 2>&1 </dev/null || rc=$?
	tap_check "$n -u root in the background: exit 0 at once" [ "$rc" = 0 ]
	tap_check "$n: pid file" logged "$T/$n.pid" ""
	pid=$(cat "$T/$n.pid" 2>/dev/null); PIDS="$PIDS $pid"
	kill -TERM "${pid:-0}"
	tap_check "$n: stopped, pid file removed" \
	    sh -c 'for i in $(seq 1 100); do [ -e "$1" ] || exit 0; sleep 0.05; done; exit 1' - "$T/$n.pid"
done

# htgate-fetch -d: reloads between polls (idle: no account fetches)
cp "$T/good.conf" "$T/fetch.conf"
"$FETCH" -d -i 1 -c "$T/fetch.conf" >"$T/fd.log" 2>&1 </dev/null &
pid=$!; PIDS="$PIDS $pid"
tap_check "fetch -d: idle" logged "$T/fd.log" "no account with fetch = yes"
printf '[global]\nfetch_interval = 30\n' >"$T/fetch.conf"
kill -HUP "$pid"
tap_check "fetch -d: SIGHUP reloads" logged "$T/fd.log" "configuration reloaded from $T/fetch.conf"
kill -TERM "$pid"; wait "$pid"; rc=$?
tap_check "fetch -d: SIGTERM, exit 0" [ "$rc" = 0 ]
printf '[global]\nfetch_interval = 30\n' >"$T/slow.conf"
"$FETCH" -d -c "$T/slow.conf" >"$T/fs.log" 2>&1 </dev/null &
pid=$!; PIDS="$PIDS $pid"
tap_check "fetch -d: an interval below 60 s is raised" \
    logged "$T/fs.log" "fetch_interval 30 raised to 60 seconds"
kill -TERM "$pid"; wait "$pid"
"$FETCH" -d -c "$T/good.conf" >"$T/f60.log" 2>&1 </dev/null &
pid=$!; PIDS="$PIDS $pid"
tap_check "fetch -d: the configured interval" \
    logged "$T/f60.log" "daemon mode: polling every 60 seconds"
kill -TERM "$pid"; wait "$pid"

# htgate-policyd's transactions and clients (tests/tap.py continues)
tap_export
python3 "$(dirname "$0")/policyd_edges.py" "$POLICYD" "$T" 10134
