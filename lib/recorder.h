/*
 * NAME
 *	recorder - engine decisions into the compliance record
 * SYNOPSIS
 *	#include "recorder.h"
 *
 *	int	recorder_enabled(const struct htg_cfg *cfg);
 *	int	recorder_path(const struct htg_cfg *cfg, char *buf,
 *		size_t buflen);
 *	int	recorder_write(const struct htg_msg *msg,
 *		const struct recorder_note *note, char *err, size_t errlen);
 *	enum htg_verdict recorder_unique(struct htg_msg *msg,
 *		const char *holder, char *err, size_t errlen);
 *	int	recorder_check(const struct htg_cfg *cfg, char *err,
 *		size_t errlen);
 *	int	recorder_sender_of(const struct htg_cfg *cfg, const char *id,
 *		char *sender, size_t senderlen, char *err, size_t errlen);
 *	int	recorder_rate_take(const struct htg_cfg *cfg, const char *key,
 *		int limit, long long window_ms, int count_over, char *err,
 *		size_t errlen);
 *	void	recorder_shutdown(void);
 * DESCRIPTION
 *	The glue between the rule engine (engine.h) and the record
 *	(record.h: SQLite or PostgreSQL), shared by htgate-milter and
 *	htgate-policyd so both write the same row for the same decision.
 *
 *	recorder_enabled() says whether [record] enabled = yes.
 *	recorder_path() gives the database: [record] database (a file or a
 *	postgresql:// URL), or state_dir/record.db when that is empty.
 *
 *	recorder_write() writes one row for a decision about msg: time,
 *	host name, queue ID, stage, action (reject, tempfail, or for a
 *	passed message fix, warn or accept, from the findings), the rule IDs
 *	of every finding, sender, SASL login name (never a password),
 *	recipient, stream, environment, Message-ID (the one htgate added if
 *	it fixed a missing one), ENVID, size, the body's SHA-256 and the
 *	reply text, all taken from msg and note.  It returns when the row
 *	is on disk (record_write(): group commit), or, with note->async,
 *	at once (record_write_async(): committed within RECORD_ASYNC_MS;
 *	htgate-policyd's refusals, which no 250 depends on).
 *
 *	recorder_unique() is the end-of-message uniqueness check of
 *	HDR-MSGID and ENV-ENVID against the record's claims (record.h).
 *	With holder NULL (ingress: the early refusal the sender sees) it
 *	only asks whether the message's Message-ID or ENVID is already
 *	used within [record] unique_window days.  With a holder (egress:
 *	the message is about to be handed to the HTG transport) it claims
 *	them atomically: of identical messages delivered at once exactly
 *	one gets them, and the same queued message delivered again (the
 *	holder is its identity) keeps them.  Each used identifier adds a
 *	finding with [record] duplicate_action (htg_msg_add_finding_as).
 *	A Message-ID or ENVID that htgate generated is new by construction
 *	and is not looked up.  A database error adds an INTERNAL finding
 *	(tempfail) whose detail, which the sender reads, is only
 *	RECORDER_UNAVAILABLE; the reason (with the file name) goes into err
 *	for the adapter's log.  A message that could not be checked never
 *	passes.  Returns the verdict of the findings it added (HTG_CONTINUE:
 *	none refuses).

 *	Handles are opened on first use and kept per database path for the
 *	life of the process (a reload that names another file opens it
 *	next to the old one); a failed open is retried on the next call.
 *	recorder_check() opens the handle at start-up (0 when [record] is
 *	off), so a daemon can say at once that HTG mail will be deferred.
 *	recorder_sender_of() is record_sender_of() on cfg's record (0 when
 *	[record] is off): who sent the message HTG is answering.
 *	recorder_rate_take() is record_rate_take() on cfg's record (the
 *	ENV-RATE windows of lib/rate.c).
 *	recorder_shutdown() closes them all (committing what is queued).
 * ERRORS
 *	recorder_write() returns -1 with a reason in err (no secret can be
 *	in it: the row holds none); recorder_path() -1 when the path does
 *	not fit.
 * OWNERSHIP
 *	Everything in a note is borrowed for the call.
 * THREAD SAFETY
 *	Safe from any thread: the handle table has a mutex and each handle
 *	serialises its own calls (record.h).
 */
#ifndef HTG_RECORDER_H
#define HTG_RECORDER_H

#include <stddef.h>

#include "cfg.h"
#include "engine.h"

/* The detail of an INTERNAL finding when the record fails (no path). */
#define RECORDER_UNAVAILABLE	"the decision record is unavailable"

/* What the adapter knows about a decision that the engine does not. */
struct recorder_note {
	const char *daemon;		/* "milter" or "policyd" */
	enum htg_stage stage;		/* where it was decided */
	enum htg_verdict verdict;	/* ACCEPT, REJECT or TEMPFAIL */
	const char *sasl_user;		/* login name or NULL */
	const char *queue_id;		/* NULL: the engine's */
	const char *recipient;		/* NULL: the engine's (it forgets a
					 * recipient it refused at RCPT) */
	const char *body_sha256;	/* hex, NULL or "" unknown */
	long long size;			/* -1: the engine's count (from HEADER) */
	const struct htg_reply *reply;	/* what the client was told, or NULL */
	const char *reply_text;		/* the same as one string (policyd) */
	int	async;			/* don't wait for the commit */
};

int	recorder_enabled(const struct htg_cfg *cfg);
int	recorder_path(const struct htg_cfg *cfg, char *buf, size_t buflen);
int	recorder_write(const struct htg_msg *msg,
	const struct recorder_note *note, char *err, size_t errlen);
enum htg_verdict recorder_unique(struct htg_msg *msg, const char *holder,
	char *err, size_t errlen);
int	recorder_check(const struct htg_cfg *cfg, char *err, size_t errlen);
int	recorder_sender_of(const struct htg_cfg *cfg, const char *id,
	char *sender, size_t senderlen, char *err, size_t errlen);
int	recorder_rate_take(const struct htg_cfg *cfg, const char *key,
	int limit, long long window_ms, int count_over, char *err,
	size_t errlen);
void	recorder_shutdown(void);

/* recorder_reply_text - reply lines as "550-5.6.0 text\n550 5.6.0 text" */
void	recorder_reply_text(const struct htg_reply *r, char *buf,
	size_t buflen);

#endif
