/*
 * NAME
 *	encval - incremental validators for base64, quoted-printable and
 *	7bit bodies (MIME-B64, MIME-QP, MIME-7BIT)
 * SYNOPSIS
 *	#include "encval.h"
 *
 *	void	encval_init(struct encval *v, enum encval_kind kind,
 *		size_t max_line);
 *	int	encval_feed(struct encval *v, const unsigned char *buf,
 *		size_t len);
 *	int	encval_finish(struct encval *v);
 *	const char *encval_kind_name(enum encval_kind kind);
 * DESCRIPTION
 *	See encval.h for the rules.  Written by hand, not with GMime's
 *	decoders, for two reasons: GMime's decoders are lenient by design
 *	(they skip what they cannot decode, which is exactly what HTG
 *	refuses), and validation must run at memory speed on 20 MB
 *	attachments without producing decoded output.  The base64 path
 *	therefore scans runs of alphabet characters with a table lookup and
 *	only drops to the byte-wise state machine at line breaks, padding
 *	and faults.
 * ERRORS
 *	The first fault is kept (reason, line, body offset); feeding goes
 *	on returning -1.
 * OWNERSHIP
 *	The caller owns the struct; nothing is allocated.
 * THREAD SAFETY
 *	One validator per thread; the alphabet table is a constant.
 */
#include "config.h"

#include <string.h>

#include "encval.h"

#define QP_MAX_LINE	76		/* RFC 2045 section 6.7 rule 5 */

/* base64 states */
#define B64_DATA	0		/* in data */
#define B64_PAD1	1		/* one '=' seen, a second must follow */
#define B64_DONE	2		/* padding complete: only line breaks */

/* quoted-printable states */
#define QP_TEXT		0
#define QP_EQ		1		/* after '=' */
#define QP_EQ_HEX	2		/* after '=' and one hex digit */
#define QP_EQ_WS	3		/* '=' then transport padding */

/* 1 for A-Z a-z 0-9 + /: a constant table, so threads share it freely */
#define B64_RANGE(a) [a] = 1, [a + 1] = 1, [a + 2] = 1, [a + 3] = 1, \
	[a + 4] = 1, [a + 5] = 1, [a + 6] = 1, [a + 7] = 1, [a + 8] = 1, \
	[a + 9] = 1
static const unsigned char b64_alphabet[256] = {
	B64_RANGE('A'), B64_RANGE('K'), ['U'] = 1, ['V'] = 1, ['W'] = 1,
	['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	B64_RANGE('a'), B64_RANGE('k'), ['u'] = 1, ['v'] = 1, ['w'] = 1,
	['x'] = 1, ['y'] = 1, ['z'] = 1,
	B64_RANGE('0'), ['+'] = 1, ['/'] = 1,
};

/* encval_kind_name - the Content-Transfer-Encoding a kind validates */
const char *
encval_kind_name(enum encval_kind kind)
{
	switch (kind) {
	case ENCVAL_BASE64:
		return ("base64");
	case ENCVAL_QP:
		return ("quoted-printable");
	case ENCVAL_7BIT:
	default:
		return ("7bit");
	}
}

/* encval_init - reset a validator */
void
encval_init(struct encval *v, enum encval_kind kind, size_t max_line)
{
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->max_line = max_line ? max_line : 998;
	if (kind == ENCVAL_QP && v->max_line > QP_MAX_LINE)
		v->max_line = QP_MAX_LINE;
	v->line = 1;
}

/* fail - record the first fault at an absolute body offset */
static int
fail(struct encval *v, unsigned long long at, const char *why)
{
	v->error = why;
	v->offset = at;
	return (-1);
}

static int
is_hex(unsigned char c)
{
	return ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')
		|| (c >= 'a' && c <= 'f'));
}

/* end_line - a line break: the kind's end-of-line rules */
static const char *
end_line(struct encval *v)
{
	if (v->kind == ENCVAL_QP) {
		if (v->state == QP_EQ_HEX)
			return ("'=' followed by only one hex digit");
		v->state = QP_TEXT;	/* hard break, or soft break "=" */
	}
	v->line++;
	v->line_len = 0;
	return (NULL);
}

/* qp_byte - one quoted-printable octet that is not a line break */
static const char *
qp_byte(struct encval *v, unsigned char c)
{
	int	blank = (c == ' ' || c == '\t');

	switch (v->state) {
	case QP_EQ:
		if (is_hex(c))
			v->state = QP_EQ_HEX;
		else if (blank)
			v->state = QP_EQ_WS;
		else
			return ("'=' not followed by two hex digits or a line break");
		return (NULL);
	case QP_EQ_HEX:
		if (!is_hex(c))
			return ("'=' not followed by two hex digits");
		v->state = QP_TEXT;
		return (NULL);
	case QP_EQ_WS:
		if (!blank)
			return ("text after '=' and spaces: not a soft line break");
		return (NULL);
	}
	if (c == '=')
		v->state = QP_EQ;
	else if (c == 0)
		return ("NUL byte");
	else if (c > 126)
		return ("byte above 126 not encoded as =XX");
	else if (c < 32 && c != '\t')
		return ("control character not encoded as =XX");
	return (NULL);
}

/* b64_byte - one base64 octet that is not a line break */
static const char *
b64_byte(struct encval *v, unsigned char c)
{
	if (c == '=') {
		if (v->state == B64_DONE)
			return ("data after the '=' padding");
		if (v->state == B64_DATA && v->data_chars % 4 < 2)
			return ("'=' padding in the wrong place");
		v->data_chars++;
		v->pad = 1;
		v->state = (v->data_chars % 4 == 0) ? B64_DONE : B64_PAD1;
		return (NULL);
	}
	if (!b64_alphabet[c])
		return (c == ' ' || c == '\t' ? "space or tab in base64 data"
			: "character outside the base64 alphabet");
	if (v->state != B64_DATA)
		return ("data after the '=' padding");
	v->data_chars++;
	return (NULL);
}

/* sevenbit_byte - one 7bit octet that is not a line break */
static const char *
sevenbit_byte(unsigned char c)
{
	if (c == 0)
		return ("NUL byte");
	if (c > 127)
		return ("byte above 127 (8-bit data in a 7bit body)");
	return (NULL);
}

/* b64_run - fast path: the length of a run of alphabet characters */
static size_t
b64_run(const unsigned char *p, size_t len)
{
	size_t	n = 0;

	/* Eight lookups per loop test (a 76-character line: 9 tests). */
	while (n + 8 <= len && (b64_alphabet[p[n]] & b64_alphabet[p[n + 1]]
	       & b64_alphabet[p[n + 2]] & b64_alphabet[p[n + 3]]
	       & b64_alphabet[p[n + 4]] & b64_alphabet[p[n + 5]]
	       & b64_alphabet[p[n + 6]] & b64_alphabet[p[n + 7]]))
		n += 8;
	while (n < len && b64_alphabet[p[n]])
		n++;
	return (n);
}

/* encval_feed - validate the next chunk */
int
encval_feed(struct encval *v, const unsigned char *buf, size_t len)
{
	unsigned long long base = v->offset;
	const char *why;
	size_t	i = 0;

	if (v->error)
		return (-1);
	while (i < len) {
		unsigned char c = buf[i];

		if (v->pending_cr) {
			if (c != '\n')
				return (fail(v, base + i - 1,
					     "CR not followed by LF"));
			v->pending_cr = 0;
			if ((why = end_line(v)) != NULL)
				return (fail(v, base + i, why));
			i++;
			continue;
		}
		if (c == '\r') {
			v->pending_cr = 1;
			i++;
			continue;
		}
		if (c == '\n') {
			if ((why = end_line(v)) != NULL)
				return (fail(v, base + i, why));
			i++;
			continue;
		}
		if (v->kind == ENCVAL_BASE64 && v->state == B64_DATA
		    && b64_alphabet[c]) {
			size_t	n = b64_run(buf + i, len - i);

			if (v->line_len + n > v->max_line)
				return (fail(v, base + i + (v->max_line - v->line_len),
					     "line longer than the line length limit"));
			v->line_len += n;
			v->data_chars += n;
			v->nonblank = 1;
			i += n;
			continue;
		}
		/* Transport padding after a soft break does not count. */
		if (!(v->kind == ENCVAL_QP && v->state == QP_EQ_WS)
		    && ++v->line_len > v->max_line)
			return (fail(v, base + i, v->kind == ENCVAL_QP ?
				     "encoded line longer than 76 characters" :
				     "line longer than the line length limit"));
		switch (v->kind) {
		case ENCVAL_BASE64:
			why = b64_byte(v, c);
			break;
		case ENCVAL_QP:
			why = qp_byte(v, c);
			break;
		case ENCVAL_7BIT:
		default:
			why = sevenbit_byte(c);
			break;
		}
		if (why != NULL)
			return (fail(v, base + i, why));
		if (c != ' ' && c != '\t')
			v->nonblank = 1;
		i++;
	}
	v->offset = base + len;
	return (0);
}

/* encval_finish - end of body: what may not be left open */
int
encval_finish(struct encval *v)
{
	if (v->error)
		return (-1);
	if (v->pending_cr)
		return (fail(v, v->offset - 1, "CR not followed by LF"));
	if (v->kind == ENCVAL_QP && v->state == QP_EQ_HEX)
		return (fail(v, v->offset, "'=' followed by only one hex digit"));
	if (v->kind == ENCVAL_BASE64 && v->data_chars % 4 != 0)
		return (fail(v, v->offset,
			     "base64 data length is not a multiple of 4"));
	return (0);
}
