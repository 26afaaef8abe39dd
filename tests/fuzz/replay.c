/*
 * NAME
 *	replay - run a fuzz target over its saved corpus (make check)
 * SYNOPSIS
 *	replay-TARGET [FILE|DIR]...
 * DESCRIPTION
 *	A standalone main() for the fuzz targets, built with the normal
 *	compiler (and the sanitizers of an ASan build): feeds every regular
 *	file of the named files and directories to LLVMFuzzerTestOneInput().
 *	Without arguments it replays $srcdir/fuzz/corpus/FUZZ_NAME (srcdir
 *	as exported by make check).  A bug shows as a crash or a sanitizer
 *	report; prints "replayed N inputs" and exits 0 otherwise, 1 if an
 *	input cannot be read or the corpus is empty (so a lost corpus
 *	fails the test instead of passing vacuously).
 * OWNERSHIP
 *	tests/fuzz (hardening).  Each input is read into a buffer freed
 *	after the call.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the target's corpus directory"
#endif

#define REPLAY_MAX_INPUT (64UL * 1024 * 1024)

/* replay_file - feed one file to the target; -1 if it cannot be read */
static int
replay_file(const char *path)
{
	FILE   *fp;
	struct stat st;
	unsigned char *buf;
	size_t	n;

	if ((fp = fopen(path, "rb")) == NULL || fstat(fileno(fp), &st) < 0
	    || (unsigned long) st.st_size > REPLAY_MAX_INPUT) {
		fprintf(stderr, "replay: cannot read %s\n", path);
		if (fp != NULL)
			fclose(fp);
		return (-1);
	}
	/* Exactly sized (plus one so malloc(0) is avoided): ASan sees overreads. */
	if ((buf = malloc((size_t) st.st_size + 1)) == NULL)
		abort();
	n = fread(buf, 1, (size_t) st.st_size, fp);
	fclose(fp);
	if (n != (size_t) st.st_size) {
		free(buf);
		fprintf(stderr, "replay: short read on %s\n", path);
		return (-1);
	}
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return (0);
}

/* replay_path - a file, or every regular file of a directory; count them */
static int
replay_path(const char *path, unsigned long *count)
{
	struct stat st;
	struct dirent **ents;
	char	sub[4096];
	int	n, i, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "replay: no %s\n", path);
		return (-1);
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return (replay_file(path));
	}
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0) {
		fprintf(stderr, "replay: cannot list %s\n", path);
		return (-1);
	}
	for (i = 0; i < n; i++) {
		if (ents[i]->d_name[0] != '.'
		    && (size_t) snprintf(sub, sizeof(sub), "%s/%s", path,
					 ents[i]->d_name) < sizeof(sub)
		    && stat(sub, &st) == 0 && S_ISREG(st.st_mode)) {
			(*count)++;
			if (replay_file(sub) < 0)
				rc = -1;
		}
		free(ents[i]);
	}
	free(ents);
	return (rc);
}

/* main - replay the arguments or the saved corpus */
int
main(int argc, char **argv)
{
	char	def[4096];
	const char *srcdir;
	unsigned long count = 0;
	int	i, rc = 0;

	if (argc < 2) {
		srcdir = getenv("srcdir");
		if ((size_t) snprintf(def, sizeof(def), "%s/fuzz/corpus/%s",
				      srcdir != NULL ? srcdir : ".", FUZZ_NAME) >= sizeof(def))
			return (1);
		rc = replay_path(def, &count);
	}
	for (i = 1; i < argc; i++)
		if (replay_path(argv[i], &count) < 0)
			rc = -1;
	printf("%s: replayed %lu inputs\n", FUZZ_NAME, count);
	return (rc < 0 || count == 0 ? 1 : 0);
}
