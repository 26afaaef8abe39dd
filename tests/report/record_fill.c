/*
 * NAME
 *	record_fill - write decisions into a record database (test helper)
 * SYNOPSIS
 *	record_fill DB tsv < FILE
 *	record_fill DB many N LABEL
 *	record_fill DB seen msgid|envid VALUE WINDOW
 *	record_fill DB threads T N
 *	record_fill DB purge SECONDS
 *	record_fill DB hash < FILE
 *	record_fill DB year N [SEED]
 *	record_fill DB lookup N
 *	record_fill DB explain QUERY
 *	record_fill DB writer SECONDS
 *	record_fill DB init
 * DESCRIPTION
 *	tsv: one decision per input line, tab-separated, in the column
 *	order of struct record_entry (time host queue_id stage action rules
 *	sender sasl_user recipient stream environment message_id envid size
 *	body_sha256 reply daemon); "-" is NULL, "\n" in reply a line break.
 *	many: N decisions with queue ids LABEL-1..N, printing "ok I" after
 *	each committed write (the kill test counts these).  seen: prints 1
 *	or 0 (exit 2 on error).  threads: T threads share one handle and
 *	write N decisions each, then the rate is printed on stderr.  purge: prints the count.  hash: SHA-256 of
 *	standard input through record_hash_*, fed in odd-sized chunks.
 *
 *	year: N decisions spread evenly over the last 365 days, as a busy
 *	forwarder writes them (bench/record1m): 30 senders, 8 streams, both
 *	environments; 88 % accepted at egress and at ingress (pairs), the
 *	rest fixed, warned, refused (one to three rules) or tempfailed;
 *	unique queue IDs Y<n>, Message-IDs <y<n>@fill.example> and ENVIDs;
 *	the Message-ID and ENVID of every egress acceptance claimed (one
 *	statement after the rows).  Rows go in through record_write_async()
 *	with a record_write() every 5000 (bounded memory, group commit).
 *	Prints rows/s on stderr.  lookup: N record_claimed() of known and
 *	unknown Message-IDs of a year; prints "lookup: AVG us avg, MEDIAN
 *	us median, P99 us p99, MAX us max, ...".  explain: the plan of one of the record's lookups (record.h
 *	record_explain).  writer: one record_write() every 10 ms for
 *	SECONDS (or until SIGTERM), then "writer: N writes, max MS ms, avg MS ms" (the wait a
 *	milter thread sees while purge runs).  init: record_init().
 * OWNERSHIP
 *	tests/report.
 */
#include "config.h"

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "record.h"

#define FILL_LINE	8192
#define FILL_FIELDS	17
#define FILL_THREADS	16

struct fill_thread {
	struct record *rec;
	long	n;
	int	index;
	int	rc;
};

/* nul_dash - "-" means NULL */
static const char *
nul_dash(char *s)
{
	return (strcmp(s, "-") == 0 ? NULL : s);
}

/* unescape_nl - "\n" to a line break, in place */
static void
unescape_nl(char *s)
{
	char   *d = s;

	for (; *s; s++, d++) {
		if (s[0] == '\\' && s[1] == 'n') {
			*d = '\n';
			s++;
		} else {
			*d = *s;
		}
	}
	*d = 0;
}

/* fill_tsv - one decision per line of stdin */
static int
fill_tsv(struct record *rec)
{
	char	line[FILL_LINE], err[256], *f[FILL_FIELDS], *p;
	struct record_entry e;
	int	n, lineno = 0;

	while (fgets(line, sizeof(line), stdin)) {
		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if (line[0] == '#' || line[0] == 0)
			continue;
		for (n = 0, p = line; n < FILL_FIELDS && p; n++) {
			f[n] = p;
			if ((p = strchr(p, '\t')) != NULL)
				*p++ = 0;
		}
		if (n != FILL_FIELDS || p) {
			fprintf(stderr, "line %d: want %d fields\n", lineno, FILL_FIELDS);
			return (1);
		}
		unescape_nl(f[15]);
		/* the columns in the order of struct record_entry */
		e = (struct record_entry) {
			.time = strtoll(f[0], NULL, 10), .host = nul_dash(f[1]),
			.queue_id = nul_dash(f[2]), .stage = nul_dash(f[3]),
			.action = nul_dash(f[4]), .rules = nul_dash(f[5]),
			.sender = nul_dash(f[6]), .sasl_user = nul_dash(f[7]),
			.recipient = nul_dash(f[8]), .stream = nul_dash(f[9]),
			.environment = nul_dash(f[10]), .message_id = nul_dash(f[11]),
			.envid = nul_dash(f[12]),
			.size = nul_dash(f[13]) ? strtoll(f[13], NULL, 10) : -1,
			.body_sha256 = nul_dash(f[14]), .reply = nul_dash(f[15]),
			.daemon = nul_dash(f[16])};
		if (record_write(rec, &e, err, sizeof(err)) < 0) {
			fprintf(stderr, "line %d: %s\n", lineno, err);
			return (1);
		}
	}
	return (0);
}

/* write_numbered - N writes of e with queue ids PREFIX-1..N; with ack,
 * "ok I" on stdout after each commit */
static int
write_numbered(struct record *rec, struct record_entry *e, const char *prefix,
	       long n, int ack)
{
	char	qid[64], err[256];
	long	i;
	int	rc = 0;

	e->queue_id = qid;
	for (i = 1; i <= n && rc == 0; i++) {
		snprintf(qid, sizeof(qid), "%s-%ld", prefix, i);
		if (record_write(rec, e, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			rc = 1;
		} else if (ack) {
			printf("ok %ld\n", i);
			fflush(stdout);
		}
	}
	e->queue_id = NULL;
	return (rc);
}

/* fill_many - N writes, acknowledging each commit on stdout */
static int
fill_many(struct record *rec, long n, const char *label)
{
	struct record_entry e = {.host = "test", .stage = "eom",
		.action = "accept", .sender = "load@example.com", .size = 1000,
		.daemon = label};

	return (write_numbered(rec, &e, label, n, 1));
}

/* fill_thread_main - one thread's writes on the shared handle */
static void *
fill_thread_main(void *arg)
{
	struct fill_thread *t = arg;
	struct record_entry e = {.action = "accept", .daemon = "milter",
		.size = -1};
	char	prefix[16];

	snprintf(prefix, sizeof(prefix), "T%d", t->index);
	t->rc = write_numbered(t->rec, &e, prefix, t->n, 0);
	return (NULL);
}

/* fill_threads - T threads writing N each through one handle */
static int
fill_threads(struct record *rec, int nthreads, long n)
{
	struct fill_thread t[FILL_THREADS];
	pthread_t tid[FILL_THREADS];
	struct timespec a, b;
	double	us;
	int	i, rc = 0;

	if (nthreads < 1 || nthreads > FILL_THREADS || n < 1)
		return (2);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (i = 0; i < nthreads; i++) {
		t[i] = (struct fill_thread) {.rec = rec, .n = n, .index = i};
		if (pthread_create(&tid[i], NULL, fill_thread_main, &t[i]) != 0)
			return (2);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(tid[i], NULL);
		rc |= t[i].rc;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	us = ((double) (b.tv_sec - a.tv_sec) * 1e6
	      + (double) (b.tv_nsec - a.tv_nsec) / 1e3) / ((double) nthreads * (double) n);
	fprintf(stderr, "%.1f us per write\n", us);
	return (rc);
}

/* fill_hash - hash stdin in 7-byte chunks */
static int
fill_hash(void)
{
	struct record_hash h;
	char	hex[RECORD_SHA256_HEX], buf[7];
	size_t	n;

	record_hash_init(&h);
	while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
		record_hash_update(&h, buf, n);
	record_hash_final(&h, hex);
	printf("%s\n", hex);
	return (hex[0] ? 0 : 1);
}

/* next_rand - a small deterministic generator (xorshift64) */
static uint64_t
next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (*x);
}

/* now_us - monotonic microseconds */
static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3);
}

/* fill_year - N decisions of a year (see DESCRIPTION) */
static int
fill_year(struct record *rec, long n, uint64_t seed)
{
	static const char *const streams[] = {"AGS", "AGSC", "DMS", "EMCS",
		"DVA", "PNI", "SINGLEWINDOW", "ELOGBOEK"};
	static const char *const refusals[][2] = {
		{"HDR-CC", "550 5.6.0 [HTG HDR-CC] A message to HTG may not have a Cc: header."},
		{"MIME-SINGLE MIME-CHARSET", "550 5.6.1 [HTG MIME-SINGLE] A message to HTG must have exactly one body part."},
		{"ENV-ONE-RCPT", "550 5.5.3 [HTG ENV-ONE-RCPT] A message to HTG must have exactly one recipient."},
		{"MIME-CHARSET", "550 5.6.0 [HTG MIME-CHARSET] windows-1252 is not accepted by HTG."},
		{"HDR-MSGID", "550 5.7.1 [HTG HDR-MSGID] Message-ID was already sent to HTG; it must be unique."},
		{"ENV-NOTIFY ENV-RATE:warn", "550 5.5.4 [HTG ENV-NOTIFY] NOTIFY=SUCCESS,FAILURE is required."},
	};
	struct record_entry e;
	char	qid[32], msgid[64], envid[32], sender[64], sha[65], err[256];
	long long t0 = (long long) time(NULL) - 365LL * 86400;
	uint64_t x = seed ? seed : 88172645463325252ULL;
	double	start = now_us(), secs;
	long	i;
	int	j, rc;

	for (i = 0; i < n; i++) {
		uint64_t r = next_rand(&x);
		unsigned pct = (unsigned) (r % 100);

		memset(&e, 0, sizeof(e));
		e.time = t0 + (long long) ((double) i * 365.0 * 86400 / (double) n);
		snprintf(qid, sizeof(qid), "Y%ld", i);
		snprintf(msgid, sizeof(msgid), "<y%ld@fill.example>", i);
		snprintf(envid, sizeof(envid), "E%ld", i);
		snprintf(sender, sizeof(sender), "erp%u@company%u.example",
			 (unsigned) (r >> 8) % 10, (unsigned) (r >> 16) % 3);
		for (j = 0; j < 64; j++)
			sha[j] = "0123456789abcdef"[(r >> (j % 60)) & 15];
		sha[64] = 0;
		e.host = i % 2 ? "relay1.example.com" : "relay2.example.com";
		e.queue_id = qid;
		e.sender = sender;
		e.recipient = "AGS@msa-smtp.htpoort.nl";
		e.stream = streams[(r >> 24) % G_N_ELEMENTS(streams)];
		e.environment = (r >> 32) % 10 ? "production" : "preprod";
		e.message_id = msgid;
		e.envid = envid;
		e.size = 2000 + (long long) ((r >> 40) % 200000);
		e.body_sha256 = sha;
		e.stage = "eom";
		if (pct < 88) {
			e.action = "accept";
			e.daemon = i % 2 ? "egress" : "milter";
		} else if (pct < 92) {
			e.action = "fix", e.rules = "HDR-MSGID", e.daemon = "milter";
		} else if (pct < 94) {
			e.action = "warn", e.rules = "ENV-RATE", e.daemon = "milter";
		} else if (pct < 99) {
			j = (int) ((r >> 44) % G_N_ELEMENTS(refusals));
			e.action = "reject", e.rules = refusals[j][0];
			e.reply = refusals[j][1];
			e.daemon = j == 2 ? "policyd" : "milter";
			e.stage = j == 2 ? "rcpt" : "header";
		} else {
			e.action = "tempfail", e.rules = "INTERNAL";
			e.reply = "451 4.3.0 [HTG INTERNAL] try again later";
			e.daemon = "milter";
		}
		rc = (i + 1) % 5000 == 0 || i + 1 == n ?
			record_write(rec, &e, err, sizeof(err)) :
			record_write_async(rec, &e, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "row %ld: %s\n", i, err);
			return (1);
		}
	}
	if (record_sql(rec, "INSERT INTO claim (kind, id, time, holder, queue_id)"
		       " SELECT 'msgid', message_id, time, queue_id, queue_id FROM decision"
		       " WHERE daemon = 'egress' AND action = 'accept'"
		       " AND queue_id LIKE 'Y%' ON CONFLICT DO NOTHING", err,
		       sizeof(err)) < 0
	    || record_sql(rec, "INSERT INTO claim (kind, id, time, holder, queue_id)"
			  " SELECT 'envid', envid, time, queue_id, queue_id FROM decision"
			  " WHERE daemon = 'egress' AND action = 'accept'"
			  " AND queue_id LIKE 'Y%' ON CONFLICT DO NOTHING", err,
			  sizeof(err)) < 0) {
		fprintf(stderr, "claims: %s\n", err);
		return (1);
	}
	secs = (now_us() - start) / 1e6;
	fprintf(stderr, "year: %ld rows in %.1f s (%.0f rows/s), claims added\n",
		n, secs, (double) n / secs);
	return (0);
}

/* cmp_double - qsort */
static int
cmp_double(const void *a, const void *b)
{
	double	x = *(const double *) a, y = *(const double *) b;

	return (x < y ? -1 : x > y);
}

/* fill_lookup - N uniqueness lookups, half of them known */
static int
fill_lookup(struct record *rec, long n)
{
	char	msgid[64];
	double	t, sum = 0, max = 0, *all;
	long	i;
	int	found = 0, d;

	if (n < 1)
		return (2);
	all = calloc((size_t) n, sizeof(*all));
	for (i = 0; i < n; i++) {
		struct record_claim c = {.message_id = msgid, .window = 400 * 86400L};

		if (i % 2)
			snprintf(msgid, sizeof(msgid), "<y%ld@fill.example>",
				 (i * 7919) % 1000000);
		else
			snprintf(msgid, sizeof(msgid), "<new%ld@fill.example>", i);
		t = now_us();
		if ((d = record_claimed(rec, &c)) < 0) {
			free(all);
			return (1);
		}
		t = now_us() - t;
		found += d != 0;
		sum += t;
		all[i] = t;
		if (t > max)
			max = t;
	}
	qsort(all, (size_t) n, sizeof(*all), cmp_double);
	printf("lookup: %.1f us avg, %.1f us median, %.1f us p99, %.1f us max,"
	       " %d of %ld found\n", sum / (double) n, all[n / 2],
	       all[n * 99 / 100], max, found, n);
	free(all);
	return (0);
}

static volatile sig_atomic_t fill_stop;

/* fill_term - SIGTERM: the writer stops and reports */
static void
fill_term(int sig)
{
	(void) sig;
	fill_stop = 1;
}

/* fill_writer - one write every 10 ms for a while (or until SIGTERM);
 * the longest wait */
static int
fill_writer(struct record *rec, long seconds)
{
	struct record_entry e = {.action = "accept", .daemon = "milter",
		.size = -1, .host = "writer"};
	struct timespec pause = {0, 10000000L};
	char	qid[32], err[256];
	double	end = now_us() + (double) seconds * 1e6, t, max = 0, sum = 0;
	long	n = 0;

	e.queue_id = qid;
	signal(SIGTERM, fill_term);
	while (now_us() < end && !fill_stop) {
		snprintf(qid, sizeof(qid), "WR%ld", n);
		t = now_us();
		if (record_write(rec, &e, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return (1);
		}
		t = (now_us() - t) / 1000.0;
		sum += t;
		if (t > max)
			max = t;
		n++;
		nanosleep(&pause, NULL);
	}
	printf("writer: %ld writes, max %.1f ms, avg %.2f ms\n", n, max,
	       n ? sum / (double) n : 0);
	return (0);
}

/* main - dispatch on the command */
int
main(int argc, char **argv)
{
	struct record *rec;
	char	err[256];
	int	rc = 2;
	long	n;

	if (argc < 3)
		goto usage;
	if (strcmp(argv[2], "hash") == 0)
		return (fill_hash());
	if (strcmp(argv[2], "init") == 0) {
		if (record_init(argv[1], NULL, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return (2);
		}
		return (0);
	}
	if ((rec = record_open(argv[1], err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return (2);
	}
	if (strcmp(argv[2], "tsv") == 0 && argc == 3) {
		rc = fill_tsv(rec);
	} else if (strcmp(argv[2], "many") == 0 && argc == 5) {
		rc = fill_many(rec, atol(argv[3]), argv[4]);
	} else if (strcmp(argv[2], "threads") == 0 && argc == 5) {
		rc = fill_threads(rec, atoi(argv[3]), atol(argv[4]));
	} else if (strcmp(argv[2], "claim") == 0 && argc == 7) {
		struct record_claim c = {.holder = argv[5], .window = atol(argv[6])};
		int	d;

		*(strcmp(argv[3], "msgid") == 0 ? &c.message_id : &c.envid) = argv[4];
		d = record_claim(rec, &c, err, sizeof(err));
		printf("%d\n", d);
		rc = d < 0 ? 2 : 0;
	} else if (strcmp(argv[2], "claimed") == 0 && argc == 6) {
		struct record_claim c = {.window = atol(argv[5])};
		int	d;

		*(strcmp(argv[3], "msgid") == 0 ? &c.message_id : &c.envid) = argv[4];
		d = record_claimed(rec, &c);
		printf("%d\n", d);
		rc = d < 0 ? 2 : 0;
	} else if (strcmp(argv[2], "year") == 0 && (argc == 4 || argc == 5)) {
		rc = fill_year(rec, atol(argv[3]),
			       argc == 5 ? strtoull(argv[4], NULL, 10) : 0);
	} else if (strcmp(argv[2], "lookup") == 0 && argc == 4) {
		rc = fill_lookup(rec, atol(argv[3]));
	} else if (strcmp(argv[2], "writer") == 0 && argc == 4) {
		rc = fill_writer(rec, atol(argv[3]));
	} else if (strcmp(argv[2], "explain") == 0 && argc == 4) {
		char	plan[2048];

		if (record_explain(rec, argv[3], plan, sizeof(plan), err,
				   sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			rc = 2;
		} else {
			printf("%s\n", plan);
			rc = 0;
		}
	} else if (strcmp(argv[2], "purge") == 0 && argc == 4) {
		n = record_purge(rec, atol(argv[3]), err, sizeof(err));
		printf("%ld\n", n);
		rc = n < 0 ? 2 : 0;
	} else {
		record_close(rec);
		goto usage;
	}
	record_close(rec);
	return (rc);
usage:
	fprintf(stderr, "usage: record_fill DB tsv|many N LABEL|threads T N|"
		"claim msgid|envid V HOLDER W|claimed msgid|envid V W|purge S|hash|"
		"year N [SEED]|lookup N|explain QUERY|writer S|init\n");
	return (2);
}
