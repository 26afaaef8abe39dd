/*
 * NAME
 *	repair_spool - bytes kept in memory up to a bound, then in a file
 * SYNOPSIS
 *	#include "repair_spool.h"
 *
 *	struct spool *spool_new(size_t mem_max, const char *dir);
 *	int	spool_write(struct spool *sp, const void *buf, size_t len,
 *		char *err, size_t errlen);
 *	FILE   *spool_reader(struct spool *sp, char *err, size_t errlen);
 *	unsigned long long spool_size(const struct spool *sp);
 *	int	spool_on_disk(const struct spool *sp);
 *	void	spool_free(struct spool *sp);
 * DESCRIPTION
 *	A spool collects a byte stream of any length with bounded memory:
 *	the first mem_max bytes stay in memory; when more come, everything
 *	moves to an anonymous temporary file in dir ("" or NULL: $TMPDIR,
 *	else /tmp), opened with O_TMPFILE (or created and unlinked at once
 *	where the file system lacks it), mode 0600, so nothing is left
 *	behind when the process dies.  The milter keeps the body of a
 *	message it may repair in one (milter/repair_glue.c); lib/repair.c
 *	writes the repaired body into another.
 *
 *	spool_reader() ends the writing and returns a stream positioned at
 *	the start of the data, seekable (what GMime's persistent parser
 *	needs): fmemopen() over the memory, or the file itself.  It may be
 *	called again (it rewinds); spool_write() after it is an error.
 * ERRORS
 *	spool_write() and spool_reader() return -1 / NULL with a reason in
 *	err (a full disk, a directory that cannot be written).
 * OWNERSHIP
 *	spool_new() returns a spool freed with spool_free() (NULL is fine),
 *	which closes the reader and the file.  The reader is borrowed.
 * THREAD SAFETY
 *	One spool per thread.
 */
#ifndef HTG_REPAIR_SPOOL_H
#define HTG_REPAIR_SPOOL_H

#include <stddef.h>
#include <stdio.h>

struct spool;

struct spool *spool_new(size_t mem_max, const char *dir);
int	spool_write(struct spool *sp, const void *buf, size_t len, char *err,
	size_t errlen);
FILE   *spool_reader(struct spool *sp, char *err, size_t errlen);
unsigned long long spool_size(const struct spool *sp);
int	spool_on_disk(const struct spool *sp);
void	spool_free(struct spool *sp);

#endif
