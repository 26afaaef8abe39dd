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
	Suite  *s = suite_create("cfg");
	TCase  *tc = tcase_create("cfg");

	tcase_add_loop_test(tc, test_bad_file, 0, G_N_ELEMENTS(bad_cases));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_overlong_line);
	tcase_add_test(tc, test_shipped_conf);
	tcase_add_test(tc, test_defaults_and_values);
	tcase_add_test(tc, test_sender_patterns);
	tcase_add_test(tc, test_secret_files);
	tcase_add_test(tc, test_nul_in_line);
	tcase_add_test(tc, test_account_lookup_order);
	tcase_add_test(tc, test_current_snapshot);
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
