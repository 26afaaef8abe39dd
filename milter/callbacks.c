/*
 * NAME
 *	callbacks - the xxfi_* callbacks of htgate-milter
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	extern struct smfiDesc mlt_desc;
 *	int	mlt_settings_init(int force_nonsmtp, const char *force_route,
 *		const char *fail_at);
 *	int	mlt_test_fail(enum mlt_point point);
 * DESCRIPTION
 *	Each callback pulls its data out of libmilter, calls the engine
 *	(engine.h) and maps the verdict with mlt_reply_verdict().  The
 *	order is SMTP's: connect, MAIL (a new engine message), RCPT, each
 *	header, end of headers, body chunks (streamed, never kept; hashed
 *	for the decision record), end of message (Message-ID and ENVID
 *	checked for uniqueness against the record, fixes applied, final
 *	log line and record row), then abort or close.
 *
 *	Non-SMTP submissions (non_smtpd_milters: mail from sendmail(1) on
 *	the relay) must never be refused at MAIL or RCPT.  Postfix's cleanup
 *	server announces them as a connection from "localhost", address
 *	127.0.0.1 (or ::1) and client port 0, which a real TCP client never
 *	has; such a connection, or every connection with option -N, judges
 *	its messages with HTG_MSG_DEFER_ENVELOPE, so envelope faults refuse
 *	the message at end of message instead.
 *
 *	A message that is not HTG-bound is accepted (SMFIS_ACCEPT) at DATA:
 *	by then every recipient is known, so a later HTG recipient
 *	(ENV-MIXED) cannot be missed, and Postfix sends none of its headers
 *	(one round trip per header less than accepting at the first header,
 *	as before issue 13).
 *
 *	The conversation with the MTA (issue 13, bench/README): htgate asks
 *	for no reply (SMFIP_NR_*) at every step where it never answers
 *	early, so Postfix sends those steps in the same write as the next
 *	one that gets a reply: connect and MAIL travel with the first RCPT,
 *	every header with the end of headers.  A header verdict is the end
 *	of headers' reply: each header still goes through the engine as it
 *	comes; the first refusal stops that (later headers are not judged,
 *	as when Postfix stopped sending them) and is the reply at end of
 *	headers.  An internal error where no reply can be given (connect,
 *	MAIL, a header) is kept and refuses at the next step that has one
 *	(RCPT, end of headers): nothing passes unchecked.  RCPT (a refused
 *	recipient is refused at once), DATA (where non-HTG mail leaves),
 *	end of headers, each body chunk (a broken 20 MB attachment is
 *	refused before the rest is sent) and end of message keep their
 *	replies.  The no-reply steps are asked for only when the MTA offers
 *	them; which were agreed is kept per connection (libmilter runs each
 *	connection's callbacks in one thread) and a callback answers
 *	SMFIS_NOREPLY only there.
 *
 *	Egress connections (milter.h, "Roles") judge every message with
 *	HTG_MSG_EGRESS and the route's environment, and at end of message
 *	claim its Message-ID and ENVID for good (recorder_unique with the
 *	message's identity as holder); ingress connections only check that
 *	they are not used yet, so a message that never reached the HTG
 *	transport (refused or deferred later, at ingress or at egress) uses
 *	nothing up.
 *
 *	Test hook: mlt_settings_init() reads the value of the environment
 *	variable HTGATE_TEST_FAIL_AT (connect, mail, rcpt, header, eoh,
 *	body or eom); that callback then behaves as if an internal error
 *	had happened.  Unset (the normal case) it costs one comparison.
 * ERRORS
 *	Every internal error (missing context, a fix libmilter refuses, an
 *	unexpected state) ends in mlt_reply_internal(): 451 4.3.0.  Out of
 *	memory is not one of them: GLib aborts the process (ctx.c) and
 *	Postfix's milter_default_action = tempfail answers for it.
 * THREAD SAFETY
 *	The settings are written once before smfi_main() starts threads;
 *	everything else is per connection.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>

#include "log.h"
#include "milter.h"
#include "recorder.h"

/* Modifications the fixes need (Message-ID, ENVID, NOTIFY, recipient,
 * Content-Disposition) and the repairs (headers, body: repair_glue.c). */
#define MLT_ACTIONS	(SMFIF_ADDHDRS | SMFIF_CHGHDRS | SMFIF_CHGFROM \
			 | SMFIF_ADDRCPT_PAR | SMFIF_DELRCPT | SMFIF_CHGBODY)
/* Events htgate has no use for. */
#define MLT_SKIP_STEPS	(SMFIP_NOHELO | SMFIP_NOUNKNOWN)
/* Steps at which htgate never answers early: no reply (issue 13). */
#define MLT_NR_STEPS	(SMFIP_NR_CONN | SMFIP_NR_MAIL | SMFIP_NR_HDR)

static int mlt_force_nonsmtp;		/* -N: every connection is non-SMTP */
static const char *mlt_force_route;	/* -E ENV: every connection egress */
static enum mlt_point mlt_fail_at;	/* HTGATE_TEST_FAIL_AT */

static const char *const mlt_point_names[] = {
	[MLT_AT_NONE] = "",
	[MLT_AT_CONNECT] = "connect",
	[MLT_AT_MAIL] = "mail",
	[MLT_AT_RCPT] = "rcpt",
	[MLT_AT_HEADER] = "header",
	[MLT_AT_EOH] = "eoh",
	[MLT_AT_BODY] = "body",
	[MLT_AT_EOM] = "eom",
};

/* mlt_settings_init - process-wide settings; -1 for a bad fail_at */
int
mlt_settings_init(int force_nonsmtp, const char *force_route,
		  const char *fail_at)
{
	size_t	i;

	mlt_force_nonsmtp = force_nonsmtp;
	mlt_force_route = force_route;
	mlt_fail_at = MLT_AT_NONE;
	if (fail_at == NULL || *fail_at == 0)
		return (0);
	for (i = 1; i < G_N_ELEMENTS(mlt_point_names); i++)
		if (strcmp(fail_at, mlt_point_names[i]) == 0) {
			mlt_fail_at = (enum mlt_point) i;
			return (0);
		}
	return (-1);
}

/* mlt_test_fail - whether the test hook fails this callback */
int
mlt_test_fail(enum mlt_point point)
{
	return (mlt_fail_at != MLT_AT_NONE && mlt_fail_at == point);
}

/* is_nonsmtp - Postfix's simulated connection for non-SMTP mail */
static int
is_nonsmtp(const char *hostname, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	if (mlt_force_nonsmtp)
		return (1);
	if (sa == NULL || hostname == NULL || strcmp(hostname, "localhost") != 0)
		return (0);
	if (sa->sa_family == AF_INET) {
		sin = (const struct sockaddr_in *) (const void *) sa;
		return (sin->sin_port == 0
			&& ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK);
	}
	if (sa->sa_family == AF_INET6) {
		sin6 = (const struct sockaddr_in6 *) (const void *) sa;
		return (sin6->sin6_port == 0
			&& IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	}
	return (0);
}

/*
 * egress_route - the environment of an egress connection ("" for any),
 * or NULL for an ingress one
 */
static const char *
egress_route(SMFICTX *ctx)
{
	const char *dn = smfi_getsymval(ctx, "{daemon_name}");
	size_t	n = strlen(MLT_EGRESS_PREFIX);

	if (mlt_force_route != NULL)
		return (mlt_force_route);
	if (dn == NULL || strncmp(dn, MLT_EGRESS_PREFIX, n) != 0)
		return (NULL);
	if (dn[n] == 0)
		return ("");
	return (dn[n] == '-' ? dn + n + 1 : NULL);
}

/* HOOK - the test hook's internal error at this point, if chosen */
#define HOOK(ctx, conn, point, stage) \
	if (mlt_test_fail(point)) \
		return (mlt_reply_internal((ctx), (conn), (stage), \
			"test hook HTGATE_TEST_FAIL_AT"))

/* open_conn - the connection, once xxfi_connect has succeeded */
static struct mlt_conn *
open_conn(SMFICTX *ctx)
{
	struct mlt_conn *conn = smfi_getpriv(ctx);

	return (conn != NULL && conn->open ? conn : NULL);
}

/* conn_nr - the no-reply steps agreed on this connection */
static unsigned long
conn_nr(SMFICTX *ctx)
{
	struct mlt_conn *conn = smfi_getpriv(ctx);

	return (conn != NULL ? conn->nr : 0);
}

/* msg_conn - the connection of a callback that needs a message */
static struct mlt_conn *
msg_conn(SMFICTX *ctx)
{
	struct mlt_conn *conn = open_conn(ctx);

	return (conn != NULL && conn->msg != NULL ? conn : NULL);
}

/* set_queue_id - take Postfix's queue ID ({i}) once it exists */
static void
set_queue_id(SMFICTX *ctx, struct mlt_conn *conn)
{
	const char *qid = smfi_getsymval(ctx, "{i}");

	if (qid == NULL)
		qid = smfi_getsymval(ctx, "i");
	if (qid != NULL)
		htg_msg_set_queue_id(conn->msg, qid);
}

/* no_reply - SMFIS_NOREPLY where the MTA agreed to step, else CONTINUE */
static sfsistat
no_reply(SMFICTX *ctx, unsigned long step)
{
	return ((conn_nr(ctx) & step) ? SMFIS_NOREPLY : SMFIS_CONTINUE);
}

/*
 * held - the refusal kept by findings of one stage that could not be
 * answered there (a no-reply step): REJECT, TEMPFAIL or CONTINUE
 */
static enum htg_verdict
held(const struct htg_msg *msg, enum htg_stage stage)
{
	const struct htg_finding *f;
	size_t	i, n = htg_msg_findings(msg, &f);
	enum htg_verdict v = HTG_CONTINUE;

	for (i = 0; i < n; i++) {
		if (f[i].stage != stage)
			continue;
		if (f[i].action == HTG_ACT_REJECT)
			return (HTG_REJECT);
		if (f[i].action == HTG_ACT_TEMPFAIL)
			v = HTG_TEMPFAIL;
	}
	return (v);
}

/*
 * unsettled - the refusal kept from MAIL or RCPT of a non-SMTP submission
 * (which cannot be refused there): an internal error there means htgate
 * does not know whether the message is HTG-bound, so it may not pass as
 * "not HTG-bound" either (fail closed)
 */
static enum htg_verdict
unsettled(const struct mlt_conn *conn)
{
	enum htg_verdict m = held(conn->msg, HTG_STAGE_MAIL);
	enum htg_verdict r = held(conn->msg, HTG_STAGE_RCPT);

	if (m == HTG_REJECT || r == HTG_REJECT)
		return (HTG_REJECT);
	return (m == HTG_TEMPFAIL || r == HTG_TEMPFAIL ? HTG_TEMPFAIL :
		HTG_CONTINUE);
}

/*
 * mlfi_data - every recipient is known: mail that is not HTG-bound leaves
 * here (SMFIS_ACCEPT, no header is sent), unless an error kept from MAIL
 * or RCPT leaves that unknown (refused at end of headers).  DATA is answered in any case:
 * with SMFIP_NODATA Postfix still sends the DATA macros without waiting
 * for a reply and the headers right after: on an inet: socket that
 * write-write-read pattern meets Nagle and the delayed ACK, 40 ms per
 * message (bench/README).
 */
static sfsistat
mlfi_data(SMFICTX *ctx)
{
	struct mlt_conn *conn = msg_conn(ctx);

	if (conn == NULL || htg_msg_is_htg(conn->msg)
	    || unsettled(conn) != HTG_CONTINUE)
		return (SMFIS_CONTINUE);
	log_debug("%s: action=accept stage=data not HTG-bound",
		  htg_msg_queue_id(conn->msg));
	return (SMFIS_ACCEPT);
}

/*
 * mlfi_negotiate - ask for the modifications and macros htgate uses.
 * libmilter offers the no-reply steps even to an MTA that does not take
 * them, and then answers CONTINUE itself where htgate returns NOREPLY:
 * an error kept from such a step is still answered at the next step that
 * has a reply (RCPT, end of headers), never dropped.
 */
static sfsistat
mlfi_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
	       unsigned long f2, unsigned long f3, unsigned long *pf0,
	       unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct mlt_conn *conn;

	if ((f0 & MLT_ACTIONS) != MLT_ACTIONS)
		log_warn("the MTA does not offer every modification htgate "
			 "needs for fixes (offered 0x%lx, needed 0x%lx)",
			 f0, (unsigned long) MLT_ACTIONS);
	*pf0 = f0 & MLT_ACTIONS;
	*pf1 = f1 & (MLT_SKIP_STEPS | MLT_NR_STEPS);
	*pf2 = *pf3 = 0;
	mlt_conn_free(smfi_getpriv(ctx));
	conn = mlt_conn_new(*pf1 & MLT_NR_STEPS);
	if (smfi_setpriv(ctx, conn) != MI_SUCCESS) {
		mlt_conn_free(conn);
		*pf1 &= ~(unsigned long) MLT_NR_STEPS;	/* reply at every step */
	}
	if (f0 & SMFIF_SETSYMLIST) {
		*pf0 |= SMFIF_SETSYMLIST;
		if (smfi_setsymlist(ctx, SMFIM_ENVFROM, "{auth_authen}") != MI_SUCCESS
		    || smfi_setsymlist(ctx, SMFIM_EOH, "{i}") != MI_SUCCESS
		    || smfi_setsymlist(ctx, SMFIM_EOM, "{i}") != MI_SUCCESS)
			log_warn("smfi_setsymlist failed; using the MTA's "
				 "default macros");
	}
	return (SMFIS_CONTINUE);
}

/*
 * connect_failed - an internal error at connect: refused now, or (no
 * reply at connect) at the first RCPT, which finds no connection context
 */
static sfsistat
connect_failed(SMFICTX *ctx, const char *why)
{
	if ((conn_nr(ctx) & SMFIP_NR_CONN) == 0)
		return (mlt_reply_internal(ctx, NULL, HTG_STAGE_CONNECT, why));
	log_err("NOQUEUE: internal error at connect (%s); refused at RCPT",
		why);
	return (SMFIS_NOREPLY);
}

/* mlfi_connect - a new connection context */
static sfsistat
mlfi_connect(SMFICTX *ctx, char *hostname, _SOCK_ADDR *hostaddr)
{
	struct mlt_conn *conn;

	if (mlt_test_fail(MLT_AT_CONNECT))
		return (connect_failed(ctx, "test hook HTGATE_TEST_FAIL_AT"));
	if ((conn = smfi_getpriv(ctx)) == NULL) {	/* no negotiation */
		conn = mlt_conn_new(0);
		if (smfi_setpriv(ctx, conn) != MI_SUCCESS) {
			mlt_conn_free(conn);
			return (connect_failed(ctx, "smfi_setpriv failed"));
		}
	}
	mlt_conn_open(conn, is_nonsmtp(hostname, hostaddr), egress_route(ctx));
	if (conn->nonsmtp)
		log_debug("non-SMTP submission: envelope faults are decided "
			  "at end of message");
	if (conn->egress)
		log_debug("egress connection for environment %s",
			  conn->route[0] ? conn->route : "(any)");
	return (no_reply(ctx, SMFIP_NR_CONN));
}

/*
 * mlfi_envfrom - MAIL FROM: a new engine message.  Without a reply at
 * MAIL an internal error is kept: no message (RCPT then finds none), or
 * an INTERNAL finding of stage MAIL that the first RCPT answers.
 */
static sfsistat
mlfi_envfrom(SMFICTX *ctx, char **argv)
{
	struct mlt_conn *conn = open_conn(ctx);
	int	nr = (conn_nr(ctx) & SMFIP_NR_MAIL) != 0;
	const char *sasl;
	enum htg_verdict v;

	if (conn == NULL)
		return (nr ? SMFIS_NOREPLY : mlt_reply_internal(ctx, NULL,
			HTG_STAGE_MAIL, "no connection context"));
	if (argv == NULL || argv[0] == NULL || mlt_msg_start(conn, argv) < 0) {
		if (!nr)
			return (mlt_reply_internal(ctx, conn, HTG_STAGE_MAIL,
						   "cannot start a message"));
		mlt_msg_reset(conn);	/* RCPT: "RCPT without a message" */
		return (SMFIS_NOREPLY);
	}
	if ((sasl = smfi_getsymval(ctx, "{auth_authen}")) != NULL) {
		htg_msg_set_sasl_user(conn->msg, sasl);
		g_strlcpy(conn->sasl, sasl, sizeof(conn->sasl));
	}
	if (mlt_test_fail(MLT_AT_MAIL)) {
		if (!nr)
			return (mlt_reply_internal(ctx, conn, HTG_STAGE_MAIL,
						   "test hook HTGATE_TEST_FAIL_AT"));
		(void) htg_msg_add_finding(conn->msg, RULE_INTERNAL,
			HTG_STAGE_MAIL, "test hook HTGATE_TEST_FAIL_AT");
		return (SMFIS_NOREPLY);
	}
	v = htg_msg_mail(conn->msg, argv[0], argv + 1);
	if (nr && v == HTG_CONTINUE)
		return (SMFIS_NOREPLY);
	/* The engine never refuses at MAIL; should it, RCPT answers. */
	return (nr ? SMFIS_NOREPLY : mlt_reply_verdict(ctx, conn,
		HTG_STAGE_MAIL, v));
}

/* mlfi_envrcpt - RCPT TO: a refusal refuses this recipient only */
static sfsistat
mlfi_envrcpt(SMFICTX *ctx, char **argv)
{
	struct mlt_conn *conn = msg_conn(ctx);
	enum htg_verdict v;

	if (conn == NULL || argv == NULL || argv[0] == NULL)
		return (mlt_reply_internal(ctx, open_conn(ctx), HTG_STAGE_RCPT,
					   "RCPT without a message"));
	HOOK(ctx, conn, MLT_AT_RCPT, HTG_STAGE_RCPT);
	mlt_msg_rcpt_judged(conn, argv[0]);
	/* An error kept from MAIL (no reply there) refuses every recipient;
	 * a non-SMTP submission keeps it for end of message. */
	if (!conn->nonsmtp && (v = held(conn->msg, HTG_STAGE_MAIL)) != HTG_CONTINUE)
		return (mlt_reply_verdict(ctx, conn, HTG_STAGE_RCPT, v));
	v = htg_msg_rcpt(conn->msg, argv[0], argv + 1);
	if (v == HTG_CONTINUE)
		mlt_msg_note_rcpt(conn, argv[0]);
	return (mlt_reply_verdict(ctx, conn, HTG_STAGE_RCPT, v));
}

/*
 * mlfi_header - one header field.  Without a reply per header (the
 * usual case) a refusal is kept as the engine's finding and answered at
 * end of headers; headers after it are not judged.
 */
static sfsistat
mlfi_header(SMFICTX *ctx, char *name, char *value)
{
	struct mlt_conn *conn = msg_conn(ctx);
	enum htg_verdict v;

	if ((conn_nr(ctx) & SMFIP_NR_HDR) == 0) {
		if (conn == NULL)
			return (mlt_reply_internal(ctx, open_conn(ctx),
				HTG_STAGE_HEADER, "header without a message"));
		HOOK(ctx, conn, MLT_AT_HEADER, HTG_STAGE_HEADER);
		if (conn->egress)
			mlt_msg_header(conn, name, value, smfi_getsymval(ctx, "i"));
		return (mlt_reply_verdict(ctx, conn, HTG_STAGE_HEADER,
					  htg_msg_header(conn->msg, name, value)));
	}
	if (conn == NULL)		/* end of headers refuses */
		return (SMFIS_NOREPLY);
	if (conn->egress)
		mlt_msg_header(conn, name, value, smfi_getsymval(ctx, "i"));
	if (!conn->nonsmtp && held(conn->msg, HTG_STAGE_HEADER) != HTG_CONTINUE)
		return (SMFIS_NOREPLY);	/* refused already */
	if (mlt_test_fail(MLT_AT_HEADER)) {
		(void) htg_msg_add_finding(conn->msg, RULE_INTERNAL,
			HTG_STAGE_HEADER, "test hook HTGATE_TEST_FAIL_AT");
		return (SMFIS_NOREPLY);
	}
	v = htg_msg_header(conn->msg, name, value);
	(void) v;			/* kept in the findings */
	return (SMFIS_NOREPLY);
}

/* mlfi_eoh - end of headers: the header rules decide (and every header) */
static sfsistat
mlfi_eoh(SMFICTX *ctx)
{
	struct mlt_conn *conn = msg_conn(ctx);
	enum htg_verdict v;

	if (conn == NULL)
		return (mlt_reply_internal(ctx, open_conn(ctx),
					   HTG_STAGE_HEADER, "EOH without a message"));
	set_queue_id(ctx, conn);
	if ((v = held(conn->msg, HTG_STAGE_HEADER)) != HTG_CONTINUE
	    && (conn_nr(ctx) & SMFIP_NR_HDR) && !conn->nonsmtp)
		return (mlt_reply_verdict(ctx, conn, HTG_STAGE_HEADER, v));
	if (!htg_msg_is_htg(conn->msg) && (v = unsettled(conn)) != HTG_CONTINUE)
		return (mlt_reply_verdict(ctx, conn, HTG_STAGE_HEADER, v));
	HOOK(ctx, conn, MLT_AT_EOH, HTG_STAGE_HEADER);
	return (mlt_reply_verdict(ctx, conn, HTG_STAGE_HEADER,
				  htg_msg_eoh(conn->msg)));
}

/* mlfi_body - one body chunk, streamed to the validators */
static sfsistat
mlfi_body(SMFICTX *ctx, unsigned char *buf, size_t len)
{
	struct mlt_conn *conn = msg_conn(ctx);

	if (conn == NULL)
		return (mlt_reply_internal(ctx, open_conn(ctx),
					   HTG_STAGE_BODY, "body without a message"));
	HOOK(ctx, conn, MLT_AT_BODY, HTG_STAGE_BODY);
	mlt_msg_body(conn, buf, len);
	mlt_repair_body(conn, buf, len);	/* kept if it may be repaired */
	return (mlt_reply_verdict(ctx, conn, HTG_STAGE_BODY,
				  htg_msg_body(conn->msg, buf, len)));
}

/* log_fix - debug line for one applied modification (sanitised) */
static void
log_fix(struct mlt_conn *conn, const char *what, const char *arg1,
	const char *arg2)
{
	char	a1[MLT_ADDR_MAX], a2[MLT_ADDR_MAX];

	log_debug("%s: fix: %s %s %s", htg_msg_queue_id(conn->msg), what,
		  log_sanitize(a1, sizeof(a1), arg1),
		  log_sanitize(a2, sizeof(a2), arg2));
}

/* apply_fixes - Message-ID, Content-Disposition, ENVID, NOTIFY, recipient;
 * NULL or what failed */
static const char *
apply_fixes(SMFICTX *ctx, struct mlt_conn *conn)
{
	const char *msgid = htg_msg_fix_msgid(conn->msg);
	const char *envid = htg_msg_fix_envid(conn->msg);
	const char *notify = htg_msg_fix_notify(conn->msg);
	const char *newrcpt = htg_msg_fix_rcpt(conn->msg), *rcpt = conn->rcpt;
	int	replace;
	const char *disp = htg_msg_fix_disposition(conn->msg, &replace);
	char	args[MLT_PARAM_MAX + HTG_DETAIL_MAX], bracketed[MLT_ADDR_MAX];
	int	n;

	if (conn->truncated && (envid != NULL || notify != NULL))
		return ("envelope address too long to rewrite");
	if (msgid != NULL) {
		if (smfi_addheader(ctx, "Message-ID", (char *) msgid) != MI_SUCCESS)
			return ("smfi_addheader(Message-ID) failed");
		log_fix(conn, "addheader", "Message-ID", msgid);
	}
	if (disp != NULL) {
		if ((replace ? smfi_chgheader(ctx, "Content-Disposition", 1,
					      (char *) disp)
		     : smfi_addheader(ctx, "Content-Disposition", (char *) disp))
		    != MI_SUCCESS)
			return ("smfi_chgheader/addheader(Content-Disposition) failed");
		log_fix(conn, replace ? "chgheader" : "addheader",
			"Content-Disposition", disp);
	}
	if (envid != NULL) {
		n = snprintf(args, sizeof(args), "%s%sENVID=%s", conn->ret,
			     conn->ret[0] ? " " : "", envid);
		if (n < 0 || (size_t) n >= sizeof(args))
			return ("ENVID too long");
		if (smfi_chgfrom(ctx, conn->sender, args) != MI_SUCCESS)
			return ("smfi_chgfrom(ENVID) failed");
		log_fix(conn, "chgfrom", conn->sender, args);
	}
	if (notify != NULL) {
		if (conn->rcpt[0] == 0)
			return ("no recipient for the NOTIFY fix");
		if (newrcpt != NULL) {
			n = snprintf(bracketed, sizeof(bracketed), "<%s>", newrcpt);
			if (n < 0 || (size_t) n >= sizeof(bracketed))
				return ("recipient too long to rewrite");
			rcpt = bracketed;
		}
		if (smfi_delrcpt(ctx, conn->rcpt) != MI_SUCCESS
		    || smfi_addrcpt_par(ctx, (char *) rcpt, (char *) notify) != MI_SUCCESS)
			return ("smfi_delrcpt/smfi_addrcpt_par failed");
		log_fix(conn, "delrcpt+addrcpt_par", rcpt, notify);
	}
	return (NULL);
}

/* mlfi_eom - end of message: final verdict, fixes, log line */
static sfsistat
mlfi_eom(SMFICTX *ctx)
{
	struct mlt_conn *conn = msg_conn(ctx);
	enum htg_verdict v, u;
	const char *failed;
	char	err[512];

	if (conn == NULL)
		return (mlt_reply_internal(ctx, open_conn(ctx),
					   HTG_STAGE_EOM, "EOM without a message"));
	set_queue_id(ctx, conn);
	mlt_msg_body_end(conn);
	HOOK(ctx, conn, MLT_AT_EOM, HTG_STAGE_EOM);
	if (conn->egress && conn->holder[0] == 0)
		return (mlt_reply_internal(ctx, conn, HTG_STAGE_EOM,
					   "no identity for the message"));
	mlt_repair_eom(conn);		/* repairs, judged again (repair_glue.c) */
	v = htg_msg_eom(conn->msg);
	/* HDR-MSGID, ENV-ENVID: unique; claimed for good at egress */
	err[0] = 0;
	if (v == HTG_ACCEPT && htg_msg_is_htg(conn->msg)
	    && (u = recorder_unique(conn->msg, conn->egress ? conn->holder : NULL,
				    err, sizeof(err))) != HTG_CONTINUE)
		v = u;
	if (err[0])
		log_err("%s: decision record: %s", htg_msg_queue_id(conn->msg),
			err);
	if (v == HTG_ACCEPT && htg_msg_is_htg(conn->msg)
	    && ((failed = apply_fixes(ctx, conn)) != NULL
		|| (failed = mlt_repair_apply(ctx, conn)) != NULL))
		return (mlt_reply_internal(ctx, conn, HTG_STAGE_EOM, failed));
	return (mlt_reply_verdict(ctx, conn, HTG_STAGE_EOM, v));
}

/* mlfi_abort - the MTA dropped the message */
static sfsistat
mlfi_abort(SMFICTX *ctx)
{
	mlt_msg_reset(smfi_getpriv(ctx));
	return (SMFIS_CONTINUE);
}

/* mlfi_close - end of connection (may come without connect) */
static sfsistat
mlfi_close(SMFICTX *ctx)
{
	mlt_conn_free(smfi_getpriv(ctx));
	(void) smfi_setpriv(ctx, NULL);
	return (SMFIS_CONTINUE);
}

struct smfiDesc mlt_desc = {
	.xxfi_name = "htgate-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = MLT_ACTIONS,
	.xxfi_connect = mlfi_connect,
	.xxfi_envfrom = mlfi_envfrom,
	.xxfi_envrcpt = mlfi_envrcpt,
	.xxfi_header = mlfi_header,
	.xxfi_eoh = mlfi_eoh,
	.xxfi_body = mlfi_body,
	.xxfi_eom = mlfi_eom,
	.xxfi_abort = mlfi_abort,
	.xxfi_close = mlfi_close,
	.xxfi_negotiate = mlfi_negotiate,
	.xxfi_data = mlfi_data,
};
