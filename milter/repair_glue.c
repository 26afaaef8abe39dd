/*
 * NAME
 *	repair_glue - htgate-milter's side of a repair (lib/repair.h)
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	void	mlt_repair_body(struct mlt_conn *conn, const void *buf,
 *		size_t len);
 *	void	mlt_repair_eom(struct mlt_conn *conn);
 *	const char *mlt_repair_apply(SMFICTX *ctx, struct mlt_conn *conn);
 *	void	mlt_repair_reset(struct mlt_conn *conn);
 * DESCRIPTION
 *	When the engine plans a repair at end of headers
 *	(htg_msg_repair_planned()), the message's body must be kept until
 *	end of message, when the repair runs.  mlt_repair_body() (from
 *	xxfi_body) keeps it in a spool (repair_spool.h): [global]
 *	repair_memory bytes in memory, the rest in an unlinked temporary
 *	file in repair_dir, so memory stays bounded however large the
 *	message is.  The spool starts with the message's Content-Type,
 *	Content-Transfer-Encoding and Content-Disposition as the engine kept
 *	them (unfolded), so it holds the MIME entity the repair parses; the
 *	body chunks follow as Postfix sends them (CR LF line ends).  Mail
 *	that is not repaired is never kept.
 *
 *	mlt_repair_eom() (from xxfi_eom, before htg_msg_eom()) runs the
 *	repairs htg_msg_repair_due() names on the kept entity; the engine
 *	then decides with the repair's findings.  A body that could not be
 *	kept (a full disk) is an INTERNAL finding: tempfail.
 *
 *	mlt_repair_apply() (from xxfi_eom, after the other fixes, for an
 *	accepted message) makes Postfix's copy the repaired one: each of
 *	the three MIME headers is left alone when it is unchanged, else
 *	changed in place (smfi_chgheader index 1) or added
 *	(smfi_addheader), further occurrences and headers the
 *	repaired message has no more are deleted (smfi_chgheader with NULL,
 *	last first), and, when the body changed, it is replaced with
 *	smfi_replacebody in 64 KB chunks read from the repair's spool.
 *	Postfix applies these for smtpd_milters and non_smtpd_milters
 *	alike (cleanup(8) edits the queue file), so sendmail(1) submissions
 *	are repaired too.  The milter negotiates SMFIF_CHGBODY for it
 *	(callbacks.c).
 *
 *	mlt_repair_reset() frees the spool and the result (mlt_msg_reset()).
 * ERRORS
 *	mlt_repair_apply() returns what libmilter refused, for the caller's
 *	internal error (tempfail), or NULL.
 * OWNERSHIP
 *	conn->repair_in and conn->repair live from the first body chunk (or
 *	end of message) to mlt_msg_reset().
 * THREAD SAFETY
 *	Per connection, in its libmilter thread.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "log.h"
#include "milter.h"
#include "repair.h"
#include "repair_spool.h"

#define MLT_REPLACE_CHUNK	(64 * 1024)	/* bytes per smfi_replacebody */

/* The headers a repair sets, as the engine names them. */
static const char *const mlt_mime_headers[] = {
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
};

/* keep_start - a spool with the entity's MIME headers; 0 or -1 */
static int
keep_start(struct mlt_conn *conn)
{
	const struct htg_cfg *cfg = conn->cfg;
	char	err[MLT_ERR_MAX];
	size_t	k;

	conn->repair_in = spool_new(cfg->repair_memory, cfg->repair_dir);
	conn->repair_keep = 1;
	for (k = 0; k < G_N_ELEMENTS(mlt_mime_headers); k++) {
		const char *v = htg_msg_header_value(conn->msg, mlt_mime_headers[k]);
		GString *line;

		if (v == NULL)
			continue;
		line = g_string_new(mlt_mime_headers[k]);
		g_string_append(line, ": ");
		for (; *v; v++)
			if (*v != '\r' && *v != '\n')	/* unfolded */
				g_string_append_c(line, *v);
		g_string_append(line, "\r\n");
		if (spool_write(conn->repair_in, line->str, line->len, err,
				sizeof(err)) < 0)
			conn->repair_failed = 1;
		g_string_free(line, TRUE);
	}
	if (!conn->repair_failed
	    && spool_write(conn->repair_in, "\r\n", 2, err, sizeof(err)) < 0)
		conn->repair_failed = 1;
	if (conn->repair_failed)
		log_err("%s: cannot keep the body for its repair: %s",
			htg_msg_queue_id(conn->msg), err);
	return (conn->repair_failed ? -1 : 0);
}

/* mlt_repair_body - keep a body chunk of a message the engine may repair */
void
mlt_repair_body(struct mlt_conn *conn, const void *buf, size_t len)
{
	char	err[MLT_ERR_MAX];

	if (conn == NULL || conn->msg == NULL || conn->repair_keep < 0
	    || conn->repair_failed)
		return;
	if (conn->repair_keep == 0) {
		if (!htg_msg_repair_planned(conn->msg)) {
			conn->repair_keep = -1;
			return;
		}
		if (keep_start(conn) < 0)
			return;
	}
	if (spool_write(conn->repair_in, buf, len, err, sizeof(err)) < 0) {
		conn->repair_failed = 1;
		log_err("%s: cannot keep the body for its repair: %s",
			htg_msg_queue_id(conn->msg), err);
	}
}

/* mlt_repair_eom - run the due repairs before the final verdict */
void
mlt_repair_eom(struct mlt_conn *conn)
{
	struct htg_msg *msg = conn->msg;
	char	err[MLT_ERR_MAX];
	FILE   *in = NULL;

	if (msg == NULL || !htg_msg_repair_due(msg))
		return;
	if (conn->repair_in == NULL && !conn->repair_failed)
		(void) keep_start(conn);	/* a message without a body */
	if (!conn->repair_failed
	    && (in = spool_reader(conn->repair_in, err, sizeof(err))) == NULL)
		log_err("%s: cannot read the kept body: %s",
			htg_msg_queue_id(msg), err);
	if (in == NULL) {
		(void) htg_msg_add_finding(msg, RULE_INTERNAL, HTG_STAGE_EOM,
					   "cannot keep the body for its repair");
		htg_msg_repair_settle(msg, 0);
		return;
	}
	conn->repair = repair_run(msg, in);
	if (repair_error(conn->repair) != NULL)
		log_warn("%s: repair not made: %s", htg_msg_queue_id(msg),
			 repair_error(conn->repair));
	if (spool_on_disk(conn->repair_in))
		log_debug("%s: repair: the body (%llu bytes) was kept in a "
			  "temporary file", htg_msg_queue_id(msg),
			  spool_size(conn->repair_in));
}

/* log_change - debug line for one modification (sanitised) */
static void
log_change(struct mlt_conn *conn, const char *what, const char *name,
	   const char *value)
{
	char	v[MLT_ADDR_MAX];

	log_debug("%s: fix: %s %s %s", htg_msg_queue_id(conn->msg), what, name,
		  value ? log_sanitize(v, sizeof(v), value) : "(deleted)");
}

/* set_header - one MIME header as the repair has it; NULL or what failed */
static const char *
set_header(SMFICTX *ctx, struct mlt_conn *conn, const char *name)
{
	const char *v = repair_header(conn->repair, name);
	const char *was = htg_msg_header_value(conn->msg, name);
	int	n = htg_msg_header_count(conn->msg, name), i;

	if (v != NULL && n == 1 && was != NULL && strcmp(was, v) == 0)
		return (NULL);		/* unchanged: nothing to ask of Postfix */
	if (v != NULL) {
		if ((n > 0 ? smfi_chgheader(ctx, (char *) name, 1, (char *) v)
		     : smfi_addheader(ctx, (char *) name, (char *) v)) != MI_SUCCESS)
			return ("smfi_chgheader/addheader of a repaired header failed");
		log_change(conn, n > 0 ? "chgheader" : "addheader", name, v);
	}
	for (i = n; i >= (v != NULL ? 2 : 1); i--) {
		if (smfi_chgheader(ctx, (char *) name, i, NULL) != MI_SUCCESS)
			return ("smfi_chgheader (delete) of a repaired header failed");
		log_change(conn, "chgheader", name, NULL);
	}
	return (NULL);
}

/* replace_body - the repaired body to Postfix; NULL or what failed */
static const char *
replace_body(SMFICTX *ctx, struct mlt_conn *conn)
{
	char	err[MLT_ERR_MAX];
	FILE   *fp = repair_body(conn->repair, err, sizeof(err));
	unsigned char *buf;
	unsigned long long total = 0;
	const char *failed = NULL;
	size_t	n;

	if (fp == NULL) {
		log_err("%s: repaired body: %s", htg_msg_queue_id(conn->msg), err);
		return ("cannot read the repaired body");
	}
	buf = g_malloc(MLT_REPLACE_CHUNK);
	while ((n = fread(buf, 1, MLT_REPLACE_CHUNK, fp)) > 0) {
		if (smfi_replacebody(ctx, buf, (int) n) != MI_SUCCESS) {
			failed = "smfi_replacebody failed";
			break;
		}
		total += n;
	}
	if (failed == NULL && ferror(fp))
		failed = "cannot read the repaired body";
	g_free(buf);
	if (failed == NULL)
		log_debug("%s: fix: replacebody %llu bytes",
			  htg_msg_queue_id(conn->msg), total);
	return (failed);
}

/* mlt_repair_apply - make Postfix's copy the repaired message */
const char *
mlt_repair_apply(SMFICTX *ctx, struct mlt_conn *conn)
{
	const char *failed;
	size_t	k;

	if (!repair_ok(conn->repair))
		return (NULL);
	for (k = 0; k < G_N_ELEMENTS(mlt_mime_headers); k++)
		if ((failed = set_header(ctx, conn, mlt_mime_headers[k])) != NULL)
			return (failed);
	if (repair_body_changed(conn->repair))
		return (replace_body(ctx, conn));
	return (NULL);
}

/* mlt_repair_reset - forget the kept body and the repair */
void
mlt_repair_reset(struct mlt_conn *conn)
{
	spool_free(conn->repair_in);
	repair_free(conn->repair);
	conn->repair_in = NULL;
	conn->repair = NULL;
	conn->repair_keep = 0;
	conn->repair_failed = 0;
}
