/*
 * NAME
 *	engine_repair - the life of a planned repair in the rule engine
 * SYNOPSIS
 *	#include "engine_int.h"
 *
 *	int	eng_may_repair(const struct htg_msg *msg, int kind);
 *	void	eng_plan(struct htg_msg *msg, int kind, enum htg_hint hint,
 *		const char *fmt, ...);
 *	void	eng_refuse_unsettled(struct htg_msg *msg);
 *	void	eng_repair_free(struct htg_msg *msg);
 *
 *	int	htg_msg_repair_planned(const struct htg_msg *msg);
 *	int	htg_msg_repair_due(struct htg_msg *msg);
 *	int	htg_msg_repair_allowed(const struct htg_msg *msg);
 *	size_t	htg_msg_repair_text_limit(const struct htg_msg *msg);
 *	struct htg_msg *htg_msg_new_like(const struct htg_msg *msg);
 *	void	htg_msg_repair_settle(struct htg_msg *msg, int ok);
 *	void	htg_msg_set_repair_note(struct htg_msg *msg, const char *note);
 *	const char *htg_msg_repair_note(const struct htg_msg *msg);
 * DESCRIPTION
 *	A repair (engine.h, "Repairs") is one of five kinds, each tied to
 *	the rule whose fix it is:
 *
 *	HTG_REPAIR_UNWRAP	MIME-SINGLE	multipart/mixed: keep its one
 *						attachment, drop a short text
 *	HTG_REPAIR_TYPE		MIME-TYPE	text/xml -> application/xml
 *	HTG_REPAIR_CHARSET	MIME-CHARSET	windows-125x -> us-ascii or
 *						ISO-8859-1 where the bytes
 *						mean the same
 *	HTG_REPAIR_ENCODE	MIME-CTE	8bit, binary -> base64
 *	HTG_REPAIR_ENCODE7	MIME-7BIT	a 7bit fault under a declared
 *						8-bit charset -> base64
 *
 *	engine_hdr.c plans a kind with eng_plan() at end of headers when the
 *	fault is of that kind and eng_may_repair() (the rule's action for
 *	the stream is fix); the plan keeps the detail and hint of the
 *	finding a refusal without repairs would have made.  ENCODE7 is only
 *	a possibility until the body shows a 7bit fault (engine.c).
 *
 *	htg_msg_repair_due() closes the body (the validator's last word)
 *	and marks where end of message's findings begin, so what the repair
 *	adds before htg_msg_eom() counts at end of message.  It returns the
 *	kinds to run, or 0: none planned, or the message is refused anyway
 *	(then no repair is run: the reply names only what the sender must
 *	change, and the message would be repaired once that is done; the
 *	plan is listed as a warning, "not repaired: the message is refused
 *	for another reason", for the log and the record, never as a second
 *	refusal in the reply).  eng_refuse_unsettled() is
 *	end of message's fail-closed step: a plan nobody settled (an adapter
 *	that does not repair) is refused with the kept findings, as before
 *	repairs existed, or noted as that warning when something else
 *	refuses already.
 *
 *	htg_msg_new_like() is the start of the second judgement of a
 *	repaired message: the same configuration, flags, envelope and every
 *	header the rules read except Content-Type, Content-Transfer-Encoding
 *	and Content-Disposition, which the caller feeds from the repaired
 *	entity (judge_content()); header counts and bytes are the original's
 *	without those three, so LIMIT and ENV-SIZE see the repaired message.
 * OWNERSHIP
 *	The note is a g_strdup() in struct htg_msg, freed by
 *	eng_repair_free() (htg_msg_free()).
 * THREAD SAFETY
 *	One message per thread.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine_int.h"

/* The rule whose fix each kind is, by bit position. */
static const enum htg_rule_id kind_rule[ENG_REPAIR_KINDS] = {
	RULE_MIME_SINGLE,		/* HTG_REPAIR_UNWRAP */
	RULE_MIME_TYPE,			/* HTG_REPAIR_TYPE */
	RULE_MIME_CHARSET,		/* HTG_REPAIR_CHARSET */
	RULE_MIME_CTE,			/* HTG_REPAIR_ENCODE */
	RULE_MIME_7BIT,			/* HTG_REPAIR_ENCODE7 */
};

/* kind_index - bit position of one HTG_REPAIR_* kind, -1 if not one */
static int
kind_index(int kind)
{
	int	i;

	for (i = 0; i < ENG_REPAIR_KINDS; i++)
		if (kind == (1 << i))
			return (i);
	return (-1);
}

/* eng_may_repair - the rule of this kind says fix for this message */
int
eng_may_repair(const struct htg_msg *msg, int kind)
{
	int	i = kind_index(kind);

	return (i >= 0 && eng_action(msg, kind_rule[i]) == HTG_ACT_FIX);
}

/* eng_plan - plan a repair, keeping the refusal it stands in for */
void
eng_plan(struct htg_msg *msg, int kind, enum htg_hint hint,
	 const char *fmt, ...)
{
	int	i = kind_index(kind);
	va_list	ap;

	if (i < 0)
		return;
	msg->repair_plan |= kind;
	msg->repair_hint[i] = hint;
	va_start(ap, fmt);
	vsnprintf(msg->repair_why[i], sizeof(msg->repair_why[i]), fmt, ap);
	va_end(ap);
}

/*
 * eng_refuse_unsettled - a plan nobody settled: refused as without
 * repairs; when something else refuses already, only noted (warn)
 */
void
eng_refuse_unsettled(struct htg_msg *msg)
{
	int	i, anyway;

	if (msg->repair_settled || msg->repair_plan == 0)
		return;
	msg->repair_settled = 1;
	if ((msg->repair_plan & HTG_REPAIR_ENCODE7) && !msg->encode7_fault)
		msg->repair_plan &= ~HTG_REPAIR_ENCODE7;
	anyway = eng_verdict_since(msg, 0) != HTG_CONTINUE;
	for (i = 0; i < ENG_REPAIR_KINDS; i++) {
		if (!(msg->repair_plan & (1 << i)))
			continue;
		if (anyway)
			eng_add(msg, kind_rule[i], HTG_STAGE_EOM, HTG_ACT_WARN,
				"%s; not repaired: the message is refused for "
				"another reason", msg->repair_why[i]);
		else
			eng_add_hint(msg, kind_rule[i], HTG_STAGE_EOM,
				     HTG_ACT_REJECT, msg->repair_hint[i], "%s",
				     msg->repair_why[i]);
	}
}

/* eng_repair_free - release the repair state */
void
eng_repair_free(struct htg_msg *msg)
{
	g_free(msg->repair_note);
	msg->repair_note = NULL;
}

/* htg_msg_repair_planned - repairs planned at end of headers */
int
htg_msg_repair_planned(const struct htg_msg *msg)
{
	return (msg->repair_settled ? 0 : msg->repair_plan);
}

/* htg_msg_repair_due - at end of body: the repairs to run now, or 0 */
int
htg_msg_repair_due(struct htg_msg *msg)
{
	if (!msg->eom_mark_set) {
		msg->eom_mark = msg->nfindings;
		msg->eom_mark_set = 1;
	}
	if (msg->bypass || !eng_bound(msg) || !msg->body_ready)
		return (0);
	eng_body_finish(msg);
	if (msg->repair_settled || msg->repair_plan == 0)
		return (0);
	if ((msg->repair_plan & HTG_REPAIR_ENCODE7) && !msg->encode7_fault)
		msg->repair_plan &= ~HTG_REPAIR_ENCODE7;
	if (msg->repair_plan == 0) {
		msg->repair_settled = 1;
		return (0);
	}
	if (eng_verdict_since(msg, 0) != HTG_CONTINUE)
		return (0);
	return (msg->repair_plan);
}

/* htg_msg_repair_allowed - kinds whose rule says fix for this message */
int
htg_msg_repair_allowed(const struct htg_msg *msg)
{
	int	i, set = 0;

	for (i = 0; i < ENG_REPAIR_KINDS; i++)
		if (eng_may_repair(msg, 1 << i))
			set |= 1 << i;
	return (set);
}

/* htg_msg_repair_text_limit - bytes of text an unwrap may drop */
size_t
htg_msg_repair_text_limit(const struct htg_msg *msg)
{
	return (cfg_unwrap_text_limit(msg->cfg, msg->stream));
}

/* htg_msg_repair_settle - the planned repairs are done or failed */
void
htg_msg_repair_settle(struct htg_msg *msg, int ok)
{
	if (msg->repair_settled)
		return;
	if (ok) {
		msg->repair_settled = 1;
		/* the repaired entity carries its own Content-Disposition */
		g_free(msg->fix_disposition);
		msg->fix_disposition = NULL;
		msg->fix_disposition_replace = 0;
		return;
	}
	if (!msg->eom_mark_set
	    || eng_verdict_since(msg, msg->eom_mark) == HTG_CONTINUE)
		eng_refuse_unsettled(msg);
	msg->repair_settled = 1;
}

/* htg_msg_set_repair_note - what a repair dropped, for the record */
void
htg_msg_set_repair_note(struct htg_msg *msg, const char *note)
{
	g_free(msg->repair_note);
	msg->repair_note = note ? g_strdup(note) : NULL;
}

/* htg_msg_repair_note - accessor, borrowed; NULL: none */
const char *
htg_msg_repair_note(const struct htg_msg *msg)
{
	return (msg->repair_note);
}

/* htg_msg_new_like - a message to judge the repaired entity with */
struct htg_msg *
htg_msg_new_like(const struct htg_msg *msg)
{
	struct htg_msg *m = htg_msg_new(msg->cfg, msg->flags);
	int	i;

	g_strlcpy(m->queue_id, msg->queue_id, sizeof(m->queue_id));
	g_strlcpy(m->sasl_user, msg->sasl_user, sizeof(m->sasl_user));
	m->have_mail = msg->have_mail;
	m->null_sender = msg->null_sender;
	g_strlcpy(m->sender, msg->sender, sizeof(m->sender));
	g_strlcpy(m->envid, msg->envid, sizeof(m->envid));
	m->size_param = msg->size_param;
	m->nrcpt = msg->nrcpt;
	m->nhtg = msg->nhtg;
	g_strlcpy(m->rcpt, msg->rcpt, sizeof(m->rcpt));
	g_strlcpy(m->rcpt_local, msg->rcpt_local, sizeof(m->rcpt_local));
	g_strlcpy(m->rcpt_as_sent, msg->rcpt_as_sent, sizeof(m->rcpt_as_sent));
	g_strlcpy(m->rcpt_judged, msg->rcpt_judged, sizeof(m->rcpt_judged));
	m->env = msg->env;
	m->route_env = msg->route_env;
	m->stream = msg->stream;
	m->account = msg->account;
	m->deferred_env = msg->deferred_env;
	for (i = 0; i < EH_COUNT; i++) {
		if (i == EH_CTYPE || i == EH_CTE || i == EH_DISP)
			continue;
		m->hdr[i].count = msg->hdr[i].count;
		m->hdr[i].conflict = msg->hdr[i].conflict;
		if (msg->hdr[i].value != NULL)
			m->hdr[i].value = g_string_new(msg->hdr[i].value->str);
	}
	m->header_count = msg->header_count - msg->mime_hdr_count;
	m->header_bytes = msg->header_bytes - msg->mime_hdr_bytes;
	m->limit_hit = msg->limit_hit;
	return (m);
}
