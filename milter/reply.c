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

/* refuse - reply, log and return the refusal for verdict v */
static sfsistat
refuse(SMFICTX *ctx, struct htg_msg *msg, enum htg_stage stage,
       enum htg_verdict v)
{
	struct htg_reply r;
	int	i;

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
	return (v == HTG_REJECT ? SMFIS_REJECT : SMFIS_TEMPFAIL);
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
			htg_msg_log(msg, stage, v);
		else
			log_debug("%s: action=accept stage=%s not HTG-bound",
				  htg_msg_queue_id(msg), stage_name(stage));
		return (SMFIS_ACCEPT);
	case HTG_REJECT:
	case HTG_TEMPFAIL:
		return (refuse(ctx, msg, stage, v));
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
		return (refuse(ctx, msg, stage,
			       v == HTG_REJECT ? HTG_REJECT : HTG_TEMPFAIL));
	}
	log_err("NOQUEUE: action=tempfail stage=%s rule=INTERNAL reason=\"%s\"",
		stage_name(stage), why);
	if (smfi_setreply(ctx, MLT_INTERNAL_CODE, MLT_INTERNAL_XCODE,
			  MLT_INTERNAL_TEXT) != MI_SUCCESS)
		log_warn("NOQUEUE: libmilter refused the internal-error reply");
	return (SMFIS_TEMPFAIL);
}
