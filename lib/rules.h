/*
 * NAME
 *	rules - the table of HTG interface rules
 * SYNOPSIS
 *	#include "rules.h"
 *
 *	const struct htg_rule *rule_get(enum htg_rule_id id);
 *	const struct htg_rule *rule_by_name(const char *name);
 *	const char *action_name(enum htg_action action);
 *	int	action_parse(const char *name, enum htg_action *out);
 *	const char *hint_text(enum htg_hint hint, int lang);
 * DESCRIPTION
 *	Rules are data: one row per rule, with the stable ID of
 *	shared/htg-rules.md, the SMTP stage that can first decide it, its
 *	default action, whether htgate can fix it, the SMTP reply codes and
 *	the reply text in Dutch and English.  Rules are data (this table);
 *	checks are code, run in a fixed order by the engine files
 *	(engine_env.c for the envelope, engine_hdr.c for the header block,
 *	engine.c for the body and end of message), each reporting through
 *	the finding sink (engine_finding.c).  The text here is what the
 *	sender reads.  A row's text is a printf format with exactly one %s:
 *	the detail of the finding.
 *
 *	Hints: a refusal that a person with an ordinary mail client can
 *	cause (multipart, HTML only, two attachments, Outlook's winmail.dat,
 *	a Cc, a Windows code page) carries a hint, one sentence that says
 *	what to do in the mail client.  hint_text() gives it in English
 *	(lang 0, HTG_LANG_EN) or Dutch (1, HTG_LANG_NL); NULL for
 *	HTG_HINT_NONE.  The reply adds it as a line of its own after the
 *	rule's line in the same language (engine_report.c).  Like the rule
 *	texts, hints are US-ASCII (SMTP replies).
 * OWNERSHIP
 *	All results point into static read-only tables.
 * THREAD SAFETY
 *	Safe: the tables are constant.
 */
#ifndef HTG_RULES_H
#define HTG_RULES_H

enum htg_action {
	HTG_ACT_NONE = 0,		/* not judged / nothing to do */
	HTG_ACT_WARN,			/* logged only */
	HTG_ACT_FIX,			/* htgate repairs the message */
	HTG_ACT_TEMPFAIL,		/* 4xx: try again later */
	HTG_ACT_REJECT,			/* 5xx */
};

enum htg_stage {
	HTG_STAGE_CONNECT = 0,
	HTG_STAGE_MAIL,
	HTG_STAGE_RCPT,
	HTG_STAGE_HEADER,		/* decided at end of headers */
	HTG_STAGE_BODY,			/* decided while the body streams */
	HTG_STAGE_EOM,			/* decided at end of message */
};

enum htg_rule_id {
	RULE_ENV_ONE_RCPT = 0,
	RULE_ENV_MIXED,
	RULE_ENV_ONE_SENDER,
	RULE_ENV_STREAM,
	RULE_ENV_ENVIRONMENT,
	RULE_ENV_ENVID,
	RULE_ENV_NOTIFY,
	RULE_ENV_AUTH,
	RULE_ENV_SIZE,
	RULE_ENV_RATE,
	RULE_ENV_ADDRESS,		/* htgate: HTG address in a rewritten form */
	RULE_HDR_FROM,
	RULE_HDR_TO,
	RULE_HDR_CC,
	RULE_HDR_MSGID,
	RULE_HDR_SUBJECT,
	RULE_HDR_DATE,
	RULE_MIME_SINGLE,
	RULE_MIME_TYPE,
	RULE_MIME_CHARSET,
	RULE_MIME_CTE,
	RULE_MIME_B64,
	RULE_MIME_QP,
	RULE_MIME_7BIT,
	RULE_MIME_DISPOSITION,
	RULE_MIME_HEADER,		/* htgate: conflicting/unparseable MIME header */
	RULE_LIMIT,			/* htgate: a bound on peer input exceeded */
	RULE_INTERNAL,			/* htgate: internal error, always tempfail */
	RULE_COUNT
};

/* What a mail-client user can do about a refusal (hint_text()). */
enum htg_hint {
	HTG_HINT_NONE = 0,
	HTG_HINT_PLAIN_TEXT,		/* HTML mail: switch to plain text */
	HTG_HINT_ONE_FILE,		/* two or more attachments */
	HTG_HINT_SHORT_TEXT,		/* text beside the file too long */
	HTG_HINT_ATTACH,		/* a mail without the file */
	HTG_HINT_TNEF,			/* Outlook Rich Text: winmail.dat */
	HTG_HINT_NO_CC,			/* Cc or Bcc */
	HTG_HINT_UTF8,			/* a Windows code page */
	HTG_HINT_NO_SIGN,		/* signed or encrypted mail */
	HTG_HINT_FILE_TYPE,		/* a file type HTG does not take */
	HTG_HINT_NO_UNWRAP,		/* file beside a text, unwrap off */
	HTG_HINT_COUNT
};

struct htg_rule {
	enum htg_rule_id id;
	const char *name;		/* stable ID, e.g. "MIME-CHARSET" */
	enum htg_stage stage;		/* earliest stage that can decide */
	enum htg_action default_action;	/* for a violation */
	int	fixable;		/* HTG_ACT_FIX allowed */
	const char *reply_code;		/* "550" (or "451" for tempfail) */
	const char *status_code;	/* RFC 3463, e.g. "5.6.0" */
	const char *source;		/* section of the interface document */
	const char *summary;		/* one line for docs and --list-rules */
	const char *text_en;		/* printf format, one %s */
	const char *text_nl;		/* printf format, one %s */
};

const struct htg_rule *rule_get(enum htg_rule_id id);
const struct htg_rule *rule_by_name(const char *name);
const char *action_name(enum htg_action action);
int	action_parse(const char *name, enum htg_action *out);
const char *stage_name(enum htg_stage stage);
const char *hint_text(enum htg_hint hint, int lang);

#endif
