/*
 * NAME
 *	cfg - htgate.conf: parsing, validation and the shared snapshot
 * SYNOPSIS
 *	#include "cfg.h"
 *
 *	struct htg_cfg *cfg_load(const char *path, char *err, size_t errlen);
 *	struct htg_cfg *cfg_ref(struct htg_cfg *cfg);
 *	void	cfg_unref(struct htg_cfg *cfg);
 *
 *	void	cfg_current_set(struct htg_cfg *cfg);
 *	struct htg_cfg *cfg_current_get(void);
 *
 *	const struct htg_env *cfg_env_by_domain(const struct htg_cfg *cfg,
 *		const char *domain, int *is_envelope_form);
 *	const struct htg_env *cfg_env_by_name(const struct htg_cfg *cfg,
 *		const char *name);
 *	const struct htg_stream *cfg_stream_find(const struct htg_cfg *cfg,
 *		const char *local_part, const struct htg_env *env);
 *	const struct htg_account *cfg_account_find(const struct htg_cfg *cfg,
 *		const char *sender, const char *sasl_user,
 *		const struct htg_stream *stream, const struct htg_env *env);
 *	const struct htg_account *cfg_account_of(const struct htg_cfg *cfg,
 *		const char *sender, const struct htg_env *env);
 *	int	cfg_check_secrets(const struct htg_cfg *cfg, char *err,
 *		size_t errlen);
 *	enum htg_action cfg_rule_action(const struct htg_cfg *cfg,
 *		enum htg_rule_id rule);
 *	enum htg_action cfg_stream_rule_action(const struct htg_cfg *cfg,
 *		const struct htg_stream *stream, enum htg_rule_id rule);
 *	size_t	cfg_unwrap_text_limit(const struct htg_cfg *cfg,
 *		const struct htg_stream *stream);
 * DESCRIPTION
 *	The configuration is an INI-style file (see htgate.conf(5)):
 *	[global], [environment NAME], [stream NAME], [account NAME],
 *	[route NAME], [rules] and [record] sections of "key = value"
 *	lines; keys are declared in one table per section (cfg.c) with
 *	type, default, range and a doc string.  cfg_load() parses and
 *	validates the whole file into a new immutable snapshot; on error
 *	it returns NULL and writes "file:line: reason" into err.
 *
 *	Daemons keep one current snapshot.  cfg_current_set() swaps it under
 *	a mutex (taking over the caller's reference); cfg_current_get()
 *	returns a new reference that the caller releases with cfg_unref().
 *	A connection pins the snapshot it started with, so SIGHUP never
 *	changes the rules under a message in flight.
 *
 *	Accounts are looked up the way Postfix picks SASL credentials for a
 *	sender (smtp_sender_dependent_authentication): in the environment's
 *	accounts, the one whose senders list the address itself, else its
 *	domain (@domain or *@domain), else "*" (the nexthop entry).
 *	cfg_account_of() is that choice; cfg_account_find() also requires
 *	the chosen account to allow the SASL login and the stream, and
 *	never falls back to a less specific account (Postfix would not).
 *	So sender patterns are exactly user@domain, @domain, *@domain or *,
 *	and two accounts of one environment with the same sender key but
 *	different streams are refused when the file is loaded.
 *
 *	Rule actions come from [rules] (cfg_rule_action()); a stream's
 *	"rules" key ("MIME-SINGLE:reject MIME-TYPE:fix") overrides them for
 *	mail to that stream (cfg_stream_rule_action(), the one the engine
 *	asks).  cfg_unwrap_text_limit() is the stream's unwrap_text_limit,
 *	else [global]'s.
 *
 *	cfg_load() does not read or check password files: htgate-report and
 *	htgate-check run without them.  cfg_check_secrets() refuses a
 *	password_file that is missing or open to group or others, with
 *	"file:line"; the programs that use secrets (htgate-config,
 *	htgate-fetch) call it at start, and cfg_secret_read() checks again.
 * ERRORS
 *	cfg_load() returns NULL with "file:line: reason" (or "file: reason")
 *	in err; cfg_check_secrets() and cfg_secret_read() return -1 with a
 *	reason that never holds the secret; the lookups return NULL when
 *	nothing matches.  Out of memory aborts (GLib).
 * OWNERSHIP
 *	cfg_load() returns a snapshot with one reference.  Pointers into a
 *	snapshot (environments, streams, accounts, strings) are borrowed
 *	and valid while the caller holds a reference.
 * THREAD SAFETY
 *	A snapshot is read-only after cfg_load() and may be shared by any
 *	number of threads; reference counting is atomic.
 */
#ifndef HTG_CFG_H
#define HTG_CFG_H

#include <stddef.h>
#include <stdio.h>
#include "rules.h"

#define CFG_MAX_ENVS	8
#define CFG_KEY_MAX	512		/* a sender key: user@domain or @domain */
#define CFG_MAX_LANGS	2
/* policy_default_action's default: htgate-policyd's answer to a bad request */
#define CFG_POLICY_DEFAULT_ACTION \
	"DEFER_IF_PERMIT 4.3.0 htgate-policyd: malformed policy request"

enum htg_profile {
	HTG_PROFILE_STANDARD = 0,	/* NOTIFY optional */
	HTG_PROFILE_SINGLE_WINDOW,	/* NOTIFY=SUCCESS,FAILURE enforced */
};

enum htg_lang {
	HTG_LANG_EN = 0,
	HTG_LANG_NL,
};

enum htg_rate_mode {
	HTG_RATE_OFF = 0,
	HTG_RATE_WARN,
	HTG_RATE_DEFER,
};

/* [environment NAME] */
struct htg_env {
	char   *name;			/* "production" */
	int	index;			/* position in cfg->envs */
	char   *envelope_domain;	/* msa-smtp.htpoort.nl */
	char   *header_domain;		/* htpoort.nl */
	char   *smtp_host;		/* submission host, for htgate-config */
	int	smtp_port;		/* 587 */
	char   *tls_name;		/* its certificate name; default smtp_host */
	char   *pop3_host;		/* POP3 host, for htgate-fetch */
	int	pop3_port;		/* 110 */
	char   *ca_file;		/* CA bundle to verify the HTG servers */
};

/* [stream NAME] */
struct htg_stream {
	char   *name;			/* local part as configured, e.g. "AGS" */
	enum htg_profile profile;
	unsigned env_mask;		/* bit i: enabled in cfg->envs[i] */
	char   *rules;			/* "RULE:action ..." overriding [rules] */
	size_t	unwrap_text_limit;	/* MIME-SINGLE fix; 0: [global]'s */
	int	has_rules;		/* rule_action below is in force */
	enum htg_action rule_action[RULE_COUNT];	/* [rules] + rules */
};

/* [account NAME] */
struct htg_account {
	char   *name;
	char   *mailbox;		/* HTG mailbox = SASL/POP3 user name */
	char  **senders;		/* patterns: a@b, *@b, @b, * */
	char  **sasl_users;		/* local SASL logins allowed; NULL = any */
	char  **streams;		/* stream names or "*" */
	unsigned env_mask;		/* environments this account may use */
	char   *password_file;		/* secret, mode 0600; never logged */
	char  **addresses;		/* From: addresses HTG knows; NULL: senders */
	size_t	size_limit;		/* ENV-SIZE for this account; 0: [global] */
	int	line;			/* of its [account] header, for errors */
	enum htg_rate_mode rate_mode;
	int	rate_limit;		/* messages per rate_window */
	int	rate_window;		/* seconds */
	int	fetch;			/* htgate-fetch polls this mailbox */
	int	fetch_env;		/* index into cfg->envs for POP3 */
	char   *fetch_recipient;	/* default local mailbox for answers */
};

/* [route NAME]: where htgate-fetch delivers an answer (first match wins) */
struct htg_route {
	char   *name;
	char   *account;		/* account name or "*" */
	char   *header;			/* header to match, e.g. "Subject" */
	char   *pattern;		/* glob (fnmatch, case-insensitive) */
	char   *recipient;		/* local recipient when it matches */
};

/* [record]: the decision record (recorder.h) */
struct htg_record_cfg {
	int	enabled;		/* write a record per decision */
	char   *database;		/* "" = state_dir/record.db */
	int	retention;		/* days kept by htgate-report purge */
	int	unique_window;		/* days for HDR-MSGID/ENV-ENVID; 0 off */
	enum htg_action duplicate_action; /* reject (default) */
};

struct htg_cfg {
	char   *path;
	int	refcount;		/* atomic */

	/* [global] */
	enum htg_lang langs[CFG_MAX_LANGS];
	int	nlangs;
	int	report_only;		/* every reject becomes a warning */
	size_t	size_limit;		/* ENV-SIZE for accounts without one; 0: none */
	size_t	max_header_bytes;	/* all headers together */
	size_t	max_header_count;
	size_t	max_header_line;	/* one (unfolded) header */
	size_t	max_line_length;	/* body line, LIMIT for 7bit/QP */
	int	log_verbose;
	enum htg_action on_internal_error; /* tempfail (default) */
	char   *policy_default_action;	/* htgate-policyd on bad request */
	char   *state_dir;		/* /var/lib/htgate: fetch state, locks */
	char   *fetch_deliver;		/* "smtp:127.0.0.1:25" or "sendmail" */
	char   *fetch_sender;		/* local envelope sender of fetched mail */
	int	fetch_interval;		/* seconds between polls in daemon mode */
	size_t	fetch_max_size;		/* larger answers stay on the server */
	size_t	unwrap_text_limit;	/* MIME-SINGLE fix: text beside the file */
	size_t	repair_memory;		/* a repaired body kept in memory up to */
	char   *repair_dir;		/* then in a file here ("": $TMPDIR, /tmp) */

	int	nenvs;
	struct htg_env envs[CFG_MAX_ENVS];
	int	nstreams;
	struct htg_stream *streams;
	int	naccounts;
	struct htg_account *accounts;
	int	nroutes;
	struct htg_route *routes;

	/* [record] */
	struct htg_record_cfg record;

	/* [rules] */
	enum htg_action rule_action[RULE_COUNT];

	void   *pool;			/* private: every allocation above */
};

struct htg_cfg *cfg_load(const char *path, char *err, size_t errlen);
struct htg_cfg *cfg_ref(struct htg_cfg *cfg);
void	cfg_unref(struct htg_cfg *cfg);

void	cfg_current_set(struct htg_cfg *cfg);
struct htg_cfg *cfg_current_get(void);

const struct htg_env *cfg_env_by_domain(const struct htg_cfg *cfg,
	const char *domain, int *is_envelope_form);
const struct htg_env *cfg_env_by_name(const struct htg_cfg *cfg,
	const char *name);
const struct htg_stream *cfg_stream_find(const struct htg_cfg *cfg,
	const char *local_part, const struct htg_env *env);
const struct htg_account *cfg_account_find(const struct htg_cfg *cfg,
	const char *sender, const char *sasl_user,
	const struct htg_stream *stream, const struct htg_env *env);
/* As cfg_account_find()'s sasl_user: the login is not known here (the
 * egress stage); an account's sasl_users list was the ingress's check. */
const struct htg_account *cfg_account_of(const struct htg_cfg *cfg,
	const char *sender, const struct htg_env *env);
size_t	cfg_size_limit(const struct htg_cfg *cfg, const struct htg_account *a);
int	cfg_check_secrets(const struct htg_cfg *cfg, char *err, size_t errlen);
extern const char cfg_sasl_unknown[];
enum htg_action cfg_rule_action(const struct htg_cfg *cfg,
	enum htg_rule_id rule);
/* cfg_stream_rule_action - the same for a stream: its "rules" first */
enum htg_action cfg_stream_rule_action(const struct htg_cfg *cfg,
	const struct htg_stream *stream, enum htg_rule_id rule);
/* cfg_unwrap_text_limit - MIME-SINGLE fix's text limit for a stream */
size_t	cfg_unwrap_text_limit(const struct htg_cfg *cfg,
	const struct htg_stream *stream);
int	cfg_sender_match(const char *pattern, const char *sender);
int	cfg_sender_key(const char *pattern, char *buf, size_t buflen);

/*
 * cfg_secret_read - read the first line of a secret file (a password)
 * into buf; refuses a file open to group or others.  0 or -1 with a
 * reason in err that never contains the secret.
 */
int	cfg_secret_read(const char *path, char *buf, size_t buflen,
	char *err, size_t errlen);

/*
 * cfg_keys_print - every key the parser knows, one a line:
 * "section key<TAB>default<TAB>doc" (htgate-check --list-config-keys)
 */
void	cfg_keys_print(FILE *fp);

/* cfg_dump - print the effective configuration (htgate-check --dump-config) */
void	cfg_dump(const struct htg_cfg *cfg, FILE *fp);

#endif
