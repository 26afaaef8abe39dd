/*
 * NAME
 *	repair - make a mail client's message conforming without changing
 *	the file HTG receives
 * DESCRIPTION
 *	See repair.h.  One repair is a job in five steps, each of which
 *	either goes on or ends the job with findings on the message:
 *
 *	parse	the stored entity with GMime (repair_mime.c, persistent);
 *	choose	the part to keep: the top entity, or for an unwrap the one
 *		attachment, after the text parts were measured and hashed;
 *	make	the new headers and the entity (headers, blank line, body)
 *		in a spool: the kept content's bytes are scanned (SHA-256,
 *		bytes above 127, bytes 0x80-0x9F, anything but line breaks)
 *		in a first pass; the second pass copies the body as written
 *		(base64 already, or a relabel only) or re-encodes the decoded
 *		bytes as base64;
 *	verify	parse the entity again and compare the SHA-256 of its
 *		decoded content with the first pass's;
 *	judge	the entity on htg_msg_new_like(msg) with judge_content().
 *
 *	Only "judge" accepting makes the repair count: then msg gets one
 *	fix finding per repair done and is settled ok; anything else
 *	settles it not ok (the engine refuses the planned repairs as it did
 *	before repairs existed, unless this module added a more precise
 *	refusal).
 * OWNERSHIP
 *	struct repair owns its header strings and the entity's spool; the
 *	job's GMime tree and checksums are freed before repair_run()
 *	returns.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <glib.h>

#include "encval.h"
#include "judge.h"
#include "log.h"
#include "mimehdr.h"
#include "repair.h"
#include "repair_mime.h"
#include "repair_spool.h"

#define REPAIR_FIRST_LINE	60	/* bytes of the dropped text's first line */
#define REPAIR_NAME_SHOWN	40	/* bytes of a file name in a detail */
#define REPAIR_COPY_CHUNK	(64 * 1024)

/* The headers a repair sets, in the order they are written. */
enum { RH_CTYPE = 0, RH_CTE, RH_DISP, RH_COUNT };
static const char *const rh_names[RH_COUNT] = {
	"Content-Type", "Content-Transfer-Encoding", "Content-Disposition",
};

struct repair {
	int	ok;			/* repaired, and judged again: passes */
	int	body_changed;		/* the new body differs from the old */
	char   *hdr[RH_COUNT];		/* the new values; NULL: none */
	struct spool *out;		/* the entity: headers, then body */
	unsigned long long body_off;	/* where its body starts */
	char	error[256];		/* for the adapter's log */
};

/* What one pass over a part's decoded content saw. */
struct scan {
	GChecksum *sha;
	unsigned long long size;
	unsigned long long c1_at;	/* offset of the first 0x80-0x9F byte */
	unsigned char c1_byte;
	int	high;			/* a byte above 127 */
	int	c1;			/* a byte 0x80-0x9F */
	int	nonblank;		/* a byte other than CR and LF */
	int	last;			/* the last byte copied (spool_sink) */
	struct spool *enc;		/* base64 of it goes here, if set */
	struct rmime_b64 b64;
	unsigned char *encbuf;
	size_t	encbuf_len;
	char	err[256];		/* why the sink stopped */
};

/* The text parts an unwrap drops. */
struct text {
	GChecksum *sha;			/* the counted text, in order */
	unsigned long long counted;	/* decoded bytes counted */
	unsigned long long html;	/* HTML alternatives, not counted */
	int	nparts;			/* counted parts */
	size_t	limit;
	int	counting;		/* the part being read counts */
	int	over;			/* counted > limit */
	char	first[REPAIR_FIRST_LINE + 1];	/* first non-blank line */
	size_t	flen;
	int	fdone;
};

/* One repair under way. */
struct job {
	struct htg_msg *msg;
	struct repair *r;
	const struct htg_cfg *cfg;
	int	plan;			/* HTG_REPAIR_* to do */
	int	allowed;		/* HTG_REPAIR_* whose rule says fix */
	struct rmime *m;		/* the stored message, parsed */
	int	kept;			/* the entity that becomes the message */
	struct text text;
	char	sha_before[65];		/* decoded content of the kept part */
	unsigned long long size;	/* its decoded bytes */
	const char *newtype;		/* relabelled type, or NULL */
	const char *newcs;		/* relabelled charset, or NULL */
	const char *cs_why;		/* why the charset relabel is safe */
	int	encode;			/* the body is re-encoded as base64 */
	int	failed;			/* a finding or an error ended it */
};

/* refuse - end the job with a refusing finding (and a hint) */
static void G_GNUC_PRINTF(4, 5)
refuse(struct job *j, enum htg_rule_id rule, enum htg_hint hint,
       const char *fmt, ...)
{
	char	detail[HTG_DETAIL_MAX * 2];
	va_list	ap;

	va_start(ap, fmt);
	g_vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	(void) htg_msg_add_finding_hint(j->msg, rule, HTG_STAGE_EOM,
					HTG_ACT_REJECT, hint, detail);
	j->failed = 1;
}

/* give_up - end the job without a finding of its own (see repair.h) */
static void G_GNUC_PRINTF(2, 3)
give_up(struct job *j, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	g_vsnprintf(j->r->error, sizeof(j->r->error), fmt, ap);
	va_end(ap);
	j->failed = 1;
}

/* internal - end the job with an INTERNAL finding (tempfail) */
static void
internal(struct job *j, const char *why)
{
	g_strlcpy(j->r->error, why, sizeof(j->r->error));
	(void) htg_msg_add_finding(j->msg, RULE_INTERNAL, HTG_STAGE_EOM,
				   "the repair could not store the message");
	j->failed = 1;
}

/* ------------------------------------------------------------------ */
/* The content of a part                                              */
/* ------------------------------------------------------------------ */

/* scan_sink - rmime_sink: hash, classify, and maybe encode a chunk */
static int
scan_sink(void *arg, const unsigned char *buf, size_t len)
{
	struct scan *s = arg;
	size_t	i, need, n;

	for (i = 0; i < len; i++) {
		unsigned char c = buf[i];

		if (c >= 0x80) {
			s->high = 1;
			if (c <= 0x9f && !s->c1) {
				s->c1 = 1;
				s->c1_at = s->size + i;
				s->c1_byte = c;
			}
		}
		if (c != '\r' && c != '\n')
			s->nonblank = 1;
	}
	g_checksum_update(s->sha, buf, (gssize) len);
	s->size += len;
	if (s->enc == NULL)
		return (0);
	need = rmime_b64_outlen(len);
	if (need > s->encbuf_len) {
		s->encbuf = g_realloc(s->encbuf, need);
		s->encbuf_len = need;
	}
	n = rmime_b64_step(&s->b64, buf, len, s->encbuf);
	return (spool_write(s->enc, s->encbuf, n, s->err, sizeof(s->err)));
}

/* scan_init - a pass that hashes (and with enc set, encodes) */
static void
scan_init(struct scan *s, struct spool *enc)
{
	memset(s, 0, sizeof(*s));
	s->sha = g_checksum_new(G_CHECKSUM_SHA256);
	s->enc = enc;
	rmime_b64_init(&s->b64);
}

/* scan_close - the encoder's last line; 0 or -1 with s->err */
static int
scan_close(struct scan *s)
{
	size_t	need = rmime_b64_outlen(0), n;

	if (s->enc == NULL)
		return (0);
	if (need > s->encbuf_len) {
		s->encbuf = g_realloc(s->encbuf, need);
		s->encbuf_len = need;
	}
	n = rmime_b64_close(&s->b64, s->encbuf);
	return (spool_write(s->enc, s->encbuf, n, s->err, sizeof(s->err)));
}

/* scan_free - release a pass */
static void
scan_free(struct scan *s)
{
	if (s->sha != NULL)
		g_checksum_free(s->sha);
	g_free(s->encbuf);
	s->sha = NULL;
	s->encbuf = NULL;
}

/* text_sink - rmime_sink: count and hash dropped text, keep its first line */
static int
text_sink(void *arg, const unsigned char *buf, size_t len)
{
	struct text *t = arg;
	size_t	i;

	if (!t->counting) {
		t->html += len;
		return (0);
	}
	t->counted += len;
	g_checksum_update(t->sha, buf, (gssize) len);
	for (i = 0; i < len && !t->fdone; i++) {
		if (buf[i] == '\r' || buf[i] == '\n') {
			if (t->flen > 0)
				t->fdone = 1;
		} else if (t->flen < REPAIR_FIRST_LINE)
			t->first[t->flen++] = (char) buf[i];
	}
	if (t->counted > t->limit) {
		t->over = 1;
		return (-1);		/* refused: no need to read on */
	}
	return (0);
}

/* ------------------------------------------------------------------ */
/* choose: the part an unwrap keeps                                   */
/* ------------------------------------------------------------------ */

/* is_text_part - text/plain or text/html that is not a file */
static int
is_text_part(const struct rmime_ent *e)
{
	return (strcmp(e->ct.type, "text") == 0
		&& (strcmp(e->ct.subtype, "plain") == 0
		    || strcmp(e->ct.subtype, "html") == 0)
		&& e->ct.name[0] == 0 && e->cd.filename[0] == 0
		&& !(e->has_disp && strcmp(e->cd.disposition, "attachment") == 0));
}

/* within - the nearest enclosing multipart of this subtype, or -1 */
static int
within(const struct rmime *m, int i, const char *subtype)
{
	const struct rmime_ent *e;

	for (i = rmime_get(m, (size_t) i)->parent; i >= 0; i = e->parent) {
		e = rmime_get(m, (size_t) i);
		if (strcmp(e->ct.subtype, subtype) == 0)
			return (i);
	}
	return (-1);
}

/* has_plain - a text/plain text part inside entity g */
static int
has_plain(const struct rmime *m, int g)
{
	size_t	i;

	for (i = (size_t) g + 1; i < rmime_count(m); i++) {
		const struct rmime_ent *e = rmime_get(m, i);
		int	p;

		if (e->multipart || !is_text_part(e)
		    || strcmp(e->ct.subtype, "plain") != 0)
			continue;
		for (p = e->parent; p >= 0 && p != g; p = rmime_get(m, (size_t) p)->parent)
			;
		if (p == g)
			return (1);
	}
	return (0);
}

/* container_ok - a multipart an unwrap can look into; else refuses */
static int
container_ok(struct job *j, const struct rmime_ent *e)
{
	const char *sub = e->ct.subtype;

	if (strcmp(sub, "mixed") == 0 || strcmp(sub, "alternative") == 0
	    || strcmp(sub, "related") == 0)
		return (1);
	if (strcmp(sub, "signed") == 0 || strcmp(sub, "encrypted") == 0)
		refuse(j, RULE_MIME_SINGLE, HTG_HINT_NO_SIGN, "multipart/mixed "
		       "holding a signed or encrypted part (multipart/%s)", sub);
	else
		refuse(j, RULE_MIME_SINGLE, HTG_HINT_NONE, "multipart/mixed "
		       "holding a multipart/%s", sub);
	return (0);
}

/* measure_text - decode one dropped text part into j->text */
static int
measure_text(struct job *j, size_t i)
{
	const struct rmime_ent *e = rmime_get(j->m, i);
	char	err[256];
	int	g;

	/* HTML counts only where it has no text/plain alternative */
	j->text.counting = strcmp(e->ct.subtype, "plain") == 0
		|| (g = within(j->m, (int) i, "alternative")) < 0
		|| !has_plain(j->m, g);
	if (j->text.counting)
		j->text.nparts++;
	err[0] = 0;
	if (rmime_decode(j->m, i, text_sink, &j->text, err, sizeof(err)) < 0
	    && !j->text.over) {
		give_up(j, "cannot read a text part: %s", err);
		return (-1);
	}
	if (j->text.over) {
		refuse(j, RULE_MIME_SINGLE, HTG_HINT_SHORT_TEXT, "multipart/mixed "
		       "with more than %zu bytes of text beside the file",
		       j->text.limit);
		return (-1);
	}
	return (0);
}

/*
 * choose - the one attachment of a multipart/mixed, after measuring the
 * text around it; -1 when the message cannot be unwrapped (refused)
 */
static int
choose(struct job *j)
{
	size_t	i, n = rmime_count(j->m);
	int	kept = -1, nattach = 0;

	j->text.limit = htg_msg_repair_text_limit(j->msg);
	j->text.sha = g_checksum_new(G_CHECKSUM_SHA256);
	for (i = 1; i < n && !j->failed; i++) {
		const struct rmime_ent *e = rmime_get(j->m, i);

		if (e->multipart) {
			(void) container_ok(j, e);
			continue;
		}
		if (is_text_part(e)) {
			(void) measure_text(j, i);
			continue;
		}
		if (within(j->m, (int) i, "alternative") >= 0
		    || within(j->m, (int) i, "related") >= 0) {
			refuse(j, RULE_MIME_SINGLE, HTG_HINT_PLAIN_TEXT,
			       "multipart/mixed whose text holds a part of type "
			       "%s/%s (an image in a signature, an invitation)",
			       e->ct.type, e->ct.subtype);
			continue;
		}
		nattach++;
		kept = (int) i;
	}
	if (j->failed)
		return (-1);
	if (nattach == 0) {
		refuse(j, RULE_MIME_SINGLE, HTG_HINT_ATTACH,
		       "multipart/mixed without an attachment");
		return (-1);
	}
	if (nattach > 1) {
		refuse(j, RULE_MIME_SINGLE, HTG_HINT_ONE_FILE,
		       "multipart/mixed with %d attachments", nattach);
		return (-1);
	}
	return (kept);
}

/* ------------------------------------------------------------------ */
/* make: the new headers and the entity                               */
/* ------------------------------------------------------------------ */

/* known_cte - a Content-Transfer-Encoding the decoder reads exactly */
static int
known_cte(const char *cte)
{
	return (*cte == 0 || strcmp(cte, "7bit") == 0 || strcmp(cte, "8bit") == 0
		|| strcmp(cte, "binary") == 0 || strcmp(cte, "base64") == 0
		|| strcmp(cte, "quoted-printable") == 0);
}

/* spool_sink - rmime_sink: append to a spool (scan.err on failure) */
static int
spool_sink(void *arg, const unsigned char *buf, size_t len)
{
	struct scan *s = arg;

	s->size += len;
	if (len > 0)
		s->last = buf[len - 1];
	return (spool_write(s->enc, buf, len, s->err, sizeof(s->err)));
}

/* val_sink - rmime_sink: feed the encoding validator */
static int
val_sink(void *arg, const unsigned char *buf, size_t len)
{
	return (encval_feed(arg, buf, len));
}

/*
 * check_encoding - the kept part of an unwrap is valid base64 or
 * quoted-printable as written (the engine never read it), so the bytes
 * decoded are the only reading there is; 0, or -1 refused
 */
static int
check_encoding(struct job *j, const struct rmime_ent *e)
{
	struct encval v;
	char	err[256];
	int	b64 = strcmp(e->cte, "base64") == 0;

	if (!b64 && strcmp(e->cte, "quoted-printable") != 0)
		return (0);
	encval_init(&v, b64 ? ENCVAL_BASE64 : ENCVAL_QP, j->cfg->max_line_length);
	err[0] = 0;
	if (rmime_raw(j->m, (size_t) j->kept, val_sink, &v, err, sizeof(err)) == 0
	    && encval_finish(&v) == 0)
		return (0);
	if (v.error == NULL) {
		give_up(j, "cannot read the attachment: %s", err);
		return (-1);
	}
	refuse(j, b64 ? RULE_MIME_B64 : RULE_MIME_QP, HTG_HINT_NONE,
	       "%s at line %llu of the attachment", v.error, v.line);
	return (-1);
}

/* relabel_charset - MIME-CHARSET: the charset to write, or refuse */
static void
relabel_charset(struct job *j, const struct rmime_ent *e,
		const struct scan *s)
{
	int	n = e->ct.has_charset ? mimehdr_windows_125x(e->ct.charset) : -1;

	if (n < 0 || !(j->allowed & HTG_REPAIR_CHARSET))
		return;			/* the second judgement decides */
	if (!s->high) {
		j->newcs = "us-ascii";
		j->cs_why = "ASCII only";
	} else if (n == 2 && !s->c1) {
		j->newcs = "ISO-8859-1";
		j->cs_why = "no byte 0x80-0x9F, where the two differ";
	} else if (n == 2)
		refuse(j, RULE_MIME_CHARSET, HTG_HINT_UTF8, "charset=%s with "
		       "byte 0x%02X at offset %llu, which ISO-8859-1 reads "
		       "otherwise: not relabelled", e->ct.charset, s->c1_byte,
		       s->c1_at);
	else
		refuse(j, RULE_MIME_CHARSET, HTG_HINT_UTF8, "charset=%s with "
		       "bytes above 127, which no ISO charset reads alike: not "
		       "relabelled", e->ct.charset);
}

/* put_header - "Name: value" CR LF into the entity */
static int
put_header(struct job *j, const char *name, const char *value, char *err,
	   size_t errlen)
{
	char   *line = g_strdup_printf("%s: %s\r\n", name, value);
	int	rc = spool_write(j->r->out, line, strlen(line), err, errlen);

	g_free(line);
	return (rc);
}

/* write_entity - headers, blank line, body into r->out; -1 ends the job */
static int
write_entity(struct job *j)
{
	struct repair *r = j->r;
	struct scan s;
	char	err[256];
	int	k, rc;

	r->out = spool_new(j->cfg->repair_memory, j->cfg->repair_dir);
	for (k = 0; k < RH_COUNT; k++)
		if (r->hdr[k] != NULL
		    && put_header(j, rh_names[k], r->hdr[k], err, sizeof(err)) < 0) {
			internal(j, err);
			return (-1);
		}
	if (spool_write(r->out, "\r\n", 2, err, sizeof(err)) < 0) {
		internal(j, err);
		return (-1);
	}
	r->body_off = spool_size(r->out);
	scan_init(&s, r->out);
	err[0] = 0;
	if (j->encode)
		rc = rmime_decode(j->m, (size_t) j->kept, scan_sink, &s, err,
				  sizeof(err)) < 0 || scan_close(&s) < 0 ? -1 : 0;
	else {
		rc = rmime_raw(j->m, (size_t) j->kept, spool_sink, &s, err,
			       sizeof(err));
		/* a part's body ends before the line break of its boundary */
		if (rc == 0 && j->kept > 0 && s.size > 0 && s.last != '\n')
			rc = spool_write(r->out, "\r\n", 2, s.err, sizeof(s.err));
	}
	if (rc == 0 && j->encode && strcmp(g_checksum_get_string(s.sha),
					   j->sha_before) != 0)
		give_up(j, "the content changed between two readings");
	if (rc < 0)
		internal(j, s.err[0] ? s.err : err);
	scan_free(&s);
	return (j->failed ? -1 : 0);
}

/* make - scan the kept part, decide the headers, write the entity */
static int
make(struct job *j)
{
	const struct rmime_ent *e = rmime_get(j->m, (size_t) j->kept);
	struct repair *r = j->r;
	struct scan s;
	char	err[256];

	if (strcmp(e->ct.type, "message") == 0) {
		refuse(j, RULE_MIME_TYPE, HTG_HINT_FILE_TYPE, "Content-Type: "
		       "%s/%s (a forwarded message)", e->ct.type, e->ct.subtype);
		return (-1);
	}
	if (!known_cte(e->cte)) {
		refuse(j, RULE_MIME_CTE, HTG_HINT_NONE,
		       "Content-Transfer-Encoding: %s", e->cte);
		return (-1);
	}
	if (j->kept > 0 && check_encoding(j, e) < 0)
		return (-1);
	j->encode = (j->plan & (HTG_REPAIR_ENCODE | HTG_REPAIR_ENCODE7))
		|| ((j->plan & HTG_REPAIR_UNWRAP) && strcmp(e->cte, "base64") != 0);
	if (strcmp(e->ct.type, "text") == 0 && strcmp(e->ct.subtype, "xml") == 0
	    && (j->allowed & HTG_REPAIR_TYPE))
		j->newtype = "application/xml";
	scan_init(&s, NULL);
	err[0] = 0;
	if (rmime_decode(j->m, (size_t) j->kept, scan_sink, &s, err,
			 sizeof(err)) < 0) {
		scan_free(&s);
		give_up(j, "cannot read the part to keep: %s", err);
		return (-1);
	}
	g_strlcpy(j->sha_before, g_checksum_get_string(s.sha),
		  sizeof(j->sha_before));
	j->size = s.size;
	if (!s.nonblank)
		refuse(j, RULE_MIME_SINGLE, HTG_HINT_ATTACH,
		       "no body part: the file is empty");
	else
		relabel_charset(j, e, &s);
	scan_free(&s);
	if (j->failed)
		return (-1);
	if (j->newtype != NULL || j->newcs != NULL) {
		r->hdr[RH_CTYPE] = rmime_ctype_value(e->ctype_raw ? e->ctype_raw
						     : "text/plain", j->newtype,
						     j->newcs);
		if (r->hdr[RH_CTYPE] == NULL) {
			give_up(j, "cannot write the new Content-Type");
			return (-1);
		}
	} else
		r->hdr[RH_CTYPE] = g_strdup(e->ctype_raw);
	r->hdr[RH_CTE] = j->encode ? g_strdup("base64") : g_strdup(e->cte_raw);
	r->hdr[RH_DISP] = g_strdup(e->disp_raw);
	r->body_changed = j->encode || (j->plan & HTG_REPAIR_UNWRAP);
	return (write_entity(j));
}

/* ------------------------------------------------------------------ */
/* verify and judge                                                   */
/* ------------------------------------------------------------------ */

/* verify - the entity's decoded content is the kept part's, byte for byte */
static int
verify(struct job *j)
{
	char	err[256];
	FILE   *fp = spool_reader(j->r->out, err, sizeof(err));
	struct rmime *m2;
	struct scan s;
	int	rc = -1;

	if (fp == NULL) {
		internal(j, err);
		return (-1);
	}
	if ((m2 = rmime_parse(fp, err, sizeof(err))) == NULL) {
		give_up(j, "the repaired message does not parse: %s", err);
		return (-1);
	}
	scan_init(&s, NULL);
	if (rmime_count(m2) != 1 || rmime_get(m2, 0)->multipart)
		give_up(j, "the repaired message is not one part");
	else if (rmime_decode(m2, 0, scan_sink, &s, err, sizeof(err)) < 0)
		give_up(j, "cannot read the repaired message: %s", err);
	else if (s.size != j->size
		 || strcmp(g_checksum_get_string(s.sha), j->sha_before) != 0)
		give_up(j, "the decoded content changed: %llu bytes sha256 %s "
			"before, %llu bytes sha256 %s after", j->size,
			j->sha_before, s.size, g_checksum_get_string(s.sha));
	else
		rc = 0;
	scan_free(&s);
	rmime_free(m2);
	return (rc);
}

/* has_rule - msg has a finding of rule */
static int
has_rule(const struct htg_msg *msg, enum htg_rule_id rule)
{
	const struct htg_finding *f;
	size_t	i, n = htg_msg_findings(msg, &f);

	for (i = 0; i < n; i++)
		if (f[i].rule == rule)
			return (1);
	return (0);
}

/* shown - a file name or text cut for a detail (sanitised later) */
static void
shown(char *dst, size_t dstlen, const char *src, size_t max)
{
	size_t	n = strlen(src);

	if (n > max && max + 4 <= dstlen)
		g_snprintf(dst, dstlen, "%.*s...", (int) max, src);
	else
		g_strlcpy(dst, src, dstlen);
}

static void add_fix(struct job *j, enum htg_rule_id rule, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* note_unwrap - the MIME-SINGLE finding and the repair note */
static void
note_unwrap(struct job *j)
{
	const struct rmime_ent *e = rmime_get(j->m, (size_t) j->kept);
	const char *fn = e->cd.filename[0] ? e->cd.filename : e->ct.name;
	char	name[REPAIR_NAME_SHOWN + 4], first[REPAIR_FIRST_LINE + 4];
	char	dropped[HTG_DETAIL_MAX], *note;

	shown(name, sizeof(name), fn[0] ? fn : "(no name)", REPAIR_NAME_SHOWN);
	j->text.first[j->text.flen] = 0;
	shown(first, sizeof(first), j->text.first, 40);
	if (j->text.nparts == 0)
		g_snprintf(dropped, sizeof(dropped), "no text");
	else
		g_snprintf(dropped, sizeof(dropped), "text %llu bytes sha256=%s "
			   "first line '%s'", j->text.counted,
			   g_checksum_get_string(j->text.sha), first);
	add_fix(j, RULE_MIME_SINGLE, "multipart/mixed unwrapped: kept %s "
		"(%s/%s, %llu bytes); dropped %s", name, e->ct.type,
		e->ct.subtype, j->size, dropped);
	j->text.first[j->text.flen] = 0;
	note = g_strdup_printf("unwrapped multipart/mixed: kept %s (%s/%s, "
			       "%llu bytes, sha256 %s); dropped %d text part(s): "
			       "%llu bytes, sha256 %s, first line '%s'; HTML "
			       "alternatives %llu bytes", fn[0] ? fn : "(no name)",
			       e->ct.type, e->ct.subtype, j->size, j->sha_before,
			       j->text.nparts, j->text.counted,
			       g_checksum_get_string(j->text.sha), j->text.first,
			       j->text.html);
	htg_msg_set_repair_note(j->msg, note);
	g_free(note);
}

/* add_fix - one fix finding on the message */
static void G_GNUC_PRINTF(3, 4)
add_fix(struct job *j, enum htg_rule_id rule, const char *fmt, ...)
{
	char	detail[HTG_DETAIL_MAX * 2];
	va_list	ap;

	va_start(ap, fmt);
	g_vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	(void) htg_msg_add_finding_as(j->msg, rule, HTG_STAGE_EOM, HTG_ACT_FIX,
				      detail);
}

/* take_findings - the second judgement's refusals become msg's */
static void
take_findings(struct job *j, const struct htg_msg *msg2)
{
	const struct htg_finding *f;
	size_t	i, n = htg_msg_findings(msg2, &f);

	for (i = 0; i < n; i++)
		if (f[i].action == HTG_ACT_REJECT || f[i].action == HTG_ACT_TEMPFAIL)
			(void) htg_msg_add_finding_hint(j->msg, f[i].rule,
				HTG_STAGE_EOM, f[i].action, f[i].hint, f[i].detail);
	j->failed = 1;
}

/* rejudge - the entity through the engine again; 0 when it passes */
static int
rejudge(struct job *j)
{
	const struct rmime_ent *e = rmime_get(j->m, (size_t) j->kept);
	struct htg_msg *msg2 = htg_msg_new_like(j->msg);
	const struct htg_finding *f;
	char	err[256];
	FILE   *fp = spool_reader(j->r->out, err, sizeof(err));
	const char *disp;
	size_t	i, n;

	if (fp == NULL) {
		internal(j, err);
		htg_msg_free(msg2);
		return (-1);
	}
	if (judge_content(msg2, fp) != HTG_ACCEPT) {
		take_findings(j, msg2);
		htg_msg_free(msg2);
		return (-1);
	}
	if ((disp = htg_msg_fix_disposition(msg2, NULL)) != NULL) {
		g_free(j->r->hdr[RH_DISP]);
		j->r->hdr[RH_DISP] = g_strdup(disp);
	}
	/* the file's own Content-Disposition finding, when msg had none */
	n = htg_msg_findings(msg2, &f);
	for (i = 0; i < n; i++)
		if (f[i].rule == RULE_MIME_DISPOSITION
		    && !has_rule(j->msg, RULE_MIME_DISPOSITION))
			(void) htg_msg_add_finding_as(j->msg, f[i].rule,
				HTG_STAGE_EOM, f[i].action, f[i].detail);
	htg_msg_free(msg2);
	if (j->plan & HTG_REPAIR_UNWRAP)
		note_unwrap(j);
	if (j->newtype != NULL)
		add_fix(j, RULE_MIME_TYPE, "Content-Type: %s/%s relabelled %s",
			e->ct.type, e->ct.subtype, j->newtype);
	if (j->newcs != NULL)
		add_fix(j, RULE_MIME_CHARSET, "charset=%s relabelled %s (%s)",
			e->ct.charset, j->newcs, j->cs_why);
	if (j->plan & HTG_REPAIR_ENCODE)
		add_fix(j, RULE_MIME_CTE, "Content-Transfer-Encoding: %s "
			"re-encoded as base64 (%llu bytes)", e->cte, j->size);
	if (j->plan & HTG_REPAIR_ENCODE7)
		add_fix(j, RULE_MIME_7BIT, "7bit body with 8-bit data under "
			"charset=%s re-encoded as base64 (%llu bytes)",
			e->ct.charset, j->size);
	return (0);
}

/* repair_run - run msg's due repairs on the stored entity in */
struct repair *
repair_run(struct htg_msg *msg, FILE *in)
{
	struct repair *r = g_new0(struct repair, 1);
	struct job j;
	char	err[256];

	memset(&j, 0, sizeof(j));
	j.msg = msg;
	j.r = r;
	j.cfg = htg_msg_cfg(msg);
	j.plan = htg_msg_repair_planned(msg);
	j.allowed = htg_msg_repair_allowed(msg);
	err[0] = 0;
	if (fseeko(in, 0, SEEK_SET) != 0)
		internal(&j, strerror(errno));
	else if ((j.m = rmime_parse(in, err, sizeof(err))) == NULL) {
		if (j.plan & HTG_REPAIR_UNWRAP)
			refuse(&j, RULE_MIME_SINGLE, HTG_HINT_NONE, "multipart/"
			       "mixed that cannot be unwrapped: %s", err);
		else
			give_up(&j, "cannot parse the message: %s", err);
	} else if ((j.kept = (j.plan & HTG_REPAIR_UNWRAP) ? choose(&j) : 0) >= 0
		   && make(&j) == 0 && verify(&j) == 0 && rejudge(&j) == 0)
		r->ok = 1;
	htg_msg_repair_settle(msg, r->ok);
	if (j.text.sha != NULL)
		g_checksum_free(j.text.sha);
	rmime_free(j.m);
	return (r);
}

/* repair_ok - the message was repaired and passes */
int
repair_ok(const struct repair *r)
{
	return (r != NULL && r->ok);
}

/* repair_body_changed - the new body differs from the old one */
int
repair_body_changed(const struct repair *r)
{
	return (r != NULL && r->ok && r->body_changed);
}

/* repair_header - the new value of a MIME header (NULL: remove it) */
const char *
repair_header(const struct repair *r, const char *name)
{
	int	k;

	for (k = 0; r != NULL && k < RH_COUNT; k++)
		if (g_ascii_strcasecmp(name, rh_names[k]) == 0)
			return (r->hdr[k]);
	return (NULL);
}

/* repair_body - the new body from its start; NULL with err */
FILE   *
repair_body(struct repair *r, char *err, size_t errlen)
{
	FILE   *fp;

	if (r == NULL || r->out == NULL) {
		g_snprintf(err, errlen, "no repaired body");
		return (NULL);
	}
	if ((fp = spool_reader(r->out, err, errlen)) == NULL)
		return (NULL);
	if (fseeko(fp, (off_t) r->body_off, SEEK_SET) != 0) {
		g_snprintf(err, errlen, "seek: %s", strerror(errno));
		return (NULL);
	}
	return (fp);
}

/* repair_error - why a repair was given up, for the log; NULL: none */
const char *
repair_error(const struct repair *r)
{
	return (r != NULL && r->error[0] ? r->error : NULL);
}

/* repair_free - release a result (NULL is fine) */
void
repair_free(struct repair *r)
{
	int	k;

	if (r == NULL)
		return;
	for (k = 0; k < RH_COUNT; k++)
		g_free(r->hdr[k]);
	spool_free(r->out);
	g_free(r);
}

/* ------------------------------------------------------------------ */
/* The message as it leaves (htgate-check --fix)                      */
/* ------------------------------------------------------------------ */

/* mime_header - one of the three headers a repair replaces */
static int
mime_header(const char *line)
{
	int	k;

	for (k = 0; k < RH_COUNT; k++) {
		size_t	n = strlen(rh_names[k]);

		if (g_ascii_strncasecmp(line, rh_names[k], n) == 0
		    && (line[n] == ':' || line[n] == ' ' || line[n] == '\t'))
			return (k);
	}
	return (-1);
}

/* put_line - a line without its line end, then CR LF; 0 or -1 */
static int
put_line(FILE *out, const char *line, size_t n)
{
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	return (fwrite(line, 1, n, out) == n && fputs("\r\n", out) != EOF ?
		0 : -1);
}

/* copy_rest - the rest of in to out, bare LF made CR LF; 0 or -1 */
static int
copy_rest(FILE *in, FILE *out)
{
	char   *buf = g_malloc(REPAIR_COPY_CHUNK);
	size_t	n, i;
	int	rc = 0, prev_cr = 0;

	while (rc == 0 && (n = fread(buf, 1, REPAIR_COPY_CHUNK, in)) > 0)
		for (i = 0; i < n && rc == 0; i++) {
			if (buf[i] == '\n' && !prev_cr && putc('\r', out) == EOF)
				rc = -1;
			if (putc(buf[i], out) == EOF)
				rc = -1;
			prev_cr = buf[i] == '\r';
		}
	if (ferror(in))
		rc = -1;
	g_free(buf);
	return (rc);
}

/* added_headers - the headers the repair or the engine's fixes add */
static int
added_headers(FILE *out, const struct repair *r, const struct htg_msg *msg,
	      int disp_done)
{
	const char *disp = htg_msg_fix_disposition(msg, NULL);
	int	k, rc = 0;

	if (repair_ok(r)) {
		for (k = 0; k < RH_COUNT; k++)
			if (r->hdr[k] != NULL
			    && fprintf(out, "%s: %s\r\n", rh_names[k], r->hdr[k]) < 0)
				rc = -1;
	} else if (disp != NULL && !disp_done
		   && fprintf(out, "Content-Disposition: %s\r\n", disp) < 0)
		rc = -1;
	if (htg_msg_fix_msgid(msg) != NULL
	    && fprintf(out, "Message-ID: %s\r\n", htg_msg_fix_msgid(msg)) < 0)
		rc = -1;
	return (rc);
}

/* repair_write_message - the message as it would leave the relay */
int
repair_write_message(FILE *orig, const struct repair *r,
		     const struct htg_msg *msg, FILE *out, char *err,
		     size_t errlen)
{
	const char *disp = htg_msg_fix_disposition(msg, NULL);
	char   *line = NULL;
	size_t	cap = 0;
	ssize_t	n;
	int	skipping = 0, first = 1, disp_done = 0, rc = 0, k;

	if (fseeko(orig, 0, SEEK_SET) != 0) {
		g_snprintf(err, errlen, "seek: %s", strerror(errno));
		return (-1);
	}
	while (rc == 0 && (n = getline(&line, &cap, orig)) > 0) {
		if (first && strncmp(line, "From ", 5) == 0) {
			first = 0;
			continue;	/* an mbox separator */
		}
		first = 0;
		if (line[0] == '\n' || (line[0] == '\r' && line[1] == '\n'))
			break;		/* end of the header block */
		if (line[0] == ' ' || line[0] == '\t') {
			if (!skipping)
				rc = put_line(out, line, (size_t) n);
			continue;
		}
		k = mime_header(line);
		skipping = (k >= 0 && repair_ok(r))
			|| (k == RH_DISP && disp != NULL);
		if (k == RH_DISP && disp != NULL && !repair_ok(r) && !disp_done) {
			disp_done = 1;
			rc = fprintf(out, "Content-Disposition: %s\r\n", disp) < 0;
		}
		if (!skipping)
			rc = put_line(out, line, (size_t) n);
	}
	free(line);
	if (rc == 0)
		rc = added_headers(out, r, msg, disp_done);
	if (rc == 0 && fputs("\r\n", out) == EOF)
		rc = -1;
	if (rc == 0 && repair_body_changed(r)) {
		FILE   *body = repair_body((struct repair *) r, err, errlen);

		if (body == NULL)
			return (-1);
		rc = copy_rest(body, out);
	} else if (rc == 0)
		rc = copy_rest(orig, out);
	if (rc != 0 || fflush(out) != 0) {
		g_snprintf(err, errlen, "cannot write the message: %s",
			   strerror(errno));
		return (-1);
	}
	return (0);
}

/* repair_copy_crlf - a stored message with CR LF line ends into a spool */
int
repair_copy_crlf(FILE *in, struct spool *out, char *err, size_t errlen)
{
	unsigned char *buf = g_malloc(REPAIR_COPY_CHUNK);
	unsigned char *obuf = g_malloc(2 * REPAIR_COPY_CHUNK);
	int	prev_cr = 0, rc = 0;
	size_t	n, i, o;

	while (rc == 0 && (n = fread(buf, 1, REPAIR_COPY_CHUNK, in)) > 0) {
		for (i = o = 0; i < n; i++) {
			if (buf[i] == '\n' && !prev_cr)
				obuf[o++] = '\r';
			obuf[o++] = buf[i];
			prev_cr = buf[i] == '\r';
		}
		rc = spool_write(out, obuf, o, err, errlen);
	}
	if (rc == 0 && ferror(in)) {
		g_snprintf(err, errlen, "read error: %s", strerror(errno));
		rc = -1;
	}
	g_free(buf);
	g_free(obuf);
	return (rc);
}
