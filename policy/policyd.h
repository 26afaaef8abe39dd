/*
 * NAME
 *	policyd - internal interfaces of htgate-policyd
 * SYNOPSIS
 *	#include "policyd.h"
 *
 *	request.c: the policy protocol parser (bounded, incremental)
 *	void	pol_req_init(struct pol_req *req);
 *	void	pol_req_reset(struct pol_req *req);
 *	size_t	pol_req_feed(struct pol_req *req, const char *buf, size_t len,
 *		enum pol_feed *status);
 *	const char *pol_req_get(const struct pol_req *req, const char *name);
 *
 *	decide.c: a complete request to an action, through the engine
 *	void	pol_decide_init(void);
 *	void	pol_decide_free(void);
 *	void	pol_decide(struct pol_session *ses, const struct pol_req *req,
 *		char *action, size_t len);
 *	void	pol_decide_bad(const char *peer, const char *why,
 *		char *action, size_t len);
 *	void	pol_decide_expire(void);
 *
 *	server.c: sockets, the poll() loop, spawn mode, signals
 *	int	pol_listen(const char *spec, char *err, size_t errlen);
 *	void	pol_listen_cleanup(void);
 *	void	pol_signals_init(void);
 *	int	pol_serve(const struct pol_serve_opts *opts);
 * DESCRIPTION
 *	htgate-policyd is a Postfix SMTPD policy-delegation server
 *	(SMTPD_POLICY_README): Postfix writes "name=value" lines ending with
 *	an empty line, the server answers "action=..." and an empty line,
 *	and the connection stays open for the next request.  request.c
 *	turns bytes into requests, decide.c turns a request into an action
 *	with the shared rule engine, server.c moves bytes for any number of
 *	concurrent clients without letting one block another.
 * OWNERSHIP
 *	A struct pol_req owns copies of its attributes until
 *	pol_req_reset().  Action strings are written into caller buffers.
 * THREAD SAFETY
 *	Single-threaded: everything runs in the one poll() loop.
 */
#ifndef HTG_POLICYD_H
#define HTG_POLICYD_H

#include <stddef.h>

#define POL_LINE_MAX	4096		/* one "name=value" line, without LF */
#define POL_ATTR_MAX	100		/* attributes in one request */
#define POL_WHY_MAX	160		/* reason a request is malformed */
#define POL_ACTION_MAX	1500		/* the action=... value we send */
#define POL_INSTANCE_MAX 128		/* the instance attribute we keep */

/* request.c */
enum pol_feed {
	POL_FEED_MORE = 0,		/* all input consumed, request open */
	POL_FEED_DONE,			/* a request ended (maybe malformed) */
	POL_FEED_FATAL,			/* can't resynchronise: close */
};

struct pol_attr {
	char   *name;
	char   *value;
};

struct pol_req {
	char	line[POL_LINE_MAX + 1];	/* the line being read */
	size_t	linelen;
	struct pol_attr attr[POL_ATTR_MAX];
	int	nattr;
	int	bad;			/* malformed: answer the default action */
	char	why[POL_WHY_MAX];	/* sanitised reason */
};

void	pol_req_init(struct pol_req *req);
void	pol_req_reset(struct pol_req *req);
size_t	pol_req_feed(struct pol_req *req, const char *buf, size_t len,
	enum pol_feed *status);
const char *pol_req_get(const struct pol_req *req, const char *name);

/* decide.c */
struct pol_session {
	char	peer[64];		/* for log lines: "client 7" */
	char	instance[POL_INSTANCE_MAX];	/* last transaction seen */
};

void	pol_decide_init(void);
void	pol_decide_free(void);
void	pol_decide(struct pol_session *ses, const struct pol_req *req,
	char *action, size_t len);
void	pol_decide_bad(const char *peer, const char *why, char *action,
	size_t len);
void	pol_decide_expire(void);
unsigned pol_decide_txn_count(void);

/* server.c */
struct pol_serve_opts {
	const int *lfds;		/* listening sockets */
	int	nlfds;
	int	spawn;			/* serve one client on fd 0 / fd 1 */
	void	(*reload)(void);	/* called on SIGHUP */
};

int	pol_listen(const char *spec, char *err, size_t errlen);
void	pol_listen_cleanup(void);
void	pol_signals_init(void);
int	pol_serve(const struct pol_serve_opts *opts);

#endif
