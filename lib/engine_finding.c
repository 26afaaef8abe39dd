/*
 * NAME
 *	engine_finding - the finding sink of the rule engine
 * SYNOPSIS
 *	#include "engine_int.h"
 *
 *	enum htg_action eng_action(const struct htg_msg *msg,
 *		enum htg_rule_id rule);
 *	enum htg_verdict eng_add(struct htg_msg *msg, enum htg_rule_id rule,
 *		enum htg_stage stage, enum htg_action action,
 *		const char *fmt, ...);
 *	enum htg_verdict eng_verdict_since(struct htg_msg *msg, size_t mark);
 *
 *	enum htg_verdict htg_msg_add_finding(struct htg_msg *msg,
 *		enum htg_rule_id rule, enum htg_stage stage,
 *		const char *detail);
 *	enum htg_verdict htg_msg_add_finding_as(struct htg_msg *msg,
 *		enum htg_rule_id rule, enum htg_stage stage,
 *		enum htg_action action, const char *detail);
 *	enum htg_verdict htg_msg_add_finding_hint(struct htg_msg *msg,
 *		enum htg_rule_id rule, enum htg_stage stage,
 *		enum htg_action action, enum htg_hint hint,
 *		const char *detail);
 * DESCRIPTION
 *	Every rule check, in the engine or in an adapter, ends here: a
 *	finding is recorded with the action configured for its rule
 *	(cfg_stream_rule_action: [rules], then the stream's own "rules";
 *	report_only turns a reject into a warning), its stage, a sanitised
 *	detail and a hint for the reply, and the caller gets the verdict
 *	that action implies.  The repair rules (MIME-SINGLE, MIME-TYPE,
 *	MIME-CHARSET, MIME-CTE, MIME-7BIT) are only fixed through a planned
 *	repair (engine_repair.c): a finding of one of them that asks for
 *	the configured action when that is fix is a refusal, since the
 *	checks that plan a repair never add a finding for it.  A stage's verdict is the worst action among the
 *	findings it added (eng_verdict_since): reject, then tempfail.
 *	At most ENG_MAX_FINDINGS are kept; later ones still make the last
 *	kept finding's action at least as strong, so the verdict is right.
 *	This file depends on nothing else in the engine, so the engine's
 *	files form no import circle.
 * OWNERSHIP
 *	Findings live in struct htg_msg (engine_int.h).
 * THREAD SAFETY
 *	One message per thread.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"

/* eng_action - configured action of a rule for this message (its stream) */
enum htg_action
eng_action(const struct htg_msg *msg, enum htg_rule_id rule)
{
	return (cfg_stream_rule_action(msg->cfg, msg->stream, rule));
}

/* eng_repair_rule - a rule whose fix is a repair of the body */
int
eng_repair_rule(enum htg_rule_id rule)
{
	return (rule == RULE_MIME_SINGLE || rule == RULE_MIME_TYPE
		|| rule == RULE_MIME_CHARSET || rule == RULE_MIME_CTE
		|| rule == RULE_MIME_7BIT);
}

/* eng_vadd - record a finding (eng_add, eng_add_hint) */
static enum htg_verdict
eng_vadd(struct htg_msg *msg, enum htg_rule_id rule, enum htg_stage stage,
	 enum htg_action action, enum htg_hint hint, const char *fmt,
	 va_list ap)
{
	struct htg_finding *f;
	char	raw[HTG_DETAIL_MAX * 2];

	if (action == HTG_ACT_NONE) {
		action = eng_action(msg, rule);
		/* fixed only by a planned repair, never by this finding */
		if (action == HTG_ACT_FIX && eng_repair_rule(rule))
			action = HTG_ACT_REJECT;
	}
	if (action == HTG_ACT_NONE)
		return (HTG_CONTINUE);
	if (msg->cfg->report_only && action == HTG_ACT_REJECT)
		action = HTG_ACT_WARN;
	if (msg->nfindings >= ENG_MAX_FINDINGS) {
		msg->dropped_findings++;
		f = &msg->findings[ENG_MAX_FINDINGS - 1];
		if (action > f->action)	/* keep the verdict right */
			f->action = action;
	} else {
		f = &msg->findings[msg->nfindings++];
		memset(f, 0, sizeof(*f));
		f->rule = rule;
		f->action = action;
		f->stage = stage;
		f->hint = hint;
		vsnprintf(raw, sizeof(raw), fmt, ap);
		log_sanitize(f->detail, sizeof(f->detail), raw);
	}
	if (action == HTG_ACT_REJECT)
		return (HTG_REJECT);
	if (action == HTG_ACT_TEMPFAIL)
		return (HTG_TEMPFAIL);
	return (HTG_CONTINUE);
}

/* eng_add_hint - record a finding with a hint for the reply; HTG_ACT_NONE
 * as action means "configured" (eng_add: without a hint) */
enum htg_verdict
eng_add_hint(struct htg_msg *msg, enum htg_rule_id rule, enum htg_stage stage,
	     enum htg_action action, enum htg_hint hint, const char *fmt, ...)
{
	enum htg_verdict v;
	va_list	ap;

	va_start(ap, fmt);
	v = eng_vadd(msg, rule, stage, action, hint, fmt, ap);
	va_end(ap);
	return (v);
}

/*
 * eng_verdict_since - worst verdict among findings from index mark on.
 * An internal error that tempfails decides alone: what was not checked
 * (a header or sender the engine never saw) shows up as other rules'
 * findings, which must not turn a retry into a permanent refusal.
 */
enum htg_verdict
eng_verdict_since(struct htg_msg *msg, size_t mark)
{
	enum htg_verdict v = HTG_CONTINUE;
	size_t	i;

	if (eng_internal_since(msg, mark))
		return (HTG_TEMPFAIL);
	for (i = mark; i < msg->nfindings; i++) {
		if (msg->findings[i].action == HTG_ACT_REJECT)
			return (HTG_REJECT);
		if (msg->findings[i].action == HTG_ACT_TEMPFAIL)
			v = HTG_TEMPFAIL;
	}
	return (v);
}

/* eng_internal_since - an INTERNAL finding that tempfails, from mark on,
 * not yet in a reply */
int
eng_internal_since(const struct htg_msg *msg, size_t mark)
{
	size_t	i;

	for (i = mark; i < msg->nfindings; i++)
		if (msg->findings[i].rule == RULE_INTERNAL
		    && msg->findings[i].action == HTG_ACT_TEMPFAIL
		    && !msg->findings[i].reported)
			return (1);
	return (0);
}

/* has_finding - whether the message has this finding already */
static int
has_finding(const struct htg_msg *msg, enum htg_rule_id rule,
	    enum htg_stage stage, const char *detail)
{
	size_t	i;

	for (i = 0; i < msg->nfindings; i++)
		if (msg->findings[i].rule == rule
		    && msg->findings[i].stage == stage
		    && strncmp(msg->findings[i].detail, detail ? detail : "",
			       sizeof(msg->findings[i].detail) - 1) == 0)
			return (1);
	return (0);
}

/* htg_msg_add_finding - finding from an adapter, configured action */
enum htg_verdict
htg_msg_add_finding(struct htg_msg *msg, enum htg_rule_id rule,
		    enum htg_stage stage, const char *detail)
{
	return (htg_msg_add_finding_as(msg, rule, stage, HTG_ACT_NONE, detail));
}

/* htg_msg_add_finding_as - finding from an adapter, explicit action */
enum htg_verdict
htg_msg_add_finding_as(struct htg_msg *msg, enum htg_rule_id rule,
		       enum htg_stage stage, enum htg_action action,
		       const char *detail)
{
	return (htg_msg_add_finding_hint(msg, rule, stage, action,
					 HTG_HINT_NONE, detail));
}

/* htg_msg_add_finding_hint - finding from an adapter, with a hint */
enum htg_verdict
htg_msg_add_finding_hint(struct htg_msg *msg, enum htg_rule_id rule,
			 enum htg_stage stage, enum htg_action action,
			 enum htg_hint hint, const char *detail)
{
	if (rule == RULE_LIMIT) {
		if (msg->limit_hit)
			return (eng_verdict_since(msg, msg->nfindings));
		msg->limit_hit = 1;	/* one LIMIT finding per message */
	}
	if (rule == RULE_INTERNAL && action == HTG_ACT_NONE)
		action = msg->cfg->on_internal_error == HTG_ACT_REJECT ?
			HTG_ACT_REJECT : HTG_ACT_TEMPFAIL;
	if (rule == RULE_INTERNAL && has_finding(msg, rule, stage, detail))
		/* the same error again (every header of a non-SMTP message):
		 * once in the reply and the log */
		return (action == HTG_ACT_REJECT ? HTG_REJECT : HTG_TEMPFAIL);
	return (eng_add_hint(msg, rule, stage, action, hint, "%s",
			     detail ? detail : ""));
}

