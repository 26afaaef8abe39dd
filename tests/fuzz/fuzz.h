/*
 * NAME
 *	fuzz.h - the interface shared by the fuzz targets and their drivers
 * SYNOPSIS
 *	#include "fuzz.h"
 *	int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
 *	char   *fuzz_cstr(const uint8_t *data, size_t size);
 *	const char *fuzz_conf_path(void);

#define FUZZ_CONF_AS_IS		0
#define FUZZ_CONF_REPORT_ONLY	1
#define FUZZ_CONF_ALL_WARN	2
#define FUZZ_CONF_VARIANTS	3
const char *fuzz_conf_variant(int variant);
 *	const char *fuzz_conf_variant(int variant);
 * DESCRIPTION
 *	Each fuzz_<target>.c defines LLVMFuzzerTestOneInput().  It is
 *	linked either with libFuzzer (clang -fsanitize=fuzzer, bench/fuzz)
 *	or with replay.c (gcc, make check), which feeds it every file of
 *	the target's saved corpus.  A target reports a bug by crashing
 *	(abort(), a sanitizer report), never by its return value.
 *	fuzz_cstr() returns a NUL-terminated copy of the input (the caller
 *	frees it; abort() on allocation failure).  fuzz_conf_path() names
 *	the htgate.conf the engine targets load: $HTGATE_FUZZ_CONF, else
 *	$top_srcdir/tests/corpus/htgate.conf, else FUZZ_DEFAULT_CONF.
 *	fuzz_conf_variant() names a file with that configuration changed:
 *	FUZZ_CONF_AS_IS (0) the file itself, FUZZ_CONF_REPORT_ONLY (1) with
 *	report_only = yes, FUZZ_CONF_ALL_WARN (2) with every rule that is
 *	not a fix (and not INTERNAL) set to warn.  The variants are written
 *	once into a temporary directory removed at exit.
 * OWNERSHIP
 *	tests/fuzz (hardening).
 */
#ifndef HTG_FUZZ_H
#define HTG_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int	LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
char   *fuzz_cstr(const uint8_t *data, size_t size);
const char *fuzz_conf_path(void);

#define FUZZ_CONF_AS_IS		0
#define FUZZ_CONF_REPORT_ONLY	1
#define FUZZ_CONF_ALL_WARN	2
#define FUZZ_CONF_VARIANTS	3
const char *fuzz_conf_variant(int variant);

#endif
