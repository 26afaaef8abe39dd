/*
 * NAME
 *	daemon - the process skeleton shared by the long-running programs
 * SYNOPSIS
 *	#include "daemon.h" (the interface is described there)
 * DESCRIPTION
 *	See daemon.h.  Start-up order in every program:
 *
 *	daemon_init(); getopt() with DAEMON_OPTS and daemon_option();
 *	daemon_configure() (exits after -n); daemon_user() (the root
 *	policy, before anything is created that USER must own); the
 *	program's sockets (daemon_chown() for a unix socket);
 *	daemon_become() (detach, pid file, drop privileges);
 *	daemon_signals(); the program's loop around daemon_wait() or a
 *	poll() on daemon_signal_fd(); daemon_end().
 * ERRORS
 *	Start-up failures are log_fatal(): exit DAEMON_EXIT_CONFIG.
 * OWNERSHIP
 *	conf_abs is allocated by daemon_configure() and freed by
 *	daemon_end().  The self-pipe lives until the process ends.
 * THREAD SAFETY
 *	Main thread only; the signal handler touches only the two flags,
 *	errno (saved) and the pipe.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "daemon.h"
#include "log.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#define DAEMON_DEFAULT_CONF	SYSCONFDIR "/htgate/htgate.conf"

static int sig_pipe[2] = {-1, -1};	/* handler -> daemon_wait() */
static volatile sig_atomic_t sig_hup;	/* a SIGHUP not yet handled */
static volatile sig_atomic_t sig_stop;	/* the SIGTERM/SIGINT, or 0 */
static int stop_logged;			/* "stopping on signal" said */

/* daemon_init - defaults before the command line */
void
daemon_init(struct daemon *d, const char *prog, const char *usage,
	    int flags)
{
	memset(d, 0, sizeof(*d));
	d->prog = prog;
	d->usage = usage;
	d->flags = flags;
	d->conf = DAEMON_DEFAULT_CONF;
	d->foreground = (flags & DAEMON_NO_DETACH) != 0;
}

/* daemon_usage - the synopsis on standard error, exit 2 */
void
daemon_usage(const struct daemon *d)
{
	fprintf(stderr, "usage: %s\n", d->usage);
	exit(DAEMON_EXIT_USAGE);
}

/* daemon_option - one of the common options; 0 if ch is not one */
int
daemon_option(struct daemon *d, int ch, const char *arg)
{
	switch (ch) {
	case 'c':
		d->conf = arg;
		break;
	case 'f':
		d->foreground = 1;
		break;
	case 'l':
		d->to_stderr = 1;
		break;
	case 'n':
		d->check_only = 1;
		break;
	case 'P':
		d->pidfile = arg;
		break;
	case 'u':
		d->user = arg;
		break;
	case 'v':
		d->verbose = 1;
		break;
	case 'h':
		printf("usage: %s\n", d->usage);
		exit(DAEMON_EXIT_OK);
	default:
		return (0);
	}
	return (1);
}

/* daemon_log_stderr - does this run log to standard error? */
static int
daemon_log_stderr(const struct daemon *d)
{
	if (d->check_only || d->to_stderr)
		return (1);
	return ((d->flags & DAEMON_STDERR_LOG) && !d->to_syslog);
}

/* daemon_load - load PATH and run the check; NULL with err and *status */
static struct htg_cfg *
daemon_load(const char *path, daemon_check_fn *check, const void *arg,
	    char *err, size_t errlen, int *status)
{
	struct htg_cfg *cfg;

	err[0] = 0;
	*status = DAEMON_EXIT_CONFIG;
	if ((cfg = cfg_load(path, err, errlen)) == NULL) {
		if (err[0] == 0)
			snprintf(err, errlen, "%s: cannot load the configuration",
				 path);
		return (NULL);
	}
	if (check != NULL && (*status = check(cfg, arg, err, errlen)) != 0) {
		cfg_unref(cfg);
		return (NULL);
	}
	return (cfg);
}

/* daemon_configure - logging, the configuration, and the -n check */
struct htg_cfg *
daemon_configure(struct daemon *d, daemon_check_fn *check, const void *arg)
{
	char	err[DAEMON_ERR_MAX];
	struct sigaction sa;
	struct htg_cfg *cfg;
	int	status;

	log_init(d->prog, daemon_log_stderr(d), d->verbose);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	(void) sigaction(SIGPIPE, &sa, NULL);	/* a peer that went away */
	if ((cfg = daemon_load(d->conf, check, arg, err, sizeof(err),
			       &status)) == NULL) {
		fprintf(stderr, "%s\n", err);
		if (!daemon_log_stderr(d))
			log_err("%s", err);
		exit(status);
	}
	if (d->check_only) {
		printf("%s: configuration OK\n", d->conf);
		cfg_unref(cfg);
		exit(DAEMON_EXIT_OK);
	}
	log_set_verbose(d->verbose || cfg->log_verbose);
	d->conf_abs = g_canonicalize_filename(d->conf, NULL);
	return (cfg);
}

/* daemon_reload - SIGHUP: apply a new snapshot only if it is good */
int
daemon_reload(struct daemon *d, daemon_check_fn *check, const void *arg,
	      void (*apply)(struct htg_cfg *cfg))
{
	char	err[DAEMON_ERR_MAX];
	struct htg_cfg *cfg;
	int	status;

	if ((cfg = daemon_load(d->conf_abs, check, arg, err, sizeof(err),
			       &status)) == NULL) {
		log_err("config reload failed: %s; keeping the old "
			"configuration", err);
		return (-1);
	}
	log_set_verbose(d->verbose || cfg->log_verbose);
	apply(cfg);
	log_info("configuration reloaded from %s", d->conf_abs);
	return (0);
}

/* daemon_user - look up -u USER; refuse root in the background without it */
void
daemon_user(struct daemon *d)
{
	struct passwd *pw;

	if (d->user == NULL) {
		if (geteuid() != 0)
			return;
		if (!d->foreground)
			log_fatal("refusing to run as root; give -u USER "
				  "(or -f to run in the foreground as root)");
		log_warn("running as root (foreground, no -u USER)");
		return;
	}
	if ((pw = getpwnam(d->user)) == NULL)
		log_fatal("-u %s: no such user", d->user);
	if (g_strlcpy(d->name, pw->pw_name, sizeof(d->name)) >= sizeof(d->name))
		log_fatal("-u %s: user name too long", d->user);
	d->uid = pw->pw_uid;
	d->gid = pw->pw_gid;
	d->have_user = 1;
}

/* daemon_chown - give a socket file to -u USER and its group */
void
daemon_chown(const struct daemon *d, const char *path)
{
	if (d->have_user && path != NULL && chown(path, d->uid, d->gid) < 0)
		log_fatal("chown %s: %s", path, strerror(errno));
}

/* daemon_detach - into the background: new session, no terminal */
static void
daemon_detach(const struct daemon *d)
{
	pid_t	pid;
	int	fd;

	fflush(NULL);
	if ((pid = fork()) < 0)
		log_fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(DAEMON_EXIT_OK);
	if (setsid() < 0)
		log_fatal("setsid: %s", strerror(errno));
	if (chdir("/") < 0)
		log_fatal("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) < 0)
		log_fatal("/dev/null: %s", strerror(errno));
	(void) dup2(fd, STDIN_FILENO);
	(void) dup2(fd, STDOUT_FILENO);
	if (!d->to_stderr)
		(void) dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		(void) close(fd);
}

/* daemon_pidfile - write our process ID, if asked */
static void
daemon_pidfile(const struct daemon *d)
{
	FILE   *fp;

	if (d->pidfile == NULL)
		return;
	if ((fp = fopen(d->pidfile, "w")) == NULL
	    || fprintf(fp, "%ld\n", (long) getpid()) < 0 || fclose(fp) != 0)
		log_fatal("cannot write pid file %s: %s", d->pidfile,
			  strerror(errno));
}

/* daemon_drop - become -u USER for good */
static void
daemon_drop(const struct daemon *d)
{
	if (!d->have_user)
		return;
	if (geteuid() != 0) {
		if (geteuid() == d->uid)
			return;			/* started as USER */
		log_fatal("cannot become user %s: not started as root",
			  d->name);
	}
	if (initgroups(d->name, d->gid) < 0 || setgid(d->gid) < 0
	    || setuid(d->uid) < 0)
		log_fatal("cannot become user %s: %s", d->name,
			  strerror(errno));
	if (d->uid != 0 && setuid(0) == 0)
		log_fatal("cannot become user %s: root could be regained",
			  d->name);
}

/* daemon_become - detach, pid file, then USER */
void
daemon_become(struct daemon *d)
{
	if (!d->foreground)
		daemon_detach(d);
	daemon_pidfile(d);
	daemon_drop(d);
}

/* daemon_end - remove the pid file (if still permitted), "stopped" */
void
daemon_end(struct daemon *d)
{
	if (d->pidfile != NULL)
		(void) unlink(d->pidfile);
	if (!d->quiet)
		log_info("stopped");
	g_free(d->conf_abs);
	d->conf_abs = NULL;
}

/* daemon_on_signal - async-signal-safe: a flag and a byte in the pipe */
static void
daemon_on_signal(int sig)
{
	unsigned char b = (unsigned char) sig;
	int	saved = errno;

	if (sig == SIGHUP)
		sig_hup = 1;
	else
		sig_stop = sig;
	if (write(sig_pipe[1], &b, 1) < 0)	/* full pipe: merged */
		b = 0;
	errno = saved;
}

/* daemon_sigset - SIGHUP, SIGTERM and SIGINT */
void
daemon_sigset(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
}

/* daemon_signals - the self-pipe and the handler, unblocked here */
void
daemon_signals(void)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
	struct sigaction sa;
	sigset_t set;
	size_t	i;

	if (pipe(sig_pipe) < 0
	    || fcntl(sig_pipe[0], F_SETFL, O_NONBLOCK) < 0
	    || fcntl(sig_pipe[1], F_SETFL, O_NONBLOCK) < 0
	    || fcntl(sig_pipe[0], F_SETFD, FD_CLOEXEC) < 0
	    || fcntl(sig_pipe[1], F_SETFD, FD_CLOEXEC) < 0)
		log_fatal("signal pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = daemon_on_signal;
	/* SA_NODEFER: not even blocked while the handler runs (milter) */
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < G_N_ELEMENTS(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			log_fatal("sigaction: %s", strerror(errno));
	daemon_sigset(&set);
	if (pthread_sigmask(SIG_UNBLOCK, &set, NULL) != 0)
		log_fatal("pthread_sigmask failed");
}

/* daemon_signal_fd - the self-pipe's read end, for poll() */
int
daemon_signal_fd(void)
{
	return (sig_pipe[0]);
}

/* daemon_stopping - has SIGTERM or SIGINT come? */
int
daemon_stopping(void)
{
	return (sig_stop != 0);
}

/* daemon_wait - a signal within timeout_ms (-1: forever), or DAEMON_TIMEOUT */
enum daemon_event
daemon_wait(int timeout_ms)
{
	struct pollfd pfd = {.fd = sig_pipe[0], .events = POLLIN};
	gint64	deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
	unsigned char buf[64];
	int	left = timeout_ms;

	for (;;) {
		if (!sig_stop && !sig_hup && poll(&pfd, 1, left) < 0
		    && errno != EINTR)
			log_fatal("poll: %s", strerror(errno));
		while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
			;
		if (sig_stop) {
			if (!stop_logged++)
				log_info("stopping on signal %d", (int) sig_stop);
			return (DAEMON_STOP);
		}
		if (sig_hup) {
			sig_hup = 0;
			return (DAEMON_RELOAD);
		}
		if (timeout_ms < 0)
			continue;
		/* a byte whose flag was already handled: wait on */
		left = (int) ((deadline - g_get_monotonic_time()) / 1000);
		if (left <= 0)
			return (DAEMON_TIMEOUT);
	}
}
