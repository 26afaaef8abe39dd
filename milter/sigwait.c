/*
 * NAME
 *	sigwait - keep SIGHUP away from libmilter's signal thread
 * DESCRIPTION
 *	smfi_main() starts a thread (mi_signal_thread) that calls
 *	sigwait() for SIGHUP, SIGTERM and SIGINT and stops the milter on
 *	any of them; libmilter has no way to leave that thread out or to
 *	change its set.  htgate-milter reloads on SIGHUP (main.c), so a
 *	SIGHUP that thread takes would stop the milter instead.  The main
 *	thread, which never blocks SIGHUP, normally gets it; but while it
 *	blocks signals for a moment (glibc's pthread_create(),
 *	ThreadSanitizer's deferred signal delivery) or still has one
 *	pending, the kernel hands a process-directed SIGHUP to a thread
 *	in sigwait() for it.  Two HUPs close together then stopped the
 *	milter (tests/milter/hup.sh).
 *
 *	This definition in the executable takes precedence over the C
 *	library's for libmilter's call (the dynamic linker searches the
 *	executable first): it waits for the same set minus SIGHUP.  While
 *	that thread waits, SIGHUP stays blocked in it, as in every other
 *	libmilter thread, so a SIGHUP can only be delivered to the main
 *	thread's handler, at the latest when that thread unblocks it.
 *	Nothing else in htgate-milter calls sigwait().
 * ERRORS
 *	As sigwait(3): 0, or an error number.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>


int
sigwait(const sigset_t *restrict set, int *restrict sig)
{
	sigset_t without_hup = *set;
	int	got;

	(void) sigdelset(&without_hup, SIGHUP);
	do
		got = sigwaitinfo(&without_hup, NULL);
	while (got < 0 && errno == EINTR);
	if (got < 0)
		return (errno);
	*sig = got;
	return (0);
}
