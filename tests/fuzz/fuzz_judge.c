/*
 * NAME
 *	fuzz_judge - fuzz target: the MIME/body engine over a whole message
 * DESCRIPTION
 *	The input is a message file; judge_stream() (lib/judge.c, which
 *	reads it with lib/msgfile.c) drives a fresh htg_msg through the
 *	envelope taken from its From:/To: headers, the headers, the body
 *	chunks and the end of message, under the corpus configuration
 *	(fuzz_conf_path(), loaded once).  Any verdict is fine; a crash, a
 *	leak or undefined behaviour is the bug.
 * OWNERSHIP
 *	tests/fuzz (hardening).  The configuration lives for the process.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cfg.h"
#include "engine.h"
#include "judge.h"
#include "log.h"
#include "mimehdr.h"
#include "fuzz.h"

/* LLVMFuzzerTestOneInput - judge one message */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct htg_cfg *cfg;
	struct judge_envelope env = {0};
	struct htg_msg *msg;
	char	err[512];
	FILE   *fp;

	if (cfg == NULL) {
		log_init("fuzz_judge", 1, 0);
		mimehdr_init();
		if ((cfg = cfg_load(fuzz_conf_path(), err, sizeof(err))) == NULL) {
			fprintf(stderr, "fuzz_judge: %s\n", err);
			abort();
		}
	}
	if (size == 0)
		return (0);
	if ((fp = fmemopen((void *) data, size, "rb")) == NULL)
		abort();
	if ((msg = htg_msg_new(cfg, 0)) == NULL)
		abort();
	(void) judge_stream(msg, fp, &env);
	htg_msg_free(msg);
	fclose(fp);
	return (0);
}
