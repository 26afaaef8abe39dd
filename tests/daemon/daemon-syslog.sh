#!/bin/bash
# daemon-syslog.sh - without -l the daemons log to syslog (facility mail,
# ident and pid), as in production, where every other suite passes -l.
# Each program runs in a private mount namespace (unshare -m) whose /dev
# is a fresh tmpfs holding null, zero, urandom and a "log" that is a
# bind mount of a datagram socket the test reads (syslog_sink.py): the
# host's /dev/log is never touched.  Checked: the priority (mail.info
# <22>, mail.warning <20>, mail.err <19>, mail.crit <18>) and text of
# start, reload, stop and fatal lines; a fatal start-up error and a bad
# configuration also reach standard error.  TAP (tests/tap.sh); needs
# root (mount namespaces) and python3.
. "$(dirname "$0")/lib.sh"
SINK=$top_srcdir/tests/daemon/syslog_sink.py
[ "$(id -u)" = 0 ] || tap_skip_all "needs root (mount namespace)"
command -v unshare >/dev/null 2>&1 || tap_skip_all "unshare not found"
command -v python3 >/dev/null 2>&1 || tap_skip_all "python3 not found"
printf '[global]\nlanguage = en\n[stream AGS]\n[account a]\nsenders = *@example.com\n' >"$T/htgate.conf"
python3 "$SINK" "$T/log" "$T/syslog" &
PIDS="$PIDS $!"
disown $!
for _ in $(seq 1 100); do [ -S "$T/log" ] && break; sleep 0.05; done
[ -S "$T/log" ] || tap_bail_out "syslog_sink.py did not start"

# private_dev CMD... - exec CMD with a private /dev whose log is $T/log
# (exec all the way down: run in the background, $! is CMD's pid)
private_dev()
{
	exec unshare -m sh -c '
		set -e
		mount --make-rprivate /
		mount -t tmpfs -o mode=755 tmpfs /dev
		mknod -m 666 /dev/null c 1 3
		mknod -m 666 /dev/zero c 1 5
		mknod -m 666 /dev/urandom c 1 9
		touch /dev/log
		mount --bind "$0" /dev/log
		exec "$@"' "$T/log" "$@"
}

# syslogged PATTERN - a line of the sink matches PATTERN (grep -E; 5 s)
syslogged()
{
	local i
	for i in $(seq 1 100); do
		grep -qE -- "$1" "$T/syslog" && return 0
		sleep 0.05
	done
	return 1
}

# the policy daemon: start, reload (bad, good), stop
private_dev "$POLICYD" -f -c "$T/htgate.conf" -p "unix:$T/p.sock" 2>"$T/p.err" &
pid=$!; PIDS="$PIDS $pid"
tap_check "htgate-policyd: mail.warning, running as root" \
    syslogged "^<20>.* htgate-policyd\[$pid\]: warning: running as root \(foreground, no -u USER\)$"
tap_check "htgate-policyd: mail.info ready line with ident and pid" \
    syslogged "^<22>.* htgate-policyd\[$pid\]: ready: 1 socket\(s\), configuration $T/htgate.conf$"
cp "$T/htgate.conf" "$T/good.conf"
printf '[global]\nlanguage = de\n' >"$T/htgate.conf"
kill -HUP "$pid"
tap_check "htgate-policyd: mail.err for a reload that failed" \
    syslogged "^<19>.* htgate-policyd\[$pid\]: error: config reload failed: $T/htgate.conf:2: language: \"de\" is not en or nl; keeping the old configuration$"
cp "$T/good.conf" "$T/htgate.conf"
kill -HUP "$pid"
tap_check "htgate-policyd: mail.info for a good reload" \
    syslogged "^<22>.* htgate-policyd\[$pid\]: configuration reloaded from $T/htgate.conf$"
kill -TERM "$pid"; wait "$pid"; rc=$?
tap_check "htgate-policyd: exit 0 after SIGTERM" [ "$rc" = 0 ]
tap_check "htgate-policyd: stop lines" \
    sh -c 'grep -q "htgate-policyd\[$1\]: stopping on signal 15" "$2" && grep -q "htgate-policyd\[$1\]: stopped" "$2"' - "$pid" "$T/syslog"
tap_check "htgate-policyd: nothing on standard error" [ ! -s "$T/p.err" ]

# the milter
private_dev "$MILTER" -f -c "$T/htgate.conf" -p "unix:$T/m.sock" 2>"$T/m.err" &
pid=$!; PIDS="$PIDS $pid"
tap_check "htgate-milter: mail.info starting line" \
    syslogged "^<22>.* htgate-milter\[$pid\]: starting: config $T/htgate.conf, socket unix:$T/m.sock$"
kill -TERM "$pid"; wait "$pid"; rc=$?
tap_check "htgate-milter: exit 0 after SIGTERM, stopped" \
    sh -c '[ "$1" = 0 ] && grep -q "htgate-milter\[$2\]: stopped" "$3"' - "$rc" "$pid" "$T/syslog"

# htgate-fetch -s (its default is standard error)
(private_dev "$FETCH" -s -c "$T/htgate.conf") 2>"$T/f.err"
tap_check "htgate-fetch -s: mail.info line" \
    syslogged "^<22>.* htgate-fetch\[[0-9]+\]: no account with fetch = yes in $T/htgate.conf$"

# A fatal start-up error: syslog (mail.crit) and standard error.
rc=0; (private_dev "$POLICYD" -f -c "$T/htgate.conf" -p "bogus:spec") 2>"$T/fatal.err" || rc=$?
tap_check "a fatal start-up error: exit 1" [ "$rc" = 1 ]
tap_check "a fatal start-up error: mail.crit" \
    syslogged "^<18>.* htgate-policyd\[[0-9]+\]: fatal: bogus:spec: expected unix:/path or inet:host:port$"
tap_check "a fatal start-up error: also on standard error" \
    grep -qx "htgate-policyd: fatal: bogus:spec: expected unix:/path or inet:host:port" "$T/fatal.err"
# A bad configuration at start: standard error and mail.err.
printf '[globl]\n' >"$T/bad.conf"
rc=0; (private_dev "$MILTER" -f -c "$T/bad.conf" -p "unix:$T/b.sock") 2>"$T/bad.err" || rc=$?
tap_check "a bad configuration at start: exit 1, FILE:LINE on standard error" \
    sh -c '[ "$1" = 1 ] && grep -q "^$2:1: unknown section \[globl\]" "$3"' - "$rc" "$T/bad.conf" "$T/bad.err"
tap_check "a bad configuration at start: mail.err" \
    syslogged "^<19>.* htgate-milter\[[0-9]+\]: error: $T/bad.conf:1: unknown section \[globl\]"
