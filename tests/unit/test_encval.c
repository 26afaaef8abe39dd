/*
 * NAME
 *	test_encval - the incremental body validators
 * DESCRIPTION
 *	Every case is fed whole, byte by byte and split in two at every
 *	position: the verdict, the fault's offset and its line must not
 *	depend on where the chunks break.  A large base64 blob made by
 *	GLib's encoder must validate; the same blob with one byte damaged
 *	must fail at exactly that byte, in random chunkings.
 */
#include "config.h"

#include <check.h>
#include <glib.h>
#include <string.h>

#include "unit.h"
#include "encval.h"

static const struct vcase {
	const char *label;
	enum encval_kind kind;
	const char *in;
	int	ok;			/* expected verdict */
	long	offset;			/* fault offset, -1 to skip */
	long	line;			/* fault line, -1 to skip */
	int	nonblank;		/* expected when ok */
} cases[] = {
	/* base64 */
	{"b64 plain", ENCVAL_BASE64, "SGVsbG8gV29y\r\nbGQh\r\n", 1, -1, -1, 1},
	{"b64 one pad", ENCVAL_BASE64, "SGVsbG8=\r\n", 1, -1, -1, 1},
	{"b64 two pads", ENCVAL_BASE64, "SGVsbA==\r\n", 1, -1, -1, 1},
	{"b64 pad across a line break", ENCVAL_BASE64, "SGVsbA=\r\n=\r\n", 1, -1, -1, 1},
	{"b64 bare LF lines", ENCVAL_BASE64, "SGVs\nbG8h\n", 1, -1, -1, 1},
	{"b64 no final break", ENCVAL_BASE64, "SGVsbG8h", 1, -1, -1, 1},
	{"b64 empty", ENCVAL_BASE64, "", 1, -1, -1, 0},
	{"b64 only breaks", ENCVAL_BASE64, "\r\n\r\n", 1, -1, -1, 0},
	{"b64 bad char", ENCVAL_BASE64, "SGVs\r\nbG*h\r\n", 0, 8, 2, 0},
	{"b64 space", ENCVAL_BASE64, "SGVs bG8h\r\n", 0, 4, 1, 0},
	{"b64 length", ENCVAL_BASE64, "SGVsbG8\r\n", 0, 9, 2, 0},
	{"b64 pad too early", ENCVAL_BASE64, "SG==SGVs\r\n", 0, 4, 1, 0},
	{"b64 pad at quantum start", ENCVAL_BASE64, "SGVs=\r\n", 0, 4, 1, 0},
	{"b64 data after pad", ENCVAL_BASE64, "SGVsbA==\r\nSGVs\r\n", 0, 10, 2, 0},
	{"b64 bare CR", ENCVAL_BASE64, "SGVs\rbG8h\r\n", 0, 4, 1, 0},
	{"b64 8-bit byte", ENCVAL_BASE64, "SGVs\xc3\xa9\r\n", 0, 4, 1, 0},
	{"b64 CR at end", ENCVAL_BASE64, "SGVs\r", 0, 4, 1, 0},
	/* quoted-printable */
	{"qp plain", ENCVAL_QP, "UNB+UNOC:3=3D\r\nline two\r\n", 1, -1, -1, 1},
	{"qp soft break", ENCVAL_QP, "abc=\r\ndef\r\n", 1, -1, -1, 1},
	{"qp soft break with padding", ENCVAL_QP, "abc= \t\r\ndef\r\n", 1, -1, -1, 1},
	{"qp lowercase hex", ENCVAL_QP, "caf=e9\r\n", 1, -1, -1, 1},
	{"qp tab and space", ENCVAL_QP, "a\tb c\r\n", 1, -1, -1, 1},
	{"qp final soft break", ENCVAL_QP, "abc=", 1, -1, -1, 1},
	{"qp bad escape", ENCVAL_QP, "abc=G1\r\n", 0, 4, 1, 0},
	{"qp one hex then break", ENCVAL_QP, "abc=4\r\nx\r\n", 0, 6, 1, 0},
	{"qp one hex at end", ENCVAL_QP, "abc=4", 0, 5, 1, 0},
	{"qp 8-bit byte", ENCVAL_QP, "caf\xe9\r\n", 0, 3, 1, 0},
	{"qp NUL", ENCVAL_QP, "ab\0c", 0, 2, 1, 0},
	{"qp control", ENCVAL_QP, "ab\x1b" "c\r\n", 0, 2, 1, 0},
	{"qp text after padding", ENCVAL_QP, "abc= x\r\n", 0, 5, 1, 0},
	{"qp bare CR", ENCVAL_QP, "ab\rc\r\n", 0, 2, 1, 0},
	{"qp 76 chars ok", ENCVAL_QP,
	 "0123456789012345678901234567890123456789012345678901234567890123456789012345\r\n",
	 1, -1, -1, 1},
	{"qp 77 chars", ENCVAL_QP,
	 "01234567890123456789012345678901234567890123456789012345678901234567890123456\r\n",
	 0, 76, 1, 0},
	/* 7bit */
	{"7bit plain", ENCVAL_7BIT, "UNA:+.? '\r\nUNB+UNOA:2\r\n", 1, -1, -1, 1},
	{"7bit blank lines only", ENCVAL_7BIT, "\r\n  \r\n\t\r\n", 1, -1, -1, 0},
	{"7bit high byte", ENCVAL_7BIT, "line\r\ncaf\xc3\xa9\r\n", 0, 9, 2, 0},
	{"7bit NUL", ENCVAL_7BIT, "a\0", 0, 1, 1, 0},
	{"7bit bare CR", ENCVAL_7BIT, "a\rb", 0, 1, 1, 0},
};

/* run_split - feed c->in in the given chunk sizes, then finish */
static int
run_chunks(struct encval *v, const struct vcase *c, size_t len,
	   size_t first, size_t step)
{
	size_t	off = 0, n;
	int	rc = 0;

	encval_init(v, c->kind, 998);
	while (off < len && rc == 0) {
		n = off == 0 ? first : step;
		if (n == 0 || n > len - off)
			n = len - off;
		rc = encval_feed(v, (const unsigned char *) c->in + off, n);
		off += n;
	}
	if (rc == 0)
		rc = encval_finish(v);
	return (rc);
}

static void
check_outcome(const struct vcase *c, const struct encval *v, int rc,
	      const char *how)
{
	ck_assert_msg((rc == 0) == c->ok, "%s (%s): got %s (%s)", c->label,
		      how, rc == 0 ? "valid" : "invalid",
		      v->error ? v->error : "");
	if (c->ok) {
		ck_assert_msg(v->error == NULL, "%s: error set", c->label);
		ck_assert_msg(v->nonblank == c->nonblank, "%s (%s): nonblank %d",
			      c->label, how, v->nonblank);
		return;
	}
	ck_assert_msg(v->error != NULL && *v->error, "%s: no error text",
		      c->label);
	if (c->offset >= 0)
		ck_assert_msg(v->offset == (unsigned long long) c->offset,
			      "%s (%s): offset %llu, want %ld", c->label, how,
			      v->offset, c->offset);
	if (c->line >= 0)
		ck_assert_msg(v->line == (unsigned long long) c->line,
			      "%s (%s): line %llu, want %ld", c->label, how,
			      v->line, c->line);
}

/* the label's input length: cases may contain NUL */
static size_t
case_len(const struct vcase *c)
{
	if (strcmp(c->label, "qp NUL") == 0)
		return (4);
	if (strcmp(c->label, "7bit NUL") == 0)
		return (2);
	return (strlen(c->in));
}

START_TEST(test_case_any_chunking)
{
	const struct vcase *c = &cases[_i];
	size_t	len = case_len(c), split;
	struct encval v;
	char	how[64];

	check_outcome(c, &v, run_chunks(&v, c, len, len, len), "whole");
	check_outcome(c, &v, run_chunks(&v, c, len, 1, 1), "byte by byte");
	for (split = 1; split < len; split++) {
		g_snprintf(how, sizeof(how), "split at %zu", split);
		check_outcome(c, &v, run_chunks(&v, c, len, split, len), how);
	}
}
END_TEST

START_TEST(test_error_is_sticky)
{
	struct encval v;

	encval_init(&v, ENCVAL_BASE64, 998);
	ck_assert_int_eq(encval_feed(&v, (const unsigned char *) "SG*s", 4), -1);
	ck_assert_int_eq(encval_feed(&v, (const unsigned char *) "SGVs", 4), -1);
	ck_assert_int_eq(encval_finish(&v), -1);
	ck_assert_uint_eq(v.offset, 2);
}
END_TEST

START_TEST(test_line_limit)
{
	struct encval v;
	char	line[1200];

	memset(line, 'A', sizeof(line));
	encval_init(&v, ENCVAL_7BIT, 998);
	ck_assert_int_eq(encval_feed(&v, (const unsigned char *) line, 998), 0);
	ck_assert_int_eq(encval_feed(&v, (const unsigned char *) "\r\n", 2), 0);
	ck_assert_int_eq(encval_feed(&v, (const unsigned char *) line, 999), -1);
	ck_assert_uint_eq(v.offset, 1000 + 998);
	ck_assert_uint_eq(v.line, 2);

	/* the fast base64 path checks the limit too, mid-run */
	encval_init(&v, ENCVAL_BASE64, 998);
	ck_assert_int_eq(encval_feed(&v, (const unsigned char *) line, 500), 0);
	ck_assert_int_eq(encval_feed(&v, (const unsigned char *) line, 600), -1);
	ck_assert_uint_eq(v.offset, 998);
}
END_TEST

/* make_blob - GLib-encoded random data with CR LF every 76 characters */
static GString *
make_blob(GRand *rnd, size_t raw_len)
{
	guchar *raw = g_malloc(raw_len);
	gchar  *b64;
	GString *out = g_string_new(NULL);
	size_t	i, len;

	for (i = 0; i < raw_len; i++)
		raw[i] = (guchar) g_rand_int_range(rnd, 0, 256);
	b64 = g_base64_encode(raw, raw_len);
	len = strlen(b64);
	for (i = 0; i < len; i += 76) {
		g_string_append_len(out, b64 + i, MIN(76, len - i));
		g_string_append(out, "\r\n");
	}
	g_free(b64);
	g_free(raw);
	return (out);
}

/* feed_random - feed in random chunk sizes 1..max_chunk */
static int
feed_random(struct encval *v, GRand *rnd, const GString *s, int max_chunk)
{
	size_t	off = 0, n;

	encval_init(v, ENCVAL_BASE64, 998);
	while (off < s->len) {
		n = (size_t) g_rand_int_range(rnd, 1, max_chunk + 1);
		if (n > s->len - off)
			n = s->len - off;
		if (encval_feed(v, (const unsigned char *) s->str + off, n) < 0)
			return (-1);
		off += n;
	}
	return (encval_finish(v));
}

START_TEST(test_base64_random_chunkings)
{
	GRand  *rnd = g_rand_new_with_seed(20261129 + _i);
	size_t	raw_len = 1000 + (size_t) g_rand_int_range(rnd, 0, 3);
	GString *s = make_blob(rnd, raw_len);
	struct encval v;
	size_t	bad;
	int	round;

	for (round = 0; round < 20; round++)
		ck_assert_msg(feed_random(&v, rnd, s, 1 + round * 7) == 0,
			      "valid blob refused: %s at %llu", v.error, v.offset);

	/* damage one alphabet character: found exactly there */
	do
		bad = (size_t) g_rand_int_range(rnd, 0, (gint32) s->len - 4);
	while (s->str[bad] == '\r' || s->str[bad] == '\n' || s->str[bad] == '=');
	s->str[bad] = '!';
	for (round = 0; round < 20; round++) {
		ck_assert_int_eq(feed_random(&v, rnd, s, 1 + round * 7), -1);
		ck_assert_uint_eq(v.offset, bad);
		ck_assert_uint_eq(v.line, bad / 78 + 1);
	}
	g_string_free(s, TRUE);
	g_rand_free(rnd);
}
END_TEST

START_TEST(test_kind_names)
{
	ck_assert_str_eq(encval_kind_name(ENCVAL_BASE64), "base64");
	ck_assert_str_eq(encval_kind_name(ENCVAL_QP), "quoted-printable");
	ck_assert_str_eq(encval_kind_name(ENCVAL_7BIT), "7bit");
}
END_TEST

int
main(void)
{
	Suite  *s = suite_create("encval");
	TCase  *tc = tcase_create("validators");

	tcase_add_loop_test(tc, test_case_any_chunking, 0, G_N_ELEMENTS(cases));
	tcase_add_test(tc, test_error_is_sticky);
	tcase_add_test(tc, test_line_limit);
	tcase_add_loop_test(tc, test_base64_random_chunkings, 0, 3);
	tcase_add_test(tc, test_kind_names);
	suite_add_tcase(s, tc);
	return (unit_run(s, 0) ? 1 : 0);
}
