/*
 * NAME
 *	fuzz_encval - fuzz target: the incremental validators (lib/encval.c)
 * DESCRIPTION
 *	Input: byte 0 picks the kind (7bit, quoted-printable, base64) and
 *	max_line (from 1 up to 998, and beyond); bytes 1-4 seed the random
 *	chunking; the rest is the body.  The body is validated twice: in
 *	one piece and in random chunks (1 byte up to the whole), and the
 *	two runs must agree exactly (result, error text, offset, line):
 *	the validators promise that a split anywhere changes nothing.
 * OWNERSHIP
 *	tests/fuzz (hardening).
 */
#include <stdlib.h>
#include <string.h>

#include "encval.h"
#include "fuzz.h"

/* fuzz_run - validate body in chunks from the seed (0: one piece) */
static int
fuzz_run(struct encval *v, enum encval_kind kind, size_t max_line,
	 const uint8_t *body, size_t len, uint32_t seed)
{
	size_t	off = 0, n;
	int	rc = 0;

	encval_init(v, kind, max_line);
	while (off < len) {
		n = len - off;
		if (seed != 0) {
			seed = seed * 1103515245u + 12345u;
			/* Mostly tiny chunks, sometimes large ones. */
			n = 1 + (seed >> 16) % ((seed & 1) ? 4 : 4096);
			if (n > len - off)
				n = len - off;
		}
		rc = encval_feed(v, body + off, n);
		off += n;
	}
	if (encval_finish(v) < 0)
		rc = -1;
	return (rc);
}

/* LLVMFuzzerTestOneInput - one body, whole and chunked, must agree */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t max_lines[] = {1, 2, 76, 78, 998, 1000, 65536};
	struct encval whole, chunked;
	enum encval_kind kind;
	size_t	max_line;
	uint32_t seed;
	int	r1, r2;

	if (size < 5)
		return (0);
	kind = (enum encval_kind) (data[0] % 3);
	max_line = max_lines[(data[0] / 3) % (sizeof(max_lines) / sizeof(max_lines[0]))];
	seed = (uint32_t) data[1] | (uint32_t) data[2] << 8
	    | (uint32_t) data[3] << 16 | (uint32_t) data[4] << 24;
	seed |= 1u << 31;			/* never 0: always chunked */
	r1 = fuzz_run(&whole, kind, max_line, data + 5, size - 5, 0);
	r2 = fuzz_run(&chunked, kind, max_line, data + 5, size - 5, seed);
	if (r1 != r2 || (whole.error == NULL) != (chunked.error == NULL)
	    || (whole.error != NULL && strcmp(whole.error, chunked.error) != 0)
	    || whole.offset != chunked.offset || whole.line != chunked.line)
		abort();
	if (r1 == 0 && whole.error != NULL)
		abort();
	return (0);
}
