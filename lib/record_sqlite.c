/*
 * NAME
 *	record_sqlite - the decision record in an SQLite file (the default)
 * SYNOPSIS
 *	#include "record_int.h"
 *
 *	extern const struct record_ops record_sqlite_ops;
 * DESCRIPTION
 *	See record.h and record_int.h.  The file is in WAL mode with
 *	synchronous=FULL: a commit is on disk (the WAL fsynced) before
 *	record_write() returns, and group commit (record.c) shares one
 *	fsync among the rows of a batch.  The rate windows, which need no
 *	durability, switch the connection to synchronous=NORMAL for their
 *	own short transaction.  busy_timeout lets the milter's threads, the
 *	policy daemon and htgate-report use the file at the same time.
 *
 *	The schema (SCHEMA_SQL) is versioned in table schema_version.  A
 *	file of an older release has no such table: its version is PRAGMA
 *	user_version (1: decisions only, 2: claims), carried into
 *	schema_version by the migration, which also sets user_version to
 *	RECORD_SCHEMA_VERSION so that an older release refuses the file.
 *	A version 1 file gets its delivered identifiers claimed (holder
 *	"v1"); a file older than version 4 gets the column details.  Creation and migration run in one IMMEDIATE transaction,
 *	so concurrent openers agree.
 *
 *	Indexes serve every lookup without a full scan of the table
 *	(record_explain(), tests/report/run.sh): decision(time, action) for
 *	purge, --since and the summary by day; (sender|stream|environment|
 *	rules, action, time) cover the other summaries, so a summary reads
 *	an index, not the rows; queue_id, message_id, envid (show,
 *	sender_of); claim's primary key (kind, id); rate_event(key, time).
 * OWNERSHIP
 *	The backend handle owns its connection and prepared statements.
 * THREAD SAFETY
 *	One thread at a time (record.c's connection lock); the connection
 *	is opened with SQLITE_OPEN_FULLMUTEX as a second line of defence.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <glib.h>
#include <sqlite3.h>

#include "record_int.h"

#define SQ_BUSY_MS	5000	/* wait this long for another writer */
#define SQ_RETRY_NS	20000000L	/* 20 ms between schema retries */

static const char SCHEMA_SQL[] =
	"CREATE TABLE IF NOT EXISTS decision ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" host TEXT, queue_id TEXT, stage TEXT, action TEXT NOT NULL,"
	" rules TEXT, sender TEXT, sasl_user TEXT, recipient TEXT,"
	" stream TEXT, environment TEXT, message_id TEXT, envid TEXT,"
	" size INTEGER, body_sha256 TEXT, reply TEXT, daemon TEXT,"
	" details TEXT);"
	RECORD_SQL_DECISION_INDEXES
	/* version 2: identifiers used towards HTG, claimed at egress */
	"CREATE TABLE IF NOT EXISTS claim ("
	" kind TEXT NOT NULL, id TEXT NOT NULL, time INTEGER NOT NULL,"
	" holder TEXT NOT NULL, queue_id TEXT,"
	" PRIMARY KEY (kind, id)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS claim_time ON claim(time);"
	/* version 3: one version table, counters, rate windows, fetch */
	"CREATE TABLE IF NOT EXISTS schema_version ("
	" version INTEGER PRIMARY KEY, applied INTEGER NOT NULL, note TEXT);"
	"CREATE TABLE IF NOT EXISTS tally ("
	" name TEXT NOT NULL, labels TEXT NOT NULL, value INTEGER NOT NULL,"
	" PRIMARY KEY (name, labels)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS rate_event ("
	" id INTEGER PRIMARY KEY, key TEXT NOT NULL, time INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS rate_event_key ON rate_event(key, time);"
	"CREATE TABLE IF NOT EXISTS fetch_msg ("
	" account TEXT NOT NULL, uidl TEXT NOT NULL, state TEXT NOT NULL,"
	" time INTEGER NOT NULL, host TEXT,"
	" PRIMARY KEY (account, uidl)) WITHOUT ROWID;";

/* From version 1: what was delivered counts as claimed (holder "v1"). */
static const char MIGRATE_1_SQL[] =
	"INSERT OR IGNORE INTO claim (kind, id, time, holder, queue_id)"
	" SELECT 'msgid', message_id, max(time), 'v1', queue_id FROM decision"
	" WHERE action IN ('accept','fix','warn') AND message_id IS NOT NULL"
	" AND message_id <> '' GROUP BY message_id;"
	"INSERT OR IGNORE INTO claim (kind, id, time, holder, queue_id)"
	" SELECT 'envid', envid, max(time), 'v1', queue_id FROM decision"
	" WHERE action IN ('accept','fix','warn') AND envid IS NOT NULL"
	" AND envid <> '' GROUP BY envid;";

/* To version 4: a decision's details (findings, what a repair dropped). */
static const char MIGRATE_4_SQL[] =
	"ALTER TABLE decision ADD COLUMN details TEXT;";

static const char INSERT_SQL[] =
	"INSERT INTO decision (" RECORD_COLUMNS ")"
	" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
static const char TALLY_ADD_SQL[] =
	"INSERT INTO tally (name, labels, value) VALUES (?,?,?)"
	" ON CONFLICT (name, labels) DO UPDATE SET value = value + excluded.value";
static const char CLAIM_PUT_SQL[] =
	"INSERT INTO claim (kind, id, time, holder, queue_id) VALUES (?,?,?,?,?)"
	" ON CONFLICT (kind, id) DO UPDATE SET time = excluded.time,"
	" holder = excluded.holder, queue_id = excluded.queue_id";
static const char RATE_DROP_SQL[] =
	"DELETE FROM rate_event WHERE key = ?1 AND time <= ?2";
static const char RATE_ADD_SQL[] =
	"INSERT INTO rate_event (key, time) VALUES (?1, ?2)";

/* The lookups record_explain() shows, with their statements. */
static const struct record_lookup sq_explained[] = {
	{"claim", RECORD_SQL_CLAIM_GET},
	{"claimed", RECORD_SQL_CLAIM_GET},
	{"show", RECORD_SQL_SHOW},
	{"sender_of", RECORD_SQL_SENDER},
	{"purge", RECORD_SQL_PURGE},
	{"summary-since", "SELECT sender, action, count(*) FROM decision"
	 " WHERE time >= ?1 GROUP BY 1, 2"},
	{"rate", RECORD_SQL_RATE_COUNT},
};

struct sq {
	sqlite3 *db;
	char   *path;
	sqlite3_stmt *insert, *tally_add, *claim_get, *claim_put, *sender_of;
};

/* sq_err - "what: sqlite message" into err */
static void
sq_err(char *err, size_t errlen, const char *what, sqlite3 *db)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what,
			 db ? sqlite3_errmsg(db) : "out of memory");
}

/* sq_version - schema_version's newest row, else PRAGMA user_version */
static int
sq_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int	v = -1;

	if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version",
			       -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		return (v);
	}
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL)
	    != SQLITE_OK)
		return (-1);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return (v);
}

/* sq_migrate_sql - what takes a file from version to the current one */
static char *
sq_migrate_sql(int version)
{
	GString *s = g_string_new(SCHEMA_SQL);
	long long now = (long long) time(NULL);
	int	v;

	if (version == 1)
		g_string_append(s, MIGRATE_1_SQL);
	if (version >= 1 && version < 4)
		g_string_append(s, MIGRATE_4_SQL);
	for (v = version > 0 ? version : RECORD_SCHEMA_VERSION;
	     v <= RECORD_SCHEMA_VERSION; v++)
		g_string_append_printf(s, "INSERT OR IGNORE INTO schema_version"
			" (version, applied, note) VALUES (%d, %lld, '%s');",
			v, now, v < RECORD_SCHEMA_VERSION ?
			"from PRAGMA user_version" : version == 0 ? "created" :
			"migrated");
	g_string_append(s, "PRAGMA user_version = "
			G_STRINGIFY(RECORD_SCHEMA_VERSION) ";");
	return (g_string_free(s, FALSE));
}

/* sq_schema_try - pragmas; create, migrate or check the schema once */
static int
sq_schema_try(sqlite3 *db, const char *path, int migrate, int *from,
	      char *err, size_t errlen)
{
	int	version, rc;
	char   *sql;

	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	if ((version = sq_version(db)) < 0)
		goto dberr;
	*from = version;
	if (version > RECORD_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %d is newer than %d",
			 path, version, RECORD_SCHEMA_VERSION);
		return (SQLITE_ERROR);
	}
	if (version == RECORD_SCHEMA_VERSION)
		return (SQLITE_OK);
	if (!migrate) {
		snprintf(err, errlen, "%s: schema version %d, want %d: run "
			 "htgate-report init", path, version,
			 RECORD_SCHEMA_VERSION);
		return (SQLITE_ERROR);
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	/* Another opener may have migrated while we waited for the lock. */
	if ((version = sq_version(db)) == RECORD_SCHEMA_VERSION) {
		sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
		return (SQLITE_OK);
	}
	sql = sq_migrate_sql(version);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK
	    || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sqlite3_errcode(db);
		sq_err(err, errlen, path, db);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		g_free(sql);
		return (rc);
	}
	g_free(sql);
	return (SQLITE_OK);
dberr:
	sq_err(err, errlen, path, db);
	return (sqlite3_errcode(db));
}

/*
 * sq_schema - sq_schema_try, retried while another process holds the
 * lock: switching a new file to WAL does not wait in busy_timeout.
 */
static int
sq_schema(sqlite3 *db, const char *path, int migrate, int *from, char *err,
	  size_t errlen)
{
	struct timespec ts = {0, SQ_RETRY_NS};
	int	i, rc = SQLITE_ERROR;

	sqlite3_busy_timeout(db, SQ_BUSY_MS);
	for (i = 0; i < SQ_BUSY_MS / (SQ_RETRY_NS / 1000000); i++) {
		rc = sq_schema_try(db, path, migrate, from, err, errlen);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		nanosleep(&ts, NULL);
	}
	if (rc == SQLITE_OK && err && errlen)
		err[0] = 0;
	return (rc == SQLITE_OK ? 0 : -1);
}

/* sq_close - finalize statements and close */
static void
sq_close(void *be)
{
	struct sq *q = be;

	if (q == NULL)
		return;
	sqlite3_finalize(q->insert);
	sqlite3_finalize(q->tally_add);
	sqlite3_finalize(q->claim_get);
	sqlite3_finalize(q->claim_put);
	sqlite3_finalize(q->sender_of);
	sqlite3_close(q->db);
	g_free(q->path);
	g_free(q);
}

/* sq_open - open or create the file; prepare the frequent statements */
static void *
sq_open(const char *path, int migrate, int *from, int *to, char *err,
	size_t errlen)
{
	struct sq *q = g_new0(struct sq, 1);

	q->path = g_strdup(path);
	if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE
			    | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK
	    || sq_schema(q->db, path, migrate, from, err, errlen) < 0)
		goto fail;
	*to = RECORD_SCHEMA_VERSION;
	if (sqlite3_prepare_v2(q->db, INSERT_SQL, -1, &q->insert, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(q->db, TALLY_ADD_SQL, -1, &q->tally_add, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(q->db, RECORD_SQL_CLAIM_GET, -1, &q->claim_get, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(q->db, CLAIM_PUT_SQL, -1, &q->claim_put, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(q->db, RECORD_SQL_SENDER, -1, &q->sender_of, NULL) != SQLITE_OK) {
		sq_err(err, errlen, path, q->db);
		goto fail;
	}
	return (q);
fail:
	if (q->db && err && errlen && err[0] == 0)
		sq_err(err, errlen, path, q->db);
	sq_close(q);
	return (NULL);
}

/* bind_text - bind a string or NULL */
static int
bind_text(sqlite3_stmt *st, int col, const char *s)
{
	return (s ? sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT)
		: sqlite3_bind_null(st, col));
}

/* sq_step_done - run a statement that returns no row, then reset it */
static int
sq_step_done(sqlite3_stmt *st)
{
	int	rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* sq_insert - one decision row (inside the caller's transaction) */
static int
sq_insert(struct sq *q, const struct record_entry *e)
{
	sqlite3_stmt *st = q->insert;
	const char *text[RECORD_NTEXT];
	int	rc, i;

	record_entry_text(e, text);
	rc = sqlite3_bind_int64(st, 1, e->time);
	for (i = 0; i < 12 && rc == SQLITE_OK; i++)	/* host .. envid */
		rc = bind_text(st, i + 2, text[i]);
	if (rc == SQLITE_OK)
		rc = e->size >= 0 ? sqlite3_bind_int64(st, 14, e->size)
			: sqlite3_bind_null(st, 14);
	for (i = 12; i < RECORD_NTEXT && rc == SQLITE_OK; i++)	/* sha256 .. details */
		rc = bind_text(st, i + 3, text[i]);
	if (rc != SQLITE_OK) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return (-1);
	}
	return (sq_step_done(st));
}

/* sq_write - rows and tallies in one durable transaction */
static int
sq_write(void *be, const struct record_entry *const *e, size_t n,
	 const struct record_tally *t, size_t nt, char *err, size_t errlen)
{
	struct sq *q = be;
	size_t	i;

	if (n == 0 && nt == 0)
		return (0);
	if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		sq_err(err, errlen, "record write", q->db);
		return (-1);
	}
	for (i = 0; i < n; i++)
		if (sq_insert(q, e[i]) < 0)
			goto fail;
	for (i = 0; i < nt; i++) {
		bind_text(q->tally_add, 1, t[i].name);
		bind_text(q->tally_add, 2, t[i].labels);
		sqlite3_bind_int64(q->tally_add, 3, t[i].delta);
		if (sq_step_done(q->tally_add) < 0)
			goto fail;
	}
	if (sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		return (0);
fail:
	sq_err(err, errlen, "record write", q->db);
	sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	return (-1);
}

/* claim_holder - holder of a live claim into buf: 1, 0 none, -1 error */
static int
claim_holder(struct sq *q, const char *kind, const char *id, long long since,
	     char *buf, size_t buflen)
{
	sqlite3_stmt *st = q->claim_get;
	const unsigned char *v;
	int	rc;

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, since);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && buf != NULL) {
		v = sqlite3_column_text(st, 0);
		g_strlcpy(buf, v ? (const char *) v : "", buflen);
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1);
}

/* sq_claimed - is (kind, id) held since the time? */
static int
sq_claimed(void *be, const char *kind, const char *id, long long since)
{
	return (claim_holder(be, kind, id, since, NULL, 0));
}

/* sq_claim - every identifier or none, in one IMMEDIATE transaction */
static int
sq_claim(void *be, const char *const *kinds, const char *const *ids,
	 const int *bits, int n, const struct record_claim *c, long long now,
	 char *err, size_t errlen)
{
	struct sq *q = be;
	char	holder[RECORD_HOLDER_MAX];
	int	i, r, dup = 0;

	/* IMMEDIATE: the write lock first, so check and insert are one step
	 * for every thread and process sharing the file. */
	if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		sq_err(err, errlen, "record claim", q->db);
		return (-1);
	}
	for (i = 0; i < n && dup >= 0; i++) {
		r = claim_holder(q, kinds[i], ids[i], now - c->window, holder,
				 sizeof(holder));
		if (r < 0)
			dup = -1;
		else if (r == 1 && strcmp(holder, c->holder) != 0)
			dup |= bits[i];
	}
	for (i = 0; i < n && dup == 0; i++) {
		sqlite3_bind_text(q->claim_put, 1, kinds[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(q->claim_put, 2, ids[i], -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(q->claim_put, 3, now);
		sqlite3_bind_text(q->claim_put, 4, c->holder, -1, SQLITE_TRANSIENT);
		bind_text(q->claim_put, 5, c->queue_id);
		if (sq_step_done(q->claim_put) < 0)
			dup = -1;
	}
	if (dup < 0)
		sq_err(err, errlen, "record claim", q->db);
	if (sqlite3_exec(q->db, dup == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL,
			 NULL) != SQLITE_OK && dup == 0) {
		sq_err(err, errlen, "record claim commit", q->db);
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		dup = -1;
	}
	return (dup);
}

/* sq_sender_of - sender of the delivered message with this ID */
static int
sq_sender_of(void *be, const char *id, char *sender, size_t senderlen)
{
	struct sq *q = be;
	const unsigned char *v;
	int	rc, found = 0;

	sqlite3_bind_text(q->sender_of, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(q->sender_of);
	if (rc == SQLITE_ROW && (v = sqlite3_column_text(q->sender_of, 0)) != NULL
	    && (size_t) snprintf(sender, senderlen, "%s", (const char *) v) < senderlen)
		found = 1;
	sqlite3_reset(q->sender_of);
	sqlite3_clear_bindings(q->sender_of);
	return (rc == SQLITE_ROW ? found : rc == SQLITE_DONE ? 0 : -1);
}

/* sq_exec_int - run sql with ?1 = a, ?2 = b; changes or -1 */
static long
sq_exec_int(struct sq *q, const char *sql, long long a, long long b)
{
	sqlite3_stmt *st;
	int	rc;

	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	sqlite3_bind_int64(st, 1, a);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, b);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? (long) sqlite3_changes(q->db) : -1);
}

/* sq_purge - one batch of old rows of one table */
static long
sq_purge(void *be, const char *table, long long cutoff, int limit, char *err,
	 size_t errlen)
{
	struct sq *q = be;
	long	n;

	if (strcmp(table, "decision") == 0)
		n = sq_exec_int(q, RECORD_SQL_PURGE, cutoff, limit);
	else if (strcmp(table, "claim") == 0)
		n = sq_exec_int(q, "DELETE FROM claim WHERE (kind, id) IN"
				" (SELECT kind, id FROM claim WHERE time < ?1 LIMIT ?2)",
				cutoff, limit);
	else
		n = sq_exec_int(q, "DELETE FROM rate_event WHERE id IN (SELECT id"
				" FROM rate_event WHERE time < ?1 LIMIT ?2)",
				cutoff * 1000, limit);
	if (n < 0)
		sq_err(err, errlen, "record purge", q->db);
	return (n);
}

/* sq_summary - counts grouped by one column ("day": time / 86400) */
static int
sq_summary(void *be, const char *by, long long since, record_count_fn fn,
	   void *arg, char *err, size_t errlen)
{
	struct sq *q = be;
	sqlite3_stmt *st;
	char   *sql;
	int	rc;

	/* each key has a covering index (key, action, time) */
	sql = g_strdup_printf("SELECT %s, action, count(*) FROM decision"
			      " WHERE time >= ?1 GROUP BY 1, 2",
			      strcmp(by, "day") == 0 ? "time / 86400" : by);
	rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
	g_free(sql);
	if (rc != SQLITE_OK) {
		sq_err(err, errlen, "record summary", q->db);
		return (-1);
	}
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *) sqlite3_column_text(st, 0),
		   (const char *) sqlite3_column_text(st, 1),
		   sqlite3_column_int64(st, 2));
	if (rc != SQLITE_DONE)
		sq_err(err, errlen, "record summary", q->db);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* col_text - a text column or NULL */
static const char *
col_text(sqlite3_stmt *st, int i)
{
	return ((const char *) sqlite3_column_text(st, i));
}

/* sq_show - the decisions of one message, oldest first */
static int
sq_show(void *be, const char *id, record_show_fn fn, void *arg, char *err,
	size_t errlen)
{
	struct sq *q = be;
	struct record_entry e;
	sqlite3_stmt *st;
	int	rc, n = 0;

	if (sqlite3_prepare_v2(q->db, RECORD_SQL_SHOW, -1, &st, NULL) != SQLITE_OK) {
		sq_err(err, errlen, "record show", q->db);
		return (-1);
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.time = sqlite3_column_int64(st, 0);
		e.host = col_text(st, 1), e.queue_id = col_text(st, 2);
		e.stage = col_text(st, 3), e.action = col_text(st, 4);
		e.rules = col_text(st, 5), e.sender = col_text(st, 6);
		e.sasl_user = col_text(st, 7), e.recipient = col_text(st, 8);
		e.stream = col_text(st, 9), e.environment = col_text(st, 10);
		e.message_id = col_text(st, 11), e.envid = col_text(st, 12);
		e.size = sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 :
			sqlite3_column_int64(st, 13);
		e.body_sha256 = col_text(st, 14), e.reply = col_text(st, 15);
		e.daemon = col_text(st, 16), e.details = col_text(st, 17);
		fn(arg, &e);
		n++;
	}
	if (rc != SQLITE_DONE)
		sq_err(err, errlen, "record show", q->db);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? n : -1);
}

/* sq_scalar - the first column of a one-row query, or -1 */
static long long
sq_scalar(struct sq *q, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (v);
}

/* sq_info - version, rows, time span, file sizes */
static int
sq_info(void *be, struct record_info *info, char *err, size_t errlen)
{
	struct sq *q = be;
	struct stat sb;
	char   *wal;

	info->version = sq_version(q->db);
	info->decisions = sq_scalar(q, "SELECT count(*) FROM decision");
	info->claims = sq_scalar(q, "SELECT count(*) FROM claim");
	info->oldest = sq_scalar(q, "SELECT coalesce(min(time), 0) FROM decision");
	info->newest = sq_scalar(q, "SELECT coalesce(max(time), 0) FROM decision");
	info->free_bytes = sq_scalar(q, "SELECT freelist_count * page_size"
		" FROM pragma_freelist_count, pragma_page_size");
	if (info->decisions < 0 || info->claims < 0) {
		sq_err(err, errlen, "record info", q->db);
		return (-1);
	}
	info->bytes = stat(q->path, &sb) == 0 ? (long long) sb.st_size : -1;
	wal = g_strdup_printf("%s-wal", q->path);
	info->wal_bytes = stat(wal, &sb) == 0 ? (long long) sb.st_size : 0;
	g_free(wal);
	if (info->bytes >= 0)
		info->bytes += info->wal_bytes;
	return (0);
}

/* sq_tallies - every tally, sorted */
static int
sq_tallies(void *be, record_tally_fn fn, void *arg, char *err, size_t errlen)
{
	struct sq *q = be;
	sqlite3_stmt *st;
	int	rc;

	if (sqlite3_prepare_v2(q->db, "SELECT name, labels, value FROM tally"
			       " ORDER BY name, labels", -1, &st, NULL) != SQLITE_OK) {
		sq_err(err, errlen, "record tallies", q->db);
		return (-1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, col_text(st, 0), col_text(st, 1),
		   sqlite3_column_int64(st, 2));
	if (rc != SQLITE_DONE)
		sq_err(err, errlen, "record tallies", q->db);
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* sq_tally_set - one gauge */
static int
sq_tally_set(void *be, const char *name, const char *labels, long long value,
	     char *err, size_t errlen)
{
	struct sq *q = be;
	sqlite3_stmt *st;
	int	rc;

	if (sqlite3_prepare_v2(q->db, RECORD_SQL_TALLY_SET, -1, &st, NULL) != SQLITE_OK) {
		sq_err(err, errlen, "record tally", q->db);
		return (-1);
	}
	bind_text(st, 1, name);
	bind_text(st, 2, labels);
	sqlite3_bind_int64(st, 3, value);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		sq_err(err, errlen, "record tally", q->db);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* sq_rate_run - one rate step inside the caller's transaction */
static int
sq_rate_run(struct sq *q, const char *key, int limit, long long now_ms,
	    long long window_ms, int count_over)
{
	sqlite3_stmt *st = NULL;
	long long n = -1;
	int	over;

	if (sqlite3_prepare_v2(q->db, RATE_DROP_SQL, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, now_ms - window_ms);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		return (-1);
	}
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(q->db, RECORD_SQL_RATE_COUNT, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	bind_text(st, 1, key);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (n < 0)
		return (-1);
	over = n >= limit;
	if (over && !count_over)
		return (over);
	if (sqlite3_prepare_v2(q->db, RATE_ADD_SQL, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	bind_text(st, 1, key);
	sqlite3_bind_int64(st, 2, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		over = -1;
	sqlite3_finalize(st);
	return (over);
}

/* sq_rate_take - one window step, serialised, not synced to disk */
static int
sq_rate_take(void *be, const char *key, int limit, long long now_ms,
	     long long window_ms, int count_over, char *err, size_t errlen)
{
	struct sq *q = be;
	int	over;

	sqlite3_exec(q->db, "PRAGMA synchronous=NORMAL", NULL, NULL, NULL);
	if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		sq_err(err, errlen, "record rate", q->db);
		sqlite3_exec(q->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
		return (-1);
	}
	over = sq_rate_run(q, key, limit, now_ms, window_ms, count_over);
	if (over < 0 || sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		sq_err(err, errlen, "record rate", q->db);
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
		over = -1;
	}
	sqlite3_exec(q->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
	return (over);
}

/* sq_fetch_claim - not here: htgate-fetch keeps its state file */
static int
sq_fetch_claim(void *be, const char *account, const char *uidl,
	       long long now, char *err, size_t errlen)
{
	(void) be, (void) account, (void) uidl, (void) now;
	snprintf(err, errlen, "fetch claims need the PostgreSQL record");
	return (-1);
}

/* sq_fetch_done - see sq_fetch_claim */
static int
sq_fetch_done(void *be, int delivered, long long now, char *err,
	      size_t errlen)
{
	(void) be, (void) delivered, (void) now;
	snprintf(err, errlen, "fetch claims need the PostgreSQL record");
	return (-1);
}

/* sq_fetch_retain - see sq_fetch_claim */
static int
sq_fetch_retain(void *be, const char *account, const char *const *uidls,
		size_t n, long long before, char *err, size_t errlen)
{
	(void) be, (void) account, (void) uidls, (void) n, (void) before;
	snprintf(err, errlen, "fetch claims need the PostgreSQL record");
	return (-1);
}

/* sq_explain - EXPLAIN QUERY PLAN of one lookup, lines joined by "; " */
static int
sq_explain(void *be, const char *query, char *plan, size_t planlen,
	   char *err, size_t errlen)
{
	struct sq *q = be;
	sqlite3_stmt *st;
	char   *sql;
	int	rc;

	if ((sql = record_explain_sql(sq_explained, G_N_ELEMENTS(sq_explained),
				      "EXPLAIN QUERY PLAN", query, err,
				      errlen)) == NULL)
		return (-1);
	rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
	g_free(sql);
	if (rc != SQLITE_OK) {
		sq_err(err, errlen, "explain", q->db);
		return (-1);
	}
	plan[0] = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (plan[0])
			g_strlcat(plan, "; ", planlen);
		g_strlcat(plan, col_text(st, 3) ? col_text(st, 3) : "", planlen);
	}
	sqlite3_finalize(st);
	return (0);
}

/* sq_sql - one statement (tests) */
static int
sq_sql(void *be, const char *sql, char *err, size_t errlen)
{
	struct sq *q = be;

	if (sqlite3_exec(q->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return (0);
	sq_err(err, errlen, "sql", q->db);
	return (-1);
}

const struct record_ops record_sqlite_ops = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.write = sq_write,
	.claim = sq_claim,
	.claimed = sq_claimed,
	.sender_of = sq_sender_of,
	.purge = sq_purge,
	.summary = sq_summary,
	.show = sq_show,
	.info = sq_info,
	.tallies = sq_tallies,
	.tally_set = sq_tally_set,
	.rate_take = sq_rate_take,
	.fetch_claim = sq_fetch_claim,
	.fetch_done = sq_fetch_done,
	.fetch_retain = sq_fetch_retain,
	.explain = sq_explain,
	.sql = sq_sql,
};
