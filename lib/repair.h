/*
 * NAME
 *	repair - make a mail client's message conforming without changing
 *	the file HTG receives
 * SYNOPSIS
 *	#include "repair.h"
 *
 *	struct repair *repair_run(struct htg_msg *msg, FILE *in);
 *	int	repair_ok(const struct repair *r);
 *	int	repair_body_changed(const struct repair *r);
 *	const char *repair_header(const struct repair *r, const char *name);
 *	FILE   *repair_body(struct repair *r, char *err, size_t errlen);
 *	const char *repair_error(const struct repair *r);
 *	int	repair_write_message(FILE *orig, const struct repair *r,
 *		const struct htg_msg *msg, FILE *out, char *err,
 *		size_t errlen);
 *	int	repair_copy_crlf(FILE *in, struct spool *out, char *err,
 *		size_t errlen);
 *	void	repair_free(struct repair *r);
 * DESCRIPTION
 *	repair_run() runs the repairs the engine planned for msg (engine.h,
 *	"Repairs"; the adapter calls it when htg_msg_repair_due() names
 *	some) on the stored message in, a seekable stream holding the
 *	message's MIME entity with CR LF line ends: the whole message
 *	(htgate-check), or its Content-Type, Content-Transfer-Encoding and
 *	Content-Disposition headers and its body (the milter).
 *
 *	The repairs, each only when its rule's action is fix for the
 *	message's stream (htg_msg_repair_allowed()):
 *
 *	unwrap (MIME-SINGLE)  A multipart/mixed made by a mail client: text
 *		parts (text/plain, text/html without a file name; the
 *		alternatives of a multipart/alternative, also inside a
 *		multipart/related of text only, as Outlook writes them) and
 *		exactly one attachment (any other leaf, or a text part with
 *		a file name or "attachment": Apple Mail's inline PDF counts).
 *		The attachment becomes the message: its Content-Type, its
 *		Content-Disposition, and its content, base64 as it was or
 *		re-encoded as base64 (7bit, 8bit, binary, quoted-printable:
 *		a body that is not base64 could lose a final line break).
 *		A base64 or quoted-printable attachment must be valid as
 *		written (encval.h), else MIME-B64 or MIME-QP: a decoder that
 *		guesses would not give what the sender attached.
 *		The text dropped may hold at most htg_msg_repair_text_limit()
 *		bytes, decoded, counting each text/plain and an HTML part
 *		only where it has no text/plain alternative.  What was
 *		dropped (bytes, SHA-256 of the decoded text in document
 *		order, its first line; the HTML alternatives' bytes) is the
 *		MIME-SINGLE finding's detail and the message's repair note
 *		(htg_msg_repair_note()).  Refused, with a hint for the mail
 *		client: no attachment, more than one, a text over the limit,
 *		an image or other part inside the message text (a logo in
 *		a signature), a signed or encrypted part, a forwarded
 *		message, a multipart that does not parse cleanly.
 *	relabel type (MIME-TYPE)  text/xml becomes application/xml, every
 *		parameter (charset, name) kept.
 *	relabel charset (MIME-CHARSET)  windows-1250..1258 (also cp125x,
 *		x-cp125x) on content that is pure ASCII becomes us-ascii;
 *		windows-1252 on content without a byte 0x80-0x9F (where the
 *		two agree byte for byte) becomes ISO-8859-1.  Anything else
 *		is refused: the content is never transcoded.
 *	re-encode (MIME-CTE, MIME-7BIT)  an 8bit or binary body, or a 7bit
 *		body that is not valid 7bit under a declared 8-bit charset,
 *		becomes base64 of the same bytes.
 *
 *	The result is an entity: the new Content-Type,
 *	Content-Transfer-Encoding and Content-Disposition and the new body.
 *	Before it counts, the decoded content of the kept part is compared
 *	with the decoded content of the result (SHA-256 of each, both read
 *	back through GMime; a difference refuses the message as without
 *	repairs and logs an error), and the result is judged again by the
 *	engine: judge_content() on htg_msg_new_like(msg).  If that
 *	judgement refuses, its refusing findings are added to msg (the
 *	message is refused naming them); if it only adds a
 *	Content-Disposition fix, that value becomes the result's
 *	Content-Disposition.  Then msg gets one fix finding per repair done
 *	and htg_msg_repair_settle().  An I/O failure (a full disk) is an
 *	INTERNAL finding: tempfail.
 *
 *	repair_ok() says whether the message was repaired (and passed);
 *	repair_header() gives the value to set for "Content-Type",
 *	"Content-Transfer-Encoding" or "Content-Disposition" (NULL: the
 *	header is to be removed); repair_body_changed() whether the body
 *	differs (a relabel alone changes only headers), and repair_body()
 *	the new body from its start (borrowed, valid until repair_free()).
 *	repair_error() is why a repair was given up for a reason the sender
 *	cannot see (the bytes did not survive, an I/O error), for the
 *	adapter's log (this module logs nothing); NULL otherwise.
 *
 *	repair_write_message() writes the message as it would leave: orig's
 *	header block (a stored message) with Content-Type,
 *	Content-Transfer-Encoding and Content-Disposition replaced by the
 *	repair's (r non-NULL and ok) or by the engine's Content-Disposition
 *	fix, a Message-ID the engine added, and the new body (or orig's),
 *	every line ending CR LF as on the wire.
 *	repair_copy_crlf() copies a stored message with every line ending
 *	made CR LF, as Postfix hands it to a milter, so htgate-check repairs
 *	the same bytes the milter would.
 *
 *	Memory: the message is parsed with GMime's persistent parser and
 *	every pass (decode, hash, encode, verify, judge) streams in chunks;
 *	the result is a spool (repair_spool.h): [global] repair_memory
 *	bytes in memory, the rest in a temporary file in repair_dir.
 * ERRORS
 *	repair_run() returns NULL only when memory runs out (GLib aborts
 *	first); every other failure is a finding on msg.
 *	repair_write_message() and repair_copy_crlf() return -1 with err.
 * OWNERSHIP
 *	repair_run() returns a result freed with repair_free() (NULL is
 *	fine); in stays the caller's.
 * THREAD SAFETY
 *	One repair per thread; GMime must be initialised (mimehdr_init()).
 * SEE ALSO
 *	repair_mime.h (GMime), repair_spool.h, engine.h, judge.h
 */
#ifndef HTG_REPAIR_H
#define HTG_REPAIR_H

#include <stddef.h>
#include <stdio.h>

#include "engine.h"
#include "repair_spool.h"

struct repair;

struct repair *repair_run(struct htg_msg *msg, FILE *in);
int	repair_ok(const struct repair *r);
int	repair_body_changed(const struct repair *r);
const char *repair_header(const struct repair *r, const char *name);
FILE   *repair_body(struct repair *r, char *err, size_t errlen);
const char *repair_error(const struct repair *r);
int	repair_write_message(FILE *orig, const struct repair *r,
	const struct htg_msg *msg, FILE *out, char *err, size_t errlen);
int	repair_copy_crlf(FILE *in, struct spool *out, char *err,
	size_t errlen);
void	repair_free(struct repair *r);

#endif
