/*
 * NAME
 *	rate - ENV-RATE: the sliding window of each account, in one place
 * SYNOPSIS
 *	#include "rate.h"
 *
 *	enum htg_action rate_action(const struct htg_cfg *cfg,
 *		const struct htg_account *acct);
 *	enum htg_verdict rate_check(struct htg_msg *msg, char *err,
 *		size_t errlen);
 *	void	rate_reset(void);
 * DESCRIPTION
 *	HTG's MSA is a low-frequency interface (MSA §1.3): an account may
 *	send at most rate_limit messages in rate_window seconds.  Every
 *	program that judges ENV-RATE calls rate_check() once per HTG message
 *	(htgate-policyd at the first HTG recipient of a transaction), so the
 *	rule is judged the same way everywhere.
 *
 *	rate_action() is what a message over the limit gets: the action of
 *	[rules] ENV-RATE (ignore, warn, tempfail or reject; default warn),
 *	unless the account's older key "rate" says otherwise: rate = off
 *	exempts the account, rate = defer makes it tempfail; rate = warn,
 *	that key's default, leaves the decision to [rules].  [rules]
 *	ENV-RATE = ignore turns the rule off for every account.
 *	(doc/rules.md, htgate.conf(5).)
 *
 *	rate_check() counts the message in its account's window and, when
 *	rate_limit messages are in it already, adds an ENV-RATE finding with
 *	rate_action() (htg_msg_add_finding_as) and returns its verdict.  A
 *	message that is warned about counts (it goes on); one that is
 *	deferred or refused does not.  The windows live in the decision
 *	record when [record] is enabled (recorder_rate_take(): shared by
 *	every process on the host, and by every relay with a PostgreSQL
 *	record), else in this process's memory.  A window that cannot be
 *	read adds an INTERNAL finding (tempfail, fail closed) and its reason
 *	goes into err.  rate_reset() forgets the windows in memory.
 * ERRORS
 *	See rate_check().
 * OWNERSHIP
 *	The windows in memory belong to this module.
 * THREAD SAFETY
 *	Safe from any thread (a mutex guards the windows in memory).
 */
#ifndef HTG_RATE_H
#define HTG_RATE_H

#include <stddef.h>

#include "cfg.h"
#include "engine.h"

enum htg_action rate_action(const struct htg_cfg *cfg,
	const struct htg_account *acct);
enum htg_verdict rate_check(struct htg_msg *msg, char *err, size_t errlen);
void	rate_reset(void);

#endif
