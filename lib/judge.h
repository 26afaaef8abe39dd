/*
 * NAME
 *	judge - run a stored message through the engine as the milter would
 * SYNOPSIS
 *	#include "judge.h"
 *
 *	enum htg_verdict judge_stream(struct htg_msg *msg, FILE *fp,
 *		const struct judge_envelope *env);
 * DESCRIPTION
 *	Reads a message with msgfile, takes the envelope from env or else
 *	from the From: and To: headers (each To: mailbox one RCPT), and
 *	drives msg through MAIL, RCPT, headers, end of headers, body chunks
 *	and end of message.  Unlike the milter it goes on after the deciding
 *	stage, so every fault is listed; the verdict returned is that of the
 *	first deciding stage (HTG_ACCEPT when none decided).  Used by
 *	htgate-check, the unit tests, the fuzzers and the benchmarks.
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

enum htg_verdict judge_stream(struct htg_msg *msg, FILE *fp,
	const struct judge_envelope *env);

#endif
