/*
 * NAME
 *	ctx - connection and message contexts of htgate-milter
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	struct mlt_conn *mlt_conn_new(unsigned long nr);
 *	void	mlt_conn_open(struct mlt_conn *conn, int nonsmtp,
 *		const char *route);
 *	void	mlt_conn_free(struct mlt_conn *conn);
 *	int	mlt_msg_start(struct mlt_conn *conn, char **argv);
 *	void	mlt_msg_reset(struct mlt_conn *conn);
 *	void	mlt_msg_note_rcpt(struct mlt_conn *conn, const char *rcpt);
 *	void	mlt_msg_header(struct mlt_conn *conn, const char *name,
 *		const char *value, const char *queue_id);
 *	void	mlt_msg_body(struct mlt_conn *conn, const void *buf, size_t len);
 *	void	mlt_msg_body_end(struct mlt_conn *conn);
 *	void	mlt_msg_rcpt_judged(struct mlt_conn *conn, const char *rcpt);
 * DESCRIPTION
 *	Two levels, with this life cycle:
 *
 *	field		allocated by		released by
 *	conn		xxfi_negotiate (or	xxfi_close (mlt_conn_free)
 *			xxfi_connect)
 *	conn->cfg	xxfi_envfrom		mlt_msg_reset: next envfrom,
 *	conn->msg	(mlt_msg_start)		xxfi_abort, xxfi_close
 *	sender, ret	xxfi_envfrom		(fixed arrays, cleared on reset)
 *	rcpt		xxfi_envrcpt		(fixed array, cleared on reset)
 *	sasl		xxfi_envfrom		(fixed array, cleared on reset)
 *	last_rcpt	xxfi_envrcpt		(fixed array, cleared on reset)
 *	hash		mlt_msg_start		mlt_msg_body_end (xxfi_eom)
 *						or mlt_msg_reset
 *	sha256		mlt_msg_body_end	(fixed array, cleared on reset)
 *	holder_hash	mlt_msg_start (egress)	mlt_msg_body_end (xxfi_eom)
 *						or mlt_msg_reset
 *	holder		mlt_msg_body_end	(fixed array, cleared on reset)
 *	repair_in	xxfi_body or xxfi_eom	mlt_msg_reset (mlt_repair_reset)
 *	repair		xxfi_eom		(repair_glue.c)
 *
 *	The configuration snapshot is pinned per message (at MAIL), so a
 *	SIGHUP reload applies to the next message of a long SMTP session
 *	and never to a message in flight.
 *
 *	mlt_msg_start() takes the current snapshot, creates the engine's
 *	message (with HTG_MSG_DEFER_ENVELOPE for non-SMTP submissions) and
 *	keeps the sender and its RET= parameter as sent, for smfi_chgfrom()
 *	at end of message.  mlt_msg_note_rcpt() keeps the first accepted
 *	HTG recipient as sent, for smfi_delrcpt()/smfi_addrcpt_par().
 *	mlt_msg_rcpt_judged() keeps the recipient being judged, without
 *	its angle brackets, for the record row of a refusal at RCPT (the
 *	engine forgets a recipient it refuses).
 *	When [record] is enabled, mlt_msg_body() feeds the body SHA-256
 *	of the decision record and mlt_msg_body_end() finishes it into
 *	conn->sha256.
 *
 *	At egress the message's identity for the uniqueness claim
 *	(recorder_unique) is the SHA-256 of its envelope (sender, each
 *	recipient) and every header field as delivered.  Postfix 3.7 does
 *	not pass the Received: header the egress smtpd adds to the milter
 *	(seen in the sandbox: the first header is the relay's ingress
 *	Received:, naming the queue ID the message had at ingress); one
 *	that names this transaction's queue ID would be left out.  So the
 *	same queued message delivered again (a retry after a temporary
 *	failure) has the same identity; two copies of a message queued
 *	separately differ at least in the Received: header the relay added
 *	when it queued each, and two deliveries of one message to different
 *	HTG recipients differ in the envelope.
 * ERRORS
 *	mlt_msg_start() returns -1 when there is no configuration or the
 *	egress environment is unknown; the caller answers tempfail.
 *
 *	Out of memory: every allocation here, in the engine and in GMime
 *	goes through GLib, whose g_malloc() and g_new() abort the process
 *	when memory runs out; htgate does not try to go on with part of
 *	its allocations failed (no g_try_*; SQLite's own out-of-memory
 *	error is a record error, an INTERNAL tempfail, recorder.h).  So
 *	mlt_conn_new() never returns NULL.  The abort ends every session in
 *	flight; Postfix then applies milter_default_action = tempfail (or
 *	the milter's own default_action=tempfail, htgate-milter(8)), so the
 *	senders keep their messages and retry, and the service manager
 *	starts the milter again (Restart=always in the shipped unit).  An
 *	HTG-bound message is never accepted unchecked.
 * OWNERSHIP
 *	The connection is the caller's (libmilter's private pointer) until
 *	mlt_conn_free(), which accepts NULL since xxfi_close can come
 *	before xxfi_connect.
 * THREAD SAFETY
 *	A context is used by one libmilter thread at a time.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "log.h"
#include "milter.h"
#include "recorder.h"

/*
 * mlt_conn_new - context for a new connection, made when the no-reply
 * steps NR are agreed (xxfi_negotiate).  They belong to the connection,
 * not to a thread: Debian's libmilter hands a session's commands to any
 * thread of its worker pool.
 */
struct mlt_conn *
mlt_conn_new(unsigned long nr)
{
	struct mlt_conn *conn = g_new0(struct mlt_conn, 1);	/* or abort */

	conn->nr = nr;
	return (conn);
}

/* mlt_conn_open - xxfi_connect: what kind of connection (route: egress) */
void
mlt_conn_open(struct mlt_conn *conn, int nonsmtp, const char *route)
{
	conn->nonsmtp = nonsmtp && route == NULL;
	conn->egress = route != NULL;
	g_strlcpy(conn->route, route ? route : "", sizeof(conn->route));
	conn->open = 1;
}

/* mlt_msg_reset - forget the current message (if any) */
void
mlt_msg_reset(struct mlt_conn *conn)
{
	if (conn == NULL)
		return;
	htg_msg_free(conn->msg);
	conn->msg = NULL;
	if (conn->cfg != NULL)
		cfg_unref(conn->cfg);
	conn->cfg = NULL;
	mlt_msg_body_end(conn);
	mlt_repair_reset(conn);
	conn->sender[0] = conn->ret[0] = conn->rcpt[0] = 0;
	conn->sasl[0] = conn->sha256[0] = conn->last_rcpt[0] = 0;
	conn->holder[0] = 0;
	conn->truncated = 0;
	conn->nheaders = 0;
}

/* mlt_conn_free - release a connection (NULL is fine) */
void
mlt_conn_free(struct mlt_conn *conn)
{
	if (conn == NULL)
		return;
	mlt_msg_reset(conn);
	g_free(conn);
}

/* holder_add - one "name: value" line of the egress identity */
static void
holder_add(struct mlt_conn *conn, const char *name, const char *value)
{
	record_hash_update(&conn->holder_hash, name, strlen(name));
	record_hash_update(&conn->holder_hash, ": ", 2);
	record_hash_update(&conn->holder_hash, value, strlen(value));
	record_hash_update(&conn->holder_hash, "\n", 1);
}

/* keep - bounded copy that remembers truncation */
static void
keep(struct mlt_conn *conn, char *dst, size_t dstlen, const char *src)
{
	if (g_strlcpy(dst, src ? src : "", dstlen) >= dstlen)
		conn->truncated = 1;
}

/* mlt_msg_start - new message at MAIL FROM; argv as libmilter gives it */
int
mlt_msg_start(struct mlt_conn *conn, char **argv)
{
	char  **a;

	const struct htg_env *route = NULL;

	mlt_msg_reset(conn);
	if ((conn->cfg = cfg_current_get()) == NULL)
		return (-1);
	if (conn->route[0] && (route = cfg_env_by_name(conn->cfg,
						       conn->route)) == NULL)
		return (-1);		/* an egress for an unknown environment */
	conn->msg = htg_msg_new(conn->cfg,
				(conn->nonsmtp ? HTG_MSG_DEFER_ENVELOPE : 0)
				| (conn->egress ? HTG_MSG_EGRESS : 0));
	if (conn->msg == NULL)
		return (-1);
	htg_msg_set_route(conn->msg, route);
	keep(conn, conn->sender, sizeof(conn->sender), argv ? argv[0] : "");
	for (a = argv ? argv + 1 : NULL; a && *a; a++)
		if (strncasecmp(*a, "RET=", 4) == 0)
			keep(conn, conn->ret, sizeof(conn->ret), *a);
	if (recorder_enabled(conn->cfg))
		record_hash_init(&conn->hash);
	if (conn->egress) {
		record_hash_init(&conn->holder_hash);
		holder_add(conn, "MAIL", conn->sender);
	}
	return (0);
}

/* mlt_msg_rcpt_judged - the RCPT being judged, "<a@b>" as "a@b" */
void
mlt_msg_rcpt_judged(struct mlt_conn *conn, const char *rcpt)
{
	size_t	n = strlen(rcpt);

	if (n >= 2 && rcpt[0] == '<' && rcpt[n - 1] == '>')
		snprintf(conn->last_rcpt, sizeof(conn->last_rcpt), "%.*s",
			 (int) (n - 2), rcpt + 1);
	else
		g_strlcpy(conn->last_rcpt, rcpt, sizeof(conn->last_rcpt));
}

/* mlt_msg_body - one body chunk into the record's SHA-256 */
void
mlt_msg_body(struct mlt_conn *conn, const void *buf, size_t len)
{
	record_hash_update(&conn->hash, buf, len);
}

/*
 * mlt_msg_header - one header into the egress identity, except the
 * Received: header of the egress smtpd itself (Postfix passes its own
 * Received: header first; it names this transaction's queue ID)
 */
void
mlt_msg_header(struct mlt_conn *conn, const char *name, const char *value,
	       const char *queue_id)
{
	char	id[64];

	if (!conn->egress)
		return;
	if (conn->nheaders++ == 0 && strcasecmp(name, "Received") == 0
	    && queue_id != NULL && *queue_id
	    && (size_t) snprintf(id, sizeof(id), " id %s", queue_id) < sizeof(id)
	    && strstr(value, id) != NULL) {
		log_debug("%s: egress: identity without its own Received: "
			  "header", queue_id);
		return;
	}
	holder_add(conn, name, value);
}

/* mlt_msg_body_end - finish the SHA-256s into sha256 and holder (once) */
void
mlt_msg_body_end(struct mlt_conn *conn)
{
	if (conn->hash.ctx != NULL)
		record_hash_final(&conn->hash, conn->sha256);
	if (conn->holder_hash.ctx != NULL)
		record_hash_final(&conn->holder_hash, conn->holder);
}

/* mlt_msg_note_rcpt - keep the first HTG recipient as sent */
void
mlt_msg_note_rcpt(struct mlt_conn *conn, const char *rcpt)
{
	if (conn->egress)
		holder_add(conn, "RCPT", rcpt);
	if (conn->rcpt[0] == 0 && conn->msg && htg_msg_is_htg(conn->msg))
		keep(conn, conn->rcpt, sizeof(conn->rcpt), rcpt);
}
