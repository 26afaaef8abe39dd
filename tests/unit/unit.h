/*
 * unit.h - what every Check suite of tests/unit ends with: run the
 * suite, report, and turn the failure count into the exit status that
 * automake's test driver reads (0 pass, 1 fail).
 */
#ifndef HTG_TEST_UNIT_H
#define HTG_TEST_UNIT_H

#include <check.h>

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
