/*
 * NAME
 *	htgate-policyd - Postfix SMTPD policy server for the HTG rules
 * SYNOPSIS
 *	htgate-policyd [-fl] [-c FILE] [-u USER] [-P PIDFILE] -p SOCKET...
 *	htgate-policyd -s [-l] [-c FILE]
 *	htgate-policyd -n [-c FILE]
 * DESCRIPTION
 *	Options, modes and process life cycle; see htgate-policyd(8).
 *	-p unix:/path or inet:host:port (repeatable) listens standalone,
 *	-s serves one client on standard input/output (spawn(8)), -n only
 *	checks the configuration ("FILE:LINE: reason" and exit 1 when bad).
 *	-c configuration file, -u user to run as after the sockets are
 *	open, -f stay in the foreground, -l log to standard error instead
 *	of syslog, -P pid file, -v verbose logging.
 *
 *	SIGHUP reloads the configuration; a configuration that does not
 *	load is logged and the old one stays in force.  Transactions in
 *	flight keep the snapshot they started with.
 * DIAGNOSTICS
 *	Exit 0 on a clean stop (or a good configuration with -n), 1 on a
 *	bad configuration or a start-up error, 2 on a usage error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "cfg.h"
#include "log.h"
#include "policyd.h"
#include "recorder.h"

#define POLICYD_DEFAULT_CONF	SYSCONFDIR "/htgate/htgate.conf"
#define POLICYD_MAX_SOCKETS	8

struct policyd_opts {
	char   *conf;			/* absolute path (reload after chdir) */
	const char *sockets[POLICYD_MAX_SOCKETS];
	int	nsockets;
	const char *user;
	const char *pidfile;
	int	foreground;
	int	spawn;
	int	check;
	int	to_stderr;
	int	verbose;
};

static struct policyd_opts opts;

/* usage - synopsis and exit 2 */
static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
		"usage: htgate-policyd [-flv] [-c FILE] [-u USER] [-P PIDFILE] "
		"-p unix:/path|inet:host:port ...\n"
		"       htgate-policyd -s [-lv] [-c FILE]\n"
		"       htgate-policyd -n [-c FILE]\n");
	exit(2);
}

/* parse_opts - command line to opts */
static void
parse_opts(int argc, char **argv)
{
	const char *conf = POLICYD_DEFAULT_CONF;
	int	c;

	while ((c = getopt(argc, argv, "c:fhlnp:P:su:v")) != -1) {
		switch (c) {
		case 'c':
			conf = optarg;
			break;
		case 'f':
			opts.foreground = 1;
			break;
		case 'l':
			opts.to_stderr = 1;
			break;
		case 'n':
			opts.check = 1;
			break;
		case 'p':
			if (opts.nsockets == POLICYD_MAX_SOCKETS)
				usage();
			opts.sockets[opts.nsockets++] = optarg;
			break;
		case 'P':
			opts.pidfile = optarg;
			break;
		case 's':
			opts.spawn = 1;
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
	if (!opts.check && !opts.spawn && opts.nsockets == 0)
		usage();
	if (opts.spawn && opts.nsockets)
		usage();
	opts.conf = g_canonicalize_filename(conf, NULL);
}

/* apply_cfg - make a loaded snapshot current */
static void
apply_cfg(struct htg_cfg *cfg)
{
	log_set_verbose(opts.verbose || cfg->log_verbose);
	cfg_current_set(cfg);
}

/* reload - SIGHUP: a new snapshot, or keep the old one and say why */
static void
reload(void)
{
	char	err[512];
	struct htg_cfg *cfg = cfg_load(opts.conf, err, sizeof(err));

	if (cfg == NULL) {
		log_err("reload failed, keeping the old configuration: %s", err);
		return;
	}
	apply_cfg(cfg);
	log_info("configuration reloaded from %s", opts.conf);
}

/* drop_privileges - become -u USER (only when started as root) */
static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if ((pw = getpwnam(user)) == NULL)
		log_fatal("-u %s: no such user", user);
	if (geteuid() != 0) {
		if (geteuid() != pw->pw_uid)
			log_fatal("-u %s: must be started as root", user);
		return;
	}
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0
	    || setuid(pw->pw_uid) < 0)
		log_fatal("-u %s: %s", user, strerror(errno));
	if (setuid(0) == 0)
		log_fatal("-u %s: could regain root", user);
}

/* daemonize - detach from the terminal */
static void
daemonize(void)
{
	pid_t	pid;
	int	fd;

	if ((pid = fork()) < 0)
		log_fatal("fork: %s", strerror(errno));
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		log_fatal("setsid: %s", strerror(errno));
	if (chdir("/") < 0)
		log_fatal("chdir /: %s", strerror(errno));
	if ((fd = open("/dev/null", O_RDWR)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		if (!opts.to_stderr)
			dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

/* write_pidfile - our pid, for init scripts */
static void
write_pidfile(const char *path)
{
	FILE   *fp = fopen(path, "w");

	if (fp == NULL || fprintf(fp, "%ld\n", (long) getpid()) < 0
	    || fclose(fp) != 0)
		log_fatal("pid file %s: %s", path, strerror(errno));
}

/* startup_fail - a start-up error: on stderr too (not yet detached), exit 1 */
static void __attribute__((noreturn))
startup_fail(const char *err)
{
	if (!opts.to_stderr)
		fprintf(stderr, "htgate-policyd: %s\n", err);
	log_fatal("%s", err);
}

/* main - load, listen, serve */
int
main(int argc, char **argv)
{
	struct pol_serve_opts so;
	int	lfds[POLICYD_MAX_SOCKETS];
	char	err[512];
	struct htg_cfg *cfg;
	int	i, rc;

	parse_opts(argc, argv);
	log_init("htgate-policyd", opts.to_stderr || opts.check, opts.verbose);
	if ((cfg = cfg_load(opts.conf, err, sizeof(err))) == NULL) {
		if (opts.check) {
			fprintf(stderr, "%s\n", err);
			return (1);
		}
		startup_fail(err);
	}
	if (opts.check) {
		cfg_unref(cfg);
		g_free(opts.conf);
		return (0);
	}
	apply_cfg(cfg);
	for (i = 0; i < opts.nsockets; i++)
		if ((lfds[i] = pol_listen(opts.sockets[i], err, sizeof(err))) < 0)
			startup_fail(err);
	if (!opts.foreground && !opts.spawn)
		daemonize();
	if (opts.pidfile)
		write_pidfile(opts.pidfile);
	if (opts.user)
		drop_privileges(opts.user);
	pol_signals_init();
	pol_decide_init();
	if (recorder_check(cfg, err, sizeof(err)) < 0)
		log_err("decision record: %s; refusals are not recorded until "
			"it can be written", err);
	if (!opts.spawn)
		log_info("ready: %d socket(s), configuration %s", opts.nsockets,
			 opts.conf);
	memset(&so, 0, sizeof(so));
	so.lfds = lfds;
	so.nlfds = opts.nsockets;
	so.spawn = opts.spawn;
	so.reload = reload;
	rc = pol_serve(&so);
	if (!opts.spawn)
		log_info("stopping");
	pol_decide_free();
	recorder_shutdown();
	pol_listen_cleanup();
	if (opts.pidfile)
		(void) unlink(opts.pidfile);
	cfg_current_set(NULL);
	g_free(opts.conf);
	return (rc == 0 ? 0 : 1);
}
