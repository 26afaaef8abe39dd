/*
 * NAME
 *	fuzz_cfg - fuzz target: the configuration parser (lib/cfg.c)
 * DESCRIPTION
 *	Writes the input to a private temporary file and loads it with
 *	cfg_load(); on success frees it, on failure checks that the error
 *	text is a NUL-terminated string within the buffer.
 * OWNERSHIP
 *	tests/fuzz (hardening).  The temporary file is created once per
 *	process and removed at exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "fuzz.h"

static char fuzz_path[64];

/* fuzz_cleanup - remove the temporary file */
static void
fuzz_cleanup(void)
{
	if (fuzz_path[0] != 0)
		unlink(fuzz_path);
}

/* LLVMFuzzerTestOneInput - load one configuration file */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct htg_cfg *cfg;
	char	err[512];
	FILE   *fp;
	int	fd;

	if (fuzz_path[0] == 0) {
		log_init("fuzz_cfg", 1, 0);
		snprintf(fuzz_path, sizeof(fuzz_path), "/tmp/htgate-fuzz-cfg.XXXXXX");
		if ((fd = mkstemp(fuzz_path)) < 0)
			abort();
		close(fd);
		atexit(fuzz_cleanup);
	}
	if ((fp = fopen(fuzz_path, "wb")) == NULL)
		abort();
	if (size > 0 && fwrite(data, 1, size, fp) != size)
		abort();
	if (fclose(fp) != 0)
		abort();
	memset(err, 'x', sizeof(err));
	if ((cfg = cfg_load(fuzz_path, err, sizeof(err))) != NULL)
		cfg_unref(cfg);
	else if (memchr(err, 0, sizeof(err)) == NULL)
		abort();
	return (0);
}
