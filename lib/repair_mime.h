/*
 * NAME
 *	repair_mime - the GMime half of a repair: parse, decode, encode
 * SYNOPSIS
 *	#include "repair_mime.h"
 *
 *	struct rmime *rmime_parse(FILE *fp, char *err, size_t errlen);
 *	size_t	rmime_count(const struct rmime *m);
 *	const struct rmime_ent *rmime_get(const struct rmime *m, size_t i);
 *	int	rmime_decode(struct rmime *m, size_t i, rmime_sink fn,
 *		void *arg, char *err, size_t errlen);
 *	int	rmime_raw(struct rmime *m, size_t i, rmime_sink fn, void *arg,
 *		char *err, size_t errlen);
 *	void	rmime_free(struct rmime *m);
 *
 *	char   *rmime_ctype_value(const char *raw, const char *type,
 *		const char *charset);
 *
 *	void	rmime_b64_init(struct rmime_b64 *b);
 *	size_t	rmime_b64_outlen(size_t len);
 *	size_t	rmime_b64_step(struct rmime_b64 *b, const unsigned char *in,
 *		size_t len, unsigned char *out);
 *	size_t	rmime_b64_close(struct rmime_b64 *b, unsigned char *out);
 * DESCRIPTION
 *	This file and mimehdr.c are the only ones that call GMime (STYLE.md:
 *	GObject reference counting in one place): mimehdr.c reads header
 *	values, this one reads and writes bodies for lib/repair.c.
 *
 *	rmime_parse() parses a stored MIME entity (a header block, then its
 *	body: a whole message, or the milter's Content-Type header and body)
 *	from a seekable stream with GMime's persistent parser
 *	(g_mime_parser_set_persist_stream): part contents stay in the
 *	stream, only headers are held in memory, so a 20 MB attachment costs
 *	no memory.  The tree is flattened in document order: entity 0 is the
 *	top; each has its parent's index (-1 for the top), its depth, its
 *	Content-Type (text/plain; charset=us-ascii when absent, as RFC 2045
 *	says), Content-Transfer-Encoding (lower case, "" when absent),
 *	Content-Disposition, and those three header values as written
 *	(unfolded: CR and LF removed, trimmed; NULL when absent).  A
 *	multipart that is not well formed (no parts, no closing boundary,
 *	a part without headers or content, nesting deeper than
 *	RMIME_MAX_DEPTH, more than RMIME_MAX_ENTITIES entities), a conflict
 *	between repeated headers, or a Content-Type or parameter GMime cannot
 *	read is an error: a repair never guesses.
 *
 *	rmime_decode() feeds the decoded content of a leaf entity to fn, in
 *	chunks (base64 and quoted-printable decoded; 7bit, 8bit and binary
 *	as they are); rmime_raw() feeds its body as written.  For a part of
 *	a multipart the content ends before the line break that precedes
 *	the next boundary (RFC 2046); for the top entity it is the whole
 *	body.  fn returns 0 to go on, -1 to stop (then the call returns -1
 *	with err unchanged: the sink has its reason).
 *
 *	rmime_ctype_value() returns a Content-Type value (g_free) made from
 *	raw with another "type/subtype" and/or charset (NULL: keep), every
 *	other parameter kept, re-encoded by GMime and unfolded.
 *
 *	rmime_b64_* is GMime's streaming base64 encoder with CR LF line
 *	ends (lines of 76 characters, RFC 2045): out must hold
 *	rmime_b64_outlen(len) bytes (rmime_b64_outlen(0) for the close).
 * ERRORS
 *	rmime_parse() returns NULL and the decoders -1, with a reason in err.
 * OWNERSHIP
 *	rmime_parse() returns a tree freed with rmime_free() (NULL is fine);
 *	it borrows fp, which must stay open and unchanged until then.
 *	Entities and their strings are borrowed from the tree.
 * THREAD SAFETY
 *	Safe after mimehdr_init(); one tree per thread.
 */
#ifndef HTG_REPAIR_MIME_H
#define HTG_REPAIR_MIME_H

#include <stddef.h>
#include <stdio.h>

#include "mimehdr.h"

#define RMIME_MAX_DEPTH		8	/* multiparts within multiparts */
#define RMIME_MAX_ENTITIES	256	/* parts of one message */

struct rmime_ent {
	int	parent;			/* enclosing multipart; -1: the top */
	int	depth;			/* 0: the top */
	int	multipart;		/* a container of later entities */
	struct mime_ctype ct;		/* lower-case type, charset, name */
	char	cte[MIME_TOKEN_MAX];	/* lower case, "" when absent */
	int	has_disp;		/* Content-Disposition given */
	struct mime_disp cd;		/* lower-case disposition, filename */
	const char *ctype_raw;		/* header values as written, or NULL */
	const char *cte_raw;
	const char *disp_raw;
};

/* rmime_sink - one chunk of content; 0 go on, -1 stop */
typedef int (*rmime_sink)(void *arg, const unsigned char *buf, size_t len);

struct rmime;

struct rmime *rmime_parse(FILE *fp, char *err, size_t errlen);
size_t	rmime_count(const struct rmime *m);
const struct rmime_ent *rmime_get(const struct rmime *m, size_t i);
int	rmime_decode(struct rmime *m, size_t i, rmime_sink fn, void *arg,
	char *err, size_t errlen);
int	rmime_raw(struct rmime *m, size_t i, rmime_sink fn, void *arg,
	char *err, size_t errlen);
void	rmime_free(struct rmime *m);

char   *rmime_ctype_value(const char *raw, const char *type,
	const char *charset);

struct rmime_b64 {
	int	state;
	unsigned int save;
};

void	rmime_b64_init(struct rmime_b64 *b);
size_t	rmime_b64_outlen(size_t len);
size_t	rmime_b64_step(struct rmime_b64 *b, const unsigned char *in,
	size_t len, unsigned char *out);
size_t	rmime_b64_close(struct rmime_b64 *b, unsigned char *out);

#endif
