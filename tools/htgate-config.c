/*
 * NAME
 *	htgate-config - generate the Postfix side of htgate from htgate.conf
 * SYNOPSIS
 *	htgate-config [-c FILE] postfix [-o DIR] [--map-dir DIR]
 *		[--milter-socket S] [--policy-socket S] [--rate-delay T]
 *		[--egress-port N]
 *	htgate-config [-c FILE] check
 *	htgate-config [-c FILE] dump
 * DESCRIPTION
 *	"postfix" turns htgate.conf into the Postfix configuration that
 *	routes and guards HTG mail (pfplan.h: ingress milter and policy
 *	service, the egress stage every HTG delivery passes, one HTG
 *	transport per environment).  With -o DIR it writes main.cf,
 *	master.cf, transport and one sasl_passwd.ENV per environment (mode
 *	0600, keyed by the accounts' sender patterns) into DIR; without -o
 *	it prints only main.cf and master.cf, never secrets.
 *	"check" validates the file and the password files and prints a
 *	summary; "dump" prints the effective configuration.
 * DIAGNOSTICS
 *	Exit 0 success, 1 configuration or I/O error, 2 usage error.
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
#include "pfplan.h"

#define CONF_DEFAULT_FILE	SYSCONFDIR "/htgate/htgate.conf"
#define CONF_DEFAULT_MAPDIR	"/etc/postfix/htgate"
/* Relative to Postfix's queue directory, chrooted or not: the daemons
 * listen in /var/spool/postfix/htgate (htgate-milter(8)). */
#define CONF_DEFAULT_MILTER	"unix:htgate/milter.sock"
#define CONF_DEFAULT_POLICY	"unix:htgate/policy.sock"
#define CONF_DEFAULT_DELAY	"60s"
#define CONF_DEFAULT_EGRESS	10040
#define CONF_SECRET_MAX		1024

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct conf_opts {
	const char *conf;
	const char *outdir;		/* NULL: print to stdout */
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
		"       htgate-config [-c FILE] check\n"
		"       htgate-config [-c FILE] dump\n");
	exit(EXIT_USAGE);
}

/* conf_write - write one file atomically with the given mode */
static int
conf_write(const char *dir, const char *name, const GString *s, mode_t mode)
{
	char   *path = g_build_filename(dir, name, NULL);
	char   *tmp = g_strconcat(path, ".tmp", NULL);
	int	fd, rc = -1;
	size_t	off = 0;

	(void) unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		       mode)) < 0)
		goto out;
	if (fchmod(fd, mode) < 0)
		goto close;
	while (off < s->len) {
		ssize_t	n = write(fd, s->str + off, s->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto close;
		off += (size_t) n;
	}
	if (fsync(fd) < 0)
		goto close;
	rc = 0;
close:
	if (close(fd) < 0)
		rc = -1;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
out:
	if (rc < 0) {
		fprintf(stderr, "htgate-config: %s: %s\n", path, strerror(errno));
		(void) unlink(tmp);
	}
	g_free(tmp);
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
		printf(", password_file %s\n", state);
	}
	return (bad ? EXIT_FAIL : EXIT_OK);
}

/* parse_postfix_opts - options of the postfix command */
static void
parse_postfix_opts(int argc, char **argv, struct conf_opts *o)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"map-dir", required_argument, NULL, 'm'},
		{"milter-socket", required_argument, NULL, 'M'},
		{"policy-socket", required_argument, NULL, 'P'},
		{"rate-delay", required_argument, NULL, 'd'},
		{"egress-port", required_argument, NULL, 'e'},
		{NULL, 0, NULL, 0},
	};
	char   *end;
	long	port;
	int	c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->outdir = optarg; break;
		case 'm': o->pf.mapdir = optarg; break;
		case 'M': o->pf.milter = optarg; break;
		case 'P': o->pf.policy = optarg; break;
		case 'd': o->pf.delay = optarg; break;
		case 'e':
			port = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end != 0 || port < 1
			    || port + CFG_MAX_ENVS > 65535)
				usage();
			o->pf.egress_port = (int) port;
			break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

/* token_ok - a value Postfix takes without quoting: no blanks, braces, ... */
static int
token_ok(const char *s)
{
	for (const char *c = s; *c; c++)
		if (!g_ascii_isalnum(*c) && strchr("._-/:[]@", *c) == NULL)
			return (0);
	return (*s != 0);
}

/* socket_ok - a Postfix milter/policy endpoint: unix:path or inet:host:port */
static int
socket_ok(const char *s)
{
	return (token_ok(s) && (g_str_has_prefix(s, "unix:")
				|| g_str_has_prefix(s, "inet:")));
}

/* delay_ok - a Postfix time value: digits and an optional unit */
static int
delay_ok(const char *s)
{
	size_t	n = strspn(s, "0123456789");

	return (n > 0 && (s[n] == '\0' || (strchr("smhdw", s[n]) && s[n + 1] == '\0')));
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
	struct htg_cfg *cfg;
	char	err[1024], *absdir = NULL;
	const char *cmd;
	int	c, rc;

	while ((c = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o.conf = optarg; break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	if (strcmp(cmd, "postfix") == 0)
		parse_postfix_opts(argc - optind, argv + optind, &o);
	else if ((strcmp(cmd, "check") != 0 && strcmp(cmd, "dump") != 0)
		 || optind + 1 != argc)
		usage();
	if (!socket_ok(o.pf.milter) || !socket_ok(o.pf.policy)) {
		fprintf(stderr, "htgate-config: a socket must be unix:/path or "
			"inet:host:port\n");
		return (EXIT_USAGE);
	}
	if (!delay_ok(o.pf.delay)) {
		fprintf(stderr, "htgate-config: bad --rate-delay: %s\n", o.pf.delay);
		return (EXIT_USAGE);
	}
	if (o.pf.mapdir == NULL)
		o.pf.mapdir = o.outdir ? (absdir = g_canonicalize_filename(o.outdir, NULL))
			: CONF_DEFAULT_MAPDIR;
	if (*o.pf.mapdir != '/' || !token_ok(o.pf.mapdir)) {
		fprintf(stderr, "htgate-config: --map-dir must be an absolute path "
			"without blanks\n");
		g_free(absdir);
		return (EXIT_USAGE);
	}
	if ((cfg = cfg_load(o.conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "htgate-config: %s\n", err);
		g_free(absdir);
		return (EXIT_FAIL);
	}
	if (strcmp(cmd, "postfix") == 0)
		rc = cmd_postfix(&o, cfg);
	else if (strcmp(cmd, "check") == 0)
		rc = cmd_check(cfg);
	else {
		cfg_dump(cfg, stdout);
		rc = EXIT_OK;
	}
	cfg_unref(cfg);
	g_free(absdir);
	if (fflush(stdout) != 0)
		rc = EXIT_FAIL;
	return (rc);
}
