/*
 * NAME
 *	dsnscan - is a null-sender message a genuine delivery report
 * SYNOPSIS
 *	#include "dsnscan.h"
 *
 *	void	dsnscan_init(struct dsnscan *d, const char *boundary);
 *	void	dsnscan_feed(struct dsnscan *d, const unsigned char *buf,
 *		size_t len);
 *	const char *dsnscan_finish(struct dsnscan *d);
 * DESCRIPTION
 *	HTG accepts delivery status notifications (MSA §2.2.3), and MAIL
 *	FROM:<> is only for those.  A genuine one (RFC 3461/3464/6522) is a
 *	top-level "multipart/report; report-type=delivery-status" whose
 *	parts are, in order: a human-readable part (any text type, or
 *	multipart/alternative), a message/delivery-status part
 *	(message/global-delivery-status, RFC 6533, too), and optionally the
 *	returned message or its headers (message/rfc822,
 *	text/rfc822-headers, message/global, message/global-headers);
 *	nothing else.
 *
 *	The scanner reads the body of the report as it streams (CR LF or LF
 *	line ends, any chunking), recognises the top-level boundary lines
 *	and reads each part's header block for its Content-Type; it never
 *	keeps a part's content, so a returned message of any size costs
 *	nothing.  dsnscan_finish() returns NULL for a genuine report, or a
 *	short reason ("part 2 is application/edifact, not
 *	message/delivery-status").
 *
 *	Written by hand rather than with GMime's parser because the check
 *	must stream (GMime builds the whole tree in memory) and only needs
 *	the top-level structure.
 * OWNERSHIP
 *	The caller owns the struct; the scanner allocates nothing.
 * THREAD SAFETY
 *	One scanner per thread.
 */
#ifndef HTG_DSNSCAN_H
#define HTG_DSNSCAN_H

#include <stddef.h>

#define DSNSCAN_LINE_MAX	1000	/* a boundary or header line */
#define DSNSCAN_HDR_MAX		(64 * 1024)	/* one part's header block */
#define DSNSCAN_PARTS		3	/* a report has at most three */
#define DSNSCAN_TYPE_MAX	80	/* "type/subtype" of a part */

struct dsnscan {
	char	delim[DSNSCAN_LINE_MAX];	/* "--boundary" */
	size_t	delimlen;
	char	line[DSNSCAN_LINE_MAX + 1];	/* the line being read */
	size_t	linelen;
	int	overlong;		/* the line did not fit: not a delimiter */
	int	state;			/* preamble, headers, body, epilogue */
	char	ctype[2 * DSNSCAN_LINE_MAX];	/* Content-Type of this part */
	size_t	ctlen;
	int	in_ctype;		/* collecting a folded Content-Type */
	size_t	hdrbytes;
	int	nparts;			/* parts seen so far (may exceed 3) */
	char	type[DSNSCAN_PARTS][DSNSCAN_TYPE_MAX];
	const char *fault;		/* first structural fault, or NULL */
	char	why[160];		/* dsnscan_finish()'s reason */
};

void	dsnscan_init(struct dsnscan *d, const char *boundary);
void	dsnscan_feed(struct dsnscan *d, const unsigned char *buf, size_t len);
const char *dsnscan_finish(struct dsnscan *d);

#endif
