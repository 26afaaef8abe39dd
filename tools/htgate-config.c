/*
 * NAME
 *	htgate-config - generate the Postfix side of htgate from htgate.conf
 * SYNOPSIS
 *	htgate-config [-c FILE] postfix [-o DIR] [--map-dir DIR]
 *		[--milter-socket S] [--policy-socket S] [--rate-delay T]
 *	htgate-config [-c FILE] check
 *	htgate-config [-c FILE] dump
 * DESCRIPTION
 *	"postfix" turns htgate.conf into the Postfix configuration that
 *	routes HTG mail: main.cf lines (milters, policy service, transport
 *	and envelope-only recipient rewrite, per-transport concurrency and
 *	rate delay) and one master.cf smtp service per environment ("htg"
 *	for production, "htg-NAME" for the others) with TLS 1.3, "secure"
 *	verification against the environment's smtp_host and SASL
 *	PLAIN/LOGIN.  With -o DIR it writes main.cf, master.cf, transport,
 *	recipient_canonical and one sasl_passwd.ENV per environment
 *	(mode 0600, keyed by the accounts' sender patterns) into DIR;
 *	without -o it prints only main.cf and master.cf, never secrets.
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

#define CONF_DEFAULT_FILE	SYSCONFDIR "/htgate/htgate.conf"
#define CONF_DEFAULT_MAPDIR	"/etc/postfix/htgate"
#define CONF_DEFAULT_MILTER	"unix:/run/htgate/milter.sock"
#define CONF_DEFAULT_POLICY	"unix:/run/htgate/policy.sock"
#define CONF_DEFAULT_DELAY	"60s"
#define CONF_DEFAULT_CAFILE	"/etc/ssl/certs/ca-certificates.crt"
#define CONF_SECRET_MAX		1024
#define CONF_TRANSPORT_MAX	64

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct conf_opts {
	const char *conf;
	const char *outdir;		/* NULL: print to stdout */
	const char *mapdir;		/* as referenced from main.cf */
	const char *milter;
	const char *policy;
	const char *delay;
};

/* the generated files; sasl[i] belongs to cfg->envs[i] */
struct conf_out {
	GString *main_cf;
	GString *master_cf;
	GString *transport;
	GString *canonical;
	GString *sasl[CFG_MAX_ENVS];
};

/* usage - print the synopsis and exit 2 */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
		"usage: htgate-config [-c FILE] postfix [-o DIR] [--map-dir DIR]\n"
		"           [--milter-socket S] [--policy-socket S] [--rate-delay TIME]\n"
		"       htgate-config [-c FILE] check\n"
		"       htgate-config [-c FILE] dump\n");
	exit(EXIT_USAGE);
}

/* conf_transport - master.cf service name of an environment */
static void
conf_transport(const struct htg_env *env, char *buf, size_t len)
{
	if (strcmp(env->name, "production") == 0)
		g_strlcpy(buf, "htg", len);
	else
		snprintf(buf, len, "htg-%s", env->name);
}

/* conf_nexthop - "[host]:port" of an environment */
static void
conf_nexthop(const struct htg_env *env, char *buf, size_t len)
{
	snprintf(buf, len, "[%s]:%d", env->smtp_host, env->smtp_port);
}

/* conf_token_ok - a value fit for a Postfix parameter or map entry */
static int
conf_token_ok(const char *s, const char *also)
{
	if (s == NULL || *s == '\0')
		return (0);
	for (; *s; s++)
		if (!g_ascii_isalnum(*s) && strchr("._-@[]/:", *s) == NULL
		    && (also == NULL || strchr(also, *s) == NULL))
			return (0);
	return (1);
}

/* conf_sender_key - Postfix sender lookup key for a sender pattern */
static int
conf_sender_key(const char *pattern, const struct htg_env *env,
		char *buf, size_t len)
{
	const char *at = strchr(pattern, '@');

	if (strcmp(pattern, "*") == 0) {
		conf_nexthop(env, buf, len);	/* fallback: the nexthop */
		return (0);
	}
	if (at == NULL || strchr(at + 1, '@') != NULL
	    || strpbrk(at + 1, "*?") != NULL || at[1] == '\0')
		return (-1);
	if (at == pattern || (at == pattern + 1 && *pattern == '*'))
		snprintf(buf, len, "%s", at);		/* @domain */
	else if (strpbrk(pattern, "*?") != NULL)
		return (-1);				/* a@b only */
	else
		snprintf(buf, len, "%s", pattern);
	for (char *p = buf; *p; p++)
		*p = g_ascii_tolower(*p);
	return (conf_token_ok(buf, "+=") ? 0 : -1);
}

/* conf_check_env - can this environment be expressed in Postfix terms */
static int
conf_check_env(const struct htg_env *env)
{
	const char *why = NULL;

	if (!conf_token_ok(env->name, NULL) || strpbrk(env->name, "@[]/:.") != NULL)
		why = "name must be letters, digits, '-' or '_'";
	else if (!conf_token_ok(env->smtp_host, NULL))
		why = "smtp_host is empty or has characters Postfix cannot take";
	else if (!conf_token_ok(env->envelope_domain, NULL)
		 || !conf_token_ok(env->header_domain, NULL))
		why = "envelope_domain/header_domain is empty or invalid";
	else if (env->ca_file != NULL && *env->ca_file != '\0'
		 && !conf_token_ok(env->ca_file, "+"))
		why = "ca_file contains blanks or special characters";
	if (why == NULL)
		return (0);
	fprintf(stderr, "htgate-config: [environment %s]: %s\n", env->name, why);
	return (-1);
}

/* conf_main_cf - the main.cf lines */
static void
conf_main_cf(const struct conf_opts *o, const struct htg_cfg *cfg, GString *s)
{
	char	tr[CONF_TRANSPORT_MAX];
	int	i;

	g_string_append_printf(s,
		"# htgate: main.cf settings generated by htgate-config from %s.\n"
		"# Merge into /etc/postfix/main.cf (see htgate-config(8)); if you\n"
		"# already have smtpd_milters or smtpd_recipient_restrictions, add\n"
		"# the htgate entries to your own lists instead of replacing them.\n\n",
		cfg->path);
	g_string_append_printf(s,
		"# htgate-milter judges every message, SMTP and sendmail(1) alike;\n"
		"# if it is down or times out, mail is deferred (fail closed).\n"
		"smtpd_milters = { %s, default_action=tempfail }\n"
		"non_smtpd_milters = { %s, default_action=tempfail }\n"
		"milter_default_action = tempfail\n"
		"milter_protocol = 6\n"
		"milter_mail_macros = i {auth_type} {auth_authen} {auth_author} "
		"{mail_addr} {mail_host} {mail_mailer}\n\n", o->milter, o->milter);
	g_string_append_printf(s,
		"# htgate-policyd checks the envelope at RCPT and the size at\n"
		"# END-OF-MESSAGE; it must come before any permit_* restriction.\n"
		"smtpd_restriction_classes = htgate_policy\n"
		"htgate_policy = check_policy_service { %s, default_action=DEFER_IF_PERMIT }\n"
		"smtpd_recipient_restrictions = htgate_policy, permit_mynetworks, "
		"permit_sasl_authenticated, reject_unauth_destination\n"
		"smtpd_end_of_data_restrictions = htgate_policy\n\n", o->policy);
	g_string_append_printf(s,
		"# Routing: HTG domains go to the htg* transports (master.cf);\n"
		"# the recipient is rewritten in the envelope only:\n"
		"# STREAM@htpoort.nl -> STREAM@msa-smtp.htpoort.nl, To: unchanged.\n"
		"transport_maps = texthash:%s/transport\n"
		"recipient_canonical_maps = texthash:%s/recipient_canonical\n"
		"recipient_canonical_classes = envelope_recipient\n",
		o->mapdir, o->mapdir);
	for (i = 0; i < cfg->nenvs; i++) {
		conf_transport(&cfg->envs[i], tr, sizeof(tr));
		g_string_append_printf(s,
			"\n# [environment %s]: one connection, one recipient per\n"
			"# message, and a pause between deliveries (low-frequency interface).\n"
			"%s_destination_concurrency_limit = 1\n"
			"%s_destination_recipient_limit = 1\n"
			"%s_destination_rate_delay = %s\n",
			cfg->envs[i].name, tr, tr, tr, o->delay);
	}
}

/* conf_master_cf - one smtp(8) service per environment */
static void
conf_master_cf(const struct conf_opts *o, const struct htg_cfg *cfg, GString *s)
{
	char	tr[CONF_TRANSPORT_MAX];
	int	i;

	g_string_append_printf(s,
		"# htgate: master.cf services generated by htgate-config from %s.\n"
		"# Append to /etc/postfix/master.cf.  Each HTG environment has its\n"
		"# own transport with its own TLS and SASL settings.\n", cfg->path);
	for (i = 0; i < cfg->nenvs; i++) {
		const struct htg_env *e = &cfg->envs[i];
		const char *ca = e->ca_file && *e->ca_file ? e->ca_file : CONF_DEFAULT_CAFILE;

		conf_transport(e, tr, sizeof(tr));
		g_string_append_printf(s,
			"# [environment %s] -> [%s]:%d\n"
			"%-11s unix  -       -       n       -       -       smtp\n"
			"  -o syslog_name=postfix/%s\n"
			"  -o smtp_tls_security_level=secure\n"
			"  -o smtp_tls_mandatory_protocols=>=TLSv1.3\n"
			"  -o smtp_tls_protocols=>=TLSv1.3\n"
			"  -o smtp_tls_CAfile=%s\n"
			"  -o smtp_tls_secure_cert_match=%s\n"
			"  -o smtp_tls_loglevel=1\n"
			"  -o smtp_sasl_auth_enable=yes\n"
			"  -o smtp_sender_dependent_authentication=yes\n"
			"  -o smtp_sasl_password_maps=texthash:%s/sasl_passwd.%s\n"
			"  -o smtp_sasl_mechanism_filter=plain,login\n"
			"  -o smtp_sasl_security_options=noanonymous\n"
			"  -o smtp_sasl_tls_security_options=noanonymous\n",
			e->name, e->smtp_host, e->smtp_port, tr, tr, ca,
			e->smtp_host, o->mapdir, e->name);
	}
}

/* conf_maps - transport and recipient_canonical tables */
static void
conf_maps(const struct htg_cfg *cfg, struct conf_out *out)
{
	char	tr[CONF_TRANSPORT_MAX], hop[512];
	int	i, j;

	g_string_append(out->transport,
		"# htgate: transport(5) table generated by htgate-config.\n"
		"# HTG domains -> the environment's transport and MSA.\n");
	g_string_append(out->canonical,
		"# htgate: canonical(5) table for recipient_canonical_maps,\n"
		"# generated by htgate-config: envelope-only rewrite of\n"
		"# STREAM@header_domain to STREAM@envelope_domain.\n");
	for (i = 0; i < cfg->nenvs; i++) {
		const struct htg_env *e = &cfg->envs[i];

		conf_transport(e, tr, sizeof(tr));
		conf_nexthop(e, hop, sizeof(hop));
		g_string_append_printf(out->transport, "%s\t%s:%s\n%s\t%s:%s\n",
			e->header_domain, tr, hop, e->envelope_domain, tr, hop);
		for (j = 0; j < cfg->nstreams; j++) {
			const struct htg_stream *st = &cfg->streams[j];

			if (!(st->env_mask & (1u << i)))
				continue;
			g_string_append_printf(out->canonical, "%s@%s\t%s@%s\n",
				st->name, e->header_domain, st->name,
				e->envelope_domain);
		}
	}
}

/* conf_account_ok - mailbox and password file present for -o */
static int
conf_account_ok(const struct htg_account *a)
{
	if (a->mailbox == NULL || *a->mailbox == '\0'
	    || a->password_file == NULL || *a->password_file == '\0') {
		fprintf(stderr, "htgate-config: [account %s]: needs mailbox and "
			"password_file for the SASL password maps\n", a->name);
		return (-1);
	}
	if (!conf_token_ok(a->mailbox, "+=") || strchr(a->mailbox, ':') != NULL) {
		fprintf(stderr, "htgate-config: [account %s]: mailbox has "
			"characters Postfix cannot take\n", a->name);
		return (-1);
	}
	return (0);
}

/* conf_sasl_env - sasl_passwd lines of one account for one environment */
static int
conf_sasl_env(const struct htg_cfg *cfg, int ei, const struct htg_account *a,
	      const char *secret, GString *s, GHashTable *seen)
{
	char	key[512];
	int	j;

	for (j = 0; a->senders[j] != NULL; j++) {
		const char *owner;

		if (conf_sender_key(a->senders[j], &cfg->envs[ei], key, sizeof(key)) < 0) {
			fprintf(stderr, "htgate-config: [account %s]: sender pattern "
				"\"%s\" cannot be a Postfix sender key (use user@domain, "
				"*@domain, @domain or *)\n", a->name, a->senders[j]);
			return (-1);
		}
		if ((owner = g_hash_table_lookup(seen, key)) != NULL) {
			fprintf(stderr, "htgate-config: warning: [account %s]: "
				"sender key %s (environment %s) already belongs to "
				"account %s; Postfix will use %s\n", a->name, key,
				cfg->envs[ei].name, owner, owner);
			continue;
		}
		g_hash_table_insert(seen, g_strdup(key), a->name);
		g_string_append_printf(s, "%s\t%s:%s\n", key, a->mailbox, secret);
	}
	return (0);
}

/* conf_sasl - per-environment SASL password maps keyed by sender */
static int
conf_sasl(const struct htg_cfg *cfg, struct conf_out *out)
{
	char	secret[CONF_SECRET_MAX], err[1024];
	GHashTable *seen[CFG_MAX_ENVS];
	int	i, ei, rc = 0;

	for (ei = 0; ei < cfg->nenvs; ei++) {
		seen[ei] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		g_string_append_printf(out->sasl[ei],
			"# htgate: SASL password map of [environment %s], generated by\n"
			"# htgate-config.  Key: envelope sender (user@domain, @domain)\n"
			"# or the nexthop; value: HTG mailbox:password.  Keep mode 0600.\n",
			cfg->envs[ei].name);
	}
	for (i = 0; i < cfg->naccounts && rc == 0; i++) {
		const struct htg_account *a = &cfg->accounts[i];

		if (a->env_mask == 0)
			continue;
		if (conf_account_ok(a) < 0) {
			rc = -1;
			break;
		}
		if (cfg_secret_read(a->password_file, secret, sizeof(secret),
				    err, sizeof(err)) < 0) {
			fprintf(stderr, "htgate-config: [account %s]: %s\n", a->name, err);
			rc = -1;
			break;
		}
		if (strpbrk(secret, "\r\n") != NULL || secret[0] == ' '
		    || secret[strlen(secret) - 1] == ' ') {
			fprintf(stderr, "htgate-config: [account %s]: %s: the password "
				"begins or ends with a blank, which Postfix tables drop\n",
				a->name, a->password_file);
			rc = -1;
		}
		for (ei = 0; ei < cfg->nenvs && rc == 0; ei++)
			if (a->env_mask & (1u << ei))
				rc = conf_sasl_env(cfg, ei, a, secret, out->sasl[ei],
						   seen[ei]);
		explicit_bzero(secret, sizeof(secret));
	}
	for (ei = 0; ei < cfg->nenvs; ei++)
		g_hash_table_destroy(seen[ei]);
	return (rc);
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

/* conf_out_free - release the buffers; secrets are wiped first */
static void
conf_out_free(struct conf_out *out)
{
	int	i;

	g_string_free(out->main_cf, TRUE);
	g_string_free(out->master_cf, TRUE);
	g_string_free(out->transport, TRUE);
	g_string_free(out->canonical, TRUE);
	for (i = 0; i < CFG_MAX_ENVS; i++) {
		explicit_bzero(out->sasl[i]->str, out->sasl[i]->allocated_len);
		g_string_free(out->sasl[i], TRUE);
	}
}

/* conf_write_all - every generated file into the output directory */
static int
conf_write_all(const struct conf_opts *o, const struct htg_cfg *cfg,
	       const struct conf_out *out)
{
	char	name[CONF_TRANSPORT_MAX + 16];
	int	i;

	if (g_mkdir_with_parents(o->outdir, 0755) < 0) {
		fprintf(stderr, "htgate-config: %s: %s\n", o->outdir, strerror(errno));
		return (-1);
	}
	for (i = 0; i < cfg->nenvs; i++) {
		snprintf(name, sizeof(name), "sasl_passwd.%s", cfg->envs[i].name);
		if (conf_write(o->outdir, name, out->sasl[i], 0600) < 0)
			return (-1);
	}
	if (conf_write(o->outdir, "transport", out->transport, 0644) < 0
	    || conf_write(o->outdir, "recipient_canonical", out->canonical, 0644) < 0
	    || conf_write(o->outdir, "master.cf", out->master_cf, 0644) < 0
	    || conf_write(o->outdir, "main.cf", out->main_cf, 0644) < 0)
		return (-1);
	printf("htgate-config: wrote main.cf, master.cf, transport, "
	       "recipient_canonical and sasl_passwd.* (mode 0600) to %s\n", o->outdir);
	return (0);
}

/* cmd_postfix - generate the Postfix configuration */
static int
cmd_postfix(const struct conf_opts *o, const struct htg_cfg *cfg)
{
	struct conf_out out;
	int	i, rc = 0;

	for (i = 0; i < cfg->nenvs; i++)
		if (conf_check_env(&cfg->envs[i]) < 0)
			return (EXIT_FAIL);
	out.main_cf = g_string_new(NULL);
	out.master_cf = g_string_new(NULL);
	out.transport = g_string_new(NULL);
	out.canonical = g_string_new(NULL);
	for (i = 0; i < CFG_MAX_ENVS; i++)
		out.sasl[i] = g_string_new(NULL);
	conf_main_cf(o, cfg, out.main_cf);
	conf_master_cf(o, cfg, out.master_cf);
	conf_maps(cfg, &out);
	if (o->outdir == NULL) {
		/* stdout: never the secrets */
		fputs(out.main_cf->str, stdout);
		fputs("\n# ---- master.cf ----\n", stdout);
		fputs(out.master_cf->str, stdout);
		fprintf(stderr, "htgate-config: the maps and SASL passwords are "
			"written only with -o DIR\n");
	} else if (conf_sasl(cfg, &out) < 0 || conf_write_all(o, cfg, &out) < 0)
		rc = -1;
	conf_out_free(&out);
	return (rc < 0 ? EXIT_FAIL : EXIT_OK);
}

/* cmd_check - validate, including password files, and print a summary */
static int
cmd_check(const struct htg_cfg *cfg)
{
	char	tr[CONF_TRANSPORT_MAX], hop[512], secret[CONF_SECRET_MAX], err[1024];
	int	i, j, bad = 0;

	printf("%s: syntax OK\n", cfg->path);
	for (i = 0; i < cfg->nenvs; i++) {
		const struct htg_env *e = &cfg->envs[i];

		conf_transport(e, tr, sizeof(tr));
		conf_nexthop(e, hop, sizeof(hop));
		printf("environment %s: %s, %s -> %s:%s\n", e->name,
		       e->header_domain, e->envelope_domain, tr, hop);
		if (conf_check_env(e) < 0)
			bad = 1;
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
		{NULL, 0, NULL, 0},
	};
	int	c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': o->outdir = optarg; break;
		case 'm': o->mapdir = optarg; break;
		case 'M': o->milter = optarg; break;
		case 'P': o->policy = optarg; break;
		case 'd': o->delay = optarg; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
}

/* socket_ok - a Postfix milter/policy endpoint: unix:/path or inet:host:port */
static int
socket_ok(const char *s)
{
	return ((g_str_has_prefix(s, "unix:") || g_str_has_prefix(s, "inet:"))
		&& conf_token_ok(s, NULL));
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
		.conf = CONF_DEFAULT_FILE, .milter = CONF_DEFAULT_MILTER,
		.policy = CONF_DEFAULT_POLICY, .delay = CONF_DEFAULT_DELAY,
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
	if (!socket_ok(o.milter) || !socket_ok(o.policy)) {
		fprintf(stderr, "htgate-config: a socket must be unix:/path or "
			"inet:host:port\n");
		return (EXIT_USAGE);
	}
	if (!delay_ok(o.delay)) {
		fprintf(stderr, "htgate-config: bad --rate-delay: %s\n", o.delay);
		return (EXIT_USAGE);
	}
	if (o.mapdir == NULL)
		o.mapdir = o.outdir ? (absdir = g_canonicalize_filename(o.outdir, NULL))
			: CONF_DEFAULT_MAPDIR;
	if (*o.mapdir != '/' || !conf_token_ok(o.mapdir, NULL)) {
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
