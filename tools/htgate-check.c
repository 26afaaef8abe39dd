/*
 * NAME
 *	htgate-check - judge a stored message as htgate-milter would
 * SYNOPSIS
 *	htgate-check [-c FILE] [--from ADDR] [--rcpt ADDR]... [--notify LIST]
 *		[--envid ID] [--sasl-user USER] [--mode MODE] [--json]
 *		[--fix [-o OUT]] FILE|-
 *	htgate-check [-c FILE] --list-rules | --list-config-keys | --dump-config
 * DESCRIPTION
 *	Reads a message (CR LF or LF line ends), builds the envelope from
 *	the options or else from the From: and To: headers, and drives the
 *	rule engine through MAIL, RCPT, headers, end of headers, body and
 *	end of message exactly as the milter does, so a message gets the
 *	same verdict here as on the relay.  Unlike the milter it goes on
 *	after the deciding stage, so the report lists every fault at once;
 *	the verdict is that of the first deciding stage.
 *
 *	--mode says which of the milter's ways of judging to use: smtp (the
 *	default: a client over SMTP), sendmail (a sendmail(1) submission:
 *	envelope faults decided at end of message) or egress[:ENV] (the
 *	egress stage, the final envelope before the HTG transport of ENV,
 *	default the first environment).
 *
 *	Repairs (lib/repair.h) run as in the milter: when the engine plans
 *	one, the message is read again with CR LF line ends (as Postfix
 *	hands it to the milter), repaired and judged again, so the verdict
 *	here is the milter's.  --fix prints each repair and fix ("FILE:
 *	repaired RULE: what was done") and what an unwrap dropped; -o OUT
 *	(with --fix) writes the message as it would leave the relay: the
 *	repaired headers and body, a Content-Disposition or Message-ID the
 *	engine adds (envelope fixes, ENVID and NOTIFY, are only printed).
 *	A refused message is not written.  Standard input is kept in a
 *	spool (memory, then a temporary file) so it can be read again.
 * DIAGNOSTICS
 *	Exit 0 accepted (fixes applied or not), 1 rejected, 2 usage or
 *	configuration error, 3 temporary failure.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cfg.h"
#include "engine.h"
#include "log.h"
#include "mimehdr.h"
#include "judge.h"
#include "repair.h"
#include "repair_spool.h"

#define CHECK_DEFAULT_CONF	SYSCONFDIR "/htgate/htgate.conf"
#define CHECK_MAX_RCPT		JUDGE_MAX_RCPT

enum { EXIT_ACCEPT = 0, EXIT_REJECT = 1, EXIT_USAGE = 2, EXIT_TEMPFAIL = 3 };

struct check_opts {
	const char *conf;
	const char *from;
	const char *rcpt[CHECK_MAX_RCPT];
	int	nrcpt;
	const char *notify;
	const char *envid;
	const char *sasl_user;
	const char *mode;		/* smtp, sendmail, egress[:ENV] */
	int	json;
	int	list_rules;
	int	list_keys;
	int	dump_config;
	int	fix;			/* --fix: print the repairs */
	const char *out;		/* -o: write the message as it leaves */
	const char *file;
};

/* One message being checked: its stream and its repair. */
struct check_run {
	FILE   *fp;			/* the message as stored */
	struct spool *crlf;		/* it with CR LF line ends, to repair */
	struct repair *repair;
	char	err[512];		/* a repair's I/O error */
};

/* usage - print the synopsis and exit 2 */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: htgate-check [-c FILE] [--from ADDR] [--rcpt ADDR]... "
		"[--notify LIST] [--envid ID] [--sasl-user USER]\n"
		"           [--mode smtp|sendmail|egress[:ENV]] [--json] [--fix [-o OUT]] FILE|-\n"
		"       htgate-check [-c FILE] --list-rules | --list-config-keys | --dump-config\n");
	exit(EXIT_USAGE);
}

/* parse_opts - command line to struct check_opts */
static void
parse_opts(int argc, char **argv, struct check_opts *o)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"from", required_argument, NULL, 'f'},
		{"rcpt", required_argument, NULL, 'r'},
		{"notify", required_argument, NULL, 'N'},
		{"envid", required_argument, NULL, 'E'},
		{"sasl-user", required_argument, NULL, 'S'},
		{"mode", required_argument, NULL, 'M'},
		{"json", no_argument, NULL, 'j'},
		{"list-rules", no_argument, NULL, 'L'},
		{"list-config-keys", no_argument, NULL, 'K'},
		{"dump-config", no_argument, NULL, 'D'},
		{"fix", no_argument, NULL, 'F'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int	c;

	memset(o, 0, sizeof(*o));
	o->conf = CHECK_DEFAULT_CONF;
	while ((c = getopt_long(argc, argv, "c:jho:", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->conf = optarg; break;
		case 'f': o->from = optarg; break;
		case 'r':
			if (o->nrcpt == CHECK_MAX_RCPT)
				usage();
			o->rcpt[o->nrcpt++] = optarg;
			break;
		case 'N': o->notify = optarg; break;
		case 'E': o->envid = optarg; break;
		case 'S': o->sasl_user = optarg; break;
		case 'M': o->mode = optarg; break;
		case 'j': o->json = 1; break;
		case 'L': o->list_rules = 1; break;
		case 'K': o->list_keys = 1; break;
		case 'D': o->dump_config = 1; break;
		case 'F': o->fix = 1; break;
		case 'o': o->out = optarg; break;
		default: usage();
		}
	}
	if (o->list_rules || o->list_keys || o->dump_config)
		return;
	if (optind != argc - 1 || (o->out != NULL && !o->fix))
		usage();
	o->file = argv[optind];
}

/* list_rules - the rule table, one rule per line */
static void
list_rules(void)
{
	int	i;

	printf("%-17s %-7s %-9s %-3s %-4s %-6s %s\n", "RULE", "STAGE",
	       "DEFAULT", "FIX", "CODE", "STATUS", "SUMMARY");
	for (i = 0; i < RULE_COUNT; i++) {
		const struct htg_rule *r = rule_get(i);

		printf("%-17s %-7s %-9s %-3s %-4s %-6s %s\n", r->name,
		       stage_name(r->stage), action_name(r->default_action),
		       r->fixable ? "yes" : "no", r->reply_code,
		       r->status_code, r->summary);
	}
}

/* json_str - print a JSON string literal */
static void
json_str(FILE *fp, const char *s)
{
	putc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char) *s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20)
			fprintf(fp, "\\u%04x", c);
		else
			putc(c, fp);
	}
	putc('"', fp);
}

/* report_fixes - --fix: each repair and fix, and what an unwrap dropped */
static void
report_fixes(const struct check_opts *o, struct htg_msg *msg)
{
	const struct htg_finding *f;
	size_t	n = htg_msg_findings(msg, &f), i;
	FILE   *fp = o->json ? stderr : stdout;

	for (i = 0; i < n; i++)
		if (f[i].action == HTG_ACT_FIX)
			fprintf(fp, "%s: repaired %s: %s\n", o->file,
				rule_get(f[i].rule)->name, f[i].detail);
	if (htg_msg_repair_note(msg) != NULL) {
		char	note[2048];

		fprintf(fp, "%s: dropped: %s\n", o->file, log_sanitize(note,
			sizeof(note), htg_msg_repair_note(msg)));
	}
}

/* report - findings and verdict as text or JSON */
static void
report(const struct check_opts *o, struct htg_msg *msg, enum htg_verdict verdict)
{
	const struct htg_finding *f;
	size_t	n = htg_msg_findings(msg, &f), i;
	char	text[HTG_REPLY_LINE];

	if (o->json) {
		printf("{\"verdict\": ");
		json_str(stdout, htg_verdict_name(verdict));
		printf(", \"htg_bound\": %s, \"findings\": [",
		       htg_msg_is_htg(msg) ? "true" : "false");
		for (i = 0; i < n; i++) {
			htg_finding_text(&f[i], HTG_LANG_EN, text, sizeof(text));
			printf("%s{\"rule\": ", i ? ", " : "");
			json_str(stdout, rule_get(f[i].rule)->name);
			printf(", \"action\": ");
			json_str(stdout, action_name(f[i].action));
			printf(", \"stage\": ");
			json_str(stdout, stage_name(f[i].stage));
			printf(", \"text\": ");
			json_str(stdout, text);
			if (hint_text(f[i].hint, HTG_LANG_EN) != NULL) {
				printf(", \"hint\": ");
				json_str(stdout, hint_text(f[i].hint, HTG_LANG_EN));
			}
			printf("}");
		}
		printf("]}\n");
		return;
	}
	for (i = 0; i < n; i++) {
		const struct htg_rule *r = rule_get(f[i].rule);

		htg_finding_text(&f[i], HTG_LANG_EN, text, sizeof(text));
		printf("%s: %s %s %s %s %s\n", o->file, action_name(f[i].action),
		       r->name, r->reply_code, r->status_code, text);
		if (hint_text(f[i].hint, HTG_LANG_EN) != NULL)
			printf("%s: hint %s %s\n", o->file, r->name,
			       hint_text(f[i].hint, HTG_LANG_EN));
	}
	printf("%s: verdict %s\n", o->file, htg_verdict_name(verdict));
}

/*
 * mode_of - engine flags and route for --mode; -1 for an unknown mode or
 * environment
 */
static int
mode_of(const char *mode, const struct htg_cfg *cfg, const struct htg_env **route)
{
	*route = NULL;
	if (mode == NULL || strcmp(mode, "smtp") == 0)
		return (0);
	if (strcmp(mode, "sendmail") == 0)
		return (HTG_MSG_DEFER_ENVELOPE);
	if (strcmp(mode, "egress") == 0) {
		*route = &cfg->envs[0];
		return (HTG_MSG_EGRESS);
	}
	if (strncmp(mode, "egress:", 7) == 0
	    && (*route = cfg_env_by_name(cfg, mode + 7)) != NULL)
		return (HTG_MSG_EGRESS);
	return (-1);
}

/* check_repair - judge_repair_fn: repair the message read again as CR LF */
static void
check_repair(struct htg_msg *msg, void *arg)
{
	struct check_run *run = arg;
	const struct htg_cfg *cfg = htg_msg_cfg(msg);
	FILE   *in;

	run->crlf = spool_new(cfg->repair_memory, cfg->repair_dir);
	if (fseeko(run->fp, 0, SEEK_SET) != 0
	    || repair_copy_crlf(run->fp, run->crlf, run->err, sizeof(run->err)) < 0
	    || (in = spool_reader(run->crlf, run->err, sizeof(run->err))) == NULL) {
		if (run->err[0] == 0)
			g_strlcpy(run->err, strerror(errno), sizeof(run->err));
		(void) htg_msg_add_finding(msg, RULE_INTERNAL, HTG_STAGE_EOM,
					   "cannot read the message again");
		htg_msg_repair_settle(msg, 0);
		return;
	}
	run->repair = repair_run(msg, in);
	if (repair_error(run->repair) != NULL)
		g_strlcpy(run->err, repair_error(run->repair), sizeof(run->err));
}

/* open_input - the message as a seekable stream (stdin: in a spool) */
static FILE *
open_input(const struct check_opts *o, const struct htg_cfg *cfg,
	   struct spool **sp)
{
	char	buf[65536], err[512];
	size_t	n;
	FILE   *fp;

	*sp = NULL;
	if (strcmp(o->file, "-") != 0) {
		if ((fp = fopen(o->file, "rb")) == NULL)
			fprintf(stderr, "htgate-check: %s: %s\n", o->file,
				strerror(errno));
		return (fp);
	}
	*sp = spool_new(cfg->repair_memory, cfg->repair_dir);
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		if (spool_write(*sp, buf, n, err, sizeof(err)) < 0) {
			fprintf(stderr, "htgate-check: standard input: %s\n", err);
			return (NULL);
		}
	if ((fp = spool_reader(*sp, err, sizeof(err))) == NULL)
		fprintf(stderr, "htgate-check: standard input: %s\n", err);
	return (fp);
}

/* write_out - -o: the message as it would leave; 0 or -1 */
static int
write_out(const struct check_opts *o, struct check_run *run,
	  const struct htg_msg *msg)
{
	FILE   *out = fopen(o->out, "wb");
	char	err[512];
	int	rc;

	if (out == NULL) {
		fprintf(stderr, "htgate-check: %s: %s\n", o->out, strerror(errno));
		return (-1);
	}
	rc = repair_write_message(run->fp, run->repair, msg, out, err,
				  sizeof(err));
	if (fclose(out) != 0 && rc == 0) {
		g_snprintf(err, sizeof(err), "%s", strerror(errno));
		rc = -1;
	}
	if (rc < 0)
		fprintf(stderr, "htgate-check: %s: %s\n", o->out, err);
	else
		fprintf(o->json ? stderr : stdout, "%s: wrote %s\n", o->file,
			o->out);
	return (rc);
}

/* check_file - judge one message; returns the verdict or -1 on I/O error */
static int
check_file(const struct check_opts *o, const struct htg_cfg *cfg, int flags,
	   const struct htg_env *route)
{
	struct check_run run;
	struct spool *in_spool;
	struct judge_envelope env;
	struct htg_msg *msg;
	int	v, i;

	memset(&run, 0, sizeof(run));
	if ((run.fp = open_input(o, cfg, &in_spool)) == NULL) {
		spool_free(in_spool);
		return (-1);
	}
	memset(&env, 0, sizeof(env));
	env.from = o->from;
	for (i = 0; i < o->nrcpt; i++)
		env.rcpt[i] = o->rcpt[i];
	env.nrcpt = o->nrcpt;
	env.notify = o->notify;
	env.envid = o->envid;
	env.sasl_user = o->sasl_user;
	msg = htg_msg_new(cfg, flags);
	htg_msg_set_route(msg, route);
	v = judge_stream_repair(msg, run.fp, &env, check_repair, &run);
	report(o, msg, v);
	if (run.err[0])
		fprintf(stderr, "htgate-check: %s: repair: %s\n", o->file, run.err);
	if (o->fix)
		report_fixes(o, msg);
	if (o->out != NULL && v == HTG_ACCEPT && write_out(o, &run, msg) < 0)
		v = -1;
	else if (o->out != NULL && v != HTG_ACCEPT)
		fprintf(o->json ? stderr : stdout, "%s: %s not written: the "
			"message is refused\n", o->file, o->out);
	htg_msg_free(msg);
	repair_free(run.repair);
	spool_free(run.crlf);
	if (in_spool == NULL)
		fclose(run.fp);
	spool_free(in_spool);
	return (v);
}

/* main - options, configuration, one message */
int
main(int argc, char **argv)
{
	struct check_opts o;
	struct htg_cfg *cfg;
	const struct htg_env *route;
	char	err[1024];
	int	v, flags;

	parse_opts(argc, argv, &o);
	log_init("htgate-check", 1, 0);
	if (o.list_rules || o.list_keys) {
		if (o.list_rules)
			list_rules();
		else
			cfg_keys_print(stdout);
		return (EXIT_ACCEPT);
	}
	if ((cfg = cfg_load(o.conf, err, sizeof(err))) == NULL) {
		fprintf(stderr, "htgate-check: %s\n", err);
		return (EXIT_USAGE);
	}
	if (o.dump_config) {
		cfg_dump(cfg, stdout);
		cfg_unref(cfg);
		return (EXIT_ACCEPT);
	}
	if ((flags = mode_of(o.mode, cfg, &route)) < 0) {
		fprintf(stderr, "htgate-check: --mode %s: not smtp, sendmail, "
			"egress or egress:ENV of %s\n", o.mode, o.conf);
		cfg_unref(cfg);
		return (EXIT_USAGE);
	}
	mimehdr_init();
	v = check_file(&o, cfg, flags, route);
	cfg_unref(cfg);
	switch (v) {
	case HTG_ACCEPT:
		return (EXIT_ACCEPT);
	case HTG_REJECT:
		return (EXIT_REJECT);
	case HTG_TEMPFAIL:
		return (EXIT_TEMPFAIL);
	default:
		return (EXIT_USAGE);
	}
}
