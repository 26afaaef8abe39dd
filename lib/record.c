/*
 * NAME
 *	record - the compliance record: every decision, kept in SQLite
 * DESCRIPTION
 *	See record.h.  The schema is created by SCHEMA_SQL below and
 *	versioned with PRAGMA user_version; a database with a newer
 *	version than RECORD_SCHEMA_VERSION is refused.  Statements are
 *	prepared once per handle.
 * OWNERSHIP
 *	struct record owns its sqlite3 connection and statements.
 * THREAD SAFETY
 *	Every public call takes rec->lock; the connection is opened with
 *	SQLITE_OPEN_FULLMUTEX as a second line of defence.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <sqlite3.h>
#include <openssl/evp.h>

#include "record.h"

#define RECORD_BUSY_MS	5000	/* wait this long for another writer */
#define RECORD_RETRY_NS	20000000L	/* 20 ms between schema retries */

static const char SCHEMA_SQL[] =
	"CREATE TABLE IF NOT EXISTS decision ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" host TEXT, queue_id TEXT, stage TEXT, action TEXT NOT NULL,"
	" rules TEXT, sender TEXT, sasl_user TEXT, recipient TEXT,"
	" stream TEXT, environment TEXT, message_id TEXT, envid TEXT,"
	" size INTEGER, body_sha256 TEXT, reply TEXT, daemon TEXT);"
	"CREATE INDEX IF NOT EXISTS decision_time ON decision(time);"
	"CREATE INDEX IF NOT EXISTS decision_queue_id ON decision(queue_id);"
	"CREATE INDEX IF NOT EXISTS decision_message_id ON decision(message_id);"
	"CREATE INDEX IF NOT EXISTS decision_envid ON decision(envid);"
	"CREATE INDEX IF NOT EXISTS decision_sender ON decision(sender);"
	/* version 2: identifiers used towards HTG, claimed at egress */
	"CREATE TABLE IF NOT EXISTS claim ("
	" kind TEXT NOT NULL, id TEXT NOT NULL, time INTEGER NOT NULL,"
	" holder TEXT NOT NULL, queue_id TEXT,"
	" PRIMARY KEY (kind, id)) WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS claim_time ON claim(time);";

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

static const char INSERT_SQL[] =
	"INSERT INTO decision (time, host, queue_id, stage, action, rules,"
	" sender, sasl_user, recipient, stream, environment, message_id,"
	" envid, size, body_sha256, reply, daemon)"
	" VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";

static const char PURGE_SQL[] = "DELETE FROM decision WHERE time < ?";
static const char PURGE_CLAIM_SQL[] = "DELETE FROM claim WHERE time < ?";
static const char CLAIM_GET_SQL[] =
	"SELECT holder FROM claim WHERE kind = ? AND id = ? AND time >= ?";
static const char CLAIM_PUT_SQL[] =
	"INSERT INTO claim (kind, id, time, holder, queue_id) VALUES (?,?,?,?,?)"
	" ON CONFLICT (kind, id) DO UPDATE SET time = excluded.time,"
	" holder = excluded.holder, queue_id = excluded.queue_id";
static const char SENDER_SQL[] =
	"SELECT sender FROM decision WHERE (message_id = ?1 OR envid = ?1)"
	" AND action IN ('accept','fix','warn') AND sender IS NOT NULL"
	" AND sender <> '' ORDER BY time DESC, id DESC LIMIT 1";

struct record {
	sqlite3 *db;
	sqlite3_stmt *insert;
	sqlite3_stmt *purge;
	sqlite3_stmt *sender_of;
	sqlite3_stmt *purge_claim;
	sqlite3_stmt *claim_get;
	sqlite3_stmt *claim_put;
	pthread_mutex_t lock;
};

/* record_seterr - "what: sqlite message" into err */
static void
record_seterr(char *err, size_t errlen, const char *what, sqlite3 *db)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what,
			 db ? sqlite3_errmsg(db) : "out of memory");
}

/* record_schema_try - set pragmas, create or check the schema once */
static int
record_schema_try(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int	version, rc;

	if (sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
			 NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		goto dberr;
	rc = sqlite3_step(st);
	version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	if (version < 0)
		goto dberr;
	if (version > RECORD_SCHEMA_VERSION) {
		snprintf(err, errlen, "%s: schema version %d is newer than %d",
			 path, version, RECORD_SCHEMA_VERSION);
		return (SQLITE_ERROR);
	}
	if (version == RECORD_SCHEMA_VERSION)
		return (SQLITE_OK);
	/* Create in one transaction so concurrent openers agree. */
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		goto dberr;
	if (sqlite3_exec(db, SCHEMA_SQL, NULL, NULL, NULL) != SQLITE_OK
	    || (version == 1
		&& sqlite3_exec(db, MIGRATE_1_SQL, NULL, NULL, NULL) != SQLITE_OK)
	    || sqlite3_exec(db, "PRAGMA user_version = " G_STRINGIFY(RECORD_SCHEMA_VERSION),
			    NULL, NULL, NULL) != SQLITE_OK
	    || sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		rc = sqlite3_errcode(db);
		record_seterr(err, errlen, path, db);
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return (rc);
	}
	return (SQLITE_OK);
dberr:
	record_seterr(err, errlen, path, db);
	return (sqlite3_errcode(db));
}

/*
 * record_schema - record_schema_try, retried while another process holds
 * the lock: switching a new file to WAL does not wait in busy_timeout.
 */
static int
record_schema(sqlite3 *db, const char *path, char *err, size_t errlen)
{
	struct timespec ts = {0, RECORD_RETRY_NS};
	int	i, rc;

	sqlite3_busy_timeout(db, RECORD_BUSY_MS);
	for (i = 0; i < RECORD_BUSY_MS / (RECORD_RETRY_NS / 1000000); i++) {
		rc = record_schema_try(db, path, err, errlen);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		nanosleep(&ts, NULL);
	}
	if (rc == SQLITE_OK && err && errlen)
		err[0] = 0;
	return (rc == SQLITE_OK ? 0 : -1);
}

/* record_open - open or create the record database */
struct record *
record_open(const char *path, char *err, size_t errlen)
{
	struct record *rec;

	if (err && errlen)
		err[0] = 0;
	if ((rec = calloc(1, sizeof(*rec))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return (NULL);
	}
	pthread_mutex_init(&rec->lock, NULL);
	if (sqlite3_open_v2(path, &rec->db, SQLITE_OPEN_READWRITE
			    | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
			    NULL) != SQLITE_OK
	    || record_schema(rec->db, path, err, errlen) < 0)
		goto fail;
	if (sqlite3_prepare_v2(rec->db, INSERT_SQL, -1, &rec->insert, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(rec->db, PURGE_SQL, -1, &rec->purge, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(rec->db, SENDER_SQL, -1, &rec->sender_of, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(rec->db, PURGE_CLAIM_SQL, -1, &rec->purge_claim, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(rec->db, CLAIM_GET_SQL, -1, &rec->claim_get, NULL) != SQLITE_OK
	    || sqlite3_prepare_v2(rec->db, CLAIM_PUT_SQL, -1, &rec->claim_put, NULL) != SQLITE_OK) {
		record_seterr(err, errlen, path, rec->db);
		goto fail;
	}
	return (rec);
fail:
	if (rec->db && err && errlen && err[0] == 0)
		record_seterr(err, errlen, path, rec->db);
	record_close(rec);
	return (NULL);
}

/* record_close - finalize statements and close the database */
void
record_close(struct record *rec)
{
	if (rec == NULL)
		return;
	sqlite3_finalize(rec->insert);
	sqlite3_finalize(rec->purge);
	sqlite3_finalize(rec->sender_of);
	sqlite3_finalize(rec->purge_claim);
	sqlite3_finalize(rec->claim_get);
	sqlite3_finalize(rec->claim_put);
	sqlite3_close(rec->db);
	pthread_mutex_destroy(&rec->lock);
	free(rec);
}

/* record_db - the connection, for read-only queries of htgate-report */
void   *
record_db(struct record *rec)
{
	return (rec->db);
}

/* bind_text - bind a string or NULL */
static int
bind_text(sqlite3_stmt *st, int col, const char *s)
{
	return (s ? sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT)
		: sqlite3_bind_null(st, col));
}

/* record_write - insert one decision (its own transaction) */
int
record_write(struct record *rec, const struct record_entry *e,
	     char *err, size_t errlen)
{
	const char *text[] = {e->host, e->queue_id, e->stage, e->action,
		e->rules, e->sender, e->sasl_user, e->recipient, e->stream,
		e->environment, e->message_id, e->envid};
	sqlite3_stmt *st = rec->insert;
	int	rc = SQLITE_OK, col;
	size_t	i;

	pthread_mutex_lock(&rec->lock);
	rc = sqlite3_bind_int64(st, 1, e->time ? e->time : (long long) time(NULL));
	for (i = 0, col = 2; i < sizeof(text) / sizeof(text[0]); i++, col++)
		if (rc == SQLITE_OK)
			rc = bind_text(st, col, text[i]);
	if (rc == SQLITE_OK)
		rc = e->size >= 0 ? sqlite3_bind_int64(st, col, e->size)
			: sqlite3_bind_null(st, col);
	if (rc == SQLITE_OK)
		rc = bind_text(st, ++col, e->body_sha256);
	if (rc == SQLITE_OK)
		rc = bind_text(st, ++col, e->reply);
	if (rc == SQLITE_OK)
		rc = bind_text(st, ++col, e->daemon ? e->daemon : "");
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
	if (rc != SQLITE_OK)
		record_seterr(err, errlen, "record write", rec->db);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&rec->lock);
	return (rc == SQLITE_OK ? 0 : -1);
}

/* record_sender_of - sender of the delivered message with this ID */
int
record_sender_of(struct record *rec, const char *id, char *sender,
		 size_t senderlen)
{
	const unsigned char *v;
	int	rc, found = 0;

	if (id == NULL || *id == 0)
		return (0);
	pthread_mutex_lock(&rec->lock);
	sqlite3_bind_text(rec->sender_of, 1, id, -1, SQLITE_TRANSIENT);
	rc = sqlite3_step(rec->sender_of);
	if (rc == SQLITE_ROW && (v = sqlite3_column_text(rec->sender_of, 0)) != NULL
	    && (size_t) snprintf(sender, senderlen, "%s", (const char *) v) < senderlen)
		found = 1;
	sqlite3_reset(rec->sender_of);
	sqlite3_clear_bindings(rec->sender_of);
	pthread_mutex_unlock(&rec->lock);
	return (rc == SQLITE_ROW ? found : rc == SQLITE_DONE ? 0 : -1);
}

/* record_purge - delete rows and claims older than the age; count or -1 */
long
record_purge(struct record *rec, long older_than_seconds, char *err,
	     size_t errlen)
{
	long long cutoff = (long long) time(NULL) - older_than_seconds;
	long	n = -1;

	pthread_mutex_lock(&rec->lock);
	sqlite3_bind_int64(rec->purge, 1, cutoff);
	sqlite3_bind_int64(rec->purge_claim, 1, cutoff);
	if (sqlite3_step(rec->purge) == SQLITE_DONE) {
		n = (long) sqlite3_changes(rec->db);
		if (sqlite3_step(rec->purge_claim) != SQLITE_DONE)
			n = -1;
	}
	if (n < 0)
		record_seterr(err, errlen, "record purge", rec->db);
	sqlite3_reset(rec->purge);
	sqlite3_reset(rec->purge_claim);
	pthread_mutex_unlock(&rec->lock);
	return (n);
}

/*
 * claim_holder - the holder of a live claim of kind/id into buf; 1 found,
 * 0 none (or expired), -1 database error.  Caller holds rec->lock.
 */
static int
claim_holder(struct record *rec, const char *kind, const char *id,
	     long long since, char *buf, size_t buflen)
{
	sqlite3_stmt *st = rec->claim_get;
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

/* claim_put - insert or take over one claim.  Caller holds rec->lock. */
static int
claim_put(struct record *rec, const char *kind, const char *id,
	  const struct record_claim *c, long long now)
{
	sqlite3_stmt *st = rec->claim_put;
	int	rc;

	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_text(st, 4, c->holder, -1, SQLITE_TRANSIENT);
	bind_text(st, 5, c->queue_id);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/* claim_ids - the (kind, id) pairs of a claim that are set */
static int
claim_ids(const struct record_claim *c, const char *kinds[2],
	  const char *ids[2], int bits[2])
{
	int	n = 0;

	if (c->message_id && *c->message_id) {
		kinds[n] = "msgid", ids[n] = c->message_id;
		bits[n++] = RECORD_DUP_MSGID;
	}
	if (c->envid && *c->envid) {
		kinds[n] = "envid", ids[n] = c->envid;
		bits[n++] = RECORD_DUP_ENVID;
	}
	return (n);
}

/* record_claimed - which identifiers someone claimed within the window */
int
record_claimed(struct record *rec, const struct record_claim *c)
{
	const char *kinds[2], *ids[2];
	int	bits[2], n = claim_ids(c, kinds, ids, bits), i, r, dup = 0;
	long long since = (long long) time(NULL) - c->window;

	pthread_mutex_lock(&rec->lock);
	for (i = 0; i < n && dup >= 0; i++) {
		if ((r = claim_holder(rec, kinds[i], ids[i], since, NULL, 0)) < 0)
			dup = -1;
		else if (r == 1)
			dup |= bits[i];
	}
	pthread_mutex_unlock(&rec->lock);
	return (dup);
}

/* record_claim - claim every identifier of c at once, or none */
int
record_claim(struct record *rec, const struct record_claim *c, char *err,
	     size_t errlen)
{
	const char *kinds[2], *ids[2];
	int	bits[2], n = claim_ids(c, kinds, ids, bits), i, r, dup = 0;
	long long now = (long long) time(NULL);
	char	holder[RECORD_HOLDER_MAX];

	if (n == 0)
		return (0);
	pthread_mutex_lock(&rec->lock);
	/* IMMEDIATE: the write lock first, so check and insert are one step
	 * for every thread and process sharing the file. */
	if (sqlite3_exec(rec->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		record_seterr(err, errlen, "record claim", rec->db);
		pthread_mutex_unlock(&rec->lock);
		return (-1);
	}
	for (i = 0; i < n && dup >= 0; i++) {
		r = claim_holder(rec, kinds[i], ids[i], now - c->window, holder,
				 sizeof(holder));
		if (r < 0)
			dup = -1;
		else if (r == 1 && strcmp(holder, c->holder) != 0)
			dup |= bits[i];
	}
	for (i = 0; i < n && dup == 0; i++)
		if (claim_put(rec, kinds[i], ids[i], c, now) < 0)
			dup = -1;
	if (dup < 0)
		record_seterr(err, errlen, "record claim", rec->db);
	if (sqlite3_exec(rec->db, dup == 0 ? "COMMIT" : "ROLLBACK", NULL, NULL,
			 NULL) != SQLITE_OK && dup == 0) {
		record_seterr(err, errlen, "record claim commit", rec->db);
		sqlite3_exec(rec->db, "ROLLBACK", NULL, NULL, NULL);
		dup = -1;
	}
	pthread_mutex_unlock(&rec->lock);
	return (dup);
}

/* record_hash_init - start a body SHA-256 */
void
record_hash_init(struct record_hash *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	h->ctx = ctx;
}

/* record_hash_update - feed one body chunk */
void
record_hash_update(struct record_hash *h, const void *buf, size_t len)
{
	if (h->ctx && EVP_DigestUpdate(h->ctx, buf, len) != 1) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

/* record_hash_final - hex digest ("" after an error); frees the context */
void
record_hash_final(struct record_hash *h, char hex[RECORD_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	hex[0] = 0;
	if (h->ctx == NULL)
		return;
	if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) == 1 && mdlen == 32)
		for (i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}
