/*
 * NAME
 *	htgate-policyd - Postfix SMTPD policy server for the HTG rules
 * SYNOPSIS
 *	htgate-policyd [-fhlv] [-c FILE] [-u USER] [-P PIDFILE] -p SOCKET...
 *	htgate-policyd -s [-lv] [-c FILE] [-u USER]
 *	htgate-policyd -n [-c FILE]
 * DESCRIPTION
 *	Options, modes and process life cycle; see htgate-policyd(8).
 *	The options of lib/daemon.c (-c -f -h -l -n -P -u -v), and
 *	-p unix:/path or inet:host:port (repeatable) to listen standalone,
 *	or -s to serve one client on standard input/output (spawn(8);
 *	never detaches).
 *
 *	SIGHUP reloads the configuration (daemon_reload); a configuration
 *	that does not load is logged and the old one stays in force.
 *	Transactions in flight keep the snapshot they started with.
 * ERRORS
 *	Exit 0 on a clean stop (or a good configuration with -n), 1 on a
 *	bad configuration or a start-up error, 2 on a usage error.
 * OWNERSHIP
 *	main() holds the first snapshot until cfg_current_set() takes it.
 * THREAD SAFETY
 *	Single-threaded (the decision record has a writer thread of its
 *	own, recorder.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "daemon.h"
#include "log.h"
#include "policyd.h"
#include "recorder.h"

#define POLICYD_MAX_SOCKETS	8
#define POLICYD_USAGE \
	"htgate-policyd [-fhlv] [-c FILE] [-u USER] [-P PIDFILE] " \
	"-p unix:/path|inet:host:port ...\n" \
	"       htgate-policyd -s [-lv] [-c FILE] [-u USER]\n" \
	"       htgate-policyd -n [-c FILE]"

struct policyd_opts {
	const char *sockets[POLICYD_MAX_SOCKETS];
	int	nsockets;
	int	spawn;
};

static struct daemon dmn;
static struct policyd_opts opts;

/* parse_opts - command line to dmn and opts */
static void
parse_opts(int argc, char **argv)
{
	int	c;

	daemon_init(&dmn, "htgate-policyd", POLICYD_USAGE, 0);
	while ((c = getopt(argc, argv, DAEMON_OPTS "p:s")) != -1) {
		if (daemon_option(&dmn, c, optarg))
			continue;
		switch (c) {
		case 'p':
			if (opts.nsockets == POLICYD_MAX_SOCKETS)
				daemon_usage(&dmn);
			opts.sockets[opts.nsockets++] = optarg;
			break;
		case 's':
			opts.spawn = 1;
			break;
		default:
			daemon_usage(&dmn);
		}
	}
	if (optind != argc)
		daemon_usage(&dmn);
	if (!dmn.check_only && !opts.spawn && opts.nsockets == 0)
		daemon_usage(&dmn);
	if (opts.spawn && opts.nsockets)
		daemon_usage(&dmn);
	if (opts.spawn) {
		dmn.foreground = 1;	/* spawn(8) runs us per client */
		dmn.quiet = 1;
	}
}

/* apply - make a loaded snapshot current */
static void
apply(struct htg_cfg *cfg)
{
	cfg_current_set(cfg);
}

/* reload - SIGHUP: a new snapshot, or keep the old one and say why */
static void
reload(void)
{
	(void) daemon_reload(&dmn, NULL, NULL, apply);
}

/* main - load, listen, serve */
int
main(int argc, char **argv)
{
	struct pol_serve_opts so;
	int	lfds[POLICYD_MAX_SOCKETS];
	char	err[DAEMON_ERR_MAX];
	struct htg_cfg *cfg;
	int	i, rc;

	parse_opts(argc, argv);
	cfg = daemon_configure(&dmn, NULL, NULL);
	apply(cfg);			/* held there, also at a fatal exit */
	daemon_user(&dmn);
	for (i = 0; i < opts.nsockets; i++) {
		if ((lfds[i] = pol_listen(opts.sockets[i], err, sizeof(err))) < 0)
			log_fatal("%s", err);
		daemon_chown(&dmn, strncmp(opts.sockets[i], "unix:", 5) == 0 ?
			     opts.sockets[i] + 5 : NULL);
	}
	daemon_become(&dmn);
	daemon_signals();
	pol_decide_init();
	if (recorder_check(cfg, err, sizeof(err)) < 0)
		log_err("decision record: %s; refusals are not recorded until "
			"it can be written", err);
	if (!opts.spawn)
		log_info("ready: %d socket(s), configuration %s", opts.nsockets,
			 dmn.conf);
	memset(&so, 0, sizeof(so));
	so.lfds = lfds;
	so.nlfds = opts.nsockets;
	so.spawn = opts.spawn;
	so.reload = reload;
	rc = pol_serve(&so);
	pol_decide_free();
	recorder_shutdown();
	pol_listen_cleanup();
	cfg_current_set(NULL);
	daemon_end(&dmn);
	return (rc == 0 ? DAEMON_EXIT_OK : DAEMON_EXIT_CONFIG);
}
