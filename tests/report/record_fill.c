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
 * OWNERSHIP
 *	tests/report.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
		memset(&e, 0, sizeof(e));
		e.time = strtoll(f[0], NULL, 10);
		e.host = nul_dash(f[1]);
		e.queue_id = nul_dash(f[2]);
		e.stage = nul_dash(f[3]);
		e.action = nul_dash(f[4]);
		e.rules = nul_dash(f[5]);
		e.sender = nul_dash(f[6]);
		e.sasl_user = nul_dash(f[7]);
		e.recipient = nul_dash(f[8]);
		e.stream = nul_dash(f[9]);
		e.environment = nul_dash(f[10]);
		e.message_id = nul_dash(f[11]);
		e.envid = nul_dash(f[12]);
		e.size = nul_dash(f[13]) ? strtoll(f[13], NULL, 10) : -1;
		e.body_sha256 = nul_dash(f[14]);
		e.reply = nul_dash(f[15]);
		e.daemon = nul_dash(f[16]);
		if (record_write(rec, &e, err, sizeof(err)) < 0) {
			fprintf(stderr, "line %d: %s\n", lineno, err);
			return (1);
		}
	}
	return (0);
}

/* fill_many - N writes, acknowledging each commit on stdout */
static int
fill_many(struct record *rec, long n, const char *label)
{
	struct record_entry e;
	char	qid[64], err[256];
	long	i;

	memset(&e, 0, sizeof(e));
	e.host = "test";
	e.stage = "eom";
	e.action = "accept";
	e.sender = "load@example.com";
	e.size = 1000;
	e.daemon = label;
	e.queue_id = qid;
	for (i = 1; i <= n; i++) {
		snprintf(qid, sizeof(qid), "%s-%ld", label, i);
		if (record_write(rec, &e, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			return (1);
		}
		printf("ok %ld\n", i);
		fflush(stdout);
	}
	return (0);
}

/* fill_thread_main - one thread's writes on the shared handle */
static void *
fill_thread_main(void *arg)
{
	struct fill_thread *t = arg;
	struct record_entry e;
	char	qid[64], err[256];
	long	i;

	memset(&e, 0, sizeof(e));
	e.action = "accept";
	e.daemon = "milter";
	e.size = -1;
	e.queue_id = qid;
	for (i = 1; i <= t->n; i++) {
		snprintf(qid, sizeof(qid), "T%d-%ld", t->index, i);
		if (record_write(t->rec, &e, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			t->rc = 1;
			break;
		}
	}
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
		"claim msgid|envid V HOLDER W|claimed msgid|envid V W|purge S|hash\n");
	return (2);
}
