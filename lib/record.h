/*
 * NAME
 *	record - the compliance record: every decision, in SQLite or PostgreSQL
 * SYNOPSIS
 *	#include "record.h"
 *
 *	struct record *record_open(const char *target, char *err,
 *		size_t errlen);
 *	int	record_init(const char *target, int *from, int *to,
 *		char *err, size_t errlen);
 *	int	record_is_pg(const char *target);
 *	void	record_close(struct record *rec);
 *
 *	int	record_write(struct record *rec, const struct record_entry *e,
 *		char *err, size_t errlen);
 *	int	record_write_async(struct record *rec,
 *		const struct record_entry *e, char *err, size_t errlen);
 *	int	record_claim(struct record *rec, const struct record_claim *c,
 *		char *err, size_t errlen);
 *	int	record_claimed(struct record *rec, const struct record_claim *c);
 *	int	record_sender_of(struct record *rec, const char *id,
 *		char *sender, size_t senderlen);
 *	long	record_purge(struct record *rec, long older_than_seconds,
 *		char *err, size_t errlen);
 *	long	record_purge_ex(struct record *rec, long older_than_seconds,
 *		int batch, double *longest_ms, char *err, size_t errlen);
 *
 *	int	record_summary(struct record *rec, const char *by,
 *		long long since, record_count_fn fn, void *arg,
 *		char *err, size_t errlen);
 *	int	record_show(struct record *rec, const char *id,
 *		record_show_fn fn, void *arg, char *err, size_t errlen);
 *	void	record_entry_fields(const struct record_entry *e,
 *		record_field_fn fn, void *arg);
 *	int	record_info(struct record *rec, struct record_info *info,
 *		char *err, size_t errlen);
 *	int	record_tallies(struct record *rec, record_tally_fn fn,
 *		void *arg, char *err, size_t errlen);
 *	void	record_tally_add(struct record *rec, const char *name,
 *		const char *labels, long long delta);
 *	int	record_tally_set(struct record *rec, const char *name,
 *		const char *labels, long long value, char *err,
 *		size_t errlen);
 *	void	record_label(char *buf, size_t buflen, const char *name,
 *		const char *value);
 *
 *	int	record_rate_take(struct record *rec, const char *key,
 *		int limit, long long window_ms, int count_over,
 *		char *err, size_t errlen);
 *	int	record_fetch_claim(struct record *rec, const char *account,
 *		const char *uidl, char *err, size_t errlen);
 *	int	record_fetch_done(struct record *rec, int delivered,
 *		char *err, size_t errlen);
 *	int	record_fetch_retain(struct record *rec, const char *account,
 *		const char *const *uidls, size_t n, long keep_seconds,
 *		char *err, size_t errlen);
 *
 *	int	record_explain(struct record *rec, const char *query,
 *		char *plan, size_t planlen, char *err, size_t errlen);
 *	int	record_sql(struct record *rec, const char *sql, char *err,
 *		size_t errlen);
 *
 *	void	record_hash_init(struct record_hash *h);
 *	void	record_hash_update(struct record_hash *h, const void *buf,
 *		size_t len);
 *	void	record_hash_final(struct record_hash *h,
 *		char hex[RECORD_SHA256_HEX]);
 * DESCRIPTION
 *	One interface, two backends (record_int.h): the target of
 *	record_open() is the path of an SQLite database (the embedded
 *	default, record_sqlite.c) or a libpq URL "postgresql://..." or
 *	"postgres://..." (record_pg.c), shared by several relays.  The
 *	schema belongs to this module alone: callers see rows as struct
 *	record_entry, summaries as counts per key, never tables or
 *	columns.
 *
 *	The schema is versioned in one table, schema_version (one row per
 *	version applied), in both backends.  record_init() creates or
 *	migrates it (htgate-report init): an SQLite record of an older
 *	release keeps its version in PRAGMA user_version, which the
 *	migration carries into schema_version (and sets to the current
 *	version, so an older release refuses the file instead of writing
 *	rows it cannot see counted).  record_open() of an SQLite file also
 *	creates or migrates it (the daemons own the file); of a PostgreSQL
 *	database it only checks the version: "run htgate-report init".  A
 *	newer version than RECORD_SCHEMA_VERSION is refused by both.
 *
 *	Tables: decision (one row per decision), claim (the identifiers
 *	used towards HTG, unique per kind and id), tally (monotonic
 *	counters for htgate-report metrics: they survive purge), rate_event
 *	(the sliding windows of ENV-RATE, lib/rate.c) and fetch_msg (the
 *	answers htgate-fetch handed over, PostgreSQL only).
 *
 *	Group commit: record_write() queues the row and waits (at most
 *	RECORD_COMMIT_WAIT_MS) until a transaction that holds it has been
 *	committed durably (SQLite: WAL with synchronous=FULL, an fsync per
 *	commit; PostgreSQL: synchronous_commit on).  The first waiting
 *	thread commits everything queued so far in one transaction while
 *	the others wait, so N threads writing at once pay about one fsync,
 *	not N; 0 means the row is on disk, -1 (also after the wait) that
 *	it may not be: the caller tempfails the message.
 *	record_write_async() queues the row and returns at once; a thread
 *	of the handle commits it at once, with every row queued meanwhile
 *	(the policy daemon's refusals: no message is answered 250 on them;
 *	the row is on disk a flush later, RECORD_ASYNC_MS at most in
 *	practice).  It returns
 *	-1 once with the reason after an asynchronous commit failed.
 *	record_close() commits what is queued.
 *
 *	record_write() rows: NULL strings are stored as NULL, time 0 means
 *	"now".  Each row also counts in the tallies
 *	htgate_decisions_total{daemon,action,stream,environment} and, per
 *	rule of the row, htgate_rule_decisions_total{daemon,rule,action,
 *	stream,environment} (a rule written "RULE:warn" counts under its own
 *	action), in the same transaction; each write's latency (queued to
 *	committed) goes into the histogram htgate_record_write_seconds
 *	{daemon}, committed with the next transaction.
 *
 *	record_sender_of() gives the envelope sender of the newest delivered
 *	decision whose Message-ID or ENVID is id (htgate-fetch routes HTG's
 *	answer to it): 1 found, 0 not, -1 database error.
 *
 *	record_purge() deletes decisions, claims and rate events older than
 *	the given age in batches, each its own short transaction with a
 *	pause after it, so writers wait at most one batch: the batch size
 *	adapts so that a batch takes about RECORD_PURGE_MS (at most
 *	RECORD_PURGE_BATCH rows); it returns the number of decisions.
 *	record_purge_ex() takes a fixed batch size (0: adaptive) and reports
 *	the longest batch in ms.
 *
 *	Claims carry the uniqueness rules HDR-MSGID and ENV-ENVID: a
 *	Message-ID or ENVID is used when a message carrying it is handed to
 *	the HTG transport (the egress stage).  record_claim() claims the
 *	message's identifiers in one transaction against the primary key on
 *	(kind, id) (SQLite: IMMEDIATE; PostgreSQL: INSERT ... ON CONFLICT
 *	DO UPDATE ... WHERE, which waits for a concurrent claim of the same
 *	key), so of any number of threads, processes or relays claiming the
 *	same identifier at once exactly one succeeds.  A claim younger than
 *	c->window seconds held by another holder is a duplicate; a claim by
 *	the same holder (the same queued message delivered again) is taken
 *	over; an older one is replaced.  Either every identifier of c is
 *	claimed or none.  It returns 0 when claimed, RECORD_DUP_MSGID
 *	and/or RECORD_DUP_ENVID when not.  record_claimed() answers the same
 *	question without claiming (the early check at ingress).  Each
 *	refusal counts in htgate_uniqueness_refusals_total{kind,stage}.
 *
 *	record_summary() calls fn once per (key, action) with the number of
 *	decisions since the given unix time: by "day" (key YYYY-MM-DD,
 *	UTC), "rule" (each rule of a decision once, "RULE:action" under its
 *	own action), "sender", "stream" or "environment" (NULL or empty:
 *	"-").  The database groups; a key may come more than once (sum).
 *	record_show() calls fn for every decision of a message, oldest
 *	first: the rows whose queue ID, Message-ID (with or without angle
 *	brackets) or ENVID is id, and the rows of the same queue ID; it
 *	returns their number.  record_entry_fields() gives a row's fields
 *	as (name, value) pairs in the schema's order (NULL and empty left
 *	out), for display.
 *
 *	record_info() describes the database (backend, schema version,
 *	rows, time span, size in bytes: the SQLite file with its WAL, or
 *	pg_database_size()).  record_tallies() calls fn for every tally
 *	(name, Prometheus label text, value), sorted by name and labels.
 *	record_tally_add() adds to a counter with the next commit;
 *	record_tally_set() sets a gauge at once.  record_label() appends
 *	name="value" to a label text, escaped for the Prometheus text
 *	format.
 *
 *	record_rate_take() is one step of a sliding window of window_ms
 *	named key (lib/rate.c): events older than the window are dropped;
 *	1 when limit events are in it (over; the event is still counted
 *	when count_over is set), else the event is counted and 0; -1 on a
 *	database error.  Serialised per key across processes and relays
 *	(SQLite: IMMEDIATE; PostgreSQL: an advisory transaction lock); not
 *	synced to disk (a lost event after a crash only loosens the limit).
 *
 *	record_fetch_claim() claims one answer of account's mailbox for the
 *	caller's htgate-fetch (PostgreSQL only; SQLite keeps htgate-fetch's
 *	state file): RECORD_FETCH_NEW (claimed: a transaction holds the row
 *	locked until record_fetch_done()), RECORD_FETCH_DONE (handed over
 *	already: delete it on the server), RECORD_FETCH_BUSY (another
 *	htgate-fetch holds it now: SELECT ... FOR UPDATE SKIP LOCKED), or
 *	-1.  A claimer that dies releases its claim with its connection.
 *	record_fetch_done() commits the claim as handed over (delivered) or
 *	releases it.  record_fetch_retain() forgets handed-over answers the
 *	server no longer lists, after keep_seconds.
 *
 *	record_explain() gives the query plan of one of the module's lookups
 *	("claim", "claimed", "show", "sender_of", "purge", "summary-since",
 *	"rate") for the test that refuses full scans; record_sql() runs one
 *	statement (tests only).
 *
 *	record_hash_* is the SHA-256 of the body, fed chunk by chunk
 *	(OpenSSL EVP), giving the lower-case hex string of body_sha256.
 * ERRORS
 *	record_open() returns NULL, the others -1, with a reason in err;
 *	record_claimed() -1 on a database error (the caller tempfails: fail
 *	closed).  A PostgreSQL connection that broke is opened again on the
 *	next call.
 * OWNERSHIP
 *	record_open() returns a handle freed with record_close() (NULL is
 *	safe).  Entry strings are borrowed for the call only (copied when
 *	queued).  Strings given to callbacks are valid during the call.
 * THREAD SAFETY
 *	One handle may be shared by any number of threads: the queue has its
 *	own mutex, the backend connection another.  Separate processes each
 *	open their own handle.  A fetch claim belongs to the thread that
 *	took it until record_fetch_done().
 */
#ifndef HTG_RECORD_H
#define HTG_RECORD_H

#include <stddef.h>

#define RECORD_SCHEMA_VERSION	4
#define RECORD_HOLDER_MAX	128	/* a claim's holder token */
#define RECORD_DUP_MSGID	0x01	/* record_claim(): Message-ID taken */
#define RECORD_DUP_ENVID	0x02	/* record_claim(): ENVID taken */
#define RECORD_SHA256_HEX	65	/* 64 hex digits and NUL */
#define RECORD_DEFAULT_DB	"/var/lib/htgate/record.db"
#define RECORD_DB_NAME		"record.db"	/* inside state_dir */
#define RECORD_DEFAULT_RETENTION 400	/* days; [record] retention */
#define RECORD_COMMIT_WAIT_MS	10000	/* record_write(): at most */
#define RECORD_ASYNC_MS		50	/* record_write_async(): at most */
#define RECORD_BATCH_MAX	512	/* rows in one group commit */
#define RECORD_PURGE_BATCH	2000	/* decisions per purge transaction, at most */
#define RECORD_PURGE_MS		40	/* a purge transaction's target length */
#define RECORD_LABELS_MAX	512	/* one tally's label text */

enum record_fetch {
	RECORD_FETCH_NEW = 0,
	RECORD_FETCH_DONE = 1,
	RECORD_FETCH_BUSY = 2,
};

/* One decision.  Every string may be NULL. */
struct record_entry {
	long long time;			/* unix seconds; 0 = now */
	const char *host;		/* this relay's host name */
	const char *queue_id;		/* Postfix queue ID */
	const char *stage;		/* stage_name(): "rcpt", "eom", ... */
	const char *action;		/* accept|reject|tempfail|warn|fix */
	const char *rules;		/* space-separated rule IDs */
	const char *sender;
	const char *sasl_user;		/* login name only, never a password */
	const char *recipient;
	const char *stream;
	const char *environment;
	const char *message_id;
	const char *envid;
	long long size;			/* octets; -1 unknown */
	const char *body_sha256;	/* hex */
	const char *reply;		/* the reply text given, lines joined by \n */
	const char *daemon;		/* "milter", "egress", "policyd" */
	const char *details;		/* why: "RULE: finding" lines, and
					 * "repair: " what a repair dropped */
};

/* The identifiers one message claims (record_claim). */
struct record_claim {
	const char *message_id;		/* NULL or "": none */
	const char *envid;		/* NULL or "": none */
	const char *holder;		/* the queued message's identity */
	const char *queue_id;		/* kept for the reader */
	long	window;			/* seconds a claim is exclusive */
};

/* What record_info() tells about the database. */
struct record_info {
	char	backend[16];		/* "sqlite" or "postgresql" */
	int	version;		/* schema version */
	long long decisions;		/* rows in decision */
	long long claims;		/* rows in claim */
	long long oldest, newest;	/* unix seconds of the decisions; 0 */
	long long bytes;		/* the database, in bytes */
	long long wal_bytes;		/* SQLite: its WAL file; else -1 */
	long long free_bytes;		/* SQLite: free pages; else -1 */
};

typedef void (*record_count_fn)(void *arg, const char *key,
	const char *action, long long n);
typedef void (*record_show_fn)(void *arg, const struct record_entry *e);
typedef void (*record_field_fn)(void *arg, const char *name,
	const char *value);
typedef void (*record_tally_fn)(void *arg, const char *name,
	const char *labels, long long value);

struct record;

struct record *record_open(const char *target, char *err, size_t errlen);
int	record_init(const char *target, int *from, int *to, char *err,
	size_t errlen);
int	record_is_pg(const char *target);
void	record_close(struct record *rec);

int	record_write(struct record *rec, const struct record_entry *e,
	char *err, size_t errlen);
int	record_write_async(struct record *rec, const struct record_entry *e,
	char *err, size_t errlen);
int	record_claim(struct record *rec, const struct record_claim *c,
	char *err, size_t errlen);
int	record_claimed(struct record *rec, const struct record_claim *c);
int	record_sender_of(struct record *rec, const char *id, char *sender,
	size_t senderlen);
long	record_purge(struct record *rec, long older_than_seconds,
	char *err, size_t errlen);
long	record_purge_ex(struct record *rec, long older_than_seconds,
	int batch, double *longest_ms, char *err, size_t errlen);

int	record_summary(struct record *rec, const char *by, long long since,
	record_count_fn fn, void *arg, char *err, size_t errlen);
int	record_show(struct record *rec, const char *id, record_show_fn fn,
	void *arg, char *err, size_t errlen);
void	record_entry_fields(const struct record_entry *e, record_field_fn fn,
	void *arg);
int	record_info(struct record *rec, struct record_info *info, char *err,
	size_t errlen);
int	record_tallies(struct record *rec, record_tally_fn fn, void *arg,
	char *err, size_t errlen);
void	record_tally_add(struct record *rec, const char *name,
	const char *labels, long long delta);
int	record_tally_set(struct record *rec, const char *name,
	const char *labels, long long value, char *err, size_t errlen);
void	record_label(char *buf, size_t buflen, const char *name,
	const char *value);

int	record_rate_take(struct record *rec, const char *key, int limit,
	long long window_ms, int count_over, char *err, size_t errlen);
int	record_fetch_claim(struct record *rec, const char *account,
	const char *uidl, char *err, size_t errlen);
int	record_fetch_done(struct record *rec, int delivered, char *err,
	size_t errlen);
int	record_fetch_retain(struct record *rec, const char *account,
	const char *const *uidls, size_t n, long keep_seconds, char *err,
	size_t errlen);

int	record_explain(struct record *rec, const char *query, char *plan,
	size_t planlen, char *err, size_t errlen);
int	record_sql(struct record *rec, const char *sql, char *err,
	size_t errlen);

struct record_hash {
	void   *ctx;			/* EVP_MD_CTX *; NULL after an error */
};

void	record_hash_init(struct record_hash *h);
void	record_hash_update(struct record_hash *h, const void *buf, size_t len);
void	record_hash_final(struct record_hash *h, char hex[RECORD_SHA256_HEX]);

#endif
