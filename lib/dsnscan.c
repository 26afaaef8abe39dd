/*
 * NAME
 *	dsnscan - is a null-sender message a genuine delivery report
 * DESCRIPTION
 *	See dsnscan.h.  A line-oriented state machine: PREAMBLE until the
 *	first delimiter, then for each part HEADERS (collect Content-Type,
 *	unfolded, bounded) and BODY (skipped) until the next delimiter;
 *	the close delimiter ("--boundary--") starts the EPILOGUE.  Lines
 *	longer than DSNSCAN_LINE_MAX are never delimiters (RFC 2046 limits
 *	a boundary to 70 characters); in a header block they are a fault.
 * OWNERSHIP
 *	Everything lives in the caller's struct.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "dsnscan.h"
#include "mimehdr.h"

enum {
	DS_PREAMBLE = 0,
	DS_HEADERS,
	DS_BODY,
	DS_EPILOGUE,
};

/* dsnscan_init - a scanner for the parts delimited by boundary */
void
dsnscan_init(struct dsnscan *d, const char *boundary)
{
	memset(d, 0, sizeof(*d));
	if (boundary == NULL || *boundary == 0
	    || strlen(boundary) + 3 > sizeof(d->delim)) {
		d->fault = "the report has no usable boundary";
		return;
	}
	g_snprintf(d->delim, sizeof(d->delim), "--%s", boundary);
	d->delimlen = strlen(d->delim);
}

/* ctype_add - append to the part's Content-Type; a fault if too long */
static void
ctype_add(struct dsnscan *d, const char *s)
{
	size_t	n = strlen(s);

	if (d->ctlen + n + 1 > sizeof(d->ctype)) {
		if (d->fault == NULL)
			d->fault = "a part's Content-Type is too long";
		return;
	}
	memcpy(d->ctype + d->ctlen, s, n + 1);
	d->ctlen += n;
}

/* delimiter - 1 for "--b", 2 for "--b--" (trailing blanks allowed) */
static int
delimiter(const struct dsnscan *d)
{
	const char *rest;
	int	kind = 1;

	if (d->overlong || d->delimlen == 0 || d->linelen < d->delimlen
	    || memcmp(d->line, d->delim, d->delimlen) != 0)
		return (0);
	rest = d->line + d->delimlen;
	if (rest[0] == '-' && rest[1] == '-')
		rest += 2, kind = 2;
	for (; *rest; rest++)
		if (*rest != ' ' && *rest != '\t')
			return (0);
	return (kind);
}

/* end_part_headers - the Content-Type of the part just read */
static void
end_part_headers(struct dsnscan *d)
{
	struct mime_ctype mct;
	int	i = d->nparts - 1;

	if (i >= 0 && i < DSNSCAN_PARTS) {
		if (d->ctlen == 0)
			g_strlcpy(d->type[i], "text/plain", sizeof(d->type[i]));
		else if (mimehdr_content_type(d->ctype, &mct) == 0)
			g_snprintf(d->type[i], sizeof(d->type[i]), "%s/%s",
				   mct.type, mct.subtype);
		else if (d->fault == NULL)
			d->fault = "a part's Content-Type does not parse";
	}
	d->ctlen = 0;
	d->ctype[0] = 0;
	d->in_ctype = 0;
}

/* header_line - one line of a part's header block */
static void
header_line(struct dsnscan *d)
{
	const char *l = d->line;

	d->hdrbytes += d->linelen;
	if (d->overlong || d->hdrbytes > DSNSCAN_HDR_MAX) {
		if (d->fault == NULL)
			d->fault = "a part's header block is too large";
		return;
	}
	if (*l == ' ' || *l == '\t') {
		if (d->in_ctype)
			ctype_add(d, l);
		return;
	}
	d->in_ctype = g_ascii_strncasecmp(l, "Content-Type:", 13) == 0;
	if (d->in_ctype) {
		if (d->ctlen > 0 && d->fault == NULL)
			d->fault = "a part has two Content-Type headers";
		d->ctlen = 0;
		ctype_add(d, l + 13);
	}
}

/* line_done - act on one complete line */
static void
line_done(struct dsnscan *d)
{
	int	kind = d->state == DS_EPILOGUE ? 0 : delimiter(d);

	if (kind != 0) {
		if (d->state == DS_HEADERS)
			end_part_headers(d);	/* a part without a body */
		if (kind == 2) {
			d->state = DS_EPILOGUE;
			return;
		}
		d->nparts++;
		d->hdrbytes = 0;
		d->ctlen = 0;
		d->in_ctype = 0;
		d->state = DS_HEADERS;
		return;
	}
	if (d->state != DS_HEADERS)
		return;
	if (d->linelen == 0 && !d->overlong) {
		end_part_headers(d);
		d->state = DS_BODY;
		return;
	}
	header_line(d);
}

/* dsnscan_feed - one chunk of the report's body */
void
dsnscan_feed(struct dsnscan *d, const unsigned char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++) {
		unsigned char c = buf[i];

		if (c == '\n') {
			if (d->linelen > 0 && d->line[d->linelen - 1] == '\r')
				d->linelen--;
			d->line[d->linelen] = 0;
			line_done(d);
			d->linelen = 0;
			d->overlong = 0;
			continue;
		}
		if (d->linelen < DSNSCAN_LINE_MAX)
			d->line[d->linelen++] = (char) c;
		else
			d->overlong = 1;
	}
}

/* type_in - whether type is one of the NULL-terminated list */
static int
type_in(const char *type, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(type, *list) == 0
		    || (strcmp(*list, "text/*") == 0
			&& strncmp(type, "text/", 5) == 0))
			return (1);
	return (0);
}

/* dsnscan_finish - NULL for a genuine delivery report, else why not */
const char *
dsnscan_finish(struct dsnscan *d)
{
	static const char *const human[] = {"text/*",
		"multipart/alternative", NULL};
	static const char *const status[] = {"message/delivery-status",
		"message/global-delivery-status", NULL};
	static const char *const returned[] = {"message/rfc822",
		"text/rfc822-headers", "message/global",
		"message/global-headers", NULL};

	if (d->linelen > 0 || d->overlong) {	/* a last line without LF */
		d->line[MIN(d->linelen, (size_t) DSNSCAN_LINE_MAX)] = 0;
		line_done(d);
		d->linelen = 0;
	}
	if (d->state == DS_HEADERS)
		end_part_headers(d);
	if (d->fault != NULL)
		return (d->fault);
	if (d->nparts < 2 || d->nparts > DSNSCAN_PARTS) {
		g_snprintf(d->why, sizeof(d->why), "the report has %d parts, "
			   "not 2 or 3", d->nparts);
		return (d->why);
	}
	if (d->state != DS_EPILOGUE)
		return ("the report's closing boundary is missing");
	if (!type_in(d->type[0], human)) {
		g_snprintf(d->why, sizeof(d->why), "part 1 is %s, not a "
			   "human-readable text", d->type[0]);
		return (d->why);
	}
	if (!type_in(d->type[1], status)) {
		g_snprintf(d->why, sizeof(d->why), "part 2 is %s, not "
			   "message/delivery-status", d->type[1]);
		return (d->why);
	}
	if (d->nparts == 3 && !type_in(d->type[2], returned)) {
		g_snprintf(d->why, sizeof(d->why), "part 3 is %s, not the "
			   "returned message", d->type[2]);
		return (d->why);
	}
	return (NULL);
}
