/*
 * NAME
 *	engine_report - SMTP reply text and the log line of a decision
 * DESCRIPTION
 *	A reply names every deciding finding (action reject or tempfail)
 *	not yet reported, one line per finding and language, e.g.
 *	"[HTG MIME-CHARSET] Character set not allowed by HTG (...)"; the
 *	code and enhanced code come from the first finding of the deciding
 *	kind.  A finding whose action is fix reads "Fixed: DETAIL" (in the
 *	log line and htgate-check), not the rule's refusal.  A finding with a hint (rules.h) gets the hint's sentence as
 *	a line of its own right after its line in the same language,
 *	"[HTG RULE] In your mail client, ...".  The log line is key=value with every untrusted value
 *	sanitised (details were sanitised when the finding was made).
 * OWNERSHIP
 *	Writes into caller buffers and struct htg_msg flags only.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "engine_int.h"
#include "log.h"

/* htg_finding_text - one finding's sentence in one language */
void
htg_finding_text(const struct htg_finding *f, enum htg_lang lang,
		 char *buf, size_t buflen)
{
	const struct htg_rule *r = rule_get(f->rule);
	const char *fmt = lang == HTG_LANG_NL ? r->text_nl : r->text_en;
	char	body[HTG_REPLY_LINE];

	/* A fix is no refusal: its sentence says what was changed. */
	if (f->action == HTG_ACT_FIX) {
		snprintf(buf, buflen, "%s: %s", lang == HTG_LANG_NL ?
			 "Hersteld" : "Fixed", f->detail);
		return;
	}
	/* The rule texts are constant formats with one %s, from rules.c. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	snprintf(body, sizeof(body), fmt, f->detail);
#pragma GCC diagnostic pop
	g_strlcpy(buf, body, buflen);	/* cut, not overflowed, if long */
}

/* reply_line - "[HTG RULE] sentence": a reply line names its rule */
static void
reply_line(const struct htg_finding *f, enum htg_lang lang, char *buf,
	   size_t buflen)
{
	char	text[HTG_REPLY_LINE];

	htg_finding_text(f, lang, text, sizeof(text));
	snprintf(buf, buflen, "[HTG %s] ", rule_get(f->rule)->name);
	g_strlcat(buf, text, buflen);
}

/* htg_msg_reply - reply lines for the deciding findings not yet reported */
int
htg_msg_reply(struct htg_msg *msg, struct htg_reply *reply)
{
	enum htg_action want = HTG_ACT_REJECT;
	const struct htg_rule *r;
	size_t	i;
	int	l;

	memset(reply, 0, sizeof(*reply));
	for (i = 0; i < msg->nfindings; i++)
		if (!msg->findings[i].reported
		    && msg->findings[i].action == HTG_ACT_REJECT)
			break;
	/* an internal error decides alone (eng_verdict_since) */
	if (i == msg->nfindings || eng_internal_since(msg, 0))
		want = HTG_ACT_TEMPFAIL;
	for (i = 0; i < msg->nfindings; i++) {
		struct htg_finding *f = &msg->findings[i];

		if (f->reported || f->action != want)
			continue;
		f->reported = 1;
		r = rule_get(f->rule);
		if (reply->code[0] == 0) {
			if (want == HTG_ACT_TEMPFAIL && r->reply_code[0] == '5') {
				/* a rule configured to tempfail: 4xx, same detail */
				g_strlcpy(reply->code, "451", sizeof(reply->code));
				snprintf(reply->xcode, sizeof(reply->xcode), "4%s",
					 r->status_code + 1);
			} else if (want == HTG_ACT_REJECT && r->reply_code[0] == '4') {
				/* a rule that defers by default set to reject: 5xx */
				g_strlcpy(reply->code, "550", sizeof(reply->code));
				snprintf(reply->xcode, sizeof(reply->xcode), "5%s",
					 r->status_code + 1);
			} else {
				g_strlcpy(reply->code, r->reply_code, sizeof(reply->code));
				g_strlcpy(reply->xcode, r->status_code, sizeof(reply->xcode));
			}
		}
		for (l = 0; l < msg->cfg->nlangs && reply->nlines < HTG_REPLY_LINES; l++) {
			const char *hint = hint_text(f->hint, msg->cfg->langs[l]);

			reply_line(f, msg->cfg->langs[l],
				   reply->lines[reply->nlines++], HTG_REPLY_LINE);
			if (hint != NULL && reply->nlines < HTG_REPLY_LINES)
				snprintf(reply->lines[reply->nlines++],
					 HTG_REPLY_LINE, "[HTG %s] %s", r->name,
					 hint);
		}
	}
	return (reply->nlines);
}

/* join_rules - "HDR-CC,HDR-DATE" of the findings not yet logged */
static void
join_rules(const struct htg_msg *msg, char *rules, size_t rlen, char *reason,
	   size_t reslen)
{
	char	text[HTG_REPLY_LINE];
	size_t	i;

	rules[0] = reason[0] = 0;
	for (i = 0; i < msg->nfindings; i++) {
		const struct htg_finding *f = &msg->findings[i];

		if (f->logged)
			continue;
		if (rules[0])
			g_strlcat(rules, ",", rlen);
		if (f->action != HTG_ACT_REJECT && f->action != HTG_ACT_TEMPFAIL) {
			g_strlcat(rules, action_name(f->action), rlen);
			g_strlcat(rules, ":", rlen);
		}
		g_strlcat(rules, rule_get(f->rule)->name, rlen);
		htg_finding_text(f, HTG_LANG_EN, text, sizeof(text));
		if (reason[0])
			g_strlcat(reason, "; ", reslen);
		g_strlcat(reason, text, reslen);
	}
}

/* htg_msg_log - one line per decision */
void
htg_msg_log(struct htg_msg *msg, enum htg_stage stage, enum htg_verdict verdict)
{
	char	rules[512], reason[1536], from[300], to[300], msgid[300],
		sasl[300], envid[200];
	size_t	i;

	join_rules(msg, rules, sizeof(rules), reason, sizeof(reason));
	log_sanitize(from, sizeof(from), msg->sender);
	log_sanitize(to, sizeof(to), msg->rcpt[0] ? msg->rcpt : msg->rcpt_judged);
	log_sanitize(msgid, sizeof(msgid), msg->msgid);
	log_sanitize(sasl, sizeof(sasl), msg->sasl_user);
	log_sanitize(envid, sizeof(envid), htg_msg_envid(msg));
	log_info("%s: action=%s stage=%s rule=%s from=<%s> to=<%s> stream=%s "
		 "env=%s msgid=%s envid=%s sasl_user=%s size=%llu%s reason=\"%s\"",
		 msg->queue_id, htg_verdict_name(verdict), stage_name(stage),
		 rules[0] ? rules : "-", from, to,
		 msg->stream ? msg->stream->name : "-",
		 msg->env ? msg->env->name : "-", msgid[0] ? msgid : "-",
		 envid[0] ? envid : "-", sasl[0] ? sasl : "-",
		 htg_msg_size(msg), (msg->flags & HTG_MSG_EGRESS) ? " role=egress" : "",
		 reason[0] ? reason : "conforms");
	for (i = 0; i < msg->nfindings; i++)
		msg->findings[i].logged = 1;
}
