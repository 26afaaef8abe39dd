/*
 * NAME
 *	test_log - log_sanitize() on hostile text
 * DESCRIPTION
 *	Untrusted text (addresses, Message-IDs, header values) reaches log
 *	lines and SMTP replies only through log_sanitize(): CR, LF and other
 *	controls, invalid UTF-8, quotes and overlong input must come out
 *	escaped and bounded.
 */
#include "config.h"

#include <check.h>
#include <string.h>

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

int
main(void)
{
	Suite  *s = suite_create("log");
	TCase  *tc = tcase_create("sanitize");

	tcase_add_loop_test(tc, test_sanitize, 0, sizeof(cases) / sizeof(cases[0]));
	suite_add_tcase(s, tc);
	return (unit_run(s, 0) ? 1 : 0);
}
