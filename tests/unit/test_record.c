/*
 * NAME
 *	test_record - the uniqueness claims of the decision record
 * DESCRIPTION
 *	record_claim() and record_claimed() on a database in a temporary
 *	directory: a new identifier is claimed, the same holder may claim it
 *	again (a retry of the same queued message), another holder may not
 *	within the window but may after it; a message's Message-ID and
 *	ENVID are claimed together or not at all; of many threads, each
 *	with its own connection as separate processes have, claiming one
 *	Message-ID at the same moment exactly one succeeds; a version 1
 *	database is migrated with its delivered identifiers claimed;
 *	record_purge() drops old claims.  Group commit: threads sharing one
 *	handle write every row once and the tallies count them; a sliding
 *	window (record_rate_take) counts, refuses and forgets.
 *
 *	With HTGATE_TEST_PG_URL set (tests/pg/run.sh starts a server) the
 *	same cases run against PostgreSQL: the schema is created with
 *	record_init() and emptied before each case; the version 1 migration
 *	is SQLite's alone.
 */
#include "config.h"

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "unit.h"
#include "record.h"

#define DAY	86400L
#define NTHREADS 16

static char dir[] = "/tmp/htgate-test-record-XXXXXX";
static char path[512];
static const char *pg_url;		/* HTGATE_TEST_PG_URL */

/* setup - a fresh database per test: a new file, or emptied tables */
static void
setup(void)
{
	static int n;
	char	err[256];
	struct record *rec;

	if (pg_url != NULL) {
		snprintf(path, sizeof(path), "%s", pg_url);
		ck_assert_msg(record_init(path, NULL, NULL, err, sizeof(err)) == 0,
			      "%s", err);
		rec = record_open(path, err, sizeof(err));
		ck_assert_msg(rec != NULL, "%s", err);
		ck_assert_msg(record_sql(rec, "TRUNCATE decision, claim, tally,"
					 " rate_event, fetch_msg", err,
					 sizeof(err)) == 0, "%s", err);
		record_close(rec);
		return;
	}
	if (n == 0 && mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/record%d.db", dir, n++);
}

/* claim - record_claim() of one Message-ID and/or ENVID */
static int
claim(struct record *rec, const char *msgid, const char *envid,
      const char *holder, long window)
{
	struct record_claim c = {.message_id = msgid, .envid = envid,
		.holder = holder, .queue_id = "QID", .window = window};
	char	err[256];

	return (record_claim(rec, &c, err, sizeof(err)));
}

/* claimed - record_claimed() of one Message-ID and/or ENVID */
static int
claimed(struct record *rec, const char *msgid, const char *envid, long window)
{
	struct record_claim c = {.message_id = msgid, .envid = envid,
		.window = window};

	return (record_claimed(rec, &c));
}

/* sql - one statement on the handle's connection */
static void
sql(struct record *rec, const char *stmt)
{
	char	err[256];

	ck_assert_msg(record_sql(rec, stmt, err, sizeof(err)) == 0, "%s", err);
}

/* open_record - record_open() of this test's database, which must work */
static struct record *
open_record(void)
{
	char	err[256];
	struct record *rec = record_open(path, err, sizeof(err));

	ck_assert_msg(rec != NULL, "%s", err);
	return (rec);
}

START_TEST(test_claim_rules)
{
	struct record *rec = open_record();

	ck_assert_int_eq(claimed(rec, "<a@x>", NULL, DAY), 0);
	ck_assert_int_eq(claim(rec, "<a@x>", NULL, "H1", DAY), 0);
	ck_assert_int_eq(claimed(rec, "<a@x>", NULL, DAY), RECORD_DUP_MSGID);
	/* the same queued message again: a retry keeps its claim */
	ck_assert_int_eq(claim(rec, "<a@x>", NULL, "H1", DAY), 0);
	/* another message with the same Message-ID */
	ck_assert_int_eq(claim(rec, "<a@x>", NULL, "H2", DAY), RECORD_DUP_MSGID);
	/* outside the window the identifier is free again */
	sql(rec, "UPDATE claim SET time = time - 2 * 86400");
	ck_assert_int_eq(claimed(rec, "<a@x>", NULL, DAY), 0);
	ck_assert_int_eq(claim(rec, "<a@x>", NULL, "H2", DAY), 0);
	ck_assert_int_eq(claim(rec, "<a@x>", NULL, "H1", DAY), RECORD_DUP_MSGID);
	/* a Message-ID and an ENVID are different kinds */
	ck_assert_int_eq(claim(rec, NULL, "<a@x>", "H9", DAY), 0);
	/* nothing to claim */
	ck_assert_int_eq(claim(rec, NULL, "", "H9", DAY), 0);
	record_close(rec);
}
END_TEST

START_TEST(test_claim_all_or_nothing)
{
	struct record *rec = open_record();

	ck_assert_int_eq(claim(rec, NULL, "E1", "H1", DAY), 0);
	/* a new Message-ID with a used ENVID: neither is claimed */
	ck_assert_int_eq(claim(rec, "<b@x>", "E1", "H2", DAY), RECORD_DUP_ENVID);
	ck_assert_int_eq(claimed(rec, "<b@x>", NULL, DAY), 0);
	ck_assert_int_eq(claim(rec, "<b@x>", "E2", "H2", DAY), 0);
	ck_assert_int_eq(claim(rec, "<b@x>", "E1", "H3", DAY),
			 RECORD_DUP_MSGID | RECORD_DUP_ENVID);
	record_close(rec);
}
END_TEST

struct racer {
	char	holder[16];
	int	result;
	pthread_barrier_t *start;
};

/* race - one thread: its own connection, then claim at the barrier */
static void *
race(void *arg)
{
	struct racer *r = arg;
	char	err[256];
	struct record *rec = record_open(path, err, sizeof(err));

	pthread_barrier_wait(r->start);
	r->result = rec ? claim(rec, "<race@x>", "E-race", r->holder, DAY) : -1;
	record_close(rec);
	return (NULL);
}

START_TEST(test_claim_race)
{
	pthread_t tid[NTHREADS];
	struct racer r[NTHREADS];
	pthread_barrier_t start;
	int	i, won = 0, lost = 0;

	record_close(open_record());	/* schema first */
	pthread_barrier_init(&start, NULL, NTHREADS);
	for (i = 0; i < NTHREADS; i++) {
		snprintf(r[i].holder, sizeof(r[i].holder), "H%d", i);
		r[i].start = &start;
		ck_assert_int_eq(pthread_create(&tid[i], NULL, race, &r[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(tid[i], NULL);
		if (r[i].result == 0)
			won++;
		else if (r[i].result == (RECORD_DUP_MSGID | RECORD_DUP_ENVID))
			lost++;
	}
	pthread_barrier_destroy(&start);
	ck_assert_msg(won == 1 && lost == NTHREADS - 1,
		      "%d claims won, %d lost of %d", won, lost, NTHREADS);
}
END_TEST

/* show_details - record_show callback: the row's details into arg */
static void
show_details(void *arg, const struct record_entry *e)
{
	g_strlcpy(arg, e->details ? e->details : "(null)", 256);
}

START_TEST(test_migrate_v1)
{
	sqlite3 *db;
	char	err[256];
	struct record *rec;

	if (pg_url != NULL)
		return;			/* SQLite's PRAGMA user_version only */
	/* a version 1 record: two delivered messages, one refused */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
		"CREATE TABLE decision (id INTEGER PRIMARY KEY, time INTEGER NOT NULL,"
		" host TEXT, queue_id TEXT, stage TEXT, action TEXT NOT NULL,"
		" rules TEXT, sender TEXT, sasl_user TEXT, recipient TEXT,"
		" stream TEXT, environment TEXT, message_id TEXT, envid TEXT,"
		" size INTEGER, body_sha256 TEXT, reply TEXT, daemon TEXT);"
		"INSERT INTO decision (time, action, message_id, envid) VALUES"
		" (strftime('%s','now'), 'accept', '<old@x>', NULL),"
		" (strftime('%s','now'), 'fix', '<fixed@x>', 'E-old'),"
		" (strftime('%s','now'), 'reject', '<refused@x>', NULL);"
		"PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	rec = open_record();
	ck_assert_int_eq(claimed(rec, "<old@x>", NULL, DAY), RECORD_DUP_MSGID);
	ck_assert_int_eq(claimed(rec, "<fixed@x>", "E-old", DAY),
			 RECORD_DUP_MSGID | RECORD_DUP_ENVID);
	ck_assert_int_eq(claimed(rec, "<refused@x>", NULL, DAY), 0);
	ck_assert_int_eq(claim(rec, "<old@x>", NULL, "H1", DAY), RECORD_DUP_MSGID);
	/* version 4 added the details column to the old table */
	{
		struct record_entry e = {.action = "fix", .queue_id = "QV4",
			.daemon = "milter", .size = -1,
			.details = "MIME-SINGLE: unwrapped\nrepair: dropped text"};
		char	got[256] = "";

		ck_assert_msg(record_write(rec, &e, err, sizeof(err)) == 0, "%s",
			      err);
		ck_assert_int_eq(record_show(rec, "QV4", show_details, got, err,
					     sizeof(err)), 1);
		ck_assert_str_eq(got, e.details);
	}
	record_close(rec);
	/* the version went into schema_version; user_version follows it */
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "SELECT 1 FROM schema_version WHERE"
		" version = 1 AND note = 'from PRAGMA user_version'", NULL, NULL,
		NULL), SQLITE_OK);
	{
		sqlite3_stmt *st;

		ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT group_concat(version)"
			" FROM schema_version", -1, &st, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_str_eq((const char *) sqlite3_column_text(st, 0), "1,2,3,4");
		sqlite3_finalize(st);
		ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
			&st, NULL), SQLITE_OK);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
		ck_assert_int_eq(sqlite3_column_int(st, 0), RECORD_SCHEMA_VERSION);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}
END_TEST

struct writer {
	struct record *rec;
	int	index;
	int	failed;
};

/* write_many - one thread: 200 rows through the shared handle */
static void *
write_many(void *arg)
{
	struct writer *w = arg;
	struct record_entry e = {.action = "accept", .daemon = "milter",
		.stream = "AGS", .environment = "production", .size = -1};
	char	qid[32], err[256];
	int	i;

	e.queue_id = qid;
	for (i = 0; i < 200; i++) {
		snprintf(qid, sizeof(qid), "W%d-%d", w->index, i);
		if (record_write(w->rec, &e, err, sizeof(err)) < 0)
			w->failed++;
	}
	return (NULL);
}

/* What tally_sum() adds up. */
struct tsum {
	const char *name;
	const char *labels_part;
	long long sum;
};

/* tally_sum - add the value of every tally of arg's name and labels */
static void
tally_sum(void *arg, const char *name, const char *labels, long long value)
{
	struct tsum *t = arg;

	if (strcmp(name, t->name) == 0
	    && (t->labels_part == NULL || strstr(labels, t->labels_part)))
		t->sum += value;
}

/* count_one - count the rows of show */
static void
count_one(void *arg, const struct record_entry *e)
{
	(void) e;
	(*(int *) arg)++;
}

START_TEST(test_group_commit)
{
	pthread_t tid[8];
	struct writer w[8];
	char	err[256];
	struct record *rec = open_record();
	struct tsum t = {"htgate_decisions_total", "action=\"accept\"", 0};
	struct tsum h = {"htgate_record_write_seconds_count", NULL, 0};
	struct record_info in;
	int	i, n = 0;

	for (i = 0; i < 8; i++) {
		w[i] = (struct writer) {.rec = rec, .index = i};
		ck_assert_int_eq(pthread_create(&tid[i], NULL, write_many, &w[i]), 0);
	}
	for (i = 0; i < 8; i++) {
		pthread_join(tid[i], NULL);
		ck_assert_int_eq(w[i].failed, 0);
	}
	ck_assert_int_eq(record_info(rec, &in, err, sizeof(err)), 0);
	ck_assert_int_eq(in.decisions, 1600);
	ck_assert_int_eq(in.version, RECORD_SCHEMA_VERSION);
	ck_assert_int_ge(record_show(rec, "W7-199", count_one, &n, err,
				     sizeof(err)), 1);
	ck_assert_int_eq(n, 1);
	record_close(rec);		/* commits the last latencies */
	rec = open_record();
	ck_assert_int_eq(record_tallies(rec, tally_sum, &t, err, sizeof(err)), 0);
	ck_assert_int_eq(record_tallies(rec, tally_sum, &h, err, sizeof(err)), 0);
	ck_assert_int_eq(t.sum, 1600);
	ck_assert_int_eq(h.sum, 1600);
	record_close(rec);
}
END_TEST

START_TEST(test_rate_window)
{
	char	err[256];
	struct record *rec = open_record();

	/* two per minute: the third is over and not counted (defer) ... */
	ck_assert_int_eq(record_rate_take(rec, "acct", 2, 60000, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(record_rate_take(rec, "acct", 2, 60000, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(record_rate_take(rec, "acct", 2, 60000, 0, err, sizeof(err)), 1);
	/* ... another account has its own window */
	ck_assert_int_eq(record_rate_take(rec, "other", 2, 60000, 0, err, sizeof(err)), 0);
	/* a window of 1 ms has forgotten them all after a moment */
	usleep(5000);
	ck_assert_int_eq(record_rate_take(rec, "acct", 2, 1, 0, err, sizeof(err)), 0);
	/* warn: counted even when over */
	ck_assert_int_eq(record_rate_take(rec, "w", 1, 60000, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(record_rate_take(rec, "w", 1, 60000, 1, err, sizeof(err)), 1);
	ck_assert_int_eq(record_rate_take(rec, "w", 2, 60000, 1, err, sizeof(err)), 1);
	record_close(rec);
}
END_TEST

START_TEST(test_purge_claims)
{
	char	err[256];
	struct record *rec = open_record();

	ck_assert_int_eq(claim(rec, "<p@x>", NULL, "H1", 400 * DAY), 0);
	sql(rec, "UPDATE claim SET time = time - 10 * 86400");
	ck_assert_int_ge(record_purge(rec, 5 * DAY, err, sizeof(err)), 0);
	ck_assert_int_eq(claimed(rec, "<p@x>", NULL, 400 * DAY), 0);
	record_close(rec);
}
END_TEST

/* remove_dir - the temporary directory and the databases in it */
static void
remove_dir(void)
{
	GDir   *d = g_dir_open(dir, 0, NULL);
	const char *name;
	char   *p;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		p = g_build_filename(dir, name, NULL);
		(void) g_unlink(p);
		g_free(p);
	}
	if (d != NULL)
		g_dir_close(d);
	(void) g_rmdir(dir);
}

int
main(void)
{
	Suite  *s;
	TCase  *tc;
	const TTest *tests[] = {test_claim_rules, test_claim_all_or_nothing,
		test_claim_race, test_migrate_v1, test_purge_claims,
		test_group_commit, test_rate_window};
	int	failed;

	pg_url = getenv("HTGATE_TEST_PG_URL");
	if (pg_url != NULL && *pg_url == 0)
		pg_url = NULL;
	s = suite_create(pg_url ? "record-pg" : "record");
	tc = unit_tcase(s, "claims", setup, NULL);
	tcase_set_timeout(tc, 30);
	unit_add_tests(tc, tests, G_N_ELEMENTS(tests));
	failed = unit_run(s, 1);
	if (pg_url == NULL)
		remove_dir();
	return (failed ? 1 : 0);
}
