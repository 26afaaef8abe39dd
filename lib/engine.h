/*
 * NAME
 *	engine - the HTG rule engine: one message, judged stage by stage
 * SYNOPSIS
 *	#include "engine.h"
 *
 *	struct htg_msg *htg_msg_new(const struct htg_cfg *cfg, int flags);
 *	void	htg_msg_free(struct htg_msg *msg);
 *	void	htg_msg_set_sasl_user(struct htg_msg *msg, const char *user);
 *	void	htg_msg_set_queue_id(struct htg_msg *msg, const char *qid);
 *	void	htg_msg_set_route(struct htg_msg *msg,
 *		const struct htg_env *env);
 *
 *	enum htg_verdict htg_msg_mail(struct htg_msg *msg, const char *addr,
 *		char *const *esmtp_args);
 *	enum htg_verdict htg_msg_rcpt(struct htg_msg *msg, const char *addr,
 *		char *const *esmtp_args);
 *	enum htg_verdict htg_msg_header(struct htg_msg *msg,
 *		const char *name, const char *value);
 *	enum htg_verdict htg_msg_eoh(struct htg_msg *msg);
 *	enum htg_verdict htg_msg_body(struct htg_msg *msg,
 *		const unsigned char *buf, size_t len);
 *	enum htg_verdict htg_msg_eom(struct htg_msg *msg);
 *
 *	int	htg_msg_repair_planned(const struct htg_msg *msg);
 *	int	htg_msg_repair_due(struct htg_msg *msg);
 *	int	htg_msg_repair_allowed(const struct htg_msg *msg);
 *	size_t	htg_msg_repair_text_limit(const struct htg_msg *msg);
 *	struct htg_msg *htg_msg_new_like(const struct htg_msg *msg);
 *	void	htg_msg_repair_settle(struct htg_msg *msg, int ok);
 * DESCRIPTION
 *	The milter, the policy daemon and htgate-check all drive the same
 *	state machine in SMTP order: MAIL, RCPT (one call per recipient),
 *	each header (name and unfolded value, as libmilter gives them),
 *	end of headers, body chunks (CR LF line ends; any chunking), end of
 *	message.  Each call returns a verdict:
 *
 *	HTG_CONTINUE	nothing decided yet; go on
 *	HTG_ACCEPT	the message is not HTG-bound (or is a DSN): it passes
 *			untouched, and later calls are cheap no-ops
 *	HTG_REJECT	refuse (at RCPT: refuse this recipient only; the
 *			engine forgets it, as the SMTP server will)
 *	HTG_TEMPFAIL	temporary failure (internal error, tempfail action)
 *
 *	htg_msg_eom() returns HTG_ACCEPT for a conforming (possibly fixed)
 *	message.  The findings of the call that returned REJECT or TEMPFAIL
 *	are the ones htg_msg_reply() formats.
 *
 *	Flag HTG_MSG_DEFER_ENVELOPE (for non_smtpd_milters, where Postfix
 *	forbids refusing the simulated RCPT): recipient findings are kept
 *	and decided at end of message instead, and every recipient counts.
 *
 *	Flag HTG_MSG_NO_ESMTP (policy daemon, which never sees ESMTP
 *	parameters): ENV-NOTIFY and ENV-ENVID are not judged; the milter does.
 *
 *	Flag HTG_MSG_EGRESS (the milter behind the loopback smtpd that every
 *	HTG delivery passes on its way to the HTG transport): the envelope
 *	is the one Postfix delivers, after all rewriting.  Every message is
 *	judged (nothing bypasses: a recipient that is not an HTG address is
 *	ENV-ADDRESS), the SMTP AUTH login of the original submission is not
 *	known here (ENV-AUTH checks the sender, which is also what picks
 *	the SASL credentials), and htg_msg_set_route() names the
 *	environment whose HTG transport the message will take (a recipient
 *	of another environment is ENV-ENVIRONMENT).
 *
 *	A recipient is HTG-bound by where Postfix will route it (htgaddr.h):
 *	an HTG address written with a trailing dot, a source route, the
 *	percent hack, a bang path or quotes is HTG-bound and ENV-ADDRESS.
 *
 *	MAIL FROM:<> (null sender): only a genuine delivery status
 *	notification passes (dsnscan.h), judged on HDR-CC, LIMIT and its
 *	report structure; anything else is ENV-ONE-SENDER.
 *
 *	Fixes (action "fix") are decided by the engine and applied by the
 *	adapter at end of message: htg_msg_fix_envid() is the ENVID to set
 *	with smfi_chgfrom, htg_msg_fix_notify() the NOTIFY value to give the
 *	single recipient htg_msg_recipient() with smfi_addrcpt_par, and
 *	htg_msg_fix_msgid() the Message-ID header value to add.  Each is
 *	NULL when nothing is to be done.
 *
 *	Repairs (issue 11; action "fix" of MIME-SINGLE, MIME-TYPE,
 *	MIME-CHARSET, MIME-CTE and MIME-7BIT) change the body, so the engine
 *	only plans them: at end of headers a fault of a repairable kind
 *	whose rule's action is fix (for this stream) becomes a planned
 *	repair instead of a finding, and the rest is judged as usual
 *	(HTG_REPAIR_* below; htg_msg_repair_planned() says which, so the
 *	adapter knows to keep the body).  At end of body, before
 *	htg_msg_eom(), the adapter asks htg_msg_repair_due(): the repairs
 *	to run now (0 when none is planned, or when the message is refused
 *	anyway).  lib/repair.h runs them on the stored message, judges the
 *	result again on a htg_msg_new_like() copy (the same envelope and
 *	header state, no findings), adds the findings (fix, or the reasons
 *	of a refusal with their hints) and calls htg_msg_repair_settle().  A
 *	planned repair that was never settled (an adapter that does not
 *	repair, such as judge_stream() without a hook) is refused at end of
 *	message as it was before repairs existed: fail closed.
 *	htg_msg_repair_allowed() is the set of repairs whose rule says fix
 *	for this message's stream, htg_msg_repair_text_limit() the text an
 *	unwrap may drop.  After a successful repair the repair's own
 *	Content-Disposition replaces the header fix: htg_msg_fix_disposition()
 *	is then NULL.
 * ERRORS
 *	Peer input never makes the engine fail: bad input becomes a finding.
 *	A library failure becomes a RULE_INTERNAL finding with the
 *	configured on-error action (tempfail by default); such a finding
 *	decides alone (the rules it kept from running may have left
 *	findings of their own).  Out of memory aborts the process (GLib's
 *	g_malloc): the MTA's milter_default_action answers for it.
 * OWNERSHIP
 *	htg_msg_new() returns a message the caller frees with
 *	htg_msg_free(); it borrows cfg, which must outlive it.  Strings
 *	returned by accessors are borrowed, valid until htg_msg_free().
 * THREAD SAFETY
 *	One htg_msg per thread at a time; the cfg may be shared.
 */
#ifndef HTG_ENGINE_H
#define HTG_ENGINE_H

#include <stddef.h>
#include "cfg.h"
#include "rules.h"

#define HTG_MSG_DEFER_ENVELOPE	0x01	/* non-SMTP: decide RCPT faults at EOM */
#define HTG_MSG_NO_ESMTP	0x02	/* adapter can't see NOTIFY/ENVID (policy) */
#define HTG_MSG_EGRESS		0x04	/* the final envelope, before the HTG transport */

/* Repairs the engine can plan (htg_msg_repair_planned()). */
#define HTG_REPAIR_UNWRAP	0x01	/* MIME-SINGLE: multipart/mixed -> its attachment */
#define HTG_REPAIR_TYPE		0x02	/* MIME-TYPE: text/xml -> application/xml */
#define HTG_REPAIR_CHARSET	0x04	/* MIME-CHARSET: windows-125x relabelled */
#define HTG_REPAIR_ENCODE	0x08	/* MIME-CTE: 8bit/binary -> base64 */
#define HTG_REPAIR_ENCODE7	0x10	/* MIME-7BIT: 7bit fault, 8-bit charset -> base64 */

#define HTG_DETAIL_MAX	240		/* sanitised detail of a finding */
#define HTG_REPLY_LINES	12		/* lines in one multi-line reply */
#define HTG_REPLY_LINE	400		/* octets per reply line */

enum htg_verdict {
	HTG_CONTINUE = 0,
	HTG_ACCEPT,
	HTG_REJECT,
	HTG_TEMPFAIL,
};

struct htg_finding {
	enum htg_rule_id rule;
	enum htg_action action;		/* after config and report-only */
	enum htg_stage stage;		/* where it was decided */
	char	detail[HTG_DETAIL_MAX];	/* sanitised, for text and log */
	enum htg_hint hint;		/* what a mail-client user can do */
	int	reported;		/* already part of a reply */
	int	logged;			/* already part of a log line */
};

/* A formatted SMTP reply: code, enhanced code and up to N text lines */
struct htg_reply {
	char	code[4];		/* "550" */
	char	xcode[10];		/* "5.6.0" */
	int	nlines;
	char	lines[HTG_REPLY_LINES][HTG_REPLY_LINE];
};

struct htg_msg;

struct htg_msg *htg_msg_new(const struct htg_cfg *cfg, int flags);
void	htg_msg_free(struct htg_msg *msg);
void	htg_msg_set_sasl_user(struct htg_msg *msg, const char *user);
void	htg_msg_set_queue_id(struct htg_msg *msg, const char *qid);
/* htg_msg_set_route - egress: the environment of the HTG transport */
void	htg_msg_set_route(struct htg_msg *msg, const struct htg_env *env);

enum htg_verdict htg_msg_mail(struct htg_msg *msg, const char *addr,
	char *const *esmtp_args);
enum htg_verdict htg_msg_rcpt(struct htg_msg *msg, const char *addr,
	char *const *esmtp_args);
enum htg_verdict htg_msg_header(struct htg_msg *msg, const char *name,
	const char *value);
enum htg_verdict htg_msg_eoh(struct htg_msg *msg);
enum htg_verdict htg_msg_body(struct htg_msg *msg, const unsigned char *buf,
	size_t len);
enum htg_verdict htg_msg_eom(struct htg_msg *msg);

/* Add a finding from outside the engine (adapter errors, ENV-RATE). */
enum htg_verdict htg_msg_add_finding(struct htg_msg *msg,
	enum htg_rule_id rule, enum htg_stage stage, const char *detail);
/* The same with an explicit action (e.g. an account's rate mode). */
enum htg_verdict htg_msg_add_finding_as(struct htg_msg *msg,
	enum htg_rule_id rule, enum htg_stage stage, enum htg_action action,
	const char *detail);
/* The same with a hint for the reply (HTG_ACT_NONE: configured action). */
enum htg_verdict htg_msg_add_finding_hint(struct htg_msg *msg,
	enum htg_rule_id rule, enum htg_stage stage, enum htg_action action,
	enum htg_hint hint, const char *detail);

/* Repairs (see DESCRIPTION); the kinds are HTG_REPAIR_* bits. */
int	htg_msg_repair_planned(const struct htg_msg *msg);
int	htg_msg_repair_due(struct htg_msg *msg);
int	htg_msg_repair_allowed(const struct htg_msg *msg);
size_t	htg_msg_repair_text_limit(const struct htg_msg *msg);
/* htg_msg_new_like - same cfg, flags, envelope and non-MIME headers;
 * no findings, no body; the caller frees it with htg_msg_free() */
struct htg_msg *htg_msg_new_like(const struct htg_msg *msg);
/* htg_msg_repair_settle - the planned repairs are done (ok) or failed
 * (the caller added the refusing findings; if it added none, the
 * planned repairs are refused as without repairs) */
void	htg_msg_repair_settle(struct htg_msg *msg, int ok);
/* htg_msg_set_repair_note / htg_msg_repair_note - what a repair dropped
 * (the unwrapped text: size, SHA-256, first line), for the record */
void	htg_msg_set_repair_note(struct htg_msg *msg, const char *note);
const char *htg_msg_repair_note(const struct htg_msg *msg);
/* htg_msg_header_value - the kept value of a header the rules read
 * (From, To, Cc, Bcc, Message-ID, Subject, Date, Content-Type,
 * Content-Transfer-Encoding, MIME-Version, Content-Disposition): the
 * first occurrence, trimmed; NULL when absent or not one of them.
 * htg_msg_header_count - how often it occurred. */
const char *htg_msg_header_value(const struct htg_msg *msg, const char *name);
int	htg_msg_header_count(const struct htg_msg *msg, const char *name);

/* What the engine knows; all borrowed. */
int	htg_msg_is_htg(const struct htg_msg *msg);
const char *htg_msg_sender(const struct htg_msg *msg);
const char *htg_msg_recipient(const struct htg_msg *msg);
const char *htg_msg_stream(const struct htg_msg *msg);
const char *htg_msg_env(const struct htg_msg *msg);
const char *htg_msg_message_id(const struct htg_msg *msg);
const char *htg_msg_envid(const struct htg_msg *msg);
const char *htg_msg_queue_id(const struct htg_msg *msg);
unsigned long long htg_msg_size(const struct htg_msg *msg);
/* htg_msg_set_size - the size as the MTA counted it, when the adapter
 * never sees the content (the policy daemon at END-OF-MESSAGE) */
void	htg_msg_set_size(struct htg_msg *msg, unsigned long long size);
const struct htg_account *htg_msg_account(const struct htg_msg *msg);
const struct htg_cfg *htg_msg_cfg(const struct htg_msg *msg);
int	htg_msg_recipient_count(const struct htg_msg *msg);

size_t	htg_msg_findings(const struct htg_msg *msg,
	const struct htg_finding **out);

/*
 * Fixes to apply at end of message (NULL: none).  fix_envid is the ENVID
 * value (the adapter passes "ENVID=<value>" to smfi_chgfrom).  When
 * fix_notify is set the adapter deletes the recipient and adds it again
 * (smfi_delrcpt, smfi_addrcpt_par) as fix_rcpt, or as it was when
 * fix_rcpt is NULL, with fix_notify as its ESMTP parameters: NOTIFY= if
 * any, and always the recipient's original ORCPT= (as given, or
 * rfc822;ADDRESS as the client wrote it).  fix_rcpt is set at egress for
 * a recipient written STREAM@htpoort.nl, which HTG takes only as
 * STREAM@msa-smtp.htpoort.nl.  fix_msgid is the value of a Message-ID
 * header to add.  fix_disposition (MIME-DISPOSITION) is the value of
 * the Content-Disposition header to set: changed in place when the
 * message had one, else added.
 */
const char *htg_msg_fix_envid(const struct htg_msg *msg);
const char *htg_msg_fix_notify(const struct htg_msg *msg);
const char *htg_msg_fix_rcpt(const struct htg_msg *msg);
/* the Content-Disposition value to set (MIME-DISPOSITION = fix);
 * *replace: change the existing header rather than add one */
const char *htg_msg_fix_disposition(const struct htg_msg *msg, int *replace);
/* htg_msg_size_limit - ENV-SIZE of this message's account (0: none) */
size_t	htg_msg_size_limit(const struct htg_msg *msg);
const char *htg_msg_fix_msgid(const struct htg_msg *msg);

/*
 * htg_msg_reply - format the reply for the findings not yet reported
 * whose action is reject or tempfail (in the configured languages), and
 * mark them reported.  Returns the number of text lines (0: none).
 */
int	htg_msg_reply(struct htg_msg *msg, struct htg_reply *reply);

/* htg_finding_text - one finding's sentence in one language */
void	htg_finding_text(const struct htg_finding *f, enum htg_lang lang,
	char *buf, size_t buflen);

/*
 * htg_msg_log - log one line per decision (key=value, sanitised) for
 * the findings not yet logged plus the verdict.
 */
void	htg_msg_log(struct htg_msg *msg, enum htg_stage stage,
	enum htg_verdict verdict);

const char *htg_verdict_name(enum htg_verdict v);

#endif
