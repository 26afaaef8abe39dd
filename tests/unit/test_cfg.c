/*
 * NAME
 *	test_cfg - htgate.conf parsing, validation and lookups
 * DESCRIPTION
 *	Table-driven: each bad file must be refused with the expected line
 *	number and reason; the shipped conf/htgate.conf must load with the
 *	streams and account the core issue names; lookups follow
 *	htgate.conf(5).  Secret files open to group or others are refused.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_cfg.XXXXXX";

/* write_conf - text into a file of the temp dir; returns its path */
static char *
write_conf(const char *name, const char *text, mode_t mode)
{
	char   *path = g_build_filename(tmpdir, name, NULL);

	ck_assert(g_file_set_contents(path, text, -1, NULL));
	ck_assert_int_eq(chmod(path, mode), 0);
	return (path);
}

/* load_text - cfg_load of text; err receives the reason on failure */
static struct htg_cfg *
load_text(const char *text, char *err, size_t errlen)
{
	char   *path = write_conf("htgate.conf", text, 0644);
	struct htg_cfg *cfg = cfg_load(path, err, errlen);

	g_free(path);
	return (cfg);
}

static const struct bad_case {
	const char *text;
	const char *want;		/* substring of "file:line: reason" */
} bad_cases[] = {
	{"size_limit = 1M\n", ":1: \"size_limit\" outside any section"},
	{"[global]\nsize_limit = lots\n", ":2: size_limit: \"lots\" is not a number"},
	{"[global]\nsize_limit = 3G\n", ":2: size_limit"},
	{"[global]\nsize_limit = 17179869185G\n", ":2: size_limit: \"17179869185G\" is not a number"},
	{"[account a]\nsenders = *\nsize_limit = 1T\n", ":3: size_limit"},
	{"[account a]\nsenders = erp*@a.nl\n", ":1: [account a]: sender \"erp*@a.nl\" is not user@domain"},
	{"[account a]\nsenders = *@*.a.nl\n", ":1: [account a]: sender \"*@*.a.nl\" is not"},
	{"[account a]\nsenders = *\nmailbox = company\n", ":1: [account a]: mailbox \"company\" is not a full mailbox name"},
	{"[stream AGS]\n[stream DMS]\n[account a]\nsenders = @a.nl\nstreams = AGS\n"
	 "[account b]\nsenders = *@A.nl\nstreams = DMS\n",
	 ":6: [account b]: sender key @a.nl also belongs to [account a] (line 3) with other streams"},
	{"[account a]\nsenders = *\nmailbox = a@htpoort.nl\npassword_file = /x\nfetch = yes\n",
	 ":1: [account a]: fetch = yes needs pop3_host in [environment production]"},
	{"[global]\nfetch_deliver = smtp:localhost\n", ":2: fetch_deliver: \"smtp:localhost\" is not smtp:HOST:PORT"},
	{"[global]\nfetch_deliver = smtp:localhost:99999\n", ":2: fetch_deliver: \"smtp:localhost:99999\" has no port"},
	{"[global]\nfetch_deliver = lmtp:x:1\n", ":2: fetch_deliver: \"lmtp:x:1\" is not smtp:HOST:PORT"},
	{"[global]\nfetch_sender = <postmaster>\n", ":2: fetch_sender: \"<postmaster>\" is empty or not a bare address"},
	{"[global]\nreport_only = maybe\n", ":2: report_only: \"maybe\" is not yes or no"},
	{"[global]\nlanguage = de\n", ":2: language: \"de\" is not en or nl"},
	{"[global]\nno_such_key = 1\n", ":2: unknown key \"no_such_key\" in [global]"},
	{"[global]\nreport_only = yes\nreport_only = no\n", ":3: \"report_only\" given twice"},
	{"[globl]\n", ":1: unknown section [globl]"},
	{"[global\n", ":1: section header without closing ']'"},
	{"[stream]\n", ":1: [stream] needs exactly one name"},
	{"[global]\njust some words\n", ":2: expected \"key = value\""},
	{"[stream AGS]\n[stream AGS]\n", ":2: [stream AGS] defined twice (first at line 1)"},
	{"[stream AGS]\nprofile = fast\n", ":2: profile: \"fast\" is not standard or single-window"},
	{"[stream AGS]\nenvironments = mars\n", ":2: environments: unknown environment \"mars\""},
	{"[account a]\nstreams = *\n", ":1: [account a] needs \"senders\""},
	{"[stream AGS]\n[account a]\nsenders = *\nstreams = DMS\n", ":2: [account a]: stream \"DMS\" has no [stream] section"},
	{"[account a]\nsenders = *\nrate = sometimes\n", ":3: rate: \"sometimes\" is not off, warn or defer"},
	{"[account a]\nsenders = *\nfetch = yes\n", ":1: [account a]: fetch = yes needs mailbox and password_file"},
	{"[environment test]\nheader_domain = t.nl\n", ":1: [environment test] needs \"envelope_domain\""},
	{"[rules]\nNO-SUCH-RULE = reject\n", ":2: unknown rule \"NO-SUCH-RULE\""},
	{"[rules]\nHDR-CC = fix\n", ":2: HDR-CC cannot be fixed by htgate"},
	{"[rules]\nHDR-CC = maybe\n", ":2: HDR-CC: \"maybe\" is not one of"},
	{"[rules]\nINTERNAL = warn\n", ":2: INTERNAL is always tempfail"},
	{"[global]\nstate_dir = \xff\xfe\n", ":2: line is not valid UTF-8"},
	{"[stream AGS]\nrules = HDR-CC\n", ":2: rules: \"HDR-CC\" is not a list of RULE:action"},
	{"[stream AGS]\nrules = NOPE:reject\n", ":2: rules: \"NOPE:reject\" names an unknown rule"},
	{"[stream AGS]\nrules = HDR-CC:reject, HDR-CC:warn\n", "names a rule twice"},
	{"[record]\ndatabase = postgresql://htgate:s3cret@db.example/htgate\n",
	 ":2: database: holds a password; put it in ~/.pgpass"},
	{"[record]\ndatabase = postgres://htgate@db/htgate?password=s3cret\n",
	 ":2: database: holds a password"},
	{"[stream AGS]\nrules = HDR-CC:maybe\n", "has an action other than"},
	{"[stream AGS]\nrules = HDR-CC:fix\n", "asks fix of a rule htgate cannot fix"},
	{"[stream AGS]\nrules = INTERNAL:warn\n", "sets INTERNAL, which is always tempfail"},
	{"[stream AGS]\nenvironments = ,\n", ":2: environments: no environment given"},
	{"[account a]\nsenders = , ,\n", ":2: senders: empty list"},
	{"[account a]\nsenders = *\nfetch_environment = mars\n", ":3: fetch_environment: unknown environment \"mars\""},
	{"[environment e1]\nenvelope_domain = a\nheader_domain = a\n[environment e2]\nenvelope_domain = b\nheader_domain = b\n"
	 "[environment e3]\nenvelope_domain = c\nheader_domain = c\n[environment e4]\nenvelope_domain = d\nheader_domain = d\n"
	 "[environment e5]\nenvelope_domain = e\nheader_domain = e\n[environment e6]\nenvelope_domain = f\nheader_domain = f\n"
	 "[environment e7]\nenvelope_domain = g\nheader_domain = g\n[environment e8]\nenvelope_domain = h\nheader_domain = h\n"
	 "[environment e9]\nenvelope_domain = i\nheader_domain = i\n", ":25: more than 8 environments"},
	{"[global]\non_internal_error = warn\n", ": on_internal_error must be tempfail or reject"},
	{"[global]\nlanguage = en nl en\n", ":2: language: at most 2 languages"},
	{"[global]\nlanguage = ,\n", ":2: language: empty"},
	{"[global]\nlanguage = en, fr\n", ":2: language: \"fr\" is not en or nl"},
	{"[rules]\nHDR-CC = reject\nHDR-CC = warn\n", ":3: rule HDR-CC given twice"},
	{"[record]\nduplicate_action = fix\n", ":2: duplicate_action: a duplicate cannot be fixed; use reject, tempfail, warn or ignore"},
	{"[record]\nduplicate_action = maybe\n", ":2: duplicate_action: \"maybe\" is not one of ignore, warn, fix, tempfail or reject"},
	{"[rules]\nHDR-CC = fix\n", ":2: HDR-CC cannot be fixed by htgate; use reject, tempfail, warn or ignore"},
	{"[environment e]\nenvelope_domain = x\nheader_domain = y\nsmtp_port = 1K\n", ":4: smtp_port: \"1K\" is not a number from 1 to 65535"},
	{"[global]\nmax_line_length = 2M\n", ":2: max_line_length: \"2M\" is not a number from 76 to 1048576 (K, M, G allowed)"},
	{"[global]\n = x\n", ":2: empty key before '='"},
	{"[record x]\n", ":1: [record] takes no name"},
	{"[global]\nfetch_sender = \n", ":2: fetch_sender: \"\" is empty or not a bare address"},
};

START_TEST(test_bad_file)
{
	const struct bad_case *c = &bad_cases[_i];
	char	err[1024] = "";
	struct htg_cfg *cfg = load_text(c->text, err, sizeof(err));

	ck_assert_msg(cfg == NULL, "accepted: %s", c->text);
	ck_assert_msg(strstr(err, c->want) != NULL, "error \"%s\" lacks \"%s\"",
		      err, c->want);
	ck_assert_msg(strncmp(err, tmpdir, strlen(tmpdir)) == 0,
		      "error does not start with the file name: %s", err);
	ck_assert_msg(strstr(err, "s3cret") == NULL, "a secret in: %s", err);
}
END_TEST

START_TEST(test_missing_file)
{
	char	err[256];

	ck_assert_ptr_null(cfg_load("/nonexistent/htgate.conf", err, sizeof(err)));
	ck_assert_str_eq(err, "/nonexistent/htgate.conf: No such file or directory");
}
END_TEST

START_TEST(test_overlong_line)
{
	GString *s = g_string_new("[global]\nstate_dir = ");
	char	err[256];

	while (s->len < 5000)
		g_string_append_c(s, 'x');
	g_string_append_c(s, '\n');
	ck_assert_ptr_null(load_text(s->str, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, ":2: line longer than"));
	g_string_free(s, TRUE);
}
END_TEST

/* The shipped file: the streams and account the core issue names. */
START_TEST(test_shipped_conf)
{
	static const char *const streams[] = {"AGS", "AGSC", "DMS", "DMSC",
		"DMSZIP", "DMSDOCS", "EMCS", "DVA", "CID", "DECO", "DECODOCS",
		"PNI", "NVWA-DIER", "NVWA-PLANT", "ELOGBOEK"};
	char   *path = g_build_filename(getenv("top_srcdir") ? getenv("top_srcdir")
				       : "..", "conf", "htgate.conf", NULL);
	char	err[1024];
	struct htg_cfg *cfg = cfg_load(path, err, sizeof(err));
	const struct htg_env *prod, *pre;
	const struct htg_stream *sw;
	size_t	i;
	int	envelope_form = -1;

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->nstreams, 16);
	prod = cfg_env_by_domain(cfg, "HTPOORT.nl", &envelope_form);
	ck_assert_ptr_nonnull(prod);
	ck_assert_int_eq(envelope_form, 0);
	pre = cfg_env_by_domain(cfg, "msa-smtp.preprod.htpoort.nl", &envelope_form);
	ck_assert_ptr_nonnull(pre);
	ck_assert_int_eq(envelope_form, 1);
	ck_assert_ptr_ne(prod, pre);
	ck_assert_ptr_null(cfg_env_by_domain(cfg, "foo.htpoort.nl", NULL));
	for (i = 0; i < G_N_ELEMENTS(streams); i++) {
		char   *lower = g_ascii_strdown(streams[i], -1);
		const struct htg_stream *s = cfg_stream_find(cfg, lower, prod);

		ck_assert_msg(s != NULL && s->profile == HTG_PROFILE_STANDARD,
			      "stream %s", streams[i]);
		ck_assert_ptr_eq(cfg_stream_find(cfg, streams[i], pre), s);
		ck_assert_ptr_nonnull(cfg_account_find(cfg, "Jan@Example.COM",
						       NULL, s, prod));
		ck_assert_ptr_nonnull(cfg_account_find(cfg, "erp@example.com",
						       NULL, s, pre));
		g_free(lower);
	}
	sw = cfg_stream_find(cfg, "SingleWindow", prod);
	ck_assert(sw != NULL && sw->profile == HTG_PROFILE_SINGLE_WINDOW);
	ck_assert_ptr_null(cfg_account_find(cfg, "jan@example.org", NULL, sw, prod));
	ck_assert_ptr_null(cfg_account_find(cfg, "jan@sub.example.com", NULL, sw, prod));
	ck_assert_int_eq(cfg_rule_action(cfg, RULE_HDR_MSGID), HTG_ACT_FIX);
	ck_assert_int_eq(cfg_rule_action(cfg, RULE_ENV_ENVID), HTG_ACT_FIX);
	ck_assert_int_eq(cfg_rule_action(cfg, RULE_ENV_NOTIFY), HTG_ACT_FIX);
	ck_assert_int_eq(cfg_rule_action(cfg, RULE_HDR_CC), HTG_ACT_REJECT);
	ck_assert_int_eq(cfg->nlangs, 2);
	cfg_unref(cfg);
	g_free(path);
}
END_TEST

/* Defaults: built-in environments, sizes with suffixes, lists. */
START_TEST(test_defaults_and_values)
{
	char	err[1024];
	struct htg_cfg *cfg = load_text(
		"# comment\n; another\n[global]\nsize_limit = 2M\nlanguage = nl\n"
		"report_only = yes\n[stream AGS]\nenvironments = preprod\n"
		"[account erp]\nsenders = erp@a.nl, @b.nl\nsasl_users = erp\n"
		"streams = AGS\nrate = defer\nrate_limit = 5\n", err, sizeof(err));
	const struct htg_env *prod, *pre;
	const struct htg_stream *ags;

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg->nenvs, 2);
	ck_assert_uint_eq(cfg->size_limit, 2 * 1024 * 1024);
	ck_assert_int_eq(cfg->nlangs, 1);
	ck_assert_int_eq(cfg->langs[0], HTG_LANG_NL);
	ck_assert_int_eq(cfg->report_only, 1);
	ck_assert_uint_eq(cfg->max_line_length, 998);
	prod = cfg_env_by_domain(cfg, "msa-smtp.htpoort.nl", NULL);
	pre = cfg_env_by_domain(cfg, "preprod.htpoort.nl", NULL);
	ck_assert(prod != NULL && pre != NULL);
	ck_assert_str_eq(pre->name, "preprod");
	ck_assert_int_eq(pre->smtp_port, 587);
	ck_assert_ptr_null(cfg_stream_find(cfg, "AGS", prod));
	ags = cfg_stream_find(cfg, "ags", pre);
	ck_assert_ptr_nonnull(ags);
	ck_assert_ptr_nonnull(cfg_account_find(cfg, "erp@a.nl", "erp", ags, pre));
	ck_assert_ptr_nonnull(cfg_account_find(cfg, "x@b.nl", "ERP", ags, pre));
	ck_assert_ptr_null(cfg_account_find(cfg, "erp@a.nl", NULL, ags, pre));
	ck_assert_ptr_null(cfg_account_find(cfg, "erp@a.nl", "other", ags, pre));
	ck_assert_int_eq(cfg->accounts[0].rate_mode, HTG_RATE_DEFER);
	ck_assert_int_eq(cfg->accounts[0].rate_limit, 5);
	ck_assert_int_eq(cfg->accounts[0].rate_window, 60);
	ck_assert_int_eq(cfg_rule_action(cfg, RULE_HDR_MSGID),
			 rule_get(RULE_HDR_MSGID)->default_action);
	cfg_unref(cfg);
}
END_TEST

START_TEST(test_sender_patterns)
{
	ck_assert(cfg_sender_match("*", "a@b.nl"));
	ck_assert(cfg_sender_match("*@b.nl", "A@B.NL"));
	ck_assert(cfg_sender_match("@b.nl", "a@b.nl"));
	ck_assert(!cfg_sender_match("@b.nl", "a@xb.nl"));
	ck_assert(cfg_sender_match("a@b.nl", "a@b.nl"));
	ck_assert(!cfg_sender_match("a@b.nl", "aa@b.nl"));
	ck_assert(cfg_sender_match("*@*.b.nl", "a@x.b.nl"));
	ck_assert(!cfg_sender_match("*", ""));
}
END_TEST

/* Secrets: not read at load (reporting runs without them); refused when
 * open to group/others by cfg_check_secrets (file:line) and at read. */
START_TEST(test_secret_files)
{
	char   *open_pw = write_conf("open.pw", "s3cret-value\n", 0644);
	char   *closed_pw = write_conf("closed.pw", "s3cret-value\n", 0600);
	char   *text, buf[128], err[1024];
	struct htg_cfg *cfg;

	text = g_strdup_printf("[account a]\nsenders = *\nmailbox = a@htpoort.nl\n"
			       "password_file = %s\n", open_pw);
	cfg = load_text(text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg_check_secrets(cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":1: [account a] password_file") != NULL
		      && strstr(err, "mode 0644") != NULL
		      && strstr(err, "s3cret") == NULL, "%s", err);
	cfg_unref(cfg);
	g_free(text);
	text = g_strdup_printf("[environment production]\nenvelope_domain = msa-smtp.htpoort.nl\n"
			       "header_domain = htpoort.nl\npop3_host = pop3.example\n"
			       "[account a]\nsenders = *\nmailbox = a@htpoort.nl\n"
			       "password_file = %s\nfetch = yes\n", closed_pw);
	cfg = load_text(text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg_check_secrets(cfg, err, sizeof(err)), 0);
	cfg_unref(cfg);
	ck_assert_int_eq(cfg_secret_read(closed_pw, buf, sizeof(buf), err,
					 sizeof(err)), 0);
	ck_assert_str_eq(buf, "s3cret-value");
	ck_assert_int_eq(cfg_secret_read(open_pw, buf, sizeof(buf), err,
					 sizeof(err)), -1);
	ck_assert_ptr_null(strstr(err, "s3cret"));
	g_free(text);
	g_free(open_pw);
	g_free(closed_pw);
}
END_TEST

/* A NUL byte inside a line is refused, not silently cut off there. */
START_TEST(test_nul_in_line)
{
	static const char text[] = "[global]\nstate_dir = /var/lib/htgate\0/../etc\n";
	char   *path = g_build_filename(tmpdir, "nul.conf", NULL);
	char	err[1024] = "";

	ck_assert(g_file_set_contents(path, text, sizeof(text) - 1, NULL));
	ck_assert_ptr_null(cfg_load(path, err, sizeof(err)));
	ck_assert_msg(strstr(err, ":2: line is not valid UTF-8 text") != NULL, "%s", err);
	g_free(path);
}
END_TEST

/* Accounts are picked as Postfix picks credentials: address, domain, "*". */
START_TEST(test_account_lookup_order)
{
	char	err[1024];
	struct htg_cfg *cfg = load_text(
		"[stream AGS]\n[stream DMS]\n"
		"[account any]\nsenders = *\nstreams = *\n"
		"[account domain]\nsenders = *@a.nl\nstreams = AGS\nsize_limit = 1M\n"
		"[account erp]\nsenders = erp@a.nl\nstreams = DMS\n"
		"addresses = erp@a.nl, @broker.nl\n", err, sizeof(err));
	const struct htg_env *prod;
	const struct htg_stream *ags, *dms;

	ck_assert_msg(cfg != NULL, "%s", err);
	prod = cfg_env_by_name(cfg, "production");
	ags = cfg_stream_find(cfg, "AGS", prod);
	dms = cfg_stream_find(cfg, "DMS", prod);
	ck_assert_str_eq(cfg_account_of(cfg, "erp@A.NL", prod)->name, "erp");
	ck_assert_str_eq(cfg_account_of(cfg, "jan@a.nl", prod)->name, "domain");
	ck_assert_str_eq(cfg_account_of(cfg, "x@other.nl", prod)->name, "any");
	/* erp's own account has no AGS: no falling back to the domain one */
	ck_assert_ptr_null(cfg_account_find(cfg, "erp@a.nl", NULL, ags, prod));
	ck_assert_ptr_nonnull(cfg_account_find(cfg, "erp@a.nl", NULL, dms, prod));
	ck_assert_ptr_null(cfg_account_find(cfg, "jan@a.nl", NULL, dms, prod));
	ck_assert_uint_eq(cfg_size_limit(cfg, cfg_account_of(cfg, "jan@a.nl", prod)),
			  1024 * 1024);
	ck_assert_uint_eq(cfg_size_limit(cfg, cfg_account_of(cfg, "x@other.nl", prod)), 0);
	ck_assert_uint_eq(cfg_size_limit(cfg, NULL), 0);
	cfg_unref(cfg);
}
END_TEST

/* cfg_dump: every key of every section, each type in its words. */
START_TEST(test_dump)
{
	static const char *const want[] = {
		"# effective configuration of ", "\n[global]\nlanguage = nl en\n",
		"report_only = yes\n", "size_limit = 2097152\n",
		"on_internal_error = reject\n", "fetch_interval = 120\n",
		"policy_default_action = " CFG_POLICY_DEFAULT_ACTION "\n",
		"\n[environment test]\nenvelope_domain = msa-smtp.t.nl\n",
		"smtp_host = msa-smtp.t.nl\n", "tls_name = msa-smtp.t.nl\n",
		"pop3_host = pop.t.nl\npop3_port = 995\n",
		"\n[stream SW]\nprofile = single-window\nenvironments = test\n",
		"\n[stream AGS]\nprofile = standard\nenvironments = test\n",
		"\n[account erp]\nmailbox = erp@t.nl\nsenders = erp@a.nl @b.nl\n",
		"sasl_users =\n", "streams = SW AGS\n", "rate = defer\n",
		"fetch = yes\nfetch_environment = test\n",
		"\n[account other]\n", "rate = off\n",
		"\n[route r1]\naccount = erp\nheader = Subject\npattern = *SW*\n"
		"recipient = sw@a.nl\n",
		"\n[record]\nenabled = yes\n", "duplicate_action = warn\n",
		"\n[rules]\n", "HDR-CC = warn\n", "INTERNAL = tempfail\n",
	};
	char   *pw = write_conf("dump.pw", "x\n", 0600);
	char   *text = g_strdup_printf(
		"[global]\nlanguage = nl en\nreport_only = yes\nsize_limit = 2M\n"
		"on_internal_error = reject\nfetch_interval = 120\n"
		"[environment test]\nenvelope_domain = msa-smtp.t.nl\n"
		"header_domain = t.nl\npop3_host = pop.t.nl\npop3_port = 995\n"
		"[stream SW]\nprofile = single-window\n[stream AGS]\n"
		"[account erp]\nmailbox = erp@t.nl\nsenders = erp@a.nl, @b.nl\n"
		"streams = SW AGS\nrate = defer\npassword_file = %s\nfetch = yes\n"
		"[account other]\nsenders = *\nrate = off\n"
		"[route r1]\naccount = erp\nheader = Subject\npattern = *SW*\n"
		"recipient = sw@a.nl\n[record]\nenabled = yes\n"
		"duplicate_action = warn\n[rules]\nHDR-CC = warn\n", pw);
	char	err[1024], *out = NULL;
	size_t	outlen = 0, i;
	struct htg_cfg *cfg = load_text(text, err, sizeof(err));
	FILE   *fp;

	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_ptr_nonnull(fp = open_memstream(&out, &outlen));
	cfg_dump(cfg, fp);
	fclose(fp);
	for (i = 0; i < G_N_ELEMENTS(want); i++)
		ck_assert_msg(strstr(out, want[i]) != NULL, "dump lacks \"%s\":\n%s",
			      want[i], out);
	ck_assert_ptr_null(strstr(out, "\nx\n"));	/* never the secret */
	ck_assert_int_eq(cfg_rule_action(cfg, (enum htg_rule_id) RULE_COUNT),
			 HTG_ACT_TEMPFAIL);
	free(out);
	cfg_unref(cfg);
	g_free(text);
	g_free(pw);
}
END_TEST

/* cfg_keys_print: "section key<TAB>default<TAB>doc", every row with a doc */
START_TEST(test_keys_print)
{
	char   *out = NULL, **lines;
	size_t	outlen = 0;
	FILE   *fp = open_memstream(&out, &outlen);
	int	i, n = 0;

	cfg_keys_print(fp);
	fclose(fp);
	ck_assert_ptr_nonnull(strstr(out, "global policy_default_action\t"
				     CFG_POLICY_DEFAULT_ACTION "\t"));
	ck_assert_ptr_nonnull(strstr(out, "environment envelope_domain\t-\t"));
	ck_assert_ptr_nonnull(strstr(out, "record database\t\t"));
	lines = g_strsplit(out, "\n", -1);
	for (i = 0; lines[i] != NULL && lines[i][0]; i++, n++) {
		char  **f = g_strsplit(lines[i], "\t", -1);

		ck_assert_msg(g_strv_length(f) == 3 && f[2][0] != 0,
			      "row without a doc string: %s", lines[i]);
		g_strfreev(f);
	}
	ck_assert_int_gt(n, 40);
	g_strfreev(lines);
	free(out);
}
END_TEST

/* cfg_secret_read and cfg_check_secrets: missing, empty, unset. */
START_TEST(test_secret_errors)
{
	char   *empty = write_conf("empty.pw", "\n", 0600);
	char   *text, buf[64], err[1024];
	struct htg_cfg *cfg;

	ck_assert_int_eq(cfg_secret_read(empty, buf, sizeof(buf), err,
					 sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "empty.pw: empty"));
	ck_assert_int_eq(cfg_secret_read("", buf, sizeof(buf), err,
					 sizeof(err)), -1);
	ck_assert_str_eq(err, "no password_file configured");
	ck_assert_int_eq(cfg_secret_read("/nonexistent/x.pw", buf, sizeof(buf),
					 err, sizeof(err)), -1);
	ck_assert_str_eq(err, "/nonexistent/x.pw: No such file or directory");
	text = g_strdup("[account a]\nsenders = *\npassword_file = /nonexistent/x.pw\n");
	cfg = load_text(text, err, sizeof(err));
	ck_assert_msg(cfg != NULL, "%s", err);
	ck_assert_int_eq(cfg_check_secrets(cfg, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, ":1: [account a] password_file "
				     "/nonexistent/x.pw: No such file"));
	cfg_unref(cfg);
	g_free(text);
	g_free(empty);
}
END_TEST

/* The current snapshot: set/get reference counting. */
START_TEST(test_current_snapshot)
{
	char	err[256];
	struct htg_cfg *a = load_text("[global]\n", err, sizeof(err));
	struct htg_cfg *b = load_text("[global]\nreport_only = yes\n", err, sizeof(err));
	struct htg_cfg *pinned;

	ck_assert(a != NULL && b != NULL);
	cfg_current_set(a);
	pinned = cfg_current_get();
	ck_assert_ptr_eq(pinned, a);
	cfg_current_set(b);		/* a survives: pinned holds it */
	ck_assert_int_eq(pinned->report_only, 0);
	cfg_unref(pinned);
	pinned = cfg_current_get();
	ck_assert_int_eq(pinned->report_only, 1);
	cfg_unref(pinned);
	cfg_current_set(NULL);
}
END_TEST

/* cfg_suite - all cases */
static Suite *
cfg_suite(void)
{
	const TTest *tests[] = {
		test_missing_file, test_overlong_line, test_shipped_conf,
		test_defaults_and_values, test_sender_patterns,
		test_secret_files, test_nul_in_line, test_account_lookup_order,
		test_current_snapshot, test_dump, test_keys_print,
		test_secret_errors,
	};
	Suite  *s = suite_create("cfg");
	TCase  *tc = tcase_create("cfg");
	size_t	i;

	tcase_add_loop_test(tc, test_bad_file, 0, G_N_ELEMENTS(bad_cases));
	for (i = 0; i < G_N_ELEMENTS(tests); i++)
		tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	int	failed;
	char   *cmd;

	if (mkdtemp(tmpdir) == NULL)
		return (99);
	failed = unit_run(cfg_suite(), 1);
	cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		failed++;
	g_free(cmd);
	return (failed ? 1 : 0);
}
