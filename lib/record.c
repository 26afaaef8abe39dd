/*
 * NAME
 *	record - the compliance record: one interface over two backends
 * DESCRIPTION
 *	See record.h.  This file holds what the backends share: the handle,
 *	group commit (a queue of pending rows; the first waiting writer
 *	becomes the leader and commits every queued row in one transaction
 *	of the backend, then wakes the others), the tallies each row adds,
 *	the summary's rule and day keys, purge in batches, and the body
 *	hash.  record_sqlite.c and record_pg.c hold the SQL.
 * OWNERSHIP
 *	struct record owns its backend handle, the queue (rows copied when
 *	queued, each pending row freed by whichever of the writer and the
 *	leader lets go of it last) and the pending tallies.
 * THREAD SAFETY
 *	rec->lock guards the queue, the leader flag and the tallies;
 *	rec->dblock the backend connection (every backend call).  The
 *	leader holds dblock, never lock, while it commits.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>
#include <openssl/evp.h>

#include "record.h"
#include "record_int.h"

#define RECORD_ERR_MAX	256
#define RECORD_PURGE_PAUSE_NS	20000000L	/* 20 ms between batches */

/* One queued row. */
struct record_pend {
	struct record_entry e;		/* strings owned (g_strdup) */
	int	durable;		/* a writer waits for it */
	int	done;			/* committed or failed */
	int	rc;			/* 0 committed, -1 not */
	int	refs;			/* writer and/or queue/batch */
	gint64	start;			/* monotonic us when queued */
	char	err[RECORD_ERR_MAX];
};

/* RETURN_LOCKED - return one backend call's result, made under the
 * connection's lock (every backend operation is) */
#define RETURN_LOCKED(rec, call) do { \
	int	locked_rc_; \
	pthread_mutex_lock(&(rec)->dblock); \
	locked_rc_ = (call); \
	pthread_mutex_unlock(&(rec)->dblock); \
	return (locked_rc_); \
} while (0)

struct record {
	const struct record_ops *ops;
	void   *be;
	pthread_mutex_t lock;		/* queue, leader, tallies */
	pthread_cond_t done;		/* a commit ended */
	pthread_cond_t kick;		/* asynchronous rows queued */
	pthread_mutex_t dblock;		/* the backend connection */
	GQueue	queue;			/* struct record_pend * */
	int	committing;		/* a leader is at work */
	GHashTable *tallies;		/* "name\tlabels" -> long long * */
	pthread_t flusher;
	int	flusher_on;
	int	stopping;
	char	async_err[RECORD_ERR_MAX];	/* failed asynchronous commit */
};

/* Latency buckets of htgate_record_write_seconds (upper bounds, s). */
static const char *const record_le[] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
	"0.5", "1", "2.5", "5", "10", "+Inf",
};

/* seterr - printf into err, if there is one */
static void __attribute__((format(printf, 3, 4)))
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* record_is_pg - whether a target names a PostgreSQL database */
int
record_is_pg(const char *target)
{
	return (target != NULL && (strncmp(target, "postgresql://", 13) == 0
				   || strncmp(target, "postgres://", 11) == 0));
}

/* record_new - a handle over an open backend */
static struct record *
record_new(const struct record_ops *ops, void *be)
{
	struct record *rec = g_new0(struct record, 1);

	rec->ops = ops;
	rec->be = be;
	pthread_mutex_init(&rec->lock, NULL);
	pthread_mutex_init(&rec->dblock, NULL);
	pthread_cond_init(&rec->done, NULL);
	pthread_cond_init(&rec->kick, NULL);
	g_queue_init(&rec->queue);
	rec->tallies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     g_free);
	return (rec);
}

/* backend_open - the ops and handle of a target */
static struct record *
backend_open(const char *target, int migrate, int *from, int *to, char *err,
	     size_t errlen)
{
	const struct record_ops *ops = record_is_pg(target) ? &record_pg_ops :
		&record_sqlite_ops;
	int	f = 0, t = 0;
	void   *be;

	if (err && errlen)
		err[0] = 0;
	if ((be = ops->open(target, migrate, &f, &t, err, errlen)) == NULL)
		return (NULL);
	if (from)
		*from = f;
	if (to)
		*to = t;
	return (record_new(ops, be));
}

/* record_open - open a record; SQLite files are created and migrated */
struct record *
record_open(const char *target, char *err, size_t errlen)
{
	return (backend_open(target, !record_is_pg(target), NULL, NULL, err,
			     errlen));
}

/* record_init - create or migrate the schema; versions before and after */
int
record_init(const char *target, int *from, int *to, char *err, size_t errlen)
{
	struct record *rec = backend_open(target, 1, from, to, err, errlen);

	if (rec == NULL)
		return (-1);
	record_close(rec);
	return (0);
}

/* pend_free - release one queued row */
static void
pend_free(struct record_pend *p)
{
	g_free((char *) p->e.host);
	g_free((char *) p->e.queue_id);
	g_free((char *) p->e.stage);
	g_free((char *) p->e.action);
	g_free((char *) p->e.rules);
	g_free((char *) p->e.sender);
	g_free((char *) p->e.sasl_user);
	g_free((char *) p->e.recipient);
	g_free((char *) p->e.stream);
	g_free((char *) p->e.environment);
	g_free((char *) p->e.message_id);
	g_free((char *) p->e.envid);
	g_free((char *) p->e.body_sha256);
	g_free((char *) p->e.reply);
	g_free((char *) p->e.daemon);
	g_free((char *) p->e.details);
	g_free(p);
}

/* pend_unref - one holder less (caller holds rec->lock) */
static void
pend_unref(struct record_pend *p)
{
	if (--p->refs == 0)
		pend_free(p);
}

/* pend_new - a deep copy of e, time filled in */
static struct record_pend *
pend_new(const struct record_entry *e, int durable)
{
	struct record_pend *p = g_new0(struct record_pend, 1);

	p->e.time = e->time ? e->time : (long long) time(NULL);
	p->e.host = g_strdup(e->host);
	p->e.queue_id = g_strdup(e->queue_id);
	p->e.stage = g_strdup(e->stage);
	p->e.action = g_strdup(e->action ? e->action : "");
	p->e.rules = g_strdup(e->rules);
	p->e.sender = g_strdup(e->sender);
	p->e.sasl_user = g_strdup(e->sasl_user);
	p->e.recipient = g_strdup(e->recipient);
	p->e.stream = g_strdup(e->stream);
	p->e.environment = g_strdup(e->environment);
	p->e.message_id = g_strdup(e->message_id);
	p->e.envid = g_strdup(e->envid);
	p->e.size = e->size;
	p->e.body_sha256 = g_strdup(e->body_sha256);
	p->e.reply = g_strdup(e->reply);
	p->e.daemon = g_strdup(e->daemon ? e->daemon : "");
	p->e.details = g_strdup(e->details);
	p->durable = durable;
	p->refs = durable ? 2 : 1;
	p->start = g_get_monotonic_time();
	return (p);
}

/* record_label - append name="value" (escaped) to a label text */
void
record_label(char *buf, size_t buflen, const char *name, const char *value)
{
	size_t	n = strlen(buf);
	const char *v = value ? value : "";

	if (n + strlen(name) + 4 >= buflen)
		return;
	n += (size_t) snprintf(buf + n, buflen - n, "%s%s=\"", n ? "," : "",
			       name);
	for (; *v && n + 3 < buflen; v++) {
		if (*v == '\\' || *v == '"') {
			buf[n++] = '\\';
			buf[n++] = *v;
		} else if (*v == '\n') {
			buf[n++] = '\\';
			buf[n++] = 'n';
		} else {
			buf[n++] = *v;
		}
	}
	if (n + 1 < buflen)
		buf[n++] = '"';
	buf[n] = 0;
}

/* tally_add_locked - one counter increment (caller holds rec->lock) */
static void
tally_add_locked(struct record *rec, const char *name, const char *labels,
		 long long delta)
{
	char   *key = g_strdup_printf("%s\t%s", name, labels ? labels : "");
	long long *v = g_hash_table_lookup(rec->tallies, key);

	if (v == NULL) {
		v = g_new0(long long, 1);
		g_hash_table_insert(rec->tallies, key, v);
	} else {
		g_free(key);
	}
	*v += delta;
}

/* record_tally_add - a counter increment, committed with the next rows */
void
record_tally_add(struct record *rec, const char *name, const char *labels,
		 long long delta)
{
	pthread_mutex_lock(&rec->lock);
	tally_add_locked(rec, name, labels, delta);
	pthread_mutex_unlock(&rec->lock);
}

/* row_tallies - the counters one decision adds (caller holds rec->lock) */
static void
row_tallies(struct record *rec, const struct record_entry *e)
{
	char	base[RECORD_LABELS_MAX], labels[RECORD_LABELS_MAX];
	gchar **words, **w;

	base[0] = 0;
	record_label(base, sizeof(base), "daemon", e->daemon);
	snprintf(labels, sizeof(labels), "%s", base);
	record_label(labels, sizeof(labels), "action", e->action);
	record_label(labels, sizeof(labels), "stream", e->stream);
	record_label(labels, sizeof(labels), "environment", e->environment);
	tally_add_locked(rec, "htgate_decisions_total", labels, 1);
	words = g_strsplit(e->rules ? e->rules : "", " ", -1);
	for (w = words; *w; w++) {
		char   *own;

		if (**w == 0)
			continue;
		if ((own = strchr(*w, ':')) != NULL)
			*own++ = 0;
		snprintf(labels, sizeof(labels), "%s", base);
		record_label(labels, sizeof(labels), "rule", *w);
		record_label(labels, sizeof(labels), "action",
			     own ? own : e->action);
		record_label(labels, sizeof(labels), "stream", e->stream);
		record_label(labels, sizeof(labels), "environment",
			     e->environment);
		tally_add_locked(rec, "htgate_rule_decisions_total", labels, 1);
	}
	g_strfreev(words);
}

/* latency_tallies - one write's latency into the histogram (locked) */
static void
latency_tallies(struct record *rec, const char *daemon, gint64 us)
{
	char	labels[RECORD_LABELS_MAX], base[RECORD_LABELS_MAX];
	double	s = (double) us / 1e6;
	size_t	i;

	base[0] = 0;
	record_label(base, sizeof(base), "daemon", daemon);
	for (i = 0; i < G_N_ELEMENTS(record_le); i++) {
		if (i + 1 < G_N_ELEMENTS(record_le)
		    && s > g_ascii_strtod(record_le[i], NULL))
			continue;
		snprintf(labels, sizeof(labels), "%s", base);
		record_label(labels, sizeof(labels), "le", record_le[i]);
		tally_add_locked(rec, "htgate_record_write_seconds_bucket",
				 labels, 1);
	}
	tally_add_locked(rec, "htgate_record_write_seconds_count", base, 1);
	tally_add_locked(rec, "htgate_record_write_microseconds_sum", base, us);
}

/* tally_cmp - by name, then labels: every writer updates the counter
 * rows in the same order, so two relays' transactions cannot deadlock */
static int
tally_cmp(const void *a, const void *b)
{
	const struct record_tally *x = a, *y = b;
	int	c = strcmp(x->name, y->name);

	return (c ? c : strcmp(x->labels, y->labels));
}

/*
 * leader_commit - commit what is queued (at most RECORD_BATCH_MAX rows)
 * and the pending tallies in one backend transaction.  Called and
 * returns with rec->lock held; releases it while the backend works.
 */
static void
leader_commit(struct record *rec)
{
	struct record_pend *batch[RECORD_BATCH_MAX];
	const struct record_entry *rows[RECORD_BATCH_MAX];
	struct record_tally *t;
	GHashTable *tallies;
	GHashTableIter it;
	gpointer k, v;
	char	err[RECORD_ERR_MAX];
	size_t	n = 0, nt = 0, i;
	int	rc;

	rec->committing = 1;
	while (n < RECORD_BATCH_MAX && !g_queue_is_empty(&rec->queue)) {
		batch[n] = g_queue_pop_head(&rec->queue);
		rows[n] = &batch[n]->e;
		row_tallies(rec, rows[n]);
		n++;
	}
	tallies = rec->tallies;
	rec->tallies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					     g_free);
	pthread_mutex_unlock(&rec->lock);

	t = g_new0(struct record_tally, g_hash_table_size(tallies) + 1);
	g_hash_table_iter_init(&it, tallies);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		char   *tab = strchr(k, '\t');

		*tab = 0;
		t[nt].name = k;
		t[nt].labels = tab + 1;
		t[nt++].delta = *(long long *) v;
	}
	qsort(t, nt, sizeof(*t), tally_cmp);
	err[0] = 0;
	pthread_mutex_lock(&rec->dblock);
	rc = rec->ops->write(rec->be, rows, n, t, nt, err, sizeof(err));
	pthread_mutex_unlock(&rec->dblock);

	pthread_mutex_lock(&rec->lock);
	if (rc < 0)			/* keep the counts for the next try
					 * (the failed rows' own: a rare
					 * overcount) */
		for (i = 0; i < nt; i++)
			tally_add_locked(rec, t[i].name, t[i].labels, t[i].delta);
	for (i = 0; i < n; i++) {
		struct record_pend *p = batch[i];

		p->done = 1;
		p->rc = rc;
		g_strlcpy(p->err, err, sizeof(p->err));
		if (rc == 0)
			latency_tallies(rec, p->e.daemon,
					g_get_monotonic_time() - p->start);
		else if (!p->durable)
			g_strlcpy(rec->async_err, err, sizeof(rec->async_err));
		pend_unref(p);
	}
	g_free(t);
	g_hash_table_destroy(tallies);
	rec->committing = 0;
	pthread_cond_broadcast(&rec->done);
}

/* record_write - queue one row and wait until it is committed durably */
int
record_write(struct record *rec, const struct record_entry *e, char *err,
	     size_t errlen)
{
	struct record_pend *p = pend_new(e, 1);
	struct timespec deadline;
	int	rc;

	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += RECORD_COMMIT_WAIT_MS / 1000;
	pthread_mutex_lock(&rec->lock);
	g_queue_push_tail(&rec->queue, p);
	while (!p->done) {
		if (!rec->committing) {
			leader_commit(rec);
			continue;
		}
		if (pthread_cond_timedwait(&rec->done, &rec->lock, &deadline)
		    == ETIMEDOUT && !p->done) {
			if (g_queue_remove(&rec->queue, p))
				pend_unref(p);	/* never taken */
			seterr(err, errlen, "record write: no commit within "
			       "%d ms", RECORD_COMMIT_WAIT_MS);
			pend_unref(p);
			pthread_mutex_unlock(&rec->lock);
			return (-1);
		}
	}
	rc = p->rc;
	if (rc < 0)
		seterr(err, errlen, "%s", p->err);
	pend_unref(p);
	pthread_mutex_unlock(&rec->lock);
	return (rc);
}

/*
 * flusher_main - commit asynchronous rows as soon as they come: the rows
 * queued while a commit is in flight go together in the next one (no
 * pause that would only delay them)
 */
static void *
flusher_main(void *arg)
{
	struct record *rec = arg;

	pthread_mutex_lock(&rec->lock);
	for (;;) {
		while (g_queue_is_empty(&rec->queue) && !rec->stopping)
			pthread_cond_wait(&rec->kick, &rec->lock);
		if (g_queue_is_empty(&rec->queue) && rec->stopping)
			break;
		if (!rec->committing)
			leader_commit(rec);
		else
			pthread_cond_wait(&rec->done, &rec->lock);
	}
	pthread_mutex_unlock(&rec->lock);
	return (NULL);
}

/* record_write_async - queue one row; committed within RECORD_ASYNC_MS */
int
record_write_async(struct record *rec, const struct record_entry *e,
		   char *err, size_t errlen)
{
	struct record_pend *p = pend_new(e, 0);
	int	rc = 0;

	pthread_mutex_lock(&rec->lock);
	if (rec->async_err[0]) {
		seterr(err, errlen, "%s", rec->async_err);
		rec->async_err[0] = 0;
		rc = -1;
	}
	if (!rec->flusher_on) {
		if (pthread_create(&rec->flusher, NULL, flusher_main, rec) != 0) {
			pthread_mutex_unlock(&rec->lock);
			pend_unref(p);
			return (record_write(rec, e, err, errlen));
		}
		rec->flusher_on = 1;
	}
	g_queue_push_tail(&rec->queue, p);
	pthread_cond_signal(&rec->kick);
	pthread_mutex_unlock(&rec->lock);
	return (rc);
}

/* record_close - commit what is queued, close the backend, free */
void
record_close(struct record *rec)
{
	if (rec == NULL)
		return;
	pthread_mutex_lock(&rec->lock);
	rec->stopping = 1;
	pthread_cond_broadcast(&rec->kick);
	pthread_mutex_unlock(&rec->lock);
	if (rec->flusher_on)
		pthread_join(rec->flusher, NULL);
	pthread_mutex_lock(&rec->lock);
	while (rec->committing)
		pthread_cond_wait(&rec->done, &rec->lock);
	if (!g_queue_is_empty(&rec->queue) || g_hash_table_size(rec->tallies))
		leader_commit(rec);
	while (!g_queue_is_empty(&rec->queue))	/* beyond one batch */
		leader_commit(rec);
	pthread_mutex_unlock(&rec->lock);
	rec->ops->close(rec->be);
	g_hash_table_destroy(rec->tallies);
	pthread_mutex_destroy(&rec->lock);
	pthread_mutex_destroy(&rec->dblock);
	pthread_cond_destroy(&rec->done);
	pthread_cond_destroy(&rec->kick);
	g_free(rec);
}

/* claim_ids - the (kind, id) pairs of a claim that are set */
static int
claim_ids(const struct record_claim *c, const char *kinds[2],
	  const char *ids[2], int bits[2])
{
	int	n = 0;

	if (c->message_id && *c->message_id) {
		kinds[n] = "msgid", ids[n] = c->message_id;
		bits[n++] = RECORD_DUP_MSGID;
	}
	if (c->envid && *c->envid) {
		kinds[n] = "envid", ids[n] = c->envid;
		bits[n++] = RECORD_DUP_ENVID;
	}
	return (n);
}

/* refusal_tallies - count the identifiers refused as used */
static void
refusal_tallies(struct record *rec, int dup, const char *stage)
{
	static const struct {
		int	bit;
		const char *kind;
	} kinds[] = {{RECORD_DUP_MSGID, "msgid"}, {RECORD_DUP_ENVID, "envid"}};
	char	labels[RECORD_LABELS_MAX];
	size_t	i;

	for (i = 0; dup > 0 && i < G_N_ELEMENTS(kinds); i++) {
		if ((dup & kinds[i].bit) == 0)
			continue;
		labels[0] = 0;
		record_label(labels, sizeof(labels), "kind", kinds[i].kind);
		record_label(labels, sizeof(labels), "stage", stage);
		record_tally_add(rec, "htgate_uniqueness_refusals_total",
				 labels, 1);
	}
}

/* record_claimed - which identifiers someone claimed within the window */
int
record_claimed(struct record *rec, const struct record_claim *c)
{
	const char *kinds[2], *ids[2];
	int	bits[2], n = claim_ids(c, kinds, ids, bits), i, r, dup = 0;
	long long since = (long long) time(NULL) - c->window;

	pthread_mutex_lock(&rec->dblock);
	for (i = 0; i < n && dup >= 0; i++) {
		if ((r = rec->ops->claimed(rec->be, kinds[i], ids[i], since)) < 0)
			dup = -1;
		else if (r == 1)
			dup |= bits[i];
	}
	pthread_mutex_unlock(&rec->dblock);
	refusal_tallies(rec, dup, "ingress");
	return (dup);
}

/* record_claim - claim every identifier of c at once, or none */
int
record_claim(struct record *rec, const struct record_claim *c, char *err,
	     size_t errlen)
{
	const char *kinds[2], *ids[2];
	int	bits[2], n = claim_ids(c, kinds, ids, bits), dup;

	if (n == 0)
		return (0);
	pthread_mutex_lock(&rec->dblock);
	dup = rec->ops->claim(rec->be, kinds, ids, bits, n, c,
			      (long long) time(NULL), err, errlen);
	pthread_mutex_unlock(&rec->dblock);
	refusal_tallies(rec, dup, "egress");
	return (dup);
}

/* record_sender_of - sender of the delivered message with this ID */
int
record_sender_of(struct record *rec, const char *id, char *sender,
		 size_t senderlen)
{
	if (id == NULL || *id == 0)
		return (0);
	RETURN_LOCKED(rec, rec->ops->sender_of(rec->be, id, sender, senderlen));
}

/*
 * record_purge_ex - delete old rows in batches; count, longest batch.
 * batch 0: adaptive, from RECORD_PURGE_BATCH / 8 rows, halved after a
 * batch longer than RECORD_PURGE_MS, doubled (up to RECORD_PURGE_BATCH)
 * after one shorter than a third of it: a writer waits one batch at most.
 */
long
record_purge_ex(struct record *rec, long older_than_seconds, int batch,
		double *longest_ms, char *err, size_t errlen)
{
	long long cutoff = (long long) time(NULL) - older_than_seconds;
	struct timespec pause = {0, RECORD_PURGE_PAUSE_NS};
	static const char *const tables[] = {"decision", "claim", "rate_event"};
	int	adaptive = batch < 1, size = adaptive ? RECORD_PURGE_BATCH / 8 : batch;
	long	total = 0, n;
	gint64	t0, dt;
	size_t	t;

	if (longest_ms)
		*longest_ms = 0;
	for (t = 0; t < G_N_ELEMENTS(tables); t++) {
		for (;;) {
			t0 = g_get_monotonic_time();
			pthread_mutex_lock(&rec->dblock);
			n = rec->ops->purge(rec->be, tables[t], cutoff, size, err,
					    errlen);
			pthread_mutex_unlock(&rec->dblock);
			dt = g_get_monotonic_time() - t0;
			if (longest_ms && (double) dt / 1000.0 > *longest_ms)
				*longest_ms = (double) dt / 1000.0;
			if (n < 0)
				return (-1);
			if (t == 0)
				total += n;
			if (n < size)
				break;
			if (adaptive && dt > RECORD_PURGE_MS * 1000 && size > 16)
				size /= 2;
			else if (adaptive && dt < RECORD_PURGE_MS * 1000 / 3
				 && size < RECORD_PURGE_BATCH)
				size *= 2;
			nanosleep(&pause, NULL);	/* let the writers in */
		}
	}
	return (total);
}

/* record_purge - delete rows older than the age; count or -1 */
long
record_purge(struct record *rec, long older_than_seconds, char *err,
	     size_t errlen)
{
	return (record_purge_ex(rec, older_than_seconds, 0, NULL, err,
				errlen));
}

/* Summary post-processing: the caller's callback and the kind of key. */
struct summary_ctx {
	record_count_fn fn;
	void   *arg;
	int	by_rule;
	int	by_day;
};

/* summary_row - one group of the backend to the caller's keys */
static void
summary_row(void *arg, const char *key, const char *action, long long n)
{
	struct summary_ctx *sc = arg;
	char	day[16];
	gchar **words, **w, **q;

	if (action == NULL)
		action = "";
	if (sc->by_day) {
		time_t	t = (time_t) (g_ascii_strtoll(key ? key : "0", NULL, 10)
				      * 86400);
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(day, sizeof(day), "%Y-%m-%d", &tm);
		sc->fn(sc->arg, day, action, n);
		return;
	}
	if (!sc->by_rule) {
		sc->fn(sc->arg, key && *key ? key : "-", action, n);
		return;
	}
	words = g_strsplit_set(key ? key : "", " ,", -1);
	for (w = words; *w; w++) {
		char   *own;

		if (**w == 0)
			continue;
		for (q = words; q < w && strcmp(*q, *w) != 0; q++)
			;
		if (q != w)		/* counted once per decision */
			continue;
		if ((own = strchr(*w, ':')) != NULL)
			*own++ = 0;
		sc->fn(sc->arg, *w, own ? own : action, n);
	}
	g_strfreev(words);
}

/* record_summary - decisions per key and action since a time */
int
record_summary(struct record *rec, const char *by, long long since,
	       record_count_fn fn, void *arg, char *err, size_t errlen)
{
	struct summary_ctx sc = {fn, arg, strcmp(by, "rule") == 0,
		strcmp(by, "day") == 0};
	const char *col;

	if (sc.by_rule)
		col = "rules";
	else if (sc.by_day || strcmp(by, "sender") == 0
		 || strcmp(by, "stream") == 0 || strcmp(by, "environment") == 0)
		col = by;
	else {
		seterr(err, errlen, "unknown summary key %s", by);
		return (-1);
	}
	RETURN_LOCKED(rec, rec->ops->summary(rec->be, col, since, summary_row,
					     &sc, err, errlen));
}

/* record_show - every decision of one message, oldest first */
int
record_show(struct record *rec, const char *id, record_show_fn fn, void *arg,
	    char *err, size_t errlen)
{
	RETURN_LOCKED(rec, rec->ops->show(rec->be, id, fn, arg, err, errlen));
}

/* record_explain_sql - the statement to explain for one lookup */
char   *
record_explain_sql(const struct record_lookup *t, size_t n,
		   const char *prefix, const char *query, char *err,
		   size_t errlen)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(t[i].name, query) == 0)
			return (g_strdup_printf("%s %s", prefix, t[i].sql));
	snprintf(err, errlen, "no query %s", query);
	return (NULL);
}

/* record_entry_text - the text columns in RECORD_COLUMNS order */
void
record_entry_text(const struct record_entry *e, const char *out[RECORD_NTEXT])
{
	out[0] = e->host, out[1] = e->queue_id, out[2] = e->stage;
	out[3] = e->action, out[4] = e->rules, out[5] = e->sender;
	out[6] = e->sasl_user, out[7] = e->recipient, out[8] = e->stream;
	out[9] = e->environment, out[10] = e->message_id, out[11] = e->envid;
	out[12] = e->body_sha256, out[13] = e->reply, out[14] = e->daemon;
	out[15] = e->details;
}

/* record_entry_fields - a row's fields as (name, value), schema order */
void
record_entry_fields(const struct record_entry *e, record_field_fn fn,
		    void *arg)
{
	static const char *const names[] = {"host", "queue_id", "stage",
		"action", "rules", "sender", "sasl_user", "recipient",
		"stream", "environment", "message_id", "envid"};
	const char *text[RECORD_NTEXT];
	char	size[32];
	size_t	i;

	record_entry_text(e, text);
	for (i = 0; i < G_N_ELEMENTS(names); i++)
		if (text[i] && *text[i])
			fn(arg, names[i], text[i]);
	if (e->size >= 0) {
		snprintf(size, sizeof(size), "%lld", e->size);
		fn(arg, "size", size);
	}
	if (e->body_sha256 && *e->body_sha256)
		fn(arg, "body_sha256", e->body_sha256);
	if (e->reply && *e->reply)
		fn(arg, "reply", e->reply);
	if (e->daemon && *e->daemon)
		fn(arg, "daemon", e->daemon);
	if (e->details && *e->details)
		fn(arg, "details", e->details);
}

/* record_info - backend, version, rows, size */
int
record_info(struct record *rec, struct record_info *info, char *err,
	    size_t errlen)
{
	memset(info, 0, sizeof(*info));
	info->wal_bytes = info->free_bytes = -1;
	g_strlcpy(info->backend, rec->ops->name, sizeof(info->backend));
	RETURN_LOCKED(rec, rec->ops->info(rec->be, info, err, errlen));
}

/* record_tallies - every counter and gauge, sorted */
int
record_tallies(struct record *rec, record_tally_fn fn, void *arg, char *err,
	       size_t errlen)
{
	RETURN_LOCKED(rec, rec->ops->tallies(rec->be, fn, arg, err, errlen));
}

/* record_tally_set - set a gauge now */
int
record_tally_set(struct record *rec, const char *name, const char *labels,
		 long long value, char *err, size_t errlen)
{
	RETURN_LOCKED(rec, rec->ops->tally_set(rec->be, name,
					       labels ? labels : "", value, err,
					       errlen));
}

/* record_rate_take - one step of a shared sliding window */
int
record_rate_take(struct record *rec, const char *key, int limit,
		 long long window_ms, int count_over, char *err, size_t errlen)
{
	long long now_ms = g_get_real_time() / 1000;
	RETURN_LOCKED(rec, rec->ops->rate_take(rec->be, key, limit, now_ms,
					       window_ms, count_over, err,
					       errlen));
}

/* record_fetch_claim - claim one answer for this htgate-fetch */
int
record_fetch_claim(struct record *rec, const char *account, const char *uidl,
		   char *err, size_t errlen)
{
	RETURN_LOCKED(rec, rec->ops->fetch_claim(rec->be, account, uidl,
						 (long long) time(NULL), err,
						 errlen));
}

/* record_fetch_done - the claimed answer handed over, or released */
int
record_fetch_done(struct record *rec, int delivered, char *err, size_t errlen)
{
	RETURN_LOCKED(rec, rec->ops->fetch_done(rec->be, delivered,
						(long long) time(NULL), err,
						errlen));
}

/* record_fetch_retain - forget answers the server no longer lists */
int
record_fetch_retain(struct record *rec, const char *account,
		    const char *const *uidls, size_t n, long keep_seconds,
		    char *err, size_t errlen)
{
	RETURN_LOCKED(rec, rec->ops->fetch_retain(rec->be, account, uidls, n,
				(long long) time(NULL) - keep_seconds, err,
				errlen));
}

/* record_explain - the query plan of one lookup */
int
record_explain(struct record *rec, const char *query, char *plan,
	       size_t planlen, char *err, size_t errlen)
{
	RETURN_LOCKED(rec, rec->ops->explain(rec->be, query, plan, planlen,
					     err, errlen));
}

/* record_sql - one statement (tests) */
int
record_sql(struct record *rec, const char *sql, char *err, size_t errlen)
{
	RETURN_LOCKED(rec, rec->ops->sql(rec->be, sql, err, errlen));
}

/* record_hash_init - start a body SHA-256 */
void
record_hash_init(struct record_hash *h)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		ctx = NULL;
	}
	h->ctx = ctx;
}

/* record_hash_update - feed one body chunk */
void
record_hash_update(struct record_hash *h, const void *buf, size_t len)
{
	if (h->ctx && EVP_DigestUpdate(h->ctx, buf, len) != 1) {
		EVP_MD_CTX_free(h->ctx);
		h->ctx = NULL;
	}
}

/* record_hash_final - hex digest ("" after an error); frees the context */
void
record_hash_final(struct record_hash *h, char hex[RECORD_SHA256_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	hex[0] = 0;
	if (h->ctx == NULL)
		return;
	if (EVP_DigestFinal_ex(h->ctx, md, &mdlen) == 1 && mdlen == 32)
		for (i = 0; i < mdlen; i++)
			snprintf(hex + 2 * i, 3, "%02x", md[i]);
	EVP_MD_CTX_free(h->ctx);
	h->ctx = NULL;
}
