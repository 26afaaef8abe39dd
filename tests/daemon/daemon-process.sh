#!/bin/bash
# daemon-process.sh - the process life of htgate-milter, htgate-policyd
# and htgate-fetch -d, one way (lib/daemon.c): started as root without
# -u a daemon refuses to detach; in the background (no -f) it detaches at
# once and writes its pid file; -u USER gives the unix socket to USER and
# runs as USER (started as USER it is accepted, as another user not);
# SIGHUP reloads with a log line, also after a bad file; SIGTERM stops
# it with "stopping on signal 15" and "stopped", the pid file removed.
# TAP (tests/tap.sh); needs root (-u); unix sockets only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (-u)"
id nobody >/dev/null 2>&1 || tap_skip_all "no user nobody"
mkdir -m 755 "$T/run"
chown nobody "$T/run"
printf '[global]\nlanguage = en\n[stream AGS]\n[account a]\nsenders = *@example.com\n' >"$T/good.conf"
cp "$T/good.conf" "$T/htgate.conf"
chmod 644 "$T"/*.conf

# wait_for CMD... - until CMD succeeds (5 s)
wait_for()
{
	local i
	for i in $(seq 1 100); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

# logged FILE TEXT - FILE has a line with TEXT (waits up to 5 s)
logged()
{
	wait_for grep -qF -- "$2" "$1"
}

# gone PID - the process has exited (waits up to 5 s)
gone()
{
	wait_for sh -c '! kill -0 "$1" 2>/dev/null' - "$1"
}

# life NAME SOCKETFILE CMD... - one daemon from start to stop as nobody
life()
{
	local name=$1 sock=$2 log=$T/$1.log pid rc=0 user
	shift 2
	"$@" -c "$T/htgate.conf" -l -u nobody -P "$T/run/$name.pid" >"$log" 2>&1 &
	if [ "$name" = fetch ]; then	# never detaches
		PIDS="$PIDS $!"
	else
		wait $! || rc=$?
		tap_check "$name in the background: the starting process exits 0 at once" [ "$rc" = 0 ]
	fi
	tap_check "$name: pid file written" wait_for test -s "$T/run/$name.pid"
	pid=$(cat "$T/run/$name.pid" 2>/dev/null)
	PIDS="$PIDS $pid"
	tap_check "$name: the pid file names the running daemon" kill -0 "${pid:-0}"
	user=$(ps -o user= -p "${pid:-0}" | tr -d ' ')
	tap_check "$name: runs as nobody (-u), not as root ($user)" [ "$user" = nobody ]
	if [ -n "$sock" ]; then
		tap_check "$name: its socket belongs to nobody" \
		    sh -c '[ "$(stat -c %U "$1")" = nobody ]' - "$sock"
	fi
	printf '[global]\nno_such_key = 1\n' >"$T/htgate.conf"
	kill -HUP "$pid"
	tap_check "$name: SIGHUP with a bad file is logged, the old one kept" \
	    logged "$log" "config reload failed: $T/htgate.conf:2: unknown key \"no_such_key\" in [global]; keeping the old configuration"
	cp "$T/good.conf" "$T/htgate.conf"
	kill -HUP "$pid"
	tap_check "$name: SIGHUP with a good file reloads it" \
	    logged "$log" "configuration reloaded from $T/htgate.conf"
	kill -TERM "$pid"
	tap_check "$name: SIGTERM stops it" gone "$pid"
	tap_check "$name: says so" sh -c 'grep -q "stopping on signal 15" "$1" && grep -q ": stopped$" "$1"' - "$log"
	tap_check "$name: pid file removed" [ ! -e "$T/run/$name.pid" ]
}

life milter "$T/m.sock" "$MILTER" -p "unix:$T/m.sock"
life policyd "$T/p.sock" "$POLICYD" -p "unix:$T/p.sock"
life fetch "" "$FETCH" -d -i 1

# The root policy: not in the background as root without -u ...
for p in "$MILTER" "$POLICYD"; do
	n=$(basename "$p")
	rc=0; "$p" -c "$T/good.conf" -p "unix:$T/x.sock" >"$T/root.out" 2>&1 || rc=$?
	tap_check "$n as root without -u in the background: refused, exit 1" \
	    sh -c '[ "$1" = 1 ] && grep -qx "$2: fatal: refusing to run as root; give -u USER (or -f to run in the foreground as root)" "$3"' \
	    - "$rc" "$n" "$T/root.out"
done
# ... in the foreground with a warning (htgate-fetch always is).
"$FETCH" -c "$T/good.conf" >"$T/fetch-root.log" 2>&1
tap_check "htgate-fetch as root without -u: runs, with the warning" \
    grep -q "warning: running as root (foreground, no -u USER)" "$T/fetch-root.log"
"$POLICYD" -f -l -c "$T/good.conf" -p "unix:$T/f.sock" >"$T/fg.log" 2>&1 &
pid=$!; PIDS="$PIDS $pid"
tap_check "htgate-policyd -f as root without -u: runs, with the warning" \
    logged "$T/fg.log" "warning: running as root (foreground, no -u USER)"
kill -TERM "$pid"; wait "$pid"; rc=$?
tap_check "htgate-policyd -f: SIGTERM, exit 0" [ "$rc" = 0 ]

# -u root (uid 0 stays 0), -u for the user we already are, and not for
# another; an unknown user.
"$MILTER" -f -l -u root -c "$T/good.conf" -p "unix:$T/r.sock" >"$T/r.log" 2>&1 &
pid=$!; PIDS="$PIDS $pid"
tap_check "htgate-milter -u root: runs" logged "$T/r.log" "starting: config"
kill -TERM "$pid"; wait "$pid"; rc=$?
tap_check "htgate-milter -u root: SIGTERM, exit 0" [ "$rc" = 0 ]
rc=0; runuser -u nobody -- "$FETCH" -u nobody -c "$T/good.conf" >"$T/self.log" 2>&1 || rc=$?
tap_check "htgate-fetch started as nobody with -u nobody: accepted" \
    sh -c '[ "$1" = 0 ] && grep -q "no account with fetch = yes" "$2"' - "$rc" "$T/self.log"
rc=0; runuser -u nobody -- "$FETCH" -u root -c "$T/good.conf" >"$T/other.log" 2>&1 || rc=$?
tap_check "htgate-fetch started as nobody with -u root: refused, exit 1" \
    sh -c '[ "$1" = 1 ] && grep -q "fatal: cannot become user root: not started as root" "$2"' - "$rc" "$T/other.log"
for p in "$MILTER" "$POLICYD" "$FETCH"; do
	n=$(basename "$p")
	rc=0; "$p" -f -u no-such-user-here -c "$T/good.conf" -p "unix:$T/u.sock" >"$T/u.out" 2>&1 || rc=$?
	[ "$n" = htgate-fetch ] && { rc=0; "$p" -u no-such-user-here -c "$T/good.conf" >"$T/u.out" 2>&1 || rc=$?; }
	tap_check "$n -u with an unknown user: exit 1" \
	    sh -c '[ "$1" = 1 ] && grep -q "fatal: -u no-such-user-here: no such user" "$2"' - "$rc" "$T/u.out"
done
# A pid file that cannot be written is a start-up error.
rc=0; "$POLICYD" -f -l -c "$T/good.conf" -p "unix:$T/q.sock" -P "$T/no/such/dir/p.pid" >"$T/pf.out" 2>&1 || rc=$?
tap_check "a pid file that cannot be written: exit 1" \
    sh -c '[ "$1" = 1 ] && grep -q "fatal: cannot write pid file" "$2"' - "$rc" "$T/pf.out"
