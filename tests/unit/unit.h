/*
 * unit.h - what every Check suite of tests/unit ends with: a test case
 * with its fixture and its tests, run the suite, report, and turn the
 * failure count into the exit status that automake's test driver reads
 * (0 pass, 1 fail).
 */
#ifndef HTG_TEST_UNIT_H
#define HTG_TEST_UNIT_H

#include <stddef.h>
#include <string.h>

#include <check.h>

/* unit_assert_prefix - the string s starts with prefix */
#define unit_assert_prefix(s, prefix) \
	ck_assert_msg(strncmp((s), (prefix), strlen(prefix)) == 0, "%s", (s))

/* unit_tcase - a test case of s with an optional checked fixture */
static inline TCase *
unit_tcase(Suite *s, const char *name, SFun setup, SFun teardown)
{
	TCase  *tc = tcase_create(name);

	if (setup != NULL || teardown != NULL)
		tcase_add_checked_fixture(tc, setup, teardown);
	suite_add_tcase(s, tc);
	return (tc);
}

/* unit_add_tests - add each of the n tests to tc, in order */
static inline void
unit_add_tests(TCase *tc, const TTest *const *tests, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		tcase_add_test(tc, tests[i]);
}

/* unit_run - run s (in-process when nofork, e.g. for a shared temp dir) */
static inline int
unit_run(Suite *s, int nofork)
{
	SRunner *sr = srunner_create(s);
	int	failed;

	if (nofork)
		srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return (failed);
}

#endif
