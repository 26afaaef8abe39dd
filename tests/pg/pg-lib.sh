# tests/pg/pg-lib.sh - shared part of the PostgreSQL tests (sourced, bash)
#
# SYNOPSIS
#	. "$srcdir/pg/pg-lib.sh"
#	pg_skip_unless_installed	# 1..0 # SKIP without postgresql-15
#	pg_start_bare			# a server in $SB_TMP/pg (no sandbox)
#
# DESCRIPTION
#	The tests of issue 13's PostgreSQL backend start a private server
#	with initdb/pg_ctl of Debian's postgresql-15
#	(/usr/lib/postgresql/15/bin, PG_BIN overrides) as user postgres in
#	a temp dir, on a unix socket only (sandbox/lib.sh sb_pg_start), and
#	stop it at exit.  They are skipped, with a message saying so, only
#	where PostgreSQL is not installed or htgate was built without libpq.
# OWNERSHIP
#	tests/pg.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:?set top_builddir to the build directory}"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

# pg_skip_unless_installed - skip the whole test without PostgreSQL
pg_skip_unless_installed()
{
	if [ ! -x "$PG_BIN/initdb" ] || [ ! -x "$PG_BIN/pg_ctl" ]; then
		tap_skip_all "PostgreSQL not installed ($PG_BIN/initdb; Debian package postgresql-15, see scripts/deps)"
	fi
	if ! grep -q '^#define HAVE_LIBPQ 1' "$top_builddir/config.h" 2>/dev/null; then
		tap_skip_all "htgate built without libpq (Debian package libpq-dev, then configure again)"
	fi
	id postgres >/dev/null 2>&1 || tap_skip_all "no user postgres (Debian package postgresql-15)"
	[ "$(id -u)" = 0 ] || tap_skip_all "needs root (runs the server as user postgres)"
}

# pg_start_bare - a private server without the rest of the sandbox; its
# URL in SB_PG_URL; stopped by the EXIT trap set here
pg_start_bare()
{
	PATH=$PATH:/usr/sbin:/sbin
	SB_TMP=$(mktemp -d /tmp/htgate-pg.XXXXXX) || exit 1
	chmod 755 "$SB_TMP"
	SB_STARTED_PIDS=
	SB_PG_FSYNC=off
	trap 'st=$?; sb_pg_stop; rm -rf "$SB_TMP"; tap_end $st; exit $?' EXIT
	sb_pg_start "$PG_BIN"
}
