/*
 * NAME
 *	htgate-report - summaries and message stories from the decision record
 * SYNOPSIS
 *	htgate-report [-d DB | -c CONF] summary [--by day|rule|sender|stream|environment]
 *		[--since YYYY-MM-DD] [--format text|csv|html] [-o FILE]
 *	htgate-report [-d DB | -c CONF] show QUEUEID|MESSAGE-ID|ENVID
 *	htgate-report [-d DB | -c CONF] purge [--older-than DAYS]
 *	htgate-report [-d DB | -c CONF] init
 *	htgate-report [-d DB | -c CONF] info
 *	htgate-report [-d DB | -c CONF] metrics [-o FILE]
 * DESCRIPTION
 *	Reads the record written by htgate-milter and htgate-policyd (see
 *	record.h, htgate-report(1)) through record.h alone: the schema is
 *	the record module's, here are only keys, counts and named fields.
 *	DB is a file (SQLite) or a postgresql:// URL.  A summary counts
 *	decisions per key: accepted (accept, warn, fix), rejected,
 *	tempfailed; "rule" counts each rule ID of a decision once.  The
 *	HTML page is self-contained (inline CSS and SVG) with a per-day
 *	chart and the top rules, every value HTML-escaped; CSV follows RFC
 *	4180.  purge deletes the decisions older than --older-than days, by
 *	default [record] retention of -c (or RECORD_DEFAULT_RETENTION
 *	without -c), in batches, and prints the database size after.  init
 *	creates or migrates the schema (the only way for PostgreSQL); info
 *	prints backend, schema version, rows, time span and size; metrics
 *	writes the Prometheus text format (node_exporter's textfile
 *	collector; -o writes FILE.tmp and renames it over FILE).
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
		"       htgate-report [-d DB | -c CONF] purge [--older-than DAYS]\n"
		"       htgate-report [-d DB | -c CONF] init | info | metrics [-o FILE]\n");
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

/* count_key - add n decisions of one action to the row of key
 * (record_count_fn; arg is the table) */
static void
count_key(void *arg, const char *key, const char *action, long long n)
{
	GHashTable *h = arg;
	struct report_row *r = g_hash_table_lookup(h, key);

	if (r == NULL) {
		r = g_new0(struct report_row, 1);
		r->key = g_strdup(key);
		g_hash_table_insert(h, r->key, r);
	}
	r->total += n;
	if (strcmp(action, "reject") == 0)
		r->rejected += n;
	else if (strcmp(action, "tempfail") == 0)
		r->tempfailed += n;
	else
		r->accepted += n;
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
summarize(struct record *rec, const char *by, long long since,
	  GHashTable **tablep)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, row_free);
	GHashTableIter it;
	GPtrArray *a;
	gpointer v;
	char	err[512];

	if (record_summary(rec, by, since, count_key, h, err, sizeof(err)) < 0)
		die("%s", err);
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
print_html(FILE *fp, struct record *rec, const char *by, GPtrArray *a,
	   long long since)
{
	GHashTable *hd, *hr;
	GPtrArray *days = summarize(rec, "day", since, &hd);
	GPtrArray *rules = summarize(rec, "rule", since, &hr);
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
cmd_summary(struct record *rec, const struct report_opts *o)
{
	static const char *const bys[] = {"day", "rule", "sender", "stream",
		"environment", NULL};
	long long since = o->since ? parse_since(o->since) : 0;
	GHashTable *h;
	GPtrArray *a;
	FILE   *fp = stdout;

	if (!g_strv_contains(bys, o->by))
		die("bad --by: %s", o->by);
	a = summarize(rec, o->by, since, &h);
	if (o->out && (fp = fopen(o->out, "w")) == NULL)
		die("%s: %s", o->out, g_strerror(errno));
	if (o->fmt == FMT_TEXT)
		print_text(fp, o->by, a);
	else if (o->fmt == FMT_CSV)
		print_csv(fp, o->by, a);
	else
		print_html(fp, rec, o->by, a, since);
	g_ptr_array_free(a, TRUE);
	g_hash_table_destroy(h);
	if (fflush(fp) != 0 || ferror(fp) || (fp != stdout && fclose(fp) != 0))
		die("%s: write error", o->out ? o->out : "stdout");
	return (0);
}

/* show_field - one "  name value" line, continuation lines indented */
static void
show_field(void *arg, const char *name, const char *value)
{
	char	clean[REPORT_SHOW_LINE];
	gchar **lines, **l;

	(void) arg;
	lines = g_strsplit(value, "\n", -1);
	for (l = lines; *l; l++)
		printf("  %-12s %s\n", l == lines ? name : "",
		       log_sanitize(clean, sizeof(clean), *l));
	g_strfreev(lines);
}

/* show_row - one decision: its time, then its fields (record_show_fn) */
static void
show_row(void *arg, const struct record_entry *e)
{
	int    *n = arg;
	time_t	t = (time_t) e->time;
	char	ts[40];
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S UTC", &tm);
	printf("%sdecision %s\n", (*n)++ ? "\n" : "", ts);
	record_entry_fields(e, show_field, NULL);
}

/*
 * cmd_show - every record of one message, oldest first: the rows that
 * name the ID, and the rows of the same Postfix queue ID (a recipient
 * refused at RCPT by htgate-policyd, which never sees the Message-ID).
 */
static int
cmd_show(struct record *rec, const char *id)
{
	char	err[512];
	int	n = 0;

	if (record_show(rec, id, show_row, &n, err, sizeof(err)) < 0)
		die("%s", err);
	if (n == 0) {
		fprintf(stderr, "htgate-report: no record for %s\n", id);
		return (1);
	}
	return (0);
}

/* print_size - the database's size, one line */
static void
print_size(FILE *fp, const struct record_info *in)
{
	fprintf(fp, "database size: %lld bytes", in->bytes);
	if (in->wal_bytes >= 0)
		fprintf(fp, " (WAL %lld, free %lld)", in->wal_bytes,
			in->free_bytes);
	fputc('\n', fp);
}

/* cmd_info - backend, schema version, rows, time span, size */
static int
cmd_info(struct record *rec, const char *target)
{
	struct record_info in;
	char	err[512], a[40], b[40];
	time_t	t;
	struct tm tm;

	if (record_info(rec, &in, err, sizeof(err)) < 0)
		die("%s", err);
	printf("backend: %s\n", in.backend);
	if (!record_is_pg(target))
		printf("file: %s\n", target);
	printf("schema version: %d\n", in.version);
	printf("decisions: %lld\n", in.decisions);
	printf("claims: %lld\n", in.claims);
	if (in.decisions > 0) {
		t = (time_t) in.oldest;
		gmtime_r(&t, &tm);
		strftime(a, sizeof(a), "%Y-%m-%d %H:%M:%S UTC", &tm);
		t = (time_t) in.newest;
		gmtime_r(&t, &tm);
		strftime(b, sizeof(b), "%Y-%m-%d %H:%M:%S UTC", &tm);
		printf("from %s to %s\n", a, b);
	}
	print_size(stdout, &in);
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

/* A metric family htgate-report knows: name, type, help. */
static const struct report_family {
	const char *name;
	const char *type;
	const char *help;
} report_families[] = {
	{"htgate_decisions_total", "counter",
	 "Decisions recorded, by daemon, action, stream and environment."},
	{"htgate_rule_decisions_total", "counter",
	 "Rule findings of the decisions, by daemon, rule, the rule's action, stream and environment."},
	{"htgate_uniqueness_refusals_total", "counter",
	 "Message-IDs and ENVIDs refused as already used (HDR-MSGID, ENV-ENVID), by kind and stage."},
	{"htgate_fetch_runs_total", "counter",
	 "htgate-fetch runs per account, by result (ok, temp, fail)."},
	{"htgate_fetch_last_run_timestamp_seconds", "gauge",
	 "Unix time of the last htgate-fetch run per account."},
	{"htgate_fetch_last_success_timestamp_seconds", "gauge",
	 "Unix time of the last successful htgate-fetch run per account."},
	{"htgate_fetch_consecutive_failures", "gauge",
	 "htgate-fetch runs per account that failed since the last success."},
	{"htgate_record_write_seconds", "histogram",
	 "Time from queueing a decision row to its durable commit (group commit), by daemon."},
};

/* One tally read from the record. */
struct report_tally {
	char   *name;
	char   *labels;
	long long value;
};

/* tally_keep - collect one tally (record_tally_fn) */
static void
tally_keep(void *arg, const char *name, const char *labels, long long value)
{
	struct report_tally *t = g_new0(struct report_tally, 1);

	t->name = g_strdup(name);
	t->labels = g_strdup(labels);
	t->value = value;
	g_ptr_array_add(arg, t);
}

/* tally_free - GDestroyNotify */
static void
tally_free(gpointer p)
{
	struct report_tally *t = p;

	g_free(t->name);
	g_free(t->labels);
	g_free(t);
}

/* bucket_le - the le of a bucket's labels as a number (+Inf last) */
static double
bucket_le(const char *labels)
{
	const char *p = strstr(labels, "le=\"");

	if (p == NULL || strncmp(p + 4, "+Inf", 4) == 0)
		return (G_MAXDOUBLE);
	return (g_ascii_strtod(p + 4, NULL));
}

/* label_without_le - the labels of a bucket without le, into buf */
static void
label_without_le(const char *labels, char *buf, size_t buflen)
{
	const char *p = strstr(labels, "le=\"");
	size_t	n = p ? (size_t) (p - labels) : strlen(labels);

	if (n > 0 && labels[n - 1] == ',')
		n--;
	snprintf(buf, buflen, "%.*s", (int) n, labels);
}

/* cmp_bucket - buckets by their other labels, then numeric le */
static gint
cmp_bucket(gconstpointer a, gconstpointer b)
{
	const struct report_tally *x = *(struct report_tally *const *) a;
	const struct report_tally *y = *(struct report_tally *const *) b;
	char	lx[RECORD_LABELS_MAX], ly[RECORD_LABELS_MAX];
	double	dx, dy;
	int	c;

	label_without_le(x->labels, lx, sizeof(lx));
	label_without_le(y->labels, ly, sizeof(ly));
	if ((c = strcmp(lx, ly)) != 0)
		return (c);
	dx = bucket_le(x->labels), dy = bucket_le(y->labels);
	return (dx < dy ? -1 : dx > dy);
}

/* sample - one sample line */
static void
sample(FILE *fp, const char *name, const char *labels, const char *value)
{
	fprintf(fp, "%s%s%s%s %s\n", name, *labels ? "{" : "", labels,
		*labels ? "}" : "", value);
}

/* print_family - HELP, TYPE and the samples of one family */
static void
print_family(FILE *fp, const struct report_family *f, GPtrArray *all)
{
	GPtrArray *b = g_ptr_array_new();
	char	name[128], v[64];
	guint	i;

	fprintf(fp, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
		f->type);
	if (strcmp(f->type, "histogram") != 0) {
		for (i = 0; i < all->len; i++) {
			struct report_tally *t = g_ptr_array_index(all, i);

			if (strcmp(t->name, f->name) != 0)
				continue;
			snprintf(v, sizeof(v), "%lld", t->value);
			sample(fp, f->name, t->labels, v);
		}
		g_ptr_array_free(b, TRUE);
		return;
	}
	/* histogram: buckets in increasing le, then _sum and _count */
	snprintf(name, sizeof(name), "%s_bucket", f->name);
	for (i = 0; i < all->len; i++) {
		struct report_tally *t = g_ptr_array_index(all, i);

		if (strcmp(t->name, name) == 0)
			g_ptr_array_add(b, t);
	}
	g_ptr_array_sort(b, cmp_bucket);
	for (i = 0; i < b->len; i++) {
		struct report_tally *t = g_ptr_array_index(b, i);

		snprintf(v, sizeof(v), "%lld", t->value);
		sample(fp, name, t->labels, v);
	}
	for (i = 0; i < all->len; i++) {
		struct report_tally *t = g_ptr_array_index(all, i);

		if (strcmp(t->name, "htgate_record_write_microseconds_sum") == 0) {
			snprintf(name, sizeof(name), "%s_sum", f->name);
			g_ascii_formatd(v, sizeof(v), "%.6f",
					(double) t->value / 1e6);
			sample(fp, name, t->labels, v);
		}
	}
	snprintf(name, sizeof(name), "%s_count", f->name);
	for (i = 0; i < all->len; i++) {
		struct report_tally *t = g_ptr_array_index(all, i);

		if (strcmp(t->name, name) == 0) {
			snprintf(v, sizeof(v), "%lld", t->value);
			sample(fp, name, t->labels, v);
		}
	}
	g_ptr_array_free(b, TRUE);
}

/* write_metrics - every family, then the record's own gauges */
static void
write_metrics(FILE *fp, struct record *rec)
{
	GPtrArray *all = g_ptr_array_new_with_free_func(tally_free);
	struct record_info in;
	char	err[512], labels[RECORD_LABELS_MAX];
	size_t	i;

	if (record_tallies(rec, tally_keep, all, err, sizeof(err)) < 0
	    || record_info(rec, &in, err, sizeof(err)) < 0)
		die("%s", err);
	for (i = 0; i < G_N_ELEMENTS(report_families); i++)
		print_family(fp, &report_families[i], all);
	labels[0] = 0;
	record_label(labels, sizeof(labels), "backend", in.backend);
	fprintf(fp, "# HELP htgate_record_decisions Rows in the decision record.\n"
		"# TYPE htgate_record_decisions gauge\n"
		"htgate_record_decisions{%s} %lld\n"
		"# HELP htgate_record_database_bytes Size of the decision record's database.\n"
		"# TYPE htgate_record_database_bytes gauge\n"
		"htgate_record_database_bytes{%s} %lld\n"
		"# HELP htgate_record_oldest_timestamp_seconds Unix time of the oldest decision kept (0: none).\n"
		"# TYPE htgate_record_oldest_timestamp_seconds gauge\n"
		"htgate_record_oldest_timestamp_seconds{%s} %lld\n"
		"# HELP htgate_record_schema_version Schema version of the decision record.\n"
		"# TYPE htgate_record_schema_version gauge\n"
		"htgate_record_schema_version{%s} %d\n",
		labels, in.decisions, labels, in.bytes, labels, in.oldest,
		labels, in.version);
	g_ptr_array_free(all, TRUE);
}

/* cmd_metrics - the Prometheus text format, to stdout or atomically to -o */
static int
cmd_metrics(struct record *rec, const char *out)
{
	FILE   *fp = stdout;
	char   *tmp = NULL;

	if (out != NULL) {
		tmp = g_strdup_printf("%s.tmp", out);
		if ((fp = fopen(tmp, "w")) == NULL)
			die("%s: %s", tmp, g_strerror(errno));
	}
	write_metrics(fp, rec);
	if (fflush(fp) != 0 || ferror(fp) || (fp != stdout && fclose(fp) != 0))
		die("%s: write error", tmp ? tmp : "stdout");
	if (tmp != NULL && rename(tmp, out) < 0)
		die("%s: %s", out, g_strerror(errno));
	g_free(tmp);
	return (0);
}

/* cmd_init - create or migrate the schema */
static int
cmd_init(const char *target)
{
	char	err[512];
	int	from = 0, to = 0;

	if (record_init(target, &from, &to, err, sizeof(err)) < 0)
		die("%s", err);
	if (from == to)
		printf("schema version %d: up to date\n", to);
	else if (from == 0)
		printf("schema version %d: created\n", to);
	else
		printf("schema version %d: migrated from %d\n", to, from);
	return (0);
}

/* cmd_purge - delete old rows in batches; the size after */
static int
cmd_purge(struct record *rec, long days)
{
	struct record_info in;
	char	err[512];
	double	longest;
	long	n;

	n = record_purge_ex(rec, days * 86400L, 0, &longest,
			    err, sizeof(err));
	if (n < 0)
		die("%s", err);
	printf("purged %ld records older than %ld days (longest batch %.0f ms)\n",
	       n, days, longest);
	if (record_info(rec, &in, err, sizeof(err)) == 0)
		print_size(stdout, &in);
	return (0);
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
	    && !(strcmp(cmd, "purge") == 0 && ci == argc - 1)
	    && !(strcmp(cmd, "init") == 0 && ci == argc - 1)
	    && !(strcmp(cmd, "info") == 0 && ci == argc - 1)
	    && !(strcmp(cmd, "metrics") == 0 && ci == argc - 1))
		usage();
	path = db_path(&o, &retention);
	if (o.older_than < 0)
		o.older_than = retention;
	if (strcmp(cmd, "init") == 0) {
		rc = cmd_init(path);
		g_free(path);
		return (rc);
	}
	/* don't create an SQLite file by mistake */
	if (!record_is_pg(path) && access(path, F_OK) != 0)
		die("%s: %s", path, g_strerror(errno));
	if ((rec = record_open(path, err, sizeof(err))) == NULL)
		die("%s", err);
	if (strcmp(cmd, "summary") == 0)
		rc = cmd_summary(rec, &o);
	else if (strcmp(cmd, "show") == 0)
		rc = cmd_show(rec, argv[ci + 1]);
	else if (strcmp(cmd, "info") == 0)
		rc = cmd_info(rec, path);
	else if (strcmp(cmd, "metrics") == 0)
		rc = cmd_metrics(rec, o.out);
	else
		rc = cmd_purge(rec, o.older_than);
	record_close(rec);
	g_free(path);
	return (rc);
}
