/*
 * NAME
 *	ctx - connection and message contexts of htgate-milter
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	struct mlt_conn *mlt_conn_new(int nonsmtp);
 *	void	mlt_conn_free(struct mlt_conn *conn);
 *	int	mlt_msg_start(struct mlt_conn *conn, char **argv);
 *	void	mlt_msg_reset(struct mlt_conn *conn);
 *	void	mlt_msg_note_rcpt(struct mlt_conn *conn, const char *rcpt);
 *	void	mlt_msg_body(struct mlt_conn *conn, const void *buf, size_t len);
 *	void	mlt_msg_body_end(struct mlt_conn *conn);
 *	void	mlt_msg_rcpt_judged(struct mlt_conn *conn, const char *rcpt);
 * DESCRIPTION
 *	Two levels, with this life cycle:
 *
 *	field		allocated by		released by
 *	conn		xxfi_connect		xxfi_close (mlt_conn_free)
 *	conn->cfg	xxfi_envfrom		mlt_msg_reset: next envfrom,
 *	conn->msg	(mlt_msg_start)		xxfi_abort, xxfi_close
 *	sender, ret	xxfi_envfrom		(fixed arrays, cleared on reset)
 *	rcpt		xxfi_envrcpt		(fixed array, cleared on reset)
 *	sasl		xxfi_envfrom		(fixed array, cleared on reset)
 *	last_rcpt	xxfi_envrcpt		(fixed array, cleared on reset)
 *	hash		mlt_msg_start		mlt_msg_body_end (xxfi_eom)
 *						or mlt_msg_reset
 *	sha256		mlt_msg_body_end	(fixed array, cleared on reset)
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
 * ERRORS
 *	mlt_conn_new() returns NULL and mlt_msg_start() -1 when memory or
 *	the configuration is missing; the caller answers tempfail.
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

#include "milter.h"
#include "recorder.h"

/* mlt_conn_new - context for a new connection, NULL on failure */
struct mlt_conn *
mlt_conn_new(int nonsmtp)
{
	struct mlt_conn *conn = g_try_new0(struct mlt_conn, 1);

	if (conn != NULL)
		conn->nonsmtp = nonsmtp;
	return (conn);
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
	conn->sender[0] = conn->ret[0] = conn->rcpt[0] = 0;
	conn->sasl[0] = conn->sha256[0] = conn->last_rcpt[0] = 0;
	conn->truncated = 0;
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

	mlt_msg_reset(conn);
	if ((conn->cfg = cfg_current_get()) == NULL)
		return (-1);
	conn->msg = htg_msg_new(conn->cfg,
				conn->nonsmtp ? HTG_MSG_DEFER_ENVELOPE : 0);
	if (conn->msg == NULL)
		return (-1);
	keep(conn, conn->sender, sizeof(conn->sender), argv ? argv[0] : "");
	for (a = argv ? argv + 1 : NULL; a && *a; a++)
		if (strncasecmp(*a, "RET=", 4) == 0)
			keep(conn, conn->ret, sizeof(conn->ret), *a);
	if (recorder_enabled(conn->cfg))
		record_hash_init(&conn->hash);
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

/* mlt_msg_body_end - finish the SHA-256 into conn->sha256 (once) */
void
mlt_msg_body_end(struct mlt_conn *conn)
{
	if (conn->hash.ctx != NULL)
		record_hash_final(&conn->hash, conn->sha256);
}

/* mlt_msg_note_rcpt - keep the first HTG recipient as sent */
void
mlt_msg_note_rcpt(struct mlt_conn *conn, const char *rcpt)
{
	if (conn->rcpt[0] == 0 && conn->msg && htg_msg_is_htg(conn->msg))
		keep(conn, conn->rcpt, sizeof(conn->rcpt), rcpt);
}
