/*
 * NAME
 *	test_repair - the repairs of issue 11: a case per repair and per
 *	refusal, the fail-closed path, the spool, the encoder, the config
 * DESCRIPTION
 *	Table-driven (STYLE.md §12): each case is a message and an
 *	envelope, judged through judge_stream_repair() with the repair hook
 *	htgate-check uses (the message read again with CR LF line ends,
 *	repair_run()), and the expected verdict, the exact set of findings,
 *	and for a repaired message its new Content-Type and
 *	Content-Transfer-Encoding, whether the body changed, and the decoded
 *	new body, decoded here with GLib's base64 (not GMime) and compared
 *	byte for byte with what the sender attached.  Further tests: without
 *	the hook a planned repair is refused (fail closed); a spool moves
 *	from memory to a file; the base64 encoder gives GLib's output with
 *	CR LF line ends for any chunking; a stream's "rules" parse and are
 *	refused when wrong; hint lines in a reply.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "unit.h"
#include "cfg.h"
#include "engine.h"
#include "judge.h"
#include "mimehdr.h"
#include "repair.h"
#include "repair_mime.h"
#include "repair_spool.h"

static const char test_conf[] =
	"[global]\n"
	"language = en nl\n"
	"size_limit = 6K\n"
	"unwrap_text_limit = 200\n"
	"repair_memory = 64\n"		/* almost everything goes to a file */
	"[stream AGS]\n"
	"[stream DMSDOCS]\n"
	"[stream DECODOCS]\n"
	"rules = MIME-SINGLE:reject, MIME-TYPE:reject\n"
	"[stream SINGLEWINDOW]\n"
	"profile = single-window\n"
	"[account example]\n"
	"senders = *@example.com\n"
	"streams = *\n"
	"[rules]\n"
	"HDR-MSGID = fix\n"
	"MIME-SINGLE = fix\n"
	"MIME-TYPE = fix\n"
	"MIME-CHARSET = fix\n"
	"MIME-CTE = fix\n"
	"MIME-7BIT = fix\n";

static struct htg_cfg *cfg;

#define HDR(to)	"From: Jan <jan@example.com>\r\nTo: " to "\r\n" \
		"Subject: Aangifte\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n" \
		"Message-ID: <r.1@example.com>\r\nMIME-Version: 1.0\r\n"
#define H	HDR("AGS@htpoort.nl")
#define MIXED	"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
#define TEXT(t)	"--b\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" t "\r\n"
#define XML	"<?xml version=\"1.0\" encoding=\"UTF-8\"?><a>caf\xc3\xa9</a>\n"
#define XML_B64	"PD94bWwgdmVyc2lvbj0iMS4wIiBlbmNvZGluZz0iVVRGLTgiPz48YT5jYWbDqTwvYT4K"
#define ATT_XML	"--b\r\nContent-Type: text/xml; charset=UTF-8; name=\"a.xml\"\r\n" \
		"Content-Disposition: attachment; filename=\"a.xml\"\r\n" \
		"Content-Transfer-Encoding: base64\r\n\r\n" XML_B64 "\r\n"
#define END	"--b--\r\n"
#define LONG	"Dit bericht is uitsluitend bestemd voor de geadresseerde. " \
		"Indien u dit bericht onterecht ontvangt, wordt u verzocht de " \
		"inhoud niet te gebruiken en de afzender direct te informeren."

static const struct tc {
	const char *label;
	const char *text;
	const char *rcpt;		/* NULL: AGS@msa-smtp.htpoort.nl */
	enum htg_verdict want;
	const char *want_findings;	/* sorted "action:RULE ..." */
	const char *want_ctype;		/* new Content-Type, or NULL */
	const char *want_cte;		/* new Content-Transfer-Encoding */
	int	want_body_changed;
	const char *want_decoded;	/* the new body decoded (base64) */
	size_t	want_decoded_len;	/* 0: strlen(want_decoded) */
	const char *want_disp;		/* new Content-Disposition, or NULL */
} cases[] = {
	{.label = "unwrap: Thunderbird text + text/xml",
	 .text = H MIXED TEXT("Beste,") ATT_XML END,
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-SINGLE fix:MIME-TYPE",
	 .want_ctype = "application/xml; charset=UTF-8; name=a.xml",
	 .want_cte = "base64", .want_body_changed = 1, .want_decoded = XML,
	 .want_disp = "attachment; filename=\"a.xml\""},
	{.label = "unwrap: Outlook nested alternative, HTML not counted",
	 .text = H MIXED "--b\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\n"
		 "--a\r\nContent-Type: text/plain\r\n\r\nZie bijlage.\r\n"
		 "--a\r\nContent-Type: text/html\r\n\r\n<html><body><p>" LONG LONG
		 "</p></body></html>\r\n--a--\r\n\r\n" ATT_XML END,
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-SINGLE fix:MIME-TYPE",
	 .want_cte = "base64", .want_body_changed = 1, .want_decoded = XML},
	{.label = "unwrap: HTML without a text alternative counts",
	 .text = H MIXED "--b\r\nContent-Type: text/html\r\n\r\n<p>" LONG LONG
		 "</p>\r\n" ATT_XML END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "unwrap: two attachments refused",
	 .text = H MIXED TEXT("Beste,") ATT_XML ATT_XML END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "unwrap: no attachment refused",
	 .text = H MIXED TEXT("Beste,") TEXT("Groet") END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "unwrap: text over the limit refused",
	 .text = H MIXED TEXT(LONG LONG) ATT_XML END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "unwrap: an image in the text refused",
	 .text = H MIXED "--b\r\nContent-Type: multipart/related; boundary=\"r\"\r\n\r\n"
		 "--r\r\nContent-Type: text/html\r\n\r\n<img src=\"cid:x\">\r\n"
		 "--r\r\nContent-Type: image/png\r\nContent-ID: <x>\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--r--\r\n" ATT_XML END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "unwrap: a signed part refused",
	 .text = H MIXED "--b\r\nContent-Type: multipart/signed; boundary=\"s\"; "
		 "protocol=\"application/pkcs7-signature\"\r\n\r\n--s\r\n"
		 "Content-Type: text/plain\r\n\r\nx\r\n--s\r\n"
		 "Content-Type: application/pkcs7-signature\r\n\r\nAAAA\r\n--s--\r\n" ATT_XML END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "unwrap: a forwarded message refused",
	 .text = H MIXED TEXT("Fwd") "--b\r\nContent-Type: message/rfc822\r\n"
		 "Content-Disposition: attachment; filename=\"fwd.eml\"\r\n\r\n"
		 "Subject: x\r\n\r\nbody\r\n" END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-TYPE"},
	{.label = "unwrap: winmail.dat refused",
	 .text = H MIXED TEXT("Zie bijlage.") "--b\r\nContent-Type: application/ms-tnef; "
		 "name=\"winmail.dat\"\r\nContent-Transfer-Encoding: base64\r\n\r\neJ8+IgEA\r\n" END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-DISPOSITION reject:MIME-TYPE"},
	{.label = "unwrap: winmail.dat labelled octet-stream refused",
	 .text = H MIXED TEXT("Zie bijlage.") "--b\r\nContent-Type: application/octet-stream\r\n"
		 "Content-Disposition: attachment; filename=\"WINMAIL.DAT\"\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\neJ8+IgEA\r\n" END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-TYPE"},
	{.label = "unwrap: a multipart without its closing boundary refused",
	 .text = H MIXED TEXT("Beste,") ATT_XML,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "unwrap: 8bit text attachment re-encoded with its line ends",
	 .text = H MIXED TEXT("Beste,") "--b\r\nContent-Type: text/plain; charset=UTF-8; "
		 "name=\"a.edi\"\r\nContent-Disposition: attachment; filename=a.edi\r\n"
		 "Content-Transfer-Encoding: 8bit\r\n\r\nUNA:+.? '\r\nNAD+Caf\xc3\xa9'\r\n\r\n" END,
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-SINGLE",
	 .want_cte = "base64", .want_body_changed = 1,
	 .want_decoded = "UNA:+.? '\r\nNAD+Caf\xc3\xa9'\r\n"},
	{.label = "unwrap: quoted-printable attachment re-encoded, decoded the same",
	 .text = H MIXED TEXT("Beste,") "--b\r\nContent-Type: application/xml; name=a.xml\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n\r\n<a>caf=C3=A9 =\r\nen meer</a>\r\n" END,
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-SINGLE",
	 .want_cte = "base64", .want_body_changed = 1,
	 .want_decoded = "<a>caf\xc3\xa9 en meer</a>"},
	{.label = "unwrap: invalid quoted-printable attachment refused",
	 .text = H MIXED TEXT("Beste,") "--b\r\nContent-Type: application/xml; name=a.xml\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n\r\n<a>caf=ZZ</a>\r\n" END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-QP"},
	{.label = "unwrap: invalid base64 attachment refused",
	 .text = H MIXED TEXT("Beste,") "--b\r\nContent-Type: application/xml; name=a.xml\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\nPD94*bWwg\r\n" END,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-B64"},
	{.label = "unwrap: Apple Mail inline PDF becomes an attachment",
	 .text = HDR("DMSDOCS@htpoort.nl") MIXED TEXT("Hallo,")
		 "--b\r\nContent-Disposition: inline;\r\n\tfilename=f.pdf\r\nContent-Type: "
		 "application/pdf;\r\n\tx-unix-mode=0644;\r\n\tname=\"f.pdf\"\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" TEXT("Groet") END,
	 .rcpt = "DMSDOCS@msa-smtp.htpoort.nl",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-DISPOSITION fix:MIME-SINGLE",
	 .want_cte = "base64", .want_body_changed = 1, .want_decoded = "%PDF-1.4\n",
	 .want_disp = "attachment; filename=\"f.pdf\""},
	{.label = "unwrap: Single Window takes no PDF (second judgement)",
	 .text = HDR("SINGLEWINDOW@htpoort.nl") MIXED TEXT("Hallo,")
		 "--b\r\nContent-Type: application/pdf; name=f.pdf\r\n"
		 "Content-Disposition: attachment; filename=f.pdf\r\n"
		 "Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n" END,
	 .rcpt = "SINGLEWINDOW@msa-smtp.htpoort.nl",
	 .want = HTG_REJECT,
	 .want_findings = "fix:ENV-ENVID fix:ENV-NOTIFY reject:MIME-TYPE"},
	{.label = "unwrap off for a stream (rules = MIME-SINGLE:reject)",
	 .text = HDR("DECODOCS@htpoort.nl") MIXED TEXT("Beste,") ATT_XML END,
	 .rcpt = "DECODOCS@msa-smtp.htpoort.nl",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "a Cc refuses: the planned unwrap is not run, only noted",
	 .text = HDR("AGS@htpoort.nl\r\nCc: boss@example.com") MIXED TEXT("x") ATT_XML END,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-CC warn:MIME-SINGLE"},
	{.label = "relabel type only: the body stays",
	 .text = H "Content-Type: text/xml; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n\r\n" XML_B64 "\r\n",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-TYPE",
	 .want_ctype = "application/xml; charset=UTF-8", .want_cte = "base64",
	 .want_body_changed = 0},
	{.label = "relabel type, Content-Disposition with the .xml extension",
	 .text = H "Content-Type: text/xml\r\nContent-Transfer-Encoding: base64\r\n\r\n"
		 XML_B64 "\r\n",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-DISPOSITION fix:MIME-TYPE",
	 .want_ctype = "application/xml", .want_disp = "attachment; filename=\"message.xml\""},
	{.label = "relabel charset: windows-1252 on ASCII is us-ascii",
	 .text = H "Content-Type: text/plain; charset=windows-1252\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nhallo\r\n",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-CHARSET",
	 .want_ctype = "text/plain; charset=us-ascii", .want_body_changed = 0},
	{.label = "relabel charset: windows-1252 without 0x80-0x9F is ISO-8859-1",
	 .text = H "Content-Type: text/plain; charset=\"Windows-1252\"; format=flowed\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nCaf=E9 =FF\r\n",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-CHARSET",
	 .want_ctype = "text/plain; charset=ISO-8859-1; format=flowed"},
	{.label = "relabel charset: windows-1252 with 0x80 refused",
	 .text = H "Content-Type: text/plain; charset=cp1252\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nPrijs =80 5\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-CHARSET"},
	{.label = "relabel charset: windows-1252 with 0x9F refused",
	 .text = H "Content-Type: text/plain; charset=x-cp1252\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nn59hYmM=\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-CHARSET"},
	{.label = "relabel charset: windows-1250 with a high byte refused",
	 .text = H "Content-Type: text/plain; charset=windows-1250\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\n=8Aabc\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-CHARSET"},
	{.label = "relabel charset: ibm850 is no windows-125x",
	 .text = H "Content-Type: text/plain; charset=ibm850\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nhallo\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-CHARSET"},
	{.label = "re-encode: 8bit UTF-8",
	 .text = H "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nPrijs: 10 \xe2\x82\xac\r\n",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-CTE",
	 .want_cte = "base64", .want_body_changed = 1,
	 .want_decoded = "Prijs: 10 \xe2\x82\xac\r\n"},
	{.label = "re-encode: binary with control bytes and a bare CR",
	 .text = H "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
		 "Content-Disposition: attachment; filename=a.bin\r\n\r\nab\x01\x7f\xff\rd\r\n",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-CTE",
	 .want_cte = "base64", .want_body_changed = 1,
	 .want_decoded = "ab\x01\x7f\xff\rd\r\n"},
	{.label = "re-encode: 7bit with 8-bit data under UTF-8",
	 .text = H "Content-Type: text/plain; charset=UTF-8\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nCaf\xc3\xa9\r\n",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-7BIT",
	 .want_cte = "base64", .want_body_changed = 1, .want_decoded = "Caf\xc3\xa9\r\n"},
	{.label = "re-encode: 7bit ASCII under UTF-8 needs nothing",
	 .text = H "Content-Type: text/plain; charset=UTF-8\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nCafe\r\n",
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "re-encode: 7bit with 8-bit data and no charset refused",
	 .text = H "Content-Type: application/xml\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n\r\n<a>caf\xc3\xa9</a>\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-7BIT"},
	{.label = "re-encode: an empty 8bit body is no body part",
	 .text = H "Content-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\n\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "re-encode: base64 grows past the size limit (judged again)",
	 .text = H "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: 8bit\r\n"
		 "Content-Disposition: attachment; filename=a.bin\r\n\r\n%BIG%",
	 .want = HTG_REJECT, .want_findings = "reject:ENV-SIZE"},
};

/* expand - %BIG%: 5 KB of 8bit text (within 6K, its base64 is not) */
static char *
expand(const char *text)
{
	GString *s = g_string_new(text);
	int	i;

	if (strstr(s->str, "%BIG%")) {
		g_string_truncate(s, strstr(s->str, "%BIG%") - s->str);
		for (i = 0; i < 70; i++)
			g_string_append(s, "\xc3\xa9yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n");
	}
	return (g_string_free(s, FALSE));
}

/* The repair hook, as htgate-check runs it. */
struct hook {
	FILE   *fp;
	struct spool *crlf;
	struct repair *r;
};

/* run_repair - judge_repair_fn: the message read again as CR LF, repaired */
static void
run_repair(struct htg_msg *msg, void *arg)
{
	struct hook *h = arg;
	char	err[256];
	FILE   *in;

	h->crlf = spool_new(64, "");
	rewind(h->fp);
	ck_assert_int_eq(repair_copy_crlf(h->fp, h->crlf, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(in = spool_reader(h->crlf, err, sizeof(err)));
	h->r = repair_run(msg, in);
}

/* envelope - from jan@example.com to rcpt (NULL: AGS@msa-smtp.htpoort.nl) */
static struct judge_envelope
envelope(const char *rcpt)
{
	struct judge_envelope env;

	memset(&env, 0, sizeof(env));
	env.from = "jan@example.com";
	env.rcpt[env.nrcpt++] = rcpt ? rcpt : "AGS@msa-smtp.htpoort.nl";
	return (env);
}

/* sort_cmp - g_ptr_array_sort comparator for strings */
static gint
sort_cmp(gconstpointer a, gconstpointer b)
{
	return (strcmp(*(char *const *) a, *(char *const *) b));
}

/* findings_sorted - "action:RULE" of every finding, sorted */
static char *
findings_sorted(struct htg_msg *msg)
{
	const struct htg_finding *f;
	size_t	n = htg_msg_findings(msg, &f), i;
	GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
	GString *s = g_string_new(NULL);

	for (i = 0; i < n; i++)
		g_ptr_array_add(a, g_strdup_printf("%s:%s", action_name(f[i].action),
						   rule_get(f[i].rule)->name));
	g_ptr_array_sort(a, sort_cmp);
	for (i = 0; i < a->len; i++)
		g_string_append_printf(s, "%s%s", i ? " " : "",
				       (char *) g_ptr_array_index(a, i));
	g_ptr_array_free(a, TRUE);
	return (g_string_free(s, FALSE));
}

/* read_all - the rest of a stream */
static GByteArray *
read_all(FILE *fp)
{
	GByteArray *b = g_byte_array_new();
	guint8	buf[4096];
	size_t	n;

	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
		g_byte_array_append(b, buf, (guint) n);
	return (b);
}

START_TEST(test_repair_cases)
{
	const struct tc *c = &cases[_i];
	struct htg_msg *msg = htg_msg_new(cfg, 0);
	char   *text = expand(c->text), *got, err[256];
	struct judge_envelope env = envelope(c->rcpt);
	struct hook h = {NULL, NULL, NULL};
	enum htg_verdict v;

	h.fp = fmemopen(text, strlen(text), "r");
	v = judge_stream_repair(msg, h.fp, &env, run_repair, &h);
	got = findings_sorted(msg);
	ck_assert_msg(v == c->want, "%s: verdict %s, want %s (findings: %s)",
		      c->label, htg_verdict_name(v), htg_verdict_name(c->want), got);
	ck_assert_msg(strcmp(got, c->want_findings) == 0,
		      "%s: findings \"%s\", want \"%s\"", c->label, got,
		      c->want_findings);
	if (c->want == HTG_ACCEPT && h.r != NULL) {
		ck_assert_msg(repair_ok(h.r), "%s: not repaired", c->label);
		ck_assert_msg(htg_msg_fix_disposition(msg, NULL) == NULL,
			      "%s: a header fix beside the repair", c->label);
		if (c->want_ctype)
			ck_assert_msg(g_strcmp0(repair_header(h.r, "Content-Type"),
						c->want_ctype) == 0,
				      "%s: Content-Type \"%s\", want \"%s\"", c->label,
				      repair_header(h.r, "Content-Type"), c->want_ctype);
		if (c->want_cte)
			ck_assert_msg(g_strcmp0(repair_header(h.r,
				"Content-Transfer-Encoding"), c->want_cte) == 0,
				"%s: Content-Transfer-Encoding \"%s\"", c->label,
				repair_header(h.r, "Content-Transfer-Encoding"));
		if (c->want_disp)
			ck_assert_msg(g_strcmp0(repair_header(h.r, "Content-Disposition"),
						c->want_disp) == 0,
				      "%s: Content-Disposition \"%s\", want \"%s\"",
				      c->label, repair_header(h.r, "Content-Disposition"),
				      c->want_disp);
		ck_assert_msg(repair_body_changed(h.r) == c->want_body_changed,
			      "%s: body changed %d", c->label, repair_body_changed(h.r));
		if (c->want_decoded) {
			FILE   *body = repair_body(h.r, err, sizeof(err));
			GByteArray *b;
			guchar *dec;
			gsize	declen;
			size_t	wlen = c->want_decoded_len ? c->want_decoded_len
				: strlen(c->want_decoded);

			ck_assert_msg(body != NULL, "%s: %s", c->label, err);
			b = read_all(body);
			g_byte_array_append(b, (const guint8 *) "", 1);
			dec = g_base64_decode((const gchar *) b->data, &declen);
			ck_assert_msg(declen == wlen && memcmp(dec, c->want_decoded, wlen) == 0,
				      "%s: decoded %zu bytes, want %zu", c->label,
				      (size_t) declen, wlen);
			g_free(dec);
			g_byte_array_free(b, TRUE);
		}
	}
	g_free(got);
	repair_free(h.r);
	spool_free(h.crlf);
	fclose(h.fp);
	g_free(text);
	htg_msg_free(msg);
}
END_TEST

/* Without a repair hook a planned repair is refused (fail closed). */
START_TEST(test_fail_closed)
{
	const char *text = H MIXED TEXT("Beste,") ATT_XML END;
	struct htg_msg *msg = htg_msg_new(cfg, 0);
	FILE   *fp = fmemopen((void *) text, strlen(text), "r");
	struct judge_envelope env = envelope(NULL);
	char   *got;

	ck_assert_int_eq(judge_stream(msg, fp, &env), HTG_REJECT);
	got = findings_sorted(msg);
	ck_assert_str_eq(got, "reject:MIME-SINGLE");
	g_free(got);
	fclose(fp);
	htg_msg_free(msg);
}
END_TEST

/* The engine plans at end of headers and keeps judging the rest. */
START_TEST(test_plan_api)
{
	struct htg_msg *msg = htg_msg_new(cfg, 0);

	htg_msg_mail(msg, "<jan@example.com>", NULL);
	htg_msg_rcpt(msg, "<AGS@msa-smtp.htpoort.nl>", NULL);
	htg_msg_header(msg, "From", "jan@example.com");
	htg_msg_header(msg, "To", "AGS@htpoort.nl");
	htg_msg_header(msg, "Subject", "x");
	htg_msg_header(msg, "Date", "Tue, 24 Nov 2026 10:00:00 +0100");
	htg_msg_header(msg, "Content-Type", "text/xml; charset=windows-1252");
	htg_msg_header(msg, "Content-Transfer-Encoding", "8bit");
	ck_assert_int_eq(htg_msg_eoh(msg), HTG_CONTINUE);
	ck_assert_int_eq(htg_msg_repair_planned(msg),
			 HTG_REPAIR_TYPE | HTG_REPAIR_CHARSET | HTG_REPAIR_ENCODE);
	ck_assert_int_eq(htg_msg_repair_allowed(msg) & HTG_REPAIR_UNWRAP,
			 HTG_REPAIR_UNWRAP);
	ck_assert_uint_eq(htg_msg_repair_text_limit(msg), 200);
	ck_assert_str_eq(htg_msg_header_value(msg, "content-type"),
			 "text/xml; charset=windows-1252");
	ck_assert_int_eq(htg_msg_header_count(msg, "Content-Transfer-Encoding"), 1);
	htg_msg_body(msg, (const unsigned char *) "x\r\n", 3);
	ck_assert_int_eq(htg_msg_repair_due(msg), htg_msg_repair_planned(msg));
	htg_msg_repair_settle(msg, 0);
	ck_assert_int_eq(htg_msg_eom(msg), HTG_REJECT);
	htg_msg_free(msg);
}
END_TEST

/* A spool moves from memory to a file and reads back what was written. */
START_TEST(test_spool)
{
	struct spool *sp = spool_new(100, "");
	char	err[256], buf[64];
	GByteArray *b;
	FILE   *fp;
	int	i;

	for (i = 0; i < 10; i++) {
		snprintf(buf, sizeof(buf), "line %d of the spool\r\n", i);
		ck_assert_int_eq(spool_write(sp, buf, strlen(buf), err, sizeof(err)), 0);
		ck_assert_int_eq(spool_on_disk(sp), spool_size(sp) > 100);
	}
	ck_assert_ptr_nonnull(fp = spool_reader(sp, err, sizeof(err)));
	b = read_all(fp);
	ck_assert_uint_eq(b->len, spool_size(sp));
	ck_assert(memcmp(b->data, "line 0 of the spool\r\n", 21) == 0);
	ck_assert_int_eq(spool_write(sp, "x", 1, err, sizeof(err)), -1);
	g_byte_array_free(b, TRUE);
	spool_free(sp);
	sp = spool_new(100, "");
	ck_assert_ptr_nonnull(fp = spool_reader(sp, err, sizeof(err)));
	ck_assert_int_eq(fgetc(fp), EOF);
	spool_free(sp);
	sp = spool_new(0, "/nonexistent/dir");
	ck_assert_int_eq(spool_write(sp, "x", 1, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "/nonexistent/dir") != NULL, "%s", err);
	spool_free(sp);
}
END_TEST

/* The encoder is GLib's base64 with CR LF every 76 characters, any chunking. */
START_TEST(test_b64_chunking)
{
	size_t	len = (size_t) _i * 7 + 1, step, i, n;
	guchar *data = g_malloc(len);
	gchar  *ref = NULL;
	GString *want = g_string_new(NULL), *got;

	for (i = 0; i < len; i++)
		data[i] = (guchar) (i * 131 + 7);
	ref = g_base64_encode(data, len);
	for (i = 0; i < strlen(ref); i += 76) {
		g_string_append_len(want, ref + i, MIN(76, strlen(ref) - i));
		g_string_append(want, "\r\n");
	}
	for (step = 1; step <= len; step = step * 3 + 1) {
		struct rmime_b64 b;
		unsigned char *out = g_malloc(rmime_b64_outlen(len) + rmime_b64_outlen(0));

		got = g_string_new(NULL);
		rmime_b64_init(&b);
		for (i = 0; i < len; i += step) {
			n = rmime_b64_step(&b, data + i, MIN(step, len - i), out);
			g_string_append_len(got, (char *) out, (gssize) n);
		}
		n = rmime_b64_close(&b, out);
		g_string_append_len(got, (char *) out, (gssize) n);
		ck_assert_msg(strcmp(got->str, want->str) == 0,
			      "%zu bytes in chunks of %zu: \"%s\" want \"%s\"",
			      len, step, got->str, want->str);
		g_string_free(got, TRUE);
		g_free(out);
	}
	g_string_free(want, TRUE);
	g_free(ref);
	g_free(data);
}
END_TEST

static const struct conf_case {
	const char *label;
	const char *text;
	const char *want_err;		/* NULL: loads */
} conf_cases[] = {
	{"stream rules", "[stream AGS]\nrules = MIME-SINGLE:reject, MIME-TYPE:warn\n", NULL},
	{"stream rules: unknown rule", "[stream AGS]\nrules = NOPE:fix\n",
	 ":2: rules: \"NOPE:fix\" names an unknown rule"},
	{"stream rules: not fixable", "[stream AGS]\nrules = HDR-CC:fix\n",
	 ":2: rules: \"HDR-CC:fix\" asks fix of a rule htgate cannot fix"},
	{"stream rules: twice", "[stream AGS]\nrules = MIME-TYPE:fix MIME-TYPE:warn\n",
	 "names a rule twice"},
	{"stream rules: no action", "[stream AGS]\nrules = MIME-TYPE\n",
	 "is not a list of RULE:action"},
	{"stream rules: INTERNAL", "[stream AGS]\nrules = INTERNAL:warn\n",
	 "INTERNAL, which is always tempfail"},
	{"repairs fixable in [rules]", "[rules]\nMIME-SINGLE = fix\nMIME-7BIT = fix\n", NULL},
	{"unwrap_text_limit range", "[global]\nunwrap_text_limit = 2G\n",
	 ":2: unwrap_text_limit: \"2G\" is not a number"},
};

/* load_conf - a configuration from text; NULL with err */
static struct htg_cfg *
load_conf(const char *text, char *err, size_t errlen)
{
	char	path[] = "/tmp/htgate-test-repair-XXXXXX";
	int	fd = mkstemp(path);
	struct htg_cfg *c;

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
	c = cfg_load(path, err, errlen);
	unlink(path);
	return (c);
}

START_TEST(test_conf_cases)
{
	const struct conf_case *c = &conf_cases[_i];
	char	err[512] = "";
	struct htg_cfg *k = load_conf(c->text, err, sizeof(err));

	if (c->want_err == NULL) {
		ck_assert_msg(k != NULL, "%s: %s", c->label, err);
		cfg_unref(k);
	} else {
		ck_assert_msg(k == NULL && strstr(err, c->want_err) != NULL,
			      "%s: \"%s\", want \"%s\"", c->label, err, c->want_err);
	}
}
END_TEST

/* A stream's rules override [rules]; another stream keeps [rules]. */
START_TEST(test_stream_rule_action)
{
	const struct htg_stream *deco = cfg_stream_find(cfg, "DECODOCS", NULL);
	const struct htg_stream *ags = cfg_stream_find(cfg, "AGS", NULL);

	ck_assert_int_eq(cfg_stream_rule_action(cfg, deco, RULE_MIME_SINGLE), HTG_ACT_REJECT);
	ck_assert_int_eq(cfg_stream_rule_action(cfg, ags, RULE_MIME_SINGLE), HTG_ACT_FIX);
	ck_assert_int_eq(cfg_stream_rule_action(cfg, deco, RULE_MIME_CHARSET), HTG_ACT_FIX);
	ck_assert_int_eq(cfg_stream_rule_action(cfg, NULL, RULE_MIME_SINGLE), HTG_ACT_FIX);
	ck_assert_uint_eq(cfg_unwrap_text_limit(cfg, ags), 200);
}
END_TEST

/* A refusal a mail client causes carries its hint, one line per language. */
START_TEST(test_reply_hints)
{
	const char *text = H MIXED TEXT("Beste,") ATT_XML ATT_XML END;
	struct htg_msg *msg = htg_msg_new(cfg, 0);
	FILE   *fp = fmemopen((void *) text, strlen(text), "r");
	struct judge_envelope env = envelope(NULL);
	struct hook h = {fp, NULL, NULL};
	struct htg_reply r;

	ck_assert_int_eq(judge_stream_repair(msg, fp, &env, run_repair, &h), HTG_REJECT);
	ck_assert_int_eq(htg_msg_reply(msg, &r), 4);
	ck_assert_str_eq(r.code, "550");
	unit_assert_prefix(r.lines[0], "[HTG MIME-SINGLE] A message to HTG");
	ck_assert_str_eq(r.lines[1], "[HTG MIME-SINGLE] Attach exactly one file and "
			 "send every other file in a message of its own.");
	unit_assert_prefix(r.lines[2], "[HTG MIME-SINGLE] Een bericht");
	ck_assert_str_eq(r.lines[3], "[HTG MIME-SINGLE] Voeg precies 1 bestand toe "
			 "en stuur elk ander bestand in een eigen bericht.");
	repair_free(h.r);
	spool_free(h.crlf);
	fclose(fp);
	htg_msg_free(msg);
}
END_TEST

/* setup - GMime and the configuration */
static void
setup(void)
{
	char	err[512];

	mimehdr_init();
	if ((cfg = load_conf(test_conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "test config: %s\n", err);
		abort();
	}
}

/* teardown - release the configuration */
static void
teardown(void)
{
	cfg_unref(cfg);
}

int
main(void)
{
	Suite  *s = suite_create("repair");
	TCase  *tc = unit_tcase(s, "repairs", setup, teardown);
	const TTest *tests[] = {test_fail_closed, test_plan_api, test_spool,
		test_stream_rule_action, test_reply_hints};

	tcase_add_loop_test(tc, test_repair_cases, 0, G_N_ELEMENTS(cases));
	unit_add_tests(tc, tests, G_N_ELEMENTS(tests));
	tcase_add_loop_test(tc, test_b64_chunking, 0, 40);
	tcase_add_loop_test(tc, test_conf_cases, 0, G_N_ELEMENTS(conf_cases));
	return (unit_run(s, 0) ? 1 : 0);
}
