/*
 * NAME
 *	test_log - log_sanitize() on hostile text; the standard-error sink
 * DESCRIPTION
 *	Untrusted text (addresses, Message-IDs, header values) reaches log
 *	lines and SMTP replies only through log_sanitize(): CR, LF and other
 *	controls, invalid UTF-8, quotes and overlong input must come out
 *	escaped and bounded.  The standard-error sink writes "ident: label:
 *	text" and logs debug lines only when verbose; log_fatal() exits 1.
 *	(The syslog sink: tests/daemon/daemon-syslog.sh.)
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "log.h"

static const struct tc {
	const char *label;
	const char *in;
	size_t	dstlen;
	const char *want;
} cases[] = {
	{"plain", "jan@example.com", 64, "jan@example.com"},
	{"CR LF injection", "a\r\nRCPT TO:<x>", 64, "a\\x0d\\x0aRCPT TO:<x>"},
	{"NUL-free control", "a\tb\x1b[0m", 64, "a\\x09b\\x1b[0m"},
	{"quote and backslash", "say \"hi\" \\o/", 64, "say \\\"hi\\\" \\\\o/"},
	{"valid UTF-8 kept", "caf\xc3\xa9", 64, "caf\xc3\xa9"},
	{"invalid UTF-8 escaped", "caf\xe9!", 64, "caf\\xe9!"},
	{"truncated with marker", "abcdefghijklmnop", 10, "abcdef..."},
	{"truncation never splits an escape", "abcd\r\nefgh", 10, "abcd..."},
	{"NULL input", NULL, 8, ""},
	{"DEL escaped", "a\x7f", 64, "a\\x7f"},
	{"3-byte UTF-8 kept", "\xe2\x82\xac" "5", 64, "\xe2\x82\xac" "5"},
	{"4-byte UTF-8 kept", "\xf0\x9f\x98\x80", 64, "\xf0\x9f\x98\x80"},
	{"bad continuation escaped", "\xe2\x28\xa1", 64, "\\xe2(\\xa1"},
	{"overlong lead byte escaped", "\xc0\xaf", 64, "\\xc0\\xaf"},
	{"no room at all", "abc", 1, ""},
	{"too small for the marker", "abcdef", 3, ""},
};

START_TEST(test_sanitize)
{
	const struct tc *c = &cases[_i];
	char	buf[128];

	memset(buf, 'Z', sizeof(buf));
	log_sanitize(buf, c->dstlen, c->in);
	ck_assert_msg(strcmp(buf, c->want) == 0, "%s: got \"%s\", want \"%s\"",
		      c->label, buf, c->want);
	ck_assert_msg(strlen(buf) < c->dstlen, "%s: overflow", c->label);
}
END_TEST

/* stderr_capture - standard error into a temporary file; the old fd */
static int
stderr_capture(FILE **fp)
{
	int	old = dup(STDERR_FILENO);

	ck_assert_ptr_nonnull(*fp = tmpfile());
	ck_assert_int_ge(dup2(fileno(*fp), STDERR_FILENO), 0);
	return (old);
}

/* stderr_restore - standard error back; what was written, to free */
static char *
stderr_restore(FILE *fp, int old)
{
	char   *text = calloc(1, 4096);

	fflush(stderr);
	ck_assert_int_ge(dup2(old, STDERR_FILENO), 0);
	close(old);
	rewind(fp);
	ck_assert_uint_lt(fread(text, 1, 4095, fp), 4095);
	fclose(fp);
	return (text);
}

START_TEST(test_stderr_sink)
{
	FILE   *fp;
	int	old = stderr_capture(&fp);
	char   *text;

	log_init("unit", 1, 0);
	log_err("e %d", 1);
	log_warn("w");
	log_info("i");
	log_debug("hidden");
	log_set_verbose(1);
	log_debug("shown");
	log_set_verbose(0);
	text = stderr_restore(fp, old);
	ck_assert_str_eq(text, "unit: error: e 1\nunit: warning: w\nunit: i\n"
			 "unit: debug: shown\n");
	free(text);
}
END_TEST

/* log_fatal: "fatal:" on standard error, exit status 1 */
START_TEST(test_fatal)
{
	log_init("unit", 1, 0);
	log_fatal("cannot go on: %s", "reason");
}
END_TEST

int
main(void)
{
	Suite  *s = suite_create("log");
	TCase  *tc = tcase_create("sanitize");
	TCase  *sink = tcase_create("sink");

	tcase_add_loop_test(tc, test_sanitize, 0, sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	tcase_add_test(sink, test_stderr_sink);
	tcase_add_exit_test(sink, test_fatal, 1);
	suite_add_tcase(s, sink);
	return (unit_run(s, 0) ? 1 : 0);
}
