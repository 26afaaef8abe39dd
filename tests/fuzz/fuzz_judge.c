/*
 * NAME
 *	fuzz_judge - fuzz target: the whole engine over a whole message, in
 *	every mode
 * DESCRIPTION
 *	The input is a message file; judge_stream() (lib/judge.c, which
 *	reads it with lib/msgfile.c) drives a fresh htg_msg through the
 *	envelope taken from its From:/To: headers, the headers, the body
 *	chunks and the end of message.  Each input is judged in every mode
 *	the programs run it in: SMTP (flags 0), sendmail(1) (defer mode),
 *	the policy daemon (no ESMTP) and the egress stage (with a route),
 *	each under three configurations: the corpus configuration
 *	(fuzz_conf_path(), loaded once), the same with report_only = yes,
 *	and the same with every rule that is not a fix set to warn (modes
 *	that keep recipients a refusal would have dropped; that is where the
 *	late-HTG-recipient NULL dereference lived).  Any verdict is fine; a
 *	crash, a leak or undefined behaviour is the bug.
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

static const int modes[] = {
	0, HTG_MSG_DEFER_ENVELOPE, HTG_MSG_NO_ESMTP, HTG_MSG_EGRESS,
};

/* load - one configuration variant (fuzz_conf_variant), or abort */
static struct htg_cfg *
load(int variant)
{
	char	err[512];
	struct htg_cfg *cfg = cfg_load(fuzz_conf_variant(variant), err,
				       sizeof(err));

	if (cfg == NULL) {
		fprintf(stderr, "fuzz_judge: %s\n", err);
		abort();
	}
	return (cfg);
}

/* judge_as - the input judged under one configuration and mode */
static void
judge_as(const struct htg_cfg *cfg, int flags, const uint8_t *data,
	 size_t size)
{
	struct judge_envelope env = {0};
	struct htg_msg *msg;
	FILE   *fp;

	if ((fp = fmemopen((void *) data, size, "rb")) == NULL)
		abort();
	if ((msg = htg_msg_new(cfg, flags)) == NULL)
		abort();
	if (flags & HTG_MSG_EGRESS)
		htg_msg_set_route(msg, &cfg->envs[0]);
	(void) judge_stream(msg, fp, &env);
	htg_msg_free(msg);
	fclose(fp);
}

/* LLVMFuzzerTestOneInput - judge one message in every mode */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct htg_cfg *cfgs[FUZZ_CONF_VARIANTS];
	size_t	c, m;

	if (cfgs[0] == NULL) {
		log_init("fuzz_judge", 1, 0);
		mimehdr_init();
		for (c = 0; c < FUZZ_CONF_VARIANTS; c++)
			cfgs[c] = load((int) c);
	}
	if (size == 0)
		return (0);
	for (c = 0; c < FUZZ_CONF_VARIANTS; c++)
		for (m = 0; m < sizeof(modes) / sizeof(modes[0]); m++)
			judge_as(cfgs[c], modes[m], data, size);
	return (0);
}
