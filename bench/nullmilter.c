/*
 * NAME
 *	nullmilter - a libmilter program that accepts everything
 * SUMMARY
 *	The floor for any milter in bench/run: every callback htgate-milter
 *	registered before the no-reply protocol steps, each returning
 *	SMFIS_CONTINUE, so Postfix sends every protocol step (envelope, each
 *	header with a reply, body chunks, end of message) and the only cost
 *	measured is libmilter and the socket.  With -b only the body and
 *	end-of-message callbacks: the least a content checker must receive.
 * SYNOPSIS
 *	nullmilter [-b] [-d] -p SOCKET
 *	SOCKET is a libmilter spec: unix:/path or inet:PORT@127.0.0.1.
 * DESCRIPTION
 *	Negotiates the same skipped steps as htgate-milter (no HELO, no
 *	unknown commands, no DATA) and no modifications.  With -d it does
 *	not skip DATA: it answers SMFIC_DATA with "continue".  On an inet:
 *	socket that removes the delayed-ACK stall Postfix causes when it
 *	sends the DATA macros of a skipped DATA step as a lone packet that
 *	gets no reply (see bench/README).  With -b it registers only
 *	xxfi_body and xxfi_eom and negotiates every other step away
 *	(SMFIP_NOCONNECT, NOHELO, NOMAIL, NORCPT, NODATA, NOHDRS, NOEOH,
 *	NOUNKNOWN): Postfix then sends the body chunks and the end of the
 *	message, each with a reply (mode null-body, the floor of issue 13).
 *	Runs in the foreground until SIGTERM.
 * ERRORS
 *	Exit 1 with a message on stderr if the socket cannot be opened.
 * OWNERSHIP
 *	bench/.  No state at all: nothing to allocate or free.
 * THREAD SAFETY
 *	Callbacks touch no shared data.
 * SEE ALSO
 *	bench/run, milter/callbacks.c
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

static unsigned long null_skip = SMFIP_NOHELO | SMFIP_NOUNKNOWN | SMFIP_NODATA;

/* -b: every step but the body and the end of the message */
#define NULL_BODY_SKIP	(SMFIP_NOCONNECT | SMFIP_NOHELO | SMFIP_NOMAIL \
			 | SMFIP_NORCPT | SMFIP_NODATA | SMFIP_NOHDRS \
			 | SMFIP_NOEOH | SMFIP_NOUNKNOWN)

/* null_negotiate - skip what htgate-milter skips, ask for nothing else */
static sfsistat
null_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	(void) ctx;
	(void) f0;
	(void) f2;
	(void) f3;
	*pf0 = 0;
	*pf1 = f1 & null_skip;
	*pf2 = 0;
	*pf3 = 0;
	return (SMFIS_CONTINUE);
}

/* null_connect - continue */
static sfsistat
null_connect(SMFICTX *ctx, char *host, _SOCK_ADDR *addr)
{
	(void) ctx;
	(void) host;
	(void) addr;
	return (SMFIS_CONTINUE);
}

/* null_args - continue (envfrom, envrcpt) */
static sfsistat
null_args(SMFICTX *ctx, char **argv)
{
	(void) ctx;
	(void) argv;
	return (SMFIS_CONTINUE);
}

/* null_header - continue */
static sfsistat
null_header(SMFICTX *ctx, char *name, char *value)
{
	(void) ctx;
	(void) name;
	(void) value;
	return (SMFIS_CONTINUE);
}

/* null_body - continue */
static sfsistat
null_body(SMFICTX *ctx, unsigned char *data, size_t len)
{
	(void) ctx;
	(void) data;
	(void) len;
	return (SMFIS_CONTINUE);
}

/* null_ctx - continue (data, eoh, eom, abort, close) */
static sfsistat
null_ctx(SMFICTX *ctx)
{
	(void) ctx;
	return (SMFIS_CONTINUE);
}

static struct smfiDesc null_desc = {
	.xxfi_name = "nullmilter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_connect = null_connect,
	.xxfi_envfrom = null_args,
	.xxfi_envrcpt = null_args,
	.xxfi_header = null_header,
	.xxfi_eoh = null_ctx,
	.xxfi_body = null_body,
	.xxfi_eom = null_ctx,
	.xxfi_abort = null_ctx,
	.xxfi_close = null_ctx,
	.xxfi_negotiate = null_negotiate,
	.xxfi_data = null_ctx,
};

/* -b: body and end of message only (null_negotiate skips the rest) */
static struct smfiDesc null_body_desc = {
	.xxfi_name = "nullmilter-body",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = 0,
	.xxfi_body = null_body,
	.xxfi_eom = null_ctx,
	.xxfi_negotiate = null_negotiate,
};

/* usage - print the synopsis, exit status 2 */
static int
usage(void)
{
	fprintf(stderr, "usage: nullmilter [-b] [-d] -p SOCKET\n");
	return (2);
}

/* main - parse -b, -d and -p, register, run */
int
main(int argc, char **argv)
{
	struct smfiDesc *desc = &null_desc;
	const char *spec = NULL;
	int	ch;

	while ((ch = getopt(argc, argv, "bdp:")) != -1) {
		if (ch == 'b') {
			desc = &null_body_desc;
			null_skip = NULL_BODY_SKIP;
		} else if (ch == 'd')
			null_skip &= ~(unsigned long) SMFIP_NODATA;
		else if (ch == 'p')
			spec = optarg;
		else
			return (usage());
	}
	if (spec == NULL || optind != argc)
		return (usage());
	if (smfi_register(*desc) != MI_SUCCESS
	    || smfi_setconn((char *) spec) != MI_SUCCESS
	    || smfi_opensocket(1) != MI_SUCCESS) {
		fprintf(stderr, "nullmilter: cannot open %s\n", spec);
		return (1);
	}
	return (smfi_main() == MI_SUCCESS ? 0 : 1);
}
