/*
 * NAME
 *	msgfile - split a stored message into milter-style headers and body
 * DESCRIPTION
 *	See msgfile.h.  Header parsing follows what Postfix's cleanup does
 *	before it calls a milter: an mbox "From " line is skipped, a line
 *	starting with white space continues the previous header, the first
 *	line that is not "name: value" ends the header block (an empty line
 *	is consumed; any other line becomes the first body line).  Written
 *	by hand because GMime's parser builds a message tree in memory; here
 *	only the header block is held and the body streams.
 * OWNERSHIP
 *	struct msgfile owns its buffers; msgfile_close() frees them.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "msgfile.h"

struct msgfile {
	FILE   *fp;
	size_t	max_bytes;		/* header block bound */
	size_t	max_count;		/* header count bound */
	size_t	used_bytes;
	size_t	count;
	GString *line;			/* current physical line, no EOL */
	int	have_line;		/* line holds a look-ahead line */
	int	line_had_eol;
	GString *name;
	GString *value;
	GString *body_prefix;		/* first body line(s), CRLF */
	size_t	prefix_off;
	int	in_body;
	int	prev_cr;		/* body: last byte emitted was CR */
	const char *error;
	int	first_line;
	int	line_nul;		/* the current line holds a NUL byte */
	char	nul_header[64];		/* first header field with a NUL */
};

/* msgfile_open - reader over fp */
struct msgfile *
msgfile_open(FILE *fp, size_t max_header_bytes, size_t max_header_count)
{
	struct msgfile *mf = g_new0(struct msgfile, 1);

	mf->fp = fp;
	mf->max_bytes = max_header_bytes;
	mf->max_count = max_header_count;
	mf->line = g_string_sized_new(256);
	mf->name = g_string_sized_new(64);
	mf->value = g_string_sized_new(256);
	mf->body_prefix = g_string_new(NULL);
	mf->first_line = 1;
	return (mf);
}

/* msgfile_close - free the reader (NULL is fine) */
void
msgfile_close(struct msgfile *mf)
{
	if (mf == NULL)
		return;
	g_string_free(mf->line, TRUE);
	g_string_free(mf->name, TRUE);
	g_string_free(mf->value, TRUE);
	g_string_free(mf->body_prefix, TRUE);
	g_free(mf);
}

/* msgfile_nul_header - the first header field holding a NUL byte, or NULL */
const char *
msgfile_nul_header(const struct msgfile *mf)
{
	return (mf->nul_header[0] ? mf->nul_header : NULL);
}

/* msgfile_error - why the header block could not be read */
const char *
msgfile_error(const struct msgfile *mf)
{
	return (mf->error);
}

/* read_line - next physical line without its CR LF / LF; 0 at EOF */
static int
read_line(struct msgfile *mf)
{
	int	c;

	if (mf->have_line) {
		mf->have_line = 0;
		return (1);
	}
	g_string_truncate(mf->line, 0);
	mf->line_had_eol = 0;
	mf->line_nul = 0;
	while ((c = getc(mf->fp)) != EOF) {
		if (c == '\n') {
			mf->line_had_eol = 1;
			break;
		}
		if (c == 0)
			mf->line_nul = 1;
		g_string_append_c(mf->line, (char) c);
		if (mf->used_bytes + mf->line->len > mf->max_bytes) {
			mf->error = "header block larger than the limit";
			return (-1);
		}
	}
	if (c == EOF && mf->line->len == 0)
		return (0);
	if (mf->line->len && mf->line->str[mf->line->len - 1] == '\r')
		g_string_truncate(mf->line, mf->line->len - 1);
	mf->used_bytes += mf->line->len + 2;
	return (1);
}

/* is_header_start - "name:" with a printable, colon-free name */
static int
is_header_start(const GString *l)
{
	size_t	i;

	for (i = 0; i < l->len; i++) {
		unsigned char c = (unsigned char) l->str[i];

		if (c == ':')
			return (i > 0);
		if (c <= ' ' || c >= 127)
			return (0);
	}
	return (0);
}

/* start_body - the look-ahead line becomes the first body line */
static void
start_body(struct msgfile *mf, int keep_line)
{
	mf->in_body = 1;
	if (keep_line) {
		g_string_append_len(mf->body_prefix, mf->line->str, mf->line->len);
		if (mf->line_had_eol)
			g_string_append(mf->body_prefix, "\r\n");
	}
}

/* msgfile_next_header - next header (1), end of headers (0), error (-1) */
int
msgfile_next_header(struct msgfile *mf, const char **name, const char **value)
{
	int	r, nul;
	const char *colon, *v;

	if (mf->in_body || mf->error)
		return (mf->error ? -1 : 0);
	if ((r = read_line(mf)) <= 0) {
		mf->in_body = (r == 0);
		return (r);
	}
	if (mf->first_line && strncmp(mf->line->str, "From ", 5) == 0) {
		mf->first_line = 0;
		if ((r = read_line(mf)) <= 0) {
			mf->in_body = (r == 0);
			return (r);
		}
	}
	mf->first_line = 0;
	if (mf->line->len == 0) {
		start_body(mf, 0);
		return (0);
	}
	if (!is_header_start(mf->line)) {
		start_body(mf, 1);
		return (0);
	}
	if (++mf->count > mf->max_count) {
		mf->error = "more header lines than the limit";
		return (-1);
	}
	colon = strchr(mf->line->str, ':');
	g_string_assign(mf->name, "");
	g_string_append_len(mf->name, mf->line->str, colon - mf->line->str);
	v = colon + 1;
	if (*v == ' ')
		v++;
	g_string_assign(mf->value, v);
	nul = mf->line_nul;
	/* continuation lines */
	while ((r = read_line(mf)) > 0) {
		if (mf->line->len && (mf->line->str[0] == ' ' || mf->line->str[0] == '\t')) {
			nul |= mf->line_nul;
			g_string_append(mf->value, "\r\n");
			g_string_append_len(mf->value, mf->line->str, mf->line->len);
			continue;
		}
		mf->have_line = 1;
		break;
	}
	if (r < 0)
		return (-1);
	/* The value is a C string from here on: a NUL would cut it short. */
	if (nul && mf->nul_header[0] == 0)
		g_strlcpy(mf->nul_header, mf->name->str, sizeof(mf->nul_header));
	*name = mf->name->str;
	*value = mf->value->str;
	return (1);
}

/* msgfile_read_body - up to len body bytes with CR LF line ends */
size_t
msgfile_read_body(struct msgfile *mf, unsigned char *buf, size_t len)
{
	size_t	out = 0, k, n, i, seg;
	unsigned char *in, *lf;

	while (mf->prefix_off < mf->body_prefix->len && out < len)
		buf[out++] = (unsigned char) mf->body_prefix->str[mf->prefix_off++];
	if (out + 1 >= len)
		return (out);

	/*
	 * Block reads, not getc(): read k bytes into the tail of buf and
	 * expand them forward, a CR inserted before each bare LF.  With
	 * 2k <= len - out the output (at most two bytes per input byte)
	 * never overtakes the input still to be read.
	 */
	k = (len - out) / 2;
	in = buf + len - k;
	n = fread(in, 1, k, mf->fp);
	for (i = 0; i < n; ) {
		lf = memchr(in + i, '\n', n - i);
		seg = lf != NULL ? (size_t) (lf - (in + i)) : n - i;
		if (seg > 0) {
			memmove(buf + out, in + i, seg);
			out += seg;
			i += seg;
			mf->prev_cr = (buf[out - 1] == '\r');
		}
		if (lf != NULL) {
			if (!mf->prev_cr)
				buf[out++] = '\r';
			buf[out++] = '\n';
			mf->prev_cr = 0;
			i++;
		}
	}
	return (out);
}
