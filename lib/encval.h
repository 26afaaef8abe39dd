/*
 * NAME
 *	encval - incremental validators for base64, quoted-printable, 7bit
 * SYNOPSIS
 *	#include "encval.h"
 *
 *	void	encval_init(struct encval *v, enum encval_kind kind,
 *		size_t max_line);
 *	int	encval_feed(struct encval *v, const unsigned char *buf,
 *		size_t len);
 *	int	encval_finish(struct encval *v);
 * DESCRIPTION
 *	A validator is a small state machine fed with body chunks of any
 *	size, split anywhere: a base64 quantum, a "=XX" escape, a soft line
 *	break or a CR LF pair split across two chunks validates exactly as
 *	if it came in one piece.  Nothing is buffered: the state is a few
 *	integers, so a 20 MB attachment costs no memory.
 *
 *	encval_feed() and encval_finish() return 0 while the data is valid
 *	and -1 once it is not; after the first error further input is
 *	ignored and v->error, v->offset (byte offset of the fault from the
 *	start of the body) and v->line (1-based) describe it.
 *
 *	The rules (RFC 2045, RFC 5321 and the HTG interface):
 *	base64: only A-Z a-z 0-9 + / and CR LF line breaks; "=" padding
 *	only to end the last quantum; nothing but line breaks after it;
 *	the data length a multiple of four.
 *	quoted-printable: printable US-ASCII, TAB and SPACE; "=" followed
 *	by two hex digits or by a line break (soft break, transport
 *	whitespace before the break allowed); encoded lines at most 76
 *	characters; no NUL, no other control character, nothing above 126.
 *	7bit: no byte above 127, no NUL, lines at most max_line octets.
 *	All: CR only as part of CR LF; a bare LF is accepted (files on Unix
 *	disks) but a bare CR is not.
 * OWNERSHIP
 *	The caller owns the struct; there is nothing to free.
 * THREAD SAFETY
 *	One struct per message; no shared state.
 */
#ifndef HTG_ENCVAL_H
#define HTG_ENCVAL_H

#include <stddef.h>

enum encval_kind {
	ENCVAL_7BIT = 0,
	ENCVAL_QP,
	ENCVAL_BASE64,
};

struct encval {
	enum encval_kind kind;
	size_t	max_line;		/* octets, without the line break */
	const char *error;		/* static text, NULL while valid */
	unsigned long long offset;	/* bytes consumed so far */
	unsigned long long line;	/* current line, 1-based */
	size_t	line_len;		/* octets in the current line */
	unsigned long long data_chars;	/* base64: alphabet+pad characters */
	int	state;			/* kind-specific */
	int	pending_cr;		/* last byte was CR */
	int	pad;			/* base64: '=' seen in this quantum */
	int	nonblank;		/* any content other than line breaks */
};

void	encval_init(struct encval *v, enum encval_kind kind, size_t max_line);
int	encval_feed(struct encval *v, const unsigned char *buf, size_t len);
int	encval_finish(struct encval *v);
const char *encval_kind_name(enum encval_kind kind);

#endif
