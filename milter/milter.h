/*
 * NAME
 *	milter.h - internal interfaces of htgate-milter
 * SYNOPSIS
 *	#include "milter.h"
 *
 *	struct mlt_conn *mlt_conn_new(int nonsmtp);
 *	void	mlt_conn_free(struct mlt_conn *conn);
 *	int	mlt_msg_start(struct mlt_conn *conn, char **argv);
 *	void	mlt_msg_reset(struct mlt_conn *conn);
 *	void	mlt_msg_note_rcpt(struct mlt_conn *conn, const char *rcpt);
void	mlt_msg_body(struct mlt_conn *conn, const void *buf, size_t len);
void	mlt_msg_body_end(struct mlt_conn *conn);
void	mlt_msg_rcpt_judged(struct mlt_conn *conn, const char *rcpt);
 *	void	mlt_msg_body(struct mlt_conn *conn, const void *buf, size_t len);
 *	void	mlt_msg_body_end(struct mlt_conn *conn);
void	mlt_msg_rcpt_judged(struct mlt_conn *conn, const char *rcpt);
 *	void	mlt_msg_rcpt_judged(struct mlt_conn *conn, const char *rcpt);
 *
 *	sfsistat mlt_reply_verdict(SMFICTX *ctx, struct mlt_conn *conn,
 *		enum htg_stage stage, enum htg_verdict v);
 *	sfsistat mlt_reply_internal(SMFICTX *ctx, struct mlt_conn *conn,
 *		enum htg_stage stage, const char *why);
 *
 *	extern struct smfiDesc mlt_desc;
 *	int	mlt_settings_init(int force_nonsmtp, const char *fail_at);
 *	int	mlt_test_fail(enum mlt_point point);
 * DESCRIPTION
 *	ctx.c owns the two levels of context (connection, message), reply.c
 *	maps engine verdicts to libmilter replies and writes the decision
 *	record (recorder.h), callbacks.c holds the
 *	xxfi_* callbacks and main.c the process: options, configuration,
 *	signals and smfi_main().
 * THREAD SAFETY
 *	libmilter runs one thread per connection; a struct mlt_conn belongs
 *	to the thread that runs its callbacks.  The settings are written
 *	once by mlt_settings_init() before smfi_main() starts any thread.
 */
#ifndef HTG_MILTER_H
#define HTG_MILTER_H

#include <libmilter/mfapi.h>

#include "cfg.h"
#include "engine.h"
#include "record.h"

#define MLT_ADDR_MAX	1024		/* an envelope address as sent */
#define MLT_PARAM_MAX	128		/* one ESMTP parameter kept (RET=) */

/* Where the test hook HTGATE_TEST_FAIL_AT can inject an internal error. */
enum mlt_point {
	MLT_AT_NONE = 0,
	MLT_AT_CONNECT,
	MLT_AT_MAIL,
	MLT_AT_RCPT,
	MLT_AT_HEADER,
	MLT_AT_EOH,
	MLT_AT_BODY,
	MLT_AT_EOM,
};

/* One SMTP connection (or one simulated non-SMTP submission). */
struct mlt_conn {
	int	nonsmtp;		/* HTG_MSG_DEFER_ENVELOPE for messages */

	/* The current message; all NULL/empty between messages. */
	struct htg_cfg *cfg;		/* snapshot pinned at MAIL, ref held */
	struct htg_msg *msg;		/* engine state */
	char	sender[MLT_ADDR_MAX];	/* MAIL FROM address as sent */
	char	ret[MLT_PARAM_MAX];	/* its RET= parameter, if any */
	char	rcpt[MLT_ADDR_MAX];	/* the HTG recipient as sent */
	int	truncated;		/* sender or rcpt did not fit */
	char	sasl[MLT_ADDR_MAX];	/* {auth_authen}: login name only */
	char	last_rcpt[MLT_ADDR_MAX];	/* the RCPT being judged */
	struct record_hash hash;	/* body SHA-256 while [record] is on */
	char	sha256[RECORD_SHA256_HEX];	/* its hex digest at EOM */
};

struct mlt_conn *mlt_conn_new(int nonsmtp);
void	mlt_conn_free(struct mlt_conn *conn);
int	mlt_msg_start(struct mlt_conn *conn, char **argv);
void	mlt_msg_reset(struct mlt_conn *conn);
void	mlt_msg_note_rcpt(struct mlt_conn *conn, const char *rcpt);
void	mlt_msg_body(struct mlt_conn *conn, const void *buf, size_t len);
void	mlt_msg_body_end(struct mlt_conn *conn);
void	mlt_msg_rcpt_judged(struct mlt_conn *conn, const char *rcpt);

sfsistat mlt_reply_verdict(SMFICTX *ctx, struct mlt_conn *conn,
	enum htg_stage stage, enum htg_verdict v);
sfsistat mlt_reply_internal(SMFICTX *ctx, struct mlt_conn *conn,
	enum htg_stage stage, const char *why);

extern struct smfiDesc mlt_desc;
int	mlt_settings_init(int force_nonsmtp, const char *fail_at);
int	mlt_test_fail(enum mlt_point point);

#endif
