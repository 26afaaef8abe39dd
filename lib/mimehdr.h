/*
 * NAME
 *	mimehdr - header value parsing with GMime (GMime use lives here and
 *	in repair_mime.c, which reads and writes bodies)
 * SYNOPSIS
 *	#include "mimehdr.h"
 *
 *	void	mimehdr_init(void);
 *	int	mimehdr_addresses(const char *value, char *first,
 *		size_t firstlen);
 *	int	mimehdr_content_type(const char *value, struct mime_ctype *ct);
 *	int	mimehdr_disposition(const char *value, struct mime_disp *cd);
 *	int	mimehdr_date_valid(const char *value);
 *	int	mimehdr_message_id(const char *value, char *out, size_t outlen);
 *	char   *mimehdr_new_message_id(const char *domain);
 *	char   *mimehdr_new_envid(void);
 *	void	mimehdr_strip_cfws(char *value);
 *	int	mimehdr_windows_125x(const char *charset);
 * DESCRIPTION
 *	mimehdr_init() calls g_mime_init() once; call it from main() before
 *	any thread starts.  mimehdr_addresses() returns the number of
 *	mailboxes in an address-list header (groups expanded), -1 when it
 *	does not parse, and copies the first mailbox's addr-spec.
 *	mimehdr_content_type() and mimehdr_disposition() return 0 and fill
 *	the struct (lower-case type, subtype and report-type, the charset
 *	and boundary as given, the name parameter RFC 2231 decoded;
 *	disposition and filename), or -1 when the
 *	value does not parse.
 *	mimehdr_date_valid() returns 1 for a date GMime can read.
 *	mimehdr_message_id() returns 0 and the id without angle brackets
 *	for a well-formed "<left@right>" value, -1 otherwise.
 *	The two generators return new unique identifiers (random, from the
 *	OpenSSL CSPRNG) that the caller frees with g_free().
 *	mimehdr_strip_cfws() removes RFC 5322 comments (nested, with
 *	quoted-pairs) and the white space around a structured value in
 *	place: "base64 (preferred)" becomes "base64", "1.0 (Apple)" "1.0".
 *	GMime 3 compares Content-Transfer-Encoding as a plain string after
 *	trimming and keeps its CFWS parser private, so this one is ours.
 *	mimehdr_windows_125x() returns N (0..8) for the Windows code page
 *	125N under any of its names (windows-, x-windows-, cp, x-cp; case
 *	does not matter), else -1.
 * THREAD SAFETY
 *	Safe after mimehdr_init(): GMime's parsers are reentrant with
 *	default options.
 */
#ifndef HTG_MIMEHDR_H
#define HTG_MIMEHDR_H

#include <stddef.h>

#define MIME_TOKEN_MAX	128
#define MIME_FILENAME_MAX 256
#define MIME_BOUNDARY_MAX 200		/* RFC 2046 allows 70 */

struct mime_ctype {
	char	type[MIME_TOKEN_MAX];
	char	subtype[MIME_TOKEN_MAX];
	char	charset[MIME_TOKEN_MAX];	/* "" when absent */
	int	has_charset;
	char	boundary[MIME_BOUNDARY_MAX];	/* "" when absent or too long */
	char	report_type[MIME_TOKEN_MAX];	/* lower case, "" when absent */
	char	name[MIME_FILENAME_MAX];	/* name= (RFC 2231 decoded), "" */
};

struct mime_disp {
	char	disposition[MIME_TOKEN_MAX];
	char	filename[MIME_FILENAME_MAX];	/* "" when absent */
};

void	mimehdr_init(void);
int	mimehdr_addresses(const char *value, char *first, size_t firstlen);
int	mimehdr_content_type(const char *value, struct mime_ctype *ct);
int	mimehdr_disposition(const char *value, struct mime_disp *cd);
int	mimehdr_date_valid(const char *value);
int	mimehdr_message_id(const char *value, char *out, size_t outlen);
char   *mimehdr_new_message_id(const char *domain);
char   *mimehdr_new_envid(void);
void	mimehdr_strip_cfws(char *value);
int	mimehdr_windows_125x(const char *charset);

#endif
