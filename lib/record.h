/*
 * NAME
 *	record - the compliance record: every decision, kept in SQLite
 * SYNOPSIS
 *	#include "record.h"
 *
 *	struct record *record_open(const char *path, char *err, size_t errlen);
 *	int	record_write(struct record *rec, const struct record_entry *e,
 *		char *err, size_t errlen);
 *	int	record_claim(struct record *rec, const struct record_claim *c,
 *		char *err, size_t errlen);
 *	int	record_claimed(struct record *rec, const struct record_claim *c);
 *	int	record_sender_of(struct record *rec, const char *id,
 *		char *sender, size_t senderlen);
 *	long	record_purge(struct record *rec, long older_than_seconds,
 *		char *err, size_t errlen);
 *	void	record_close(struct record *rec);
 *	void   *record_db(struct record *rec);
 *
 *	void	record_hash_init(struct record_hash *h);
 *	void	record_hash_update(struct record_hash *h, const void *buf,
 *		size_t len);
 *	void	record_hash_final(struct record_hash *h,
 *		char hex[RECORD_SHA256_HEX]);
 * DESCRIPTION
 *	One row per decision in table "decision" of an SQLite database
 *	(schema version in PRAGMA user_version; see htgate-report(1)).
 *	record_open() creates the file and the schema if needed and puts
 *	the database in WAL mode with synchronous=NORMAL: a committed row
 *	survives the writer being killed (kill -9) because it is already in
 *	the WAL file held by the kernel; only a power loss or OS crash can
 *	lose the last commits.  busy_timeout lets the milter's threads and
 *	the policy daemon write to the same file at the same time.
 *
 *	record_write() inserts one row in its own transaction; NULL strings
 *	are stored as NULL; time 0 means "now".  record_sender_of() gives
 *	the envelope sender of the newest delivered decision whose
 *	Message-ID or ENVID is id (htgate-fetch routes HTG's answer to
 *	it): 1 found, 0 not, -1 database error.  record_purge() deletes
 *	rows and claims older than the given age and returns how many rows.
 *
 *	Claims (table "claim", schema version 2) carry the uniqueness rules
 *	HDR-MSGID and ENV-ENVID: a Message-ID or ENVID is used when a
 *	message carrying it is handed to the HTG transport (the egress
 *	stage).  record_claim() claims the message's identifiers in one
 *	IMMEDIATE transaction against a primary key on (kind, id), so of any
 *	number of threads or processes claiming the same identifier at once
 *	exactly one succeeds.  A claim younger than c->window seconds held
 *	by another holder is a duplicate; a claim by the same holder (the
 *	same queued message delivered again, e.g. after a temporary
 *	failure) is taken over; an older one is replaced.  Either every
 *	identifier of c is claimed or none.  It returns 0 when claimed,
 *	RECORD_DUP_MSGID and/or RECORD_DUP_ENVID when not (nothing claimed).
 *	record_claimed() answers the same question without claiming (the
 *	early check at ingress): the bits of the identifiers anyone holds
 *	within the window.  Opening a version 1 database adds the claim
 *	table and claims every Message-ID and ENVID it shows as delivered.

 *	record_hash_* is the SHA-256 of the body, fed chunk by chunk
 *	(OpenSSL EVP), giving the lower-case hex string of body_sha256.
 * ERRORS
 *	record_open() returns NULL, record_write() -1, record_purge() -1
 *	with a reason in err, record_claim() -1 with a reason and
 *	record_claimed() -1 on a database error (the caller tempfails: fail
 *	closed).
 * OWNERSHIP
 *	record_open() returns a handle freed with record_close() (NULL is
 *	safe).  Entry strings are borrowed for the call only.
 * THREAD SAFETY
 *	One handle may be shared by any number of threads: each call holds
 *	the handle's mutex.  Separate processes each open their own handle.
 */
#ifndef HTG_RECORD_H
#define HTG_RECORD_H

#include <stddef.h>

#define RECORD_SCHEMA_VERSION	2
#define RECORD_HOLDER_MAX	128	/* a claim's holder token */
#define RECORD_DUP_MSGID	0x01	/* record_claim(): Message-ID taken */
#define RECORD_DUP_ENVID	0x02	/* record_claim(): ENVID taken */
#define RECORD_SHA256_HEX	65	/* 64 hex digits and NUL */
#define RECORD_DEFAULT_DB	"/var/lib/htgate/record.db"
#define RECORD_DB_NAME		"record.db"	/* inside state_dir */
#define RECORD_DEFAULT_RETENTION 400	/* days; [record] retention */

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
	const char *daemon;		/* "milter", "policyd" */
};

/* The identifiers one message claims (record_claim). */
struct record_claim {
	const char *message_id;		/* NULL or "": none */
	const char *envid;		/* NULL or "": none */
	const char *holder;		/* the queued message's identity */
	const char *queue_id;		/* kept for the reader */
	long	window;			/* seconds a claim is exclusive */
};

struct record;

struct record *record_open(const char *path, char *err, size_t errlen);
int	record_write(struct record *rec, const struct record_entry *e,
	char *err, size_t errlen);
int	record_claim(struct record *rec, const struct record_claim *c,
	char *err, size_t errlen);
int	record_claimed(struct record *rec, const struct record_claim *c);
int	record_sender_of(struct record *rec, const char *id, char *sender,
	size_t senderlen);
long	record_purge(struct record *rec, long older_than_seconds,
	char *err, size_t errlen);
void	record_close(struct record *rec);

/* record_db - the sqlite3 * of the handle, for read-only reports */
void   *record_db(struct record *rec);

struct record_hash {
	void   *ctx;			/* EVP_MD_CTX *; NULL after an error */
};

void	record_hash_init(struct record_hash *h);
void	record_hash_update(struct record_hash *h, const void *buf, size_t len);
void	record_hash_final(struct record_hash *h, char hex[RECORD_SHA256_HEX]);

#endif
