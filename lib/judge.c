/*
 * NAME
 *	judge - run a stored message through the engine as the milter would
 * DESCRIPTION
 *	See judge.h.
 * OWNERSHIP
 *	Header copies are held only while the message is judged.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "judge.h"
#include "mimehdr.h"
#include "msgfile.h"

#define JUDGE_CHUNK	(256 * 1024)	/* fewer read(2)s on large bodies */

/* a kept header, so the envelope can come from From:/To: */
struct judge_hdr {
	char   *name;
	char   *value;
};

/* read_headers - the header block; -1 with a LIMIT finding on overflow */
static int
read_headers(struct msgfile *mf, GArray *hdrs)
{
	const char *name, *value;
	int	r;

	while ((r = msgfile_next_header(mf, &name, &value)) == 1) {
		struct judge_hdr h = {g_strdup(name), g_strdup(value)};

		g_array_append_val(hdrs, h);
	}
	return (r);
}

/* header_addresses - envelope addresses from a header (all mailboxes) */
static void
header_addresses(GArray *hdrs, const char *name, GPtrArray *out)
{
	guint	i;
	gchar **parts;

	for (i = 0; i < hdrs->len; i++) {
		struct judge_hdr *h = &g_array_index(hdrs, struct judge_hdr, i);
		char	first[512];

		if (g_ascii_strcasecmp(h->name, name) != 0)
			continue;
		/* Split the list so each mailbox becomes one RCPT. */
		parts = g_strsplit(h->value, ",", 64);
		for (gchar **p = parts; *p; p++)
			if (mimehdr_addresses(*p, first, sizeof(first)) >= 1)
				g_ptr_array_add(out, g_strdup(first));
		g_strfreev(parts);
		if (out->len)
			return;
	}
}

/* note - remember the first deciding verdict */
static void
note(enum htg_verdict *final, enum htg_verdict v)
{
	if (*final == HTG_CONTINUE && (v == HTG_REJECT || v == HTG_TEMPFAIL))
		*final = v;
}

/* drive_envelope - MAIL and RCPT from options or headers */
static enum htg_verdict
drive_envelope(struct htg_msg *msg, const struct judge_envelope *o, GArray *hdrs)
{
	GPtrArray *from = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *rcpts = g_ptr_array_new_with_free_func(g_free);
	char	envid[600], notify[600];
	char   *mail_args[2] = {NULL, NULL}, *rcpt_args[2] = {NULL, NULL};
	enum htg_verdict final = HTG_CONTINUE, v;
	int	i;

	if (o->from)
		g_ptr_array_add(from, g_strdup(o->from));
	else
		header_addresses(hdrs, "From", from);
	if (o->nrcpt)
		for (i = 0; i < o->nrcpt; i++)
			g_ptr_array_add(rcpts, g_strdup(o->rcpt[i]));
	else
		header_addresses(hdrs, "To", rcpts);
	if (o->envid) {
		snprintf(envid, sizeof(envid), "ENVID=%s", o->envid);
		mail_args[0] = envid;
	}
	if (o->notify) {
		snprintf(notify, sizeof(notify), "NOTIFY=%s", o->notify);
		rcpt_args[0] = notify;
	}
	if (o->sasl_user)
		htg_msg_set_sasl_user(msg, o->sasl_user);
	htg_msg_mail(msg, from->len ? g_ptr_array_index(from, 0) : "", mail_args);
	for (i = 0; i < (int) rcpts->len; i++) {
		v = htg_msg_rcpt(msg, g_ptr_array_index(rcpts, i), rcpt_args);
		note(&final, v);
	}
	g_ptr_array_free(from, TRUE);
	g_ptr_array_free(rcpts, TRUE);
	return (final);
}

/* drive_content - headers, end of headers, body, repairs, end of message */
static enum htg_verdict
drive_content(struct htg_msg *msg, struct msgfile *mf, GArray *hdrs,
	      int header_error, judge_repair_fn fn, void *arg)
{
	unsigned char *buf = g_malloc(JUDGE_CHUNK);
	enum htg_verdict final = HTG_CONTINUE, v = HTG_CONTINUE;
	size_t	n;
	guint	i;

	for (i = 0; i < hdrs->len && v != HTG_ACCEPT; i++) {
		struct judge_hdr *h = &g_array_index(hdrs, struct judge_hdr, i);

		note(&final, v = htg_msg_header(msg, h->name, h->value));
	}
	if (header_error && v != HTG_ACCEPT)
		note(&final, htg_msg_add_finding(msg, RULE_LIMIT, HTG_STAGE_HEADER,
						 msgfile_error(mf)));
	if (msgfile_nul_header(mf) != NULL && v != HTG_ACCEPT) {
		char	detail[HTG_DETAIL_MAX];

		snprintf(detail, sizeof(detail), "NUL byte in %s:",
			 msgfile_nul_header(mf));
		note(&final, htg_msg_add_finding(msg, RULE_MIME_HEADER,
						 HTG_STAGE_HEADER, detail));
	}
	if (v != HTG_ACCEPT)
		note(&final, v = htg_msg_eoh(msg));
	while (v != HTG_ACCEPT && !header_error
	       && (n = msgfile_read_body(mf, buf, JUDGE_CHUNK)) > 0)
		note(&final, v = htg_msg_body(msg, buf, n));
	if (v != HTG_ACCEPT && fn != NULL && htg_msg_repair_due(msg))
		fn(msg, arg);
	if (v != HTG_ACCEPT)
		note(&final, v = htg_msg_eom(msg));
	g_free(buf);
	if (final == HTG_CONTINUE)
		final = HTG_ACCEPT;
	return (final);
}

/* free_headers - release the kept header block */
static void
free_headers(GArray *hdrs)
{
	guint	i;

	for (i = 0; i < hdrs->len; i++) {
		g_free(g_array_index(hdrs, struct judge_hdr, i).name);
		g_free(g_array_index(hdrs, struct judge_hdr, i).value);
	}
	g_array_free(hdrs, TRUE);
}

/* judge_stream - judge one message read from fp */
enum htg_verdict
judge_stream(struct htg_msg *msg, FILE *fp, const struct judge_envelope *env)
{
	return (judge_stream_repair(msg, fp, env, NULL, NULL));
}

/* judge_content - judge an entity on a message with its envelope */
enum htg_verdict
judge_content(struct htg_msg *msg, FILE *fp)
{
	const struct htg_cfg *cfg = htg_msg_cfg(msg);
	GArray *hdrs = g_array_new(FALSE, FALSE, sizeof(struct judge_hdr));
	struct msgfile *mf;
	enum htg_verdict v;
	int	hdr_r;

	mf = msgfile_open(fp, cfg->max_header_bytes + cfg->max_header_line,
			  cfg->max_header_count + 1);
	hdr_r = read_headers(mf, hdrs);
	v = drive_content(msg, mf, hdrs, hdr_r < 0, NULL, NULL);
	msgfile_close(mf);
	free_headers(hdrs);
	return (v);
}

/* judge_stream_repair - judge one message, running due repairs with fn */
enum htg_verdict
judge_stream_repair(struct htg_msg *msg, FILE *fp,
		    const struct judge_envelope *env, judge_repair_fn fn,
		    void *arg)
{
	const struct htg_cfg *cfg = htg_msg_cfg(msg);
	GArray *hdrs = g_array_new(FALSE, FALSE, sizeof(struct judge_hdr));
	struct msgfile *mf;
	enum htg_verdict env_v, v;
	int	hdr_r;

	mf = msgfile_open(fp, cfg->max_header_bytes + cfg->max_header_line,
			  cfg->max_header_count + 1);
	hdr_r = read_headers(mf, hdrs);
	env_v = drive_envelope(msg, env, hdrs);
	v = drive_content(msg, mf, hdrs, hdr_r < 0, fn, arg);
	msgfile_close(mf);
	free_headers(hdrs);
	return (env_v != HTG_CONTINUE ? env_v : v);
}
