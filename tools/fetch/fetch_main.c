/*
 * NAME
 *	htgate-fetch - bring HTG's answers from the POP3 mailbox to the local MTA
 * SYNOPSIS
 *	htgate-fetch [-dnsv] [-a account] [-c config] [-i seconds]
 *		[-S state_dir] [-t seconds] [-w seconds]
 * DESCRIPTION
 *	For every [account] with fetch = yes (or only -a ACCOUNT): lock the
 *	account, connect to its environment's pop3_host:pop3_port, STLS,
 *	verified TLS 1.3, log in, and for each message in UIDL order:
 *	a UIDL recorded in the state file is deleted without a second
 *	delivery; a too large or unparseable message stays and is reported;
 *	any other message is retrieved, handed to the local MTA, recorded
 *	in the state file and only then marked DELE.  QUIT commits.
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
 *	Exit status: 0 all accounts done; 1 an account failed or a message
 *	was kept for an administrator; 2 usage or configuration error;
 *	75 temporary failure only (network, local MTA, lock busy).
 * OWNERSHIP
 *	main() owns the configuration snapshot; everything per account is
 *	released before the next account.
 * THREAD SAFETY
 *	Single-threaded; signal handlers only set flags.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cfg.h"
#include "fetch.h"
#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#define EXIT_FAIL	1
#define EXIT_USAGE	2
#define EXIT_TEMP	75
#define FETCH_MIN_INTERVAL 60

struct fetch_opts {
	const char *config;
	const char *account;		/* -a, or NULL for all */
	const char *state_dir;		/* -S, or NULL for cfg->state_dir */
	int	daemon;
	int	interval;		/* -i, 0 = from the configuration */
	int	timeout;		/* -t, network I/O */
	int	wait;			/* -w, lock wait */
	int	verbose;
};

/* Per-account counters for the progress line. */
struct fetch_count {
	unsigned listed, delivered, deleted, kept, deferred;
};

static volatile sig_atomic_t fetch_stop;
static volatile sig_atomic_t fetch_reload;

/* fetch_signal - daemon mode: stop or reload between accounts */
static void
fetch_signal(int sig)
{
	if (sig == SIGHUP)
		fetch_reload = 1;
	else
		fetch_stop = 1;
}

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

/* fetch_one - handle one listed message; returns the session status */
static int
fetch_one(const struct htg_cfg *cfg, const struct htg_account *a,
	  const struct fetch_opts *o, struct pop3 *p, struct fetch_state *st,
	  const struct pop3_msg *m, GByteArray *buf, GPtrArray *deleted,
	  struct fetch_count *cnt, int *result)
{
	static const char *const bad_reason[] = {
		"", "too large (fetch_max_size)",
		"unparseable: line too long", "unparseable: NUL byte",
	};
	struct deliver_info info;
	char	err[FETCH_ERRLEN], err2[FETCH_ERRLEN];
	int	rc, bad;

	memset(&info, 0, sizeof(info));
	if (m->uidl[0] == '\0') {
		fetch_log_msg(a, m, NULL, "kept", "no valid UIDL");
		cnt->kept++;
		*result = fetch_worse(*result, FETCH_FAIL);
		return (FETCH_OK);
	}
	if (state_has(st, m->uidl)) {
		if ((rc = pop3_dele(p, m->num, err, sizeof(err))) != FETCH_OK)
			return (rc);
		g_ptr_array_add(deleted, g_strdup(m->uidl));
		fetch_log_msg(a, m, NULL, "deleted-already-delivered", NULL);
		cnt->deleted++;
		return (FETCH_OK);
	}
	if (m->size != (size_t)-1 && m->size > cfg->fetch_max_size) {
		fetch_log_msg(a, m, NULL, "kept", bad_reason[1]);
		cnt->kept++;
		*result = fetch_worse(*result, FETCH_FAIL);
		return (FETCH_OK);
	}
	if ((rc = pop3_retr(p, m->num, cfg->fetch_max_size, buf, &bad, err,
			    sizeof(err))) != FETCH_OK) {
		log_err("account=%s uidl=%s: %s", a->name, m->uidl, err);
		return (rc);
	}
	if (bad == 0 && deliver_inspect(cfg, a, buf, &info, err, sizeof(err))
	    != FETCH_OK) {
		fetch_log_msg(a, m, &info, "kept", err);
		cnt->kept++;
		*result = fetch_worse(*result, FETCH_FAIL);
		return (FETCH_OK);
	}
	if (bad != 0) {
		fetch_log_msg(a, m, NULL, "kept", bad_reason[bad]);
		cnt->kept++;
		*result = fetch_worse(*result, FETCH_FAIL);
		return (FETCH_OK);
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
	if (state_retain(st, msgs, err, sizeof(err)) != FETCH_OK)
		log_warn("account=%s: state: %s", a->name, err);
	for (i = 0; i < msgs->len && !fetch_stop; i++) {
		rc = fetch_one(cfg, a, o, &p, st,
			       &g_array_index(msgs, struct pop3_msg, i),
			       buf, deleted, cnt, &result);
		if (rc != FETCH_OK) {
			result = fetch_worse(result, rc);
			break;
		}
	}
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
	rc = state_open(o->state_dir ? o->state_dir : cfg->state_dir, a->name,
			o->wait, &st, err, sizeof(err));
	if (rc != FETCH_OK) {
		log_warn("account=%s: %s", a->name, err);
		if (isatty(STDOUT_FILENO))
			printf("%s: %s\n", a->name, err);
		return (rc);
	}
	rc = fetch_session(cfg, a, o, st, &cnt);
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

/* fetch_check_cfg - the -a account, and the password files (cfg.h) */
static int
fetch_check_cfg(const struct htg_cfg *cfg, const char *only, char *err,
		size_t errlen)
{
	int	i;

	if (cfg_check_secrets(cfg, err, errlen) < 0)
		return (-1);
	if (only == NULL)
		return (0);
	for (i = 0; i < cfg->naccounts; i++) {
		const struct htg_account *a = &cfg->accounts[i];

		if (strcmp(a->name, only) != 0)
			continue;
		if (!a->fetch) {
			snprintf(err, errlen, "%s: account %s has fetch = no",
				 cfg->path, only);
			return (-1);
		}
		return (0);
	}
	snprintf(err, errlen, "%s: no [account %s]", cfg->path, only);
	return (-1);
}

/* fetch_all - one pass over the accounts; the worst status */
static int
fetch_all(const struct htg_cfg *cfg, const struct fetch_opts *o,
	  int quiet_idle)
{
	int	i, rc = FETCH_OK, n = 0;

	for (i = 0; i < cfg->naccounts && !fetch_stop; i++) {
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

/* fetch_load - load and check the configuration */
static struct htg_cfg *
fetch_load(const struct fetch_opts *o)
{
	struct htg_cfg *cfg;
	char	err[FETCH_ERRLEN];

	if ((cfg = cfg_load(o->config, err, sizeof(err))) == NULL) {
		log_err("%s", err);
		return (NULL);
	}
	if (fetch_check_cfg(cfg, o->account, err, sizeof(err)) < 0) {
		log_err("%s", err);
		cfg_unref(cfg);
		return (NULL);
	}
	return (cfg);
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

/* fetch_daemon - poll until SIGTERM/SIGINT; SIGHUP reloads */
static int
fetch_daemon(struct htg_cfg *cfg, const struct fetch_opts *o)
{
	struct htg_cfg *ncfg;
	int	left, interval = fetch_interval(cfg, o), quiet = 0;

	log_info("daemon mode: polling every %d seconds", interval);
	while (!fetch_stop) {
		/* "no account with fetch = yes": once per configuration */
		(void) fetch_all(cfg, o, quiet);
		quiet = 1;
		for (left = interval; left > 0 && !fetch_stop && !fetch_reload;
		     left--)
			sleep(1);
		if (fetch_reload) {
			fetch_reload = 0;
			if ((ncfg = fetch_load(o)) != NULL) {
				cfg_unref(cfg);
				cfg = ncfg;
				interval = fetch_interval(cfg, o);
				quiet = 0;
				log_info("configuration reloaded");
			} else {
				log_warn("reload failed; keeping the old "
					 "configuration");
			}
		}
	}
	cfg_unref(cfg);
	log_info("stopped");
	return (0);
}

/* fetch_number - a bounded non-negative option value, or -1 */
static int
fetch_number(const char *s, int max)
{
	char   *end;
	long	v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > max)
		return (-1);
	return ((int)v);
}

/* usage - print the synopsis and exit 2 */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: htgate-fetch [-dnsv] [-a account] "
		"[-c config] [-i seconds] [-S state_dir] [-t seconds] "
		"[-w seconds]\n");
	exit(EXIT_USAGE);
}

/* main - options, configuration, one pass or the daemon loop */
int
main(int argc, char **argv)
{
	struct fetch_opts o;
	struct htg_cfg *cfg;
	struct sigaction sa;
	int	ch, rc, check_only = 0, use_syslog = 0;

	memset(&o, 0, sizeof(o));
	o.config = SYSCONFDIR "/htgate/htgate.conf";
	o.timeout = 60;
	while ((ch = getopt(argc, argv, "a:c:di:nS:st:vw:")) != -1) {
		switch (ch) {
		case 'a': o.account = optarg; break;
		case 'c': o.config = optarg; break;
		case 'd': o.daemon = 1; break;
		case 'n': check_only = 1; break;
		case 's': use_syslog = 1; break;
		case 'S':
			if (optarg[0] != '/')
				usage();
			o.state_dir = optarg;
			break;
		case 'v': o.verbose = 1; break;
		case 'i':
			if ((o.interval = fetch_number(optarg, 86400)) < 1)
				usage();
			break;
		case 't':
			if ((o.timeout = fetch_number(optarg, 3600)) < 1)
				usage();
			break;
		case 'w':
			if ((o.wait = fetch_number(optarg, 86400)) < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("htgate-fetch", !use_syslog, o.verbose);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if ((cfg = fetch_load(&o)) == NULL)
		return (EXIT_USAGE);
	if (check_only) {
		printf("configuration OK\n");
		cfg_unref(cfg);
		return (0);
	}
	if (o.daemon) {
		sa.sa_handler = fetch_signal;
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		return (fetch_daemon(cfg, &o));
	}
	rc = fetch_all(cfg, &o, 0);
	cfg_unref(cfg);
	return (rc == FETCH_OK ? 0 : rc == FETCH_TEMP ? EXIT_TEMP : EXIT_FAIL);
}
