/*
 * NAME
 *	fetch.h - internal interfaces of htgate-fetch
 * SYNOPSIS
 *	#include "fetch.h"
 * DESCRIPTION
 *	htgate-fetch is split into one file per concern:
 *	net.c (TCP connect, timeouts, line I/O over an OpenSSL BIO chain,
 *	STLS/TLS with chain and host name verification), pop3.c (the POP3
 *	client), deliver.c (hand-over to the local MTA and routing),
 *	state.c (per-account lock and state file) and fetch_main.c
 *	(options, accounts, daemon loop, exit codes).
 *
 * ERRORS
 *	Every fallible function returns one of enum fetch_status and writes
 *	a reason into a caller-owned err buffer.  The reason never holds a
 *	password; text from a peer in it is sanitised with log_sanitize().
 * OWNERSHIP
 *	Structures are the caller's (struct net_conn, struct pop3), or
 *	opaque and freed by their module (struct fetch_state:
 *	state_close()); see each file.
 * THREAD SAFETY
 *	Single-threaded program; no function keeps static state except
 *	fetch_main.c (the struct daemon of lib/daemon.c, whose signal flags
 *	live there, and the configuration of daemon mode).
 */
#ifndef HTG_FETCH_H
#define HTG_FETCH_H

#include <stddef.h>
#include <glib.h>
#include <openssl/bio.h>

#include "cfg.h"

/* Outcome of an operation; larger is worse (see fetch_status_worst). */
enum fetch_status {
	FETCH_OK = 0,		/* done */
	FETCH_TEMP,		/* try again later: network, MTA down, lock */
	FETCH_FAIL,		/* needs an administrator: TLS, auth, config */
};

#define FETCH_ERRLEN	512	/* err buffers */
#define FETCH_LINE_MAX	8192	/* one POP3/SMTP protocol line */
#define FETCH_UIDL_MAX	70	/* RFC 1939: 1..70 characters */
#define FETCH_MSG_LINE_MAX (64 * 1024) /* longest message line we accept */

/* net.c: one TCP connection, optionally TLS, with a read buffer */
struct net_conn {
	int	fd;			/* socket, owned by sock BIO */
	BIO    *sock;			/* socket BIO */
	BIO    *top;			/* top of chain: sock or SSL BIO */
	void   *ssl_ctx;		/* SSL_CTX *, when TLS is on */
	int	timeout;		/* seconds per read/write */
	char	rbuf[16384];
	size_t	rpos;
	size_t	rlen;
};

int	net_connect(struct net_conn *nc, const char *host, int port,
	int timeout, char *err, size_t errlen);
int	net_starttls(struct net_conn *nc, const char *host,
	const char *ca_file, char *err, size_t errlen);
int	net_write(struct net_conn *nc, const void *data, size_t len,
	char *err, size_t errlen);
int	net_printf(struct net_conn *nc, char *err, size_t errlen,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int	net_getline(struct net_conn *nc, char *buf, size_t buflen,
	size_t *len, int *partial, char *err, size_t errlen);
void	net_close(struct net_conn *nc);

/* pop3.c: the POP3 client */
struct pop3_msg {
	unsigned num;			/* message number in this session */
	size_t	size;			/* octets, from LIST */
	char	uidl[FETCH_UIDL_MAX + 1];	/* or the key of a server
						 * without UIDL (fetch_main.c) */
};

struct pop3 {
	struct net_conn nc;
	int	open;
	int	no_uidl;		/* the server has no UIDL (pop3_list) */
};

int	pop3_open(struct pop3 *p, const char *host, int port,
	const char *ca_file, int timeout, char *err, size_t errlen);
int	pop3_login(struct pop3 *p, const char *user, const char *pass,
	char *err, size_t errlen);
int	pop3_list(struct pop3 *p, GArray *msgs, char *err, size_t errlen);
int	pop3_retr(struct pop3 *p, unsigned num, size_t max, GByteArray *out,
	int *bad, char *err, size_t errlen);
int	pop3_dele(struct pop3 *p, unsigned num, char *err, size_t errlen);
int	pop3_quit(struct pop3 *p, char *err, size_t errlen);
void	pop3_close(struct pop3 *p);

/* deliver.c: hand one message to the local MTA */
struct deliver_info {
	char	recipient[512];		/* local recipient chosen */
	char	route[128];		/* [route] name or "default" */
	char	msgid[256];		/* Message-ID, sanitised, or "-" */
	char	queue_id[64];		/* local queue id, or "-" */
};

int	deliver_inspect(const struct htg_cfg *cfg,
	const struct htg_account *acct, const GByteArray *msg,
	struct deliver_info *info, char *err, size_t errlen);
int	deliver_message(const struct htg_cfg *cfg,
	const struct htg_account *acct, const char *uidl,
	const GByteArray *msg, int timeout, struct deliver_info *info,
	char *err, size_t errlen);

/* state.c: per-account lock and state of handed-over UIDLs */
struct fetch_state;

/* state_claim(): what to do with one listed answer */
enum state_claim {
	STATE_ERROR = -1,	/* the record failed: try again later */
	STATE_NEW = 0,		/* claimed: retrieve and hand it over */
	STATE_DONE = 1,		/* handed over already: DELE only */
	STATE_BUSY = 2,		/* another htgate-fetch hands it over now */
};

int	state_open(const struct htg_cfg *cfg, const char *dir,
	const char *account, int wait, struct fetch_state **sp, char *err,
	size_t errlen);
int	state_has(const struct fetch_state *st, const char *uidl);
int	state_claim(struct fetch_state *st, const char *uidl, char *err,
	size_t errlen);
void	state_release(struct fetch_state *st);
void	state_run(struct fetch_state *st, int status);
int	state_add(struct fetch_state *st, const char *uidl,
	char *err, size_t errlen);
int	state_retain(struct fetch_state *st, const GArray *msgs,
	char *err, size_t errlen);
int	state_forget(struct fetch_state *st, const GPtrArray *uidls,
	char *err, size_t errlen);
void	state_close(struct fetch_state *st);

#endif
