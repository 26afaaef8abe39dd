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
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "fuzz.h"
#include "rules.h"

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

static char *variant_dir;
static char *variant_path[FUZZ_CONF_VARIANTS];

/* variants_remove - atexit: the temporary variant files */
static void
variants_remove(void)
{
	int	i;

	for (i = 1; i < FUZZ_CONF_VARIANTS; i++)
		if (variant_path[i] != NULL)
			(void) g_unlink(variant_path[i]);
	if (variant_dir != NULL)
		(void) g_rmdir(variant_dir);
}

/* variant_text - the configuration text of one variant */
static GString *
variant_text(const char *base, int variant)
{
	GString *s = g_string_new(base);
	const char *cur;
	int	r;

	if (variant == FUZZ_CONF_REPORT_ONLY) {
		if (g_string_replace(s, "report_only = no", "report_only = yes", 1) != 1)
			abort();
		return (s);
	}
	if (strstr(s->str, "\n[rules]\n") == NULL)
		g_string_append(s, "\n[rules]\n");
	for (r = 0; r < RULE_COUNT; r++) {
		const struct htg_rule *rule = rule_get(r);
		char   *key = g_strdup_printf("\n%s = ", rule->name);

		cur = strstr(s->str, key);
		if (cur == NULL && rule->id != RULE_INTERNAL)
			g_string_append_printf(s, "%s = warn\n", rule->name);
		g_free(key);
	}
	return (s);
}

/* fuzz_conf_variant - a file with the configuration in one variant */
const char *
fuzz_conf_variant(int variant)
{
	gchar  *base;
	GString *text;

	if (variant <= 0 || variant >= FUZZ_CONF_VARIANTS)
		return (fuzz_conf_path());
	if (variant_path[variant] != NULL)
		return (variant_path[variant]);
	if (variant_dir == NULL) {
		if ((variant_dir = g_dir_make_tmp("htgate-fuzz-XXXXXX", NULL)) == NULL)
			abort();
		atexit(variants_remove);
	}
	if (!g_file_get_contents(fuzz_conf_path(), &base, NULL, NULL))
		abort();
	text = variant_text(base, variant);
	variant_path[variant] = g_strdup_printf("%s/variant%d.conf", variant_dir,
						variant);
	if (!g_file_set_contents(variant_path[variant], text->str, -1, NULL))
		abort();
	g_string_free(text, TRUE);
	g_free(base);
	return (variant_path[variant]);
}
