/*
 * NAME
 *	htgate-milter - Postfix milter that enforces the HTG interface rules
 * SYNOPSIS
 *	htgate-milter [-fhlNnv] [-c FILE] [-E ENV] [-p SOCKET] [-P PIDFILE]
 *		[-u USER]
 * DESCRIPTION
 *	The process around the callbacks: the options of lib/daemon.c and
 *	-E, -N, -p; the configuration (loaded and validated before anything
 *	else; -n only checks it), the milter socket, privileges,
 *	daemonizing, the pid file (lib/daemon.c), signals and smfi_main().
 *	See htgate-milter(8).
 *
 *	Signals: libmilter starts its own signal thread that waits for
 *	SIGHUP, SIGTERM and SIGINT (sigwait) and stops the milter on any of
 *	them, while every thread libmilter creates blocks them.  To keep
 *	SIGHUP for a reload, the main thread never blocks the three: it
 *	catches them with lib/daemon.c's handler (SA_NODEFER: not even
 *	blocked while the handler runs) that only writes the signal number
 *	into a pipe, and its loop (daemon_wait) reads the pipe.  The milter
 *	thread is created with the three blocked, so libmilter's threads
 *	inherit that.  A SIGHUP can still reach libmilter's signal thread
 *	while the main thread blocks signals for a moment or has one
 *	pending; sigwait.c takes SIGHUP out of the set that thread waits
 *	for, so it never does (tests/milter/hup.sh sends hundreds of
 *	pairs).  SIGHUP loads the configuration again and swaps it in with
 *	cfg_current_set() only if it is valid; SIGTERM and SIGINT stop the
 *	milter.
 * ERRORS
 *	Exit 0 after a clean stop or a good -n check; 1 for a bad
 *	configuration ("FILE:LINE: reason") or a start-up error; 2 for bad
 *	usage (lib/daemon.h).
 * OWNERSHIP
 *	main() holds the first configuration snapshot until
 *	cfg_current_set() takes it over.
 * THREAD SAFETY
 *	Everything here runs in the main thread, except run_milter() and
 *	stop_milter().
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include <glib.h>

#include "daemon.h"
#include "log.h"
#include "milter.h"
#include "mimehdr.h"
#include "recorder.h"

#define MLT_DEFAULT_SOCKET	"unix:/var/spool/postfix/htgate/milter.sock"
#define MLT_USAGE	"htgate-milter [-fhlNnv] [-c FILE] [-E ENV] [-p SOCKET] " \
			"[-P PIDFILE] [-u USER]"

struct mlt_opts {
	const char *socket;		/* -p */
	int	nonsmtp;		/* -N */
	const char *route;		/* -E: every connection egress */
};

static struct daemon dmn;
static struct mlt_opts opts;
static pthread_t main_thread;
static int milter_rc;

/* parse_opts - the command line */
static void
parse_opts(int argc, char **argv)
{
	int	ch;

	daemon_init(&dmn, "htgate-milter", MLT_USAGE, 0);
	opts.socket = MLT_DEFAULT_SOCKET;
	while ((ch = getopt(argc, argv, DAEMON_OPTS "E:Np:")) != -1) {
		if (daemon_option(&dmn, ch, optarg))
			continue;
		switch (ch) {
		case 'E':
			opts.route = optarg;
			break;
		case 'N':
			opts.nonsmtp = 1;
			break;
		case 'p':
			opts.socket = optarg;
			break;
		default:
			daemon_usage(&dmn);
		}
	}
	if (optind != argc)
		daemon_usage(&dmn);
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
open_socket(void)
{
	mode_t	old;

	if (smfi_register(mlt_desc) != MI_SUCCESS)
		log_fatal("smfi_register failed");
	if (smfi_setconn((char *) opts.socket) != MI_SUCCESS)
		log_fatal("bad socket specification: %s", opts.socket);
	old = umask(0117);		/* 0660: Postfix connects through the group */
	if (smfi_opensocket(1) != MI_SUCCESS)
		log_fatal("cannot open the milter socket %s", opts.socket);
	umask(old);
	daemon_chown(&dmn, socket_path(opts.socket));
}

/* apply - a reloaded snapshot becomes current */
static void
apply(struct htg_cfg *cfg)
{
	cfg_current_set(cfg);
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
 * Waking libmilter's listener.  It holds its lock while it sits in
 * poll() (up to 5 s without traffic), and smfi_stop() needs that lock.
 * A signal to the thread that runs smfi_main() (the listener) makes
 * poll() return EINTR; the listener then sees the stop and leaves, so a
 * stop or a restart by systemd takes milliseconds.  Not a connection to
 * our own socket: libmilter would start a session for it while its pool
 * of workers shuts down (ThreadSanitizer reported the race).
 */
#define WAKE_SIGNAL	SIGUSR2

static pthread_t milter_thread;		/* runs smfi_main(): the listener */

/* on_wake - the handler of WAKE_SIGNAL: interrupting poll() is all */
static void
on_wake(int sig)
{
	(void) sig;
}

/* wake_setup - WAKE_SIGNAL handled (an outside one is harmless too) */
static void
wake_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_wake;
	sa.sa_flags = SA_RESTART;	/* read()/write() of the workers go on */
	sigemptyset(&sa.sa_mask);
	if (sigaction(WAKE_SIGNAL, &sa, NULL) < 0)
		log_fatal("sigaction: %s", strerror(errno));
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
		(void) pthread_kill(milter_thread, WAKE_SIGNAL);
		usleep(25000);
	}
	pthread_join(tid, NULL);
}

/* start_milter_thread - smfi_main() in a thread that blocks our signals */
static pthread_t
start_milter_thread(void)
{
	sigset_t set, old;
	pthread_t tid;

	daemon_sigset(&set);
	if (pthread_sigmask(SIG_BLOCK, &set, &old) != 0)
		log_fatal("pthread_sigmask failed");
	if (pthread_create(&tid, NULL, run_milter, NULL) != 0)
		log_fatal("cannot start the milter thread");
	if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
		log_fatal("pthread_sigmask failed");
	return (tid);
}

/* serve - run the milter thread and handle signals until stopped */
static int
serve(void)
{
	pthread_t tid;
	enum daemon_event ev;

	main_thread = pthread_self();
	daemon_signals();
	wake_setup();
	tid = milter_thread = start_milter_thread();
	while ((ev = daemon_wait(-1)) != DAEMON_STOP)
		if (ev == DAEMON_RELOAD)
			(void) daemon_reload(&dmn, NULL, NULL, apply);
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
	int	rc;

	parse_opts(argc, argv);
	cfg = daemon_configure(&dmn, NULL, NULL);
	cfg_current_set(cfg);		/* held there, also at a fatal exit */
	mimehdr_init();			/* GMime, before any thread */
	if (opts.route != NULL && *opts.route
	    && cfg_env_by_name(cfg, opts.route) == NULL)
		log_fatal("-E %s: no such environment in %s", opts.route,
			  dmn.conf);
	if (mlt_settings_init(opts.nonsmtp, opts.route,
			      getenv("HTGATE_TEST_FAIL_AT")) < 0)
		log_fatal("HTGATE_TEST_FAIL_AT: unknown callback name");
	if (getenv("HTGATE_TEST_FAIL_AT") != NULL)
		log_warn("test hook active: HTGATE_TEST_FAIL_AT=%s",
			 getenv("HTGATE_TEST_FAIL_AT"));
	daemon_user(&dmn);
	open_socket();
	daemon_become(&dmn);
	if (recorder_check(cfg, err, sizeof(err)) < 0)
		log_err("decision record: %s; HTG mail is deferred until it "
			"can be written", err);
	log_info("starting: config %s, socket %s%s%s%s", dmn.conf, opts.socket,
		 opts.nonsmtp ? ", every connection non-SMTP (-N)" : "",
		 opts.route ? ", every connection egress for " : "",
		 opts.route ? (*opts.route ? opts.route : "any environment") : "");
	rc = serve();
	cfg_current_set(NULL);
	recorder_shutdown();
	daemon_end(&dmn);
	return (rc);
}
