/*
 * NAME
 *	judge - run a stored message through the engine as the milter would
 * SYNOPSIS
 *	#include "judge.h"
 *
 *	enum htg_verdict judge_stream(struct htg_msg *msg, FILE *fp,
 *		const struct judge_envelope *env);
 *	enum htg_verdict judge_stream_repair(struct htg_msg *msg, FILE *fp,
 *		const struct judge_envelope *env, judge_repair_fn fn,
 *		void *arg);
 *	enum htg_verdict judge_content(struct htg_msg *msg, FILE *fp);
 * DESCRIPTION
 *	Reads a message with msgfile, takes the envelope from env or else
 *	from the From: and To: headers (each To: mailbox one RCPT), and
 *	drives msg through MAIL, RCPT, headers, end of headers, body chunks
 *	and end of message.  Unlike the milter it goes on after the deciding
 *	stage, so every fault is listed; the verdict returned is that of the
 *	first deciding stage (HTG_ACCEPT when none decided).  Used by
 *	htgate-check, the unit tests, the fuzzers and the benchmarks.
 *
 *	judge_stream_repair() is the same with a repair hook: at end of
 *	body, when htg_msg_repair_due() names repairs to run, fn(msg, arg)
 *	runs them (lib/repair.h: it reads the stored message itself) before
 *	end of message decides.  judge_stream() has no hook, so a planned
 *	repair is refused there as if repairs did not exist.
 *	judge_content() judges an entity (header block and body, no
 *	envelope) on a message that already has its envelope: the second
 *	judgement of a repaired message (htg_msg_new_like()).
 * OWNERSHIP
 *	msg and fp stay the caller's.
 */
#ifndef HTG_JUDGE_H
#define HTG_JUDGE_H

#include <stdio.h>
#include "engine.h"

#define JUDGE_MAX_RCPT	16

struct judge_envelope {
	const char *from;		/* NULL: first From: mailbox */
	const char *rcpt[JUDGE_MAX_RCPT];	/* none: the To: mailboxes */
	int	nrcpt;
	const char *notify;		/* NOTIFY= for every RCPT, or NULL */
	const char *envid;		/* ENVID= on MAIL, or NULL */
	const char *sasl_user;		/* SMTP AUTH login, or NULL */
};

/* judge_repair_fn - run the due repairs on msg (judge_stream_repair) */
typedef void (*judge_repair_fn)(struct htg_msg *msg, void *arg);

enum htg_verdict judge_stream(struct htg_msg *msg, FILE *fp,
	const struct judge_envelope *env);
enum htg_verdict judge_stream_repair(struct htg_msg *msg, FILE *fp,
	const struct judge_envelope *env, judge_repair_fn fn, void *arg);
enum htg_verdict judge_content(struct htg_msg *msg, FILE *fp);

#endif
