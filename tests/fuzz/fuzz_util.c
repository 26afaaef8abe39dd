/*
 * NAME
 *	fuzz_util - helpers shared by the fuzz targets (see fuzz.h)
 * OWNERSHIP
 *	tests/fuzz (hardening).  fuzz_conf_path() returns a static buffer
 *	filled once; the targets are single-threaded.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#ifndef FUZZ_DEFAULT_CONF
#define FUZZ_DEFAULT_CONF "tests/corpus/htgate.conf"
#endif

/* fuzz_cstr - NUL-terminated copy of the input; abort() without memory */
char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char   *s = malloc(size + 1);

	if (s == NULL)
		abort();
	if (size > 0)
		memcpy(s, data, size);
	s[size] = 0;
	return (s);
}

/* fuzz_conf_path - the configuration the engine targets load */
const char *
fuzz_conf_path(void)
{
	static char path[4096];
	const char *p;

	if (path[0] != 0)
		return (path);
	if ((p = getenv("HTGATE_FUZZ_CONF")) != NULL && *p != 0) {
		if ((size_t) snprintf(path, sizeof(path), "%s", p) >= sizeof(path))
			abort();
	} else if ((p = getenv("top_srcdir")) != NULL && *p != 0) {
		if ((size_t) snprintf(path, sizeof(path),
				      "%s/tests/corpus/htgate.conf", p) >= sizeof(path))
			abort();
	} else {
		snprintf(path, sizeof(path), "%s", FUZZ_DEFAULT_CONF);
	}
	return (path);
}
