/*
 * NAME
 *	engine_env - envelope rules: ENV-ONE-SENDER, ENV-ONE-RCPT,
 *	ENV-MIXED, ENV-STREAM, ENV-AUTH, ENV-SIZE, ENV-NOTIFY, ENV-ENVID
 * DESCRIPTION
 *	MAIL only records the sender and its parameters; everything is
 *	judged at RCPT, because only a recipient tells whether the message
 *	is HTG-bound.  A refused recipient is forgotten (the SMTP server
 *	forgets it too) unless the message is in defer mode, where every
 *	recipient stays and the findings wait for end of message.
 * OWNERSHIP
 *	Works on the struct htg_msg of engine.c; fix strings are
 *	g_malloc()ed into it.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine_int.h"
#include "mimehdr.h"

/* esmtp_arg - value of NAME=value among ESMTP args, or NULL */
static const char *
esmtp_arg(char *const *args, const char *name)
{
	size_t	n = strlen(name);

	for (; args && *args; args++)
		if (strncasecmp(*args, name, n) == 0 && (*args)[n] == '=')
			return (*args + n + 1);
	return (NULL);
}

/*
 * eng_split_addr - strip <> and white space; return 0 for local@domain
 * with both parts non-empty, -1 otherwise (out still holds the address)
 */
int
eng_split_addr(const char *addr, char *out, size_t outlen,
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
	if (at == NULL || at == out || at[1] == 0 || strpbrk(out, " ,<>\t") != NULL)
		return (-1);
	return (0);
}

/* eng_mail - MAIL FROM: the sender, ENVID and SIZE */
enum htg_verdict
eng_mail(struct htg_msg *msg, const char *addr, char *const *args)
{
	const char *v;
	char   *end;

	msg->have_mail = 1;
	eng_split_addr(addr, msg->sender, sizeof(msg->sender), NULL, NULL);
	msg->null_sender = (msg->sender[0] == 0);
	if ((v = esmtp_arg(args, "ENVID")) != NULL)
		g_strlcpy(msg->envid, v, sizeof(msg->envid));
	if ((v = esmtp_arg(args, "SIZE")) != NULL) {
		msg->size_param = strtoull(v, &end, 10);
		if (*end)
			msg->size_param = 0;
	}
	return (HTG_CONTINUE);
}

/* notify bits */
#define NB_SUCCESS	0x01
#define NB_FAILURE	0x02
#define NB_DELAY	0x04
#define NB_NEVER	0x08
#define NB_OTHER	0x10

/* notify_parse - NOTIFY value to bits */
static unsigned
notify_parse(const char *v)
{
	static const struct {
		const char *name;
		unsigned bit;
	} words[] = {
		{"SUCCESS", NB_SUCCESS}, {"FAILURE", NB_FAILURE},
		{"DELAY", NB_DELAY}, {"NEVER", NB_NEVER},
	};
	unsigned bits = 0, i, found;
	gchar **parts = g_strsplit(v, ",", 8);

	for (gchar **p = parts; *p; p++) {
		for (i = 0, found = 0; i < G_N_ELEMENTS(words); i++) {
			if (g_ascii_strcasecmp(*p, words[i].name) == 0) {
				bits |= words[i].bit;
				found = 1;
			}
		}
		if (!found)
			bits |= NB_OTHER;
	}
	g_strfreev(parts);
	return (bits);
}

/* notify_text - bits to a NOTIFY value */
static void
notify_text(unsigned bits, char *buf, size_t len)
{
	buf[0] = 0;
	if (bits & NB_NEVER) {
		g_strlcpy(buf, "NEVER", len);
		return;
	}
	if (bits & NB_SUCCESS)
		g_strlcat(buf, "SUCCESS", len);
	if (bits & NB_FAILURE)
		g_strlcat(buf, *buf ? ",FAILURE" : "FAILURE", len);
	if (bits & NB_DELAY)
		g_strlcat(buf, *buf ? ",DELAY" : "DELAY", len);
}

/* notify_wanted - what NOTIFY should be; returns 1 if given is wrong */
static int
notify_wanted(const struct htg_msg *msg, const char *given, unsigned *want,
	      const char **why)
{
	unsigned bits = given ? notify_parse(given) : 0;

	if (msg->stream && msg->stream->profile == HTG_PROFILE_SINGLE_WINDOW) {
		*want = NB_SUCCESS | NB_FAILURE;
		*why = given ? "Single Window demands NOTIFY=SUCCESS,FAILURE" :
			"Single Window demands NOTIFY=SUCCESS,FAILURE; none given";
		return (bits != *want);
	}
	if (given == NULL) {
		*want = 0;
		return (0);
	}
	*why = "NOTIFY may only be SUCCESS and/or FAILURE, or NEVER";
	*want = bits & (NB_SUCCESS | NB_FAILURE | NB_NEVER);
	if ((*want & NB_NEVER) && (*want & ~NB_NEVER))
		*want &= ~NB_NEVER;
	if (*want == 0)
		*want = NB_FAILURE;
	return (bits != *want);
}

/* check_dsn - ENV-NOTIFY and ENV-ENVID for the HTG recipient */
static void
check_dsn(struct htg_msg *msg, char *const *args)
{
	const char *given = esmtp_arg(args, "NOTIFY"), *orcpt, *why = "";
	unsigned want, effective;
	char	wanttxt[64];

	effective = given ? notify_parse(given) : 0;
	if (notify_wanted(msg, given, &want, &why)) {
		notify_text(want, wanttxt, sizeof(wanttxt));
		if (eng_action(msg, RULE_ENV_NOTIFY) == HTG_ACT_FIX) {
			orcpt = esmtp_arg(args, "ORCPT");
			g_free(msg->fix_notify);
			msg->fix_notify = orcpt ?
				g_strdup_printf("NOTIFY=%s ORCPT=%s", wanttxt, orcpt) :
				g_strdup_printf("NOTIFY=%s", wanttxt);
			effective = want;
		}
		eng_add(msg, RULE_ENV_NOTIFY, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"%s (NOTIFY=%s%s%s)", why, given ? given : "",
			eng_action(msg, RULE_ENV_NOTIFY) == HTG_ACT_FIX ?
			", set to " : "",
			eng_action(msg, RULE_ENV_NOTIFY) == HTG_ACT_FIX ?
			wanttxt : "");
	}
	if ((effective & NB_SUCCESS) && msg->envid[0] == 0) {
		if (eng_action(msg, RULE_ENV_ENVID) == HTG_ACT_FIX) {
			g_free(msg->fix_envid);
			if ((msg->fix_envid = mimehdr_new_envid()) == NULL) {
				htg_msg_add_finding(msg, RULE_INTERNAL,
					HTG_STAGE_RCPT, "no random ENVID");
				return;
			}
			eng_add(msg, RULE_ENV_ENVID, HTG_STAGE_RCPT, HTG_ACT_NONE,
				"NOTIFY=SUCCESS without ENVID; ENVID=%s added",
				msg->fix_envid);
		} else {
			eng_add(msg, RULE_ENV_ENVID, HTG_STAGE_RCPT, HTG_ACT_NONE,
				"NOTIFY=SUCCESS without ENVID");
		}
	}
}

/* check_first_htg - the rules for the (first) HTG recipient */
static void
check_first_htg(struct htg_msg *msg, char *const *args)
{
	const struct htg_cfg *cfg = msg->cfg;
	char	tmp[ENG_ADDR_MAX];

	msg->stream = cfg_stream_find(cfg, msg->rcpt_local, msg->env);
	if (msg->stream == NULL)
		eng_add(msg, RULE_ENV_STREAM, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"%s is not a stream enabled for environment %s",
			msg->rcpt, msg->env->name);
	if (!msg->null_sender
	    && eng_split_addr(msg->sender, tmp, sizeof(tmp), NULL, NULL) < 0)
		eng_add(msg, RULE_ENV_ONE_SENDER, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"MAIL FROM:<%s> is not a full address", msg->sender);
	else if (!msg->null_sender && msg->stream) {
		msg->account = cfg_account_find(cfg, msg->sender,
			msg->sasl_user[0] ? msg->sasl_user : NULL,
			msg->stream, msg->env);
		if (msg->account == NULL)
			eng_add(msg, RULE_ENV_AUTH, HTG_STAGE_RCPT, HTG_ACT_NONE,
				"no account lets %s%s%s use %s in %s",
				msg->sender, msg->sasl_user[0] ? " (login " : "",
				msg->sasl_user[0] ? msg->sasl_user : "",
				msg->stream->name, msg->env->name);
	}
	if (cfg->size_limit && msg->size_param > cfg->size_limit)
		eng_add(msg, RULE_ENV_SIZE, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"SIZE=%llu is more than %zu bytes", msg->size_param,
			cfg->size_limit);
	if (!(msg->flags & HTG_MSG_NO_ESMTP) && !msg->null_sender)
		check_dsn(msg, args);
}

/* forget_rcpt - undo the HTG recipient state of a refused recipient */
static void
forget_rcpt(struct htg_msg *msg)
{
	msg->rcpt[0] = msg->rcpt_local[0] = 0;
	msg->env = NULL;
	msg->stream = NULL;
	msg->account = NULL;
	g_free(msg->fix_envid);
	g_free(msg->fix_notify);
	msg->fix_envid = msg->fix_notify = NULL;
}

/* eng_rcpt - one recipient */
enum htg_verdict
eng_rcpt(struct htg_msg *msg, const char *addr, char *const *args)
{
	char	a[ENG_ADDR_MAX];
	const char *at, *domain;
	const struct htg_env *env = NULL;
	int	envelope_form, defer = msg->flags & HTG_MSG_DEFER_ENVELOPE;
	size_t	mark = msg->nfindings;
	enum htg_verdict v;

	if (eng_split_addr(addr, a, sizeof(a), &at, &domain) == 0)
		env = cfg_env_by_domain(msg->cfg, domain, &envelope_form);
	if (msg->nrcpt > 0 && (env != NULL || msg->nhtg > 0)) {
		/* A second recipient of an HTG message, or HTG after others. */
		if (env != NULL && msg->nhtg > 0)
			eng_add(msg, RULE_ENV_ONE_RCPT, HTG_STAGE_RCPT, HTG_ACT_NONE,
				"second recipient %s after %s", a, msg->rcpt);
		else
			eng_add(msg, RULE_ENV_MIXED, HTG_STAGE_RCPT, HTG_ACT_NONE,
				"%s together with %s", a,
				msg->nhtg ? msg->rcpt : "another recipient");
		v = eng_verdict_since(msg, mark);
		if (v != HTG_CONTINUE && !defer)
			return (v);
		msg->nrcpt++;
		if (env != NULL)
			msg->nhtg++;
		msg->deferred_env |= (v != HTG_CONTINUE);
		return (HTG_CONTINUE);
	}
	if (env == NULL) {
		msg->nrcpt++;
		return (HTG_CONTINUE);
	}
	g_strlcpy(msg->rcpt, a, sizeof(msg->rcpt));
	g_strlcpy(msg->rcpt_local, a, sizeof(msg->rcpt_local));
	msg->rcpt_local[at - a] = 0;
	msg->env = env;
	check_first_htg(msg, args);
	v = eng_verdict_since(msg, mark);
	if (v != HTG_CONTINUE && !defer) {
		forget_rcpt(msg);
		return (v);
	}
	msg->deferred_env |= (v != HTG_CONTINUE);
	msg->nrcpt++;
	msg->nhtg++;
	return (HTG_CONTINUE);
}
