#!/bin/bash
# fetch-state: the state file is written as a new file (O_EXCL|O_NOFOLLOW,
# mode 0600) renamed into place, and checked when read; a symbolic link,
# a FIFO, a file of another user or one writable by group in its place,
# a symbolic link in place of the lock, or a state directory writable by
# others is refused with a clear error, nothing is fetched and the link's
# target is never touched.  -S puts the state into a directory of its own.
. "$srcdir/fetch/lib.sh"
POP3=10197 SMTP=10198

fetch_begin $POP3 $SMTP
fetch_start_pop3 $POP3
fetch_start_mta $SMTP
write_conf "$T/htgate.conf" $POP3 "smtp:127.0.0.1:$SMTP"
S=$T/state
SF=$S/fetch-company.state
LK=$S/fetch-company.lock
printf 'precious\n' > "$T/target"

# refused LABEL PATTERN - the last run failed on its state, fetched nothing
refused() {
	check "$1: exit 1" [ "$rc" -eq 1 ]
	check "$1: clear error" grep -q "$2" "$T/$3.log"
	check "$1: nothing fetched, the answer stays on the server" \
		[ "$(server_count)" -eq 1 ]
	check "$1: link target untouched" [ "$(cat "$T/target")" = precious ]
}

put_msg m1 "One"
run_fetch "$T/run1.log"
check "normal run: exit 0, delivered" \
	eval '[ "$rc" -eq 0 ] && wait_delivered answers 1'
check "state file: a regular file, mode 0600, ours" \
	eval '[ -f "$SF" ] && [ ! -h "$SF" ] && [ "$(stat -c %a:%u "$SF")" = "600:$(id -u)" ]'
check "no temporary file left behind" [ -z "$(find "$S" -mindepth 1 ! -name '*.state' ! -name '*.lock')" ]

put_msg m2 "Two"
rm -f "$SF"; ln -s "$T/target" "$SF"
run_fetch "$T/link.log"
refused "symlink as state file" "fetch-company.state is a symbolic link; refusing to follow it" link

rm -f "$SF"; mkfifo "$SF"
run_fetch "$T/fifo.log"
refused "FIFO as state file (no hang)" "fetch-company.state: not a regular file" fifo

rm -f "$SF"; printf '# x\n' > "$SF"; chmod 620 "$SF"
run_fetch "$T/gw.log"
refused "group-writable state file" "fetch-company.state: mode 0620 is writable by group or others" gw

chmod 600 "$SF"; chown nobody "$SF"
run_fetch "$T/owner.log"
refused "state file of another user" "fetch-company.state: owned by uid $(id -u nobody), not by the user running htgate-fetch" owner

rm -f "$SF" "$LK"; ln -s "$T/target" "$LK"
run_fetch "$T/lock.log"
refused "symlink as lock" "lock .*fetch-company.lock is a symbolic link" lock
rm -f "$LK"

chmod 777 "$S"
run_fetch "$T/dir.log"
refused "state directory writable by others" "state_dir $S: mode 0777 is writable by group or others" dir
chmod 755 "$S"

# The old fixed temporary name as a trap: never written through.
ln -s "$T/target" "$SF.tmp"
run_fetch "$T/ok2.log"
check "after the fix: exit 0, the answer delivered once" \
	eval '[ "$rc" -eq 0 ] && wait_delivered answers 2 && exactly_once 2'
check "a link at the old temporary name is not followed" [ "$(cat "$T/target")" = precious ]
check "state file again a regular file" eval '[ -f "$SF" ] && [ ! -h "$SF" ]'
rm -f "$SF.tmp"

# -S: a state directory of its own (as the packaged unit runs it)
put_msg m3 "Three"
run_fetch "$T/own.log" -S "$T/own"
check "-S: exit 0, delivered" eval '[ "$rc" -eq 0 ] && wait_delivered answers 3'
check "-S: created mode 0750, holds the lock and state" \
	eval '[ "$(stat -c %a "$T/own")" = 750 ] && [ -f "$T/own/fetch-company.lock" ] && [ -f "$T/own/fetch-company.state" ]'
run_fetch "$T/rel.log" -S relative/dir
check "-S with a relative path: usage error" [ "$rc" -eq 2 ]

# -S: a file, a directory of another user, one that cannot be made
touch "$T/plainfile"
run_fetch "$T/notdir.log" -S "$T/plainfile"
check "-S naming a file: refused" \
	eval '[ "$rc" -eq 1 ] && grep -q "state_dir $T/plainfile: not a directory" "$T/notdir.log"'
mkdir -m 755 "$T/theirs"; chown nobody "$T/theirs"
run_fetch "$T/theirs.log" -S "$T/theirs"
check "-S naming another user's directory: refused" \
	eval '[ "$rc" -eq 1 ] && grep -q "state_dir $T/theirs: owned by uid $(id -u nobody), not by the user running htgate-fetch" "$T/theirs.log"'
run_fetch "$T/nomk.log" -S "$T/no/such/parent"
check "-S that cannot be created: refused" \
	eval '[ "$rc" -eq 1 ] && grep -q "state_dir $T/no/such/parent: No such file or directory" "$T/nomk.log"'

# An account name that is no file name: written with %XX escapes.
sed -i 's/^\[account company\]$/[account .co\/mp]/' "$T/htgate.conf"
put_msg m4 "Four"
run_fetch "$T/name.log" -S "$T/own"
check "an account name with / and a leading dot: its own escaped files" \
	eval '[ "$rc" -eq 0 ] && [ -f "$T/own/fetch-%2Eco%2Fmp.state" ] && [ -f "$T/own/fetch-%2Eco%2Fmp.lock" ]' 
check "no password in any log" no_secret "$T"/*.log
fetch_done
