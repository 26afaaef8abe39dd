/*
 * NAME
 *	htgaddr - is an envelope address HTG-bound, and how is it written
 * SYNOPSIS
 *	#include "htgaddr.h"
 *
 *	int	htgaddr_split(const char *addr, char *out, size_t outlen,
 *		const char **local_end, const char **domain);
 *	void	htgaddr_classify(const struct htg_cfg *cfg, const char *raw,
 *		struct htgaddr *out);
 *	const char *htgaddr_form_name(enum htgaddr_form form);
 * DESCRIPTION
 *	A recipient is HTG-bound by where Postfix will deliver it, not by
 *	how it is spelled.  Postfix's address rewriting turns several
 *	spellings into an HTG address before routing: a trailing dot on the
 *	domain ("AGS@msa-smtp.htpoort.nl."), a source route
 *	("@relay:AGS@msa-smtp.htpoort.nl"), the percent hack
 *	("AGS%msa-smtp.htpoort.nl@relay"), a bang path
 *	("msa-smtp.htpoort.nl!AGS") and a quoted local part
 *	("\"AGS\"@msa-smtp.htpoort.nl", "\"AGS@msa-smtp.htpoort.nl\"@relay").
 *	htgaddr_classify() recognises all of them, whatever domain follows
 *	(whether Postfix applies the percent hack depends on the relay's
 *	own domains, which only Postfix knows: a spelling that may reach
 *	HTG is treated as HTG-bound).  Aliases and canonical maps are not
 *	visible here; the egress stage judges what they produce.
 *
 *	htgaddr_split() strips white space and angle brackets and splits at
 *	the last '@'; it returns 0 for local@domain with both parts
 *	non-empty and no blank, comma or bracket, -1 otherwise (out still
 *	holds the stripped address).
 * OWNERSHIP
 *	Results are copied into the caller's struct; env points into cfg.
 * THREAD SAFETY
 *	Reentrant.
 */
#ifndef HTG_HTGADDR_H
#define HTG_HTGADDR_H

#include <stddef.h>

#include "cfg.h"

#define HTGADDR_MAX	512		/* an SMTP path is at most 256 */

enum htgaddr_form {
	HTGADDR_PLAIN = 0,		/* STREAM@domain as HTG publishes it */
	HTGADDR_TRAILING_DOT,		/* STREAM@domain. */
	HTGADDR_SOURCE_ROUTE,		/* @relay:STREAM@domain */
	HTGADDR_PERCENT,		/* STREAM%domain@relay */
	HTGADDR_BANG,			/* domain!STREAM */
	HTGADDR_QUOTED,			/* "STREAM"@domain, "STREAM@domain"@relay */
};

struct htgaddr {
	char	addr[HTGADDR_MAX];	/* as Postfix would route it */
	char	local[HTGADDR_MAX];	/* its local part (the stream) */
	const struct htg_env *env;	/* NULL: not HTG-bound */
	int	envelope_form;		/* domain is the env's envelope domain */
	enum htgaddr_form form;
};

int	htgaddr_split(const char *addr, char *out, size_t outlen,
	const char **local_end, const char **domain);
void	htgaddr_classify(const struct htg_cfg *cfg, const char *raw,
	struct htgaddr *out);
const char *htgaddr_form_name(enum htgaddr_form form);

#endif
