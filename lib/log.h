/*
 * NAME
 *	log - the one logging module of htgate
 * SYNOPSIS
 *	#include "log.h"
 *
 *	void	log_init(const char *ident, int to_stderr, int verbose);
 *	void	log_set_verbose(int verbose);
 *	void	log_err(const char *fmt, ...);
 *	void	log_warn(const char *fmt, ...);
 *	void	log_info(const char *fmt, ...);
 *	void	log_debug(const char *fmt, ...);
 *	void	log_fatal(const char *fmt, ...);	(does not return)
 *	char	*log_sanitize(char *dst, size_t dstlen, const char *src);
 * DESCRIPTION
 *	Writes to syslog (facility mail, ident and pid) or, when to_stderr
 *	is set, to standard error as "ident: label: text".  log_fatal()
 *	also writes to standard error when logging to syslog, and exits
 *	1.  The verbosity check lives here, not at call sites;
 *	log_set_verbose() changes it at any time (atomic).  log_sanitize() copies untrusted text for a log line or an
 *	SMTP reply: control characters, DEL and bytes that are not valid
 *	UTF-8 become \xNN, backslash and double quote are escaped, and the
 *	result is cut at dstlen-1 bytes with "..." marking the cut.
 * ERRORS
 *	None reported: a line that cannot be written is lost.  A line is
 *	cut at 4095 bytes.
 * OWNERSHIP
 *	No allocation; log_sanitize() writes into the caller's buffer and
 *	returns it.
 * THREAD SAFETY
 *	All functions are safe to call from any thread after log_init();
 *	log_init() runs before threads start.
 */
#ifndef HTG_LOG_H
#define HTG_LOG_H

#include <stddef.h>

#define LOG_FMT(a, b)	__attribute__((format(printf, a, b)))

void	log_init(const char *ident, int to_stderr, int verbose);
void	log_set_verbose(int verbose);
void	log_err(const char *fmt, ...) LOG_FMT(1, 2);
void	log_warn(const char *fmt, ...) LOG_FMT(1, 2);
void	log_info(const char *fmt, ...) LOG_FMT(1, 2);
void	log_debug(const char *fmt, ...) LOG_FMT(1, 2);
void	log_fatal(const char *fmt, ...) LOG_FMT(1, 2) __attribute__((noreturn));
char   *log_sanitize(char *dst, size_t dstlen, const char *src);

#endif
