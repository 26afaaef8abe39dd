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
 *	req->f.sender, req->f.recipient, ...: the attributes decide.c uses
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
 *	server.c: sockets, the poll() loop, spawn mode, signals (the
 *	self-pipe of lib/daemon.c)
 *	int	pol_listen(const char *spec, char *err, size_t errlen);
 *	void	pol_listen_cleanup(void);
 *	int	pol_serve(const struct pol_serve_opts *opts);
 * DESCRIPTION
 *	htgate-policyd is a Postfix SMTPD policy-delegation server
 *	(SMTPD_POLICY_README): Postfix writes "name=value" lines ending with
 *	an empty line, the server answers "action=..." and an empty line,
 *	and the connection stays open for the next request.  request.c
 *	turns bytes into requests, decide.c turns a request into an action
 *	with the shared rule engine, server.c moves bytes for any number of
 *	concurrent clients without letting one block another.
 *
 *	A request is parsed once: as each attribute line is read, the ones
 *	htgate-policyd judges land in the typed struct pol_fields (req->f,
 *	named after the attributes), so decide.c never looks an attribute
 *	up by its name; pol_req_get() stays for any other attribute.
 * ERRORS
 *	pol_listen() returns -1 with a reason in err; pol_serve() -1 when
 *	poll() fails.  A malformed request is no error: req->bad and
 *	req->why, and the configured default action (SMTPD_POLICY_README).
 *	Nothing a client sends stops the daemon.
 * OWNERSHIP
 *	A struct pol_req owns copies of its attributes until
 *	pol_req_reset(); the pointers in req->f are borrowed from them.
 *	Action strings are written into caller buffers.
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

/*
 * The attributes htgate-policyd judges (SMTPD_POLICY_README), filled as
 * the request is read: the value, or NULL when the request lacks it.
 * Borrowed from pol_req.attr[], valid until pol_req_reset().
 */
struct pol_fields {
	const char *instance;		/* one per SMTP transaction */
	const char *protocol_state;	/* RCPT, DATA, END-OF-MESSAGE, ... */
	const char *queue_id;
	const char *recipient;
	const char *recipient_count;	/* 0 at RCPT */
	const char *request;		/* smtpd_access_policy */
	const char *sasl_username;
	const char *sender;
	const char *size;		/* MAIL FROM SIZE=, real size at EOM */
};

struct pol_req {
	char	line[POL_LINE_MAX + 1];	/* the line being read */
	size_t	linelen;
	struct pol_attr attr[POL_ATTR_MAX];
	int	nattr;
	struct pol_fields f;		/* parsed once, named */
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

/* server.c */
struct pol_serve_opts {
	const int *lfds;		/* listening sockets */
	int	nlfds;
	int	spawn;			/* serve one client on fd 0 / fd 1 */
	void	(*reload)(void);	/* called on SIGHUP */
};

int	pol_listen(const char *spec, char *err, size_t errlen);
void	pol_listen_cleanup(void);
int	pol_serve(const struct pol_serve_opts *opts);

#endif
