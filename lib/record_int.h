/*
 * NAME
 *	record_int.h - the backends of the decision record (internal)
 * SYNOPSIS
 *	#include "record_int.h"
 *
 *	extern const struct record_ops record_sqlite_ops;
 *	extern const struct record_ops record_pg_ops;
 * DESCRIPTION
 *	record.c keeps what both backends share (the handle, group commit,
 *	the tallies of a row, the summary's rule and day keys, purge in
 *	batches) and calls one of these tables for everything that touches
 *	the database.  Each backend owns its schema text and its SQL.
 *
 *	open() connects (migrate: create or migrate the schema; else only
 *	check the version); *from and *to get the version before and after.
 *	write() inserts n rows and adds the tallies, in one durable
 *	transaction.  claim() takes every (kind, id) of the arrays or none,
 *	returning 0 or the RECORD_DUP_* bits of the identifiers held by
 *	another holder within since.  claimed() is 1 when (kind, id) is held
 *	since the given time.  purge() deletes at most limit rows older than
 *	cutoff (unix seconds) of one table (decision, claim or rate_event)
 *	and returns how many.
 *	summary() calls fn(key, action, n) grouped by the raw key of "by":
 *	"day" (the day number time / 86400 as decimal text), "rules",
 *	"sender", "stream" or "environment".  show() calls fn per row,
 *	oldest first.  The others mirror record.h.
 * ERRORS
 *	-1 (NULL for open) with a reason in err.
 * THREAD SAFETY
 *	A backend handle is used by one thread at a time (record.c holds
 *	the handle's connection lock around every call).
 */
#ifndef HTG_RECORD_INT_H
#define HTG_RECORD_INT_H

#include "record.h"

/* One counter increment of a commit. */
struct record_tally {
	const char *name;
	const char *labels;
	long long delta;
};

struct record_ops {
	const char *name;
	void   *(*open)(const char *target, int migrate, int *from, int *to,
		char *err, size_t errlen);
	void	(*close)(void *be);
	int	(*write)(void *be, const struct record_entry *const *e, size_t n,
		const struct record_tally *t, size_t nt, char *err,
		size_t errlen);
	int	(*claim)(void *be, const char *const *kinds,
		const char *const *ids, const int *bits, int n,
		const struct record_claim *c, long long now, char *err,
		size_t errlen);
	int	(*claimed)(void *be, const char *kind, const char *id,
		long long since);
	int	(*sender_of)(void *be, const char *id, char *sender,
		size_t senderlen);
	long	(*purge)(void *be, const char *table, long long cutoff,
		int limit, char *err, size_t errlen);
	int	(*summary)(void *be, const char *by, long long since,
		record_count_fn fn, void *arg, char *err, size_t errlen);
	int	(*show)(void *be, const char *id, record_show_fn fn, void *arg,
		char *err, size_t errlen);
	int	(*info)(void *be, struct record_info *info, char *err,
		size_t errlen);
	int	(*tallies)(void *be, record_tally_fn fn, void *arg, char *err,
		size_t errlen);
	int	(*tally_set)(void *be, const char *name, const char *labels,
		long long value, char *err, size_t errlen);
	int	(*rate_take)(void *be, const char *key, int limit,
		long long now_ms, long long window_ms, int count_over,
		char *err, size_t errlen);
	int	(*fetch_claim)(void *be, const char *account, const char *uidl,
		long long now, char *err, size_t errlen);
	int	(*fetch_done)(void *be, int delivered, long long now,
		char *err, size_t errlen);
	int	(*fetch_retain)(void *be, const char *account,
		const char *const *uidls, size_t n, long long before,
		char *err, size_t errlen);
	int	(*explain)(void *be, const char *query, char *plan,
		size_t planlen, char *err, size_t errlen);
	int	(*sql)(void *be, const char *sql, char *err, size_t errlen);
};

extern const struct record_ops record_sqlite_ops;
extern const struct record_ops record_pg_ops;

/* The columns of decision after id, in schema order (record.c). */
#define RECORD_COLUMNS "time, host, queue_id, stage, action, rules," \
	" sender, sasl_user, recipient, stream, environment, message_id," \
	" envid, size, body_sha256, reply, daemon, details"
#define RECORD_NCOLUMNS 18

/*
 * The statements both backends run as they are.  Parameters are written
 * $1, $2 ... in order of first use: PostgreSQL's syntax, which SQLite
 * reads as named parameters numbered in the same order.
 */
#define RECORD_SQL_DECISION_INDEXES \
	"CREATE INDEX IF NOT EXISTS decision_queue_id ON decision(queue_id);" \
	"CREATE INDEX IF NOT EXISTS decision_message_id ON decision(message_id);" \
	"CREATE INDEX IF NOT EXISTS decision_envid ON decision(envid);" \
	/* version 3: the summaries read covering indexes, not the rows \
	 * (a year of decisions in well under a second) */ \
	"DROP INDEX IF EXISTS decision_time;" \
	"DROP INDEX IF EXISTS decision_sender;" \
	"CREATE INDEX IF NOT EXISTS decision_time_action ON decision(time, action);" \
	"CREATE INDEX IF NOT EXISTS decision_sender_action ON decision(sender, action, time);" \
	"CREATE INDEX IF NOT EXISTS decision_stream_action ON decision(stream, action, time);" \
	"CREATE INDEX IF NOT EXISTS decision_environment_action ON decision(environment, action, time);" \
	"CREATE INDEX IF NOT EXISTS decision_rules_action ON decision(rules, action, time);"
#define RECORD_SQL_TALLY_SET \
	"INSERT INTO tally (name, labels, value) VALUES ($1, $2, $3)" \
	" ON CONFLICT (name, labels) DO UPDATE SET value = excluded.value"
#define RECORD_SQL_CLAIM_GET \
	"SELECT holder FROM claim WHERE kind = $1 AND id = $2 AND time >= $3"
#define RECORD_SQL_SENDER \
	"SELECT sender FROM decision WHERE (message_id = $1 OR envid = $1)" \
	" AND action IN ('accept','fix','warn') AND sender IS NOT NULL" \
	" AND sender <> '' ORDER BY time DESC, id DESC LIMIT 1"
#define RECORD_SQL_PURGE \
	"DELETE FROM decision WHERE id IN (SELECT id FROM decision" \
	" WHERE time < $1 ORDER BY time LIMIT $2)"
#define RECORD_SQL_SHOW \
	"WITH hit AS (SELECT id, queue_id FROM decision" \
	" WHERE queue_id = $1 OR message_id = $1" \
	" OR message_id = '<' || $1 || '>' OR envid = $1)" \
	" SELECT " RECORD_COLUMNS " FROM decision WHERE id IN" \
	" (SELECT id FROM hit UNION SELECT d.id FROM decision d JOIN hit h" \
	" ON d.queue_id = h.queue_id WHERE h.queue_id IS NOT NULL" \
	" AND h.queue_id NOT IN ('', 'NOQUEUE')) ORDER BY time, id"
#define RECORD_SQL_RATE_COUNT \
	"SELECT count(*) FROM rate_event WHERE key = $1"

/* One lookup record_explain() shows: its name and statement. */
struct record_lookup {
	const char *name;
	const char *sql;
};

/* record_explain_sql - "PREFIX statement" of the lookup named query in
 * t[0..n-1] (g_free()), or NULL with the reason in err */
char   *record_explain_sql(const struct record_lookup *t, size_t n,
		const char *prefix, const char *query, char *err,
		size_t errlen);

/* record_entry_text - the text columns of e in RECORD_COLUMNS order
 * (host .. envid, then body_sha256, reply, daemon, details) */
#define RECORD_NTEXT 16
void	record_entry_text(const struct record_entry *e,
		const char *out[RECORD_NTEXT]);

#endif
