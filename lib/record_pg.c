/*
 * NAME
 *	record_pg - the decision record in PostgreSQL (relay pairs)
 * SYNOPSIS
 *	#include "record_int.h"
 *
 *	extern const struct record_ops record_pg_ops;
 * DESCRIPTION
 *	See record.h and record_int.h.  [record] database =
 *	postgresql://... (a libpq URL) lets two or more relays share one
 *	record: the uniqueness claims are a primary key both relays insert
 *	into, the rate windows are rows both count, and htgate-fetch claims
 *	each answer with SELECT ... FOR UPDATE SKIP LOCKED.
 *
 *	The schema (SCHEMA_SQL, the same tables as SQLite's) is created and
 *	migrated only by htgate-report init (record_init(), under an
 *	advisory lock so that two inits agree); the daemons check the
 *	version in schema_version and refuse another one.
 *
 *	A commit waits for the WAL flush (synchronous_commit on, the
 *	server's default), so record_write() keeps its promise; the rate
 *	windows set synchronous_commit = off for their own transaction.
 *	A claim is INSERT ... ON CONFLICT (kind, id) DO UPDATE ... WHERE the
 *	old claim is the same holder's or expired, RETURNING: of two relays
 *	inserting one key at once the second waits for the first's
 *	transaction and then finds the key taken.
 *
 *	Connection loss (the server restarted or stopped): a statement that
 *	finds the connection gone outside a transaction (a lookup, or the
 *	BEGIN of a write) reconnects (PQreset) and runs once more, so the
 *	first message after a restart passes; inside a transaction the call
 *	returns -1 (the caller tempfails) and the next one reconnects.
 *
 *	Without libpq at build time (configure found no libpq) every call
 *	fails with "built without PostgreSQL support".
 * OWNERSHIP
 *	The backend handle owns its PGconn.
 * THREAD SAFETY
 *	One thread at a time (record.c's connection lock).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "record_int.h"

#ifdef HAVE_LIBPQ
#include <libpq-fe.h>

#define PG_CONNECT_TIMEOUT	"5"	/* seconds, unless the URL says */
#define PG_INIT_LOCK		"4711"	/* advisory lock of htgate-report init */

static const char SCHEMA_SQL[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	" version INTEGER PRIMARY KEY, applied BIGINT NOT NULL, note TEXT);"
	"CREATE TABLE IF NOT EXISTS decision ("
	" id BIGSERIAL PRIMARY KEY,"
	" time BIGINT NOT NULL,"
	" host TEXT, queue_id TEXT, stage TEXT, action TEXT NOT NULL,"
	" rules TEXT, sender TEXT, sasl_user TEXT, recipient TEXT,"
	" stream TEXT, environment TEXT, message_id TEXT, envid TEXT,"
	" size BIGINT, body_sha256 TEXT, reply TEXT, daemon TEXT,"
	" details TEXT);"
	/* version 4: a decision's details */
	"ALTER TABLE decision ADD COLUMN IF NOT EXISTS details TEXT;"
	RECORD_SQL_DECISION_INDEXES
	"CREATE TABLE IF NOT EXISTS claim ("
	" kind TEXT NOT NULL, id TEXT NOT NULL, time BIGINT NOT NULL,"
	" holder TEXT NOT NULL, queue_id TEXT, PRIMARY KEY (kind, id));"
	"CREATE INDEX IF NOT EXISTS claim_time ON claim(time);"
	"CREATE TABLE IF NOT EXISTS tally ("
	" name TEXT NOT NULL, labels TEXT NOT NULL, value BIGINT NOT NULL,"
	" PRIMARY KEY (name, labels));"
	"CREATE TABLE IF NOT EXISTS rate_event ("
	" id BIGSERIAL PRIMARY KEY, key TEXT NOT NULL, time BIGINT NOT NULL);"
	"CREATE INDEX IF NOT EXISTS rate_event_key ON rate_event(key, time);"
	"CREATE TABLE IF NOT EXISTS fetch_msg ("
	" account TEXT NOT NULL, uidl TEXT NOT NULL, state TEXT NOT NULL,"
	" time BIGINT NOT NULL, host TEXT, PRIMARY KEY (account, uidl));";

static const char INSERT_SQL[] =
	"INSERT INTO decision (" RECORD_COLUMNS ") VALUES"
	" ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18)";
static const char TALLY_ADD_SQL[] =
	"INSERT INTO tally (name, labels, value) VALUES ($1, $2, $3)"
	" ON CONFLICT (name, labels) DO UPDATE SET value = tally.value + excluded.value";
static const char CLAIM_PUT_SQL[] =
	"INSERT INTO claim (kind, id, time, holder, queue_id)"
	" VALUES ($1, $2, $3, $4, $5) ON CONFLICT (kind, id) DO UPDATE"
	" SET time = excluded.time, holder = excluded.holder,"
	" queue_id = excluded.queue_id"
	" WHERE claim.holder = excluded.holder OR claim.time < $6"
	" RETURNING 1";

/* The lookups record_explain() shows (parameters as literals). */
static const struct record_lookup pg_explained[] = {
	{"claim", "SELECT holder FROM claim WHERE kind = 'msgid' AND id = 'x'"
	 " AND time >= 0"},
	{"claimed", "SELECT holder FROM claim WHERE kind = 'msgid' AND id = 'x'"
	 " AND time >= 0"},
	{"show", "WITH hit AS (SELECT id, queue_id FROM decision"
	 " WHERE queue_id = 'x' OR message_id = 'x' OR message_id = '<x>'"
	 " OR envid = 'x') SELECT * FROM decision WHERE id IN"
	 " (SELECT id FROM hit UNION SELECT d.id FROM decision d JOIN hit h"
	 " ON d.queue_id = h.queue_id WHERE h.queue_id IS NOT NULL"
	 " AND h.queue_id NOT IN ('', 'NOQUEUE'))"},
	{"sender_of", "SELECT sender FROM decision WHERE (message_id = 'x'"
	 " OR envid = 'x') AND action IN ('accept','fix','warn')"
	 " ORDER BY time DESC, id DESC LIMIT 1"},
	{"purge", "SELECT id FROM decision WHERE time < 0 ORDER BY time"
	 " LIMIT 2000"},
	{"summary-since", "SELECT sender, action, count(*) FROM decision"
	 " WHERE time >= 4102444800 GROUP BY 1, 2"},
	{"rate", "SELECT count(*) FROM rate_event WHERE key = 'x'"},
};

struct pg {
	PGconn *conn;
	char   *target;
	int	in_tx;			/* between BEGIN and COMMIT/ROLLBACK */
	int	in_fetch;		/* a fetch claim's transaction is open */
	char	fetch_account[256];
	char	fetch_uidl[128];
};

/* pg_err - "what: server message" into err (first line) */
static void
pg_err(char *err, size_t errlen, const char *what, PGconn *conn,
       const PGresult *res)
{
	const char *m = res ? PQresultErrorMessage(res) : NULL;

	if (m == NULL || *m == 0)
		m = conn ? PQerrorMessage(conn) : "out of memory";
	if (err && errlen)
		snprintf(err, errlen, "%s: %.*s", what, (int) strcspn(m, "\n"), m);
}

/* pg_ready - the connection, reset if it broke; 0 or -1 */
static int
pg_ready(struct pg *p, char *err, size_t errlen)
{
	if (PQstatus(p->conn) == CONNECTION_OK)
		return (0);
	p->in_fetch = 0;
	p->in_tx = 0;
	PQreset(p->conn);
	if (PQstatus(p->conn) == CONNECTION_OK)
		return (0);
	pg_err(err, errlen, "record database", p->conn, NULL);
	return (-1);
}

/*
 * pg_exec - PQexecParams; outside a transaction a connection found gone
 * is opened again and the statement run once more (see DESCRIPTION)
 */
static PGresult *
pg_exec(struct pg *p, const char *sql, int n, const char *const *v)
{
	PGresult *r = PQexecParams(p->conn, sql, n, NULL, v, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && !p->in_tx
	    && PQstatus(p->conn) == CONNECTION_BAD) {
		PQclear(r);
		PQreset(p->conn);
		if (PQstatus(p->conn) == CONNECTION_OK)
			PQclear(PQexec(p->conn, "SET client_min_messages = warning"));
		r = PQexecParams(p->conn, sql, n, NULL, v, NULL, NULL, 0);
	}
	return (r);
}

/* pg_cmd - a statement without result rows; 0 or -1 */
static int
pg_cmd(struct pg *p, const char *sql, int n, const char *const *v,
       char *err, size_t errlen)
{
	PGresult *r = pg_exec(p, sql, n, v);
	ExecStatusType st = PQresultStatus(r);
	int	ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

	if (!ok)
		pg_err(err, errlen, "record database", p->conn, r);
	else if (strcmp(sql, "BEGIN") == 0)
		p->in_tx = 1;
	if (strcmp(sql, "COMMIT") == 0)	/* ends the transaction either way */
		p->in_tx = 0;
	PQclear(r);
	if (!ok && p->in_tx && PQstatus(p->conn) == CONNECTION_BAD)
		p->in_tx = 0;
	return (ok ? 0 : -1);
}

/* pg_query - a statement with rows; the result (caller clears) or NULL */
static PGresult *
pg_query(struct pg *p, const char *sql, int n, const char *const *v,
	 char *err, size_t errlen)
{
	PGresult *r = pg_exec(p, sql, n, v);

	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return (r);
	pg_err(err, errlen, "record database", p->conn, r);
	PQclear(r);
	return (NULL);
}

/* pg_rollback - end a failed transaction (the connection may be gone) */
static void
pg_rollback(struct pg *p)
{
	PQclear(PQexec(p->conn, "ROLLBACK"));
	p->in_tx = 0;
}

/* pg_version - newest schema_version row; 0 none; -1 error */
static int
pg_version(struct pg *p, char *err, size_t errlen)
{
	PGresult *r;
	int	v;

	r = PQexec(p->conn, "SELECT to_regclass('schema_version') IS NOT NULL");
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_err(err, errlen, "record database", p->conn, r);
		PQclear(r);
		return (-1);
	}
	v = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!v)
		return (0);
	if ((r = pg_query(p, "SELECT coalesce(max(version), 0) FROM schema_version",
			  0, NULL, err, errlen)) == NULL)
		return (-1);
	v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return (v);
}

/* pg_migrate - create the schema (htgate-report init), under a lock */
static int
pg_migrate(struct pg *p, int *from, char *err, size_t errlen)
{
	char	sql[256];
	int	v;

	if (pg_cmd(p, "BEGIN", 0, NULL, err, errlen) < 0)
		return (-1);
	if (pg_cmd(p, "SELECT pg_advisory_xact_lock(" PG_INIT_LOCK ")", 0,
		   NULL, err, errlen) < 0
	    || (v = pg_version(p, err, errlen)) < 0)
		goto fail;
	*from = v;
	if (v > RECORD_SCHEMA_VERSION) {
		snprintf(err, errlen, "schema version %d is newer than %d", v,
			 RECORD_SCHEMA_VERSION);
		goto fail;
	}
	if (v < RECORD_SCHEMA_VERSION) {
		PGresult *r = PQexec(p->conn, SCHEMA_SQL);

		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			pg_err(err, errlen, "record schema", p->conn, r);
			PQclear(r);
			goto fail;
		}
		PQclear(r);
		snprintf(sql, sizeof(sql), "INSERT INTO schema_version (version,"
			 " applied, note) VALUES (%d, extract(epoch from now())::bigint,"
			 " '%s') ON CONFLICT DO NOTHING", RECORD_SCHEMA_VERSION,
			 v == 0 ? "created" : "migrated");
		if (pg_cmd(p, sql, 0, NULL, err, errlen) < 0)
			goto fail;
	}
	return (pg_cmd(p, "COMMIT", 0, NULL, err, errlen));
fail:
	pg_rollback(p);
	return (-1);
}

/* pg_close - disconnect */
static void
pg_close(void *be)
{
	struct pg *p = be;

	if (p == NULL)
		return;
	PQfinish(p->conn);
	g_free(p->target);
	g_free(p);
}

/* pg_open - connect; migrate (init) or check the schema version */
static void *
pg_open(const char *target, int migrate, int *from, int *to, char *err,
	size_t errlen)
{
	const char *keys[] = {"dbname", "connect_timeout",
		"application_name", NULL};
	const char *vals[] = {target, PG_CONNECT_TIMEOUT, "htgate", NULL};
	struct pg *p = g_new0(struct pg, 1);
	int	v;

	p->target = g_strdup(target);
	/* expand_dbname: the URL's own settings win over these defaults */
	p->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(p->conn) != CONNECTION_OK) {
		pg_err(err, errlen, "record database", p->conn, NULL);
		goto fail;
	}
	PQclear(PQexec(p->conn, "SET client_min_messages = warning"));
	if (migrate) {
		if (pg_migrate(p, from, err, errlen) < 0)
			goto fail;
	} else {
		if ((v = pg_version(p, err, errlen)) < 0)
			goto fail;
		*from = v;
		if (v != RECORD_SCHEMA_VERSION) {
			snprintf(err, errlen, "record database: schema version "
				 "%d, want %d: run htgate-report init", v,
				 RECORD_SCHEMA_VERSION);
			goto fail;
		}
	}
	*to = RECORD_SCHEMA_VERSION;
	return (p);
fail:
	pg_close(p);
	return (NULL);
}

/* lld - a long long as text into buf */
static const char *
lld(char *buf, size_t buflen, long long v)
{
	snprintf(buf, buflen, "%lld", v);
	return (buf);
}

/* pg_write - rows and tallies in one transaction */
static int
pg_write(void *be, const struct record_entry *const *e, size_t n,
	 const struct record_tally *t, size_t nt, char *err, size_t errlen)
{
	struct pg *p = be;
	const char *v[RECORD_NCOLUMNS], *text[RECORD_NTEXT];
	char	tbuf[32], sbuf[32], dbuf[32];
	size_t	i;
	int	j;

	if (n == 0 && nt == 0)
		return (0);
	if (pg_ready(p, err, errlen) < 0
	    || pg_cmd(p, "BEGIN", 0, NULL, err, errlen) < 0)
		return (-1);
	for (i = 0; i < n; i++) {
		record_entry_text(e[i], text);
		v[0] = lld(tbuf, sizeof(tbuf), e[i]->time);
		for (j = 0; j < 12; j++)
			v[j + 1] = text[j];
		v[13] = e[i]->size >= 0 ? lld(sbuf, sizeof(sbuf), e[i]->size) : NULL;
		for (j = 12; j < RECORD_NTEXT; j++)
			v[j + 2] = text[j];
		if (pg_cmd(p, INSERT_SQL, RECORD_NCOLUMNS, v, err, errlen) < 0)
			goto fail;
	}
	for (i = 0; i < nt; i++) {
		const char *tv[3] = {t[i].name, t[i].labels,
			lld(dbuf, sizeof(dbuf), t[i].delta)};

		if (pg_cmd(p, TALLY_ADD_SQL, 3, tv, err, errlen) < 0)
			goto fail;
	}
	if (pg_cmd(p, "COMMIT", 0, NULL, err, errlen) == 0)
		return (0);
fail:
	pg_rollback(p);
	return (-1);
}

/* pg_claimed - is (kind, id) held since the time? */
static int
pg_claimed(void *be, const char *kind, const char *id, long long since)
{
	struct pg *p = be;
	char	sbuf[32], err[256];
	const char *v[3] = {kind, id, lld(sbuf, sizeof(sbuf), since)};
	PGresult *r;
	int	found;

	if (pg_ready(p, err, sizeof(err)) < 0
	    || (r = pg_query(p, RECORD_SQL_CLAIM_GET, 3, v, err, sizeof(err))) == NULL)
		return (-1);
	found = PQntuples(r) > 0;
	PQclear(r);
	return (found);
}

/* pg_claim - every identifier or none; the primary key decides races */
static int
pg_claim(void *be, const char *const *kinds, const char *const *ids,
	 const int *bits, int n, const struct record_claim *c, long long now,
	 char *err, size_t errlen)
{
	struct pg *p = be;
	char	nbuf[32], sbuf[32];
	PGresult *r;
	int	i, dup = 0;

	if (pg_ready(p, err, errlen) < 0
	    || pg_cmd(p, "BEGIN", 0, NULL, err, errlen) < 0)
		return (-1);
	for (i = 0; i < n; i++) {
		const char *v[6] = {kinds[i], ids[i], lld(nbuf, sizeof(nbuf), now),
			c->holder, c->queue_id,
			lld(sbuf, sizeof(sbuf), now - c->window)};

		if ((r = pg_query(p, CLAIM_PUT_SQL, 6, v, err, errlen)) == NULL) {
			pg_rollback(p);
			return (-1);
		}
		if (PQntuples(r) == 0)	/* held by another holder */
			dup |= bits[i];
		PQclear(r);
	}
	if (dup) {
		pg_rollback(p);
		return (dup);
	}
	return (pg_cmd(p, "COMMIT", 0, NULL, err, errlen) < 0 ? -1 : 0);
}

/* pg_sender_of - sender of the delivered message with this ID */
static int
pg_sender_of(void *be, const char *id, char *sender, size_t senderlen)
{
	struct pg *p = be;
	char	err[256];
	const char *v[1] = {id};
	PGresult *r;
	int	found = 0;

	if (pg_ready(p, err, sizeof(err)) < 0
	    || (r = pg_query(p, RECORD_SQL_SENDER, 1, v, err, sizeof(err))) == NULL)
		return (-1);
	if (PQntuples(r) > 0 && (size_t) snprintf(sender, senderlen, "%s",
						  PQgetvalue(r, 0, 0)) < senderlen)
		found = 1;
	PQclear(r);
	return (found);
}

/* pg_purge - one batch of old rows of one table */
static long
pg_purge(void *be, const char *table, long long cutoff, int limit, char *err,
	 size_t errlen)
{
	struct pg *p = be;
	char	cbuf[32], lbuf[32];
	const char *v[2] = {lld(cbuf, sizeof(cbuf), strcmp(table, "rate_event")
				== 0 ? cutoff * 1000 : cutoff),
		lld(lbuf, sizeof(lbuf), limit)};
	const char *sql = strcmp(table, "decision") == 0 ? RECORD_SQL_PURGE :
		strcmp(table, "claim") == 0 ?
		"DELETE FROM claim WHERE (kind, id) IN (SELECT kind, id FROM claim"
		" WHERE time < $1 LIMIT $2)" :
		"DELETE FROM rate_event WHERE id IN (SELECT id FROM rate_event"
		" WHERE time < $1 LIMIT $2)";
	PGresult *r;
	long	n;

	if (pg_ready(p, err, errlen) < 0)
		return (-1);
	r = PQexecParams(p->conn, sql, 2, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		pg_err(err, errlen, "record purge", p->conn, r);
		PQclear(r);
		return (-1);
	}
	n = atol(PQcmdTuples(r));
	PQclear(r);
	return (n);
}

/* pg_summary - counts grouped by one column ("day": time / 86400) */
static int
pg_summary(void *be, const char *by, long long since, record_count_fn fn,
	   void *arg, char *err, size_t errlen)
{
	struct pg *p = be;
	char	sbuf[32], *sql;
	const char *v[1] = {lld(sbuf, sizeof(sbuf), since)};
	PGresult *r;
	int	i;

	if (pg_ready(p, err, errlen) < 0)
		return (-1);
	sql = g_strdup_printf("SELECT %s, action, count(*) FROM decision"
			      " WHERE time >= $1 GROUP BY 1, 2",
			      strcmp(by, "day") == 0 ? "time / 86400" : by);
	r = pg_query(p, sql, 1, v, err, errlen);
	g_free(sql);
	if (r == NULL)
		return (-1);
	for (i = 0; i < PQntuples(r); i++)
		fn(arg, PQgetisnull(r, i, 0) ? NULL : PQgetvalue(r, i, 0),
		   PQgetvalue(r, i, 1), atoll(PQgetvalue(r, i, 2)));
	PQclear(r);
	return (0);
}

/* val - a column or NULL */
static const char *
val(const PGresult *r, int row, int col)
{
	return (PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col));
}

/* pg_show - the decisions of one message, oldest first */
static int
pg_show(void *be, const char *id, record_show_fn fn, void *arg, char *err,
	size_t errlen)
{
	struct pg *p = be;
	const char *v[1] = {id};
	struct record_entry e;
	PGresult *r;
	int	i, n;

	if (pg_ready(p, err, errlen) < 0
	    || (r = pg_query(p, RECORD_SQL_SHOW, 1, v, err, errlen)) == NULL)
		return (-1);
	n = PQntuples(r);
	for (i = 0; i < n; i++) {
		memset(&e, 0, sizeof(e));
		e.time = atoll(PQgetvalue(r, i, 0));
		e.host = val(r, i, 1), e.queue_id = val(r, i, 2);
		e.stage = val(r, i, 3), e.action = val(r, i, 4);
		e.rules = val(r, i, 5), e.sender = val(r, i, 6);
		e.sasl_user = val(r, i, 7), e.recipient = val(r, i, 8);
		e.stream = val(r, i, 9), e.environment = val(r, i, 10);
		e.message_id = val(r, i, 11), e.envid = val(r, i, 12);
		e.size = PQgetisnull(r, i, 13) ? -1 : atoll(PQgetvalue(r, i, 13));
		e.body_sha256 = val(r, i, 14), e.reply = val(r, i, 15);
		e.daemon = val(r, i, 16), e.details = val(r, i, 17);
		fn(arg, &e);
	}
	PQclear(r);
	return (n);
}

/* pg_info - version, rows, time span, database size */
static int
pg_info(void *be, struct record_info *info, char *err, size_t errlen)
{
	struct pg *p = be;
	PGresult *r;

	if (pg_ready(p, err, errlen) < 0
	    || (info->version = pg_version(p, err, errlen)) < 0
	    || (r = pg_query(p, "SELECT (SELECT count(*) FROM decision),"
			     " (SELECT count(*) FROM claim),"
			     " (SELECT coalesce(min(time), 0) FROM decision),"
			     " (SELECT coalesce(max(time), 0) FROM decision),"
			     " pg_database_size(current_database())",
			     0, NULL, err, errlen)) == NULL)
		return (-1);
	info->decisions = atoll(PQgetvalue(r, 0, 0));
	info->claims = atoll(PQgetvalue(r, 0, 1));
	info->oldest = atoll(PQgetvalue(r, 0, 2));
	info->newest = atoll(PQgetvalue(r, 0, 3));
	info->bytes = atoll(PQgetvalue(r, 0, 4));
	PQclear(r);
	return (0);
}

/* pg_tallies - every tally, sorted */
static int
pg_tallies(void *be, record_tally_fn fn, void *arg, char *err, size_t errlen)
{
	struct pg *p = be;
	PGresult *r;
	int	i;

	if (pg_ready(p, err, errlen) < 0
	    || (r = pg_query(p, "SELECT name, labels, value FROM tally"
			     " ORDER BY name COLLATE \"C\", labels COLLATE \"C\"",
			     0, NULL, err, errlen)) == NULL)
		return (-1);
	for (i = 0; i < PQntuples(r); i++)
		fn(arg, PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
		   atoll(PQgetvalue(r, i, 2)));
	PQclear(r);
	return (0);
}

/* pg_tally_set - one gauge */
static int
pg_tally_set(void *be, const char *name, const char *labels, long long value,
	     char *err, size_t errlen)
{
	struct pg *p = be;
	char	vbuf[32];
	const char *v[3] = {name, labels, lld(vbuf, sizeof(vbuf), value)};

	if (pg_ready(p, err, errlen) < 0)
		return (-1);
	return (pg_cmd(p, RECORD_SQL_TALLY_SET, 3, v, err, errlen));
}

/* pg_rate_take - one window step under an advisory lock of the key */
static int
pg_rate_take(void *be, const char *key, int limit, long long now_ms,
	     long long window_ms, int count_over, char *err, size_t errlen)
{
	struct pg *p = be;
	char	nbuf[32], cbuf[32];
	const char *k[1] = {key};
	const char *drop[2] = {key, lld(cbuf, sizeof(cbuf), now_ms - window_ms)};
	const char *add[2] = {key, lld(nbuf, sizeof(nbuf), now_ms)};
	PGresult *r;
	long long n;
	int	over;

	if (pg_ready(p, err, errlen) < 0
	    || pg_cmd(p, "BEGIN", 0, NULL, err, errlen) < 0)
		return (-1);
	if (pg_cmd(p, "SET LOCAL synchronous_commit = off", 0, NULL, err,
		   errlen) < 0
	    || pg_cmd(p, "SELECT pg_advisory_xact_lock(hashtext('htgate-rate:' || $1))",
		      1, k, err, errlen) < 0
	    || pg_cmd(p, "DELETE FROM rate_event WHERE key = $1 AND time <= $2",
		      2, drop, err, errlen) < 0
	    || (r = pg_query(p, RECORD_SQL_RATE_COUNT, 1, k, err, errlen)) == NULL)
		goto fail;
	n = atoll(PQgetvalue(r, 0, 0));
	PQclear(r);
	over = n >= limit;
	if ((!over || count_over)
	    && pg_cmd(p, "INSERT INTO rate_event (key, time) VALUES ($1, $2)",
		      2, add, err, errlen) < 0)
		goto fail;
	if (pg_cmd(p, "COMMIT", 0, NULL, err, errlen) < 0)
		return (-1);
	return (over);
fail:
	pg_rollback(p);
	return (-1);
}

/*
 * pg_fetch_claim - the row of one answer (committed at once, so that it
 * exists for everyone), then in a transaction that stays open: the row
 * locked, or skipped when another htgate-fetch holds it
 */
static int
pg_fetch_claim(void *be, const char *account, const char *uidl,
	       long long now, char *err, size_t errlen)
{
	struct pg *p = be;
	char	nbuf[32];
	const char *ins[4] = {account, uidl, lld(nbuf, sizeof(nbuf), now),
		g_get_host_name()};
	const char *key[2] = {account, uidl};
	PGresult *r;
	int	rc;

	if (p->in_fetch) {
		snprintf(err, errlen, "fetch claim: one is open already");
		return (-1);
	}
	if (pg_ready(p, err, errlen) < 0
	    || pg_cmd(p, "INSERT INTO fetch_msg (account, uidl, state, time, host)"
		      " VALUES ($1, $2, 'new', $3, $4) ON CONFLICT DO NOTHING",
		      4, ins, err, errlen) < 0
	    || pg_cmd(p, "BEGIN", 0, NULL, err, errlen) < 0)
		return (-1);
	if ((r = pg_query(p, "SELECT state FROM fetch_msg WHERE account = $1"
			  " AND uidl = $2 FOR UPDATE SKIP LOCKED", 2, key, err,
			  errlen)) == NULL) {
		pg_rollback(p);
		return (-1);
	}
	if (PQntuples(r) == 0)
		rc = RECORD_FETCH_BUSY;
	else if (strcmp(PQgetvalue(r, 0, 0), "delivered") == 0)
		rc = RECORD_FETCH_DONE;
	else
		rc = RECORD_FETCH_NEW;
	PQclear(r);
	if (rc != RECORD_FETCH_NEW) {
		pg_rollback(p);
		return (rc);
	}
	p->in_fetch = 1;
	g_strlcpy(p->fetch_account, account, sizeof(p->fetch_account));
	g_strlcpy(p->fetch_uidl, uidl, sizeof(p->fetch_uidl));
	return (rc);
}

/* pg_fetch_done - commit the claimed answer as handed over, or release */
static int
pg_fetch_done(void *be, int delivered, long long now, char *err,
	      size_t errlen)
{
	struct pg *p = be;
	char	nbuf[32];
	const char *v[4] = {p->fetch_account, p->fetch_uidl,
		lld(nbuf, sizeof(nbuf), now), g_get_host_name()};

	if (!p->in_fetch)
		return (0);
	p->in_fetch = 0;
	if (!delivered) {
		pg_rollback(p);
		return (0);
	}
	if (pg_cmd(p, "UPDATE fetch_msg SET state = 'delivered', time = $3,"
		   " host = $4 WHERE account = $1 AND uidl = $2", 4, v, err,
		   errlen) < 0
	    || pg_cmd(p, "COMMIT", 0, NULL, err, errlen) < 0) {
		pg_rollback(p);
		return (-1);
	}
	return (0);
}

/* pg_array - a text[] literal of strings */
static char *
pg_array(const char *const *s, size_t n)
{
	GString *a = g_string_new("{");
	const char *c;
	size_t	i;

	for (i = 0; i < n; i++) {
		g_string_append(a, i ? ",\"" : "\"");
		for (c = s[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				g_string_append_c(a, '\\');
			g_string_append_c(a, *c);
		}
		g_string_append_c(a, '"');
	}
	g_string_append_c(a, '}');
	return (g_string_free(a, FALSE));
}

/* pg_fetch_retain - forget old answers the server no longer lists */
static int
pg_fetch_retain(void *be, const char *account, const char *const *uidls,
		size_t n, long long before, char *err, size_t errlen)
{
	struct pg *p = be;
	char	bbuf[32], *arr = pg_array(uidls, n);
	const char *v[3] = {account, lld(bbuf, sizeof(bbuf), before), arr};
	int	rc;

	rc = pg_ready(p, err, errlen) < 0 ? -1 :
		pg_cmd(p, "DELETE FROM fetch_msg WHERE account = $1 AND time < $2"
		       " AND NOT (uidl = ANY ($3::text[]))", 3, v, err, errlen);
	g_free(arr);
	return (rc);
}

/* pg_explain - EXPLAIN of one lookup, sequential scans discouraged so
 * that the plan shows whether an index can serve it at all */
static int
pg_explain(void *be, const char *query, char *plan, size_t planlen,
	   char *err, size_t errlen)
{
	struct pg *p = be;
	PGresult *r;
	char   *sql;
	int	j;

	if ((sql = record_explain_sql(pg_explained, G_N_ELEMENTS(pg_explained),
				      "EXPLAIN", query, err, errlen)) == NULL)
		return (-1);
	if (pg_ready(p, err, errlen) < 0
	    || pg_cmd(p, "SET enable_seqscan = off", 0, NULL, err, errlen) < 0) {
		g_free(sql);
		return (-1);
	}
	r = pg_query(p, sql, 0, NULL, err, errlen);
	g_free(sql);
	PQclear(PQexec(p->conn, "RESET enable_seqscan"));
	if (r == NULL)
		return (-1);
	plan[0] = 0;
	for (j = 0; j < PQntuples(r); j++) {
		if (plan[0])
			g_strlcat(plan, "; ", planlen);
		g_strlcat(plan, g_strstrip(PQgetvalue(r, j, 0)), planlen);
	}
	PQclear(r);
	return (0);
}

/* pg_sql - one statement (tests) */
static int
pg_sql(void *be, const char *sql, char *err, size_t errlen)
{
	struct pg *p = be;
	PGresult *r;
	int	ok;

	if (pg_ready(p, err, errlen) < 0)
		return (-1);
	r = PQexec(p->conn, sql);
	ok = PQresultStatus(r) == PGRES_COMMAND_OK
		|| PQresultStatus(r) == PGRES_TUPLES_OK;
	if (!ok)
		pg_err(err, errlen, "sql", p->conn, r);
	PQclear(r);
	return (ok ? 0 : -1);
}

const struct record_ops record_pg_ops = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.write = pg_write,
	.claim = pg_claim,
	.claimed = pg_claimed,
	.sender_of = pg_sender_of,
	.purge = pg_purge,
	.summary = pg_summary,
	.show = pg_show,
	.info = pg_info,
	.tallies = pg_tallies,
	.tally_set = pg_tally_set,
	.rate_take = pg_rate_take,
	.fetch_claim = pg_fetch_claim,
	.fetch_done = pg_fetch_done,
	.fetch_retain = pg_fetch_retain,
	.explain = pg_explain,
	.sql = pg_sql,
};

#else /* !HAVE_LIBPQ */

/* nopg_open - this build has no libpq */
static void *
nopg_open(const char *target, int migrate, int *from, int *to, char *err,
	  size_t errlen)
{
	(void) target, (void) migrate, (void) from, (void) to;
	snprintf(err, errlen, "%s: htgate was built without PostgreSQL "
		 "support (configure found no libpq)", "record database");
	return (NULL);
}

const struct record_ops record_pg_ops = {
	.name = "postgresql",
	.open = nopg_open,
};

#endif /* HAVE_LIBPQ */
