/*
 * NAME
 *	request - the Postfix policy protocol parser of htgate-policyd
 * SYNOPSIS
 *	#include "policyd.h"
 *
 *	void	pol_req_init(struct pol_req *req);
 *	size_t	pol_req_feed(struct pol_req *req, const char *buf, size_t len,
 *		enum pol_feed *status);
 *	const char *pol_req_get(const struct pol_req *req, const char *name);
 *	void	pol_req_reset(struct pol_req *req);
 *	req->f: the attributes htgate-policyd judges, parsed once
 * DESCRIPTION
 *	A request is a sequence of "name=value" lines ended by an empty
 *	line (SMTPD_POLICY_README).  pol_req_feed() consumes input until a
 *	request ends (status POL_FEED_DONE, return value = bytes consumed;
 *	feed the rest after pol_req_reset()) or the input is used up
 *	(POL_FEED_MORE).  It never holds more than one line of
 *	POL_LINE_MAX bytes and POL_ATTR_MAX attributes.
 *
 *	A request is malformed (req->bad set, req->why says why, the
 *	request still ends at its empty line) when a line has no '=' or an
 *	empty or invalid name, contains NUL or other control characters,
 *	an attribute is repeated, there are too many attributes, or
 *	"request=smtpd_access_policy" is missing.  A line longer than
 *	POL_LINE_MAX is fatal (POL_FEED_FATAL): the stream can't be trusted
 *	to resynchronise, and 100 MB without a newline must not be read on.
 *	A CR before the LF is ignored (telnet/socat tests).
 *
 *	Each attribute line is parsed once: an attribute named in
 *	pol_field_table (sorted, bsearch) also sets its member of req->f,
 *	the typed struct decide.c reads; pol_req_get() finds any attribute
 *	by name (a linear search, for the rest).
 * ERRORS
 *	None returned: a malformed request is marked (req->bad, req->why);
 *	only a line that is too long ends the stream (POL_FEED_FATAL).
 * OWNERSHIP
 *	Attribute names and values are g_strdup()ed copies owned by the
 *	request until pol_req_reset(); req->f points into them.
 * THREAD SAFETY
 *	One request per caller; no shared state.
 */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "policyd.h"

/* The members of struct pol_fields by attribute name, sorted by name. */
static const struct pol_field {
	const char *name;
	size_t	offset;
} pol_field_table[] = {
#define F(name)	{#name, offsetof(struct pol_fields, name)}
	F(instance), F(protocol_state), F(queue_id), F(recipient),
	F(recipient_count), F(request), F(sasl_username), F(sender), F(size),
#undef F
};

/* field_cmp - bsearch comparison of a name with a pol_field_table row */
static int
field_cmp(const void *key, const void *row)
{
	return (strcmp(key, ((const struct pol_field *) row)->name));
}

/* req_field - a judged attribute also lands in req->f */
static void
req_field(struct pol_req *req, const struct pol_attr *a)
{
	const struct pol_field *f = bsearch(a->name, pol_field_table,
		sizeof(pol_field_table) / sizeof(pol_field_table[0]),
		sizeof(pol_field_table[0]), field_cmp);

	if (f != NULL)
		*(const char **) ((char *) &req->f + f->offset) = a->value;
}

/* pol_req_init - an empty request */
void
pol_req_init(struct pol_req *req)
{
	memset(req, 0, sizeof(*req));
}

/* pol_req_reset - forget the attributes; ready for the next request */
void
pol_req_reset(struct pol_req *req)
{
	int	i;

	for (i = 0; i < req->nattr; i++) {
		g_free(req->attr[i].name);
		g_free(req->attr[i].value);
	}
	pol_req_init(req);
}

/* req_bad - mark the request malformed (the first reason wins) */
static void
req_bad(struct pol_req *req, const char *why)
{
	if (req->bad)
		return;
	req->bad = 1;
	g_strlcpy(req->why, why, sizeof(req->why));
}

/* pol_req_get - value of an attribute, or NULL */
const char *
pol_req_get(const struct pol_req *req, const char *name)
{
	int	i;

	for (i = 0; i < req->nattr; i++)
		if (strcmp(req->attr[i].name, name) == 0)
			return (req->attr[i].value);
	return (NULL);
}

/* name_ok - attribute names are lower-case words: [a-z0-9_-]+ */
static int
name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0)
		return (0);
	for (i = 0; i < len; i++)
		if (!g_ascii_islower(s[i]) && !g_ascii_isdigit(s[i])
		    && s[i] != '_' && s[i] != '-')
			return (0);
	return (1);
}

/* req_line - one complete attribute line (without LF, CR) */
static void
req_line(struct pol_req *req, const char *line, size_t len)
{
	const char *eq;
	size_t	i;

	if (req->bad)
		return;				/* just find the end */
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char) line[i];

		if (c == 0) {
			req_bad(req, "NUL byte in request");
			return;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			req_bad(req, "control character in request");
			return;
		}
	}
	if ((eq = memchr(line, '=', len)) == NULL) {
		req_bad(req, "line without name=value");
		return;
	}
	if (!name_ok(line, (size_t) (eq - line))) {
		req_bad(req, "invalid attribute name");
		return;
	}
	if (req->nattr >= POL_ATTR_MAX) {
		req_bad(req, "too many attributes");
		return;
	}
	req->attr[req->nattr].name = g_strndup(line, (gsize) (eq - line));
	if (pol_req_get(req, req->attr[req->nattr].name) != NULL) {
		g_free(req->attr[req->nattr].name);
		req->attr[req->nattr].name = NULL;
		req_bad(req, "repeated attribute");
		return;
	}
	req->attr[req->nattr].value = g_strndup(eq + 1,
		(gsize) (len - (size_t) (eq + 1 - line)));
	req_field(req, &req->attr[req->nattr]);
	req->nattr++;
}

/* req_end - the empty line: validate the request as a whole */
static void
req_end(struct pol_req *req)
{
	const char *r;

	if (req->bad)
		return;
	if (req->nattr == 0)
		req_bad(req, "empty request");
	else if ((r = req->f.request) == NULL)
		req_bad(req, "no request= attribute");
	else if (strcmp(r, "smtpd_access_policy") != 0)
		req_bad(req, "request= is not smtpd_access_policy");
}

/* pol_req_feed - consume input up to the end of one request */
size_t
pol_req_feed(struct pol_req *req, const char *buf, size_t len,
	     enum pol_feed *status)
{
	size_t	used = 0, take;
	const char *nl;

	while (used < len) {
		nl = memchr(buf + used, '\n', len - used);
		take = nl ? (size_t) (nl - (buf + used)) : len - used;
		if (req->linelen + take > POL_LINE_MAX) {
			req_bad(req, "line longer than 4096 bytes");
			*status = POL_FEED_FATAL;
			return (len);
		}
		memcpy(req->line + req->linelen, buf + used, take);
		req->linelen += take;
		used += take;
		if (nl == NULL)
			break;
		used++;				/* the LF */
		if (req->linelen && req->line[req->linelen - 1] == '\r')
			req->linelen--;
		if (req->linelen == 0) {
			req_end(req);
			*status = POL_FEED_DONE;
			return (used);
		}
		req_line(req, req->line, req->linelen);
		req->linelen = 0;
	}
	*status = POL_FEED_MORE;
	return (used);
}
