/*
 * NAME
 *	decide - Postfix policy requests judged by the htgate rule engine
 * SYNOPSIS
 *	#include "policyd.h"
 *
 *	void	pol_decide_init(void);
 *	void	pol_decide(struct pol_session *ses, const struct pol_req *req,
 *		char *action, size_t len);
 *	void	pol_decide_bad(const char *peer, const char *why,
 *		char *action, size_t len);
 *	void	pol_decide_expire(void);
 *	void	pol_decide_free(void);
 * DESCRIPTION
 *	The policy daemon sees only the envelope, so it drives the same
 *	engine as the milter (htg_msg_new with HTG_MSG_NO_ESMTP) through
 *	MAIL and RCPT, and its verdicts and reply texts are the milter's.
 *
 *	RCPT: Postfix's recipient_count is 0 at RCPT, so the recipients of
 *	a transaction are counted here: one engine message per `instance`
 *	attribute, fed every RCPT request of that transaction (ENV-ONE-RCPT,
 *	ENV-MIXED, ENV-STREAM, ENV-ONE-SENDER, ENV-AUTH with sender and
 *	sasl_username, ENV-SIZE from MAIL FROM SIZE=).  The first HTG
 *	recipient of a transaction also counts against its account's rate
 *	(ENV-RATE, lib/rate.c: [rules] ENV-RATE and the account's rate
 *	decide; warn = log and DUNNO, tempfail = DEFER_IF_PERMIT, reject =
 *	the rule's reply).
 *	A recipient the engine refuses is forgotten, as Postfix forgets it.
 *
 *	DATA and END-OF-MESSAGE: recipient_count is checked again (catches
 *	recipients Postfix accepted without asking us); END-OF-MESSAGE also
 *	checks the real message size (ENV-SIZE) and ends the transaction.
 *	A DATA or END-OF-MESSAGE request for an unknown transaction with a
 *	single recipient is judged from scratch.
 *
 *	Transactions live in a table bounded by POL_TXN_MAX entries and an
 *	idle time of POL_TXN_TTL seconds; a new instance on a connection
 *	ends the connection's previous transaction (SMTPD_POLICY_README).
 *	A transaction pins the configuration snapshot it started with.
 *
 *	Actions: "DUNNO" (not HTG-bound, conforming, or warnings only),
 *	"550 5.5.3 [HTG ENV-ONE-RCPT] English text / [HTG ENV-ONE-RCPT]
 *	Dutch text" (the milter's reply lines joined with " / ", since a
 *	policy reply is one line), "DEFER_IF_PERMIT 4.7.0 [HTG ENV-RATE]
 *	..." for a rate deferral, and the configured policy_default_action
 *	for a malformed request.
 *
 *	Decision record: every refusal (reject or defer) is written to the
 *	record (recorder.h) when [record] is enabled, with the action text
 *	Postfix was given as the reply, without waiting for the commit
 *	(record_write_async: the record's thread commits the daemon's rows
 *	together within RECORD_ASYNC_MS).  A DUNNO is no decision (the
 *	message goes on to the milter, which records the outcome at end
 *	of message), so it gets no row.  A row that cannot be written is
 *	logged; the refusal stands.
 * ERRORS
 *	pol_decide() always gives an action.  An internal error (the rate
 *	windows in the record unavailable, an engine failure) is the
 *	INTERNAL finding with on_internal_error's action: "451 4.3.0 [HTG
 *	INTERNAL] ..." by default, for HTG-bound recipients only (mail
 *	that is not HTG's is not held up by htgate's trouble).  A verdict
 *	without a finding to word it (never expected) still refuses, with
 *	a generic text.  pol_decide_bad() answers a malformed request with
 *	policy_default_action (DUNNO by default: the milter and the egress
 *	stage still judge the message).
 * OWNERSHIP
 *	Transactions are owned by this module; the rate windows by
 *	lib/rate.c.
 * THREAD SAFETY
 *	Not thread safe: called from the single poll() loop only.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "cfg.h"
#include "engine.h"
#include "log.h"
#include "policyd.h"
#include "rate.h"
#include "recorder.h"

#define POL_TXN_MAX	4096		/* transactions tracked at once */
#define POL_TXN_TTL	900		/* s idle; smtpd times out at 300 s */

struct pol_txn {
	char   *instance;		/* key in pol_txns (NULL: anonymous) */
	struct htg_cfg *cfg;		/* pinned snapshot */
	struct htg_msg *msg;		/* NULL until the first RCPT */
	time_t	last;			/* monotonic seconds */
};

static GHashTable *pol_txns;		/* instance -> struct pol_txn */

/* pol_now - monotonic seconds (windows must not jump with the clock) */
static time_t
pol_now(void)
{
	return ((time_t) (g_get_monotonic_time() / G_USEC_PER_SEC));
}

/* txn_free - release a transaction (GDestroyNotify) */
static void
txn_free(gpointer p)
{
	struct pol_txn *txn = p;

	htg_msg_free(txn->msg);
	cfg_unref(txn->cfg);
	g_free(txn->instance);
	g_free(txn);
}

/* pol_decide_init - empty tables */
void
pol_decide_init(void)
{
	pol_txns = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, txn_free);
}

/* pol_decide_free - drop every transaction and window */
void
pol_decide_free(void)
{
	if (pol_txns)
		g_hash_table_destroy(pol_txns);
	pol_txns = NULL;
	rate_reset();
}

/* txn_expired - g_hash_table_foreach_remove predicate */
static gboolean
txn_expired(gpointer key, gpointer value, gpointer data)
{
	const struct pol_txn *txn = value;
	const time_t *now = data;

	return (*now - txn->last > POL_TXN_TTL);
}

/* pol_decide_expire - forget transactions idle for too long */
void
pol_decide_expire(void)
{
	time_t	now = pol_now();
	guint	n;

	n = g_hash_table_foreach_remove(pol_txns, txn_expired, &now);
	if (n)
		log_debug("expired %u idle transaction(s)", n);
}

/* txn_evict_oldest - make room in a full table */
static void
txn_evict_oldest(void)
{
	GHashTableIter it;
	gpointer key, value;
	struct pol_txn *oldest = NULL;

	g_hash_table_iter_init(&it, pol_txns);
	while (g_hash_table_iter_next(&it, &key, &value)) {
		struct pol_txn *txn = value;

		if (oldest == NULL || txn->last < oldest->last)
			oldest = txn;
	}
	if (oldest) {
		log_warn("transaction table full (%d): forgetting the oldest",
			 POL_TXN_MAX);
		g_hash_table_remove(pol_txns, oldest->instance);
	}
}

/* txn_new - a transaction on the current configuration */
static struct pol_txn *
txn_new(const char *instance)
{
	struct pol_txn *txn = g_new0(struct pol_txn, 1);

	txn->instance = instance ? g_strdup(instance) : NULL;
	txn->cfg = cfg_current_get();
	txn->last = pol_now();
	return (txn);
}

/*
 * txn_open - the transaction of a request, created if create is set;
 * an anonymous one (caller frees) when the request has no instance.
 */
static struct pol_txn *
txn_open(struct pol_session *ses, const struct pol_req *req, int create)
{
	const char *inst = req->f.instance;
	struct pol_txn *txn;

	if (inst == NULL || *inst == 0 || strlen(inst) >= POL_INSTANCE_MAX)
		return (create ? txn_new(NULL) : NULL);
	if (ses->instance[0] && strcmp(ses->instance, inst) != 0)
		g_hash_table_remove(pol_txns, ses->instance);	/* ended */
	g_strlcpy(ses->instance, inst, sizeof(ses->instance));
	if ((txn = g_hash_table_lookup(pol_txns, inst)) != NULL) {
		txn->last = pol_now();
		return (txn);
	}
	if (!create)
		return (NULL);
	if (g_hash_table_size(pol_txns) >= POL_TXN_MAX) {
		pol_decide_expire();
		if (g_hash_table_size(pol_txns) >= POL_TXN_MAX)
			txn_evict_oldest();
	}
	txn = txn_new(inst);
	g_hash_table_insert(pol_txns, txn->instance, txn);
	return (txn);
}

/* txn_close - end a transaction (anonymous ones are freed) */
static void
txn_close(struct pol_session *ses, struct pol_txn *txn)
{
	if (txn->instance == NULL) {
		txn_free(txn);
		return;
	}
	if (strcmp(ses->instance, txn->instance) == 0)
		ses->instance[0] = 0;
	g_hash_table_remove(pol_txns, txn->instance);
}

/* txn_done - after a request: anonymous transactions don't outlive it */
static void
txn_done(struct pol_txn *txn)
{
	if (txn && txn->instance == NULL)
		txn_free(txn);
}

/* txn_msg - the engine message of a transaction, started with MAIL */
static struct htg_msg *
txn_msg(struct pol_txn *txn, const struct pol_req *req, int with_size)
{
	const char *v;
	char	sizearg[48];
	char   *args[2] = {NULL, NULL};

	if (txn->msg == NULL) {
		txn->msg = htg_msg_new(txn->cfg, HTG_MSG_NO_ESMTP);
		if ((v = req->f.sasl_username) != NULL && *v)
			htg_msg_set_sasl_user(txn->msg, v);
		v = req->f.size;
		if (with_size && v && *v && strspn(v, "0123456789") == strlen(v)
		    && strcmp(v, "0") != 0 && strlen(v) < 24) {
			snprintf(sizearg, sizeof(sizearg), "SIZE=%s", v);
			args[0] = sizearg;
		}
		v = req->f.sender;
		htg_msg_mail(txn->msg, v ? v : "", args);
	}
	if ((v = req->f.queue_id) != NULL && *v)
		htg_msg_set_queue_id(txn->msg, v);
	return (txn->msg);
}

/* worst - the stronger of two verdicts */
static enum htg_verdict
worst(enum htg_verdict a, enum htg_verdict b)
{
	if (a == HTG_REJECT || b == HTG_REJECT)
		return (HTG_REJECT);
	if (a == HTG_TEMPFAIL || b == HTG_TEMPFAIL)
		return (HTG_TEMPFAIL);
	return (a == HTG_ACCEPT || b == HTG_ACCEPT ? HTG_ACCEPT : HTG_CONTINUE);
}

/* action_format - the action for a verdict: DUNNO or the engine's reply */
static void
action_format(struct htg_msg *msg, enum htg_verdict v, int defer_if_permit,
	      char *out, size_t len)
{
	struct htg_reply r;
	int	i;

	if (v != HTG_REJECT && v != HTG_TEMPFAIL) {
		g_strlcpy(out, "DUNNO", len);
		return;
	}
	if (htg_msg_reply(msg, &r) == 0) {	/* a verdict has a finding */
		g_strlcpy(out, v == HTG_REJECT ? "550 5.7.1 [HTG] refused" :
			  "451 4.3.0 [HTG INTERNAL] try again later", len);
		return;
	}
	if (defer_if_permit)
		snprintf(out, len, "DEFER_IF_PERMIT %s", r.xcode);
	else
		snprintf(out, len, "%s %s", r.code, r.xcode);
	for (i = 0; i < r.nlines; i++) {
		if (strlen(out) + strlen(r.lines[i]) + 4 >= len)
			break;
		g_strlcat(out, i ? " / " : " ", len);
		g_strlcat(out, r.lines[i], len);
	}
}

/*
 * judge_rcpt - one recipient through the engine, plus ENV-RATE for the
 * first HTG recipient.  *rate_deferred is set when ENV-RATE defers.
 */
static enum htg_verdict
judge_rcpt(struct pol_txn *txn, const struct pol_req *req, int with_size,
	   int *rate_deferred)
{
	struct htg_msg *msg = txn_msg(txn, req, with_size);
	const char *rcpt = req->f.recipient;
	int	was_htg = htg_msg_is_htg(msg);
	enum htg_verdict v;

	char	err[512];

	*rate_deferred = 0;
	v = htg_msg_rcpt(msg, rcpt ? rcpt : "", NULL);
	if (v == HTG_CONTINUE && !was_htg && htg_msg_is_htg(msg)) {
		err[0] = 0;
		v = rate_check(msg, err, sizeof(err));
		if (err[0])
			log_err("%s: ENV-RATE: %s", htg_msg_queue_id(msg), err);
		*rate_deferred = (v == HTG_TEMPFAIL);
	}
	return (v);
}

/* record_refusal - the record row of a refusal ([record] on) */
static void
record_refusal(struct htg_msg *msg, const struct pol_req *req,
	       enum htg_stage stage, enum htg_verdict v, const char *action)
{
	const char *size = req->f.size;
	struct recorder_note note = {
		.daemon = "policyd", .stage = stage, .verdict = v,
		.sasl_user = req->f.sasl_username,
		.queue_id = req->f.queue_id,
		.recipient = req->f.recipient,
		.size = size && *size ? strtoll(size, NULL, 10) : -1,
		.reply_text = action,
		.async = 1,
	};
	char	err[512];

	if ((v != HTG_REJECT && v != HTG_TEMPFAIL)
	    || !recorder_enabled(htg_msg_cfg(msg)))
		return;
	if (recorder_write(msg, &note, err, sizeof(err)) < 0)
		log_err("%s: decision record not written: %s",
			htg_msg_queue_id(msg), err);
}

/* log_pass - a request that needs no decision line (debug only) */
static void
log_pass(const struct pol_session *ses, const struct pol_req *req,
	 const char *state, const char *why)
{
	char	from[300], to[300];

	log_sanitize(from, sizeof(from), req->f.sender);
	log_sanitize(to, sizeof(to), req->f.recipient);
	log_debug("%s: %s from=<%s> to=<%s>: DUNNO (%s)", ses->peer, state,
		  from, to, why);
}

/* decide_rcpt - protocol_state RCPT */
static void
decide_rcpt(struct pol_session *ses, const struct pol_req *req, char *action,
	    size_t len)
{
	struct pol_txn *txn = txn_open(ses, req, 1);
	enum htg_verdict v;
	int	deferred;

	v = judge_rcpt(txn, req, 1, &deferred);
	action_format(txn->msg, v, deferred, action, len);
	record_refusal(txn->msg, req, HTG_STAGE_RCPT, v, action);
	if (htg_msg_is_htg(txn->msg) || v != HTG_CONTINUE)
		htg_msg_log(txn->msg, HTG_STAGE_RCPT, v);
	else
		log_pass(ses, req, "RCPT", "not HTG-bound");
	if (deferred) {
		/* The deferred recipient was the transaction's first. */
		htg_msg_free(txn->msg);
		txn->msg = NULL;
	}
	txn_done(txn);
}

/* recount - DATA/END-OF-MESSAGE: Postfix's own recipient_count */
static enum htg_verdict
recount(struct htg_msg *msg, const struct pol_req *req, const char *state)
{
	const char *v = req->f.recipient_count;
	long	n = v ? strtol(v, NULL, 10) : 0;
	char	detail[HTG_DETAIL_MAX];

	/* Only recipients Postfix took without asking us are news: the
	 * engine judged (and counted) every one it saw at RCPT. */
	if (!htg_msg_is_htg(msg) || n <= 1 || n <= htg_msg_recipient_count(msg))
		return (HTG_CONTINUE);
	snprintf(detail, sizeof(detail), "%ld recipients at %s", n, state);
	return (htg_msg_add_finding(msg, RULE_ENV_ONE_RCPT, HTG_STAGE_RCPT,
				    detail));
}

/* size_check - END-OF-MESSAGE: the real size against the account's limit */
static enum htg_verdict
size_check(struct htg_msg *msg, const struct pol_req *req)
{
	const char *v = req->f.size;
	unsigned long long size = v ? strtoull(v, NULL, 10) : 0;
	char	detail[HTG_DETAIL_MAX];

	htg_msg_set_size(msg, size);	/* for the decision log line */
	if (!htg_msg_is_htg(msg) || htg_msg_size_limit(msg) == 0
	    || size <= htg_msg_size_limit(msg))
		return (HTG_CONTINUE);
	snprintf(detail, sizeof(detail), "%llu bytes is more than %zu bytes",
		 size, htg_msg_size_limit(msg));
	return (htg_msg_add_finding(msg, RULE_ENV_SIZE, HTG_STAGE_EOM, detail));
}

/*
 * decide_late - DATA (eom == 0) or END-OF-MESSAGE (eom == 1): the
 * recipient count, at END-OF-MESSAGE the size; the end of the
 * transaction at END-OF-MESSAGE.
 */
static void
decide_late(struct pol_session *ses, const struct pol_req *req, int eom,
	    char *action, size_t len)
{
	const char *state = eom ? "END-OF-MESSAGE" : "DATA";
	const char *rcpt = req->f.recipient;
	struct pol_txn *txn = txn_open(ses, req, rcpt && *rcpt);
	enum htg_verdict v = HTG_CONTINUE;
	int	deferred = 0, fresh;

	if (txn == NULL) {
		log_pass(ses, req, state, "no recipient seen");
		g_strlcpy(action, "DUNNO", len);
		return;
	}
	fresh = (txn->msg == NULL);
	txn_msg(txn, req, !eom);	/* the queue ID is known by now */
	if (fresh)		/* RCPT not seen: judge the envelope now */
		v = judge_rcpt(txn, req, !eom, &deferred);
	if (v == HTG_CONTINUE)
		v = recount(txn->msg, req, state);
	if (eom && v == HTG_CONTINUE)
		v = worst(v, size_check(txn->msg, req));
	action_format(txn->msg, v, deferred, action, len);
	record_refusal(txn->msg, req, eom ? HTG_STAGE_EOM : HTG_STAGE_RCPT, v,
		       action);
	if (eom && htg_msg_is_htg(txn->msg))
		htg_msg_log(txn->msg, HTG_STAGE_EOM,
			    v == HTG_CONTINUE ? HTG_ACCEPT : v);
	else if (v != HTG_CONTINUE)
		htg_msg_log(txn->msg, HTG_STAGE_RCPT, v);
	else
		log_pass(ses, req, state, htg_msg_is_htg(txn->msg) ?
			 "HTG-bound, nothing to decide yet" : "not HTG-bound");
	if (eom)
		txn_close(ses, txn);	/* the transaction is over */
	else
		txn_done(txn);		/* DATA may be sent again */
}

/* pol_decide - one well-formed request to an action */
void
pol_decide(struct pol_session *ses, const struct pol_req *req, char *action,
	   size_t len)
{
	const char *state = req->f.protocol_state;

	if (state == NULL)
		state = "";
	if (strcmp(state, "RCPT") == 0)
		decide_rcpt(ses, req, action, len);
	else if (strcmp(state, "DATA") == 0)
		decide_late(ses, req, 0, action, len);
	else if (strcmp(state, "END-OF-MESSAGE") == 0)
		decide_late(ses, req, 1, action, len);
	else {
		log_pass(ses, req, *state ? "other state" : "no state",
			 "nothing to judge");
		g_strlcpy(action, "DUNNO", len);
	}
}

/* pol_decide_bad - a malformed request: log and the default action */
void
pol_decide_bad(const char *peer, const char *why, char *action, size_t len)
{
	struct htg_cfg *cfg = cfg_current_get();
	const char *def = cfg && cfg->policy_default_action
		&& *cfg->policy_default_action ? cfg->policy_default_action :
		CFG_POLICY_DEFAULT_ACTION;

	log_sanitize(action, len, def);
	log_warn("%s: malformed policy request: %s; answering \"%s\"", peer,
		 why, action);
	cfg_unref(cfg);
}
