/*
 * NAME
 *	pop3 - POP3 client for the HTG mailbox: STLS, AUTH, UIDL, RETR, DELE
 * SYNOPSIS
 *	#include "fetch.h"
 *
 *	int	pop3_open(p, host, port, ca_file, timeout, err, errlen);
 *	int	pop3_login(p, user, pass, err, errlen);
 *	int	pop3_list(p, msgs, err, errlen);
 *	int	pop3_retr(p, num, max, out, &bad, err, errlen);
 *	int	pop3_dele(p, num, err, errlen);
 *	int	pop3_quit(p, err, errlen);
 *	void	pop3_close(p);
 * DESCRIPTION
 *	pop3_open() connects, reads the greeting and sends STLS as the
 *	very first command (HTG honours only STLS and QUIT before TLS, and
 *	credentials must never travel in clear); a server that refuses STLS
 *	is a FETCH_FAIL.  TLS is verified by net_starttls().
 *
 *	pop3_login() asks CAPA over TLS and uses AUTH PLAIN when offered;
 *	USER/PASS only when the server does not take AUTH PLAIN.  The
 *	password is cleansed from every buffer that held it.
 *
 *	pop3_list() fills msgs (struct pop3_msg) from UIDL and LIST; a
 *	message whose UIDL is not 1..70 printable characters gets an empty
 *	uidl, which the caller reports and leaves alone.  A server that
 *	answers UIDL with -ERR (UIDL is optional in RFC 1939) is listed
 *	with LIST alone, every uidl empty, and p->no_uidl is set: the
 *	caller then identifies each message after RETR (fetch_main.c).
 *
 *	pop3_retr() reads one message, undoes dot-stuffing and stores it
 *	with CR LF line ends in out.  *bad is set (and out is incomplete)
 *	when the message exceeds max bytes (1), has a line longer than
 *	FETCH_MSG_LINE_MAX (2) or contains a NUL byte (3); the whole
 *	response is still consumed so the session stays usable.
 * ERRORS
 *	FETCH_TEMP: network, timeout, unexpected server state.  FETCH_FAIL:
 *	no STLS, TLS verification, authentication refused, no LIST.
 * OWNERSHIP
 *	struct pop3 belongs to the caller; pop3_close() releases it.
 * THREAD SAFETY
 *	Single-threaded program (fetch.h); no static state.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "fetch.h"
#include "log.h"

/* pop3_reply - read a status line; FETCH_OK for +OK, FETCH_FAIL for -ERR */
static int
pop3_reply(struct pop3 *p, const char *cmd, char *line, size_t linelen,
	   char *err, size_t errlen)
{
	char	safe[256];
	size_t	len;
	int	partial, rc;

	if ((rc = net_getline(&p->nc, line, linelen, &len, &partial,
			      err, errlen)) != FETCH_OK)
		return (rc);
	while (partial) {		/* drop the rest of an absurd line */
		char	junk[512];

		if ((rc = net_getline(&p->nc, junk, sizeof(junk), &len,
				      &partial, err, errlen)) != FETCH_OK)
			return (rc);
	}
	if (strncmp(line, "+OK", 3) == 0 || line[0] == '+')
		return (FETCH_OK);
	log_sanitize(safe, sizeof(safe), line);
	snprintf(err, errlen, "%s: server said: %s", cmd, safe);
	if (strncmp(line, "-ERR", 4) == 0)
		return (FETCH_FAIL);
	return (FETCH_TEMP);
}

/* pop3_cmd - send a command line (not a secret) and read its status */
static int
pop3_cmd(struct pop3 *p, const char *cmd, char *line, size_t linelen,
	 char *err, size_t errlen)
{
	int	rc;

	log_debug("pop3 > %s", cmd);
	if ((rc = net_printf(&p->nc, err, errlen, "%s\r\n", cmd)) != FETCH_OK)
		return (rc);
	return (pop3_reply(p, cmd, line, linelen, err, errlen));
}

/*
 * pop3_ml_line - one line of a multi-line response, dot-unstuffed;
 * *end is set at the terminating ".".  *cont tells whether the
 * previous piece was partial (this one continues it).
 */
static int
pop3_ml_line(struct pop3 *p, char *buf, size_t buflen, size_t *len,
	     int *partial, int *cont, int *end, char *err, size_t errlen)
{
	int	rc;
	int	first = !*cont;

	*end = 0;
	if ((rc = net_getline(&p->nc, buf, buflen, len, partial,
			      err, errlen)) != FETCH_OK)
		return (rc);
	*cont = *partial;
	if (first && buf[0] == '.') {
		if (*len == 1 && !*partial) {
			*end = 1;
			return (FETCH_OK);
		}
		memmove(buf, buf + 1, *len);	/* includes the NUL */
		(*len)--;
	}
	return (FETCH_OK);
}

/* pop3_open - connect, greeting, STLS, verified TLS */
int
pop3_open(struct pop3 *p, const char *host, int port, const char *ca_file,
	  int timeout, char *err, size_t errlen)
{
	char	line[FETCH_LINE_MAX];
	int	rc;

	memset(p, 0, sizeof(*p));
	if ((rc = net_connect(&p->nc, host, port, timeout, err, errlen))
	    != FETCH_OK)
		return (rc);
	p->open = 1;
	if ((rc = pop3_reply(p, "greeting", line, sizeof(line), err, errlen))
	    != FETCH_OK)
		return (FETCH_TEMP);
	rc = pop3_cmd(p, "STLS", line, sizeof(line), err, errlen);
	if (rc == FETCH_FAIL) {
		char	why[FETCH_ERRLEN];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "server %s does not offer STLS (%s); "
			 "refusing to send credentials in clear", host, why);
		(void) net_printf(&p->nc, why, sizeof(why), "QUIT\r\n");
		return (FETCH_FAIL);
	}
	if (rc != FETCH_OK)
		return (rc);
	return (net_starttls(&p->nc, host, ca_file, err, errlen));
}

/* pop3_capa - which login methods the server offers after TLS */
static int
pop3_capa(struct pop3 *p, int *plain, char *err, size_t errlen)
{
	char	line[FETCH_LINE_MAX];
	size_t	len;
	int	rc, partial, cont = 0, end;

	*plain = 0;
	rc = pop3_cmd(p, "CAPA", line, sizeof(line), err, errlen);
	if (rc == FETCH_FAIL)
		return (FETCH_OK);		/* no CAPA: try USER/PASS */
	if (rc != FETCH_OK)
		return (rc);
	for (;;) {
		if ((rc = pop3_ml_line(p, line, sizeof(line), &len, &partial,
				       &cont, &end, err, errlen)) != FETCH_OK)
			return (rc);
		if (end)
			break;
		if (g_ascii_strncasecmp(line, "SASL ", 5) == 0) {
			gchar **mechs = g_strsplit(line + 5, " ", 0);
			int	i;

			for (i = 0; mechs[i] != NULL; i++)
				if (g_ascii_strcasecmp(mechs[i], "PLAIN") == 0)
					*plain = 1;
			g_strfreev(mechs);
		}
	}
	return (FETCH_OK);
}

/* pop3_secret - send a line holding a secret; never logged */
static int
pop3_secret(struct pop3 *p, const char *what, const char *prefix,
	    const char *secret, char *err, size_t errlen)
{
	char	buf[FETCH_LINE_MAX];
	char	line[FETCH_LINE_MAX];
	int	n, rc;

	log_debug("pop3 > %s (secret not shown)", what);
	n = snprintf(buf, sizeof(buf), "%s%s\r\n", prefix, secret);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		OPENSSL_cleanse(buf, sizeof(buf));
		snprintf(err, errlen, "%s: credentials too long", what);
		return (FETCH_FAIL);
	}
	rc = net_write(&p->nc, buf, (size_t)n, err, errlen);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (rc != FETCH_OK)
		return (rc);
	return (pop3_reply(p, what, line, sizeof(line), err, errlen));
}

/* pop3_auth_plain - AUTH PLAIN; *unsupported when the server refuses it */
static int
pop3_auth_plain(struct pop3 *p, const char *user, const char *pass,
		int *unsupported, char *err, size_t errlen)
{
	unsigned char raw[1024];
	unsigned char b64[((sizeof(raw) + 2) / 3) * 4 + 1];
	char	line[FETCH_LINE_MAX];
	size_t	ul = strlen(user), pl = strlen(pass);
	int	rc;

	*unsupported = 0;
	if (ul + pl + 2 > sizeof(raw)) {
		snprintf(err, errlen, "AUTH PLAIN: credentials too long");
		return (FETCH_FAIL);
	}
	rc = pop3_cmd(p, "AUTH PLAIN", line, sizeof(line), err, errlen);
	if (rc == FETCH_FAIL)
		*unsupported = 1;
	if (rc != FETCH_OK)
		return (rc);
	if (line[0] != '+' || line[1] == 'O') {
		snprintf(err, errlen, "AUTH PLAIN: unexpected answer");
		return (FETCH_TEMP);
	}
	raw[0] = '\0';
	memcpy(raw + 1, user, ul);
	raw[1 + ul] = '\0';
	memcpy(raw + 2 + ul, pass, pl);
	EVP_EncodeBlock(b64, raw, (int)(ul + pl + 2));
	rc = pop3_secret(p, "AUTH PLAIN", "", (const char *)b64, err, errlen);
	OPENSSL_cleanse(raw, sizeof(raw));
	OPENSSL_cleanse(b64, sizeof(b64));
	return (rc);
}

/* pop3_login - authenticate over TLS: AUTH PLAIN, else USER/PASS */
int
pop3_login(struct pop3 *p, const char *user, const char *pass,
	   char *err, size_t errlen)
{
	char	line[FETCH_LINE_MAX], cmd[FETCH_LINE_MAX];
	int	rc, plain, unsupported = 1;

	if (strpbrk(user, "\r\n") != NULL || strpbrk(pass, "\r\n") != NULL) {
		snprintf(err, errlen, "mailbox or password contains a line "
			 "break");
		return (FETCH_FAIL);
	}
	if ((rc = pop3_capa(p, &plain, err, errlen)) != FETCH_OK)
		return (rc);
	if (plain) {
		rc = pop3_auth_plain(p, user, pass, &unsupported, err, errlen);
		if (!unsupported)
			goto done;
	}
	snprintf(cmd, sizeof(cmd), "USER %s", user);
	if ((rc = pop3_cmd(p, cmd, line, sizeof(line), err, errlen))
	    != FETCH_OK)
		goto done;
	rc = pop3_secret(p, "PASS", "PASS ", pass, err, errlen);
done:
	/* RFC 3206: [SYS/TEMP] and [IN-USE] are worth a retry. */
	if (rc == FETCH_FAIL && (strstr(err, "[SYS/TEMP]") != NULL
				 || strstr(err, "[IN-USE]") != NULL))
		rc = FETCH_TEMP;
	if (rc != FETCH_OK) {
		char	why[FETCH_ERRLEN];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "authentication as %s failed (%s)",
			 user, why);
	}
	return (rc);
}

/* pop3_uidl_ok - RFC 1939: 1 to 70 characters 0x21..0x7e */
static int
pop3_uidl_ok(const char *s)
{
	size_t	n = strlen(s), i;

	if (n == 0 || n > FETCH_UIDL_MAX)
		return (0);
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return (0);
	return (1);
}

/* pop3_listing - read a "num value" multi-line listing */
static int
pop3_listing(struct pop3 *p, const char *cmd, GArray *msgs, int is_uidl,
	     char *err, size_t errlen)
{
	char	line[FETCH_LINE_MAX];
	size_t	len;
	int	rc, partial, cont = 0, end;
	guint	i;

	if ((rc = pop3_cmd(p, cmd, line, sizeof(line), err, errlen))
	    != FETCH_OK)
		return (rc);
	for (;;) {
		char   *rest;
		unsigned long num;

		if ((rc = pop3_ml_line(p, line, sizeof(line), &len, &partial,
				       &cont, &end, err, errlen)) != FETCH_OK)
			return (rc);
		if (end)
			break;
		num = strtoul(line, &rest, 10);
		if (rest == line || *rest != ' ' || num == 0 || num > 1000000)
			continue;
		rest++;
		for (i = 0; i < msgs->len; i++)
			if (g_array_index(msgs, struct pop3_msg, i).num == num)
				break;
		if (i == msgs->len) {
			struct pop3_msg m;

			memset(&m, 0, sizeof(m));
			m.num = (unsigned)num;
			m.size = (size_t)-1;
			g_array_append_val(msgs, m);
		}
		if (is_uidl) {
			struct pop3_msg *m = &g_array_index(msgs,
						struct pop3_msg, i);

			if (pop3_uidl_ok(rest))
				g_strlcpy(m->uidl, rest, sizeof(m->uidl));
		} else {
			g_array_index(msgs, struct pop3_msg, i).size =
				strtoull(rest, NULL, 10);
		}
	}
	return (FETCH_OK);
}

/* pop3_list - UIDL (if the server has it) and LIST of every message */
int
pop3_list(struct pop3 *p, GArray *msgs, char *err, size_t errlen)
{
	int	rc;

	g_array_set_size(msgs, 0);
	rc = pop3_listing(p, "UIDL", msgs, 1, err, errlen);
	p->no_uidl = (rc == FETCH_FAIL);
	if (p->no_uidl)
		g_array_set_size(msgs, 0);
	else if (rc != FETCH_OK)
		return (rc);
	return (pop3_listing(p, "LIST", msgs, 0, err, errlen));
}

/* pop3_retr - retrieve one message into out (CR LF, unstuffed) */
int
pop3_retr(struct pop3 *p, unsigned num, size_t max, GByteArray *out,
	  int *bad, char *err, size_t errlen)
{
	char	cmd[64], *line;
	size_t	len;
	int	rc, partial, cont = 0, end, was_cont;

	*bad = 0;
	g_byte_array_set_size(out, 0);
	snprintf(cmd, sizeof(cmd), "RETR %u", num);
	line = g_malloc(FETCH_MSG_LINE_MAX + 1);
	if ((rc = pop3_cmd(p, cmd, line, FETCH_LINE_MAX, err, errlen))
	    != FETCH_OK) {
		if (rc == FETCH_FAIL)
			rc = FETCH_TEMP;	/* message vanished: next run */
		goto out;
	}
	for (;;) {
		was_cont = cont;
		if ((rc = pop3_ml_line(p, line, FETCH_MSG_LINE_MAX + 1, &len,
				       &partial, &cont, &end, err, errlen))
		    != FETCH_OK)
			goto out;
		if (end)
			break;
		if (*bad)
			continue;
		if (partial || (was_cont && !partial)) {
			*bad = 2;
			continue;
		}
		if (memchr(line, '\0', len) != NULL) {
			*bad = 3;
			continue;
		}
		if (out->len + len + 2 > max) {
			*bad = 1;
			continue;
		}
		g_byte_array_append(out, (const guint8 *)line, (guint)len);
		g_byte_array_append(out, (const guint8 *)"\r\n", 2);
	}
out:
	g_free(line);
	return (rc);
}

/* pop3_dele - mark one message deleted (committed by QUIT) */
int
pop3_dele(struct pop3 *p, unsigned num, char *err, size_t errlen)
{
	char	cmd[64], line[FETCH_LINE_MAX];
	int	rc;

	snprintf(cmd, sizeof(cmd), "DELE %u", num);
	rc = pop3_cmd(p, cmd, line, sizeof(line), err, errlen);
	return (rc == FETCH_FAIL ? FETCH_TEMP : rc);
}

/* pop3_quit - end the session; +OK means the deletions are committed */
int
pop3_quit(struct pop3 *p, char *err, size_t errlen)
{
	char	line[FETCH_LINE_MAX];
	int	rc;

	rc = pop3_cmd(p, "QUIT", line, sizeof(line), err, errlen);
	return (rc == FETCH_FAIL ? FETCH_TEMP : rc);
}

/* pop3_close - drop the connection */
void
pop3_close(struct pop3 *p)
{
	if (p->open)
		net_close(&p->nc);
	p->open = 0;
}
