/*
 * NAME
 *	htgate-fetch - bring HTG's answers from the POP3 mailbox to the local MTA
 * SYNOPSIS
 *	htgate-fetch [-dfhlnsv] [-a account] [-c config] [-i seconds]
 *		[-P pidfile] [-S state_dir] [-t seconds] [-u user]
 *		[-w seconds]
 * DESCRIPTION
 *	For every [account] with fetch = yes (or only -a ACCOUNT): lock the
 *	account, connect to its environment's pop3_host:pop3_port, STLS,
 *	verified TLS 1.3, log in, and for each message in UIDL order:
 *	a UIDL recorded in the state file is deleted without a second
 *	delivery; a too large or unparseable message stays and is reported;
 *	any other message is retrieved, handed to the local MTA, recorded
 *	in the state file and only then marked DELE.  QUIT commits.
 *
 *	A server without UIDL (RFC 1939 makes it optional): every message
 *	is retrieved, handed over and marked DELE in one session as well,
 *	and its key in the state file is made of its Message-ID and size
 *	(or the whole message when it has none, fetch_key), so a message
 *	that was handed over in a session cut before QUIT is deleted, not
 *	delivered again, in the next one.
 *
 *	One log line per message (account, uidl, size, message_id,
 *	queue_id, recipient, outcome) and, when standard output is a
 *	terminal, one progress line per account.  -d repeats every
 *	fetch_interval seconds (at least 60; -i overrides, for tests); an
 *	idle daemon (no account with fetch = yes, as after installing) says
 *	so once per configuration, not at every poll.
 *	-S puts the locks and state files into a directory of their own
 *	instead of htgate.conf's state_dir, so that htgate-fetch can run as
 *	a user of its own (the packaged unit: /var/lib/htgate-fetch).
 *
 *	The process (lib/daemon.c): -c, -f, -h, -l, -n, -P, -u, -v as in
 *	the daemons.  htgate-fetch never detaches (-d polls in the
 *	foreground; -f is accepted and changes nothing) and logs to
 *	standard error unless -s (syslog).  In daemon mode SIGHUP reloads
 *	the configuration between two polls and SIGTERM/SIGINT stop it
 *	after the message at hand.
 * ERRORS
 *	Exit status: 0 all accounts done; 1 an account failed, a message
 *	was kept for an administrator, or a configuration error
 *	("FILE:LINE: reason", also a password file open to others); 2
 *	usage error (also -a naming no account with fetch = yes); 75
 *	temporary failure only (network, local MTA, lock busy).
 * OWNERSHIP
 *	main() owns the configuration snapshot; everything per account is
 *	released before the next account.
 * THREAD SAFETY
 *	Single-threaded; the signal handler (lib/daemon.c) only sets flags
 *	and writes to its pipe.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cfg.h"
#include "daemon.h"
#include "fetch.h"
#include "log.h"

#define EXIT_FAIL	1
#define EXIT_TEMP	75
#define FETCH_MIN_INTERVAL 60
#define FETCH_USAGE	"htgate-fetch [-dfhlnsv] [-a account] [-c config] " \
			"[-i seconds] [-P pidfile] [-S state_dir] [-t seconds] " \
			"[-u user] [-w seconds]"

struct fetch_opts {
	const char *account;		/* -a, or NULL for all */
	const char *state_dir;		/* -S, or NULL for cfg->state_dir */
	int	daemon;
	int	interval;		/* -i, 0 = from the configuration */
	int	timeout;		/* -t, network I/O */
	int	wait;			/* -w, lock wait */
};

/* Per-account counters for the progress line. */
struct fetch_count {
	unsigned listed, delivered, deleted, kept, deferred;
};

static struct daemon dmn;

/* fetch_worse - combine two statuses, keeping the worse */
static int
fetch_worse(int a, int b)
{
	return (a > b ? a : b);
}

/* fetch_log_msg - the one log line per message */
static void
fetch_log_msg(const struct htg_account *a, const struct pop3_msg *m,
	      const struct deliver_info *info, const char *outcome,
	      const char *reason)
{
	const char *msgid = info && info->msgid[0] ? info->msgid : "-";
	const char *qid = info && info->queue_id[0] ? info->queue_id : "-";
	const char *rcpt = info && info->recipient[0] ? info->recipient : "-";
	char	size[32];

	if (m->size == (size_t)-1)
		g_strlcpy(size, "-", sizeof(size));
	else
		snprintf(size, sizeof(size), "%zu", m->size);
	(reason ? log_warn : log_info)("account=%s uidl=%s size=%s "
		"message_id=%s queue_id=%s recipient=%s outcome=%s%s%s%s",
		a->name, m->uidl[0] ? m->uidl : "-", size, msgid, qid, rcpt,
		outcome, reason ? " reason=\"" : "", reason ? reason : "",
		reason ? "\"" : "");
}

/*
 * fetch_claimed - state_claim() of m->uidl; *go is set when the message
 * is this run's to hand over, else it was dealt with here: deleted as
 * handed over earlier (DELE), or left to another htgate-fetch
 */
static int
fetch_claimed(const struct htg_account *a, struct pop3 *p,
	      struct fetch_state *st, const struct pop3_msg *m,
	      GPtrArray *deleted, struct fetch_count *cnt, int *go)
{
	char	err[FETCH_ERRLEN];
	int	rc;

	*go = 0;
	switch (state_claim(st, m->uidl, err, sizeof(err))) {
	case STATE_ERROR:
		log_err("account=%s uidl=%s: state: %s", a->name, m->uidl, err);
		return (FETCH_TEMP);
	case STATE_BUSY:
		fetch_log_msg(a, m, NULL, "left", "another htgate-fetch is "
			      "handing it over");
		return (FETCH_OK);
	case STATE_DONE:
		if ((rc = pop3_dele(p, m->num, err, sizeof(err))) != FETCH_OK)
			return (rc);
		g_ptr_array_add(deleted, g_strdup(m->uidl));
		fetch_log_msg(a, m, NULL, "deleted-already-delivered", NULL);
		cnt->deleted++;
		return (FETCH_OK);
	default:
		*go = 1;
		return (FETCH_OK);
	}
}

/*
 * fetch_key - a server without UIDL: the key of a retrieved message in
 * place of its UIDL, "mid-" and the SHA-256 of its Message-ID and size,
 * or "sha-" and the SHA-256 of the message when it has no Message-ID
 */
static void
fetch_key(struct pop3_msg *m, const GByteArray *msg,
	  const struct deliver_info *info)
{
	GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA256);
	char	size[32];
	int	by_id = strcmp(info->msgid, "-") != 0;

	if (by_id) {
		snprintf(size, sizeof(size), "\n%zu", m->size != (size_t)-1 ?
			 m->size : (size_t)msg->len);
		g_checksum_update(ck, (const guchar *)info->msgid, -1);
		g_checksum_update(ck, (const guchar *)size, -1);
	} else {
		g_checksum_update(ck, msg->data, msg->len);
	}
	snprintf(m->uidl, sizeof(m->uidl), "%s%s", by_id ? "mid-" : "sha-",
		 g_checksum_get_string(ck));
	g_checksum_free(ck);
}

/* fetch_kept - a message stays on the server for an administrator */
static int
fetch_kept(const struct htg_account *a, const struct pop3_msg *m,
	   const struct deliver_info *info, const char *why,
	   struct fetch_count *cnt, int *result)
{
	fetch_log_msg(a, m, info, "kept", why);
	cnt->kept++;
	*result = fetch_worse(*result, FETCH_FAIL);
	return (FETCH_OK);
}

/*
 * fetch_one - handle one listed message; returns the session status.
 * With UIDL the state is asked before RETR; without (p->no_uidl) the
 * message is retrieved first and asked by its key (fetch_key), so a
 * message handed over in a session whose QUIT never came is deleted,
 * not delivered again.
 */
static int
fetch_one(const struct htg_cfg *cfg, const struct htg_account *a,
	  const struct fetch_opts *o, struct pop3 *p, struct fetch_state *st,
	  struct pop3_msg *m, GByteArray *buf, GPtrArray *deleted,
	  struct fetch_count *cnt, int *result)
{
	static const char *const bad_reason[] = {
		"", "too large (fetch_max_size)",
		"unparseable: line too long", "unparseable: NUL byte",
	};
	struct deliver_info info;
	char	err[FETCH_ERRLEN], err2[FETCH_ERRLEN];
	int	rc, bad, go;

	memset(&info, 0, sizeof(info));
	if (!p->no_uidl) {
		if (m->uidl[0] == '\0')
			return (fetch_kept(a, m, NULL, "no valid UIDL", cnt,
					   result));
		/* claimed (relay pairs: see state.c); released after */
		rc = fetch_claimed(a, p, st, m, deleted, cnt, &go);
		if (rc != FETCH_OK || !go)
			return (rc);
	}
	if (m->size != (size_t)-1 && m->size > cfg->fetch_max_size)
		return (fetch_kept(a, m, NULL, bad_reason[1], cnt, result));
	if ((rc = pop3_retr(p, m->num, cfg->fetch_max_size, buf, &bad, err,
			    sizeof(err))) != FETCH_OK) {
		log_err("account=%s uidl=%s: %s", a->name,
			m->uidl[0] ? m->uidl : "-", err);
		return (rc);
	}
	if (bad != 0)
		return (fetch_kept(a, m, NULL, bad_reason[bad], cnt, result));
	if (deliver_inspect(cfg, a, buf, &info, err, sizeof(err)) != FETCH_OK)
		return (fetch_kept(a, m, &info, err, cnt, result));
	if (p->no_uidl) {
		fetch_key(m, buf, &info);
		rc = fetch_claimed(a, p, st, m, deleted, cnt, &go);
		if (rc != FETCH_OK || !go)
			return (rc);
	}
	rc = deliver_message(cfg, a, m->uidl, buf, o->timeout, &info, err,
			     sizeof(err));
	if (rc != FETCH_OK) {
		fetch_log_msg(a, m, &info, rc == FETCH_TEMP ? "deferred" :
			      "kept", err);
		*result = fetch_worse(*result, rc);
		if (rc == FETCH_TEMP) {
			cnt->deferred++;
			return (FETCH_TEMP);	/* MTA trouble: stop here */
		}
		cnt->kept++;
		return (FETCH_OK);
	}
	/* Handed over: record durably, then DELE (QUIT commits). */
	if (state_add(st, m->uidl, err, sizeof(err)) != FETCH_OK) {
		log_err("account=%s uidl=%s: state: %s", a->name, m->uidl, err);
		*result = fetch_worse(*result, FETCH_FAIL);
	}
	rc = pop3_dele(p, m->num, err2, sizeof(err2));
	fetch_log_msg(a, m, &info, "delivered", NULL);
	cnt->delivered++;
	if (rc != FETCH_OK) {
		log_err("account=%s uidl=%s: %s", a->name, m->uidl, err2);
		return (rc);
	}
	g_ptr_array_add(deleted, g_strdup(m->uidl));
	return (FETCH_OK);
}

/* fetch_session - one POP3 session for a locked account */
static int
fetch_session(const struct htg_cfg *cfg, const struct htg_account *a,
	      const struct fetch_opts *o, struct fetch_state *st,
	      struct fetch_count *cnt)
{
	const struct htg_env *env = &cfg->envs[a->fetch_env];
	GArray *msgs = g_array_new(FALSE, TRUE, sizeof(struct pop3_msg));
	GPtrArray *deleted = g_ptr_array_new_with_free_func(g_free);
	GByteArray *buf = g_byte_array_new();
	struct pop3 p;
	char	pass[1024], err[FETCH_ERRLEN];
	int	rc, result = FETCH_OK;
	guint	i;

	if (cfg_secret_read(a->password_file, pass, sizeof(pass), err,
			    sizeof(err)) != 0) {
		log_err("account=%s: password_file: %s", a->name, err);
		result = FETCH_FAIL;
		goto out;
	}
	rc = pop3_open(&p, env->pop3_host, env->pop3_port, env->ca_file,
		       o->timeout, err, sizeof(err));
	if (rc == FETCH_OK)
		rc = pop3_login(&p, a->mailbox, pass, err, sizeof(err));
	OPENSSL_cleanse(pass, sizeof(pass));
	if (rc == FETCH_OK)
		rc = pop3_list(&p, msgs, err, sizeof(err));
	if (rc != FETCH_OK) {
		log_err("account=%s mailbox=%s host=%s port=%d: %s", a->name,
			a->mailbox, env->pop3_host, env->pop3_port, err);
		result = rc;
		goto close;
	}
	cnt->listed = msgs->len;
	if (p.no_uidl)
		log_info("account=%s: the server offers no UIDL; messages are "
			 "told apart by Message-ID and size", a->name);
	else if (state_retain(st, msgs, err, sizeof(err)) != FETCH_OK)
		log_warn("account=%s: state: %s", a->name, err);
	for (i = 0; i < msgs->len && !daemon_stopping(); i++) {
		rc = fetch_one(cfg, a, o, &p, st,
			       &g_array_index(msgs, struct pop3_msg, i),
			       buf, deleted, cnt, &result);
		state_release(st);	/* a claim not handed over */
		if (rc != FETCH_OK) {
			result = fetch_worse(result, rc);
			break;
		}
	}
	/* Without UIDL the keys are known once every message was read. */
	if (p.no_uidl && i == msgs->len
	    && state_retain(st, msgs, err, sizeof(err)) != FETCH_OK)
		log_warn("account=%s: state: %s", a->name, err);
	/* QUIT commits the DELEs; without it the state file covers them. */
	if ((rc = pop3_quit(&p, err, sizeof(err))) == FETCH_OK) {
		if (state_forget(st, deleted, err, sizeof(err)) != FETCH_OK)
			log_warn("account=%s: state: %s", a->name, err);
	} else if (deleted->len > 0) {
		log_err("account=%s: deletions not confirmed, will be "
			"completed next run: %s", a->name, err);
		result = fetch_worse(result, rc);
	}
close:
	pop3_close(&p);
out:
	g_array_free(msgs, TRUE);
	g_ptr_array_free(deleted, TRUE);
	g_byte_array_free(buf, TRUE);
	return (result);
}

/* fetch_account - lock, fetch, report one account */
static int
fetch_account(const struct htg_cfg *cfg, const struct htg_account *a,
	      const struct fetch_opts *o)
{
	struct fetch_count cnt;
	struct fetch_state *st;
	char	err[FETCH_ERRLEN];
	int	rc;

	memset(&cnt, 0, sizeof(cnt));
	rc = state_open(cfg, o->state_dir ? o->state_dir : cfg->state_dir,
			a->name, o->wait, &st, err, sizeof(err));
	if (rc != FETCH_OK) {
		log_warn("account=%s: %s", a->name, err);
		if (isatty(STDOUT_FILENO))
			printf("%s: %s\n", a->name, err);
		return (rc);
	}
	rc = fetch_session(cfg, a, o, st, &cnt);
	state_run(st, rc);
	state_close(st);
	if (isatty(STDOUT_FILENO)) {
		printf("%s (%s): %u listed, %u delivered, %u deleted "
		       "(delivered earlier), %u kept, %u deferred: %s\n",
		       a->name, a->mailbox, cnt.listed, cnt.delivered,
		       cnt.deleted, cnt.kept, cnt.deferred,
		       rc == FETCH_OK ? "ok" : rc == FETCH_TEMP ?
		       "temporary failure" : "FAILED");
		fflush(stdout);
	}
	return (rc);
}

/*
 * fetch_check_cfg - daemon_check_fn: the password files (a configuration
 * error) and the -a account (a usage error)
 */
static int
fetch_check_cfg(const struct htg_cfg *cfg, const void *arg, char *err,
		size_t errlen)
{
	const char *only = arg;
	int	i;

	if (cfg_check_secrets(cfg, err, errlen) < 0)
		return (DAEMON_EXIT_CONFIG);
	for (i = 0; only != NULL && i < cfg->naccounts; i++) {
		const struct htg_account *a = &cfg->accounts[i];

		if (strcmp(a->name, only) != 0)
			continue;
		if (a->fetch)
			return (0);
		snprintf(err, errlen, "%s: -a %s: account %s has fetch = no",
			 cfg->path, only, only);
		return (DAEMON_EXIT_USAGE);
	}
	if (only == NULL)
		return (0);
	snprintf(err, errlen, "%s: -a %s: no [account %s]", cfg->path, only,
		 only);
	return (DAEMON_EXIT_USAGE);
}

/* fetch_all - one pass over the accounts; the worst status */
static int
fetch_all(const struct htg_cfg *cfg, const struct fetch_opts *o,
	  int quiet_idle)
{
	int	i, rc = FETCH_OK, n = 0;

	for (i = 0; i < cfg->naccounts && !daemon_stopping(); i++) {
		const struct htg_account *a = &cfg->accounts[i];

		if (!a->fetch || (o->account && strcmp(a->name, o->account)))
			continue;
		n++;
		rc = fetch_worse(rc, fetch_account(cfg, a, o));
	}
	if (n == 0 && !quiet_idle)
		log_info("no account with fetch = yes in %s", cfg->path);
	return (rc);
}

/* fetch_interval - seconds between polls in daemon mode */
static int
fetch_interval(const struct htg_cfg *cfg, const struct fetch_opts *o)
{
	if (o->interval > 0)
		return (o->interval);
	if (cfg->fetch_interval < FETCH_MIN_INTERVAL) {
		log_warn("fetch_interval %d raised to %d seconds (the HTG "
			 "POP3 interface is low-frequency)",
			 cfg->fetch_interval, FETCH_MIN_INTERVAL);
		return (FETCH_MIN_INTERVAL);
	}
	return (cfg->fetch_interval);
}

static struct htg_cfg *fetch_cfg;	/* the snapshot in force (main, reloads) */

/* fetch_apply - daemon_reload's apply: the new snapshot for the next poll */
static void
fetch_apply(struct htg_cfg *cfg)
{
	cfg_unref(fetch_cfg);
	fetch_cfg = cfg;
}

/* fetch_daemon - poll until SIGTERM/SIGINT; SIGHUP reloads fetch_cfg */
static int
fetch_daemon(const struct fetch_opts *o)
{
	enum daemon_event ev;
	int	interval, quiet = 0;

	daemon_signals();
	interval = fetch_interval(fetch_cfg, o);
	log_info("daemon mode: polling every %d seconds", interval);
	while (!daemon_stopping()) {
		/* "no account with fetch = yes": once per configuration */
		(void) fetch_all(fetch_cfg, o, quiet);
		quiet = 1;
		while ((ev = daemon_wait(interval * 1000)) == DAEMON_RELOAD) {
			if (daemon_reload(&dmn, fetch_check_cfg, o->account,
					  fetch_apply) == 0) {
				interval = fetch_interval(fetch_cfg, o);
				quiet = 0;
			}
		}
	}
	cfg_unref(fetch_cfg);
	return (0);
}

/* fetch_number - a bounded option value from min to max, or usage */
static int
fetch_number(const char *s, int min, int max)
{
	char   *end;
	long	v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
		daemon_usage(&dmn);
	return ((int)v);
}

/* main - options, configuration, one pass or the daemon loop */
int
main(int argc, char **argv)
{
	struct fetch_opts o;
	struct htg_cfg *cfg;
	int	ch, rc;

	memset(&o, 0, sizeof(o));
	o.timeout = 60;
	daemon_init(&dmn, "htgate-fetch", FETCH_USAGE,
		    DAEMON_NO_DETACH | DAEMON_STDERR_LOG);
	while ((ch = getopt(argc, argv, DAEMON_OPTS "a:di:S:st:w:")) != -1) {
		if (daemon_option(&dmn, ch, optarg))
			continue;
		switch (ch) {
		case 'a': o.account = optarg; break;
		case 'd': o.daemon = 1; break;
		case 's': dmn.to_syslog = 1; break;
		case 'S':
			if (optarg[0] != '/')
				daemon_usage(&dmn);
			o.state_dir = optarg;
			break;
		case 'i': o.interval = fetch_number(optarg, 1, 86400); break;
		case 't': o.timeout = fetch_number(optarg, 1, 3600); break;
		case 'w': o.wait = fetch_number(optarg, 0, 86400); break;
		default:
			daemon_usage(&dmn);
		}
	}
	if (optind != argc)
		daemon_usage(&dmn);
	cfg = daemon_configure(&dmn, fetch_check_cfg, o.account);
	fetch_cfg = cfg;		/* held there, also at a fatal exit */
	daemon_user(&dmn);
	daemon_become(&dmn);
	if (o.daemon)
		rc = fetch_daemon(&o);
	else {
		rc = fetch_all(cfg, &o, 0);
		cfg_unref(cfg);
		dmn.quiet = 1;
	}
	daemon_end(&dmn);
	return (rc == FETCH_OK ? 0 : rc == FETCH_TEMP ? EXIT_TEMP : EXIT_FAIL);
}
