/*
 * NAME
 *	log - syslog or stderr logging with sanitising of untrusted text
 * SYNOPSIS
 *	#include "log.h" (the interface is described there)
 * DESCRIPTION
 *	See log.h.  Syslog facility is mail, as Postfix's own lines.
 *	tests/daemon/daemon-syslog.sh reads the syslog lines from a
 *	private /dev/log.
 * ERRORS
 *	See log.h: none reported.
 * OWNERSHIP
 *	No allocation; log_sanitize() writes into the caller's buffer.
 * THREAD SAFETY
 *	Standard-error lines are written under log_lock, so lines of two
 *	threads never mix; syslog(3) is thread-safe; the verbosity is an
 *	atomic int.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <pthread.h>

#include "log.h"

static int log_to_stderr = 1;
static int log_verbose;			/* atomic: SIGHUP changes it */
static char log_ident[64] = "htgate";
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* log_init - choose the sink and verbosity */
void
log_init(const char *ident, int to_stderr, int verbose)
{
	snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_to_stderr = to_stderr;
	__atomic_store_n(&log_verbose, verbose, __ATOMIC_RELAXED);
	if (!to_stderr)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

/* log_set_verbose - change verbosity at run time (any thread) */
void
log_set_verbose(int verbose)
{
	__atomic_store_n(&log_verbose, verbose, __ATOMIC_RELAXED);
}

/* log_vwrite - write one line to the chosen sink */
static void __attribute__((format(printf, 3, 0)))
log_vwrite(int pri, const char *label, const char *fmt, va_list ap)
{
	char	line[4096];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_to_stderr) {
		pthread_mutex_lock(&log_lock);
		fprintf(stderr, "%s: %s%s\n", log_ident, label, line);
		fflush(stderr);
		pthread_mutex_unlock(&log_lock);
	} else {
		syslog(pri, "%s%s", label, line);
	}
}

#define LOG_FUNC(name, pri, label, gate) \
void \
name(const char *fmt, ...) \
{ \
	va_list ap; \
	if (!(gate)) \
		return; \
	va_start(ap, fmt); \
	log_vwrite(pri, label, fmt, ap); \
	va_end(ap); \
}

/* log_err, log_warn, log_info, log_debug - one line each */
LOG_FUNC(log_err, LOG_ERR, "error: ", 1)
LOG_FUNC(log_warn, LOG_WARNING, "warning: ", 1)
LOG_FUNC(log_info, LOG_INFO, "", 1)
LOG_FUNC(log_debug, LOG_DEBUG, "debug: ",
	 __atomic_load_n(&log_verbose, __ATOMIC_RELAXED))

/*
 * log_fatal - log and exit 1; only for start-up and broken environments.
 * Logging to syslog, the line also goes to standard error, so whoever
 * started the program sees why it did not start.
 */
void
log_fatal(const char *fmt, ...)
{
	va_list	ap;

	if (!log_to_stderr) {
		va_start(ap, fmt);
		fprintf(stderr, "%s: fatal: ", log_ident);
		vfprintf(stderr, fmt, ap);
		fputc('\n', stderr);
		va_end(ap);
	}
	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, "fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}

/* utf8_seq_len - length of a valid UTF-8 sequence at s, 0 if invalid */
static size_t
utf8_seq_len(const unsigned char *s)
{
	size_t	n, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return (0);
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return (0);
	return (n);
}

/* log_sanitize - escape and bound untrusted text */
char *
log_sanitize(char *dst, size_t dstlen, const char *src)
{
	const unsigned char *s = (const unsigned char *) (src ? src : "");
	size_t	used = 0, n;
	char	esc[8];
	const char *piece;

	if (dstlen == 0)
		return (dst);
	while (*s) {
		if (*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof(esc), "\\x%02x", *s);
			piece = esc, n = 4, s++;
		} else if (*s == '\\' || *s == '"') {
			esc[0] = '\\', esc[1] = (char) *s, esc[2] = 0;
			piece = esc, n = 2, s++;
		} else if ((n = utf8_seq_len(s)) == 0) {
			snprintf(esc, sizeof(esc), "\\x%02x", *s);
			piece = esc, n = 4, s++;
		} else {
			piece = (const char *) s, s += n;
		}
		if (used + n + 4 > dstlen) {
			if (dstlen >= 4) {
				if (used > dstlen - 4)
					used = dstlen - 4;
				memcpy(dst + used, "...", 3);
				used += 3;
			}
			break;
		}
		memcpy(dst + used, piece, n);
		used += n;
	}
	dst[used < dstlen ? used : dstlen - 1] = 0;
	return (dst);
}
