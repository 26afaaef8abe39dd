/*
 * NAME
 *	recorder - engine decisions into the compliance record
 * DESCRIPTION
 *	See recorder.h.  The row is built from the engine's accessors and
 *	the adapter's note, then handed to record_write() (group commit:
 *	on disk when it returns) or record_write_async().  The action of a passed
 *	message is the strongest of its findings: fix over warn over
 *	accept.
 * OWNERSHIP
 *	The handle table (path -> struct record) is this module's; rows
 *	are built on the caller's stack.
 * THREAD SAFETY
 *	recorder_lock guards the handle table; record.c serialises calls
 *	on one handle.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "record.h"
#include "recorder.h"

#define RECORDER_PATH_MAX	4096
#define RECORDER_RULES_MAX	512	/* space-separated rule IDs */
#define RECORDER_REPLY_MAX	(HTG_REPLY_LINES * (HTG_REPLY_LINE + 16))
#define RECORDER_ID_MAX		1000	/* a Message-ID or ENVID, trimmed */

static GMutex recorder_lock;
static GHashTable *recorder_handles;	/* path -> struct record * */

/* recorder_enabled - [record] enabled */
int
recorder_enabled(const struct htg_cfg *cfg)
{
	return (cfg != NULL && cfg->record.enabled);
}

/* recorder_path - [record] database or state_dir/record.db */
int
recorder_path(const struct htg_cfg *cfg, char *buf, size_t buflen)
{
	int	n;

	if (cfg->record.database && *cfg->record.database)
		n = snprintf(buf, buflen, "%s", cfg->record.database);
	else
		n = snprintf(buf, buflen, "%s/%s", cfg->state_dir,
			     RECORD_DB_NAME);
	return (n < 0 || (size_t) n >= buflen ? -1 : 0);
}

/* recorder_get - the open handle for cfg's database; NULL with err */
static struct record *
recorder_get(const struct htg_cfg *cfg, char *err, size_t errlen)
{
	char	path[RECORDER_PATH_MAX];
	struct record *rec;

	if (recorder_path(cfg, path, sizeof(path)) < 0) {
		snprintf(err, errlen, "record database path too long");
		return (NULL);
	}
	g_mutex_lock(&recorder_lock);
	if (recorder_handles == NULL)
		recorder_handles = g_hash_table_new_full(g_str_hash,
			g_str_equal, g_free, (GDestroyNotify) record_close);
	if ((rec = g_hash_table_lookup(recorder_handles, path)) == NULL
	    && (rec = record_open(path, err, errlen)) != NULL)
		g_hash_table_insert(recorder_handles, g_strdup(path), rec);
	g_mutex_unlock(&recorder_lock);
	return (rec);
}

/* recorder_check - open the handle now; 0 also when [record] is off */
int
recorder_check(const struct htg_cfg *cfg, char *err, size_t errlen)
{
	if (!recorder_enabled(cfg))
		return (0);
	return (recorder_get(cfg, err, errlen) == NULL ? -1 : 0);
}

/* recorder_sender_of - sender of the delivered message with this ID */
int
recorder_sender_of(const struct htg_cfg *cfg, const char *id, char *sender,
		   size_t senderlen, char *err, size_t errlen)
{
	struct record *rec;
	int	rc;

	if (!recorder_enabled(cfg))
		return (0);
	if ((rec = recorder_get(cfg, err, errlen)) == NULL)
		return (-1);
	if ((rc = record_sender_of(rec, id, sender, senderlen)) < 0)
		snprintf(err, errlen, "record lookup failed");
	return (rc);
}

/* recorder_rate_take - one step of an ENV-RATE window in the record */
int
recorder_rate_take(const struct htg_cfg *cfg, const char *key, int limit,
		   long long window_ms, int count_over, char *err,
		   size_t errlen)
{
	struct record *rec;

	if ((rec = recorder_get(cfg, err, errlen)) == NULL)
		return (-1);
	return (record_rate_take(rec, key, limit, window_ms, count_over, err,
				 errlen));
}

/* recorder_shutdown - close every handle */
void
recorder_shutdown(void)
{
	g_mutex_lock(&recorder_lock);
	if (recorder_handles != NULL)
		g_hash_table_destroy(recorder_handles);
	recorder_handles = NULL;
	g_mutex_unlock(&recorder_lock);
}

/* trim_id - an identifier without surrounding white space; NULL if empty */
static const char *
trim_id(char *buf, size_t buflen, const char *s)
{
	size_t	n;

	if (s == NULL)
		return (NULL);
	while (*s == ' ' || *s == '\t')
		s++;
	g_strlcpy(buf, s, buflen);
	for (n = strlen(buf); n > 0 && g_ascii_isspace(buf[n - 1]); n--)
		buf[n - 1] = 0;
	return (*buf ? buf : NULL);
}

/* msg_id - the Message-ID that went (or would go) to HTG */
static const char *
msg_id(const struct htg_msg *msg, char *buf, size_t buflen)
{
	const char *fixed = htg_msg_fix_msgid(msg);

	return (trim_id(buf, buflen, fixed ? fixed : htg_msg_message_id(msg)));
}

/* nonempty - NULL for an empty string */
static const char *
nonempty(const char *s)
{
	return (s && *s ? s : NULL);
}

/* has_word - whether the space-separated list holds word */
static int
has_word(const char *list, const char *word)
{
	size_t	n = strlen(word);
	const char *p;

	for (p = list; (p = strstr(p, word)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == 0 || p[n] == ' '))
			return (1);
	return (0);
}

/* action_keyword - the record's action for a verdict and its findings */
static const char *
action_keyword(const struct htg_finding *f, size_t n, enum htg_verdict v)
{
	enum htg_action strongest = HTG_ACT_NONE;
	size_t	i;

	if (v == HTG_REJECT)
		return ("reject");
	if (v == HTG_TEMPFAIL)
		return ("tempfail");
	for (i = 0; i < n; i++)
		if (f[i].action > strongest)
			strongest = f[i].action;
	return (strongest == HTG_ACT_FIX ? "fix" : strongest == HTG_ACT_WARN ?
		"warn" : "accept");
}

/*
 * action_of - the record's action keyword; the rule IDs into rules.  A
 * rule whose own action differs from the decision's carries it as a
 * suffix ("ENV-RATE:warn" on a refused message), so a report counts each
 * rule under what it did, not under what another rule decided.
 */
static const char *
action_of(const struct htg_msg *msg, enum htg_verdict v, char *rules,
	  size_t ruleslen)
{
	const struct htg_finding *f;
	size_t	i, n = htg_msg_findings(msg, &f);
	const char *action = action_keyword(f, n, v), *own;
	char	word[64];

	rules[0] = 0;
	for (i = 0; i < n; i++) {
		own = action_name(f[i].action);
		if (f[i].action == HTG_ACT_NONE || strcmp(own, action) == 0)
			g_strlcpy(word, rule_get(f[i].rule)->name, sizeof(word));
		else
			snprintf(word, sizeof(word), "%s:%s",
				 rule_get(f[i].rule)->name, own);
		if (has_word(rules, word))
			continue;
		if (rules[0])
			g_strlcat(rules, " ", ruleslen);
		g_strlcat(rules, word, ruleslen);
	}
	return (action);
}

/* recorder_reply_text - reply lines as SMTP would send them */
void
recorder_reply_text(const struct htg_reply *r, char *buf, size_t buflen)
{
	int	i;
	size_t	n = 0;

	buf[0] = 0;
	for (i = 0; r != NULL && i < r->nlines && n < buflen; i++)
		n += (size_t) snprintf(buf + n, buflen - n, "%s%s%c%s %s",
				       i ? "\n" : "", r->code,
				       i + 1 < r->nlines ? '-' : ' ', r->xcode,
				       r->lines[i]);
}

/*
 * details_of - why, for the record: one line per finding ("RULE action:
 * detail"), then what a repair dropped ("repair: ..."); NULL for none.
 * Freed by the caller.
 */
static char *
details_of(const struct htg_msg *msg)
{
	const struct htg_finding *f;
	size_t	i, n = htg_msg_findings(msg, &f);
	const char *note = htg_msg_repair_note(msg);
	GString *s = g_string_new(NULL);

	for (i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s %s: %s", s->len ? "\n" : "",
				       rule_get(f[i].rule)->name,
				       action_name(f[i].action), f[i].detail);
	if (note != NULL)
		g_string_append_printf(s, "%srepair: %s", s->len ? "\n" : "",
				       note);
	if (s->len == 0) {
		g_string_free(s, TRUE);
		return (NULL);
	}
	return (g_string_free(s, FALSE));
}

/* recorder_write - one row for one decision */
int
recorder_write(const struct htg_msg *msg, const struct recorder_note *note,
	       char *err, size_t errlen)
{
	const struct htg_cfg *cfg = htg_msg_cfg(msg);
	char	rules[RECORDER_RULES_MAX], reply[RECORDER_REPLY_MAX];
	char	msgid[RECORDER_ID_MAX], envid[RECORDER_ID_MAX];
	struct record_entry e;
	struct record *rec;
	char   *details;
	int	rc;

	if ((rec = recorder_get(cfg, err, errlen)) == NULL)
		return (-1);
	memset(&e, 0, sizeof(e));
	e.host = g_get_host_name();
	e.queue_id = nonempty(note->queue_id ? note->queue_id :
			      htg_msg_queue_id(msg));
	e.stage = stage_name(note->stage);
	e.action = action_of(msg, note->verdict, rules, sizeof(rules));
	e.rules = nonempty(rules);
	e.sender = htg_msg_sender(msg);
	e.sasl_user = nonempty(note->sasl_user);
	e.recipient = nonempty(note->recipient ? note->recipient :
			       htg_msg_recipient(msg));
	e.stream = nonempty(htg_msg_stream(msg));
	e.environment = nonempty(htg_msg_env(msg));
	e.message_id = msg_id(msg, msgid, sizeof(msgid));
	e.envid = trim_id(envid, sizeof(envid), htg_msg_envid(msg));
	e.size = note->size >= 0 ? note->size : note->stage >= HTG_STAGE_HEADER ?
		(long long) htg_msg_size(msg) : -1;
	e.body_sha256 = nonempty(note->body_sha256);
	recorder_reply_text(note->reply, reply, sizeof(reply));
	e.reply = note->reply_text ? nonempty(note->reply_text) :
		nonempty(reply);
	e.daemon = note->daemon;
	e.details = details = details_of(msg);
	rc = note->async ? record_write_async(rec, &e, err, errlen) :
		record_write(rec, &e, err, errlen);
	g_free(details);
	return (rc);
}

/* dup_finding - a HDR-MSGID or ENV-ENVID finding for a used identifier */
static enum htg_verdict
dup_finding(struct htg_msg *msg, enum htg_rule_id rule, const char *what,
	    const char *id)
{
	const struct htg_cfg *cfg = htg_msg_cfg(msg);
	char	detail[HTG_DETAIL_MAX];

	snprintf(detail, sizeof(detail), "%s %s was already sent to HTG in "
		 "the last %d days; it must be unique", what, id,
		 cfg->record.unique_window);
	return (htg_msg_add_finding_as(msg, rule, HTG_STAGE_EOM,
		cfg->record.duplicate_action, detail));
}

/* stronger - the stronger of two verdicts (REJECT > TEMPFAIL > other) */
static enum htg_verdict
stronger(enum htg_verdict a, enum htg_verdict b)
{
	if (a == HTG_REJECT || b == HTG_REJECT)
		return (HTG_REJECT);
	return (a == HTG_TEMPFAIL || b == HTG_TEMPFAIL ? HTG_TEMPFAIL :
		HTG_CONTINUE);
}

/* recorder_unique - HDR-MSGID and ENV-ENVID: check, or claim at egress */
enum htg_verdict
recorder_unique(struct htg_msg *msg, const char *holder, char *err,
		size_t errlen)
{
	const struct htg_cfg *cfg = htg_msg_cfg(msg);
	char	msgid[RECORDER_ID_MAX], envid[RECORDER_ID_MAX];
	struct record_claim c = {0};
	struct record *rec;
	enum htg_verdict v = HTG_CONTINUE;
	int	dup;

	if (!recorder_enabled(cfg) || !htg_msg_is_htg(msg)
	    || cfg->record.unique_window == 0
	    || cfg->record.duplicate_action == HTG_ACT_NONE)
		return (HTG_CONTINUE);
	/* An identifier htgate generated is new by construction. */
	if (htg_msg_fix_msgid(msg) == NULL)
		c.message_id = trim_id(msgid, sizeof(msgid), htg_msg_message_id(msg));
	if (htg_msg_fix_envid(msg) == NULL)
		c.envid = trim_id(envid, sizeof(envid), htg_msg_envid(msg));
	if (c.message_id == NULL && c.envid == NULL)
		return (HTG_CONTINUE);
	if ((rec = recorder_get(cfg, err, errlen)) == NULL)
		return (htg_msg_add_finding(msg, RULE_INTERNAL, HTG_STAGE_EOM,
					    RECORDER_UNAVAILABLE));
	c.holder = holder;
	c.queue_id = nonempty(htg_msg_queue_id(msg));
	c.window = cfg->record.unique_window * 86400L;
	dup = holder ? record_claim(rec, &c, err, errlen) : record_claimed(rec, &c);
	if (dup < 0) {
		if (err[0] == 0)
			snprintf(err, errlen, "uniqueness lookup in the record failed");
		return (htg_msg_add_finding(msg, RULE_INTERNAL, HTG_STAGE_EOM,
					    RECORDER_UNAVAILABLE));
	}
	if (dup & RECORD_DUP_MSGID)
		v = dup_finding(msg, RULE_HDR_MSGID, "Message-ID", c.message_id);
	if (dup & RECORD_DUP_ENVID)
		v = stronger(v, dup_finding(msg, RULE_ENV_ENVID, "ENVID", c.envid));
	return (v);
}
