/*
 * NAME
 *	engine_hdr - header rules: HDR-*, ENV-ENVIRONMENT, MIME-* of the
 *	header block, LIMIT; and the choice of body validator
 * DESCRIPTION
 *	Each header is counted against the limits as it arrives; the
 *	eleven headers the rules read are kept (first value, trimmed, at
 *	most max_header_line bytes).  Everything is judged at end of
 *	headers, so all header findings are reported together.  A header
 *	that decides the MIME reading and is repeated with a different
 *	value is MIME-HEADER: never guessed.
 *
 *	Repairs (engine_repair.c): with the rule's action fix, a fault of a
 *	repairable kind is planned instead of found.  MIME-SINGLE: a
 *	multipart/mixed is planned for unwrapping (its body is not read
 *	here).  MIME-TYPE: text/xml (RFC 7303: the same as application/xml)
 *	is judged as application/xml from here on.  MIME-CHARSET: a
 *	windows-125x charset (windows-, cp, x-cp, x-windows- 1250..1258)
 *	waits for the decoded bytes.  MIME-CTE: an 8bit or binary body is
 *	not read here (it will be base64).  MIME-7BIT: a 7bit body under a
 *	declared 8-bit charset may be re-encoded if the validator finds a
 *	fault.  A multipart that is not planned carries a hint: HTML mail
 *	(alternative, related), signed or encrypted mail, or a mixed one
 *	when unwrapping is off.  Outlook's winmail.dat (application/ms-tnef,
 *	or a file named winmail.dat) is MIME-TYPE with the Rich Text hint;
 *	text/html MIME-TYPE with the plain-text hint; HDR-CC the hint to
 *	empty the Cc field.
 * OWNERSHIP
 *	The kept values are GStrings in struct htg_msg, freed by
 *	eng_hdr_free().
 */
#include "config.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "mimehdr.h"

/* The headers the rules read, sorted by name for bsearch. */
static const struct eng_hdr_name {
	const char *name;
	enum eng_hdr id;
} hdr_names[] = {
	{"bcc", EH_BCC},
	{"cc", EH_CC},
	{"content-disposition", EH_DISP},
	{"content-transfer-encoding", EH_CTE},
	{"content-type", EH_CTYPE},
	{"date", EH_DATE},
	{"from", EH_FROM},
	{"message-id", EH_MSGID},
	{"mime-version", EH_MIMEVER},
	{"subject", EH_SUBJECT},
	{"to", EH_TO},
};

static const char *const hdr_display[EH_COUNT] = {
	[EH_FROM] = "From", [EH_TO] = "To", [EH_CC] = "Cc", [EH_BCC] = "Bcc",
	[EH_MSGID] = "Message-ID", [EH_SUBJECT] = "Subject",
	[EH_DATE] = "Date", [EH_CTYPE] = "Content-Type",
	[EH_CTE] = "Content-Transfer-Encoding", [EH_MIMEVER] = "MIME-Version",
	[EH_DISP] = "Content-Disposition",
};

/* hdr_name_cmp - bsearch comparator, case-insensitive */
static int
hdr_name_cmp(const void *key, const void *elem)
{
	return (strcasecmp((const char *) key,
			   ((const struct eng_hdr_name *) elem)->name));
}

/* eng_hdr_free - release kept header values */
void
eng_hdr_free(struct htg_msg *msg)
{
	int	i;

	for (i = 0; i < EH_COUNT; i++)
		if (msg->hdr[i].value)
			g_string_free(msg->hdr[i].value, TRUE);
}

/* trimmed - value without surrounding white space (CR LF included) */
static GString *
trimmed(const char *value)
{
	const char *s = value, *e = value + strlen(value);

	while (*s && isspace((unsigned char) *s))
		s++;
	while (e > s && isspace((unsigned char) e[-1]))
		e--;
	return (g_string_new_len(s, e - s));
}

/* same_mime_value - equal up to case and white space */
static int
same_mime_value(const char *a, const char *b)
{
	for (;;) {
		while (isspace((unsigned char) *a))
			a++;
		while (isspace((unsigned char) *b))
			b++;
		if (*a == 0 || *b == 0)
			return (*a == *b);
		if (tolower((unsigned char) *a) != tolower((unsigned char) *b))
			return (0);
		a++, b++;
	}
}

/* eng_header - count, bound and keep one header */
enum htg_verdict
eng_header(struct htg_msg *msg, const char *name, const char *value)
{
	const struct htg_cfg *cfg = msg->cfg;
	const struct eng_hdr_name *hn;
	struct eng_hdrval *hv;
	size_t	len = strlen(name) + strlen(value) + 4;
	GString *t;

	if (msg->limit_hit)
		return (HTG_CONTINUE);
	msg->header_count++;
	msg->header_bytes += len;
	if (msg->header_count > cfg->max_header_count
	    || msg->header_bytes > cfg->max_header_bytes
	    || len > cfg->max_header_line) {
		msg->limit_hit = 1;
		return (eng_add(msg, RULE_LIMIT, HTG_STAGE_HEADER, HTG_ACT_NONE,
			msg->header_count > cfg->max_header_count ?
			"more than %zu header fields" :
			msg->header_bytes > cfg->max_header_bytes ?
			"header block larger than %zu bytes" :
			"one header field longer than %zu bytes",
			msg->header_count > cfg->max_header_count ?
			cfg->max_header_count :
			msg->header_bytes > cfg->max_header_bytes ?
			cfg->max_header_bytes : cfg->max_header_line));
	}
	hn = bsearch(name, hdr_names, G_N_ELEMENTS(hdr_names),
		     sizeof(hdr_names[0]), hdr_name_cmp);
	if (hn == NULL)
		return (HTG_CONTINUE);
	hv = &msg->hdr[hn->id];
	hv->count++;
	if (hn->id == EH_CTYPE || hn->id == EH_CTE || hn->id == EH_DISP) {
		msg->mime_hdr_count++;	/* a repair replaces these */
		msg->mime_hdr_bytes += len;
	}
	t = trimmed(value);
	if (hn->id == EH_CTE || hn->id == EH_MIMEVER) {
		/* RFC 2045 fields may carry RFC 822 comments */
		mimehdr_strip_cfws(t->str);
		g_string_set_size(t, strlen(t->str));
	}
	if (hv->value == NULL)
		hv->value = t;
	else {
		if (!same_mime_value(hv->value->str, t->str))
			hv->conflict = 1;
		g_string_free(t, TRUE);
	}
	return (HTG_CONTINUE);
}

/* hval - kept value of a header, or NULL */
static const char *
hval(const struct htg_msg *msg, enum eng_hdr h)
{
	return (msg->hdr[h].value ? msg->hdr[h].value->str : NULL);
}

/* hdr_id - the kept header NAME, or NULL */
static const struct eng_hdr_name *
hdr_id(const char *name)
{
	return (name ? bsearch(name, hdr_names, G_N_ELEMENTS(hdr_names),
			       sizeof(hdr_names[0]), hdr_name_cmp) : NULL);
}

/* htg_msg_header_value - kept value of a header the rules read, or NULL */
const char *
htg_msg_header_value(const struct htg_msg *msg, const char *name)
{
	const struct eng_hdr_name *hn = hdr_id(name);

	return (hn ? hval(msg, hn->id) : NULL);
}

/* htg_msg_header_count - occurrences of a header the rules read */
int
htg_msg_header_count(const struct htg_msg *msg, const char *name)
{
	const struct eng_hdr_name *hn = hdr_id(name);

	return (hn ? msg->hdr[hn->id].count : 0);
}

/*
 * from_known - the From: address is the envelope sender or one HTG knows
 * for the sender's account ([account] addresses, default its senders)
 */
static int
from_known(const struct htg_msg *msg, const char *addr)
{
	const struct htg_account *a = msg->account;
	char  *const *list;

	if (a == NULL || g_ascii_strcasecmp(addr, msg->sender) == 0)
		return (1);
	for (list = a->addresses ? a->addresses : a->senders; *list; list++)
		if (cfg_sender_match(*list, addr))
			return (1);
	return (0);
}

/* check_from - HDR-FROM */
static void
check_from(struct htg_msg *msg)
{
	char	first[ENG_ADDR_MAX];
	int	n = hval(msg, EH_FROM) ? mimehdr_addresses(hval(msg, EH_FROM),
				first, sizeof(first)) : 0;

	if (msg->hdr[EH_FROM].count == 0)
		eng_add(msg, RULE_HDR_FROM, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"From: is missing");
	else if (msg->hdr[EH_FROM].count > 1)
		eng_add(msg, RULE_HDR_FROM, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"From: appears %d times", msg->hdr[EH_FROM].count);
	else if (n != 1)
		eng_add(msg, RULE_HDR_FROM, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"From: holds %d addresses", n < 0 ? 0 : n);
	else if (!msg->null_sender && !from_known(msg, first))
		eng_add(msg, RULE_HDR_FROM, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"From: %s is neither the sender %s nor an address of "
			"account %s", first, msg->sender, msg->account->name);
}

/* check_to - HDR-TO and ENV-ENVIRONMENT */
static void
check_to(struct htg_msg *msg)
{
	char	first[ENG_ADDR_MAX], a[ENG_ADDR_MAX];
	const char *at, *domain;
	const struct htg_env *env = NULL;
	int	n, envelope_form = 0;

	if (msg->hdr[EH_TO].count != 1) {
		eng_add(msg, RULE_HDR_TO, HTG_STAGE_HEADER, HTG_ACT_NONE,
			msg->hdr[EH_TO].count ? "To: appears %d times" :
			"To: is missing%.0d", msg->hdr[EH_TO].count);
		return;
	}
	n = mimehdr_addresses(hval(msg, EH_TO), first, sizeof(first));
	if (n != 1) {
		eng_add(msg, RULE_HDR_TO, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"To: holds %d addresses", n < 0 ? 0 : n);
		return;
	}
	if (htgaddr_split(first, a, sizeof(a), &at, &domain) == 0)
		env = cfg_env_by_domain(msg->cfg, domain, &envelope_form);
	if (env == NULL || msg->env == NULL) {
		if (msg->env != NULL)
			eng_add(msg, RULE_HDR_TO, HTG_STAGE_HEADER, HTG_ACT_NONE,
				"To: %s is not an HTG address; use %s@%s", a,
				msg->rcpt_local, msg->env->header_domain);
		else if (env == NULL)
			eng_add(msg, RULE_HDR_TO, HTG_STAGE_HEADER, HTG_ACT_NONE,
				"To: %s is not an HTG address", a);
		return;
	}
	if (envelope_form)
		eng_add(msg, RULE_HDR_TO, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"To: %s is the submission address; write %.*s@%s",
			a, (int) (at - a), a, env->header_domain);
	if (env != msg->env)
		eng_add(msg, RULE_ENV_ENVIRONMENT, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"envelope recipient %s is %s, To: %s is %s", msg->rcpt,
			msg->env->name, a, env->name);
	if ((size_t) (at - a) != strlen(msg->rcpt_local)
	    || strncasecmp(a, msg->rcpt_local, at - a) != 0)
		eng_add(msg, RULE_HDR_TO, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"To: %s names another stream than envelope recipient %s",
			a, msg->rcpt);
}

/* check_once - a header that must appear exactly once */
static int
check_once(struct htg_msg *msg, enum eng_hdr h, enum htg_rule_id rule,
	   enum htg_action act)
{
	if (msg->hdr[h].count == 1)
		return (1);
	eng_add(msg, rule, HTG_STAGE_HEADER, act,
		msg->hdr[h].count ? "%s: appears %d times" : "%s: is missing%.0d",
		hdr_display[h], msg->hdr[h].count);
	return (0);
}

/* check_msgid - HDR-MSGID (a missing one can be fixed) */
static void
check_msgid(struct htg_msg *msg)
{
	const char *domain = strrchr(msg->sender, '@');
	enum htg_action act = eng_action(msg, RULE_HDR_MSGID);
	char	id[ENG_ARG_MAX];

	if (msg->hdr[EH_MSGID].count == 0 && act == HTG_ACT_FIX) {
		if ((msg->fix_msgid = mimehdr_new_message_id(domain ? domain + 1 : NULL)) == NULL) {
			htg_msg_add_finding(msg, RULE_INTERNAL, HTG_STAGE_HEADER,
					    "no random Message-ID");
			return;
		}
		g_strlcpy(msg->msgid, msg->fix_msgid, sizeof(msg->msgid));
		eng_add(msg, RULE_HDR_MSGID, HTG_STAGE_HEADER, HTG_ACT_FIX,
			"Message-ID: was missing; %s added", msg->fix_msgid);
		return;
	}
	/* Only a missing Message-ID can be fixed; the rest is refused. */
	if (act == HTG_ACT_FIX)
		act = HTG_ACT_REJECT;
	if (!check_once(msg, EH_MSGID, RULE_HDR_MSGID, act))
		return;
	g_strlcpy(msg->msgid, hval(msg, EH_MSGID), sizeof(msg->msgid));
	if (mimehdr_message_id(hval(msg, EH_MSGID), id, sizeof(id)) < 0)
		eng_add(msg, RULE_HDR_MSGID, HTG_STAGE_HEADER, act,
			"Message-ID: %s is not of the form <id@domain>",
			hval(msg, EH_MSGID));
}

/*
 * check_subject_date - HDR-SUBJECT (missing or empty: the configured
 * action, a warning by default; given twice: refused) and HDR-DATE
 */
static void
check_subject_date(struct htg_msg *msg)
{
	int	n = msg->hdr[EH_SUBJECT].count;

	if (n > 1)
		eng_add(msg, RULE_HDR_SUBJECT, HTG_STAGE_HEADER, HTG_ACT_REJECT,
			"Subject: appears %d times", n);
	else if (n == 0)
		eng_add(msg, RULE_HDR_SUBJECT, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"Subject: is missing");
	else if (hval(msg, EH_SUBJECT)[0] == 0)
		eng_add(msg, RULE_HDR_SUBJECT, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"Subject: is empty");
	if (check_once(msg, EH_DATE, RULE_HDR_DATE, HTG_ACT_NONE)
	    && !mimehdr_date_valid(hval(msg, EH_DATE)))
		eng_add(msg, RULE_HDR_DATE, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"Date: %s is not a valid date", hval(msg, EH_DATE));
}

/* is_windows_codepage - charset names HTG refuses */
static int
is_windows_codepage(const char *cs)
{
	static const char *const prefixes[] = {
		"cp", "x-cp", "windows-", "x-windows-", "ibm", "ms-", "ms",
	};
	size_t	i, n;

	for (i = 0; i < G_N_ELEMENTS(prefixes); i++) {
		n = strlen(prefixes[i]);
		if (g_ascii_strncasecmp(cs, prefixes[i], n) != 0)
			continue;
		if (strcmp(prefixes[i], "windows-") == 0
		    || strcmp(prefixes[i], "x-windows-") == 0
		    || strcmp(prefixes[i], "ms-") == 0)
			return (1);
		/* cp1252, x-cp1250, ibm850, ms936: a code page number */
		if (isdigit((unsigned char) cs[n]))
			return (1);
	}
	return (0);
}

/*
 * is_8bit_charset - a charset whose text uses bytes above 127: UTF-8,
 * ISO-8859-*, KOI8-*, the Windows code pages
 */
static int
is_8bit_charset(const char *cs)
{
	static const char *const prefixes[] = {
		"utf-8", "utf8", "iso-8859-", "iso8859-", "iso_8859-",
		"latin", "koi8-",
	};
	size_t	i;

	if (cs == NULL || *cs == 0)
		return (0);
	for (i = 0; i < G_N_ELEMENTS(prefixes); i++)
		if (g_ascii_strncasecmp(cs, prefixes[i], strlen(prefixes[i])) == 0)
			return (1);
	return (is_windows_codepage(cs));
}

/* The types HTG takes, the file name extension HTG should give each,
 * and whether a Single Window stream takes it (SW: EDIFACT or XML). */
static const struct eng_type {
	const char *type;
	const char *ext;
	int	single_window;
} eng_types[] = {
	{"text/plain", "txt", 1},
	{"application/edifact", "edi", 1},
	{"application/xml", "xml", 1},
	{"application/pdf", "pdf", 0},
	{"application/zip", "zip", 0},
	{"application/octet-stream", "bin", 0},
};

/* type_of - the row of a Content-Type, or NULL */
static const struct eng_type *
type_of(const struct mime_ctype *ct)
{
	char	full[2 * MIME_TOKEN_MAX + 2];
	size_t	i;

	g_snprintf(full, sizeof(full), "%s/%s", ct->type, ct->subtype);
	for (i = 0; i < G_N_ELEMENTS(eng_types); i++)
		if (strcmp(full, eng_types[i].type) == 0)
			return (&eng_types[i]);
	return (NULL);
}

/* is_tnef - Outlook's Rich Text wrapper: ms-tnef, or winmail.dat */
static int
is_tnef(const struct htg_msg *msg, const struct mime_ctype *ct)
{
	struct mime_disp cd;

	if (strcmp(ct->type, "application") == 0
	    && (strcmp(ct->subtype, "ms-tnef") == 0
		|| strcmp(ct->subtype, "vnd.ms-tnef") == 0))
		return (1);
	if (g_ascii_strcasecmp(ct->name, "winmail.dat") == 0)
		return (1);
	return (msg->hdr[EH_DISP].count == 1
		&& mimehdr_disposition(hval(msg, EH_DISP), &cd) == 0
		&& g_ascii_strcasecmp(cd.filename, "winmail.dat") == 0);
}

/*
 * check_type - MIME-TYPE, with the Single Window profile's shorter list;
 * text/xml planned as application/xml (ct then says so).  Returns the
 * type's row, or NULL.
 */
static const struct eng_type *
check_type(struct htg_msg *msg, struct mime_ctype *ct)
{
	const struct eng_type *t;

	if (is_tnef(msg, ct)) {
		eng_add_hint(msg, RULE_MIME_TYPE, HTG_STAGE_HEADER, HTG_ACT_NONE,
			     HTG_HINT_TNEF, "Content-Type: %s/%s (winmail.dat: "
			     "Outlook Rich Text)", ct->type, ct->subtype);
		return (NULL);
	}
	if ((t = type_of(ct)) == NULL && strcmp(ct->type, "text") == 0
	    && strcmp(ct->subtype, "xml") == 0
	    && eng_may_repair(msg, HTG_REPAIR_TYPE)) {
		eng_plan(msg, HTG_REPAIR_TYPE, HTG_HINT_NONE,
			 "Content-Type: text/xml");
		g_strlcpy(ct->type, "application", sizeof(ct->type));
		t = type_of(ct);
	}
	if (t == NULL)
		eng_add_hint(msg, RULE_MIME_TYPE, HTG_STAGE_HEADER, HTG_ACT_NONE,
			     strcmp(ct->type, "text") == 0
			     && (strcmp(ct->subtype, "html") == 0
				 || strcmp(ct->subtype, "enriched") == 0
				 || strcmp(ct->subtype, "richtext") == 0) ?
			     HTG_HINT_PLAIN_TEXT : HTG_HINT_FILE_TYPE,
			     "Content-Type: %s/%s", ct->type, ct->subtype);
	else if (!t->single_window && msg->stream
		 && msg->stream->profile == HTG_PROFILE_SINGLE_WINDOW)
		eng_add(msg, RULE_MIME_TYPE, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"Content-Type: %s to Single Window, which takes EDIFACT "
			"or XML only", t->type);
	return (t);
}

/* check_charset - MIME-CHARSET; windows-125x planned for relabelling */
static void
check_charset(struct htg_msg *msg, const struct mime_ctype *ct)
{
	if (!ct->has_charset || !is_windows_codepage(ct->charset))
		return;
	if (mimehdr_windows_125x(ct->charset) >= 0
	    && eng_may_repair(msg, HTG_REPAIR_CHARSET))
		eng_plan(msg, HTG_REPAIR_CHARSET, HTG_HINT_UTF8,
			 "charset=%s is a Windows code page", ct->charset);
	else
		eng_add_hint(msg, RULE_MIME_CHARSET, HTG_STAGE_HEADER,
			     HTG_ACT_NONE, HTG_HINT_UTF8,
			     "charset=%s is a Windows code page", ct->charset);
}

/* has_control - a C0 control character or DEL in a (decoded) name */
static int
has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s < 0x20 || *s == 0x7f)
			return (1);
	return (0);
}

/* plain_name - a file name fit to keep in a repaired header as it is */
static int
plain_name(const char *s)
{
	for (; *s; s++)
		if ((unsigned char) *s <= ' ' || (unsigned char) *s >= 0x7f
		    || *s == '"' || *s == '\\')
			return (0);
	return (1);
}

/*
 * check_disposition - MIME-DISPOSITION.  HTG names a body without
 * "attachment; filename=NAME.EXT" NNN.txt (MSA Tabel 5), so the default
 * action is to add or repair it with the extension of the Content-Type;
 * for text/plain, where .txt is right anyway, it is only a warning.  A
 * header that does not parse, appears twice or names a file with control
 * characters is not repaired: refused.
 */
static void
check_disposition(struct htg_msg *msg, const struct mime_ctype *ct)
{
	const struct eng_type *t = type_of(ct);
	enum htg_action act = eng_action(msg, RULE_MIME_DISPOSITION);
	struct mime_disp cd;
	const char *why = NULL, *dot, *name = "message";
	char	fname[MIME_FILENAME_MAX + 8];
	int	repairable = t != NULL, n = msg->hdr[EH_DISP].count;

	if ((act == HTG_ACT_REJECT || act == HTG_ACT_FIX) && t != NULL
	    && strcmp(t->type, "text/plain") == 0)
		act = HTG_ACT_WARN;
	memset(&cd, 0, sizeof(cd));
	if (n > 1)
		why = "Content-Disposition appears more than once", repairable = 0;
	else if (n == 0)
		why = "Content-Disposition is missing";
	else if (mimehdr_disposition(hval(msg, EH_DISP), &cd) < 0)
		why = "Content-Disposition does not parse", repairable = 0;
	else if (has_control(cd.filename))
		why = "the filename contains control characters", repairable = 0;
	else if (strcmp(cd.disposition, "attachment") != 0)
		why = "Content-Disposition is not attachment";
	else if (cd.filename[0] == 0)
		why = "Content-Disposition has no filename";
	else if ((dot = strrchr(cd.filename, '.')) == NULL || dot[1] == 0
		 || dot == cd.filename)
		why = "the filename has no extension";
	if (why == NULL)
		return;
	if (act != HTG_ACT_FIX) {
		eng_add(msg, RULE_MIME_DISPOSITION, HTG_STAGE_HEADER, act, "%s", why);
		return;
	}
	if (!repairable) {
		eng_add(msg, RULE_MIME_DISPOSITION, HTG_STAGE_HEADER,
			HTG_ACT_REJECT, "%s", why);
		return;
	}
	if (cd.filename[0] && plain_name(cd.filename))
		name = cd.filename;
	dot = strrchr(name, '.');
	if (dot != NULL && dot != name && dot[1] != 0)
		g_snprintf(fname, sizeof(fname), "%s", name);
	else
		g_snprintf(fname, sizeof(fname), "%s.%s", name, t->ext);
	g_free(msg->fix_disposition);
	msg->fix_disposition = g_strdup_printf("attachment; filename=\"%s\"",
					       fname);
	msg->fix_disposition_replace = (n == 1);
	eng_add(msg, RULE_MIME_DISPOSITION, HTG_STAGE_HEADER, HTG_ACT_FIX,
		"%s; set to attachment; filename=%s", why, fname);
}

/*
 * check_cte - MIME-CTE; sets up the body validator.  ct (NULL: it did
 * not parse) decides the repairs: 8bit or binary re-encoded (not for a
 * multipart), 7bit under an 8-bit charset re-encoded on a fault.
 */
static void
check_cte(struct htg_msg *msg, const struct mime_ctype *ct)
{
	const char *cte = hval(msg, EH_CTE);
	enum encval_kind kind = ENCVAL_7BIT;
	int	leaf = ct != NULL && strcmp(ct->type, "multipart") != 0;

	msg->val_rule = RULE_MIME_7BIT;
	if (cte == NULL || *cte == 0 || g_ascii_strcasecmp(cte, "7bit") == 0) {
		kind = ENCVAL_7BIT;
		if (leaf && ct->has_charset && is_8bit_charset(ct->charset)
		    && eng_may_repair(msg, HTG_REPAIR_ENCODE7))
			eng_plan(msg, HTG_REPAIR_ENCODE7, HTG_HINT_NONE,
				 "7bit body");
	} else if (g_ascii_strcasecmp(cte, "base64") == 0)
		kind = ENCVAL_BASE64, msg->val_rule = RULE_MIME_B64;
	else if (g_ascii_strcasecmp(cte, "quoted-printable") == 0)
		kind = ENCVAL_QP, msg->val_rule = RULE_MIME_QP;
	else if (leaf && (g_ascii_strcasecmp(cte, "8bit") == 0
			  || g_ascii_strcasecmp(cte, "binary") == 0)
		 && eng_may_repair(msg, HTG_REPAIR_ENCODE)) {
		eng_plan(msg, HTG_REPAIR_ENCODE, HTG_HINT_NONE,
			 "Content-Transfer-Encoding: %s", cte);
		msg->skip_body = 1;	/* any bytes: base64 carries them */
	} else
		eng_add(msg, RULE_MIME_CTE, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"Content-Transfer-Encoding: %s", cte);
	encval_init(&msg->val, kind, msg->cfg->max_line_length);
	msg->body_ready = 1;
}

/* multipart_hint - what a mail-client user can do about a multipart */
static enum htg_hint
multipart_hint(const struct mime_ctype *ct)
{
	if (strcmp(ct->subtype, "alternative") == 0
	    || strcmp(ct->subtype, "related") == 0)
		return (HTG_HINT_PLAIN_TEXT);
	if (strcmp(ct->subtype, "signed") == 0
	    || strcmp(ct->subtype, "encrypted") == 0)
		return (HTG_HINT_NO_SIGN);
	if (strcmp(ct->subtype, "mixed") == 0)
		return (HTG_HINT_NO_UNWRAP);
	return (HTG_HINT_NONE);
}

/* check_mime - MIME-HEADER, MIME-SINGLE, MIME-TYPE, MIME-CHARSET, ... */
static void
check_mime(struct htg_msg *msg, const struct mime_ctype *ct, int ct_ok)
{
	static const enum eng_hdr deciding[] = {EH_CTYPE, EH_CTE, EH_MIMEVER};
	struct mime_ctype eff;
	size_t	i;

	for (i = 0; i < G_N_ELEMENTS(deciding); i++)
		if (msg->hdr[deciding[i]].conflict)
			eng_add(msg, RULE_MIME_HEADER, HTG_STAGE_HEADER, HTG_ACT_NONE,
				"%s: is given twice with different values",
				hdr_display[deciding[i]]);
	if (!ct_ok) {
		check_cte(msg, NULL);
		eng_add(msg, RULE_MIME_HEADER, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"Content-Type: %s does not parse", hval(msg, EH_CTYPE));
		return;
	}
	if (strcmp(ct->type, "multipart") == 0) {
		if (strcmp(ct->subtype, "mixed") == 0
		    && eng_may_repair(msg, HTG_REPAIR_UNWRAP)) {
			/* its parts are read by the repair (lib/repair.h) */
			eng_plan(msg, HTG_REPAIR_UNWRAP, HTG_HINT_NONE,
				 "Content-Type: multipart/mixed");
			encval_init(&msg->val, ENCVAL_7BIT, msg->cfg->max_line_length);
			msg->body_ready = 1;
			msg->skip_body = 1;
			return;
		}
		check_cte(msg, ct);
		eng_add_hint(msg, RULE_MIME_SINGLE, HTG_STAGE_HEADER, HTG_ACT_NONE,
			     multipart_hint(ct), "Content-Type: multipart/%s",
			     ct->subtype);
		return;
	}
	check_cte(msg, ct);
	eff = *ct;
	check_type(msg, &eff);
	check_charset(msg, ct);
	check_disposition(msg, &eff);
}

/*
 * skip_unreadable_body - after MIME-CTE, MIME-SINGLE or MIME-HEADER the
 * body cannot be read as declared; judging it would only add noise
 */
static void
skip_unreadable_body(struct htg_msg *msg)
{
	size_t	i;

	for (i = 0; i < msg->nfindings; i++) {
		enum htg_rule_id r = msg->findings[i].rule;

		if (r == RULE_MIME_CTE || r == RULE_MIME_SINGLE || r == RULE_MIME_HEADER)
			msg->skip_body = 1;
	}
}

/* check_cc - HDR-CC */
static void
check_cc(struct htg_msg *msg)
{
	if (msg->hdr[EH_CC].count || msg->hdr[EH_BCC].count)
		eng_add_hint(msg, RULE_HDR_CC, HTG_STAGE_HEADER, HTG_ACT_NONE,
			HTG_HINT_NO_CC, "%s%s%s: present", msg->hdr[EH_CC].count ? "Cc" : "",
			msg->hdr[EH_CC].count && msg->hdr[EH_BCC].count ? " and " : "",
			msg->hdr[EH_BCC].count ? "Bcc" : "");
}

/*
 * start_dsn - a null-sender multipart/report of delivery-status: only
 * HDR-CC here; its structure is read from the body (dsnscan.h) and
 * judged at end of message; the encoding rules do not apply
 */
static enum htg_verdict
start_dsn(struct htg_msg *msg, const struct mime_ctype *ct)
{
	msg->dsn = 1;
	dsnscan_init(&msg->dsn_scan, ct->boundary);
	msg->body_ready = 1;
	msg->skip_body = 1;
	if (!msg->limit_hit)
		check_cc(msg);
	return (HTG_CONTINUE);
}

/* eng_eoh - judge the header block (a delivery report: start_dsn) */
enum htg_verdict
eng_eoh(struct htg_msg *msg)
{
	struct mime_ctype ct;
	int	ct_ok = 1;

	if (hval(msg, EH_CTYPE) == NULL) {
		memset(&ct, 0, sizeof(ct));
		g_strlcpy(ct.type, "text", sizeof(ct.type));
		g_strlcpy(ct.subtype, "plain", sizeof(ct.subtype));
	} else {
		ct_ok = mimehdr_content_type(hval(msg, EH_CTYPE), &ct) == 0;
	}
	if (msg->null_sender) {
		if (ct_ok && strcmp(ct.type, "multipart") == 0
		    && strcmp(ct.subtype, "report") == 0
		    && strcmp(ct.report_type, "delivery-status") == 0)
			return (start_dsn(msg, &ct));
		eng_add(msg, RULE_ENV_ONE_SENDER, HTG_STAGE_HEADER, HTG_ACT_NONE,
			"MAIL FROM:<> (null sender) is only for delivery status notifications");
	}
	if (msg->limit_hit) {
		msg->body_ready = 1;
		msg->skip_body = 1;
		return (HTG_CONTINUE);
	}
	check_from(msg);
	check_to(msg);
	check_cc(msg);
	check_msgid(msg);
	check_subject_date(msg);
	check_mime(msg, &ct, ct_ok);
	skip_unreadable_body(msg);
	return (HTG_CONTINUE);
}
