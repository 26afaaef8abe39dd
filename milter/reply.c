/*
 * NAME
 *	reply - map engine verdicts to libmilter replies and log lines
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	sfsistat mlt_reply_verdict(SMFICTX *ctx, struct mlt_conn *conn,
 *		enum htg_stage stage, enum htg_verdict v);
 *	sfsistat mlt_reply_internal(SMFICTX *ctx, struct mlt_conn *conn,
 *		enum htg_stage stage, const char *why);
 * DESCRIPTION
 *	mlt_reply_verdict() turns the verdict of one engine call into the
 *	callback's return value: CONTINUE goes on; ACCEPT ends the message
 *	(only from the header stage on, when every recipient is known);
 *	REJECT and TEMPFAIL set the engine's (multi-line) reply with
 *	smfi_setreply()/smfi_setmlreply() and write the decision's log line.
 *
 *	Every decision about an HTG-bound message (accept, fix, warn,
 *	reject, tempfail) and every refusal is also written to the decision
 *	record (recorder.h) when [record] is enabled, before the reply
 *	leaves the milter; a message that is not HTG-bound and passes
 *	untouched gets no row.  If the row of a message that would pass
 *	cannot be written, the message is refused with tempfail instead
 *	(INTERNAL, the reason logged): nothing reaches HTG unrecorded.  A
 *	refusal whose row cannot be written is logged and stays a refusal.
 *
 *	mlt_reply_internal() records an internal error (RULE_INTERNAL, the
 *	configured on_internal_error action, tempfail by default) and
 *	refuses with "451 4.3.0".  For a non-SMTP submission it never
 *	refuses MAIL or RCPT (Postfix forbids that for non_smtpd_milters):
 *	the finding is kept and decides at end of message.
 * ERRORS
 *	A reply libmilter refuses to take is logged; the verdict stands
 *	(Postfix then uses its generic text for it).
 * THREAD SAFETY
 *	No shared state; buffers are on the caller's (thread's) stack.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "log.h"
#include "milter.h"
#include "recorder.h"

#define MLT_INTERNAL_CODE	"451"
#define MLT_INTERNAL_XCODE	"4.3.0"
#define MLT_INTERNAL_TEXT	"[HTG INTERNAL] htgate could not check this " \
				"message; please try again later"

/* escape_pct - copy a reply line, doubling '%' (libmilter convention) */
static void
escape_pct(char *dst, size_t dstlen, const char *src)
{
	size_t	n = 0;

	for (; *src && n + 2 < dstlen; src++) {
		if (*src == '%')
			dst[n++] = '%';
		dst[n++] = *src;
	}
	dst[n] = 0;
}

/* set_reply - hand a formatted engine reply to libmilter; 0 or -1 */
static int
set_reply(SMFICTX *ctx, const struct htg_reply *r)
{
	char	esc[HTG_REPLY_LINES][HTG_REPLY_LINE * 2];
	char   *l[HTG_REPLY_LINES + 1];
	int	i;

	memset(l, 0, sizeof(l));
	for (i = 0; i < r->nlines && i < HTG_REPLY_LINES; i++) {
		escape_pct(esc[i], sizeof(esc[i]), r->lines[i]);
		l[i] = esc[i];
	}
	if (r->nlines <= 1)
		return (smfi_setreply(ctx, (char *) r->code, (char *) r->xcode,
				      l[0]) == MI_SUCCESS ? 0 : -1);
	/* The list ends at the first NULL; HTG_REPLY_LINES is 12. */
	return (smfi_setmlreply(ctx, r->code, r->xcode, l[0], l[1], l[2],
				l[3], l[4], l[5], l[6], l[7], l[8], l[9], l[10],
				l[11], (char *) NULL) == MI_SUCCESS ? 0 : -1);
}

/* record - the decision's row, if [record] is on; 0 or -1 with err */
static int
record(struct mlt_conn *conn, enum htg_stage stage, enum htg_verdict v,
       const struct htg_reply *r, char *err, size_t errlen)
{
	struct recorder_note note = {
		.daemon = conn->egress ? "egress" : "milter",
		.stage = stage, .verdict = v,
		.sasl_user = conn->sasl, .body_sha256 = conn->sha256,
		.size = -1, .reply = r,
		.recipient = stage == HTG_STAGE_RCPT ? conn->last_rcpt : NULL,
	};

	if (!recorder_enabled(conn->cfg))
		return (0);
	return (recorder_write(conn->msg, &note, err, errlen));
}

/* refuse - reply, log, record and return the refusal for verdict v */
static sfsistat
refuse(SMFICTX *ctx, struct mlt_conn *conn, enum htg_stage stage,
       enum htg_verdict v)
{
	struct htg_msg *msg = conn->msg;
	struct htg_reply r;
	char	err[MLT_ERR_MAX];
	int	i;

	r.nlines = 0;
	if (htg_msg_reply(msg, &r) > 0) {
		if (set_reply(ctx, &r) < 0)
			log_warn("%s: libmilter refused the reply %s %s",
				 htg_msg_queue_id(msg), r.code, r.xcode);
		for (i = 0; i < r.nlines; i++)
			log_debug("%s: reply %s%c%s %s", htg_msg_queue_id(msg),
				  r.code, i + 1 < r.nlines ? '-' : ' ',
				  r.xcode, r.lines[i]);
	}
	htg_msg_log(msg, stage, v);
	if (record(conn, stage, v, &r, err, sizeof(err)) < 0)
		log_err("%s: decision record not written: %s",
			htg_msg_queue_id(msg), err);
	return (v == HTG_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL);
}

/* pass - log and record a passing HTG message; tempfail if unrecorded */
static sfsistat
pass(SMFICTX *ctx, struct mlt_conn *conn, enum htg_stage stage)
{
	char	err[MLT_ERR_MAX];

	if (record(conn, stage, HTG_ACCEPT, NULL, err, sizeof(err)) < 0) {
		log_err("%s: decision record not written: %s; deferring",
			htg_msg_queue_id(conn->msg), err);
		return (mlt_reply_internal(ctx, conn, stage,
					   RECORDER_UNAVAILABLE));
	}
	htg_msg_log(conn->msg, stage, HTG_ACCEPT);
	return (SMFIS_ACCEPT);
}

/* mlt_reply_verdict - an engine verdict as a callback's return value */
sfsistat
mlt_reply_verdict(SMFICTX *ctx, struct mlt_conn *conn, enum htg_stage stage,
		  enum htg_verdict v)
{
	struct htg_msg *msg = conn ? conn->msg : NULL;

	if (msg == NULL)
		return (mlt_reply_internal(ctx, conn, stage, "no message state"));
	switch (v) {
	case HTG_CONTINUE:
		return (SMFIS_CONTINUE);
	case HTG_ACCEPT:
		/* Before the headers a later recipient could still count. */
		if (stage < HTG_STAGE_HEADER)
			return (SMFIS_CONTINUE);
		if (htg_msg_is_htg(msg))
			return (pass(ctx, conn, stage));
		log_debug("%s: action=accept stage=%s not HTG-bound",
			  htg_msg_queue_id(msg), stage_name(stage));
		return (SMFIS_ACCEPT);
	case HTG_REJECT:
	case HTG_TEMPFAIL:
		return (refuse(ctx, conn, stage, v));
	}
	return (mlt_reply_internal(ctx, conn, stage, "unknown verdict"));
}

/* mlt_reply_internal - an internal error: refuse temporarily */
sfsistat
mlt_reply_internal(SMFICTX *ctx, struct mlt_conn *conn, enum htg_stage stage,
		   const char *why)
{
	struct htg_msg *msg = conn ? conn->msg : NULL;
	enum htg_verdict v;

	if (conn != NULL && conn->nonsmtp && stage <= HTG_STAGE_RCPT) {
		/* Postfix forbids refusing a simulated MAIL/RCPT: decide later. */
		if (msg != NULL)
			(void) htg_msg_add_finding(msg, RULE_INTERNAL, stage, why);
		log_warn("%s: internal error at %s (%s); decided at end of "
			 "message", msg ? htg_msg_queue_id(msg) : "NOQUEUE",
			 stage_name(stage), why);
		return (SMFIS_CONTINUE);
	}
	if (msg != NULL) {
		v = htg_msg_add_finding(msg, RULE_INTERNAL, stage, why);
		return (refuse(ctx, conn, stage,
			       v == HTG_REJECT ? HTG_REJECT : HTG_TEMPFAIL));
	}
	log_err("NOQUEUE: action=tempfail stage=%s rule=INTERNAL reason=\"%s\"",
		stage_name(stage), why);
	if (smfi_setreply(ctx, MLT_INTERNAL_CODE, MLT_INTERNAL_XCODE,
			  MLT_INTERNAL_TEXT) != MI_SUCCESS)
		log_warn("NOQUEUE: libmilter refused the internal-error reply");
	return (SMFIS_TEMPFAIL);
}
