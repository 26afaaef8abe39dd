/*
 * NAME
 *	htgaddr - is an envelope address HTG-bound, and how is it written
 * DESCRIPTION
 *	See htgaddr.h.  The forms follow what Postfix's trivial-rewrite(8)
 *	does before routing: source routes are dropped, a trailing dot is
 *	stripped from the domain, "user%domain@local" becomes user@domain
 *	(allow_percent_hack, the rightmost '%'), "site!user" becomes
 *	user@site (swap_bangpath), and a quoted local part is dequoted
 *	(resolve_dequoted_address).  Written by hand because no library
 *	knows which of these Postfix applies; it only has to recognise an
 *	HTG domain in each place, never to rewrite a deliverable address.
 * OWNERSHIP
 *	Everything is copied into caller buffers.
 */
#include "config.h"

#include <string.h>

#include <glib.h>

#include "htgaddr.h"

#define HTGADDR_DEPTH	3		/* nested forms we follow */

/* htgaddr_split - strip <> and white space; split at the last '@' */
int
htgaddr_split(const char *addr, char *out, size_t outlen,
	      const char **local_end, const char **domain)
{
	const char *s = addr ? addr : "";
	size_t	n;
	char   *at;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '<')
		s++;
	g_strlcpy(out, s, outlen);
	n = strlen(out);
	while (n && (out[n - 1] == ' ' || out[n - 1] == '\t'))
		out[--n] = 0;
	if (n && out[n - 1] == '>')
		out[--n] = 0;
	at = strrchr(out, '@');
	if (local_end)
		*local_end = at;
	if (domain)
		*domain = at ? at + 1 : "";
	if (at == NULL || at == out || at[1] == 0
	    || strpbrk(out, " ,<>\t") != NULL)
		return (-1);
	return (0);
}

/* htgaddr_form_name - how an address is written, for a finding */
const char *
htgaddr_form_name(enum htgaddr_form form)
{
	static const char *const names[] = {
		[HTGADDR_PLAIN] = "plain",
		[HTGADDR_TRAILING_DOT] = "a trailing dot after the domain",
		[HTGADDR_SOURCE_ROUTE] = "a source route",
		[HTGADDR_PERCENT] = "the percent hack",
		[HTGADDR_BANG] = "a bang path",
		[HTGADDR_QUOTED] = "a quoted local part",
	};

	return ((unsigned) form < G_N_ELEMENTS(names) ? names[form] : "?");
}

/* htg_domain - the environment of a domain, trailing dots ignored */
static const struct htg_env *
htg_domain(const struct htg_cfg *cfg, const char *domain, int *envelope_form,
	   int *dotted, char *clean, size_t cleanlen)
{
	size_t	n;

	g_strlcpy(clean, domain, cleanlen);
	n = strlen(clean);
	*dotted = 0;
	while (n > 0 && clean[n - 1] == '.') {
		clean[--n] = 0;
		*dotted = 1;
	}
	if (n == 0)
		return (NULL);
	return (cfg_env_by_domain(cfg, clean, envelope_form));
}

/* dequote - a quoted-string's content; end just after the closing quote */
static int
dequote(const char *s, char *out, size_t outlen, const char **end)
{
	size_t	n = 0;

	if (*s != '"')
		return (-1);
	for (s++; *s && *s != '"'; s++) {
		if (*s == '\\' && s[1])
			s++;
		if (n + 1 < outlen)
			out[n++] = *s;
	}
	out[n] = 0;
	if (*s != '"')
		return (-1);
	*end = s + 1;
	return (0);
}

/* found - fill out for an HTG-bound address */
static void
found(struct htgaddr *out, const struct htg_env *env, int envelope_form,
      const char *local, const char *domain, enum htgaddr_form form)
{
	out->env = env;
	out->envelope_form = envelope_form;
	out->form = form;
	g_strlcpy(out->local, local, sizeof(out->local));
	g_snprintf(out->addr, sizeof(out->addr), "%s@%s", local, domain);
}

static int resolve(const struct htg_cfg *, const char *, enum htgaddr_form,
		   int, struct htgaddr *);

/* resolve_local - an HTG domain hidden in a local part (%, !, @) */
static int
resolve_local(const struct htg_cfg *cfg, const char *local, int depth,
	      struct htgaddr *out)
{
	char	buf[HTGADDR_MAX], clean[HTGADDR_MAX];
	const struct htg_env *env;
	char   *p;
	int	envf, dotted;

	if (strchr(local, '@') != NULL)	/* "a@b"@relay: dequoted */
		return (resolve(cfg, local, HTGADDR_QUOTED, depth + 1, out));
	g_strlcpy(buf, local, sizeof(buf));
	if ((p = strrchr(buf, '%')) != NULL) {
		*p = 0;
		if ((env = htg_domain(cfg, p + 1, &envf, &dotted, clean,
				      sizeof(clean))) != NULL) {
			found(out, env, envf, buf, clean, HTGADDR_PERCENT);
			return (1);
		}
		*p = '%';
	}
	if ((p = strchr(buf, '!')) != NULL) {
		*p = 0;
		if ((env = htg_domain(cfg, buf, &envf, &dotted, clean,
				      sizeof(clean))) != NULL) {
			found(out, env, envf, p + 1, clean, HTGADDR_BANG);
			return (1);
		}
	}
	return (0);
}

/* resolve - one address (maybe nested in another's local part) */
static int
resolve(const struct htg_cfg *cfg, const char *s, enum htgaddr_form form,
	int depth, struct htgaddr *out)
{
	char	local[HTGADDR_MAX], clean[HTGADDR_MAX];
	const char *domain = "", *end, *at;
	const struct htg_env *env;
	int	envf = 0, dotted = 0, quoted = 0;

	if (depth > HTGADDR_DEPTH)
		return (0);
	if (*s == '@' && (end = strchr(s, ':')) != NULL) {
		s = end + 1;		/* @a,@b:user@domain */
		form = HTGADDR_SOURCE_ROUTE;
	}
	if (*s == '"' && dequote(s, local, sizeof(local), &end) == 0) {
		quoted = 1;
		if (*end == '@')
			domain = end + 1;
		else if (*end != 0)
			return (0);
	} else if ((at = strrchr(s, '@')) != NULL) {
		g_strlcpy(local, s, sizeof(local));
		local[MIN((size_t) (at - s), sizeof(local) - 1)] = 0;
		domain = at + 1;
	} else {
		g_strlcpy(local, s, sizeof(local));
	}
	if (*domain && (env = htg_domain(cfg, domain, &envf, &dotted, clean,
					 sizeof(clean))) != NULL) {
		if (form == HTGADDR_PLAIN)
			form = quoted ? HTGADDR_QUOTED : dotted ?
				HTGADDR_TRAILING_DOT : HTGADDR_PLAIN;
		found(out, env, envf, local, clean, form);
		return (1);
	}
	return (resolve_local(cfg, local, depth, out));
}

/* htgaddr_classify - the HTG environment an address will reach, if any */
void
htgaddr_classify(const struct htg_cfg *cfg, const char *raw,
		 struct htgaddr *out)
{
	char	a[HTGADDR_MAX];

	memset(out, 0, sizeof(*out));
	(void) htgaddr_split(raw, a, sizeof(a), NULL, NULL);
	g_strlcpy(out->addr, a, sizeof(out->addr));
	if (*a == 0 || !resolve(cfg, a, HTGADDR_PLAIN, 0, out)) {
		out->env = NULL;
		out->form = HTGADDR_PLAIN;
		g_strlcpy(out->addr, a, sizeof(out->addr));
		out->local[0] = 0;
	}
}
