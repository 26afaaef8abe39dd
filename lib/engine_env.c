/*
 * NAME
 *	engine_env - envelope rules: ENV-ONE-SENDER, ENV-ONE-RCPT,
 *	ENV-MIXED, ENV-ADDRESS, ENV-STREAM, ENV-AUTH, ENV-SIZE, ENV-NOTIFY,
 *	ENV-ENVID (and ENV-ENVIRONMENT at egress)
 * DESCRIPTION
 *	MAIL only records the sender and its parameters; everything is
 *	judged at RCPT, because only a recipient tells whether the message
 *	is HTG-bound (htgaddr.h: by where Postfix will route it).  A refused recipient is forgotten (the SMTP server
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

/* eng_mail - MAIL FROM: the sender, ENVID and SIZE */
enum htg_verdict
eng_mail(struct htg_msg *msg, const char *addr, char *const *args)
{
	const char *v;
	char   *end;

	msg->have_mail = 1;
	(void) htgaddr_split(addr, msg->sender, sizeof(msg->sender), NULL, NULL);
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

/*
 * notify_wanted - what NOTIFY should be; returns 1 if the given one is
 * wrong.  Single Window demands SUCCESS,FAILURE; elsewhere any RFC 3461
 * value passes (SUCCESS, FAILURE and DELAY in any mix, or NEVER alone),
 * an unknown keyword or NEVER with others does not.
 */
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
	*want = bits;
	if (given == NULL)
		return (0);
	*why = "NOTIFY is SUCCESS, FAILURE and/or DELAY, or NEVER alone";
	*want = bits & (NB_SUCCESS | NB_FAILURE | NB_DELAY | NB_NEVER);
	if ((*want & NB_NEVER) && (*want & ~NB_NEVER))
		*want &= ~NB_NEVER;
	if (*want == 0)
		*want = NB_FAILURE;
	return (bits != *want);
}

/* orcpt_of - the recipient's ORCPT as given, or rfc822;ADDRESS (RFC 3461) */
static void
orcpt_of(const struct htg_msg *msg, char *const *args, char *buf, size_t len)
{
	const char *given = esmtp_arg(args, "ORCPT"), *a = msg->rcpt_as_sent;
	size_t	n;

	if (given != NULL) {
		g_strlcpy(buf, given, len);
		return;
	}
	/* xtext: '+', '=' and anything outside '!'..'~' as +HH */
	n = g_strlcpy(buf, "rfc822;", len);
	for (; *a && n + 4 < len; a++) {
		if (*a == '+' || *a == '=' || *a < '!' || *a > '~')
			n += (size_t) g_snprintf(buf + n, len - n, "+%02X",
						 (unsigned char) *a);
		else
			buf[n++] = *a;
	}
	buf[n] = 0;
}

/*
 * set_rcpt_args - the ESMTP parameters of the recipient when the adapter
 * re-adds it (NOTIFY fix, or the address rewrite at egress): the NOTIFY
 * to use (none: NULL) and the original ORCPT, which must not change
 */
static void
set_rcpt_args(struct htg_msg *msg, char *const *args, const char *notify)
{
	char	orcpt[ENG_ARG_MAX];

	orcpt_of(msg, args, orcpt, sizeof(orcpt));
	g_free(msg->fix_notify);
	msg->fix_notify = notify && *notify ?
		g_strdup_printf("NOTIFY=%s ORCPT=%s", notify, orcpt) :
		g_strdup_printf("ORCPT=%s", orcpt);
}

/* check_dsn - ENV-NOTIFY and ENV-ENVID for the HTG recipient */
static void
check_dsn(struct htg_msg *msg, char *const *args)
{
	const char *given = esmtp_arg(args, "NOTIFY"), *why = "";
	unsigned want, effective;
	char	wanttxt[64];

	effective = given ? notify_parse(given) : 0;
	if (notify_wanted(msg, given, &want, &why)) {
		notify_text(want, wanttxt, sizeof(wanttxt));
		if (eng_action(msg, RULE_ENV_NOTIFY) == HTG_ACT_FIX) {
			set_rcpt_args(msg, args, wanttxt);
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

/*
 * route_rcpt - egress: HTG takes only the envelope form of its address
 * (MSA Tabel 3); a recipient written STREAM@htpoort.nl leaves as
 * STREAM@msa-smtp.htpoort.nl, with its NOTIFY and original ORCPT
 */
static void
route_rcpt(struct htg_msg *msg, char *const *args, int envelope_form)
{
	if (!(msg->flags & HTG_MSG_EGRESS) || envelope_form)
		return;
	g_free(msg->fix_rcpt);
	msg->fix_rcpt = g_strdup_printf("%s@%s", msg->rcpt_local,
					msg->env->envelope_domain);
	if (msg->fix_notify == NULL)
		set_rcpt_args(msg, args, esmtp_arg(args, "NOTIFY"));
}

/*
 * auth_finding - ENV-AUTH, naming the account Postfix would pick for the
 * sender (its credentials) and what that account does not allow
 */
static void
auth_finding(struct htg_msg *msg)
{
	const struct htg_account *a = cfg_account_of(msg->cfg, msg->sender,
						     msg->env);
	int	login_ok = (msg->flags & HTG_MSG_EGRESS)
		|| cfg_account_find(msg->cfg, msg->sender,
				    msg->sasl_user[0] ? msg->sasl_user : NULL,
				    NULL, msg->env) != NULL;

	if (a == NULL)
		eng_add(msg, RULE_ENV_AUTH, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"no account of %s names the sender %s", msg->env->name,
			msg->sender);
	else if (!login_ok)
		eng_add(msg, RULE_ENV_AUTH, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"account %s (whose credentials %s uses) does not allow "
			"the login %s", a->name, msg->sender,
			msg->sasl_user[0] ? msg->sasl_user : "(none)");
	else
		eng_add(msg, RULE_ENV_AUTH, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"account %s (whose credentials %s uses) does not allow "
			"stream %s", a->name, msg->sender, msg->stream->name);
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
	    && htgaddr_split(msg->sender, tmp, sizeof(tmp), NULL, NULL) < 0)
		eng_add(msg, RULE_ENV_ONE_SENDER, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"MAIL FROM:<%s> is not a full address", msg->sender);
	else if (!msg->null_sender && msg->stream) {
		msg->account = cfg_account_find(cfg, msg->sender,
			(msg->flags & HTG_MSG_EGRESS) ? cfg_sasl_unknown :
			msg->sasl_user[0] ? msg->sasl_user : NULL,
			msg->stream, msg->env);
		if (msg->account == NULL)
			auth_finding(msg);
	}
	if (htg_msg_size_limit(msg) && msg->size_param > htg_msg_size_limit(msg))
		eng_add(msg, RULE_ENV_SIZE, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"SIZE=%llu is more than %zu bytes", msg->size_param,
			htg_msg_size_limit(msg));
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
	g_free(msg->fix_rcpt);
	msg->fix_envid = msg->fix_notify = msg->fix_rcpt = NULL;
}

/* check_placement - ENV-ONE-RCPT, ENV-MIXED: this recipient among others */
static void
check_placement(struct htg_msg *msg, const struct htgaddr *ha)
{
	int	htg = ha->env != NULL || (msg->flags & HTG_MSG_EGRESS);

	if (msg->nrcpt == 0 || (!htg && msg->nhtg == 0))
		return;
	if (htg && msg->nhtg > 0)
		eng_add(msg, RULE_ENV_ONE_RCPT, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"second recipient %s after %s", ha->addr,
			msg->rcpt[0] ? msg->rcpt : "another HTG recipient");
	else
		eng_add(msg, RULE_ENV_MIXED, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"%s together with %s", ha->addr,
			msg->rcpt[0] ? msg->rcpt : "another recipient");
}

/* check_route - ENV-ADDRESS and, at egress, ENV-ENVIRONMENT */
static void
check_route(struct htg_msg *msg, const struct htgaddr *ha)
{
	if (ha->env == NULL && (msg->flags & HTG_MSG_EGRESS))
		eng_add(msg, RULE_ENV_ADDRESS, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"%s is not an HTG address, but it was routed to the "
			"HTG transport", ha->addr);
	else if (ha->env != NULL && ha->form != HTGADDR_PLAIN)
		eng_add(msg, RULE_ENV_ADDRESS, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"%s is written with %s; write %s@%s", ha->addr,
			htgaddr_form_name(ha->form), ha->local,
			ha->env->header_domain);
	if (ha->env != NULL && msg->route_env != NULL
	    && ha->env != msg->route_env)
		eng_add(msg, RULE_ENV_ENVIRONMENT, HTG_STAGE_RCPT, HTG_ACT_NONE,
			"recipient %s is %s, but this message was routed to "
			"the HTG transport of %s", ha->addr, ha->env->name,
			msg->route_env->name);
}

/*
 * eng_rcpt - one recipient.  The first HTG recipient of a transaction
 * (whatever came before it) becomes the message's recipient and is
 * judged; a refused one is forgotten again unless in defer mode, where
 * every recipient stays and its findings wait for end of message.
 */
enum htg_verdict
eng_rcpt(struct htg_msg *msg, const char *addr, char *const *args)
{
	struct htgaddr ha;
	int	defer = msg->flags & HTG_MSG_DEFER_ENVELOPE, first;
	size_t	mark = msg->nfindings;
	enum htg_verdict v;

	htgaddr_classify(msg->cfg, addr, &ha);
	(void) htgaddr_split(addr, msg->rcpt_judged, sizeof(msg->rcpt_judged),
			     NULL, NULL);
	first = ha.env != NULL && msg->rcpt[0] == 0;
	check_placement(msg, &ha);
	check_route(msg, &ha);
	if (first) {
		g_strlcpy(msg->rcpt, ha.addr, sizeof(msg->rcpt));
		g_strlcpy(msg->rcpt_local, ha.local, sizeof(msg->rcpt_local));
		(void) htgaddr_split(addr, msg->rcpt_as_sent,
				     sizeof(msg->rcpt_as_sent), NULL, NULL);
		msg->env = ha.env;
		check_first_htg(msg, args);
		route_rcpt(msg, args, ha.envelope_form);
	}
	v = eng_verdict_since(msg, mark);
	if (v != HTG_CONTINUE && !defer) {
		if (first)
			forget_rcpt(msg);
		return (v);
	}
	msg->deferred_env |= (v != HTG_CONTINUE);
	msg->nrcpt++;
	if (ha.env != NULL || (msg->flags & HTG_MSG_EGRESS))
		msg->nhtg++;
	return (HTG_CONTINUE);
}
