/*
 * NAME
 *	state - per-account lock and record of handed-over UIDLs
 * SYNOPSIS
 *	#include "fetch.h"
 *
 *	int	state_open(dir, account, wait, &st, err, errlen);
 *	int	state_has(st, uidl);
 *	int	state_add(st, uidl, err, errlen);
 *	int	state_retain(st, msgs, err, errlen);
 *	int	state_forget(st, uidls, err, errlen);
 *	void	state_close(st);
 * DESCRIPTION
 *	state_open() takes an exclusive flock(2) on DIR/fetch-ACCOUNT.lock,
 *	waiting up to wait seconds for another run to finish, and loads
 *	DIR/fetch-ACCOUNT.state: one UIDL per line, each a message that
 *	the local MTA accepted but whose deletion on the server may not
 *	have been committed yet.  A UIDL in the state that the server still
 *	lists is deleted there without being delivered again.
 *
 *	Every change rewrites the state file atomically (temporary file,
 *	fsync, rename, fsync of the directory) before the caller goes on
 *	to DELE.  state_retain() drops UIDLs the server no longer lists;
 *	state_forget() drops UIDLs whose deletion QUIT committed.
 *
 *	Account names are written into file names with anything outside
 *	[A-Za-z0-9._-] as %XX, so no name can escape the directory.
 * ERRORS
 *	FETCH_TEMP when the lock is held by another run after waiting;
 *	FETCH_FAIL for file system errors.
 * OWNERSHIP
 *	state_open() returns a state freed (and unlocked) by state_close().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <sys/stat.h>

#include "fetch.h"
#include "log.h"

struct fetch_state {
	int	lockfd;
	char   *dir;
	char   *path;			/* the state file */
	GHashTable *uidls;		/* set of handed-over UIDLs */
};

/* state_name - account name made safe for a file name */
static char *
state_name(const char *account)
{
	GString *s = g_string_new(NULL);
	const unsigned char *p;

	for (p = (const unsigned char *)account; *p; p++) {
		if (g_ascii_isalnum(*p) || *p == '-' || *p == '_'
		    || (*p == '.' && p != (const unsigned char *)account))
			g_string_append_c(s, (char)*p);
		else
			g_string_append_printf(s, "%%%02X", *p);
	}
	return (g_string_free(s, FALSE));
}

/* state_lock - flock with a bounded wait */
static int
state_lock(int fd, const char *path, int wait, char *err, size_t errlen)
{
	struct timespec ts = {0, 200 * 1000 * 1000};
	time_t	deadline = time(NULL) + wait;

	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return (FETCH_OK);
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, errlen, "lock %s: %s", path,
				 strerror(errno));
			return (FETCH_FAIL);
		}
		if (time(NULL) >= deadline)
			break;
		nanosleep(&ts, NULL);
	}
	snprintf(err, errlen, "another htgate-fetch is working this mailbox "
		 "(lock %s still held after %d s); skipped", path, wait);
	return (FETCH_TEMP);
}

/* state_load - read the UIDL lines of the state file, if any */
static int
state_load(struct fetch_state *st, char *err, size_t errlen)
{
	char	line[FETCH_UIDL_MAX + 64];
	FILE   *fp;

	if ((fp = fopen(st->path, "r")) == NULL) {
		if (errno == ENOENT)
			return (FETCH_OK);
		snprintf(err, errlen, "%s: %s", st->path, strerror(errno));
		return (FETCH_FAIL);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		g_hash_table_add(st->uidls, g_strdup(line));
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", st->path);
		fclose(fp);
		return (FETCH_FAIL);
	}
	fclose(fp);
	return (FETCH_OK);
}

/* state_open - lock the account and load its state */
int
state_open(const char *dir, const char *account, int wait,
	   struct fetch_state **sp, char *err, size_t errlen)
{
	struct fetch_state *st;
	char   *name, *lockpath;
	int	rc;

	*sp = NULL;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		return (FETCH_FAIL);
	}
	name = state_name(account);
	st = g_new0(struct fetch_state, 1);
	st->lockfd = -1;
	st->dir = g_strdup(dir);
	st->path = g_strdup_printf("%s/fetch-%s.state", dir, name);
	st->uidls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	lockpath = g_strdup_printf("%s/fetch-%s.lock", dir, name);
	g_free(name);
	st->lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (st->lockfd < 0) {
		snprintf(err, errlen, "%s: %s", lockpath, strerror(errno));
		rc = FETCH_FAIL;
	} else if ((rc = state_lock(st->lockfd, lockpath, wait, err, errlen))
		   == FETCH_OK) {
		rc = state_load(st, err, errlen);
	}
	g_free(lockpath);
	if (rc != FETCH_OK) {
		state_close(st);
		return (rc);
	}
	*sp = st;
	return (FETCH_OK);
}

/* state_has - was this UIDL handed over already? */
int
state_has(const struct fetch_state *st, const char *uidl)
{
	return (g_hash_table_contains(st->uidls, uidl));
}

/* state_write - rewrite the state file atomically and durably */
static int
state_write(struct fetch_state *st, char *err, size_t errlen)
{
	GHashTableIter it;
	gpointer key;
	char   *tmp;
	FILE   *fp;
	int	fd, dfd, ok;

	tmp = g_strdup_printf("%s.tmp", st->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || (fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		g_free(tmp);
		return (FETCH_FAIL);
	}
	fprintf(fp, "# htgate-fetch: UIDLs handed to the local MTA, "
		"deletion not yet confirmed\n");
	g_hash_table_iter_init(&it, st->uidls);
	while (g_hash_table_iter_next(&it, &key, NULL))
		fprintf(fp, "%s\n", (const char *)key);
	ok = fflush(fp) == 0 && fsync(fd) == 0;
	ok = (fclose(fp) == 0) && ok;
	if (ok && rename(tmp, st->path) < 0)
		ok = 0;
	if (!ok) {
		snprintf(err, errlen, "write %s: %s", st->path, strerror(errno));
		(void) unlink(tmp);
		g_free(tmp);
		return (FETCH_FAIL);
	}
	g_free(tmp);
	if ((dfd = open(st->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void) fsync(dfd);
		close(dfd);
	}
	return (FETCH_OK);
}

/* state_add - record a handed-over UIDL, durably, before DELE */
int
state_add(struct fetch_state *st, const char *uidl, char *err, size_t errlen)
{
	g_hash_table_add(st->uidls, g_strdup(uidl));
	return (state_write(st, err, errlen));
}

/* state_retain - keep only UIDLs the server still lists */
int
state_retain(struct fetch_state *st, const GArray *msgs,
	     char *err, size_t errlen)
{
	GHashTableIter it;
	gpointer key;
	GHashTable *listed;
	guint	i;
	int	changed = 0;

	if (g_hash_table_size(st->uidls) == 0)
		return (FETCH_OK);
	listed = g_hash_table_new(g_str_hash, g_str_equal);
	for (i = 0; i < msgs->len; i++)
		g_hash_table_add(listed,
			g_array_index(msgs, struct pop3_msg, i).uidl);
	g_hash_table_iter_init(&it, st->uidls);
	while (g_hash_table_iter_next(&it, &key, NULL))
		if (!g_hash_table_contains(listed, key)) {
			g_hash_table_iter_remove(&it);
			changed = 1;
		}
	g_hash_table_destroy(listed);
	return (changed ? state_write(st, err, errlen) : FETCH_OK);
}

/* state_forget - drop UIDLs whose deletion was committed */
int
state_forget(struct fetch_state *st, const GPtrArray *uidls,
	     char *err, size_t errlen)
{
	guint	i;
	int	changed = 0;

	for (i = 0; i < uidls->len; i++)
		changed |= g_hash_table_remove(st->uidls,
					       g_ptr_array_index(uidls, i));
	return (changed ? state_write(st, err, errlen) : FETCH_OK);
}

/* state_close - release the lock and free; NULL is fine */
void
state_close(struct fetch_state *st)
{
	if (st == NULL)
		return;
	if (st->lockfd >= 0)
		close(st->lockfd);
	g_hash_table_destroy(st->uidls);
	g_free(st->path);
	g_free(st->dir);
	g_free(st);
}
