/*
 * NAME
 *	daemon - the process skeleton of htgate-milter, htgate-policyd and
 *	htgate-fetch
 * SYNOPSIS
 *	#include "daemon.h"
 *
 *	void	daemon_init(struct daemon *d, const char *prog,
 *		const char *usage, int flags);
 *	int	daemon_option(struct daemon *d, int ch, const char *arg);
 *	void	daemon_usage(const struct daemon *d);
 *	struct htg_cfg *daemon_configure(struct daemon *d,
 *		daemon_check_fn *check, const void *arg);
 *	int	daemon_reload(struct daemon *d, daemon_check_fn *check,
 *		const void *arg, void (*apply)(struct htg_cfg *cfg));
 *
 *	void	daemon_user(struct daemon *d);
 *	void	daemon_chown(const struct daemon *d, const char *path);
 *	void	daemon_become(struct daemon *d);
 *	void	daemon_end(struct daemon *d);
 *
 *	void	daemon_signals(void);
 *	int	daemon_signal_fd(void);
 *	void	daemon_sigset(sigset_t *set);
 *	enum daemon_event daemon_wait(int timeout_ms);
 *	int	daemon_stopping(void);
 * DESCRIPTION
 *	What the three long-running programs share, done one way.
 *
 *	Options (DAEMON_OPTS, handled by daemon_option(); a program adds
 *	its own letters to its getopt() string): -c FILE configuration
 *	(default SYSCONFDIR/htgate/htgate.conf), -f stay in the foreground,
 *	-h synopsis on standard output and exit 0, -l log to standard
 *	error, -n check the configuration and exit, -P PIDFILE, -u USER,
 *	-v verbose.  A usage error prints the synopsis on standard error
 *	and exits DAEMON_EXIT_USAGE (2).
 *
 *	daemon_configure() starts logging (syslog, facility mail, unless -l
 *	or -n; DAEMON_STDERR_LOG makes standard error the default), ignores
 *	SIGPIPE, loads the configuration and runs the program's own check
 *	(check may be NULL).  A configuration that does not load or pass
 *	is printed as "FILE:LINE: reason" on standard error (and logged,
 *	when logging goes to syslog) and the program exits with the
 *	check's status: DAEMON_EXIT_CONFIG (1), or DAEMON_EXIT_USAGE when
 *	the check blames an option.  With -n a good file prints exactly
 *	"FILE: configuration OK" on standard output and exits 0.
 *	daemon_reload() (SIGHUP) loads the file again, by its absolute
 *	path, and hands a good snapshot to apply(), then logs
 *	"configuration reloaded from FILE"; a bad one is logged as
 *	"config reload failed: FILE:LINE: reason; keeping the old
 *	configuration" and apply() is not called.
 *
 *	Privileges, one root policy: daemon_user() looks up -u USER (an
 *	unknown user is fatal); started as root without -u a program
 *	refuses to run unless it stays in the foreground (-f, or a program
 *	that never detaches: DAEMON_NO_DETACH), and then logs a warning.
 *	daemon_chown() gives a socket file to USER and its group (the
 *	group is how Postfix connects).  daemon_become() detaches unless
 *	in the foreground (fork, setsid, chdir /, standard input and
 *	output, and standard error unless -l, to /dev/null), writes the
 *	pid file, then becomes USER (initgroups, setgid, setuid; refuses to
 *	go on if root could be regained).  Started as USER already, -u
 *	USER is accepted; as another user it is fatal.  daemon_end()
 *	removes the pid file (if still permitted) and logs "stopped".
 *
 *	Signals: daemon_signals() installs one handler for SIGHUP, SIGTERM
 *	and SIGINT (SA_RESTART | SA_NODEFER) and unblocks them in the
 *	calling thread.  The handler only sets a flag and writes the
 *	signal number into a non-blocking self-pipe (async-signal-safe; a
 *	full pipe merges signals).  daemon_signal_fd() is the pipe's read
 *	end, for a poll() loop; daemon_wait() waits up to timeout_ms (-1:
 *	forever) for a signal and returns DAEMON_STOP after SIGTERM or
 *	SIGINT (logging "stopping on signal N"), else DAEMON_RELOAD after
 *	SIGHUP, else DAEMON_TIMEOUT; daemon_stopping() tells a long task
 *	to finish early.  daemon_sigset() fills the three signals, for a
 *	thread that must block them (htgate-milter: libmilter's threads
 *	block them, so a SIGHUP never reaches libmilter's own signal
 *	thread, which would stop the milter; see milter/main.c).
 * ERRORS
 *	Start-up errors are fatal (log_fatal(): logged, also on standard
 *	error, exit DAEMON_EXIT_CONFIG).  Exit statuses: 0 clean stop or
 *	good -n; 1 configuration or start-up error; 2 usage error.
 * OWNERSHIP
 *	struct daemon is the caller's; the strings it points to are
 *	argv's, except the absolute configuration path, freed by
 *	daemon_end().  daemon_configure() returns a snapshot with one
 *	reference for the caller.
 * THREAD SAFETY
 *	Everything but the signal handler runs in the main thread, before
 *	other threads exist or while they run independently.
 */
#ifndef HTG_DAEMON_H
#define HTG_DAEMON_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "cfg.h"

#define DAEMON_OPTS	"c:fhlnP:u:v"	/* the common getopt() letters */
#define DAEMON_ERR_MAX	1024		/* one start-up or reload error */

enum {
	DAEMON_EXIT_OK = 0,
	DAEMON_EXIT_CONFIG = 1,		/* configuration or start-up error */
	DAEMON_EXIT_USAGE = 2,		/* bad command line */
};

/* daemon_init() flags */
#define DAEMON_NO_DETACH	1	/* never detaches (htgate-fetch) */
#define DAEMON_STDERR_LOG	2	/* logs to standard error by default */

enum daemon_event {
	DAEMON_TIMEOUT = 0,
	DAEMON_RELOAD,			/* SIGHUP */
	DAEMON_STOP,			/* SIGTERM or SIGINT */
};

struct daemon {
	const char *prog;		/* "htgate-milter": log ident */
	const char *usage;		/* the synopsis, without "usage: " */
	int	flags;			/* DAEMON_NO_DETACH ... */
	const char *conf;		/* -c, as given (messages) */
	char   *conf_abs;		/* absolute: reloads after chdir("/") */
	const char *user;		/* -u */
	const char *pidfile;		/* -P */
	int	foreground;		/* -f (or a mode that cannot detach) */
	int	to_stderr;		/* -l */
	int	to_syslog;		/* htgate-fetch -s: syslog after all */
	int	check_only;		/* -n */
	int	verbose;		/* -v */
	int	quiet;			/* no "stopped" line (spawn mode) */
	int	have_user;		/* uid, gid, name below are set */
	uid_t	uid;
	gid_t	gid;
	char	name[64];		/* the user's name */
};

/*
 * A program's own check of a loaded configuration: 0 when good, else
 * the exit status (DAEMON_EXIT_CONFIG or DAEMON_EXIT_USAGE) with the
 * reason in err.
 */
typedef int daemon_check_fn(const struct htg_cfg *cfg, const void *arg,
	char *err, size_t errlen);

void	daemon_init(struct daemon *d, const char *prog, const char *usage,
	int flags);
int	daemon_option(struct daemon *d, int ch, const char *arg);
void	daemon_usage(const struct daemon *d) __attribute__((noreturn));
struct htg_cfg *daemon_configure(struct daemon *d, daemon_check_fn *check,
	const void *arg);
int	daemon_reload(struct daemon *d, daemon_check_fn *check,
	const void *arg, void (*apply)(struct htg_cfg *cfg));

void	daemon_user(struct daemon *d);
void	daemon_chown(const struct daemon *d, const char *path);
void	daemon_become(struct daemon *d);
void	daemon_end(struct daemon *d);

void	daemon_signals(void);
int	daemon_signal_fd(void);
void	daemon_sigset(sigset_t *set);
enum daemon_event daemon_wait(int timeout_ms);
int	daemon_stopping(void);

#endif
