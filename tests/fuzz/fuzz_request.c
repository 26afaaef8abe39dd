/*
 * NAME
 *	fuzz_request - fuzz target: the policy request parser
 * DESCRIPTION
 *	policy/request.c is compiled into this target unchanged (included
 *	below), so the fuzzer sees exactly the daemon's parser.  Byte 0
 *	seeds the chunking; the rest is fed to pol_req_feed() in chunks as
 *	a client's writes would arrive.  After each finished request every
 *	attribute must be a NUL-terminated name=value pair, a malformed one
 *	must carry a NUL-terminated reason, and pol_req_feed() must never
 *	claim more bytes than it was given.  POL_FEED_FATAL ends the
 *	"connection", as the daemon closes it.
 * OWNERSHIP
 *	tests/fuzz (hardening).
 */
#include "../../policy/request.c"

#include <stdlib.h>

#include "fuzz.h"

/* fuzz_check - the invariants of a finished request */
static void
fuzz_check(const struct pol_req *req)
{
	int	i;

	if (req->nattr < 0 || req->nattr > POL_ATTR_MAX)
		abort();
	for (i = 0; i < req->nattr; i++) {
		if (req->attr[i].name == NULL || req->attr[i].value == NULL)
			abort();
		if (pol_req_get(req, req->attr[i].name) == NULL)
			abort();
	}
	if (req->bad && memchr(req->why, 0, sizeof(req->why)) == NULL)
		abort();
	(void) pol_req_get(req, "request");
	(void) pol_req_get(req, "recipient");
}

/* LLVMFuzzerTestOneInput - one client's byte stream */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pol_req *req;
	enum pol_feed status;
	size_t	off = 1, n, used;
	unsigned seed;

	if (size < 1)
		return (0);
	seed = data[0] | 1u;
	if ((req = malloc(sizeof(*req))) == NULL)
		abort();
	pol_req_init(req);
	while (off < size) {
		seed = seed * 1103515245u + 12345u;
		n = 1 + (seed >> 16) % 64;
		if (n > size - off)
			n = size - off;
		while (n > 0) {
			used = pol_req_feed(req, (const char *) data + off, n, &status);
			if (used > n)
				abort();
			off += used;
			n -= used;
			if (status == POL_FEED_FATAL)
				goto done;
			if (status == POL_FEED_DONE) {
				fuzz_check(req);
				pol_req_reset(req);
			} else if (used == 0) {
				abort();	/* MORE must consume everything */
			}
		}
	}
done:
	pol_req_reset(req);
	free(req);
	return (0);
}
