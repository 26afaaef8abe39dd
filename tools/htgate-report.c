/*
 * NAME
 *	htgate-report - summaries and message stories from the decision record
 * SYNOPSIS
 *	htgate-report [-d DB | -c CONF] summary [--by day|rule|sender|stream|environment]
 *		[--since YYYY-MM-DD] [--format text|csv|html] [-o FILE]
 *	htgate-report [-d DB | -c CONF] show QUEUEID|MESSAGE-ID|ENVID
 *	htgate-report [-d DB | -c CONF] purge [--older-than DAYS]
 * DESCRIPTION
 *	Reads the record written by htgate-milter and htgate-policyd (see
 *	record.h, htgate-report(1)).  A summary counts decisions per key:
 *	accepted (accept, warn, fix), rejected, tempfailed; "rule" counts
 *	each rule ID of a decision once.  The HTML page is self-contained
 *	(inline CSS and SVG) with a per-day chart and the top rules, every
 *	value HTML-escaped; CSV follows RFC 4180.  purge deletes the
 *	decisions older than --older-than days, by default [record]
 *	retention of -c (or RECORD_DEFAULT_RETENTION without -c).
 * DIAGNOSTICS
 *	Exit 0 success, 1 nothing found (show), 2 usage, configuration or
 *	database error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <sqlite3.h>

#include "cfg.h"
#include "log.h"
#include "record.h"
#include "recorder.h"

#define REPORT_TOP_RULES	20
#define REPORT_SHOW_LINE	2048	/* one sanitised line of show */

enum report_fmt { FMT_TEXT, FMT_CSV, FMT_HTML };

/* One summary line: counts of one key */
struct report_row {
	char   *key;
	long	total, accepted, rejected, tempfailed;
};

struct report_opts {
	const char *db;
	const char *conf;
	const char *by;
	const char *since;
	const char *out;
	enum report_fmt fmt;
	long	older_than;		/* days; -1 unset */
};

/* usage - print the synopsis and exit 2 */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
		"usage: htgate-report [-d DB | -c CONF] summary [--by day|rule|sender|stream|environment]\n"
		"           [--since YYYY-MM-DD] [--format text|csv|html] [-o FILE]\n"
		"       htgate-report [-d DB | -c CONF] show QUEUEID|MESSAGE-ID|ENVID\n"
		"       htgate-report [-d DB | -c CONF] purge [--older-than DAYS]\n");
	exit(2);
}

/* die - message to stderr, exit 2 */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("htgate-report: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(2);
}

/* parse_since - YYYY-MM-DD (UTC) to unix time */
static long long
parse_since(const char *s)
{
	struct tm tm;
	char   *end;

	memset(&tm, 0, sizeof(tm));
	if ((end = strptime(s, "%Y-%m-%d", &tm)) == NULL || *end)
		die("bad --since date: %s (want YYYY-MM-DD)", s);
	return ((long long) timegm(&tm));
}

/* row_key - the summary key of one decision (not for "rule") */
static void
row_key(const char *by, sqlite3_stmt *st, char *key, size_t keylen)
{
	time_t	t = (time_t) sqlite3_column_int64(st, 0);
	const unsigned char *v = NULL;
	struct tm tm;

	if (strcmp(by, "day") == 0) {
		gmtime_r(&t, &tm);
		strftime(key, keylen, "%Y-%m-%d", &tm);
		return;
	}
	if (strcmp(by, "sender") == 0)
		v = sqlite3_column_text(st, 3);
	else if (strcmp(by, "stream") == 0)
		v = sqlite3_column_text(st, 4);
	else if (strcmp(by, "environment") == 0)
		v = sqlite3_column_text(st, 5);
	g_strlcpy(key, v && *v ? (const char *) v : "-", keylen);
}

/* count_key - add one decision to the row of key */
static void
count_key(GHashTable *h, const char *key, const char *action)
{
	struct report_row *r = g_hash_table_lookup(h, key);

	if (r == NULL) {
		r = g_new0(struct report_row, 1);
		r->key = g_strdup(key);
		g_hash_table_insert(h, r->key, r);
	}
	r->total++;
	if (strcmp(action, "reject") == 0)
		r->rejected++;
	else if (strcmp(action, "tempfail") == 0)
		r->tempfailed++;
	else
		r->accepted++;
}

/* row_free - hash table value destructor */
static void
row_free(gpointer p)
{
	struct report_row *r = p;

	g_free(r->key);
	g_free(r);
}

/* cmp_key - by key ascending (days) */
static gint
cmp_key(gconstpointer a, gconstpointer b)
{
	const struct report_row *x = *(struct report_row *const *) a;
	const struct report_row *y = *(struct report_row *const *) b;

	return (strcmp(x->key, y->key));
}

/* cmp_total - by total descending, then key */
static gint
cmp_total(gconstpointer a, gconstpointer b)
{
	const struct report_row *x = *(struct report_row *const *) a;
	const struct report_row *y = *(struct report_row *const *) b;

	if (x->total != y->total)
		return (x->total < y->total ? 1 : -1);
	return (strcmp(x->key, y->key));
}

/*
 * summarize - rows of the summary by "by", sorted; the table owns them.
 * Caller frees the array with g_ptr_array_free(a, TRUE) and the table
 * with g_hash_table_destroy().
 */
static GPtrArray *
summarize(sqlite3 *db, const char *by, long long since, GHashTable **tablep)
{
	static const char sql[] = "SELECT time, action, rules, sender, stream,"
		" environment FROM decision WHERE time >= ? ORDER BY time, id";
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, row_free);
	GHashTableIter it;
	GPtrArray *a;
	sqlite3_stmt *st;
	gpointer v;
	char	key[512];
	int	rc;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die("%s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, since);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *action = (const char *) sqlite3_column_text(st, 1);
		const char *rules = (const char *) sqlite3_column_text(st, 2);

		if (action == NULL)
			action = "";
		if (strcmp(by, "rule") == 0) {
			gchar **ids = g_strsplit_set(rules ? rules : "", " ,", -1);
			gchar **p;

			for (p = ids; *p; p++) {
				gchar **q;

				if (**p == 0)
					continue;
				for (q = ids; q < p && strcmp(*q, *p) != 0; q++)
					;
				if (q == p) {	/* first occurrence in this row */
					/* "RULE:warn": the rule's own action */
					gchar  *own = strchr(*p, ':');

					if (own != NULL)
						*own++ = 0;
					count_key(h, *p, own ? own : action);
				}
			}
			g_strfreev(ids);
		} else {
			row_key(by, st, key, sizeof(key));
			count_key(h, key, action);
		}
	}
	if (rc != SQLITE_DONE)
		die("%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	a = g_ptr_array_new();
	g_hash_table_iter_init(&it, h);
	while (g_hash_table_iter_next(&it, NULL, &v))
		g_ptr_array_add(a, v);
	g_ptr_array_sort(a, strcmp(by, "day") == 0 ? cmp_key : cmp_total);
	*tablep = h;
	return (a);
}

/* csv_field - one RFC 4180 field */
static void
csv_field(FILE *fp, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		fputs(s, fp);
		return;
	}
	fputc('"', fp);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', fp);
		fputc(*s, fp);
	}
	fputc('"', fp);
}

/* html_text - write text HTML-escaped */
static void
html_text(FILE *fp, const char *s)
{
	gchar  *e = g_markup_escape_text(s, -1);

	fputs(e, fp);
	g_free(e);
}

/* print_text - aligned columns */
static void
print_text(FILE *fp, const char *by, GPtrArray *a)
{
	char	clean[512];
	guint	i;

	fprintf(fp, "%-40s %9s %9s %9s %9s\n", by, "decisions", "accepted",
		"rejected", "tempfail");
	for (i = 0; i < a->len; i++) {
		const struct report_row *r = g_ptr_array_index(a, i);

		fprintf(fp, "%-40s %9ld %9ld %9ld %9ld\n",
			log_sanitize(clean, sizeof(clean), r->key), r->total,
			r->accepted, r->rejected, r->tempfailed);
	}
}

/* print_csv - header line and one record per key */
static void
print_csv(FILE *fp, const char *by, GPtrArray *a)
{
	guint	i;

	fprintf(fp, "%s,decisions,accepted,rejected,tempfailed\r\n", by);
	for (i = 0; i < a->len; i++) {
		const struct report_row *r = g_ptr_array_index(a, i);

		csv_field(fp, r->key);
		fprintf(fp, ",%ld,%ld,%ld,%ld\r\n", r->total, r->accepted,
			r->rejected, r->tempfailed);
	}
}

/* html_table - one summary table */
static void
html_table(FILE *fp, const char *title, const char *by, GPtrArray *a,
	   guint max)
{
	guint	i;

	fputs("<h2>", fp);
	html_text(fp, title);
	fputs("</h2>\n<table><tr><th>", fp);
	html_text(fp, by);
	fputs("</th><th>decisions</th><th>accepted</th><th>rejected</th>"
	      "<th>tempfailed</th></tr>\n", fp);
	for (i = 0; i < a->len && i < max; i++) {
		const struct report_row *r = g_ptr_array_index(a, i);

		fputs("<tr><td>", fp);
		html_text(fp, r->key);
		fprintf(fp, "</td><td class=n>%ld</td><td class=n>%ld</td>"
			"<td class=n>%ld</td><td class=n>%ld</td></tr>\n",
			r->total, r->accepted, r->rejected, r->tempfailed);
	}
	fputs("</table>\n", fp);
}

/* html_chart - SVG bars of accepted vs refused per day */
static void
html_chart(FILE *fp, GPtrArray *days)
{
	const int h = 240, bw = 14, gap = 10, left = 40, base = 260;
	long	max = 1;
	guint	i;
	int	w = left + (int) days->len * (2 * bw + gap) + 20;

	for (i = 0; i < days->len; i++) {
		const struct report_row *r = g_ptr_array_index(days, i);

		max = MAX(max, MAX(r->accepted, r->rejected + r->tempfailed));
	}
	fprintf(fp, "<h2>Accepted vs refused per day</h2>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"330\" role=\"img\" aria-label=\"decisions per day\">\n"
		"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>\n"
		"<text x=\"2\" y=\"24\" class=\"ax\">%ld</text>\n",
		MAX(w, 300), left, base, MAX(w, 300), base, max);
	for (i = 0; i < days->len; i++) {
		const struct report_row *r = g_ptr_array_index(days, i);
		int	x = left + 10 + (int) i * (2 * bw + gap);
		int	ha = (int) (h * r->accepted / max);
		int	hr = (int) (h * (r->rejected + r->tempfailed) / max);

		fprintf(fp, "<rect class=\"acc\" x=\"%d\" y=\"%d\" width=\"%d\" "
			"height=\"%d\"><title>", x, base - ha, bw, ha);
		html_text(fp, r->key);
		fprintf(fp, ": %ld accepted</title></rect>\n"
			"<rect class=\"ref\" x=\"%d\" y=\"%d\" width=\"%d\" "
			"height=\"%d\"><title>", r->accepted, x + bw, base - hr, bw, hr);
		html_text(fp, r->key);
		fprintf(fp, ": %ld refused</title></rect>\n"
			"<text class=\"ax\" transform=\"translate(%d,%d) rotate(60)\">",
			r->rejected + r->tempfailed, x, base + 8);
		html_text(fp, r->key + (strlen(r->key) > 5 ? 5 : 0));
		fputs("</text>\n", fp);
	}
	fputs("</svg>\n<p><span class=\"key acc\"></span> accepted "
	      "<span class=\"key ref\"></span> refused (rejected or tempfailed)</p>\n", fp);
}

/* print_html - self-contained page: chart, top rules, chosen summary */
static void
print_html(FILE *fp, sqlite3 *db, const char *by, GPtrArray *a,
	   long long since)
{
	GHashTable *hd, *hr;
	GPtrArray *days = summarize(db, "day", since, &hd);
	GPtrArray *rules = summarize(db, "rule", since, &hr);
	long	tot = 0, acc = 0;
	guint	i;

	for (i = 0; i < days->len; i++) {
		const struct report_row *r = g_ptr_array_index(days, i);

		tot += r->total;
		acc += r->accepted;
	}
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>htgate compliance report</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:2em;color:#222}\n"
	      "table{border-collapse:collapse;margin-bottom:1.5em}\n"
	      "th,td{border:1px solid #bbb;padding:.25em .6em;text-align:left}\n"
	      "th{background:#eee} td.n{text-align:right}\n"
	      ".acc{fill:#2e7d32;background:#2e7d32} .ref{fill:#c62828;background:#c62828}\n"
	      ".ax{font-size:11px;fill:#333}\n"
	      ".key{display:inline-block;width:1em;height:1em;vertical-align:middle}\n"
	      "</style></head><body>\n<h1>htgate compliance report</h1>\n", fp);
	fprintf(fp, "<p>%ld decisions: %ld accepted, %ld refused.</p>\n",
		tot, acc, tot - acc);
	html_chart(fp, days);
	html_table(fp, "Top rules", "rule", rules, REPORT_TOP_RULES);
	if (strcmp(by, "rule") != 0)
		html_table(fp, strcmp(by, "day") == 0 ? "Per day" : "Summary",
			   by, a, G_MAXUINT);
	fputs("</body></html>\n", fp);
	g_ptr_array_free(days, TRUE);
	g_hash_table_destroy(hd);
	g_ptr_array_free(rules, TRUE);
	g_hash_table_destroy(hr);
}

/* cmd_summary - the summary command */
static int
cmd_summary(sqlite3 *db, const struct report_opts *o)
{
	static const char *const bys[] = {"day", "rule", "sender", "stream",
		"environment", NULL};
	long long since = o->since ? parse_since(o->since) : 0;
	GHashTable *h;
	GPtrArray *a;
	FILE   *fp = stdout;

	if (!g_strv_contains(bys, o->by))
		die("bad --by: %s", o->by);
	a = summarize(db, o->by, since, &h);
	if (o->out && (fp = fopen(o->out, "w")) == NULL)
		die("%s: %s", o->out, g_strerror(errno));
	if (o->fmt == FMT_TEXT)
		print_text(fp, o->by, a);
	else if (o->fmt == FMT_CSV)
		print_csv(fp, o->by, a);
	else
		print_html(fp, db, o->by, a, since);
	g_ptr_array_free(a, TRUE);
	g_hash_table_destroy(h);
	if (fflush(fp) != 0 || ferror(fp) || (fp != stdout && fclose(fp) != 0))
		die("%s: write error", o->out ? o->out : "stdout");
	return (0);
}

/*
 * cmd_show - every record of one message, oldest first: the rows that
 * name the ID, and the rows of the same Postfix queue ID (a recipient
 * refused at RCPT by htgate-policyd, which never sees the Message-ID).
 */
static int
cmd_show(sqlite3 *db, const char *id)
{
	static const char sql[] = "WITH hit AS (SELECT id, queue_id FROM decision"
		" WHERE queue_id = ?1 OR message_id = ?1"
		" OR message_id = '<' || ?1 || '>' OR envid = ?1)"
		" SELECT * FROM decision WHERE id IN (SELECT id FROM hit)"
		" OR (queue_id IS NOT NULL AND queue_id NOT IN ('', 'NOQUEUE')"
		" AND queue_id IN (SELECT queue_id FROM hit)) ORDER BY time, id";
	sqlite3_stmt *st;
	int	rc, n = 0, i;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die("%s", sqlite3_errmsg(db));
	sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		time_t	t = (time_t) sqlite3_column_int64(st, 1);
		char	ts[40], clean[REPORT_SHOW_LINE];
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", &tm);
		printf("%sdecision %s\n", n++ ? "\n" : "", ts);
		for (i = 2; i < sqlite3_column_count(st); i++) {
			const char *name = sqlite3_column_name(st, i);
			const char *v = (const char *) sqlite3_column_text(st, i);
			gchar **lines, **l;

			if (v == NULL || *v == 0)
				continue;
			/* multi-line replies: indent continuation lines */
			lines = g_strsplit(v, "\n", -1);
			for (l = lines; *l; l++)
				printf("  %-12s %s\n", l == lines ? name : "",
				       log_sanitize(clean, sizeof(clean), *l));
			g_strfreev(lines);
		}
	}
	if (rc != SQLITE_DONE)
		die("%s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (n == 0) {
		fprintf(stderr, "htgate-report: no record for %s\n", id);
		return (1);
	}
	return (0);
}

/*
 * db_path - -d, else [record] database (or state_dir/record.db) of -c,
 * else the default; *retention gets [record] retention of -c (days)
 */
static char *
db_path(const struct report_opts *o, long *retention)
{
	struct htg_cfg *cfg;
	char	err[512], path[4096];

	if (o->conf == NULL)
		return (g_strdup(o->db ? o->db : RECORD_DEFAULT_DB));
	if ((cfg = cfg_load(o->conf, err, sizeof(err))) == NULL)
		die("%s", err);
	*retention = cfg->record.retention;
	if (recorder_path(cfg, path, sizeof(path)) < 0)
		die("%s: [record] database path too long", o->conf);
	cfg_unref(cfg);
	return (g_strdup(o->db ? o->db : path));
}

/* parse_opts - global and command options; returns the command index */
static int
parse_opts(int argc, char **argv, struct report_opts *o)
{
	static const struct option longopts[] = {
		{"db", required_argument, NULL, 'd'},
		{"config", required_argument, NULL, 'c'},
		{"by", required_argument, NULL, 'b'},
		{"since", required_argument, NULL, 's'},
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"older-than", required_argument, NULL, 'O'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char   *end;
	int	c;

	memset(o, 0, sizeof(*o));
	o->by = "day";
	o->older_than = -1;
	while ((c = getopt_long(argc, argv, "d:c:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->db = optarg; break;
		case 'c': o->conf = optarg; break;
		case 'b': o->by = optarg; break;
		case 's': o->since = optarg; break;
		case 'o': o->out = optarg; break;
		case 'f':
			if (strcmp(optarg, "text") == 0)
				o->fmt = FMT_TEXT;
			else if (strcmp(optarg, "csv") == 0)
				o->fmt = FMT_CSV;
			else if (strcmp(optarg, "html") == 0)
				o->fmt = FMT_HTML;
			else
				usage();
			break;
		case 'O':
			o->older_than = strtol(optarg, &end, 10);
			if (*optarg == 0 || *end || o->older_than < 0
			    || o->older_than > 100000)
				usage();
			break;
		default: usage();
		}
	}
	if (optind >= argc)
		usage();
	return (optind);
}

/* main - open the record and run one command */
int
main(int argc, char **argv)
{
	struct report_opts o;
	struct record *rec;
	char	err[512], *path;
	const char *cmd;
	int	ci, rc;
	long	retention = RECORD_DEFAULT_RETENTION;

	ci = parse_opts(argc, argv, &o);
	cmd = argv[ci];
	if (!(strcmp(cmd, "summary") == 0 && ci == argc - 1)
	    && !(strcmp(cmd, "show") == 0 && ci == argc - 2)
	    && !(strcmp(cmd, "purge") == 0 && ci == argc - 1))
		usage();
	path = db_path(&o, &retention);
	if (o.older_than < 0)
		o.older_than = retention;
	if (access(path, F_OK) != 0)	/* don't create one by mistake */
		die("%s: %s", path, g_strerror(errno));
	if ((rec = record_open(path, err, sizeof(err))) == NULL)
		die("%s", err);
	if (strcmp(cmd, "summary") == 0) {
		rc = cmd_summary(record_db(rec), &o);
	} else if (strcmp(cmd, "show") == 0) {
		rc = cmd_show(record_db(rec), argv[ci + 1]);
	} else {
		long	n = record_purge(rec, o.older_than * 86400L, err, sizeof(err));

		if (n < 0)
			die("%s", err);
		printf("purged %ld records older than %ld days\n", n, o.older_than);
		rc = 0;
	}
	record_close(rec);
	g_free(path);
	return (rc);
}
