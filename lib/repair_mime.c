/*
 * NAME
 *	repair_mime - the GMime half of a repair: parse, decode, encode
 * DESCRIPTION
 *	See repair_mime.h.  The parser runs with a GMimeParserOptions whose
 *	warning callback keeps the first warning that makes the structure
 *	uncertain (rmime_fatal_warning); the walk then checks each
 *	entity's own Content-Type, Content-Transfer-Encoding and
 *	Content-Disposition headers, read from its header list as written.
 *	The decoders choose the decoding filter from the entity's
 *	Content-Transfer-Encoding as htgate reads it (comments stripped,
 *	mimehdr_strip_cfws), not from GMime's guess, so the bytes hashed and
 *	re-encoded are exactly what the engine validated.
 * OWNERSHIP
 *	struct rmime holds one reference to the parsed top object (which
 *	owns the others), the stream, the options, and the unfolded header
 *	strings; rmime_free() releases them all.
 */
#include "config.h"

#include <string.h>

#include <gmime/gmime.h>

#include "repair_mime.h"

#define RMIME_CHUNK	(16 * 1024)	/* bytes per sink call */

struct rmime {
	GMimeStream *stream;		/* over the caller's FILE */
	GMimeObject *top;		/* parsed entity (owns the rest) */
	GPtrArray *objs;		/* GMimeObject * per entity, borrowed */
	GArray *ents;			/* struct rmime_ent */
	GPtrArray *strs;		/* unfolded header values, owned */
	char	why[256];		/* the first fatal parser warning */
};

/* rmime_fatal_warning - what a parser warning means for a repair, or NULL */
static const char *
rmime_fatal_warning(GMimeParserWarning code)
{
	switch (code) {
	case GMIME_WARN_INVALID_CONTENT_TYPE:
		return ("a Content-Type that does not parse");
	case GMIME_WARN_INVALID_PARAMETER:
		return ("a header parameter that does not parse");
	case GMIME_WARN_MALFORMED_MULTIPART:
		return ("a multipart without parts");
	case GMIME_WARN_TRUNCATED_MESSAGE:
		return ("a multipart without its closing boundary");
	case GMIME_WARN_MALFORMED_MESSAGE:
		return ("a malformed message");
	case GMIME_WARN_PART_WITHOUT_CONTENT:
		return ("a part without content");
	case GMIME_CRIT_INVALID_HEADER_NAME:
		return ("an invalid header name");
	case GMIME_CRIT_CONFLICTING_HEADER:
		return ("a header repeated with another value");
	case GMIME_CRIT_CONFLICTING_PARAMETER:
		return ("a parameter repeated with another value");
	case GMIME_CRIT_MULTIPART_WITHOUT_BOUNDARY:
		return ("a multipart without a boundary");
	case GMIME_CRIT_NESTING_OVERFLOW:
		return ("multiparts nested too deeply");
	case GMIME_CRIT_PART_WITHOUT_HEADERS_OR_CONTENT:
		return ("a part without headers or content");
	default:
		return (NULL);		/* duplicated headers, 8-bit headers, ... */
	}
}

/* warning_cb - GMime's parser warning: keep the first fatal one */
static void
warning_cb(gint64 offset, GMimeParserWarning code, const gchar *item,
	   gpointer data)
{
	struct rmime *m = data;
	const char *what = rmime_fatal_warning(code);

	/* GMime also flags repeated headers that are no MIME business
	 * (Microsoft 365 writes x-microsoft-antispam-message-info twice);
	 * the walk checks the MIME headers of every entity itself */
	if (code == GMIME_CRIT_CONFLICTING_HEADER
	    && (item == NULL || g_ascii_strncasecmp(item, "content-", 8) != 0))
		return;
	if (what != NULL && m->why[0] == 0)
		g_snprintf(m->why, sizeof(m->why), "%s (byte %" G_GINT64_FORMAT
			   ")", what, offset);
}

/* unfold - a header value without CR and LF, trimmed (owned by m) */
static const char *
unfold(struct rmime *m, const char *raw)
{
	char   *s = g_malloc(strlen(raw) + 1), *w = s;

	for (; *raw; raw++)
		if (*raw != '\r' && *raw != '\n')
			*w++ = *raw;
	*w = 0;
	g_strstrip(s);
	g_ptr_array_add(m->strs, s);
	return (s);
}

/* lower_in_place - ASCII lower case */
static void
lower_in_place(char *s)
{
	for (; *s; s++)
		*s = g_ascii_tolower(*s);
}

/*
 * read_headers - an entity's three MIME headers as written; -1 with err
 * when one is repeated with another value
 */
static int
read_headers(struct rmime *m, GMimeObject *o, struct rmime_ent *e,
	     char *err, size_t errlen)
{
	static const char *const names[] = {
		"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
	};
	const char **slots[] = {&e->ctype_raw, &e->cte_raw, &e->disp_raw};
	GMimeHeaderList *list = g_mime_object_get_header_list(o);
	int	i, k, n = list ? g_mime_header_list_get_count(list) : 0;

	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(list, i);
		const char *raw = g_mime_header_get_raw_value(h);

		for (k = 0; k < 3; k++) {
			const char *v;

			if (g_ascii_strcasecmp(g_mime_header_get_name(h), names[k]) != 0)
				continue;
			v = unfold(m, raw ? raw : "");
			if (*slots[k] == NULL)
				*slots[k] = v;
			else if (g_ascii_strcasecmp(*slots[k], v) != 0) {
				g_snprintf(err, errlen, "a part gives %s twice "
					   "with different values", names[k]);
				return (-1);
			}
		}
	}
	return (0);
}

/* describe - fill an entity from its headers; -1 with err */
static int
describe(struct rmime *m, GMimeObject *o, struct rmime_ent *e, char *err,
	 size_t errlen)
{
	char   *cte;

	if (read_headers(m, o, e, err, errlen) < 0)
		return (-1);
	if (e->ctype_raw == NULL) {
		g_strlcpy(e->ct.type, "text", sizeof(e->ct.type));
		g_strlcpy(e->ct.subtype, "plain", sizeof(e->ct.subtype));
	} else if (mimehdr_content_type(e->ctype_raw, &e->ct) < 0) {
		g_snprintf(err, errlen, "a part's Content-Type does not parse");
		return (-1);
	}
	if (e->cte_raw != NULL) {
		cte = g_strdup(e->cte_raw);
		mimehdr_strip_cfws(cte);
		lower_in_place(cte);
		g_strlcpy(e->cte, cte, sizeof(e->cte));
		g_free(cte);
	}
	if (e->disp_raw != NULL) {
		e->has_disp = 1;
		(void) mimehdr_disposition(e->disp_raw, &e->cd);
	}
	return (0);
}

/* walk - flatten the tree in document order; -1 with err */
static int
walk(struct rmime *m, GMimeObject *o, int parent, int depth, char *err,
     size_t errlen)
{
	struct rmime_ent e;
	int	i, n, self;

	if (m->ents->len >= RMIME_MAX_ENTITIES) {
		g_snprintf(err, errlen, "more than %d parts", RMIME_MAX_ENTITIES);
		return (-1);
	}
	if (depth > RMIME_MAX_DEPTH) {
		g_snprintf(err, errlen, "multiparts nested more than %d deep",
			   RMIME_MAX_DEPTH);
		return (-1);
	}
	memset(&e, 0, sizeof(e));
	e.parent = parent;
	e.depth = depth;
	e.multipart = GMIME_IS_MULTIPART(o);
	if (describe(m, o, &e, err, errlen) < 0)
		return (-1);
	if (e.multipart != (strcmp(e.ct.type, "multipart") == 0)) {
		g_snprintf(err, errlen, "a multipart GMime did not read as one");
		return (-1);
	}
	g_array_append_val(m->ents, e);
	g_ptr_array_add(m->objs, o);
	self = (int) m->ents->len - 1;
	if (!e.multipart)
		return (0);
	n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
	if (n == 0) {
		g_snprintf(err, errlen, "a multipart without parts");
		return (-1);
	}
	for (i = 0; i < n; i++)
		if (walk(m, g_mime_multipart_get_part(GMIME_MULTIPART(o), i),
			 self, depth + 1, err, errlen) < 0)
			return (-1);
	return (0);
}

/* rmime_parse - parse the entity in fp (persistent); NULL with err */
struct rmime *
rmime_parse(FILE *fp, char *err, size_t errlen)
{
	struct rmime *m = g_new0(struct rmime, 1);
	GMimeParserOptions *opts = g_mime_parser_options_new();
	GMimeParser *parser;

	m->objs = g_ptr_array_new();
	m->ents = g_array_new(FALSE, TRUE, sizeof(struct rmime_ent));
	m->strs = g_ptr_array_new_with_free_func(g_free);
	m->stream = g_mime_stream_file_new(fp);
	g_mime_stream_file_set_owner(GMIME_STREAM_FILE(m->stream), FALSE);
	g_mime_parser_options_set_warning_callback(opts, warning_cb, m);
	parser = g_mime_parser_new_with_stream(m->stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	g_mime_parser_set_format(parser, GMIME_FORMAT_MESSAGE);
	m->top = g_mime_parser_construct_part(parser, opts);
	g_object_unref(parser);
	g_mime_parser_options_free(opts);
	if (m->top == NULL) {
		g_snprintf(err, errlen, "GMime cannot parse the message");
		rmime_free(m);
		return (NULL);
	}
	if (m->why[0]) {
		g_strlcpy(err, m->why, errlen);
		rmime_free(m);
		return (NULL);
	}
	if (walk(m, m->top, -1, 0, err, errlen) < 0) {
		rmime_free(m);
		return (NULL);
	}
	return (m);
}

/* rmime_count - number of entities */
size_t
rmime_count(const struct rmime *m)
{
	return (m->ents->len);
}

/* rmime_get - entity i, borrowed; NULL out of range */
const struct rmime_ent *
rmime_get(const struct rmime *m, size_t i)
{
	return (i < m->ents->len ? &g_array_index(m->ents, struct rmime_ent, i)
		: NULL);
}

/* pump - read a stream to its end into fn; 0 or -1 */
static int
pump(GMimeStream *s, rmime_sink fn, void *arg, char *err, size_t errlen)
{
	char   *buf = g_malloc(RMIME_CHUNK);
	ssize_t n;
	int	rc = 0;

	while ((n = g_mime_stream_read(s, buf, RMIME_CHUNK)) > 0)
		if (fn(arg, (const unsigned char *) buf, (size_t) n) < 0) {
			rc = -1;
			break;
		}
	if (n < 0) {
		g_snprintf(err, errlen, "cannot read the stored message");
		rc = -1;
	}
	g_free(buf);
	return (rc);
}

/* content - entity i's body as a stream (new reference), or NULL */
static GMimeStream *
content(struct rmime *m, size_t i, int decode, char *err, size_t errlen)
{
	const struct rmime_ent *e = rmime_get(m, i);
	GMimeDataWrapper *w;
	GMimeStream *src, *f;
	GMimeFilter *dec = NULL;

	if (e == NULL || e->multipart || !GMIME_IS_PART(g_ptr_array_index(m->objs, i))) {
		g_snprintf(err, errlen, "part %zu has no content of its own", i);
		return (NULL);
	}
	w = g_mime_part_get_content(GMIME_PART(g_ptr_array_index(m->objs, i)));
	if (w == NULL || (src = g_mime_data_wrapper_get_stream(w)) == NULL)
		return (g_mime_stream_mem_new());	/* no content at all */
	g_mime_stream_reset(src);
	f = g_mime_stream_filter_new(src);
	if (decode && strcmp(e->cte, "base64") == 0)
		dec = g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_BASE64, FALSE);
	else if (decode && strcmp(e->cte, "quoted-printable") == 0)
		dec = g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE,
					      FALSE);
	if (dec != NULL) {
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), dec);
		g_object_unref(dec);
	}
	return (f);
}

/* pump_content - entity i's body, decoded or as written, into fn */
static int
pump_content(struct rmime *m, size_t i, int decode, rmime_sink fn, void *arg,
	     char *err, size_t errlen)
{
	GMimeStream *s = content(m, i, decode, err, errlen);
	int	rc;

	if (s == NULL)
		return (-1);
	rc = pump(s, fn, arg, err, errlen);
	g_object_unref(s);
	return (rc);
}

/* rmime_decode - entity i's decoded content into fn */
int
rmime_decode(struct rmime *m, size_t i, rmime_sink fn, void *arg, char *err,
	     size_t errlen)
{
	return (pump_content(m, i, 1, fn, arg, err, errlen));
}

/* rmime_raw - entity i's body as written into fn */
int
rmime_raw(struct rmime *m, size_t i, rmime_sink fn, void *arg, char *err,
	  size_t errlen)
{
	return (pump_content(m, i, 0, fn, arg, err, errlen));
}

/* rmime_free - release a tree (NULL is fine) */
void
rmime_free(struct rmime *m)
{
	if (m == NULL)
		return;
	if (m->top != NULL)
		g_object_unref(m->top);
	if (m->stream != NULL)
		g_object_unref(m->stream);
	g_ptr_array_free(m->objs, TRUE);
	g_array_free(m->ents, TRUE);
	g_ptr_array_free(m->strs, TRUE);
	g_free(m);
}

/* rmime_ctype_value - raw with another type and/or charset (g_free) */
char   *
rmime_ctype_value(const char *raw, const char *type, const char *charset)
{
	GMimeContentType *ct = g_mime_content_type_parse(NULL, raw);
	const char *slash;
	char   *enc, *out, *w;

	if (ct == NULL)
		return (NULL);
	if (type != NULL && (slash = strchr(type, '/')) != NULL) {
		char   *media = g_strndup(type, (gsize) (slash - type));

		g_mime_content_type_set_media_type(ct, media);
		g_mime_content_type_set_media_subtype(ct, slash + 1);
		g_free(media);
	}
	if (charset != NULL)
		g_mime_content_type_set_parameter(ct, "charset", charset);
	enc = g_mime_content_type_encode(ct, NULL);
	g_object_unref(ct);
	if (enc == NULL)
		return (NULL);
	out = g_malloc(strlen(enc) + 1);
	for (w = out, raw = enc; *raw; raw++)
		if (*raw != '\r' && *raw != '\n')
			*w++ = *raw;
	*w = 0;
	g_free(enc);
	return (g_strstrip(out));
}

/* rmime_b64_init - a new encoder */
void
rmime_b64_init(struct rmime_b64 *b)
{
	b->state = 0;
	b->save = 0;
}

/* rmime_b64_outlen - room for the output of len more input bytes */
size_t
rmime_b64_outlen(size_t len)
{
	/* 57 input bytes make a line of 76 characters and CR LF */
	return (((len + 3) / 57 + 3) * 78);
}

/* crlf - turn the LF line ends of n bytes at out into CR LF; new length */
static size_t
crlf(unsigned char *out, size_t n)
{
	size_t	i, lf = 0, j;

	for (i = 0; i < n; i++)
		lf += out[i] == '\n';
	j = n + lf;
	for (i = n; i-- > 0;) {
		out[--j] = out[i];
		if (out[i] == '\n')
			out[--j] = '\r';
	}
	return (n + lf);
}

/* rmime_b64_step - encode len bytes; the output's length */
size_t
rmime_b64_step(struct rmime_b64 *b, const unsigned char *in, size_t len,
	       unsigned char *out)
{
	guint32 save = b->save;
	size_t	n = g_mime_encoding_base64_encode_step(in, len, out, &b->state,
						       &save);

	b->save = save;
	return (crlf(out, n));
}

/* rmime_b64_close - the last characters and line end */
size_t
rmime_b64_close(struct rmime_b64 *b, unsigned char *out)
{
	guint32 save = b->save;
	size_t	n = g_mime_encoding_base64_encode_close(NULL, 0, out, &b->state,
							&save);

	b->save = save;
	return (crlf(out, n));
}
