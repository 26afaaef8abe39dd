/*
 * NAME
 *	gmimedec - decode base64 with GMime's own decoder, for bench/large
 * SUMMARY
 *	The reference beside htgate-check's validation speed: GMime's
 *	incremental base64 decoder (g_mime_encoding_step) over a file.
 * SYNOPSIS
 *	gmimedec FILE
 * DESCRIPTION
 *	Reads FILE (raw base64 text, line breaks allowed) in 64 KB chunks,
 *	decodes each chunk with g_mime_encoding_step() and discards the
 *	output; prints the number of decoded bytes on stdout.  The caller
 *	times the run, as it times base64 -d and htgate-check.
 * ERRORS
 *	Exit 1 with a message on stderr if FILE cannot be read.
 * OWNERSHIP
 *	bench/.  Buffers are local; nothing outlives main().
 * THREAD SAFETY
 *	Single-threaded program.
 * SEE ALSO
 *	bench/large
 */
#include <stdio.h>
#include <stdlib.h>

#include <gmime/gmime.h>

#define GMD_CHUNK	65536

/* main - decode FILE, print the decoded size */
int
main(int argc, char **argv)
{
	static char in[GMD_CHUNK];
	char	*out;
	GMimeEncoding enc;
	FILE	*fp;
	size_t	n;
	unsigned long long total = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: gmimedec FILE\n");
		return (2);
	}
	if ((fp = fopen(argv[1], "rb")) == NULL) {
		perror(argv[1]);
		return (1);
	}
	g_mime_init();
	g_mime_encoding_init_decode(&enc, GMIME_CONTENT_ENCODING_BASE64);
	out = malloc(g_mime_encoding_outlen(&enc, GMD_CHUNK));
	if (out == NULL) {
		fclose(fp);
		return (1);
	}
	while ((n = fread(in, 1, sizeof(in), fp)) > 0)
		total += g_mime_encoding_step(&enc, in, n, out);
	total += g_mime_encoding_flush(&enc, in, 0, out);
	fclose(fp);
	free(out);
	g_mime_shutdown();
	printf("%llu\n", total);
	return (0);
}
