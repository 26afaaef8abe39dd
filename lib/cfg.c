/*
 * NAME
 *	cfg - htgate.conf: parsing, validation and the shared snapshot
 * SYNOPSIS
 *	#include "cfg.h" (the interface is described there)
 * DESCRIPTION
 *	See cfg.h for the interface and htgate.conf(5) for the format.
 *
 *	Loading runs in two passes.  The reader turns the file into a list
 *	of entries (section kind, section name, key, value, line number);
 *	the builder then fills a new snapshot from that list, environments
 *	first, so a stream or account may name an environment defined
 *	further down the file.  Every error carries the line it came from.
 *
 *	The reader is hand-written rather than GLib's GKeyFile because
 *	GKeyFile reports neither the line of a bad value nor duplicate
 *	keys, and "[stream AGS]" style section names need a split anyway.
 *
 *	Keys are data: one table per section kind with the key's name, its
 *	type, where it lands in the struct, its default, its range, an
 *	optional check of a string value (fetch_deliver, fetch_sender) and
 *	a one-line doc string.  The words of an enumerated value (language,
 *	profile, rate) are written once, in a keyword table that parses,
 *	names the choices in an error and dumps; the action words are
 *	rules.c's (action_parse, action_name).  Adding a key is one row
 *	here and one paragraph in htgate.conf(5); the test
 *	tests/unit/check-conf-documented.sh fails when the two disagree
 *	(section, default, doc string).  Every program loads the file with
 *	cfg_load(), so all accept and refuse the same files
 *	(tests/daemon/daemon-check.sh).
 * ERRORS
 *	See cfg.h.  The first error of a file wins; the loader never logs.
 * OWNERSHIP
 *	Every string and array of a snapshot is allocated from the
 *	snapshot's pool and freed with the last reference.
 * THREAD SAFETY
 *	cfg_load() is reentrant.  The current-snapshot pointer is guarded
 *	by a mutex; snapshots themselves are immutable.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "cfg.h"
#include "log.h"

#define CFG_MAX_LINE	4096		/* one line of htgate.conf */

/* Section kinds, in the order the builder handles them. */
enum cfg_section {
	SEC_NONE = 0,
	SEC_ENVIRONMENT,
	SEC_GLOBAL,
	SEC_STREAM,
	SEC_ACCOUNT,
	SEC_ROUTE,
	SEC_RULES,
	SEC_RECORD,
	SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {
	[SEC_NONE] = "", [SEC_ENVIRONMENT] = "environment",
	[SEC_GLOBAL] = "global", [SEC_STREAM] = "stream",
	[SEC_ACCOUNT] = "account", [SEC_ROUTE] = "route",
	[SEC_RULES] = "rules", [SEC_RECORD] = "record",
};

/* One "key = value" line as read, or a section header (key NULL). */
struct cfg_entry {
	enum cfg_section section;
	char   *section_name;		/* "AGS" of [stream AGS]; NULL for global */
	char   *key;			/* NULL for the section header itself */
	char   *value;
	int	line;
};

enum cfg_type {
	T_STR,				/* char * */
	T_BOOL,				/* int */
	T_INT,				/* int, within min..max */
	T_SIZE,				/* size_t, K/M/G suffixes */
	T_LANGS,			/* langs[] + nlangs */
	T_ACTION,			/* enum htg_action */
	T_LIST,				/* char ** (NULL-terminated) */
	T_ENVS,				/* unsigned env_mask */
	T_ENV,				/* int env index */
	T_PROFILE,			/* enum htg_profile */
	T_RATE,				/* enum htg_rate_mode */
};

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t	offset;			/* into the section's struct */
	const char *dflt;		/* applied before the file; NULL: none */
	long long min, max;		/* T_INT and T_SIZE */
	/* T_STR: NULL for a good value, else why not (optional) */
	const char *(*check)(const char *value);
	const char *doc;		/* one line: what the key is for */
};

/*
 * Keyword tables: the one place the words of an enumerated value are
 * written, for parsing, for error messages and for cfg_dump().  The
 * action words are rules.c's (action_parse, action_name).
 */
struct cfg_word {
	const char *name;
	int	value;
};

static const struct cfg_word lang_words[] = {
	{"en", HTG_LANG_EN}, {"nl", HTG_LANG_NL}, {NULL, 0}
};

static const struct cfg_word profile_words[] = {
	{"standard", HTG_PROFILE_STANDARD},
	{"single-window", HTG_PROFILE_SINGLE_WINDOW}, {NULL, 0}
};

static const struct cfg_word rate_words[] = {
	{"off", HTG_RATE_OFF}, {"warn", HTG_RATE_WARN},
	{"defer", HTG_RATE_DEFER}, {NULL, 0}
};

/* word_parse - the value of keyword s (case-insensitive); -1 if none */
static int
word_parse(const struct cfg_word *w, const char *s, int *out)
{
	for (; w->name != NULL; w++)
		if (g_ascii_strcasecmp(w->name, s) == 0)
			return (*out = w->value, 0);
	return (-1);
}

/* word_name - the keyword of value v, "?" if none */
static const char *
word_name(const struct cfg_word *w, int v)
{
	for (; w->name != NULL; w++)
		if (w->value == v)
			return (w->name);
	return ("?");
}

/* word_list - "a, b or c" of a keyword table, into buf */
static const char *
word_list(const struct cfg_word *w, char *buf, size_t buflen)
{
	buf[0] = 0;
	for (; w->name != NULL; w++) {
		if (buf[0])
			g_strlcat(buf, w[1].name ? ", " : " or ", buflen);
		g_strlcat(buf, w->name, buflen);
	}
	return (buf);
}

/*
 * action_list - the action words of rules.c as "a, b or c", from
 * HTG_ACT_NONE up, or from HTG_ACT_REJECT down (descending) leaving out
 * fix when without_fix is set
 */
static const char *
action_list(int descending, int without_fix, char *buf, size_t buflen)
{
	struct cfg_word w[HTG_ACT_REJECT + 2];
	int	a, n = 0;

	for (a = HTG_ACT_NONE; a <= HTG_ACT_REJECT; a++) {
		int	act = descending ? HTG_ACT_REJECT - a : a;

		if (without_fix && act == HTG_ACT_FIX)
			continue;
		w[n].name = action_name((enum htg_action)act);
		w[n++].value = act;
	}
	w[n].name = NULL;
	return (word_list(w, buf, buflen));
}

/* check_deliver - fetch_deliver: smtp:HOST:PORT, sendmail, sendmail:/PATH */
static const char *
check_deliver(const char *v)
{
	const char *port;
	char   *end;
	long	n;

	if (strcmp(v, "sendmail") == 0 || strncmp(v, "sendmail:/", 10) == 0)
		return (NULL);
	if (strncmp(v, "smtp:", 5) != 0 || (port = strrchr(v + 5, ':')) == NULL
	    || port == v + 5)
		return ("is not smtp:HOST:PORT, sendmail or sendmail:/PATH");
	errno = 0;
	n = strtol(port + 1, &end, 10);
	if (port[1] == 0 || *end != 0 || errno != 0 || n < 1 || n > 65535)
		return ("has no port from 1 to 65535");
	return (NULL);
}

/* check_address - fetch_sender: an envelope address, no <> or blanks */
static const char *
check_address(const char *v)
{
	if (*v == 0 || strpbrk(v, "<> \t\r\n") != NULL)
		return ("is empty or not a bare address");
	return (NULL);
}

/*
 * check_database - [record] database: a path, or a libpq URL without a
 * password (error messages name the database; a password belongs in
 * ~/.pgpass).  A reason starting with '!' is printed without the value.
 */
static const char *
check_database(const char *v)
{
	const char *rest, *at, *end;

	if (strncmp(v, "postgresql://", 13) == 0)
		rest = v + 13;
	else if (strncmp(v, "postgres://", 11) == 0)
		rest = v + 11;
	else
		return (NULL);
	end = rest + strcspn(rest, "/?");
	at = memchr(rest, '@', (size_t) (end - rest));
	if ((at != NULL && memchr(rest, ':', (size_t) (at - rest)) != NULL)
	    || strstr(rest, "password=") != NULL)
		return ("!holds a password; put it in ~/.pgpass (or PGPASSFILE) "
			"of the daemons' user");
	return (NULL);
}

/*
 * check_stream_rules - a stream's "rules": words RULE:action, each rule
 * once, an action the rule allows (as in [rules])
 */
static const char *
check_stream_rules(const char *v)
{
	char  **words = g_strsplit_set(v, " \t,", -1);
	const char *why = NULL;
	int	seen[RULE_COUNT] = {0};
	int	i;

	for (i = 0; words[i] != NULL && why == NULL; i++) {
		char   *colon = strchr(words[i], ':');
		const struct htg_rule *rule;
		enum htg_action act;

		if (*words[i] == '\0')
			continue;
		if (colon == NULL) {
			why = "is not a list of RULE:action";
			break;
		}
		*colon = '\0';
		if ((rule = rule_by_name(words[i])) == NULL)
			why = "names an unknown rule (see htgate-check --list-rules)";
		else if (seen[rule->id]++)
			why = "names a rule twice";
		else if (action_parse(colon + 1, &act) < 0)
			why = "has an action other than ignore, warn, fix, tempfail or reject";
		else if (act == HTG_ACT_FIX && !rule->fixable)
			why = "asks fix of a rule htgate cannot fix";
		else if (rule->id == RULE_INTERNAL && act != HTG_ACT_TEMPFAIL)
			why = "sets INTERNAL, which is always tempfail";
	}
	g_strfreev(words);
	return (why);
}

#define G(f)	offsetof(struct htg_cfg, f)
#define E(f)	offsetof(struct htg_env, f)
#define S(f)	offsetof(struct htg_stream, f)
#define A(f)	offsetof(struct htg_account, f)
#define R(f)	offsetof(struct htg_route, f)
#define KB	1024LL
#define MB	(1024LL * 1024)
#define GB	(1024LL * 1024 * 1024)

/*
 * The key tables: name, type, destination, default, range, check and a
 * one-line doc string (cfg_keys_print; htgate.conf(5) has the long text).
 */
static const struct cfg_key global_keys[] = {
	{"language", T_LANGS, G(langs), "en nl", 0, 0, NULL,
	 "languages of the reply texts, in order"},
	{"report_only", T_BOOL, G(report_only), "no", 0, 0, NULL,
	 "every reject and tempfail becomes a warning"},
	{"size_limit", T_SIZE, G(size_limit), "0", 0, 2 * GB, NULL,
	 "ENV-SIZE for accounts without their own limit; 0: none"},
	{"max_header_bytes", T_SIZE, G(max_header_bytes), "1M", 1 * KB, 64 * MB,
	 NULL, "all header fields of a message together"},
	{"max_header_count", T_SIZE, G(max_header_count), "2000", 10, 100000,
	 NULL, "header fields in a message"},
	{"max_header_line", T_SIZE, G(max_header_line), "256K", 998, 16 * MB,
	 NULL, "one unfolded header field"},
	{"max_line_length", T_SIZE, G(max_line_length), "998", 76, 1 * MB, NULL,
	 "a body line (the limit of 7bit and quoted-printable)"},
	{"log_verbose", T_BOOL, G(log_verbose), "no", 0, 0, NULL,
	 "debug lines, as with -v"},
	{"on_internal_error", T_ACTION, G(on_internal_error), "tempfail", 0, 0,
	 NULL, "an internal error's action: tempfail or reject"},
	{"policy_default_action", T_STR, G(policy_default_action),
	 CFG_POLICY_DEFAULT_ACTION, 0, 0, NULL,
	 "htgate-policyd's answer to a malformed request"},
	{"state_dir", T_STR, G(state_dir), "/var/lib/htgate", 0, 0, NULL,
	 "state files and locks; the record's default place"},
	{"fetch_deliver", T_STR, G(fetch_deliver), "smtp:127.0.0.1:25", 0, 0,
	 check_deliver, "htgate-fetch hands answers over: smtp:HOST:PORT, "
	 "sendmail or sendmail:/PATH"},
	{"fetch_sender", T_STR, G(fetch_sender), "postmaster", 0, 0,
	 check_address, "local envelope sender of fetched answers"},
	{"fetch_interval", T_INT, G(fetch_interval), "60", 1, 86400, NULL,
	 "seconds between two polls of htgate-fetch -d"},
	{"fetch_max_size", T_SIZE, G(fetch_max_size), "50M", 1 * KB, 2 * GB,
	 NULL, "larger answers stay on the POP3 server"},
	{"unwrap_text_limit", T_SIZE, G(unwrap_text_limit), "2K", 0, 1 * MB,
	 NULL, "MIME-SINGLE fix: text allowed beside the one file"},
	{"repair_memory", T_SIZE, G(repair_memory), "256K", 0, 64 * MB, NULL,
	 "a repaired body is kept in memory up to this size"},
	{"repair_dir", T_STR, G(repair_dir), "", 0, 0, NULL,
	 "where a larger repaired body is kept; empty: $TMPDIR or /tmp"},
	{NULL, 0, 0, NULL, 0, 0, NULL, NULL}
};

/* [record]: the decision record (record.h, recorder.h) */
static const struct cfg_key record_keys[] = {
	{"enabled", T_BOOL, G(record.enabled), "no", 0, 0, NULL,
	 "keep the decision record and check uniqueness"},
	{"database", T_STR, G(record.database), "", 0, 0, check_database,
	 "the record's database; empty: state_dir/record.db"},
	{"retention", T_INT, G(record.retention), "400", 1, 36500, NULL,
	 "days htgate-report purge keeps"},
	{"unique_window", T_INT, G(record.unique_window), "365", 0, 36500, NULL,
	 "days a Message-ID or ENVID sent to HTG may not recur; 0: off"},
	{"duplicate_action", T_ACTION, G(record.duplicate_action), "reject", 0,
	 0, NULL, "what a duplicate Message-ID or ENVID gets"},
	{NULL, 0, 0, NULL, 0, 0, NULL, NULL}
};

static const struct cfg_key environment_keys[] = {
	{"envelope_domain", T_STR, E(envelope_domain), NULL, 0, 0, NULL,
	 "HTG's envelope domain, e.g. msa-smtp.htpoort.nl (required)"},
	{"header_domain", T_STR, E(header_domain), NULL, 0, 0, NULL,
	 "HTG's header address domain, e.g. htpoort.nl (required)"},
	{"smtp_host", T_STR, E(smtp_host), NULL, 0, 0, NULL,
	 "submission host; default: envelope_domain"},
	{"smtp_port", T_INT, E(smtp_port), "587", 1, 65535, NULL,
	 "submission port"},
	{"tls_name", T_STR, E(tls_name), NULL, 0, 0, NULL,
	 "the name the submission certificate carries; default: smtp_host"},
	{"pop3_host", T_STR, E(pop3_host), NULL, 0, 0, NULL,
	 "POP3 host of htgate-fetch, as HTG hands it out with the account"},
	{"pop3_port", T_INT, E(pop3_port), "110", 1, 65535, NULL,
	 "POP3 port"},
	{"ca_file", T_STR, E(ca_file), "", 0, 0, NULL,
	 "CA bundle that verifies the HTG servers; empty: the system's"},
	{NULL, 0, 0, NULL, 0, 0, NULL, NULL}
};

static const struct cfg_key stream_keys[] = {
	{"profile", T_PROFILE, S(profile), "standard", 0, 0, NULL,
	 "standard or single-window (NOTIFY=SUCCESS,FAILURE enforced)"},
	{"environments", T_ENVS, S(env_mask), "*", 0, 0, NULL,
	 "environments where the stream is enabled, or *"},
	{"rules", T_STR, S(rules), "", 0, 0, check_stream_rules,
	 "RULE:action words overriding [rules] for this stream"},
	{"unwrap_text_limit", T_SIZE, S(unwrap_text_limit), "0", 0, 1 * MB,
	 NULL, "the stream's own unwrap_text_limit; 0: [global]'s"},
	{NULL, 0, 0, NULL, 0, 0, NULL, NULL}
};

static const struct cfg_key account_keys[] = {
	{"mailbox", T_STR, A(mailbox), "", 0, 0, NULL,
	 "the HTG mailbox, user@domain: SASL and POP3 login"},
	{"senders", T_LIST, A(senders), NULL, 0, 0, NULL,
	 "envelope senders: user@domain, @domain, *@domain or * (required)"},
	{"sasl_users", T_LIST, A(sasl_users), NULL, 0, 0, NULL,
	 "local SASL logins allowed; default: any"},
	{"streams", T_LIST, A(streams), "*", 0, 0, NULL,
	 "streams the account may use, or *"},
	{"environments", T_ENVS, A(env_mask), "*", 0, 0, NULL,
	 "environments the account may use, or *"},
	{"password_file", T_STR, A(password_file), "", 0, 0, NULL,
	 "the mailbox password, first line of a file of mode 0600"},
	{"addresses", T_LIST, A(addresses), NULL, 0, 0, NULL,
	 "From: addresses HTG knows; default: the senders"},
	{"size_limit", T_SIZE, A(size_limit), "0", 0, 2 * GB, NULL,
	 "ENV-SIZE for this account; 0: [global]'s"},
	{"rate", T_RATE, A(rate_mode), "warn", 0, 0, NULL,
	 "ENV-RATE: off, warn or defer"},
	{"rate_limit", T_INT, A(rate_limit), "1", 1, 1000000, NULL,
	 "messages per rate_window"},
	{"rate_window", T_INT, A(rate_window), "60", 1, 86400, NULL,
	 "seconds of the sliding rate window"},
	{"fetch", T_BOOL, A(fetch), "no", 0, 0, NULL,
	 "htgate-fetch polls this mailbox"},
	{"fetch_environment", T_ENV, A(fetch_env), NULL, 0, 0, NULL,
	 "environment whose POP3 host holds the mailbox"},
	{"fetch_recipient", T_STR, A(fetch_recipient), "", 0, 0, NULL,
	 "local mailbox for answers no route or record claims"},
	{NULL, 0, 0, NULL, 0, 0, NULL, NULL}
};

static const struct cfg_key route_keys[] = {
	{"account", T_STR, R(account), "*", 0, 0, NULL,
	 "account name the route is for, or *"},
	{"header", T_STR, R(header), NULL, 0, 0, NULL,
	 "header field to match, e.g. Subject"},
	{"pattern", T_STR, R(pattern), NULL, 0, 0, NULL,
	 "case-insensitive shell glob for the header's value"},
	{"recipient", T_STR, R(recipient), NULL, 0, 0, NULL,
	 "local recipient of a matching answer"},
	{NULL, 0, 0, NULL, 0, 0, NULL, NULL}
};

/* Built in when the file has no [environment] section (htg-rules.md). */
/* (The documents name no POP3 host: pop3_host comes with the account.) */
static const struct builtin_env {
	const char *name, *envelope_domain, *header_domain, *smtp_host;
} builtin_envs[] = {
	{"production", "msa-smtp.htpoort.nl", "htpoort.nl",
	 "msa-smtp.htpoort.nl"},
	{"preprod", "msa-smtp.preprod.htpoort.nl", "preprod.htpoort.nl",
	 "msa-smtp.preprod.htpoort.nl"},
};

/* Loader state: the snapshot under construction and the error sink. */
struct cfg_loader {
	struct htg_cfg *cfg;
	GPtrArray *pool;		/* becomes cfg->pool */
	const char *path;
	char   *err;
	size_t	errlen;
	int	failed;
};

/* cfg_fail - record the first error as "FILE:LINE: reason" */
static int G_GNUC_PRINTF(3, 4)
cfg_fail(struct cfg_loader *ld, int line, const char *fmt, ...)
{
	char	reason[512];
	va_list	ap;

	if (ld->failed++)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->path, line, reason);
	else
		snprintf(ld->err, ld->errlen, "%s: %s", ld->path, reason);
	return (-1);
}

/* pool_keep - hand an allocation to the snapshot's pool */
static void *
pool_keep(struct cfg_loader *ld, void *p)
{
	g_ptr_array_add(ld->pool, p);
	return (p);
}

/* pool_strdup - a string owned by the snapshot */
static char *
pool_strdup(struct cfg_loader *ld, const char *s)
{
	return (pool_keep(ld, g_strdup(s)));
}

/* ---------------------------------------------------------------- */
/* Pass 1: the reader                                               */
/* ---------------------------------------------------------------- */

/* section_parse - "[kind NAME]" into kind and name; -1 on a bad header */
/* section_unnamed - [global], [rules] and [record] take no name */
static int
section_unnamed(enum cfg_section kind)
{
	return (kind == SEC_GLOBAL || kind == SEC_RULES || kind == SEC_RECORD);
}

static int
section_parse(struct cfg_loader *ld, char *text, int line,
	      enum cfg_section *kind, char **name)
{
	char   *end = strchr(text, ']');
	char  **words;
	int	i, nwords;

	if (end == NULL || end[1] != '\0')
		return (cfg_fail(ld, line, "section header without closing ']'"));
	*end = '\0';
	words = g_strsplit_set(g_strstrip(text + 1), " \t", -1);
	nwords = 0;
	for (i = 0; words[i] != NULL; i++)
		if (*words[i] != '\0')
			words[nwords++] = words[i];
		else
			g_free(words[i]);
	words[nwords] = NULL;
	*kind = SEC_NONE;
	for (i = SEC_ENVIRONMENT; i < SEC_COUNT && nwords > 0; i++)
		if (strcmp(words[0], section_names[i]) == 0)
			*kind = i;
	if (*kind == SEC_NONE) {
		cfg_fail(ld, line, "unknown section [%s] (expected global, "
			 "environment, stream, account, route, rules or record)",
			 nwords ? words[0] : "");
		g_strfreev(words);
		return (-1);
	}
	if (section_unnamed(*kind) != (nwords == 1) || nwords > 2) {
		cfg_fail(ld, line, section_unnamed(*kind) ?
			 "[%s] takes no name" : "[%s] needs exactly one name",
			 words[0]);
		g_strfreev(words);
		return (-1);
	}
	*name = nwords == 2 ? g_strdup(words[1]) : NULL;
	g_strfreev(words);
	return (0);
}

/* entry_free - GArray clear function */
static void
entry_free(gpointer p)
{
	struct cfg_entry *e = p;

	g_free(e->section_name);
	g_free(e->key);
	g_free(e->value);
}

/* cfg_read - pass 1: the file as a list of entries */
static GArray *
cfg_read(struct cfg_loader *ld, FILE *fp)
{
	GArray *entries = g_array_new(FALSE, TRUE, sizeof(struct cfg_entry));
	char   *buf = NULL;
	size_t	bufsize = 0;
	ssize_t got;
	enum cfg_section cur = SEC_NONE;
	char   *cur_name = NULL;
	int	line = 0;

	g_array_set_clear_func(entries, entry_free);
	/* getline() gives the length, so a NUL inside a line is seen. */
	while ((got = getline(&buf, &bufsize, fp)) >= 0) {
		struct cfg_entry e = {0};
		char   *text, *eq;
		size_t	len = (size_t) got;

		line++;
		if (len > CFG_MAX_LINE + 1
		    || (len == CFG_MAX_LINE + 1 && buf[len - 1] != '\n')) {
			cfg_fail(ld, line, "line longer than %d characters",
				 CFG_MAX_LINE);
			break;
		}
		if (memchr(buf, '\0', len) != NULL || !g_utf8_validate(buf, len, NULL)) {
			cfg_fail(ld, line, "line is not valid UTF-8 text");
			break;
		}
		text = g_strstrip(buf);
		if (*text == '\0' || *text == '#' || *text == ';')
			continue;
		if (*text == '[') {
			g_free(cur_name);
			cur_name = NULL;
			if (section_parse(ld, text, line, &cur, &cur_name) < 0)
				break;
			e.section = cur;
			e.section_name = g_strdup(cur_name);
			e.line = line;
			g_array_append_val(entries, e);
			continue;
		}
		if ((eq = strchr(text, '=')) == NULL) {
			cfg_fail(ld, line, "expected \"key = value\" or a [section]");
			break;
		}
		*eq = '\0';
		if (cur == SEC_NONE) {
			cfg_fail(ld, line, "\"%s\" outside any section "
				 "(start the file with [global])",
				 g_strstrip(text));
			break;
		}
		e.section = cur;
		e.section_name = g_strdup(cur_name);
		e.key = g_strdup(g_strstrip(text));
		e.value = g_strdup(g_strstrip(eq + 1));
		e.line = line;
		g_array_append_val(entries, e);
		if (*e.key == '\0') {
			cfg_fail(ld, line, "empty key before '='");
			break;
		}
	}
	if (ferror(fp))
		cfg_fail(ld, 0, "read error: %s", strerror(errno));
	free(buf);
	g_free(cur_name);
	return (entries);
}

/* ---------------------------------------------------------------- */
/* Pass 2: values                                                   */
/* ---------------------------------------------------------------- */

/* parse_size - "10M" into bytes within min..max */
static int
parse_size(const char *s, long long min, long long max, long long *out)
{
	char   *end;
	long long v;

	long long unit = 1;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno != 0 || v < 0)
		return (-1);
	switch (g_ascii_toupper(*end)) {
	case 'K': unit = KB; end++; break;
	case 'M': unit = MB; end++; break;
	case 'G': unit = GB; end++; break;
	}
	if (v > LLONG_MAX / unit)
		return (-1);		/* "17179869185G" must not wrap */
	v *= unit;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end != '\0' || v < min || v > max)
		return (-1);
	*out = v;
	return (0);
}

/* parse_bool - yes/no and friends */
static int
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"yes", "true", "on", "1"};
	static const char *const no[] = {"no", "false", "off", "0"};
	size_t	i;

	for (i = 0; i < G_N_ELEMENTS(yes); i++) {
		if (g_ascii_strcasecmp(s, yes[i]) == 0)
			return (*out = 1, 0);
		if (g_ascii_strcasecmp(s, no[i]) == 0)
			return (*out = 0, 0);
	}
	return (-1);
}

/* split_list - words separated by blanks and/or commas */
static char **
split_list(const char *s)
{
	char  **words = g_strsplit_set(s, " \t,", -1);
	int	i, n = 0;

	for (i = 0; words[i] != NULL; i++)
		if (*words[i] != '\0')
			words[n++] = words[i];
		else
			g_free(words[i]);
	words[n] = NULL;
	return (words);
}

/* env_index - position of environment NAME, -1 if unknown */
static int
env_index(const struct htg_cfg *cfg, const char *name)
{
	int	i;

	for (i = 0; i < cfg->nenvs; i++)
		if (g_ascii_strcasecmp(cfg->envs[i].name, name) == 0)
			return (i);
	return (-1);
}

/* set_envs - "production preprod" or "*" into an environment mask */
static int
set_envs(struct cfg_loader *ld, const struct cfg_entry *e, unsigned *mask)
{
	char  **words = split_list(e->value);
	int	i, idx, rc = 0;

	*mask = 0;
	for (i = 0; words[i] != NULL && rc == 0; i++) {
		if (strcmp(words[i], "*") == 0)
			*mask = (1u << ld->cfg->nenvs) - 1;
		else if ((idx = env_index(ld->cfg, words[i])) >= 0)
			*mask |= 1u << idx;
		else
			rc = cfg_fail(ld, e->line, "%s: unknown environment "
				      "\"%s\"", e->key, words[i]);
	}
	if (rc == 0 && *mask == 0)
		rc = cfg_fail(ld, e->line, "%s: no environment given", e->key);
	g_strfreev(words);
	return (rc);
}

/* set_langs - "en nl" */
static int
set_langs(struct cfg_loader *ld, const struct cfg_entry *e)
{
	char  **words = split_list(e->value);
	int	i, rc = 0;

	ld->cfg->nlangs = 0;
	for (i = 0; words[i] != NULL && rc == 0; i++) {
		char	list[64];
		int	lang;

		if (word_parse(lang_words, words[i], &lang) < 0) {
			rc = cfg_fail(ld, e->line, "language: \"%s\" is not %s",
				      words[i], word_list(lang_words, list,
							  sizeof(list)));
			break;
		}
		if (ld->cfg->nlangs == CFG_MAX_LANGS) {
			rc = cfg_fail(ld, e->line, "language: at most %d "
				      "languages", CFG_MAX_LANGS);
			break;
		}
		ld->cfg->langs[ld->cfg->nlangs++] = (enum htg_lang) lang;
	}
	if (rc == 0 && ld->cfg->nlangs == 0)
		rc = cfg_fail(ld, e->line, "language: empty");
	g_strfreev(words);
	return (rc);
}

/* set_value - one key of a section struct at base */
static int
set_value(struct cfg_loader *ld, const struct cfg_key *k,
	  const struct cfg_entry *e, void *base)
{
	void   *field = (char *)base + k->offset;
	const struct cfg_word *words;
	long long n;
	int	b;
	char  **list;
	char	names[128];
	const char *why;

	switch (k->type) {
	case T_STR:
		if (k->check != NULL && (why = k->check(e->value)) != NULL)
			return (why[0] == '!'
				? cfg_fail(ld, e->line, "%s: %s", k->name, why + 1)
				: cfg_fail(ld, e->line, "%s: \"%s\" %s", k->name,
					   e->value, why));
		*(char **)field = pool_strdup(ld, e->value);
		return (0);
	case T_BOOL:
		if (parse_bool(e->value, &b) < 0)
			return (cfg_fail(ld, e->line, "%s: \"%s\" is not yes "
					 "or no", k->name, e->value));
		*(int *)field = b;
		return (0);
	case T_INT:
	case T_SIZE:
		if ((k->type == T_INT ? strpbrk(e->value, "KkMmGgBb") != NULL : 0)
		    || parse_size(e->value, k->min, k->max, &n) < 0)
			return (cfg_fail(ld, e->line, "%s: \"%s\" is not a "
					 "number from %lld to %lld%s", k->name,
					 e->value, k->min, k->max,
					 k->type == T_SIZE ? " (K, M, G allowed)" : ""));
		if (k->type == T_INT)
			*(int *)field = (int)n;
		else
			*(size_t *)field = (size_t)n;
		return (0);
	case T_LANGS:
		return (set_langs(ld, e));
	case T_ACTION:
		if (action_parse(e->value, (enum htg_action *)field) < 0)
			return (cfg_fail(ld, e->line, "%s: \"%s\" is not one of "
					 "%s", k->name, e->value,
					 action_list(0, 0, names, sizeof(names))));
		return (0);
	case T_LIST:
		list = split_list(e->value);
		if (list[0] == NULL) {
			g_strfreev(list);
			return (cfg_fail(ld, e->line, "%s: empty list", k->name));
		}
		for (b = 0; list[b] != NULL; b++)
			pool_keep(ld, list[b]);
		*(char ***)field = pool_keep(ld, list);
		return (0);
	case T_ENVS:
		return (set_envs(ld, e, (unsigned *)field));
	case T_ENV:
		if ((b = env_index(ld->cfg, e->value)) < 0)
			return (cfg_fail(ld, e->line, "%s: unknown environment "
					 "\"%s\"", k->name, e->value));
		*(int *)field = b;
		return (0);
	case T_PROFILE:
	case T_RATE:
		words = k->type == T_PROFILE ? profile_words : rate_words;
		if (word_parse(words, e->value, &b) < 0)
			return (cfg_fail(ld, e->line, "%s: \"%s\" is not %s",
					 k->name, e->value,
					 word_list(words, names, sizeof(names))));
		if (k->type == T_PROFILE)
			*(enum htg_profile *)field = (enum htg_profile) b;
		else
			*(enum htg_rate_mode *)field = (enum htg_rate_mode) b;
		return (0);
	}
	return (cfg_fail(ld, e->line, "%s: internal error: bad key type",
			 k->name));
}

/* key_find - the table row of key NAME */
static const struct cfg_key *
key_find(const struct cfg_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return (keys);
	return (NULL);
}

/*
 * apply_section - defaults, then the entries of one section instance
 * (all entries of kind and name, in file order) onto base
 */
static int
apply_section(struct cfg_loader *ld, GArray *entries, const struct cfg_key *keys,
	      enum cfg_section kind, const char *name, void *base)
{
	const struct cfg_key *k;
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	guint	i;

	for (k = keys; k->name != NULL && !ld->failed; k++)
		if (k->dflt != NULL) {
			struct cfg_entry d = {kind, NULL, (char *)k->name,
					      (char *)k->dflt, 0};
			set_value(ld, k, &d, base);
		}
	for (i = 0; i < entries->len && !ld->failed; i++) {
		struct cfg_entry *e = &g_array_index(entries, struct cfg_entry, i);

		if (e->section != kind || e->key == NULL
		    || g_strcmp0(e->section_name, name) != 0)
			continue;
		if ((k = key_find(keys, e->key)) == NULL) {
			cfg_fail(ld, e->line, "unknown key \"%s\" in [%s%s%s]",
				 e->key, section_names[kind], name ? " " : "",
				 name ? name : "");
			break;
		}
		if (g_hash_table_contains(seen, k->name)) {
			cfg_fail(ld, e->line, "\"%s\" given twice in [%s%s%s]",
				 e->key, section_names[kind], name ? " " : "",
				 name ? name : "");
			break;
		}
		g_hash_table_add(seen, (gpointer)k->name);
		set_value(ld, k, e, base);
	}
	g_hash_table_destroy(seen);
	return (ld->failed ? -1 : 0);
}

/* require - a key without default that the section must set */
static int
require(struct cfg_loader *ld, const struct cfg_entry *hdr,
	const char *value, const char *key)
{
	if (value != NULL && *value != '\0')
		return (0);
	return (cfg_fail(ld, hdr->line, "[%s %s] needs \"%s\"",
			 section_names[hdr->section], hdr->section_name, key));
}

/*
 * section_instances - the header entries of every section of kind, in
 * file order; a second header with the same name is an error
 */
static GPtrArray *
section_instances(struct cfg_loader *ld, GArray *entries, enum cfg_section kind)
{
	GPtrArray *out = g_ptr_array_new();
	guint	i, j;

	for (i = 0; i < entries->len && !ld->failed; i++) {
		struct cfg_entry *e = &g_array_index(entries, struct cfg_entry, i);

		if (e->section != kind || e->key != NULL)
			continue;
		for (j = 0; j < out->len; j++) {
			struct cfg_entry *o = g_ptr_array_index(out, j);

			if (g_strcmp0(o->section_name, e->section_name) == 0
			    && !section_unnamed(kind))
				cfg_fail(ld, e->line, "[%s %s] defined twice "
					 "(first at line %d)", section_names[kind],
					 e->section_name, o->line);
		}
		g_ptr_array_add(out, e);
	}
	return (out);
}

/* build_envs - [environment] sections, or the two built-in ones */
static void
build_envs(struct cfg_loader *ld, GArray *entries)
{
	struct htg_cfg *cfg = ld->cfg;
	GPtrArray *secs = section_instances(ld, entries, SEC_ENVIRONMENT);
	guint	i;

	if (secs->len == 0 && !ld->failed) {
		for (i = 0; i < G_N_ELEMENTS(builtin_envs); i++) {
			const struct builtin_env *b = &builtin_envs[i];
			struct htg_env *env = &cfg->envs[cfg->nenvs];

			apply_section(ld, entries, environment_keys,
				      SEC_ENVIRONMENT, "", env);
			env->index = cfg->nenvs++;
			env->name = pool_strdup(ld, b->name);
			env->envelope_domain = pool_strdup(ld, b->envelope_domain);
			env->header_domain = pool_strdup(ld, b->header_domain);
			env->smtp_host = pool_strdup(ld, b->smtp_host);
			env->tls_name = env->smtp_host;
		}
	}
	for (i = 0; i < secs->len && !ld->failed; i++) {
		struct cfg_entry *hdr = g_ptr_array_index(secs, i);
		struct htg_env *env;

		if (cfg->nenvs == CFG_MAX_ENVS) {
			cfg_fail(ld, hdr->line, "more than %d environments",
				 CFG_MAX_ENVS);
			break;
		}
		env = &cfg->envs[cfg->nenvs];
		env->index = cfg->nenvs++;
		env->name = pool_strdup(ld, hdr->section_name);
		if (apply_section(ld, entries, environment_keys,
				  SEC_ENVIRONMENT, hdr->section_name, env) < 0
		    || require(ld, hdr, env->envelope_domain, "envelope_domain") < 0
		    || require(ld, hdr, env->header_domain, "header_domain") < 0)
			break;
		if (env->smtp_host == NULL)
			env->smtp_host = env->envelope_domain;
		if (env->tls_name == NULL)
			env->tls_name = env->smtp_host;
	}
	g_ptr_array_free(secs, TRUE);
}

/* build_array - every section of kind into a new array of structs */
static void *
build_array(struct cfg_loader *ld, GArray *entries, enum cfg_section kind,
	    const struct cfg_key *keys, size_t size, size_t name_offset,
	    int *count)
{
	GPtrArray *secs = section_instances(ld, entries, kind);
	char   *array = pool_keep(ld, g_malloc0(size * (secs->len + 1)));
	guint	i;

	*count = 0;
	for (i = 0; i < secs->len && !ld->failed; i++) {
		struct cfg_entry *hdr = g_ptr_array_index(secs, i);
		char   *item = array + size * i;

		*(char **)(item + name_offset) = pool_strdup(ld, hdr->section_name);
		if (apply_section(ld, entries, keys, kind, hdr->section_name,
				  item) < 0)
			break;
		(*count)++;
	}
	g_ptr_array_free(secs, TRUE);
	return (array);
}

/* header_of - the header entry of section kind NAME (for error lines) */
static const struct cfg_entry *
header_of(GArray *entries, enum cfg_section kind, const char *name)
{
	guint	i;

	for (i = 0; i < entries->len; i++) {
		struct cfg_entry *e = &g_array_index(entries, struct cfg_entry, i);

		if (e->section == kind && e->key == NULL
		    && g_strcmp0(e->section_name, name) == 0)
			return (e);
	}
	return (&g_array_index(entries, struct cfg_entry, 0));
}

/* secret_mode_ok - a secret file must exist, not open to group or others */
static int
secret_mode_ok(const char *path, char *why, size_t whylen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(why, whylen, "%s: %s", path, strerror(errno));
		return (0);
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		snprintf(why, whylen, "%s: mode %04o is open to group or "
			 "others; run chmod 600 %s", path,
			 (unsigned)(st.st_mode & 07777), path);
		return (0);
	}
	return (1);
}

static int list_has(char *const *list, const char *word, int star);

/* same_streams - two accounts' stream lists name the same set */
static int
same_streams(char *const *a, char *const *b)
{
	int	i;

	for (i = 0; a[i] != NULL; i++)
		if (!list_has(b, a[i], 0))
			return (0);
	for (i = 0; b[i] != NULL; i++)
		if (!list_has(a, b[i], 0))
			return (0);
	return (1);
}

/*
 * check_sender_keys - every sender pattern is a key Postfix can look up,
 * and no key of one environment belongs to two accounts with different
 * streams (Postfix would send both with the first one's credentials)
 */
static void
check_sender_keys(struct cfg_loader *ld, const struct htg_account *a, int ai)
{
	const struct htg_cfg *cfg = ld->cfg;
	char	key[CFG_KEY_MAX], other[CFG_KEY_MAX];
	int	j, k, m;

	for (j = 0; a->senders[j] != NULL && !ld->failed; j++) {
		if (cfg_sender_key(a->senders[j], key, sizeof(key)) < 0) {
			cfg_fail(ld, a->line, "[account %s]: sender \"%s\" is "
				 "not user@domain, @domain, *@domain or * (the "
				 "keys Postfix picks credentials by)", a->name,
				 a->senders[j]);
			return;
		}
		for (k = 0; k < ai && !ld->failed; k++) {
			const struct htg_account *b = &cfg->accounts[k];

			if (!(a->env_mask & b->env_mask)
			    || same_streams(a->streams, b->streams))
				continue;
			for (m = 0; b->senders[m] != NULL; m++)
				if (cfg_sender_key(b->senders[m], other,
						   sizeof(other)) == 0
				    && strcmp(key, other) == 0)
					cfg_fail(ld, a->line, "[account %s]: sender "
						 "key %s also belongs to [account %s] "
						 "(line %d) with other streams, in a "
						 "shared environment; Postfix would use "
						 "one account's credentials for both",
						 a->name, key, b->name, b->line);
		}
	}
}

/* mailbox_ok - the full mailbox name including domain (MSA §3.7) */
static int
mailbox_ok(const char *mailbox)
{
	const char *at = strchr(mailbox, '@');

	return (at != NULL && at != mailbox && at[1] != 0
		&& strchr(at + 1, '@') == NULL);
}

/* check_accounts - cross-checks of [account] sections */
static void
check_accounts(struct cfg_loader *ld, GArray *entries)
{
	struct htg_cfg *cfg = ld->cfg;
	int	i, j;

	for (i = 0; i < cfg->naccounts; i++)
		cfg->accounts[i].line =
			header_of(entries, SEC_ACCOUNT, cfg->accounts[i].name)->line;
	for (i = 0; i < cfg->naccounts && !ld->failed; i++) {
		struct htg_account *a = &cfg->accounts[i];
		const struct cfg_entry *hdr = header_of(entries, SEC_ACCOUNT, a->name);
		const struct htg_env *fe = &cfg->envs[a->fetch_env];

		if (require(ld, hdr, a->senders ? a->senders[0] : NULL, "senders") < 0)
			break;
		for (j = 0; a->streams[j] != NULL; j++)
			if (strcmp(a->streams[j], "*") != 0
			    && cfg_stream_find(cfg, a->streams[j], NULL) == NULL)
				cfg_fail(ld, hdr->line, "[account %s]: stream "
					 "\"%s\" has no [stream] section",
					 a->name, a->streams[j]);
		if (*a->mailbox != '\0' && !mailbox_ok(a->mailbox))
			cfg_fail(ld, hdr->line, "[account %s]: mailbox \"%s\" is "
				 "not a full mailbox name with its domain (MSA "
				 "§3.7: the SASL and POP3 user name)", a->name,
				 a->mailbox);
		if (a->fetch && (*a->mailbox == '\0' || *a->password_file == '\0'))
			cfg_fail(ld, hdr->line, "[account %s]: fetch = yes needs "
				 "mailbox and password_file", a->name);
		if (a->fetch && (fe->pop3_host == NULL || *fe->pop3_host == '\0'))
			cfg_fail(ld, hdr->line, "[account %s]: fetch = yes needs "
				 "pop3_host in [environment %s] (it comes with "
				 "the account; the documents name none)", a->name,
				 fe->name);
		check_sender_keys(ld, a, i);
	}
}

/* build_rules - [rules] RULE-ID = action */
static void
build_rules(struct cfg_loader *ld, GArray *entries)
{
	struct htg_cfg *cfg = ld->cfg;
	GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
	char	names[128];
	guint	i;
	int	r;

	for (r = 0; r < RULE_COUNT; r++)
		cfg->rule_action[r] = rule_get(r)->default_action;
	for (i = 0; i < entries->len && !ld->failed; i++) {
		struct cfg_entry *e = &g_array_index(entries, struct cfg_entry, i);
		const struct htg_rule *rule;
		enum htg_action act;

		if (e->section != SEC_RULES || e->key == NULL)
			continue;
		if ((rule = rule_by_name(e->key)) == NULL) {
			cfg_fail(ld, e->line, "unknown rule \"%s\" (see "
				 "htgate-check --list-rules)", e->key);
			break;
		}
		if (g_hash_table_contains(seen, GINT_TO_POINTER(rule->id + 1))) {
			cfg_fail(ld, e->line, "rule %s given twice", rule->name);
			break;
		}
		g_hash_table_add(seen, GINT_TO_POINTER(rule->id + 1));
		if (action_parse(e->value, &act) < 0)
			cfg_fail(ld, e->line, "%s: \"%s\" is not one of %s",
				 e->key, e->value,
				 action_list(0, 0, names, sizeof(names)));
		else if (act == HTG_ACT_FIX && !rule->fixable)
			cfg_fail(ld, e->line, "%s cannot be fixed by htgate; use "
				 "%s", rule->name,
				 action_list(1, 1, names, sizeof(names)));
		else if (rule->id == RULE_INTERNAL && act != HTG_ACT_TEMPFAIL)
			cfg_fail(ld, e->line, "INTERNAL is always tempfail: an "
				 "unchecked message must not pass");
		else
			cfg->rule_action[rule->id] = act;
	}
	g_hash_table_destroy(seen);
}

/*
 * build_stream_rules - each stream's rule actions: [rules], then its
 * own "rules" (checked by check_stream_rules when it was read)
 */
static void
build_stream_rules(struct cfg_loader *ld)
{
	struct htg_cfg *cfg = ld->cfg;
	int	i, j;

	for (i = 0; i < cfg->nstreams; i++) {
		struct htg_stream *st = &cfg->streams[i];
		char  **words = g_strsplit_set(st->rules ? st->rules : "",
					       " \t,", -1);

		memcpy(st->rule_action, cfg->rule_action, sizeof(st->rule_action));
		for (j = 0; words[j] != NULL; j++) {
			char   *colon = strchr(words[j], ':');
			const struct htg_rule *rule;
			enum htg_action act;

			if (colon == NULL)
				continue;
			*colon = '\0';
			if ((rule = rule_by_name(words[j])) != NULL
			    && action_parse(colon + 1, &act) == 0)
				st->rule_action[rule->id] = act;
		}
		st->has_rules = 1;
		g_strfreev(words);
	}
}

/* build_record - [record]; a duplicate cannot be fixed */
static void
build_record(struct cfg_loader *ld, GArray *entries)
{
	GPtrArray *hdrs = section_instances(ld, entries, SEC_RECORD);
	char	names[128];
	guint	i;

	g_ptr_array_free(hdrs, TRUE);
	if (ld->failed || apply_section(ld, entries, record_keys, SEC_RECORD,
					NULL, ld->cfg) < 0
	    || ld->cfg->record.duplicate_action != HTG_ACT_FIX)
		return;
	for (i = 0; i < entries->len; i++) {
		struct cfg_entry *e = &g_array_index(entries, struct cfg_entry, i);

		if (e->section == SEC_RECORD && e->key != NULL
		    && strcmp(e->key, "duplicate_action") == 0)
			cfg_fail(ld, e->line, "duplicate_action: a duplicate "
				 "cannot be fixed; use %s",
				 action_list(1, 1, names, sizeof(names)));
	}
}

/* cfg_build - pass 2: the snapshot from the entries */
static void
cfg_build(struct cfg_loader *ld, GArray *entries)
{
	struct htg_cfg *cfg = ld->cfg;
	GPtrArray *globals;

	build_envs(ld, entries);
	globals = section_instances(ld, entries, SEC_GLOBAL);
	g_ptr_array_free(globals, TRUE);
	if (!ld->failed)
		apply_section(ld, entries, global_keys, SEC_GLOBAL, NULL, cfg);
	if (!ld->failed)
		build_record(ld, entries);
	if (!ld->failed)
		cfg->streams = build_array(ld, entries, SEC_STREAM, stream_keys,
			sizeof(struct htg_stream), offsetof(struct htg_stream, name),
			&cfg->nstreams);
	if (!ld->failed)
		cfg->accounts = build_array(ld, entries, SEC_ACCOUNT, account_keys,
			sizeof(struct htg_account),
			offsetof(struct htg_account, name), &cfg->naccounts);
	if (!ld->failed)
		cfg->routes = build_array(ld, entries, SEC_ROUTE, route_keys,
			sizeof(struct htg_route), offsetof(struct htg_route, name),
			&cfg->nroutes);
	if (!ld->failed)
		check_accounts(ld, entries);
	if (!ld->failed)
		build_rules(ld, entries);
	if (!ld->failed)
		build_stream_rules(ld);
	if (!ld->failed && cfg->on_internal_error != HTG_ACT_TEMPFAIL
	    && cfg->on_internal_error != HTG_ACT_REJECT)
		cfg_fail(ld, 0, "on_internal_error must be tempfail or reject");
}

/* cfg_load - parse and validate PATH into a new snapshot */
struct htg_cfg *
cfg_load(const char *path, char *err, size_t errlen)
{
	struct cfg_loader ld = {0};
	FILE   *fp;
	GArray *entries;

	ld.path = path;
	ld.err = err;
	ld.errlen = errlen;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (NULL);
	}
	ld.cfg = g_new0(struct htg_cfg, 1);
	ld.pool = g_ptr_array_new_with_free_func(g_free);
	ld.cfg->pool = ld.pool;
	ld.cfg->refcount = 1;
	ld.cfg->path = pool_strdup(&ld, path);
	entries = cfg_read(&ld, fp);
	fclose(fp);
	if (!ld.failed)
		cfg_build(&ld, entries);
	g_array_free(entries, TRUE);
	if (ld.failed) {
		cfg_unref(ld.cfg);
		return (NULL);
	}
	return (ld.cfg);
}

/* cfg_ref - one more reference */
struct htg_cfg *
cfg_ref(struct htg_cfg *cfg)
{
	g_atomic_int_inc(&cfg->refcount);
	return (cfg);
}

/* cfg_unref - drop a reference; the last one frees the snapshot */
void
cfg_unref(struct htg_cfg *cfg)
{
	if (cfg == NULL || !g_atomic_int_dec_and_test(&cfg->refcount))
		return;
	g_ptr_array_free(cfg->pool, TRUE);
	g_free(cfg);
}

static GMutex current_lock;
static struct htg_cfg *current;

/* cfg_current_set - make cfg (caller's reference) the current snapshot */
void
cfg_current_set(struct htg_cfg *cfg)
{
	struct htg_cfg *old;

	g_mutex_lock(&current_lock);
	old = current;
	current = cfg;
	g_mutex_unlock(&current_lock);
	cfg_unref(old);
}

/* cfg_current_get - a new reference to the current snapshot */
struct htg_cfg *
cfg_current_get(void)
{
	struct htg_cfg *cfg;

	g_mutex_lock(&current_lock);
	cfg = current ? cfg_ref(current) : NULL;
	g_mutex_unlock(&current_lock);
	return (cfg);
}

/* ---------------------------------------------------------------- */
/* Lookups                                                          */
/* ---------------------------------------------------------------- */

/* cfg_env_by_domain - the environment whose envelope or header domain it is */
const struct htg_env *
cfg_env_by_domain(const struct htg_cfg *cfg, const char *domain,
		  int *is_envelope_form)
{
	int	i;

	for (i = 0; domain != NULL && i < cfg->nenvs; i++) {
		const struct htg_env *env = &cfg->envs[i];

		if (g_ascii_strcasecmp(domain, env->envelope_domain) == 0) {
			if (is_envelope_form)
				*is_envelope_form = 1;
			return (env);
		}
		if (g_ascii_strcasecmp(domain, env->header_domain) == 0) {
			if (is_envelope_form)
				*is_envelope_form = 0;
			return (env);
		}
	}
	return (NULL);
}

/* cfg_env_by_name - environment NAME (case-insensitive), or NULL */
const struct htg_env *
cfg_env_by_name(const struct htg_cfg *cfg, const char *name)
{
	int	i = env_index(cfg, name);

	return (i < 0 ? NULL : &cfg->envs[i]);
}

/* cfg_stream_find - stream by local part (case-insensitive), enabled in env */
const struct htg_stream *
cfg_stream_find(const struct htg_cfg *cfg, const char *local_part,
		const struct htg_env *env)
{
	int	i;

	for (i = 0; local_part != NULL && i < cfg->nstreams; i++) {
		const struct htg_stream *s = &cfg->streams[i];

		if (g_ascii_strcasecmp(s->name, local_part) == 0)
			return (env == NULL || (s->env_mask & (1u << env->index))
				? s : NULL);
	}
	return (NULL);
}

/* list_has - case-insensitive membership, "*" matching anything */
static int
list_has(char *const *list, const char *word, int star)
{
	for (; list != NULL && *list != NULL; list++)
		if ((star && strcmp(*list, "*") == 0)
		    || g_ascii_strcasecmp(*list, word) == 0)
			return (1);
	return (0);
}

/* cfg_sender_match - "user@dom", "*@dom", "@dom", "*" or a glob */
int
cfg_sender_match(const char *pattern, const char *sender)
{
	char   *p, *s;
	int	match;

	if (sender == NULL || *sender == '\0')
		return (0);
	p = g_ascii_strdown(pattern, -1);
	s = g_ascii_strdown(sender, -1);
	if (*p == '@') {
		char   *full = g_strconcat("*", p, NULL);

		g_free(p);
		p = full;
	}
	match = g_pattern_match_simple(p, s);
	g_free(p);
	g_free(s);
	return (match);
}

const char cfg_sasl_unknown[] = "(login not known at this stage)";

/*
 * cfg_sender_key - the Postfix lookup key of a sender pattern: "user@dom"
 * and "@dom" in lower case ("*@dom" is "@dom"), "*" for any; -1 for a
 * pattern Postfix cannot look up (another glob)
 */
int
cfg_sender_key(const char *pattern, char *buf, size_t buflen)
{
	const char *at = strchr(pattern, '@');
	int	n;

	if (strcmp(pattern, "*") == 0) {
		n = snprintf(buf, buflen, "*");
	} else if (at == NULL || at[1] == '\0' || strchr(at + 1, '@') != NULL
		   || strpbrk(at + 1, "*?[]") != NULL) {
		return (-1);
	} else if (at == pattern || (at == pattern + 1 && *pattern == '*')) {
		n = snprintf(buf, buflen, "%s", at);
	} else if (strpbrk(pattern, "*?[]") != NULL) {
		return (-1);
	} else {
		n = snprintf(buf, buflen, "%s", pattern);
	}
	if (n < 0 || (size_t) n >= buflen)
		return (-1);
	for (char *c = buf; *c; c++)
		*c = g_ascii_tolower(*c);
	return (0);
}

/* key_rank - how specifically a sender key names sender: 3, 2, 1 or 0 */
static int
key_rank(const char *key, const char *sender)
{
	const char *at = strrchr(sender, '@');

	if (strcmp(key, "*") == 0)
		return (1);
	if (*key == '@')
		return (at != NULL && g_ascii_strcasecmp(key, at) == 0 ? 2 : 0);
	return (g_ascii_strcasecmp(key, sender) == 0 ? 3 : 0);
}

/* cfg_account_of - the account whose credentials Postfix would use */
const struct htg_account *
cfg_account_of(const struct htg_cfg *cfg, const char *sender,
	       const struct htg_env *env)
{
	const struct htg_account *best = NULL;
	char	key[CFG_KEY_MAX];
	int	i, j, rank, best_rank = 0;

	if (sender == NULL || *sender == '\0')
		return (NULL);
	for (i = 0; i < cfg->naccounts; i++) {
		const struct htg_account *a = &cfg->accounts[i];

		if (env != NULL && !(a->env_mask & (1u << env->index)))
			continue;
		for (j = 0; a->senders[j] != NULL; j++) {
			if (cfg_sender_key(a->senders[j], key, sizeof(key)) < 0)
				continue;
			rank = key_rank(key, sender);
			if (rank > best_rank) {
				best = a;
				best_rank = rank;
			}
		}
	}
	return (best);
}

/* cfg_account_find - that account, if it allows the login and the stream */
const struct htg_account *
cfg_account_find(const struct htg_cfg *cfg, const char *sender,
		 const char *sasl_user, const struct htg_stream *stream,
		 const struct htg_env *env)
{
	const struct htg_account *a = cfg_account_of(cfg, sender, env);

	if (a == NULL)
		return (NULL);
	if (a->sasl_users != NULL && sasl_user != cfg_sasl_unknown
	    && (sasl_user == NULL || !list_has(a->sasl_users, sasl_user, 0)))
		return (NULL);
	if (stream != NULL && !list_has(a->streams, stream->name, 1))
		return (NULL);
	return (a);
}

/* cfg_size_limit - ENV-SIZE for an account (NULL: none known); 0 none */
size_t
cfg_size_limit(const struct htg_cfg *cfg, const struct htg_account *a)
{
	return (a != NULL && a->size_limit ? a->size_limit : cfg->size_limit);
}

/* cfg_check_secrets - every password_file exists and is closed; 0 or -1 */
int
cfg_check_secrets(const struct htg_cfg *cfg, char *err, size_t errlen)
{
	char	why[512];
	int	i;

	for (i = 0; i < cfg->naccounts; i++) {
		const struct htg_account *a = &cfg->accounts[i];

		if (*a->password_file == '\0'
		    || secret_mode_ok(a->password_file, why, sizeof(why)))
			continue;
		snprintf(err, errlen, "%s:%d: [account %s] password_file %s",
			 cfg->path, a->line, a->name, why);
		return (-1);
	}
	return (0);
}

/* cfg_rule_action - the configured action for a violation of rule */
enum htg_action
cfg_rule_action(const struct htg_cfg *cfg, enum htg_rule_id rule)
{
	if ((unsigned)rule >= RULE_COUNT)
		return (HTG_ACT_TEMPFAIL);
	return (cfg->rule_action[rule]);
}

/* cfg_stream_rule_action - the action for a rule on mail to a stream */
enum htg_action
cfg_stream_rule_action(const struct htg_cfg *cfg,
		       const struct htg_stream *stream, enum htg_rule_id rule)
{
	if (stream == NULL || !stream->has_rules || (unsigned)rule >= RULE_COUNT)
		return (cfg_rule_action(cfg, rule));
	return (stream->rule_action[rule]);
}

/* cfg_unwrap_text_limit - text allowed beside the file when unwrapping */
size_t
cfg_unwrap_text_limit(const struct htg_cfg *cfg,
		      const struct htg_stream *stream)
{
	return (stream != NULL && stream->unwrap_text_limit ?
		stream->unwrap_text_limit : cfg->unwrap_text_limit);
}

/* cfg_secret_read - first line of a secret file, refusing open modes */
int
cfg_secret_read(const char *path, char *buf, size_t buflen,
		char *err, size_t errlen)
{
	FILE   *fp;
	size_t	len;

	if (path == NULL || *path == '\0') {
		snprintf(err, errlen, "no password_file configured");
		return (-1);
	}
	if (!secret_mode_ok(path, err, errlen))
		return (-1);
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fgets(buf, (int)buflen, fp) == NULL)
		*buf = '\0';
	fclose(fp);
	len = strcspn(buf, "\r\n");
	buf[len] = '\0';
	if (len == 0) {
		snprintf(err, errlen, "%s: empty", path);
		return (-1);
	}
	return (0);
}

/* dump_key - one "key = value" line of cfg_dump */
static void
dump_key(FILE *fp, const struct cfg_key *k, const void *base,
	 const struct htg_cfg *cfg)
{
	const void *field = (const char *)base + k->offset;
	int	i;

	fprintf(fp, "%s =", k->name);
	switch (k->type) {
	case T_STR:
		fprintf(fp, " %s", *(char *const *)field ? *(char *const *)field : "");
		break;
	case T_BOOL:
		fprintf(fp, " %s", *(const int *)field ? "yes" : "no");
		break;
	case T_INT:
	case T_ENV:
		if (k->type == T_ENV)
			fprintf(fp, " %s", cfg->envs[*(const int *)field].name);
		else
			fprintf(fp, " %d", *(const int *)field);
		break;
	case T_SIZE:
		fprintf(fp, " %zu", *(const size_t *)field);
		break;
	case T_LANGS:
		for (i = 0; i < cfg->nlangs; i++)
			fprintf(fp, " %s", word_name(lang_words, cfg->langs[i]));
		break;
	case T_ACTION:
		fprintf(fp, " %s", action_name(*(const enum htg_action *)field));
		break;
	case T_LIST:
		for (i = 0; *(char **const *)field && (*(char **const *)field)[i]; i++)
			fprintf(fp, " %s", (*(char **const *)field)[i]);
		break;
	case T_ENVS:
		for (i = 0; i < cfg->nenvs; i++)
			if (*(const unsigned *)field & (1u << i))
				fprintf(fp, " %s", cfg->envs[i].name);
		break;
	case T_PROFILE:
		fprintf(fp, " %s", word_name(profile_words,
					     *(const enum htg_profile *)field));
		break;
	case T_RATE:
		fprintf(fp, " %s", word_name(rate_words,
					     *(const enum htg_rate_mode *)field));
		break;
	}
	fputc('\n', fp);
}

/* dump_section - a section header and all its keys */
static void
dump_section(FILE *fp, const char *kind, const char *name,
	     const struct cfg_key *keys, const void *base,
	     const struct htg_cfg *cfg)
{
	fprintf(fp, "\n[%s%s%s]\n", kind, name ? " " : "", name ? name : "");
	for (; keys->name != NULL; keys++)
		dump_key(fp, keys, base, cfg);
}

/* cfg_dump - the effective configuration, secrets excluded */
void
cfg_dump(const struct htg_cfg *cfg, FILE *fp)
{
	int	i;

	fprintf(fp, "# effective configuration of %s\n", cfg->path);
	dump_section(fp, "global", NULL, global_keys, cfg, cfg);
	for (i = 0; i < cfg->nenvs; i++)
		dump_section(fp, "environment", cfg->envs[i].name,
			     environment_keys, &cfg->envs[i], cfg);
	for (i = 0; i < cfg->nstreams; i++)
		dump_section(fp, "stream", cfg->streams[i].name, stream_keys,
			     &cfg->streams[i], cfg);
	for (i = 0; i < cfg->naccounts; i++)
		dump_section(fp, "account", cfg->accounts[i].name, account_keys,
			     &cfg->accounts[i], cfg);
	for (i = 0; i < cfg->nroutes; i++)
		dump_section(fp, "route", cfg->routes[i].name, route_keys,
			     &cfg->routes[i], cfg);
	dump_section(fp, "record", NULL, record_keys, cfg, cfg);
	fprintf(fp, "\n[rules]\n");
	for (i = 0; i < RULE_COUNT; i++)
		fprintf(fp, "%s = %s\n", rule_get(i)->name,
			action_name(cfg->rule_action[i]));
}

/*
 * cfg_keys_print - every key the parser knows, one a line:
 * "section key<TAB>default<TAB>doc" ("-": no default), for the doc check
 */
void
cfg_keys_print(FILE *fp)
{
	static const struct {
		const char *section;
		const struct cfg_key *keys;
	} tables[] = {
		{"global", global_keys}, {"environment", environment_keys},
		{"stream", stream_keys}, {"account", account_keys},
		{"route", route_keys}, {"record", record_keys},
	};
	size_t	i;
	const struct cfg_key *k;

	for (i = 0; i < G_N_ELEMENTS(tables); i++)
		for (k = tables[i].keys; k->name != NULL; k++)
			fprintf(fp, "%s %s\t%s\t%s\n", tables[i].section,
				k->name, k->dflt ? k->dflt : "-", k->doc);
}
