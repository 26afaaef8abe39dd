/*
 * NAME
 *	htgate-config - generate the Postfix side of htgate from htgate.conf
 * SYNOPSIS
 *	htgate-config [-c FILE] postfix [-o DIR] [--map-dir DIR]
 *		[--milter-socket S] [--policy-socket S] [--rate-delay T]
 *		[--egress-port N]
 *	htgate-config [-c FILE] apply [--postfix-dir DIR] [--map-dir DIR]
 *		[--milter-socket S] [--policy-socket S] [--rate-delay T]
 *		[--egress-port N] [--dry-run]
 *	htgate-config unapply [--postfix-dir DIR] [--map-dir DIR] [--dry-run]
 *	htgate-config [-c FILE] check [--postfix-dir DIR | --no-postfix]
 *		[--map-dir DIR] [socket, delay and port options]
 *	htgate-config [-c FILE] dump
 * DESCRIPTION
 *	"postfix" turns htgate.conf into the Postfix configuration that
 *	routes and guards HTG mail (pfplan.h: ingress milter and policy
 *	service, the egress stage every HTG delivery passes, one HTG
 *	transport per environment).  With -o DIR it writes main.cf,
 *	master.cf, transport and one sasl_passwd.ENV per environment (mode
 *	0600, keyed by the accounts' sender patterns) into DIR; without -o
 *	it prints only main.cf and master.cf, never secrets.
 *	"apply" merges the same plan into the live main.cf and master.cf
 *	of a Postfix configuration directory (default /etc/postfix) with
 *	postconf(1) and writes the maps into the map dir (default
 *	DIR/htgate); "unapply" takes it out again (pfapply.h).  Options
 *	apply does not get on the command line come from the state of the
 *	previous apply, then from the defaults.
 *	"check" validates the file and the password files and prints a
 *	summary; with --postfix-dir, or when /etc/postfix/main.cf exists
 *	(unless --no-postfix), it also inspects that Postfix configuration
 *	for what bypasses or breaks htgate (pfcheck.h).  "dump" prints the
 *	effective configuration.
 * DIAGNOSTICS
 *	Exit 0 success, 1 configuration or I/O error, a refused apply or
 *	a check that found something that bypasses or breaks htgate, 2
 *	usage error.
 *	Passwords are never printed, logged or put into an error message.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "pfapply.h"
#include "pfcheck.h"
#include "pfconf.h"
#include "pfplan.h"

#define CONF_DEFAULT_FILE	SYSCONFDIR "/htgate/htgate.conf"
#define CONF_DEFAULT_MAPDIR	"/etc/postfix/htgate"
#define CONF_DEFAULT_PFDIR	"/etc/postfix"
/* Relative to Postfix's queue directory, chrooted or not: the daemons
 * listen in /var/spool/postfix/htgate (htgate-milter(8)). */
#define CONF_DEFAULT_MILTER	"unix:htgate/milter.sock"
#define CONF_DEFAULT_POLICY	"unix:htgate/policy.sock"
#define CONF_DEFAULT_DELAY	"60s"
#define CONF_DEFAULT_EGRESS	10040
#define CONF_SECRET_MAX		1024

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Options, and the commands that take them. */
enum {
	OPT_OUTPUT = 1 << 0, OPT_MAPDIR = 1 << 1, OPT_MILTER = 1 << 2,
	OPT_POLICY = 1 << 3, OPT_DELAY = 1 << 4, OPT_EGRESS = 1 << 5,
	OPT_PFDIR = 1 << 6, OPT_DRYRUN = 1 << 7, OPT_NOPF = 1 << 8,
};
#define OPT_PLAN	(OPT_MAPDIR | OPT_MILTER | OPT_POLICY | OPT_DELAY | OPT_EGRESS)

static const struct conf_cmd {
	const char *name;
	unsigned opts;			/* allowed */
	int	needs_cfg;		/* loads htgate.conf */
} conf_cmds[] = {
	{"apply", OPT_PLAN | OPT_PFDIR | OPT_DRYRUN, 1},
	{"check", OPT_PLAN | OPT_PFDIR | OPT_NOPF, 1},
	{"dump", 0, 1},
	{"postfix", OPT_PLAN | OPT_OUTPUT, 1},
	{"unapply", OPT_MAPDIR | OPT_PFDIR | OPT_DRYRUN, 0},
};

struct conf_opts {
	const char *conf;
	const struct conf_cmd *cmd;
	const char *outdir;		/* NULL: print to stdout */
	const char *pfdir;		/* apply, unapply, check */
	unsigned given;			/* OPT_* on the command line */
	struct pf_opts pf;		/* sockets, map dir, delay, ports */
};

/* usage - print the synopsis and exit 2 */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
		"usage: htgate-config [-c FILE] postfix [-o DIR] [--map-dir DIR]\n"
		"           [--milter-socket S] [--policy-socket S] [--rate-delay TIME]\n"
		"           [--egress-port N]\n"
		"       htgate-config [-c FILE] apply [--postfix-dir DIR] [--map-dir DIR]\n"
		"           [--milter-socket S] [--policy-socket S] [--rate-delay TIME]\n"
		"           [--egress-port N] [--dry-run]\n"
		"       htgate-config unapply [--postfix-dir DIR] [--map-dir DIR] [--dry-run]\n"
		"       htgate-config [-c FILE] check [--postfix-dir DIR | --no-postfix]\n"
		"           [--map-dir DIR] [--milter-socket S] [--policy-socket S]\n"
		"           [--rate-delay TIME] [--egress-port N]\n"
		"       htgate-config [-c FILE] dump\n");
	exit(EXIT_USAGE);
}

/* conf_write - write one file of DIR atomically with the given mode */
static int
conf_write(const char *dir, const char *name, const GString *s, mode_t mode)
{
	char   *path = g_build_filename(dir, name, NULL), err[1024];
	int	rc = pf_write_file(path, s->str, s->len, mode, err, sizeof(err));

	if (rc < 0)
		fprintf(stderr, "htgate-config: %s\n", err);
	g_free(path);
	return (rc);
}

/* conf_write_all - every generated file into the output directory */
static int
conf_write_all(const struct conf_opts *o, const struct pf_plan *p,
	       const struct htg_cfg *cfg)
{
	char	name[PF_TRANSPORT_MAX + 16];
	GString *main_cf = g_string_new(NULL), *master_cf = g_string_new(NULL);
	int	i, rc = -1;

	if (g_mkdir_with_parents(o->outdir, 0755) < 0) {
		fprintf(stderr, "htgate-config: %s: %s\n", o->outdir, strerror(errno));
		goto out;
	}
	for (i = 0; i < cfg->nenvs; i++) {
		snprintf(name, sizeof(name), "sasl_passwd.%s", cfg->envs[i].name);
		if (conf_write(o->outdir, name, p->sasl[i], 0600) < 0)
			goto out;
	}
	pf_render_main(p, main_cf);
	pf_render_master(p, master_cf);
	if (conf_write(o->outdir, "transport", p->transport, 0644) < 0
	    || conf_write(o->outdir, "master.cf", master_cf, 0644) < 0
	    || conf_write(o->outdir, "main.cf", main_cf, 0644) < 0)
		goto out;
	printf("htgate-config: wrote main.cf, master.cf, transport and "
	       "sasl_passwd.* (mode 0600) to %s\n", o->outdir);
	rc = 0;
out:
	g_string_free(main_cf, TRUE);
	g_string_free(master_cf, TRUE);
	return (rc);
}

/* cmd_postfix - generate the Postfix configuration */
static int
cmd_postfix(const struct conf_opts *o, const struct htg_cfg *cfg)
{
	struct pf_plan *p;
	GString *text;
	char	err[1024];
	int	rc = EXIT_OK;

	if ((p = pf_plan_new(cfg, &o->pf)) == NULL)
		return (EXIT_FAIL);
	if (o->outdir == NULL) {
		/* stdout: never the secrets */
		text = g_string_new(NULL);
		pf_render_main(p, text);
		g_string_append(text, "\n# ---- master.cf ----\n");
		pf_render_master(p, text);
		fputs(text->str, stdout);
		g_string_free(text, TRUE);
		fprintf(stderr, "htgate-config: the maps and SASL passwords are "
			"written only with -o DIR\n");
	} else if (pf_plan_secrets(p, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "htgate-config: %s\n", err);
		rc = EXIT_FAIL;
	} else if (conf_write_all(o, p, cfg) < 0)
		rc = EXIT_FAIL;
	pf_plan_free(p);
	return (rc);
}

/* cmd_check - validate, including password files, and print a summary */
static int
cmd_check(const struct htg_cfg *cfg)
{
	char	tr[PF_TRANSPORT_MAX], secret[CONF_SECRET_MAX], err[1024];
	int	i, j, bad = 0;

	printf("%s: syntax OK\n", cfg->path);
	for (i = 0; i < cfg->nenvs; i++) {
		const struct htg_env *e = &cfg->envs[i];

		pf_transport_name(e, tr, sizeof(tr));
		printf("environment %s: %s, %s -> %s:[%s]:%d (certificate %s)\n",
		       e->name, e->header_domain, e->envelope_domain, tr,
		       e->smtp_host, e->smtp_port, e->tls_name);
	}
	printf("streams: %d\n", cfg->nstreams);
	for (i = 0; i < cfg->naccounts; i++) {
		const struct htg_account *a = &cfg->accounts[i];
		const char *state = "not set";

		if (a->password_file && *a->password_file) {
			state = "ok";
			if (cfg_secret_read(a->password_file, secret, sizeof(secret),
					    err, sizeof(err)) < 0) {
				fprintf(stderr, "htgate-config: [account %s]: %s\n",
					a->name, err);
				state = "UNUSABLE";
				bad = 1;
			}
			explicit_bzero(secret, sizeof(secret));
		}
		printf("account %s: mailbox %s, senders", a->name,
		       a->mailbox && *a->mailbox ? a->mailbox : "(none)");
		for (j = 0; a->senders[j] != NULL; j++)
			printf(" %s", a->senders[j]);
		printf(", environments");
		for (j = 0; j < cfg->nenvs; j++)
			if (a->env_mask & (1u << j))
				printf(" %s", cfg->envs[j].name);
		if (cfg_size_limit(cfg, a))
			printf(", size limit %zu bytes%s", cfg_size_limit(cfg, a),
			       a->size_limit ? "" : " ([global])");
		else
			printf(", no size limit (none configured; HTG hands it "
			       "out with the account)");
		printf(", password_file %s\n", state);
	}
	return (bad ? EXIT_FAIL : EXIT_OK);
}

/* cmd_apply - merge the plan into the live Postfix configuration */
static int
cmd_apply(const struct conf_opts *o, const struct htg_cfg *cfg)
{
	struct pf_apply_opts ao = {.postfix_dir = o->pfdir,
		.mapdir = o->pf.mapdir, .dry_run = (o->given & OPT_DRYRUN) != 0};
	struct pf_plan *p;
	char	err[1024];
	int	rc;

	if ((p = pf_plan_new(cfg, &o->pf)) == NULL)
		return (EXIT_FAIL);
	/* a dry run reads the password files too: it shows what would fail */
	if (pf_plan_secrets(p, cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "htgate-config: %s\n", err);
		pf_plan_free(p);
		return (EXIT_FAIL);
	}
	rc = pf_apply(p, cfg, &o->pf, &ao) == 0 ? EXIT_OK : EXIT_FAIL;
	pf_plan_free(p);
	return (rc);
}

/* cmd_unapply - take htgate out of the live Postfix configuration */
static int
cmd_unapply(const struct conf_opts *o)
{
	struct pf_apply_opts ao = {.postfix_dir = o->pfdir,
		.mapdir = o->pf.mapdir, .dry_run = (o->given & OPT_DRYRUN) != 0};

	return (pf_unapply(&ao) == 0 ? EXIT_OK : EXIT_FAIL);
}

/* cmd_check_postfix - what in the live Postfix bypasses or breaks htgate */
static int
cmd_check_postfix(const struct conf_opts *o, const struct htg_cfg *cfg)
{
	struct pfc *c;
	struct pf_plan *p;
	struct pf_state *st = NULL;
	GPtrArray *f;
	char	err[1024], *qd, *sp;
	int	n;

	if ((c = pfc_open(o->pfdir, err, sizeof(err))) == NULL) {
		fprintf(stderr, "htgate-config: %s: %s\n", o->pfdir, err);
		return (EXIT_FAIL);
	}
	if ((p = pf_plan_new(cfg, &o->pf)) == NULL) {
		pfc_free(c);
		return (EXIT_FAIL);
	}
	qd = pfc_value(c, NULL, "queue_directory");
	sp = g_build_filename(o->pf.mapdir, PF_STATE_FILE, NULL);
	if (pf_state_load(o->pf.mapdir, &st, err, sizeof(err)) <= 0)
		printf("postfix %s: queue_directory %s; no record of htgate-config "
		       "apply in %s\n", o->pfdir, qd, sp);
	else if (strcmp(st->postfix_dir, o->pfdir) != 0)
		printf("postfix %s: queue_directory %s; %s records an apply to "
		       "another directory, %s\n", o->pfdir, qd, sp, st->postfix_dir);
	else
		printf("postfix %s: queue_directory %s; htgate-config apply "
		       "recorded its changes in %s\n", o->pfdir, qd, sp);
	pf_state_free(st);
	f = pf_findings_new();
	pf_check_live(c, p, cfg, &o->pf, f);
	pf_findings_print(f, stdout);
	if ((n = pf_findings_count(f, PF_PROBLEM)) > 0)
		printf("postfix %s: %d problem%s: %s bypass or break htgate\n",
		       o->pfdir, n, n == 1 ? "" : "s", n == 1 ? "it would" : "they "
		       "would");
	else
		printf("postfix %s: htgate is applied; nothing found that "
		       "bypasses it\n", o->pfdir);
	g_ptr_array_unref(f);
	g_free(sp);
	g_free(qd);
	pf_plan_free(p);
	pfc_free(c);
	return (n > 0 ? EXIT_FAIL : EXIT_OK);
}

/* parse_cmd_opts - options of the command; only those it takes */
static void
parse_cmd_opts(int argc, char **argv, struct conf_opts *o)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"map-dir", required_argument, NULL, 'm'},
		{"milter-socket", required_argument, NULL, 'M'},
		{"policy-socket", required_argument, NULL, 'P'},
		{"rate-delay", required_argument, NULL, 'd'},
		{"egress-port", required_argument, NULL, 'e'},
		{"postfix-dir", required_argument, NULL, 'D'},
		{"dry-run", no_argument, NULL, 'n'},
		{"no-postfix", no_argument, NULL, 'N'},
		{NULL, 0, NULL, 0},
	};
	char   *end;
	long	port;
	int	c;
	unsigned bit;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->outdir = optarg; bit = OPT_OUTPUT; break;
		case 'm': o->pf.mapdir = optarg; bit = OPT_MAPDIR; break;
		case 'M': o->pf.milter = optarg; bit = OPT_MILTER; break;
		case 'P': o->pf.policy = optarg; bit = OPT_POLICY; break;
		case 'd': o->pf.delay = optarg; bit = OPT_DELAY; break;
		case 'D': o->pfdir = optarg; bit = OPT_PFDIR; break;
		case 'n': bit = OPT_DRYRUN; break;
		case 'N': bit = OPT_NOPF; break;
		case 'e':
			port = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end != 0 || port < 1
			    || port + CFG_MAX_ENVS > 65535)
				usage();
			o->pf.egress_port = (int) port;
			bit = OPT_EGRESS;
			break;
		default: usage();
		}
		if (!(o->cmd->opts & bit))
			usage();
		o->given |= bit;
	}
	if (optind != argc
	    || ((o->given & OPT_PFDIR) && (o->given & OPT_NOPF)))
		usage();
}

/* from_state - options apply and check did not get: the last apply's */
static void
from_state(struct conf_opts *o, struct pf_state **keep)
{
	struct pf_state *st;
	char	err[1024];

	if (pf_state_load(o->pf.mapdir, &st, err, sizeof(err)) < 0) {
		fprintf(stderr, "htgate-config: warning: %s\n", err);
		return;
	}
	if (st == NULL)
		return;
	if (!(o->given & OPT_MILTER) && st->milter)
		o->pf.milter = st->milter;
	if (!(o->given & OPT_POLICY) && st->policy)
		o->pf.policy = st->policy;
	if (!(o->given & OPT_DELAY) && st->delay)
		o->pf.delay = st->delay;
	if (!(o->given & OPT_EGRESS) && st->egress_port > 0)
		o->pf.egress_port = st->egress_port;
	*keep = st;
}

/* socket_ok - a Postfix milter/policy endpoint: unix:path or inet:host:port */
static int
socket_ok(const char *s)
{
	return (pf_token_ok(s, NULL) && (g_str_has_prefix(s, "unix:")
				|| g_str_has_prefix(s, "inet:")));
}

/* delay_ok - a Postfix time value: digits and an optional unit */
static int
delay_ok(const char *s)
{
	size_t	n = strspn(s, "0123456789");

	return (n > 0 && (s[n] == '\0' || (strchr("smhdw", s[n]) && s[n + 1] == '\0')));
}

/* conf_cmd_find - the command NAME, or NULL */
static const struct conf_cmd *
conf_cmd_find(const char *name)
{
	size_t	i;

	for (i = 0; i < G_N_ELEMENTS(conf_cmds); i++)
		if (strcmp(conf_cmds[i].name, name) == 0)
			return (&conf_cmds[i]);
	return (NULL);
}

/* conf_dirs - the Postfix directory and the map dir, absolute */
static int
conf_dirs(struct conf_opts *o, char **pfdir, char **mapdir)
{
	if (o->cmd->opts & OPT_PFDIR) {
		*pfdir = g_canonicalize_filename(o->pfdir ? o->pfdir
						 : CONF_DEFAULT_PFDIR, NULL);
		o->pfdir = *pfdir;
		*mapdir = o->pf.mapdir ? g_canonicalize_filename(o->pf.mapdir, NULL)
			: g_build_filename(o->pfdir, "htgate", NULL);
		o->pf.mapdir = *mapdir;
	} else if (o->pf.mapdir == NULL)
		o->pf.mapdir = o->outdir ? (*mapdir = g_canonicalize_filename(o->outdir, NULL))
			: CONF_DEFAULT_MAPDIR;
	if (*o->pf.mapdir != '/' || !pf_token_ok(o->pf.mapdir, NULL)) {
		fprintf(stderr, "htgate-config: --map-dir must be an absolute path "
			"without blanks\n");
		return (-1);
	}
	return (0);
}

/* main - command dispatch */
int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct conf_opts o = {
		.conf = CONF_DEFAULT_FILE,
		.pf = {.milter = CONF_DEFAULT_MILTER, .policy = CONF_DEFAULT_POLICY,
		       .delay = CONF_DEFAULT_DELAY, .egress_port = CONF_DEFAULT_EGRESS},
	};
	struct pf_state *st = NULL;
	struct htg_cfg *cfg = NULL;
	char	err[1024], *pfdir = NULL, *mapdir = NULL, *main_cf;
	int	c, rc = EXIT_USAGE, live;

	while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.conf = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc || (o.cmd = conf_cmd_find(argv[optind])) == NULL)
		usage();
	parse_cmd_opts(argc - optind, argv + optind, &o);
	if (conf_dirs(&o, &pfdir, &mapdir) < 0)
		goto out;
	if (!o.cmd->needs_cfg) {
		rc = cmd_unapply(&o);
		goto out;
	}
	if (strcmp(o.cmd->name, "apply") == 0 || strcmp(o.cmd->name, "check") == 0)
		from_state(&o, &st);
	if (!socket_ok(o.pf.milter) || !socket_ok(o.pf.policy)) {
		fprintf(stderr, "htgate-config: a socket must be unix:/path or "
			"inet:host:port\n");
		goto out;
	}
	if (!delay_ok(o.pf.delay)) {
		fprintf(stderr, "htgate-config: bad --rate-delay: %s\n", o.pf.delay);
		goto out;
	}
	if ((cfg = cfg_load(o.conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "htgate-config: %s\n", err);
		rc = EXIT_FAIL;
		goto out;
	}
	if (strcmp(o.cmd->name, "postfix") == 0)
		rc = cmd_postfix(&o, cfg);
	else if (strcmp(o.cmd->name, "apply") == 0)
		rc = cmd_apply(&o, cfg);
	else if (strcmp(o.cmd->name, "check") == 0) {
		rc = cmd_check(cfg);
		main_cf = g_build_filename(o.pfdir, "main.cf", NULL);
		live = (o.given & OPT_PFDIR)
			|| (!(o.given & OPT_NOPF) && g_file_test(main_cf, G_FILE_TEST_EXISTS));
		g_free(main_cf);
		if (live && cmd_check_postfix(&o, cfg) != EXIT_OK)
			rc = EXIT_FAIL;
	} else {
		cfg_dump(cfg, stdout);
		rc = EXIT_OK;
	}
out:
	if (cfg != NULL)
		cfg_unref(cfg);
	pf_state_free(st);
	g_free(pfdir);
	g_free(mapdir);
	if (fflush(stdout) != 0)
		rc = EXIT_FAIL;
	return (rc);
}
