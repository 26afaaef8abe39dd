/*
 * NAME
 *	deliver - route a fetched answer and hand it to the local MTA
 * SYNOPSIS
 *	#include "fetch.h"
 *
 *	int	deliver_inspect(cfg, acct, msg, info, err, errlen);
 *	int	deliver_message(cfg, acct, uidl, msg, timeout, info, err, errlen);
 * DESCRIPTION
 *	deliver_inspect() parses the header block with the shared msgfile
 *	reader (bounded by max_header_bytes/max_header_count), takes the
 *	Message-ID for the log, and picks the local recipient: when the
 *	decision record is on ([record] enabled), the sender of the message
 *	HTG answers, found in the record by an ID the answer names (the
 *	Message-IDs of In-Reply-To: and References:, and any
 *	"Original-Envelope-Id:" or "Message-ID:" line in the body, as a
 *	DSN's delivery-status and returned-headers parts have them; route
 *	"record"); else the first [route] whose account is this account or
 *	"*" and whose header matches its pattern (fnmatch, case-insensitive,
 *	folding removed); else the account's fetch_recipient.  A record
 *	that cannot be read is logged and routing goes on without it.  A message without a header
 *	block, or over a bound, is FETCH_FAIL ("unparseable").
 *
 *	deliver_message() prepends X-HTG-Account, X-HTG-Mailbox and
 *	X-HTG-UIDL and hands the message over as fetch_deliver says:
 *	"smtp:HOST:PORT" (SMTP; the queue id is taken from the 250 reply's
 *	"queued as ID") or "sendmail[:PATH]" (sendmail -i -f SENDER).  The
 *	envelope sender is the local fetch_sender, so a local bounce never
 *	travels back to HTG.
 * ERRORS
 *	FETCH_OK only when the MTA took responsibility (250 after DATA, or
 *	sendmail exit 0).  FETCH_TEMP for 4xx, a connection failure or
 *	sendmail's EX_TEMPFAIL; FETCH_FAIL for 5xx or another exit status.
 * OWNERSHIP
 *	The message is the caller's; struct deliver_info is filled in the
 *	caller's storage.
 * THREAD SAFETY
 *	Single-threaded program (fetch.h); no static state.
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "fetch.h"
#include "log.h"
#include "msgfile.h"
#include "recorder.h"

#define DELIVER_SENDMAIL	"/usr/sbin/sendmail"
#define DELIVER_MAX_IDS		32	/* IDs of one answer looked up */
#define DELIVER_ID_MAX		998	/* one Message-ID or ENVID */

/* deliver_unfold - header value with folding and outer blanks removed */
static char *
deliver_unfold(const char *value)
{
	GString *s = g_string_new(NULL);
	const char *p;

	for (p = value; *p; p++)
		if (*p != '\r' && *p != '\n')
			g_string_append_c(s, *p);
	return (g_strstrip(g_string_free(s, FALSE)));
}

/* deliver_route - first [route] that matches, or NULL */
static const struct htg_route *
deliver_route(const struct htg_cfg *cfg, const struct htg_account *acct,
	      GPtrArray *names, GPtrArray *values)
{
	const struct htg_route *r;
	guint	j;
	int	i;

	for (i = 0; i < cfg->nroutes; i++) {
		r = &cfg->routes[i];
		if (r->header == NULL || r->pattern == NULL
		    || r->recipient == NULL)
			continue;
		if (r->account != NULL && strcmp(r->account, "*") != 0
		    && strcmp(r->account, acct->name) != 0)
			continue;
		for (j = 0; j < names->len; j++)
			if (g_ascii_strcasecmp(g_ptr_array_index(names, j),
					       r->header) == 0)
				break;
		if (j < names->len && fnmatch(r->pattern,
		    g_ptr_array_index(values, j), FNM_CASEFOLD) == 0)
			return (r);
	}
	return (NULL);
}

/* ids_add - a candidate ID (trimmed), if there is room */
static void
ids_add(GPtrArray *ids, const char *p, size_t len)
{
	while (len > 0 && g_ascii_isspace(*p))
		p++, len--;
	while (len > 0 && g_ascii_isspace(p[len - 1]))
		len--;
	if (len > 0 && len <= DELIVER_ID_MAX && ids->len < DELIVER_MAX_IDS)
		g_ptr_array_add(ids, g_strndup(p, len));
}

/* ids_from_refs - each <...> of an In-Reply-To/References value */
static void
ids_from_refs(GPtrArray *ids, const char *v)
{
	const char *lt, *gt;

	while ((lt = strchr(v, '<')) != NULL && (gt = strchr(lt, '>')) != NULL) {
		ids_add(ids, lt, (size_t) (gt - lt + 1));
		v = gt + 1;
	}
}

/* ids_from_body - "Original-Envelope-Id:" and "Message-ID:" lines */
static void
ids_from_body(GPtrArray *ids, const GByteArray *msg)
{
	static const char *const keys[] = {"Original-Envelope-Id:",
		"Message-ID:"};
	const char *p = (const char *) msg->data, *end = p + msg->len, *eol;
	size_t	i, k;

	for (; p < end; p = eol + 1) {
		if ((eol = memchr(p, '\n', (size_t) (end - p))) == NULL)
			eol = end;
		for (i = 0; i < G_N_ELEMENTS(keys); i++) {
			k = strlen(keys[i]);
			if ((size_t) (eol - p) > k
			    && g_ascii_strncasecmp(p, keys[i], k) == 0)
				ids_add(ids, p + k, (size_t) (eol - p) - k);
		}
	}
}

/*
 * deliver_by_record - the original's sender from the decision record:
 * 1 (info->recipient set), 0 none
 */
static int
deliver_by_record(const struct htg_cfg *cfg, const GByteArray *msg,
		  GPtrArray *names, GPtrArray *values, struct deliver_info *info)
{
	GPtrArray *ids;
	char	err[256], id[DELIVER_ID_MAX + 1];
	guint	i;
	int	rc = 0;

	if (!recorder_enabled(cfg))
		return (0);
	ids = g_ptr_array_new_with_free_func(g_free);
	for (i = 0; i < names->len; i++)
		if (g_ascii_strcasecmp(g_ptr_array_index(names, i), "In-Reply-To") == 0
		    || g_ascii_strcasecmp(g_ptr_array_index(names, i), "References") == 0)
			ids_from_refs(ids, g_ptr_array_index(values, i));
	ids_from_body(ids, msg);
	for (i = 0; i < ids->len && rc == 0; i++) {
		rc = recorder_sender_of(cfg, g_ptr_array_index(ids, i),
			info->recipient, sizeof(info->recipient), err, sizeof(err));
		if (rc < 0) {
			log_warn("decision record: %s; routing without it", err);
			break;
		}
		if (rc == 1) {
			log_sanitize(id, sizeof(id), g_ptr_array_index(ids, i));
			log_debug("answer names %s, sent by %s (decision record)",
				  id, info->recipient);
		}
	}
	g_ptr_array_free(ids, TRUE);
	if (rc != 1)
		info->recipient[0] = 0;
	return (rc == 1);
}

/* deliver_inspect - parse the header block, pick the recipient */
int
deliver_inspect(const struct htg_cfg *cfg, const struct htg_account *acct,
		const GByteArray *msg, struct deliver_info *info,
		char *err, size_t errlen)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *values = g_ptr_array_new_with_free_func(g_free);
	const struct htg_route *r;
	struct msgfile *mf = NULL;
	const char *name, *value;
	FILE   *fp;
	int	rc = FETCH_OK, n;

	memset(info, 0, sizeof(*info));
	g_strlcpy(info->msgid, "-", sizeof(info->msgid));
	g_strlcpy(info->queue_id, "-", sizeof(info->queue_id));
	if (msg->len == 0
	    || (fp = fmemopen(msg->data, msg->len, "r")) == NULL) {
		snprintf(err, errlen, "unparseable: empty message");
		rc = FETCH_FAIL;
		goto out;
	}
	mf = msgfile_open(fp, cfg->max_header_bytes, cfg->max_header_count);
	while ((n = msgfile_next_header(mf, &name, &value)) == 1) {
		g_ptr_array_add(names, g_strdup(name));
		g_ptr_array_add(values, deliver_unfold(value));
	}
	if (n < 0) {
		snprintf(err, errlen, "unparseable: %s", msgfile_error(mf));
		rc = FETCH_FAIL;
	} else if (names->len == 0) {
		snprintf(err, errlen, "unparseable: no header fields");
		rc = FETCH_FAIL;
	}
	msgfile_close(mf);
	fclose(fp);
	if (rc != FETCH_OK)
		goto out;
	for (n = 0; n < (int)names->len; n++)
		if (g_ascii_strcasecmp(g_ptr_array_index(names, n),
				       "Message-ID") == 0) {
			log_sanitize(info->msgid, sizeof(info->msgid),
				     g_ptr_array_index(values, n));
			break;
		}
	if (deliver_by_record(cfg, msg, names, values, info)) {
		g_strlcpy(info->route, "record", sizeof(info->route));
	} else if ((r = deliver_route(cfg, acct, names, values)) != NULL) {
		g_strlcpy(info->recipient, r->recipient,
			  sizeof(info->recipient));
		g_strlcpy(info->route, r->name, sizeof(info->route));
	} else {
		g_strlcpy(info->recipient, acct->fetch_recipient ?
			  acct->fetch_recipient : "", sizeof(info->recipient));
		g_strlcpy(info->route, "default", sizeof(info->route));
	}
	if (info->recipient[0] == '\0') {
		snprintf(err, errlen, "no [route] matched and account %s has "
			 "no fetch_recipient", acct->name);
		rc = FETCH_FAIL;
	}
out:
	g_ptr_array_free(names, TRUE);
	g_ptr_array_free(values, TRUE);
	return (rc);
}

/* deliver_payload - trace headers + message; SMTP: dot-stuffed CR LF */
static GString *
deliver_payload(const struct htg_account *acct, const char *uidl,
		const GByteArray *msg, int smtp)
{
	const char *eol = smtp ? "\r\n" : "\n";
	const char *p = (const char *)msg->data, *end = p + msg->len, *nl;
	GString *s = g_string_sized_new(msg->len + msg->len / 32 + 256);
	size_t	len;

	g_string_append_printf(s, "X-HTG-Account: %s%sX-HTG-Mailbox: %s%s"
			       "X-HTG-UIDL: %s%s", acct->name, eol,
			       acct->mailbox, eol, uidl, eol);
	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (smtp && len > 0 && p[0] == '.')
			g_string_append_c(s, '.');
		g_string_append_len(s, p, (gssize)len);
		g_string_append(s, eol);
		p = nl ? nl + 1 : end;
	}
	if (smtp)
		g_string_append(s, ".\r\n");
	return (s);
}

/* deliver_reply - read an SMTP reply; the code, last text, queue id */
static int
deliver_reply(struct net_conn *nc, const char *stage, int *code,
	      char *qid, size_t qidlen, char *err, size_t errlen)
{
	char	line[FETCH_LINE_MAX], safe[256];
	const char *q;
	size_t	len;
	int	rc, partial, n = 0;

	*code = 0;
	do {
		if ((rc = net_getline(nc, line, sizeof(line), &len, &partial,
				      err, errlen)) != FETCH_OK)
			return (rc);
		if (len < 3 || !g_ascii_isdigit(line[0]) || n++ > 100) {
			snprintf(err, errlen, "%s: malformed SMTP reply", stage);
			return (FETCH_TEMP);
		}
		*code = atoi(line);
		if (qid != NULL && (q = strstr(line, "queued as ")) != NULL) {
			q += strlen("queued as ");
			len = strcspn(q, " \t;");
			if (len >= qidlen)
				len = qidlen - 1;
			memcpy(qid, q, len);
			qid[len] = '\0';
		}
	} while (line[3] == '-' || partial);
	if (*code >= 200 && *code < 400)
		return (FETCH_OK);
	log_sanitize(safe, sizeof(safe), line);
	snprintf(err, errlen, "local MTA at %s: %s", stage, safe);
	return (*code >= 500 ? FETCH_FAIL : FETCH_TEMP);
}

/* deliver_cmd - one SMTP command and its reply */
static int
deliver_cmd(struct net_conn *nc, const char *stage, const char *cmd,
	    char *err, size_t errlen)
{
	int	rc, code;

	log_debug("smtp > %s", cmd);
	if ((rc = net_printf(nc, err, errlen, "%s\r\n", cmd)) != FETCH_OK)
		return (rc);
	return (deliver_reply(nc, stage, &code, NULL, 0, err, errlen));
}

/* deliver_smtp_addr - split "smtp:HOST:PORT" (HOST may be [v6]) */
static int
deliver_smtp_addr(const char *spec, char *host, size_t hostlen, int *port)
{
	const char *h = spec + strlen("smtp:"), *colon;
	size_t	len;

	if (*h == '[') {
		if ((colon = strstr(h, "]:")) == NULL)
			return (-1);
		h++;
		len = (size_t)(colon - h);
		colon++;
	} else {
		if ((colon = strrchr(h, ':')) == NULL)
			return (-1);
		len = (size_t)(colon - h);
	}
	if (len == 0 || len >= hostlen)
		return (-1);
	memcpy(host, h, len);
	host[len] = '\0';
	*port = atoi(colon + 1);
	return (*port > 0 && *port < 65536 ? 0 : -1);
}

/* deliver_smtp - one SMTP transaction with the local MTA */
static int
deliver_smtp(const struct htg_cfg *cfg, const GString *payload, int timeout,
	     struct deliver_info *info, char *err, size_t errlen)
{
	struct net_conn nc;
	char	host[256], cmd[FETCH_LINE_MAX], me[256];
	int	port, rc, code;

	if (deliver_smtp_addr(cfg->fetch_deliver, host, sizeof(host), &port)
	    < 0) {
		snprintf(err, errlen, "bad fetch_deliver \"%s\"",
			 cfg->fetch_deliver);
		return (FETCH_FAIL);
	}
	if ((rc = net_connect(&nc, host, port, timeout, err, errlen))
	    != FETCH_OK) {
		char	why[FETCH_ERRLEN];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "local MTA: %s", why);
		return (FETCH_TEMP);
	}
	if (gethostname(me, sizeof(me)) != 0 || strchr(me, '.') == NULL)
		g_strlcpy(me, "localhost", sizeof(me));
	me[sizeof(me) - 1] = '\0';
	if ((rc = deliver_reply(&nc, "greeting", &code, NULL, 0, err, errlen))
	    != FETCH_OK)
		goto out;
	snprintf(cmd, sizeof(cmd), "EHLO %s", me);
	if ((rc = deliver_cmd(&nc, "EHLO", cmd, err, errlen)) != FETCH_OK)
		goto out;
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>", cfg->fetch_sender);
	if ((rc = deliver_cmd(&nc, "MAIL FROM", cmd, err, errlen)) != FETCH_OK)
		goto out;
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>", info->recipient);
	if ((rc = deliver_cmd(&nc, "RCPT TO", cmd, err, errlen)) != FETCH_OK)
		goto out;
	if ((rc = deliver_cmd(&nc, "DATA", "DATA", err, errlen)) != FETCH_OK)
		goto out;
	if ((rc = net_write(&nc, payload->str, payload->len, err, errlen))
	    != FETCH_OK)
		goto out;
	rc = deliver_reply(&nc, "end of data", &code, info->queue_id,
			   sizeof(info->queue_id), err, errlen);
	if (rc == FETCH_OK && code != 250) {
		snprintf(err, errlen, "local MTA answered %d after DATA", code);
		rc = FETCH_TEMP;
	}
	if (rc == FETCH_OK) {
		char	ignore[FETCH_ERRLEN];

		(void) deliver_cmd(&nc, "QUIT", "QUIT", ignore, sizeof(ignore));
	}
out:
	net_close(&nc);
	return (rc);
}

/* deliver_sendmail - pipe the message into sendmail -i -f SENDER */
static int
deliver_sendmail(const struct htg_cfg *cfg, const GString *payload,
		 struct deliver_info *info, char *err, size_t errlen)
{
	const char *path = DELIVER_SENDMAIL;
	size_t	off = 0;
	ssize_t	n;
	pid_t	pid;
	int	fds[2], status;

	if (strncmp(cfg->fetch_deliver, "sendmail:", 9) == 0)
		path = cfg->fetch_deliver + 9;
	if (pipe(fds) < 0) {
		snprintf(err, errlen, "sendmail: pipe: %s", strerror(errno));
		return (FETCH_TEMP);
	}
	if ((pid = fork()) < 0) {
		snprintf(err, errlen, "sendmail: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return (FETCH_TEMP);
	}
	if (pid == 0) {
		dup2(fds[0], 0);
		close(fds[0]);
		close(fds[1]);
		execl(path, "sendmail", "-i", "-f", cfg->fetch_sender, "--",
		      info->recipient, (char *)NULL);
		_exit(75);
	}
	close(fds[0]);
	while (off < payload->len) {
		n = write(fds[1], payload->str + off, payload->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fds[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (off == payload->len && WIFEXITED(status)
	    && WEXITSTATUS(status) == 0)
		return (FETCH_OK);
	snprintf(err, errlen, "%s exited with %s %d", path,
		 WIFEXITED(status) ? "status" : "signal",
		 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return (WIFEXITED(status) && WEXITSTATUS(status) != 75
		&& off == payload->len ? FETCH_FAIL : FETCH_TEMP);
}

/* deliver_message - hand one inspected message to the local MTA */
int
deliver_message(const struct htg_cfg *cfg, const struct htg_account *acct,
		const char *uidl, const GByteArray *msg, int timeout,
		struct deliver_info *info, char *err, size_t errlen)
{
	int	smtp = strncmp(cfg->fetch_deliver, "smtp:", 5) == 0;
	GString *payload = deliver_payload(acct, uidl, msg, smtp);
	int	rc;

	if (smtp)
		rc = deliver_smtp(cfg, payload, timeout, info, err, errlen);
	else
		rc = deliver_sendmail(cfg, payload, info, err, errlen);
	g_string_free(payload, TRUE);
	return (rc);
}
