/*
 * NAME
 *	repair_spool - bytes kept in memory up to a bound, then in a file
 * DESCRIPTION
 *	See repair_spool.h.  The memory part is a GByteArray that never
 *	grows past mem_max; the file part is a stdio stream with a 64 KB
 *	buffer over an unlinked temporary file.  An empty spool reads from a
 *	one-byte buffer opened with length 0 (fmemopen needs a buffer).
 * OWNERSHIP
 *	struct spool owns its memory, its file and its reader.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "repair_spool.h"

#define SPOOL_FILE_BUF	(64 * 1024)	/* stdio buffer of the file */

struct spool {
	size_t	mem_max;
	char   *dir;
	GByteArray *mem;		/* NULL once on disk */
	FILE   *fp;			/* the file, once on disk */
	char   *fbuf;			/* its stdio buffer */
	FILE   *reader;			/* fmemopen() over mem, when asked */
	unsigned long long size;
	int	reading;		/* spool_reader() was called */
	char	empty[1];		/* fmemopen's buffer for no data */
};

/* spool_new - an empty spool; memory up to mem_max, then a file in dir */
struct spool *
spool_new(size_t mem_max, const char *dir)
{
	struct spool *sp = g_new0(struct spool, 1);

	sp->mem_max = mem_max;
	sp->dir = g_strdup(dir && *dir ? dir :
			   g_getenv("TMPDIR") && *g_getenv("TMPDIR") ?
			   g_getenv("TMPDIR") : "/tmp");
	sp->mem = g_byte_array_new();
	return (sp);
}

/* open_tmp - an anonymous file in dir: O_TMPFILE, else create + unlink */
static int
open_tmp(const char *dir, char *err, size_t errlen)
{
	char   *path;
	int	fd;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0)
		return (fd);
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
		snprintf(err, errlen, "temporary file in %s: %s", dir,
			 strerror(errno));
		return (-1);
	}
#endif
	path = g_build_filename(dir, "htgate-repair.XXXXXX", NULL);
	fd = g_mkstemp_full(path, O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		snprintf(err, errlen, "temporary file in %s: %s", dir,
			 strerror(errno));
	else
		(void) unlink(path);
	g_free(path);
	return (fd);
}

/* to_disk - move the memory part into a new temporary file */
static int
to_disk(struct spool *sp, char *err, size_t errlen)
{
	int	fd = open_tmp(sp->dir, err, errlen);

	if (fd < 0)
		return (-1);
	if ((sp->fp = fdopen(fd, "w+")) == NULL) {
		snprintf(err, errlen, "fdopen: %s", strerror(errno));
		close(fd);
		return (-1);
	}
	sp->fbuf = g_malloc(SPOOL_FILE_BUF);
	setvbuf(sp->fp, sp->fbuf, _IOFBF, SPOOL_FILE_BUF);
	if (sp->mem->len > 0
	    && fwrite(sp->mem->data, 1, sp->mem->len, sp->fp) != sp->mem->len) {
		snprintf(err, errlen, "write to %s: %s", sp->dir, strerror(errno));
		return (-1);
	}
	g_byte_array_free(sp->mem, TRUE);
	sp->mem = NULL;
	return (0);
}

/* spool_write - append bytes; 0, or -1 with err */
int
spool_write(struct spool *sp, const void *buf, size_t len, char *err,
	    size_t errlen)
{
	if (sp->reading) {
		snprintf(err, errlen, "spool written after it was read");
		return (-1);
	}
	if (len == 0)
		return (0);
	if (sp->mem != NULL && sp->mem->len + len > sp->mem_max
	    && to_disk(sp, err, errlen) < 0)
		return (-1);
	if (sp->mem != NULL)
		g_byte_array_append(sp->mem, buf, (guint) len);
	else if (fwrite(buf, 1, len, sp->fp) != len) {
		snprintf(err, errlen, "write to a temporary file in %s: %s",
			 sp->dir, strerror(errno));
		return (-1);
	}
	sp->size += len;
	return (0);
}

/* spool_reader - the data from its start (seekable); NULL with err */
FILE   *
spool_reader(struct spool *sp, char *err, size_t errlen)
{
	sp->reading = 1;
	if (sp->fp != NULL) {
		if (fflush(sp->fp) != 0 || fseeko(sp->fp, 0, SEEK_SET) != 0) {
			snprintf(err, errlen, "temporary file in %s: %s",
				 sp->dir, strerror(errno));
			return (NULL);
		}
		return (sp->fp);
	}
	if (sp->reader == NULL) {
		sp->reader = sp->mem->len ?
			fmemopen(sp->mem->data, sp->mem->len, "r") :
			fmemopen(sp->empty, 0, "r");
		if (sp->reader == NULL) {
			snprintf(err, errlen, "fmemopen: %s", strerror(errno));
			return (NULL);
		}
	}
	rewind(sp->reader);
	return (sp->reader);
}

/* spool_size - bytes written */
unsigned long long
spool_size(const struct spool *sp)
{
	return (sp->size);
}

/* spool_on_disk - whether the data went to a temporary file */
int
spool_on_disk(const struct spool *sp)
{
	return (sp->fp != NULL);
}

/* spool_free - release everything (NULL is fine) */
void
spool_free(struct spool *sp)
{
	if (sp == NULL)
		return;
	if (sp->reader != NULL)
		fclose(sp->reader);
	if (sp->fp != NULL)
		fclose(sp->fp);
	g_free(sp->fbuf);
	if (sp->mem != NULL)
		g_byte_array_free(sp->mem, TRUE);
	g_free(sp->dir);
	g_free(sp);
}
