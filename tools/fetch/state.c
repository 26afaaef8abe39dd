/*
 * NAME
 *	state - per-account lock and record of handed-over UIDLs
 * SYNOPSIS
 *	#include "fetch.h"
 *
 *	int	state_open(cfg, dir, account, wait, &st, err, errlen);
 *	int	state_has(st, uidl);
 *	int	state_claim(st, uidl, err, errlen);
 *	void	state_release(st);
 *	int	state_add(st, uidl, err, errlen);
 *	int	state_retain(st, msgs, err, errlen);
 *	int	state_forget(st, uidls, err, errlen);
 *	void	state_run(st, status);
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
 *	Nothing in the directory is trusted blindly.  The directory must
 *	belong to the user running htgate-fetch and must not be writable by
 *	group or others (so root, by mistake, never leaves files there that
 *	the service user cannot replace).  The lock and the state file are
 *	opened with O_NOFOLLOW: a symbolic link in their place is refused
 *	with an error that says so.  The state file is checked with fstat()
 *	after opening: a regular file, owned by the running user, not
 *	writable by group or others.  The temporary file is created with
 *	O_CREAT|O_EXCL|O_NOFOLLOW under a name with the process ID (a stale
 *	one of a crashed run with the same ID is removed first), mode 0600,
 *	and renamed over the state file; rename(2) replaces a link, it
 *	never writes through one.
 *
 *	Account names are written into file names with anything outside
 *	[A-Za-z0-9._-] as %XX, so no name can escape the directory.
 *
 *	Relay pairs (issue 13): with the decision record in PostgreSQL
 *	([record] database = postgresql://..., enabled = yes) the hand-over
 *	is claimed in the database, so that htgate-fetch on two relays can
 *	poll one mailbox: state_claim() claims an answer (record.h
 *	record_fetch_claim(): SELECT ... FOR UPDATE SKIP LOCKED; the row
 *	stays locked while this run retrieves and delivers it) and says
 *	STATE_NEW (deliver it), STATE_DONE (handed over already, here or on
 *	the other relay: DELE only) or STATE_BUSY (the other relay is
 *	handing it over now: leave it).  state_add() commits the claim as
 *	handed over before the caller sends DELE; state_release() lets go of
 *	a claim that was not handed over (no-op otherwise).  A run that dies
 *	loses its claim with its connection.  state_retain() forgets
 *	handed-over answers the server stopped listing FETCH_KEEP_DAYS
 *	before.  The flock and the state file stay (one run per host and
 *	account; UIDLs a state file still holds are honoured), but nothing
 *	new is written to the file.  Without PostgreSQL, state_claim() is
 *	state_has(): STATE_DONE or STATE_NEW.
 *
 *	state_run() counts the run in the record's tallies when [record] is
 *	enabled (htgate-report metrics): htgate_fetch_runs_total{account,
 *	result}, htgate_fetch_last_run_timestamp_seconds, ..._last_success_
 *	..., htgate_fetch_consecutive_failures.  With SQLite only when the
 *	record file exists and is writable by this user; a failure is
 *	logged at debug level and changes nothing else.
 * ERRORS
 *	FETCH_TEMP when the lock is held by another run after waiting, or
 *	the PostgreSQL record is unreachable; FETCH_FAIL for file system
 *	errors and for a state directory, lock or state file that fails the
 *	checks above.
 * OWNERSHIP
 *	state_open() returns a state freed (and unlocked) by state_close().
 * THREAD SAFETY
 *	Single-threaded program (fetch.h); a state is used by one run.
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
#include "record.h"
#include "recorder.h"

#define FETCH_KEEP_DAYS	30	/* handed-over UIDLs kept in the database */

struct fetch_state {
	int	lockfd;
	char   *dir;
	char   *path;			/* the state file */
	char   *account;
	GHashTable *uidls;		/* set of handed-over UIDLs */
	struct record *rec;		/* [record], or NULL */
	int	pg;			/* claims in the database */
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

/* state_file_ok - fstat checks of an open state or lock file */
static int
state_file_ok(int fd, const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (0);
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file; refusing it",
			 path);
		return (0);
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "%s: owned by uid %lu, not by the user "
			 "running htgate-fetch (uid %lu); refusing it", path,
			 (unsigned long)st.st_uid, (unsigned long)geteuid());
		return (0);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, errlen, "%s: mode %04o is writable by group or "
			 "others; refusing it", path,
			 (unsigned)(st.st_mode & 07777));
		return (0);
	}
	return (1);
}

/* state_open_nofollow - open(2) with O_NOFOLLOW; a link gets a clear error */
static int
state_open_nofollow(const char *path, int flags, const char *what,
		    char *err, size_t errlen)
{
	int	fd, saved;

	/* O_NONBLOCK: a FIFO in the file's place cannot hang the open. */
	fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
	if (fd >= 0)
		return (fd);
	saved = errno;
	if (saved == ELOOP)
		snprintf(err, errlen, "%s %s is a symbolic link; refusing to "
			 "follow it (remove it; htgate-fetch writes only real "
			 "files there)", what, path);
	else
		snprintf(err, errlen, "%s %s: %s", what, path, strerror(saved));
	errno = saved;			/* the caller tells ENOENT apart */
	return (-1);
}

/* state_dir_ok - the state directory: ours, a directory, not open to others */
static int
state_dir_ok(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		return (0);
	}
	if (stat(dir, &st) < 0) {
		snprintf(err, errlen, "state_dir %s: %s", dir, strerror(errno));
		return (0);
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "state_dir %s: not a directory", dir);
		return (0);
	}
	if (st.st_uid != geteuid()) {
		snprintf(err, errlen, "state_dir %s: owned by uid %lu, not by "
			 "the user running htgate-fetch (uid %lu); run it as "
			 "that user or give it a directory of its own (-S)",
			 dir, (unsigned long)st.st_uid,
			 (unsigned long)geteuid());
		return (0);
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(err, errlen, "state_dir %s: mode %04o is writable by "
			 "group or others; run chmod go-w %s", dir,
			 (unsigned)(st.st_mode & 07777), dir);
		return (0);
	}
	return (1);
}

/* state_load - read the UIDL lines of the state file, if any */
static int
state_load(struct fetch_state *st, char *err, size_t errlen)
{
	char	line[FETCH_UIDL_MAX + 64];
	FILE   *fp;
	int	fd;

	if ((fd = state_open_nofollow(st->path, O_RDONLY, "state file", err,
				      errlen)) < 0)
		return (errno == ENOENT ? FETCH_OK : FETCH_FAIL);
	if (!state_file_ok(fd, st->path, err, errlen)) {
		close(fd);
		return (FETCH_FAIL);
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", st->path, strerror(errno));
		close(fd);
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

/*
 * state_record - the record for claims (PostgreSQL: required) and run
 * tallies (SQLite: only an existing, writable file)
 */
static int
state_record(const struct htg_cfg *cfg, struct fetch_state *st, char *err,
	     size_t errlen)
{
	char	target[4096], why[512];

	if (cfg == NULL || !recorder_enabled(cfg)
	    || recorder_path(cfg, target, sizeof(target)) < 0)
		return (FETCH_OK);
	st->pg = record_is_pg(target);
	if (!st->pg && access(target, W_OK) != 0)
		return (FETCH_OK);
	if ((st->rec = record_open(target, why, sizeof(why))) != NULL)
		return (FETCH_OK);
	if (!st->pg) {
		log_debug("decision record: %s; the run is not counted", why);
		return (FETCH_OK);
	}
	snprintf(err, errlen, "decision record (hand-over claims): %s", why);
	return (FETCH_TEMP);
}

/* state_open - lock the account and load its state */
int
state_open(const struct htg_cfg *cfg, const char *dir, const char *account,
	   int wait, struct fetch_state **sp, char *err, size_t errlen)
{
	struct fetch_state *st;
	char   *name, *lockpath;
	int	rc;

	*sp = NULL;
	if (!state_dir_ok(dir, err, errlen))
		return (FETCH_FAIL);
	name = state_name(account);
	st = g_new0(struct fetch_state, 1);
	st->lockfd = -1;
	st->dir = g_strdup(dir);
	st->path = g_strdup_printf("%s/fetch-%s.state", dir, name);
	st->account = g_strdup(account);
	st->uidls = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  NULL);
	lockpath = g_strdup_printf("%s/fetch-%s.lock", dir, name);
	g_free(name);
	st->lockfd = state_open_nofollow(lockpath, O_RDWR | O_CREAT, "lock",
					 err, errlen);
	if (st->lockfd < 0) {
		rc = FETCH_FAIL;
	} else if (!state_file_ok(st->lockfd, lockpath, err, errlen)) {
		rc = FETCH_FAIL;
	} else if ((rc = state_lock(st->lockfd, lockpath, wait, err, errlen))
		   == FETCH_OK) {
		rc = state_load(st, err, errlen);
	}
	if (rc == FETCH_OK)
		rc = state_record(cfg, st, err, errlen);
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

/* state_tmp_create - the temporary file: O_EXCL, O_NOFOLLOW, mode 0600 */
static int
state_tmp_create(const char *tmp, char *err, size_t errlen)
{
	int	flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
	int	fd;

	fd = open(tmp, flags, 0600);
	if (fd < 0 && errno == EEXIST) {
		/* Left by a crashed run with our process ID; unlink(2)
		 * removes a link itself, never its target. */
		if (unlink(tmp) == 0)
			fd = open(tmp, flags, 0600);
		else
			errno = EEXIST;
	}
	if (fd < 0)
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
	return (fd);
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

	tmp = g_strdup_printf("%s.tmp.%ld", st->path, (long)getpid());
	if ((fd = state_tmp_create(tmp, err, errlen)) < 0) {
		g_free(tmp);
		return (FETCH_FAIL);
	}
	if ((fp = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		(void) unlink(tmp);
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

/* state_claim - this run's claim on one answer (see DESCRIPTION) */
int
state_claim(struct fetch_state *st, const char *uidl, char *err,
	    size_t errlen)
{
	int	rc;

	if (state_has(st, uidl))
		return (STATE_DONE);
	if (!st->pg)
		return (STATE_NEW);
	rc = record_fetch_claim(st->rec, st->account, uidl, err, errlen);
	return (rc == RECORD_FETCH_NEW ? STATE_NEW : rc == RECORD_FETCH_DONE ?
		STATE_DONE : rc == RECORD_FETCH_BUSY ? STATE_BUSY : STATE_ERROR);
}

/* state_release - let go of a claim that was not handed over */
void
state_release(struct fetch_state *st)
{
	char	err[FETCH_ERRLEN];

	if (st->pg && record_fetch_done(st->rec, 0, err, sizeof(err)) < 0)
		log_debug("account=%s: releasing a claim: %s", st->account, err);
}

/* state_add - record a handed-over UIDL, durably, before DELE */
int
state_add(struct fetch_state *st, const char *uidl, char *err, size_t errlen)
{
	if (st->pg)
		return (record_fetch_done(st->rec, 1, err, errlen) < 0 ?
			FETCH_FAIL : FETCH_OK);
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

	if (st->pg) {
		const char **u = g_new0(const char *, msgs->len + 1);

		for (i = 0; i < msgs->len; i++)
			u[i] = g_array_index(msgs, struct pop3_msg, i).uidl;
		changed = record_fetch_retain(st->rec, st->account, u, msgs->len,
					      FETCH_KEEP_DAYS * 86400L, err,
					      errlen);
		g_free(u);
		if (changed < 0)
			return (FETCH_FAIL);
		changed = 0;
	}
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

/* state_run - count one run of the account in the record's tallies */
void
state_run(struct fetch_state *st, int status)
{
	static const char *const result[] = {"ok", "temp", "fail"};
	char	labels[RECORD_LABELS_MAX], acct[RECORD_LABELS_MAX],
		err[FETCH_ERRLEN];
	long long now = (long long) time(NULL);

	if (st->rec == NULL)
		return;
	acct[0] = 0;
	record_label(acct, sizeof(acct), "account", st->account);
	snprintf(labels, sizeof(labels), "%s", acct);
	record_label(labels, sizeof(labels), "result",
		     result[status == FETCH_OK ? 0 : status == FETCH_TEMP ? 1 : 2]);
	record_tally_add(st->rec, "htgate_fetch_runs_total", labels, 1);
	if (record_tally_set(st->rec, "htgate_fetch_last_run_timestamp_seconds",
			     acct, now, err, sizeof(err)) < 0
	    || (status == FETCH_OK
		&& (record_tally_set(st->rec,
			"htgate_fetch_last_success_timestamp_seconds", acct, now,
			err, sizeof(err)) < 0
		    || record_tally_set(st->rec,
			"htgate_fetch_consecutive_failures", acct, 0, err,
			sizeof(err)) < 0)))
		log_debug("account=%s: counting the run: %s", st->account, err);
	if (status != FETCH_OK)
		record_tally_add(st->rec, "htgate_fetch_consecutive_failures",
				 acct, 1);
}

/* state_close - release the lock and free; NULL is fine */
void
state_close(struct fetch_state *st)
{
	if (st == NULL)
		return;
	if (st->rec != NULL) {
		state_release(st);
		record_close(st->rec);	/* commits the counted run */
	}
	if (st->lockfd >= 0)
		close(st->lockfd);
	g_hash_table_destroy(st->uidls);
	g_free(st->account);
	g_free(st->path);
	g_free(st->dir);
	g_free(st);
}
