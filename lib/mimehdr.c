/*
 * NAME
 *	mimehdr - header value parsing with GMime
 * DESCRIPTION
 *	See mimehdr.h.  This file and repair_mime.c (bodies, for the
 *	repairs) are the only ones that call GMime, so GObject reference
 *	counting stays in two files: every object made here is released
 *	before the function returns.
 * OWNERSHIP
 *	Results are copied into caller-owned buffers, or returned as
 *	g_malloc()ed strings for the generators.
 */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include <gmime/gmime.h>
#include <openssl/rand.h>

#include "mimehdr.h"

/* mimehdr_init - initialise GMime once, before threads start */
void
mimehdr_init(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/* lower_copy - bounded lower-case copy */
static void
lower_copy(char *dst, size_t dstlen, const char *src)
{
	size_t	i;

	for (i = 0; src && src[i] && i + 1 < dstlen; i++)
		dst[i] = (char) tolower((unsigned char) src[i]);
	dst[i] = 0;
}

/* count_mailboxes - mailboxes in a list, groups expanded */
static int
count_mailboxes(InternetAddressList *list, char *first, size_t firstlen)
{
	int	i, n = 0, len = internet_address_list_length(list);
	InternetAddress *ia;

	for (i = 0; i < len; i++) {
		ia = internet_address_list_get_address(list, i);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			n += count_mailboxes(internet_address_group_get_members(
				INTERNET_ADDRESS_GROUP(ia)), first, firstlen);
		} else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
			const char *a = internet_address_mailbox_get_addr(
				INTERNET_ADDRESS_MAILBOX(ia));

			if (n == 0 && first && firstlen && first[0] == 0)
				g_strlcpy(first, a ? a : "", firstlen);
			n++;
		}
	}
	return (n);
}

/* mimehdr_addresses - number of mailboxes in an address header */
int
mimehdr_addresses(const char *value, char *first, size_t firstlen)
{
	InternetAddressList *list;
	int	n;

	if (first && firstlen)
		first[0] = 0;
	list = internet_address_list_parse(NULL, value);
	if (list == NULL)
		return (-1);
	n = count_mailboxes(list, first, firstlen);
	g_object_unref(list);
	return (n);
}

/* mimehdr_content_type - type, subtype and charset of a Content-Type */
int
mimehdr_content_type(const char *value, struct mime_ctype *ct)
{
	GMimeContentType *gct;
	const char *cs;

	memset(ct, 0, sizeof(*ct));
	/* GMime falls back to application/octet-stream on garbage: refuse
	 * a value without a '/' ourselves, so nothing is ever guessed. */
	if (value == NULL || strchr(value, '/') == NULL)
		return (-1);
	gct = g_mime_content_type_parse(NULL, value);
	if (gct == NULL)
		return (-1);
	lower_copy(ct->type, sizeof(ct->type), g_mime_content_type_get_media_type(gct));
	lower_copy(ct->subtype, sizeof(ct->subtype), g_mime_content_type_get_media_subtype(gct));
	if ((cs = g_mime_content_type_get_parameter(gct, "charset")) != NULL) {
		ct->has_charset = 1;
		g_strlcpy(ct->charset, cs, sizeof(ct->charset));
	}
	if ((cs = g_mime_content_type_get_parameter(gct, "boundary")) != NULL
	    && strlen(cs) < sizeof(ct->boundary))
		g_strlcpy(ct->boundary, cs, sizeof(ct->boundary));
	lower_copy(ct->report_type, sizeof(ct->report_type),
		   g_mime_content_type_get_parameter(gct, "report-type"));
	if ((cs = g_mime_content_type_get_parameter(gct, "name")) != NULL)
		g_strlcpy(ct->name, cs, sizeof(ct->name));
	g_object_unref(gct);
	if (ct->type[0] == 0 || ct->subtype[0] == 0)
		return (-1);
	return (0);
}

/* mimehdr_disposition - disposition and filename (RFC 2231 decoded) */
int
mimehdr_disposition(const char *value, struct mime_disp *cd)
{
	GMimeContentDisposition *gcd;
	const char *fn;

	memset(cd, 0, sizeof(*cd));
	gcd = g_mime_content_disposition_parse(NULL, value);
	if (gcd == NULL)
		return (-1);
	lower_copy(cd->disposition, sizeof(cd->disposition),
		   g_mime_content_disposition_get_disposition(gcd));
	if ((fn = g_mime_content_disposition_get_parameter(gcd, "filename")) != NULL)
		g_strlcpy(cd->filename, fn, sizeof(cd->filename));
	g_object_unref(gcd);
	return (0);
}

/* mimehdr_date_valid - 1 when GMime can read the date */
int
mimehdr_date_valid(const char *value)
{
	GDateTime *dt;

	if (value == NULL)
		return (0);
	dt = g_mime_utils_header_decode_date(value);
	if (dt == NULL)
		return (0);
	g_date_time_unref(dt);
	return (1);
}

/* mimehdr_message_id - the id of a well-formed "<left@right>" value */
int
mimehdr_message_id(const char *value, char *out, size_t outlen)
{
	const char *s = value, *e;
	size_t	n;
	const char *at;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	if (*s != '<')
		return (-1);
	if ((e = strchr(s, '>')) == NULL)
		return (-1);
	for (const char *t = e + 1; *t; t++)
		if (!strchr(" \t\r\n", *t))
			return (-1);
	n = (size_t) (e - s - 1);
	at = memchr(s + 1, '@', n);
	if (n < 3 || at == NULL || at == s + 1 || at == e - 1)
		return (-1);
	for (const char *t = s + 1; t < e; t++)
		if ((unsigned char) *t <= ' ' || (unsigned char) *t >= 0x7f
		    || *t == '<')
			return (-1);
	if (n + 1 > outlen)
		return (-1);
	memcpy(out, s + 1, n);
	out[n] = 0;
	return (0);
}

/* random_hex - n random bytes as hex from the OpenSSL CSPRNG */
static char *
random_hex(size_t n)
{
	unsigned char buf[32];
	char   *hex;
	size_t	i;

	if (n > sizeof(buf) || RAND_bytes(buf, (int) n) != 1)
		return (NULL);
	hex = g_malloc(2 * n + 1);
	for (i = 0; i < n; i++)
		g_snprintf(hex + 2 * i, 3, "%02x", buf[i]);
	return (hex);
}

/* mimehdr_new_message_id - "<time.random@domain>" */
char   *
mimehdr_new_message_id(const char *domain)
{
	char   *r, *id;

	if ((r = random_hex(12)) == NULL)
		return (NULL);
	id = g_strdup_printf("<%" G_GINT64_FORMAT ".%s.htgate@%s>",
		g_get_real_time() / 1000000, r,
		domain && *domain ? domain : "htgate.invalid");
	g_free(r);
	return (id);
}

/* mimehdr_new_envid - a unique ENVID (xtext-safe: hex and dots only) */
char   *
mimehdr_new_envid(void)
{
	char   *r, *id;

	if ((r = random_hex(12)) == NULL)
		return (NULL);
	id = g_strdup_printf("htgate.%" G_GINT64_FORMAT ".%s",
		g_get_real_time() / 1000000, r);
	g_free(r);
	return (id);
}

/* mimehdr_strip_cfws - a structured value without comments, in place */
void
mimehdr_strip_cfws(char *value)
{
	char   *r = value, *w = value;
	int	depth = 0, quoted = 0;

	for (; *r; r++) {
		if (quoted) {
			if (*r == '\\' && r[1])
				*w++ = *r++;
			else if (*r == '"')
				quoted = 0;
			*w++ = *r;
		} else if (depth > 0) {
			if (*r == '\\' && r[1])
				r++;
			else if (*r == '(')
				depth++;
			else if (*r == ')')
				depth--;
		} else if (*r == '(') {
			depth = 1;
			*w++ = ' ';
		} else {
			if (*r == '"')
				quoted = 1;
			*w++ = *r;
		}
	}
	*w = 0;
	g_strstrip(value);
}

/* mimehdr_windows_125x - N of windows-125N under any name, or -1 */
int
mimehdr_windows_125x(const char *cs)
{
	static const char *const prefixes[] = {
		"windows-", "x-windows-", "cp", "x-cp",
	};
	size_t	i, n;

	for (i = 0; cs != NULL && i < G_N_ELEMENTS(prefixes); i++) {
		n = strlen(prefixes[i]);
		if (g_ascii_strncasecmp(cs, prefixes[i], n) == 0
		    && strncmp(cs + n, "125", 3) == 0
		    && cs[n + 3] >= '0' && cs[n + 3] <= '8' && cs[n + 4] == 0)
			return (cs[n + 3] - '0');
	}
	return (-1);
}
