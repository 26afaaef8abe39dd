/*
 * NAME
 *	htgate-milter - Postfix milter that enforces the HTG interface rules
 * SYNOPSIS
 *	htgate-milter [-fhlNnv] [-c FILE] [-E ENV] [-p SOCKET] [-P PIDFILE]
 *		[-u USER]
 * DESCRIPTION
 *	The process around the callbacks: options, the configuration
 *	(loaded and validated before anything else; -n only checks it),
 *	the milter socket, privileges, daemonizing, the pid file, signals
 *	and smfi_main().  See htgate-milter(8).
 *
 *	Signals: libmilter starts its own signal thread that waits for
 *	SIGHUP, SIGTERM and SIGINT (sigwait) and stops the milter on any of
 *	them, while every thread libmilter creates blocks them.  To keep
 *	SIGHUP for a reload, the main thread never blocks the three: it
 *	catches them with a handler (SA_NODEFER: not even blocked while the
 *	handler runs) that only writes the signal number into a pipe, and
 *	its loop reads the pipe.  Linux delivers a process-directed signal
 *	to the main thread whenever that thread does not block it and has
 *	none pending; a second signal of the same kind while one is pending
 *	is merged with it.  So no SIGHUP ever reaches libmilter's thread,
 *	however close two of them come (tests/milter/hup.sh sends hundreds
 *	of pairs).  SIGHUP loads the configuration again and swaps it in
 *	with cfg_current_set() only if it is valid; SIGTERM and SIGINT stop
 *	the milter.
 * DIAGNOSTICS
 *	Exit 0 after a clean stop or a good -n check; 1 for a bad
 *	configuration ("FILE:LINE: reason"), bad usage or a start-up error.
 * THREAD SAFETY
 *	Everything here runs in the main thread, except run_milter().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <glib.h>

#include "log.h"
#include "milter.h"
#include "mimehdr.h"
#include "recorder.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#define MLT_DEFAULT_CONF	SYSCONFDIR "/htgate/htgate.conf"
#define MLT_DEFAULT_SOCKET	"unix:/var/spool/postfix/htgate/milter.sock"

struct mlt_opts {
	const char *conf;
	const char *socket;
	const char *user;
	const char *pidfile;
	int	foreground;
	int	check_only;
	int	verbose;
	int	to_stderr;
	int	nonsmtp;
	const char *route;		/* -E: every connection egress */
};

static struct mlt_opts opts;
static pthread_t main_thread;
static int milter_rc;

/* die - a start-up error: to standard error too (unless -l), then exit 1 */
static void __attribute__((noreturn, format(printf, 1, 2)))
die(const char *fmt, ...)
{
	char	buf[MLT_ERR_MAX];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!opts.to_stderr)
		fprintf(stderr, "htgate-milter: fatal: %s\n", buf);
	log_fatal("%s", buf);
}

/* usage - print the synopsis and exit 1 */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr, "usage: htgate-milter [-fhlNnv] [-c FILE] [-E ENV] "
		"[-p SOCKET] [-P PIDFILE] [-u USER]\n");
	exit(1);
}

/* parse_opts - the command line */
static void
parse_opts(int argc, char **argv)
{
	int	ch;

	opts.conf = MLT_DEFAULT_CONF;
	opts.socket = MLT_DEFAULT_SOCKET;
	while ((ch = getopt(argc, argv, "c:E:fhlNnP:p:u:v")) != -1) {
		switch (ch) {
		case 'c':
			opts.conf = optarg;
			break;
		case 'E':
			opts.route = optarg;
			break;
		case 'f':
			opts.foreground = 1;
			break;
		case 'l':
			opts.to_stderr = 1;
			break;
		case 'N':
			opts.nonsmtp = 1;
			break;
		case 'n':
			opts.check_only = 1;
			break;
		case 'P':
			opts.pidfile = optarg;
			break;
		case 'p':
			opts.socket = optarg;
			break;
		case 'u':
			opts.user = optarg;
			break;
		case 'v':
			opts.verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
}

/* load_config - load and validate; NULL with "FILE:LINE: reason" in err */
static struct htg_cfg *
load_config(char *err, size_t errlen)
{
	struct htg_cfg *cfg;

	err[0] = 0;
	cfg = cfg_load(opts.conf, err, errlen);
	if (cfg == NULL && err[0] == 0)
		snprintf(err, errlen, "%s: cannot load the configuration", opts.conf);
	return (cfg);
}

/* socket_path - the file of a unix: socket spec, or NULL */
static const char *
socket_path(const char *spec)
{
	if (strncmp(spec, "unix:", 5) == 0)
		return (spec + 5);
	if (strncmp(spec, "local:", 6) == 0)
		return (spec + 6);
	if (spec[0] == '/')
		return (spec);
	return (NULL);
}

/* open_socket - register the callbacks and create the listening socket */
static void
open_socket(const struct passwd *pw)
{
	const char *path = socket_path(opts.socket);
	mode_t	old;

	if (smfi_register(mlt_desc) != MI_SUCCESS)
		die("smfi_register failed");
	if (smfi_setconn((char *) opts.socket) != MI_SUCCESS)
		die("bad socket specification: %s", opts.socket);
	old = umask(0117);		/* 0660: Postfix connects through the group */
	if (smfi_opensocket(1) != MI_SUCCESS)
		die("cannot open the milter socket %s", opts.socket);
	umask(old);
	if (path != NULL && pw != NULL && chown(path, pw->pw_uid, pw->pw_gid) < 0)
		die("chown %s: %s", path, strerror(errno));
}

/* drop_privileges - become USER (after the socket exists) */
static void
drop_privileges(const struct passwd *pw)
{
	if (pw == NULL)
		return;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0
	    || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
		die("cannot become user %s: %s", pw->pw_name,
			  strerror(errno));
	if (setuid(0) == 0)
		die("could still regain root after dropping privileges");
}

/* write_pidfile - record the pid, if asked */
static void
write_pidfile(void)
{
	FILE   *fp;

	if (opts.pidfile == NULL)
		return;
	if ((fp = fopen(opts.pidfile, "w")) == NULL
	    || fprintf(fp, "%ld\n", (long) getpid()) < 0 || fclose(fp) != 0)
		die("cannot write pid file %s: %s", opts.pidfile,
			  strerror(errno));
}

/* reload - SIGHUP: swap in a new configuration only if it is valid */
static void
reload(void)
{
	char	err[MLT_ERR_MAX];
	struct htg_cfg *cfg = load_config(err, sizeof(err));

	if (cfg == NULL) {
		log_err("config reload failed: %s; keeping the old configuration",
			err);
		return;
	}
	log_set_verbose(opts.verbose || cfg->log_verbose);
	cfg_current_set(cfg);
	log_info("configuration reloaded from %s", opts.conf);
}

/* run_milter - thread: smfi_main(), then wake the main thread */
static void *
run_milter(void *arg)
{
	milter_rc = smfi_main() == MI_SUCCESS ? 0 : 1;
	pthread_kill(main_thread, SIGTERM);
	return (arg);
}

/*
 * wake_listener - libmilter's listener holds its lock while it sits in
 * poll() (up to 5 s without traffic), and smfi_stop() needs that lock.
 * A connection to our own socket (closed at once: a session libmilter
 * ends without callbacks) makes poll() return, so a stop or a restart
 * by systemd takes milliseconds.  inet6: sockets just wait.
 */
static void
wake_listener(void)
{
	const char *path = socket_path(opts.socket), *at;
	struct sockaddr_un sun;
	struct sockaddr_in sin;
	struct sockaddr *sa = NULL;
	socklen_t salen = 0;
	int	fd, family = AF_UNIX;

	memset(&sun, 0, sizeof(sun));
	memset(&sin, 0, sizeof(sin));
	if (path != NULL && strlen(path) < sizeof(sun.sun_path)) {
		sun.sun_family = AF_UNIX;
		memcpy(sun.sun_path, path, strlen(path));
		sa = (struct sockaddr *) &sun, salen = sizeof(sun);
	} else if (strncmp(opts.socket, "inet:", 5) == 0) {
		sin.sin_family = family = AF_INET;
		sin.sin_port = htons((uint16_t) atoi(opts.socket + 5));
		at = strchr(opts.socket, '@');
		if (at == NULL || inet_pton(AF_INET, at + 1, &sin.sin_addr) != 1
		    || sin.sin_addr.s_addr == htonl(INADDR_ANY))
			sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa = (struct sockaddr *) &sin, salen = sizeof(sin);
	}
	if (sa == NULL || (fd = socket(family, SOCK_STREAM, 0)) < 0)
		return;
	(void) connect(fd, sa, salen);
	(void) close(fd);
}

static volatile int stop_done;		/* set by stop_milter() */

/* stop_milter - thread: smfi_stop(), which waits for the listener lock */
static void *
stop_milter(void *arg)
{
	(void) smfi_stop();
	__atomic_store_n(&stop_done, 1, __ATOMIC_SEQ_CST);
	return (arg);
}

/* stop_quickly - smfi_stop() in a thread, waking the listener meanwhile */
static void
stop_quickly(void)
{
	pthread_t tid;
	int	i;

	if (pthread_create(&tid, NULL, stop_milter, NULL) != 0) {
		(void) smfi_stop();
		return;
	}
	for (i = 0; i < 200 && !__atomic_load_n(&stop_done, __ATOMIC_SEQ_CST); i++) {
		wake_listener();
		usleep(25000);
	}
	pthread_join(tid, NULL);
}

static int signal_pipe[2] = {-1, -1};	/* handler -> main loop */

/* on_signal - async-signal-safe: hand the signal to the main loop */
static void
on_signal(int sig)
{
	unsigned char b = (unsigned char) sig;
	int	saved = errno;

	if (write(signal_pipe[1], &b, 1) < 0)	/* full pipe: merged */
		b = 0;
	errno = saved;
}

/* catch_signals - the handler for HUP, TERM and INT in this thread */
static void
catch_signals(void)
{
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
	struct sigaction sa;
	sigset_t set;
	size_t	i;

	if (pipe(signal_pipe) < 0
	    || fcntl(signal_pipe[0], F_SETFL, O_NONBLOCK) < 0
	    || fcntl(signal_pipe[1], F_SETFL, O_NONBLOCK) < 0
	    || fcntl(signal_pipe[0], F_SETFD, FD_CLOEXEC) < 0
	    || fcntl(signal_pipe[1], F_SETFD, FD_CLOEXEC) < 0)
		die("signal pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&set);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) < 0)
			die("sigaction: %s", strerror(errno));
		sigaddset(&set, sigs[i]);
	}
	if (pthread_sigmask(SIG_UNBLOCK, &set, NULL) != 0)
		die("pthread_sigmask failed");
}

/* next_signal - wait for the next signal from the pipe */
static int
next_signal(void)
{
	struct pollfd pfd = {.fd = signal_pipe[0], .events = POLLIN};
	unsigned char b;

	for (;;) {
		if (read(signal_pipe[0], &b, 1) == 1)
			return (b);
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}

/* start_milter_thread - smfi_main() in a thread that blocks our signals */
static pthread_t
start_milter_thread(void)
{
	sigset_t set, old;
	pthread_t tid;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0)
		die("pthread_sigmask failed");
	if (pthread_create(&tid, NULL, run_milter, NULL) != 0)
		die("cannot start the milter thread");
	if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
		die("pthread_sigmask failed");
	return (tid);
}

/* serve - run the milter thread and handle signals until stopped */
static int
serve(void)
{
	pthread_t tid;
	int	sig;

	main_thread = pthread_self();
	catch_signals();
	tid = start_milter_thread();
	while ((sig = next_signal()) == SIGHUP)
		reload();
	log_info("stopping on signal %d", sig);
	stop_quickly();
	pthread_join(tid, NULL);
	return (milter_rc);
}

/* main - check or serve */
int
main(int argc, char **argv)
{
	char	err[MLT_ERR_MAX];
	struct htg_cfg *cfg;
	struct passwd *pw = NULL;
	int	rc;

	parse_opts(argc, argv);
	log_init("htgate-milter", opts.to_stderr || opts.check_only,
		 opts.verbose);
	if ((cfg = load_config(err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		if (!opts.check_only && !opts.to_stderr)
			log_err("%s", err);
		return (1);
	}
	if (opts.check_only) {
		printf("%s: OK\n", opts.conf);
		cfg_unref(cfg);
		return (0);
	}
	log_set_verbose(opts.verbose || cfg->log_verbose);
	mimehdr_init();			/* GMime, before any thread */
	if (opts.route != NULL && *opts.route
	    && cfg_env_by_name(cfg, opts.route) == NULL)
		die("-E %s: no such environment in %s", opts.route, opts.conf);
	if (mlt_settings_init(opts.nonsmtp, opts.route,
			      getenv("HTGATE_TEST_FAIL_AT")) < 0)
		die("HTGATE_TEST_FAIL_AT: unknown callback name");
	if (getenv("HTGATE_TEST_FAIL_AT") != NULL)
		log_warn("test hook active: HTGATE_TEST_FAIL_AT=%s",
			 getenv("HTGATE_TEST_FAIL_AT"));
	if (opts.user != NULL && (pw = getpwnam(opts.user)) == NULL)
		die("unknown user %s", opts.user);
	if (geteuid() == 0 && pw == NULL) {
		if (!opts.foreground)
			die("refusing to run as root; give -u USER "
				  "(or -f to run in the foreground as root)");
		log_warn("running as root (foreground, no -u USER)");
	}
	open_socket(pw);
	if (!opts.foreground && daemon(0, opts.to_stderr) < 0)
		die("daemon: %s", strerror(errno));
	write_pidfile();
	drop_privileges(pw);
	if (recorder_check(cfg, err, sizeof(err)) < 0)
		log_err("decision record: %s; HTG mail is deferred until it "
			"can be written", err);
	cfg_current_set(cfg);
	log_info("starting: config %s, socket %s%s%s%s", opts.conf, opts.socket,
		 opts.nonsmtp ? ", every connection non-SMTP (-N)" : "",
		 opts.route ? ", every connection egress for " : "",
		 opts.route ? (*opts.route ? opts.route : "any environment") : "");
	rc = serve();
	cfg_current_set(NULL);
	recorder_shutdown();
	if (opts.pidfile != NULL)
		(void) unlink(opts.pidfile);
	log_info("stopped");
	return (rc);
}
