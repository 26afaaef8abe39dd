/*
 * NAME
 *	engine - message life cycle, stage verdicts, body and end of message
 * DESCRIPTION
 *	See engine.h for the contract and engine_int.h for how the engine is
 *	split.  Findings go through the finding sink (engine_finding.c); a
 *	stage's verdict is the worst action among the findings it added:
 *	reject, then tempfail.  In defer mode (non-SMTP submission) RCPT
 *	and header stages never refuse; end of message decides on
 *	everything.  A message that is not HTG-bound (and not at the egress
 *	stage, where everything is judged) passes from its first header on.
 *	A planned repair (engine_repair.c) of kind ENCODE7 turns the 7bit
 *	validator's fault into a possible repair instead of a finding; end
 *	of message refuses a plan that was never settled.
 * OWNERSHIP
 *	struct htg_msg and its fix strings are g_malloc()ed here and freed
 *	by htg_msg_free().
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"

/* htg_msg_new - empty message judged under cfg */
struct htg_msg *
htg_msg_new(const struct htg_cfg *cfg, int flags)
{
	struct htg_msg *msg = g_new0(struct htg_msg, 1);

	msg->cfg = cfg;
	msg->flags = flags;
	g_strlcpy(msg->queue_id, "NOQUEUE", sizeof(msg->queue_id));
	return (msg);
}

/* htg_msg_free - release a message (NULL is fine) */
void
htg_msg_free(struct htg_msg *msg)
{
	if (msg == NULL)
		return;
	eng_hdr_free(msg);
	g_free(msg->fix_envid);
	g_free(msg->fix_notify);
	g_free(msg->fix_msgid);
	g_free(msg->fix_rcpt);
	g_free(msg->fix_disposition);
	eng_repair_free(msg);
	g_free(msg);
}

/* htg_msg_set_sasl_user - the SMTP AUTH login of the submitter */
void
htg_msg_set_sasl_user(struct htg_msg *msg, const char *user)
{
	g_strlcpy(msg->sasl_user, user ? user : "", sizeof(msg->sasl_user));
}

/* htg_msg_set_queue_id - Postfix queue ID, once known */
void
htg_msg_set_queue_id(struct htg_msg *msg, const char *qid)
{
	if (qid && *qid)
		log_sanitize(msg->queue_id, sizeof(msg->queue_id), qid);
}

/* htg_msg_set_route - egress: the environment of the HTG transport */
void
htg_msg_set_route(struct htg_msg *msg, const struct htg_env *env)
{
	msg->route_env = env;
}

/* eng_bound - whether the message is judged (HTG-bound, or egress) */
int
eng_bound(const struct htg_msg *msg)
{
	return (msg->nhtg > 0 || (msg->flags & HTG_MSG_EGRESS));
}

/* decide - a stage's verdict, honouring defer mode */
static enum htg_verdict
decide(struct htg_msg *msg, size_t mark, int final)
{
	if ((msg->flags & HTG_MSG_DEFER_ENVELOPE) && !final)
		return (HTG_CONTINUE);
	return (eng_verdict_since(msg, final && (msg->flags & HTG_MSG_DEFER_ENVELOPE) ? 0 : mark));
}

/* htg_msg_mail - MAIL FROM and its ESMTP parameters */
enum htg_verdict
htg_msg_mail(struct htg_msg *msg, const char *addr, char *const *esmtp_args)
{
	return (eng_mail(msg, addr, esmtp_args));
}

/* htg_msg_rcpt - one RCPT TO; a REJECT refuses only this recipient */
enum htg_verdict
htg_msg_rcpt(struct htg_msg *msg, const char *addr, char *const *esmtp_args)
{
	return (eng_rcpt(msg, addr, esmtp_args));
}

/* htg_msg_header - one header field */
enum htg_verdict
htg_msg_header(struct htg_msg *msg, const char *name, const char *value)
{
	size_t	mark = msg->nfindings;
	enum htg_verdict v;

	if (msg->bypass || !eng_bound(msg)) {
		msg->bypass = 1;
		return (HTG_ACCEPT);
	}
	v = eng_header(msg, name, value);
	if (v == HTG_ACCEPT)
		return (v);
	return (decide(msg, mark, 0));
}

/* htg_msg_eoh - end of headers: judge every header rule */
enum htg_verdict
htg_msg_eoh(struct htg_msg *msg)
{
	size_t	mark = msg->nfindings;

	if (msg->bypass || !eng_bound(msg)) {
		msg->bypass = 1;
		return (HTG_ACCEPT);
	}
	if (eng_eoh(msg) == HTG_ACCEPT) {
		msg->bypass = 1;
		return (HTG_ACCEPT);
	}
	return (decide(msg, mark, 0));
}

/* check_size - ENV-SIZE on the bytes seen so far */
static void
check_size(struct htg_msg *msg)
{
	unsigned long long total = msg->header_bytes + msg->body_bytes;
	size_t	limit = htg_msg_size_limit(msg);

	if (!msg->size_hit && limit && total > limit) {
		msg->size_hit = 1;
		eng_add(msg, RULE_ENV_SIZE, HTG_STAGE_BODY, HTG_ACT_NONE,
			"more than %zu bytes, the limit of %s", limit,
			msg->account ? msg->account->name : "[global]");
	}
}

/*
 * body_fault - turn a validator error into its rule's finding, or, with
 * ENCODE7 planned, into the reason to re-encode (engine_repair.c)
 */
static void
body_fault(struct htg_msg *msg)
{
	if (msg->repair_plan & HTG_REPAIR_ENCODE7) {
		msg->encode7_fault = 1;
		eng_plan(msg, HTG_REPAIR_ENCODE7, HTG_HINT_NONE,
			 "%s at body line %llu, byte %llu", msg->val.error,
			 msg->val.line, msg->val.offset);
		return;
	}
	msg->body_fault = 1;
	eng_add(msg, msg->val_rule, HTG_STAGE_BODY, HTG_ACT_NONE,
		"%s at body line %llu, byte %llu", msg->val.error,
		msg->val.line, msg->val.offset);
}

/* eng_body_finish - the validator's last word on the body (once) */
void
eng_body_finish(struct htg_msg *msg)
{
	if (msg->body_finished)
		return;
	msg->body_finished = 1;
	if (!msg->skip_body && !msg->body_fault && !msg->encode7_fault
	    && !msg->dsn && encval_finish(&msg->val) < 0)
		body_fault(msg);
}

/* htg_msg_body - one body chunk (CR LF line ends) */
enum htg_verdict
htg_msg_body(struct htg_msg *msg, const unsigned char *buf, size_t len)
{
	size_t	mark = msg->nfindings;

	if (msg->bypass || !eng_bound(msg))
		return (HTG_ACCEPT);
	if (!msg->body_ready)
		return (htg_msg_add_finding(msg, RULE_INTERNAL, HTG_STAGE_BODY,
					    "body before end of headers"));
	msg->body_bytes += len;
	check_size(msg);
	if (msg->dsn)
		dsnscan_feed(&msg->dsn_scan, buf, len);
	else if (!msg->skip_body && !msg->body_fault && !msg->encode7_fault
	    && encval_feed(&msg->val, buf, len) < 0)
		body_fault(msg);
	return (decide(msg, mark, 0));
}

/* htg_msg_eom - end of message: the final verdict */
enum htg_verdict
htg_msg_eom(struct htg_msg *msg)
{
	/* a repair's findings, added before this call, count here too */
	size_t	mark = msg->eom_mark_set ? msg->eom_mark : msg->nfindings;
	enum htg_verdict v;
	const char *why;

	if (msg->bypass || !eng_bound(msg))
		return (HTG_ACCEPT);
	if (!msg->body_ready && htg_msg_eoh(msg) == HTG_ACCEPT)
		return (HTG_ACCEPT);
	if (msg->dsn && (why = dsnscan_finish(&msg->dsn_scan)) != NULL)
		eng_add(msg, RULE_ENV_ONE_SENDER, HTG_STAGE_EOM, HTG_ACT_NONE,
			"MAIL FROM:<> is only for a delivery status "
			"notification, and this is none: %s", why);
	eng_body_finish(msg);
	if (!msg->skip_body && !msg->encode7_fault && !msg->val.nonblank)
		eng_add(msg, RULE_MIME_SINGLE, HTG_STAGE_EOM, HTG_ACT_NONE,
			"no body part: the message body is empty");
	eng_refuse_unsettled(msg);
	v = decide(msg, mark, 1);
	return (v == HTG_CONTINUE ? HTG_ACCEPT : v);
}

/* htg_msg_is_htg - whether htgate judges it (HTG-bound, or egress) */
int
htg_msg_is_htg(const struct htg_msg *msg)
{
	return (eng_bound(msg));
}

/* htg_msg_sender - accessor, borrowed */
const char *
htg_msg_sender(const struct htg_msg *msg)
{
	return (msg->sender);
}

/* htg_msg_recipient - accessor, borrowed */
const char *
htg_msg_recipient(const struct htg_msg *msg)
{
	return (msg->rcpt);
}

/* htg_msg_stream - accessor, borrowed */
const char *
htg_msg_stream(const struct htg_msg *msg)
{
	return (msg->stream ? msg->stream->name : "");
}

/* htg_msg_env - accessor, borrowed */
const char *
htg_msg_env(const struct htg_msg *msg)
{
	return (msg->env ? msg->env->name : "");
}

/* htg_msg_message_id - accessor, borrowed */
const char *
htg_msg_message_id(const struct htg_msg *msg)
{
	return (msg->msgid);
}

/* htg_msg_envid - accessor, borrowed */
const char *
htg_msg_envid(const struct htg_msg *msg)
{
	return (msg->fix_envid ? msg->fix_envid : msg->envid);
}

/* htg_msg_queue_id - accessor, borrowed */
const char *
htg_msg_queue_id(const struct htg_msg *msg)
{
	return (msg->queue_id);
}

/* htg_msg_size - accessor, borrowed */
unsigned long long
htg_msg_size(const struct htg_msg *msg)
{
	unsigned long long seen = msg->header_bytes + msg->body_bytes;

	return (msg->told_size > seen ? msg->told_size : seen);
}

/* htg_msg_set_size - size counted by the MTA (for the decision log) */
void
htg_msg_set_size(struct htg_msg *msg, unsigned long long size)
{
	msg->told_size = size;
}

/* htg_msg_account - accessor, borrowed */
const struct htg_account *
htg_msg_account(const struct htg_msg *msg)
{
	return (msg->account);
}

/* htg_msg_recipient_count - accessor, borrowed */
int
htg_msg_recipient_count(const struct htg_msg *msg)
{
	return (msg->nrcpt);
}

/* htg_msg_findings - accessor, borrowed */
size_t
htg_msg_findings(const struct htg_msg *msg, const struct htg_finding **out)
{
	*out = msg->findings;
	return (msg->nfindings);
}

/* htg_msg_fix_envid - accessor, borrowed */
const char *
htg_msg_fix_envid(const struct htg_msg *msg)
{
	return (msg->fix_envid);
}

/* htg_msg_fix_notify - accessor, borrowed */
const char *
htg_msg_fix_notify(const struct htg_msg *msg)
{
	return (msg->fix_notify);
}

/* htg_msg_fix_rcpt - accessor, borrowed */
const char *
htg_msg_fix_rcpt(const struct htg_msg *msg)
{
	return (msg->fix_rcpt);
}

/* htg_msg_fix_disposition - accessor, borrowed; *replace: change, not add */
const char *
htg_msg_fix_disposition(const struct htg_msg *msg, int *replace)
{
	if (replace != NULL)
		*replace = msg->fix_disposition_replace;
	return (msg->fix_disposition);
}

/* htg_msg_size_limit - ENV-SIZE for this message (0: none) */
size_t
htg_msg_size_limit(const struct htg_msg *msg)
{
	return (cfg_size_limit(msg->cfg, msg->account));
}

/* htg_msg_fix_msgid - accessor, borrowed */
const char *
htg_msg_fix_msgid(const struct htg_msg *msg)
{
	return (msg->fix_msgid);
}

/* htg_msg_cfg - accessor, borrowed */
const struct htg_cfg *
htg_msg_cfg(const struct htg_msg *msg)
{
	return (msg->cfg);
}

/* htg_verdict_name - keyword of a verdict */
const char *
htg_verdict_name(enum htg_verdict v)
{
	switch (v) {
	case HTG_CONTINUE:
		return ("continue");
	case HTG_ACCEPT:
		return ("accept");
	case HTG_REJECT:
		return ("reject");
	case HTG_TEMPFAIL:
		return ("tempfail");
	}
	return ("?");
}
