/*
 * NAME
 *	fuzz_mimehdr - fuzz target: header value parsing (lib/mimehdr.c)
 * DESCRIPTION
 *	The first input byte picks the parser (addresses, Content-Type,
 *	Content-Disposition, Date, Message-ID) and, for the ones writing
 *	into a caller buffer, its size (1 to 256 bytes, to catch silent
 *	overruns); the rest, NUL-terminated, is the header value.  Checks
 *	that results are NUL-terminated within their buffers.
 * OWNERSHIP
 *	tests/fuzz (hardening).
 */
#include <stdlib.h>
#include <string.h>

#include "mimehdr.h"
#include "fuzz.h"

/* fuzz_terminated - abort unless buf holds a NUL within len bytes */
static void
fuzz_terminated(const char *buf, size_t len)
{
	if (memchr(buf, 0, len) == NULL)
		abort();
}

/* LLVMFuzzerTestOneInput - parse one header value */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int inited;
	struct mime_ctype ct;
	struct mime_disp cd;
	char   *value, *out;
	size_t	outlen;
	unsigned sel;

	if (size < 1)
		return (0);
	if (!inited) {
		mimehdr_init();
		inited = 1;
	}
	sel = data[0];
	outlen = 1 + (sel >> 3) * 8;		/* 1..249 */
	value = fuzz_cstr(data + 1, size - 1);
	if ((out = malloc(outlen)) == NULL)
		abort();
	memset(out, 'x', outlen);
	switch (sel % 5) {
	case 0:
		if (mimehdr_addresses(value, out, outlen) > 0)
			fuzz_terminated(out, outlen);
		break;
	case 1:
		if (mimehdr_content_type(value, &ct) == 0) {
			fuzz_terminated(ct.type, sizeof(ct.type));
			fuzz_terminated(ct.subtype, sizeof(ct.subtype));
			fuzz_terminated(ct.charset, sizeof(ct.charset));
		}
		break;
	case 2:
		if (mimehdr_disposition(value, &cd) == 0) {
			fuzz_terminated(cd.disposition, sizeof(cd.disposition));
			fuzz_terminated(cd.filename, sizeof(cd.filename));
		}
		break;
	case 3:
		(void) mimehdr_date_valid(value);
		break;
	default:
		if (mimehdr_message_id(value, out, outlen) == 0)
			fuzz_terminated(out, outlen);
		break;
	}
	free(out);
	free(value);
	return (0);
}
