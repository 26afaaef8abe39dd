/*
 * NAME
 *	server - sockets and the event loop of htgate-policyd
 * SYNOPSIS
 *	#include "policyd.h"
 *
 *	int	pol_listen(const char *spec, char *err, size_t errlen);
 *	void	pol_listen_cleanup(void);
 *	int	pol_serve(const struct pol_serve_opts *opts);
 * DESCRIPTION
 *	pol_listen() opens a listening socket for "unix:/path" or
 *	"inet:host:port".  A stale unix socket is replaced; the new one
 *	gets mode POL_SOCK_MODE (0660: owner and group read and write,
 *	nothing for others) whatever the caller's umask, because Postfix
 *	connects through the group and needs write permission on it.  The
 *	umask is changed around bind() only, before any thread exists.
 *	pol_serve() runs one poll() loop over the listeners and every
 *	client; all descriptors are non-blocking, so one slow or malicious
 *	client never blocks the others.  Per client at most POL_IN_MAX
 *	bytes of input wait, and input is not read while more than
 *	POL_OUT_HIGH bytes of answers wait to be written (a client that
 *	pipelines requests but never reads its answers is not served
 *	further, and is closed when idle for POL_IDLE_MAX).  A malformed
 *	request gets the default action; a line longer than POL_LINE_MAX
 *	gets the default action and the connection is closed.  At most
 *	POL_CLIENTS_MAX clients; more are refused at accept.
 *
 *	In spawn mode (opts->spawn) the one client is standard input and
 *	standard output, as spawn(8) runs it; the loop ends when it closes.
 *
 *	Signals (lib/daemon.c, installed by main() with daemon_signals()):
 *	the self-pipe (daemon_signal_fd) is one of the descriptors poll()
 *	waits for; when it is readable, daemon_wait(0) says what came:
 *	SIGHUP calls opts->reload, SIGTERM and SIGINT end the loop.
 *	SIGPIPE is ignored (daemon_configure).
 * ERRORS
 *	pol_listen() returns -1 with "spec: reason" in err.  pol_serve()
 *	returns -1 (logged) when poll() fails, else 0.  A client's read or
 *	write error closes that client only (logged with -v).
 * OWNERSHIP
 *	Clients are owned by the loop; listeners are closed (and unix
 *	socket files removed) by pol_listen_cleanup().
 * THREAD SAFETY
 *	Single-threaded.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <glib.h>

#include "daemon.h"
#include "log.h"
#include "policyd.h"

#define POL_CLIENTS_MAX	1000		/* concurrent clients */
#define POL_IN_MAX	8192		/* input waiting to be parsed */
#define POL_OUT_HIGH	16384		/* answers waiting: stop reading */
#define POL_IDLE_MAX	600		/* s without traffic: close */
#define POL_LISTEN_MAX	8		/* listening sockets */
#define POL_TICK_MS	1000		/* housekeeping interval */
#define POL_SOCK_MODE	0660		/* unix socket: owner and group rw */

struct pol_client {
	int	in_fd;
	int	out_fd;			/* same as in_fd except in spawn mode */
	struct pol_req req;
	char	in[POL_IN_MAX];
	size_t	in_len;
	GString *out;
	size_t	out_off;
	int	closing;		/* close once the output is written */
	int	dead;			/* close now */
	time_t	last;
	struct pol_session ses;
	int	pin, pout;		/* indexes into the pollfd array */
};

static char *pol_unix_paths[POL_LISTEN_MAX];
static int pol_listen_fds[POL_LISTEN_MAX];
static int pol_nlisten;
static unsigned long pol_client_seq;

/* pol_mono - monotonic seconds */
static time_t
pol_mono(void)
{
	return ((time_t) (g_get_monotonic_time() / G_USEC_PER_SEC));
}

/* set_nonblock - O_NONBLOCK and FD_CLOEXEC on a descriptor */
static int
set_nonblock(int fd, int cloexec)
{
	int	fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return (-1);
	if (cloexec && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return (-1);
	return (0);
}

/* listen_unix - a unix-domain listener, mode 0660; replaces a stale socket */
static int
listen_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t	old;
	int	fd, rc;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (*path != '/' || strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "unix:%s: need an absolute path shorter "
			 "than %zu bytes", path, sizeof(sun.sun_path));
		return (-1);
	}
	g_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "unix:%s: exists and is not a socket",
				 path);
			return (-1);
		}
		(void) unlink(path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) < 0) {
		snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
		return (-1);
	}
	/* bind() creates the file with 0777 & ~umask: make that 0660. */
	old = umask(0777 & ~POL_SOCK_MODE);
	rc = bind(fd, (struct sockaddr *) &sun, sizeof(sun));
	umask(old);
	if (rc < 0) {
		snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	/* Again explicitly: a default ACL on the directory overrides the umask. */
	if (chmod(path, POL_SOCK_MODE) < 0 || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "unix:%s: %s", path, strerror(errno));
		close(fd);
		(void) unlink(path);
		return (-1);
	}
	return (fd);
}

/* listen_inet - a TCP listener on host:port ([v6]:port allowed) */
static int
listen_inet(const char *spec, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	char	host[256];
	const char *colon = strrchr(spec, ':');
	size_t	hlen;
	int	fd = -1, on = 1, rc;

	if (colon == NULL || colon == spec || colon[1] == 0
	    || (hlen = (size_t) (colon - spec)) >= sizeof(host)) {
		snprintf(err, errlen, "inet:%s: expected inet:host:port", spec);
		return (-1);
	}
	memcpy(host, spec, hlen);
	host[hlen] = 0;
	if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
		memmove(host, host + 1, hlen - 2);
		host[hlen - 2] = 0;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		snprintf(err, errlen, "inet:%s: %s", spec, gai_strerror(rc));
		return (-1);
	}
	if ((fd = socket(res->ai_family, SOCK_STREAM, 0)) < 0
	    || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0
	    || bind(fd, res->ai_addr, res->ai_addrlen) < 0
	    || listen(fd, SOMAXCONN) < 0) {
		snprintf(err, errlen, "inet:%s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return (fd);
}

/* pol_listen - open a listener for "unix:/path" or "inet:host:port" */
int
pol_listen(const char *spec, char *err, size_t errlen)
{
	int	fd;

	if (pol_nlisten >= POL_LISTEN_MAX) {
		snprintf(err, errlen, "%s: at most %d listeners", spec,
			 POL_LISTEN_MAX);
		return (-1);
	}
	if (strncmp(spec, "unix:", 5) == 0)
		fd = listen_unix(spec + 5, err, errlen);
	else if (strncmp(spec, "inet:", 5) == 0)
		fd = listen_inet(spec + 5, err, errlen);
	else {
		snprintf(err, errlen, "%s: expected unix:/path or inet:host:port",
			 spec);
		return (-1);
	}
	if (fd < 0)
		return (-1);
	if (set_nonblock(fd, 1) < 0) {
		snprintf(err, errlen, "%s: %s", spec, strerror(errno));
		close(fd);
		return (-1);
	}
	pol_unix_paths[pol_nlisten] = strncmp(spec, "unix:", 5) == 0 ?
		g_strdup(spec + 5) : NULL;
	pol_listen_fds[pol_nlisten++] = fd;
	return (fd);
}

/* pol_listen_cleanup - close listeners, remove unix socket files */
void
pol_listen_cleanup(void)
{
	int	i;

	for (i = 0; i < pol_nlisten; i++) {
		close(pol_listen_fds[i]);
		if (pol_unix_paths[i])
			(void) unlink(pol_unix_paths[i]);
		g_free(pol_unix_paths[i]);
		pol_unix_paths[i] = NULL;
	}
	pol_nlisten = 0;
}

/* client_new - a client on in_fd/out_fd */
static struct pol_client *
client_new(int in_fd, int out_fd, const char *addr)
{
	struct pol_client *c = g_new0(struct pol_client, 1);

	c->in_fd = in_fd;
	c->out_fd = out_fd;
	c->out = g_string_sized_new(256);
	c->last = pol_mono();
	pol_req_init(&c->req);
	snprintf(c->ses.peer, sizeof(c->ses.peer), "client %lu%s%s%s",
		 ++pol_client_seq, addr ? " [" : "", addr ? addr : "",
		 addr ? "]" : "");
	return (c);
}

/* client_free - close and release a client */
static void
client_free(struct pol_client *c)
{
	pol_req_reset(&c->req);
	close(c->in_fd);
	if (c->out_fd != c->in_fd)
		close(c->out_fd);
	g_string_free(c->out, TRUE);
	g_free(c);
}

/* client_answer - queue "action=...\n\n" */
static void
client_answer(struct pol_client *c, const char *action)
{
	g_string_append(c->out, "action=");
	g_string_append(c->out, action);
	g_string_append(c->out, "\n\n");
}

/* client_process - parse waiting input into requests and answers */
static void
client_process(struct pol_client *c)
{
	char	action[POL_ACTION_MAX];
	enum pol_feed st;
	size_t	off = 0, used;

	while (off < c->in_len && !c->closing
	       && c->out->len - c->out_off < POL_OUT_HIGH) {
		used = pol_req_feed(&c->req, c->in + off, c->in_len - off, &st);
		off += used;
		if (st == POL_FEED_MORE)
			break;
		if (st == POL_FEED_FATAL) {
			pol_decide_bad(c->ses.peer, c->req.why, action,
				       sizeof(action));
			client_answer(c, action);
			c->closing = 1;
			off = c->in_len;
			break;
		}
		if (c->req.bad)
			pol_decide_bad(c->ses.peer, c->req.why, action,
				       sizeof(action));
		else
			pol_decide(&c->ses, &c->req, action, sizeof(action));
		client_answer(c, action);
		pol_req_reset(&c->req);
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
}

/* client_write - write what the socket takes */
static void
client_write(struct pol_client *c)
{
	ssize_t	n;

	while (c->out_off < c->out->len) {
		n = write(c->out_fd, c->out->str + c->out_off,
			  c->out->len - c->out_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				log_debug("%s: write: %s", c->ses.peer,
					  strerror(errno));
				c->dead = 1;
			}
			break;
		}
		c->out_off += (size_t) n;
		c->last = pol_mono();
	}
	if (c->out_off == c->out->len) {
		g_string_truncate(c->out, 0);
		c->out_off = 0;
		if (c->closing)
			c->dead = 1;
	}
}

/* client_read - read what is there, answer complete requests */
static void
client_read(struct pol_client *c)
{
	ssize_t	n;

	if (c->in_len >= sizeof(c->in))
		return;
	n = read(c->in_fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
	if (n < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			log_debug("%s: read: %s", c->ses.peer, strerror(errno));
			c->dead = 1;
		}
		return;
	}
	if (n == 0) {
		client_process(c);	/* answer what came before EOF */
		if (c->req.linelen || c->req.nattr || c->in_len)
			log_warn("%s: disconnected in the middle of a request",
				 c->ses.peer);
		else
			log_debug("%s: disconnected", c->ses.peer);
		c->closing = 1;
		c->in_len = 0;
		if (c->out->len == c->out_off)
			c->dead = 1;
		return;
	}
	c->in_len += (size_t) n;
	c->last = pol_mono();
	client_process(c);
	client_write(c);
}

/* accept_clients - take every waiting connection */
static void
accept_clients(int lfd, GPtrArray *clients)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char	addr[INET6_ADDRSTRLEN + 8];
	int	fd;

	for (;;) {
		sslen = sizeof(ss);
		fd = accept(lfd, (struct sockaddr *) &ss, &sslen);
		if (fd < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				log_warn("accept: %s", strerror(errno));
			return;
		}
		if (clients->len >= POL_CLIENTS_MAX) {
			log_warn("too many clients (%d): connection refused",
				 POL_CLIENTS_MAX);
			close(fd);
			continue;
		}
		if (set_nonblock(fd, 1) < 0) {
			log_warn("accept: %s", strerror(errno));
			close(fd);
			continue;
		}
		addr[0] = 0;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr,
				  addr, sizeof(addr));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr,
				  addr, sizeof(addr));
		g_ptr_array_add(clients, client_new(fd, fd, addr[0] ? addr : NULL));
		log_debug("%s: connected", ((struct pol_client *)
			  clients->pdata[clients->len - 1])->ses.peer);
	}
}

/* housekeeping - expire transactions, close idle clients */
static void
housekeeping(GPtrArray *clients, int spawn)
{
	time_t	now = pol_mono();
	guint	i;

	pol_decide_expire();
	if (spawn)
		return;			/* spawn(8) has its own time limits */
	for (i = 0; i < clients->len; i++) {
		struct pol_client *c = clients->pdata[i];

		if (now - c->last > POL_IDLE_MAX) {
			log_info("%s: idle for %d s, closing", c->ses.peer,
				 POL_IDLE_MAX);
			c->dead = 1;
		}
	}
}

/* pfd_add - append one pollfd; returns its index */
static int
pfd_add(GArray *pfds, int fd, short events)
{
	struct pollfd p = {.fd = fd,.events = events,.revents = 0};

	g_array_append_val(pfds, p);
	return ((int) pfds->len - 1);
}

/* poll_round - one poll() over everything; returns -1 on fatal error */
static int
poll_round(const struct pol_serve_opts *opts, GPtrArray *clients, GArray *pfds)
{
	struct pollfd *p;
	guint	i, nold;
	int	l, n;

	g_array_set_size(pfds, 0);
	pfd_add(pfds, daemon_signal_fd(), POLLIN);
	for (l = 0; l < opts->nlfds; l++)
		pfd_add(pfds, opts->lfds[l], POLLIN);
	for (i = 0; i < clients->len; i++) {
		struct pol_client *c = clients->pdata[i];
		short	ev_in = 0, ev_out = 0;

		if (!c->closing && c->in_len < sizeof(c->in)
		    && c->out->len - c->out_off < POL_OUT_HIGH)
			ev_in = POLLIN;
		if (c->out->len > c->out_off)
			ev_out = POLLOUT;
		if (c->out_fd == c->in_fd) {
			c->pin = c->pout = pfd_add(pfds, c->in_fd, ev_in | ev_out);
		} else {
			/* a closing client's input (a hung-up pipe) is ignored */
			c->pin = pfd_add(pfds, c->closing ? -1 : c->in_fd, ev_in);
			c->pout = pfd_add(pfds, c->out_fd, ev_out);
		}
	}
	n = poll((struct pollfd *) (void *) pfds->data, pfds->len, POL_TICK_MS);
	if (n < 0 && errno != EINTR)
		return (-1);
	p = (struct pollfd *) (void *) pfds->data;
	/* a signal: interrupted poll() or a byte in the self-pipe */
	if ((n < 0 || p[0].revents) && daemon_wait(0) == DAEMON_RELOAD
	    && opts->reload)
		opts->reload();
	if (n < 0 || daemon_stopping())
		return (0);
	nold = clients->len;		/* clients the pollfds are about */
	for (l = 0; l < opts->nlfds; l++)
		if (p[1 + l].revents & POLLIN)
			accept_clients(opts->lfds[l], clients);
	for (i = 0; i < nold; i++) {
		struct pol_client *c = clients->pdata[i];

		if (p[c->pout].revents & POLLOUT)
			client_write(c);
		if (p[c->pout].revents & (POLLERR | POLLNVAL))
			c->dead = 1;
		if (c->dead)
			continue;
		if (c->closing) {		/* only its answers still go out */
			if (p[c->pout].revents & POLLHUP)
				c->dead = 1;	/* ...to nobody */
			continue;
		}
		if (p[c->pin].revents & (POLLIN | POLLHUP | POLLERR)) {
			client_read(c);
		} else if (c->in_len) {
			client_process(c);	/* input held back by output */
			client_write(c);
		}
	}
	return (0);
}

/* pol_serve - the event loop; 0 on a clean stop */
int
pol_serve(const struct pol_serve_opts *opts)
{
	GPtrArray *clients = g_ptr_array_new();
	GArray *pfds = g_array_new(FALSE, FALSE, sizeof(struct pollfd));
	time_t	tick = pol_mono();
	int	rc = 0;
	guint	i;

	if (opts->spawn) {
		if (set_nonblock(0, 0) < 0 || set_nonblock(1, 0) < 0)
			log_warn("spawn: non-blocking stdin/stdout: %s",
				 strerror(errno));
		g_ptr_array_add(clients, client_new(0, 1, NULL));
		g_strlcpy(((struct pol_client *) clients->pdata[0])->ses.peer,
			  "spawn client", sizeof(((struct pol_client *)
			  clients->pdata[0])->ses.peer));
	}
	while (!daemon_stopping()) {
		if (poll_round(opts, clients, pfds) < 0) {
			log_err("poll: %s", strerror(errno));
			rc = -1;
			break;
		}
		for (i = 0; i < clients->len;) {
			struct pol_client *c = clients->pdata[i];

			if (c->dead) {
				client_free(c);
				g_ptr_array_remove_index_fast(clients, i);
			} else
				i++;
		}
		if (opts->spawn && clients->len == 0)
			break;
		if (pol_mono() - tick >= 10) {
			tick = pol_mono();
			housekeeping(clients, opts->spawn);
		}
	}
	for (i = 0; i < clients->len; i++)
		client_free(clients->pdata[i]);
	g_ptr_array_free(clients, TRUE);
	g_array_free(pfds, TRUE);
	return (rc);
}
