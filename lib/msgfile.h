/*
 * NAME
 *	msgfile - read a message file as the milter sees a message
 * SYNOPSIS
 *	#include "msgfile.h"
 *
 *	struct msgfile *msgfile_open(FILE *fp, size_t max_header_bytes,
 *		size_t max_header_count);
 *	int	msgfile_next_header(struct msgfile *mf, const char **name,
 *		const char **value);
 *	size_t	msgfile_read_body(struct msgfile *mf, unsigned char *buf,
 *		size_t len);
 *	const char *msgfile_error(const struct msgfile *mf);
 *	const char *msgfile_nul_header(const struct msgfile *mf);
 *	void	msgfile_close(struct msgfile *mf);
 * DESCRIPTION
 *	Splits a stored message (CR LF or LF line ends, as Thunderbird,
 *	Outlook and Unix tools save them) into header fields and body, the
 *	way Postfix hands them to a milter: each header as name and value
 *	(folding kept as CR LF + whitespace, leading space of the value
 *	removed), then the body with every line ending as CR LF.  The body
 *	is streamed in caller-sized chunks; only the header block is held.
 *
 *	msgfile_next_header() returns 1 with a header, 0 at the end of the
 *	header block and -1 when a bound was exceeded or a line is not a
 *	header (msgfile_error() says which).  The name and value are
 *	borrowed until the next call.  msgfile_nul_header() names the first
 *	header field that held a NUL byte (its value is cut there), for the
 *	caller to refuse as unparseable.
 * OWNERSHIP
 *	msgfile_open() returns a reader freed with msgfile_close(); the
 *	FILE stays the caller's.
 */
#ifndef HTG_MSGFILE_H
#define HTG_MSGFILE_H

#include <stdio.h>
#include <stddef.h>

struct msgfile;

struct msgfile *msgfile_open(FILE *fp, size_t max_header_bytes,
	size_t max_header_count);
int	msgfile_next_header(struct msgfile *mf, const char **name,
	const char **value);
size_t	msgfile_read_body(struct msgfile *mf, unsigned char *buf, size_t len);
const char *msgfile_error(const struct msgfile *mf);
const char *msgfile_nul_header(const struct msgfile *mf);
void	msgfile_close(struct msgfile *mf);

#endif
