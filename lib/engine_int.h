/*
 * NAME
 *	engine_int - private state of the rule engine, shared by its files
 * DESCRIPTION
 *	engine.c owns the message life cycle, the body and end of message;
 *	engine_finding.c the finding sink (findings, actions, verdicts);
 *	engine_env.c the envelope rules (MAIL/RCPT); engine_hdr.c the header
 *	rules (collected per header, judged at end of headers);
 *	engine_report.c the reply and log formatting; engine_repair.c the
 *	life of a planned repair (engine.h, "Repairs"), which engine_hdr.c
 *	plans at end of headers and engine.c refuses at end of message when
 *	it was never settled.  The arrows point one
 *	way: engine.c, engine_env.c and engine_hdr.c use engine_finding.c
 *	and htgaddr.c, which use neither.  Nothing outside the engine
 *	includes this file.
 */
#ifndef HTG_ENGINE_INT_H
#define HTG_ENGINE_INT_H

#include <glib.h>
#include "engine.h"
#include "dsnscan.h"
#include "encval.h"
#include "htgaddr.h"

#define ENG_ADDR_MAX	HTGADDR_MAX	/* an SMTP path is at most 256 */
#define ENG_ARG_MAX	512		/* ENVID/ORCPT values */
#define ENG_MAX_FINDINGS 64
#define ENG_REPAIR_KINDS 5		/* HTG_REPAIR_* bits */

/* headers the engine reads; everything else is only counted */
enum eng_hdr {
	EH_FROM = 0, EH_TO, EH_CC, EH_BCC, EH_MSGID, EH_SUBJECT, EH_DATE,
	EH_CTYPE, EH_CTE, EH_MIMEVER, EH_DISP, EH_COUNT
};

struct eng_hdrval {
	int	count;			/* occurrences */
	int	conflict;		/* repeated with a different value */
	GString *value;			/* first occurrence, trimmed */
};

struct htg_msg {
	const struct htg_cfg *cfg;
	int	flags;
	char	queue_id[32];
	char	sasl_user[ENG_ADDR_MAX];

	/* envelope */
	int	have_mail;
	int	null_sender;
	char	sender[ENG_ADDR_MAX];
	char	envid[ENG_ARG_MAX];
	unsigned long long size_param;	/* MAIL FROM SIZE=, 0 if none */
	int	nrcpt;			/* recipients in the transaction */
	int	nhtg;			/* of which HTG-bound */
	char	rcpt[ENG_ADDR_MAX];	/* the HTG recipient */
	char	rcpt_local[ENG_ADDR_MAX];
	char	rcpt_as_sent[ENG_ADDR_MAX];	/* without <>, for ORCPT */
	char	rcpt_judged[ENG_ADDR_MAX];	/* the last RCPT, for the log */
	const struct htg_env *env;	/* of the HTG recipient; NULL: none */
	const struct htg_env *route_env;	/* egress: where it will go */
	const struct htg_stream *stream;
	const struct htg_account *account;
	int	deferred_env;		/* defer mode: envelope faults seen */

	/* headers */
	struct eng_hdrval hdr[EH_COUNT];
	size_t	header_count;
	size_t	header_bytes;
	int	limit_hit;

	/* body */
	int	bypass;			/* not HTG-bound or a DSN: pass */
	int	body_ready;
	struct encval val;
	enum htg_rule_id val_rule;
	unsigned long long body_bytes;
	unsigned long long told_size;	/* size an adapter knows (policy) */
	int	size_hit;
	int	body_fault;
	int	skip_body;		/* body unreadable as declared: don't judge */
	int	dsn;			/* null sender: a delivery report */
	struct dsnscan dsn_scan;	/* its structure, read as it streams */

	/* findings and fixes */
	struct htg_finding findings[ENG_MAX_FINDINGS];
	size_t	nfindings;
	size_t	dropped_findings;
	char   *fix_envid;
	char   *fix_notify;		/* the re-added recipient's parameters */
	char   *fix_rcpt;		/* egress: its address, if it changes */
	char   *fix_disposition;	/* Content-Disposition value to set */
	int	fix_disposition_replace;	/* change the header, not add it */
	char   *fix_msgid;
	char	msgid[ENG_ARG_MAX];	/* as found, or as added */

	/* repairs (engine.h, "Repairs"; engine_repair.c) */
	size_t	mime_hdr_bytes;		/* Content-Type/-Transfer-Encoding/
					 * -Disposition, counted in header_bytes */
	size_t	mime_hdr_count;		/* ... and in header_count */
	int	repair_plan;		/* HTG_REPAIR_* planned at end of headers */
	int	repair_settled;		/* htg_msg_repair_settle() was called */
	int	encode7_fault;		/* the 7bit validator failed (ENCODE7) */
	int	body_finished;		/* validator finished (eng_body_finish) */
	int	eom_mark_set;		/* findings from eom_mark on decide EOM */
	size_t	eom_mark;
	/* per kind (bit i): the finding a refusal without repairs makes */
	char	repair_why[ENG_REPAIR_KINDS][HTG_DETAIL_MAX];
	enum htg_hint repair_hint[ENG_REPAIR_KINDS];
	char   *repair_note;		/* what an unwrap dropped */
};

/* engine_finding.c */
enum htg_verdict eng_verdict_since(struct htg_msg *msg, size_t mark);
int	eng_internal_since(const struct htg_msg *msg, size_t mark);
enum htg_action eng_action(const struct htg_msg *msg, enum htg_rule_id rule);
enum htg_verdict eng_add_hint(struct htg_msg *msg, enum htg_rule_id rule,
	enum htg_stage stage, enum htg_action action, enum htg_hint hint,
	const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* eng_add - eng_add_hint without a hint */
#define eng_add(msg, rule, stage, action, ...) \
	eng_add_hint((msg), (rule), (stage), (action), HTG_HINT_NONE, \
		     __VA_ARGS__)
int	eng_repair_rule(enum htg_rule_id rule);

/* engine.c */
int	eng_bound(const struct htg_msg *msg);
void	eng_body_finish(struct htg_msg *msg);

/* engine_repair.c */
void	eng_plan(struct htg_msg *msg, int kind, enum htg_hint hint,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int	eng_may_repair(const struct htg_msg *msg, int kind);
void	eng_refuse_unsettled(struct htg_msg *msg);
void	eng_repair_free(struct htg_msg *msg);

/* engine_env.c */
enum htg_verdict eng_rcpt(struct htg_msg *msg, const char *addr,
	char *const *args);
enum htg_verdict eng_mail(struct htg_msg *msg, const char *addr,
	char *const *args);

/* engine_hdr.c */
enum htg_verdict eng_header(struct htg_msg *msg, const char *name,
	const char *value);
enum htg_verdict eng_eoh(struct htg_msg *msg);
void	eng_hdr_free(struct htg_msg *msg);

#endif
