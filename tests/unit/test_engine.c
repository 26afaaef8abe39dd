/*
 * NAME
 *	test_engine - every rule of the engine, a passing and a failing case
 * DESCRIPTION
 *	Table-driven (STYLE.md §12): each case is a message text plus an
 *	envelope, judged through judge_stream() exactly as htgate-check does,
 *	and the expected verdict and the exact set of findings
 *	("action:RULE" for each).  The configuration is written to a
 *	temporary file and loaded with cfg_load(), as the daemons do.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "unit.h"
#include "cfg.h"
#include "engine.h"
#include "judge.h"
#include "mimehdr.h"

static const char test_conf[] =
	"[global]\n"
	"language = en nl\n"
	"size_limit = 4K\n"
	"max_header_count = 50\n"
	"[stream AGS]\n"
	"[stream DMS]\n"
	"[stream SINGLEWINDOW]\n"
	"profile = single-window\n"
	"[account example]\n"
	"senders = *@example.com\n"
	"streams = *\n"
	"[account erp]\n"
	"senders = erp@other.nl\n"
	"addresses = erp@other.nl, *@broker.example\n"
	"sasl_users = erp-login\n"
	"streams = DMS\n"
	"size_limit = 2K\n"
	"[account other]\n"
	"senders = @other.nl\n"
	"streams = *\n"
	"[rules]\n"
	"ENV-ENVID = fix\n"
	"ENV-NOTIFY = fix\n"
	"HDR-MSGID = fix\n";

static const char report_only_conf[] =
	"[global]\nreport_only = yes\n[stream AGS]\n[stream DMS]\n"
	"[account a]\nsenders = *@example.com\nstreams = *\n";
static const char mixed_warn_conf[] =
	"[stream AGS]\n[stream DMS]\n"
	"[account a]\nsenders = *@example.com\nstreams = *\n"
	"[rules]\nENV-MIXED = warn\n";

/* The configurations a case can be judged under. */
enum variant {
	V_DEFAULT = 0,
	V_REPORT_ONLY,
	V_MIXED_WARN,
	V_COUNT
};

static struct htg_cfg *cfgs[V_COUNT];
#define cfg	(cfgs[V_DEFAULT])

/* A conforming header block; cases add or replace lines. */
#define H_FROM	"From: Jan <jan@example.com>\r\n"
#define H_TO	"To: AGS@htpoort.nl\r\n"
#define H_REST	"Subject: Aangifte 123\r\n" \
		"Date: Tue, 24 Nov 2026 10:00:00 +0100\r\n" \
		"Message-ID: <abc.123@example.com>\r\n" \
		"MIME-Version: 1.0\r\n"
#define H_EDI	"Content-Type: application/edifact\r\n" \
		"Content-Transfer-Encoding: base64\r\n" \
		"Content-Disposition: attachment; filename=aangifte.edi\r\n"
#define H_EDI_NODISP "Content-Type: application/edifact\r\n" \
		"Content-Transfer-Encoding: base64\r\n"
#define H_EDI_NODISP_B64 "Content-Type: application/edifact\r\n"
#define B_B64	"\r\nVU5BOis=\r\n"
#define GOOD	H_FROM H_TO H_REST H_EDI B_B64
#define H_ERP	"From: ERP <erp@other.nl>\r\n"

/* A delivery status notification (RFC 3464/6522) and its parts. */
#define DSN_HDR(extra) "From: MAILER-DAEMON@example.com\r\n" H_TO extra \
		"Subject: Undelivered Mail Returned to Sender\r\n" \
		"Content-Type: multipart/report; report-type=delivery-status;\r\n" \
		"\tboundary=\"b\"\r\n"
#define DSN_HUMAN "Content-Type: text/plain; charset=us-ascii\r\n\r\n" \
		"Your message could not be delivered.\r\n"
#define DSN_STATUS "Content-Type: message/delivery-status\r\n\r\n" \
		"Reporting-MTA: dns; relay.example.com\r\n\r\n" \
		"Final-Recipient: rfc822; jan@example.com\r\nAction: failed\r\n" \
		"Status: 5.1.1\r\n"
#define DSN(extra) DSN_HDR(extra) "\r\nThis is a MIME-encapsulated message.\r\n" \
		"\r\n--b\r\n" DSN_HUMAN "--b\r\n" DSN_STATUS \
		"--b\r\nContent-Type: message/rfc822\r\n\r\n" \
		"From: HTG <noreply@htpoort.nl>\r\nSubject: answer\r\n\r\n--b-not-a-boundary\r\n" \
		"--b--\r\n"

static const struct tc {
	const char *label;
	const char *text;
	const char *from;		/* NULL: From: header */
	const char *rcpt[3];		/* none: To: header */
	const char *notify;
	const char *envid;
	const char *sasl;
	int	flags;			/* htg_msg_new() flags */
	enum variant variant;		/* configuration */
	enum htg_verdict want;
	const char *want_findings;	/* "reject:HDR-CC fix:HDR-MSGID" */
} cases[] = {
	{.label = "conforming EDIFACT", .text = GOOD,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "not HTG-bound passes whatever it holds",
	 .text = "From: a@example.com\r\nTo: b@example.org\r\nCc: c@x.nl\r\n"
		 "Content-Type: multipart/mixed; boundary=x\r\n\r\n\xff\xfe",
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "DSN with null sender passes", .from = "", .text = DSN(""),
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "DSN without the returned message passes", .from = "",
	 .text = DSN_HDR("") "\r\n--b\r\n" DSN_HUMAN "--b\r\n" DSN_STATUS "--b--\r\n",
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "HDR-CC in a DSN", .from = "",
	 .text = DSN("Cc: boss@example.com\r\n"),
	 .want = HTG_REJECT, .want_findings = "reject:HDR-CC"},
	{.label = "ENV-ONE-SENDER fake report: EDIFACT and .exe parts", .from = "",
	 .text = DSN_HDR("") "\r\n--b\r\n" DSN_HUMAN
		 "--b\r\nContent-Type: application/edifact\r\n\r\nUNA:+.? '\r\n"
		 "--b\r\nContent-Type: application/octet-stream; name=x.exe\r\n\r\nMZ\r\n--b--\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:ENV-ONE-SENDER"},
	{.label = "ENV-ONE-SENDER report of another type", .from = "",
	 .text = H_FROM H_TO H_REST "Content-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n"
		 "\r\n--b\r\n" DSN_HUMAN "--b\r\n" DSN_STATUS "--b--\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:ENV-ONE-SENDER reject:MIME-SINGLE"},
	{.label = "ENV-ONE-SENDER DSN without a closing boundary", .from = "",
	 .text = DSN_HDR("") "\r\n--b\r\n" DSN_HUMAN "--b\r\n" DSN_STATUS,
	 .want = HTG_REJECT, .want_findings = "reject:ENV-ONE-SENDER"},
	{.label = "ENV-ONE-SENDER DSN with four parts", .from = "",
	 .text = DSN_HDR("") "\r\n--b\r\n" DSN_HUMAN "--b\r\n" DSN_STATUS
		 "--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: x\r\n\r\nx\r\n"
		 "--b\r\nContent-Type: text/plain\r\n\r\nmore\r\n--b--\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:ENV-ONE-SENDER"},
	{.label = "ENV-ADDRESS trailing dot", .rcpt = {"AGS@msa-smtp.htpoort.nl."},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS"},
	{.label = "ENV-ADDRESS trailing dot on the header domain", .rcpt = {"<AGS@htpoort.nl.>"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS"},
	{.label = "ENV-ADDRESS percent hack", .rcpt = {"AGS%msa-smtp.htpoort.nl@[127.0.0.1]"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS"},
	{.label = "ENV-ADDRESS percent hack via a local domain", .rcpt = {"AGS%msa-smtp.htpoort.nl@example.com"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS"},
	{.label = "ENV-ADDRESS bang path", .rcpt = {"msa-smtp.htpoort.nl!AGS"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS"},
	{.label = "ENV-ADDRESS source route", .rcpt = {"<@relay.example.com:AGS@msa-smtp.htpoort.nl>"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS"},
	{.label = "ENV-ADDRESS quoted local part", .rcpt = {"\"AGS\"@msa-smtp.htpoort.nl"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS"},
	{.label = "ENV-ADDRESS HTG address quoted in a local part",
	 .rcpt = {"\"AGS@msa-smtp.htpoort.nl\"@example.com"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS"},
	{.label = "ENV-ADDRESS domain case does not matter", .rcpt = {"AGS@MSA-SMTP.HTPOORT.NL"},
	 .text = GOOD, .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-ADDRESS percent in a non-HTG address is not HTG", .rcpt = {"a%b.example.org@example.com"},
	 .text = GOOD, .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-MIXED other then HTG, defer mode (sendmail)",
	 .rcpt = {"boss@example.com", "AGS@htpoort.nl"}, .flags = HTG_MSG_DEFER_ENVELOPE,
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-MIXED"},
	{.label = "ENV-MIXED other then HTG, report-only",
	 .rcpt = {"boss@example.com", "AGS@htpoort.nl"}, .variant = V_REPORT_ONLY,
	 .text = GOOD, .want = HTG_ACCEPT, .want_findings = "warn:ENV-MIXED"},
	{.label = "ENV-MIXED other then HTG, ENV-MIXED = warn",
	 .rcpt = {"boss@example.com", "AGS@htpoort.nl"}, .variant = V_MIXED_WARN,
	 .text = GOOD, .want = HTG_ACCEPT, .want_findings = "warn:ENV-MIXED"},
	{.label = "ENV-MIXED other then HTG, defer mode, To: names another stream",
	 .rcpt = {"boss@example.com", "DMS@htpoort.nl"}, .flags = HTG_MSG_DEFER_ENVELOPE,
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-MIXED reject:HDR-TO"},
	{.label = "egress: an alias's target is judged on its headers",
	 .rcpt = {"AGS@msa-smtp.htpoort.nl"}, .flags = HTG_MSG_EGRESS,
	 .text = H_FROM "To: customs@example.com\r\n" H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-TO"},
	{.label = "egress: a recipient that is not HTG is refused",
	 .rcpt = {"boss@example.com"}, .flags = HTG_MSG_EGRESS,
	 .text = H_FROM "To: boss@example.com\r\n" H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:ENV-ADDRESS reject:HDR-TO"},
	{.label = "egress: the login is not known, the sender decides ENV-AUTH",
	 .from = "erp@other.nl", .rcpt = {"DMS@msa-smtp.htpoort.nl"}, .flags = HTG_MSG_EGRESS,
	 .text = H_ERP "To: DMS@htpoort.nl\r\n" H_REST H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "egress: conforming message passes",
	 .rcpt = {"AGS@msa-smtp.htpoort.nl"}, .flags = HTG_MSG_EGRESS,
	 .text = GOOD, .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-ONE-SENDER null sender, not a DSN", .from = "",
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ONE-SENDER"},
	{.label = "ENV-ONE-SENDER not a full address", .from = "jan",
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ONE-SENDER"},
	{.label = "msa-smtp envelope form is HTG-bound",
	 .rcpt = {"AGS@msa-smtp.htpoort.nl"}, .text = GOOD,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-ONE-RCPT second HTG recipient",
	 .rcpt = {"AGS@msa-smtp.htpoort.nl", "DMS@msa-smtp.htpoort.nl"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-ONE-RCPT"},
	{.label = "ENV-MIXED HTG then other",
	 .rcpt = {"AGS@htpoort.nl", "boss@example.com"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-MIXED"},
	{.label = "ENV-MIXED other then HTG",
	 .rcpt = {"boss@example.com", "AGS@htpoort.nl"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-MIXED"},
	{.label = "ENV-STREAM unknown stream", .rcpt = {"XYZ@htpoort.nl"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-STREAM"},
	{.label = "ENV-STREAM case-insensitive", .rcpt = {"ags@htpoort.nl"},
	 .text = GOOD, .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-AUTH sender outside accounts", .from = "x@evil.nl",
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:ENV-AUTH"},
	{.label = "ENV-AUTH sasl user required and wrong", .from = "erp@other.nl",
	 .sasl = "someone", .rcpt = {"DMS@htpoort.nl"},
	 .text = H_ERP "To: DMS@htpoort.nl\r\n" H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:ENV-AUTH"},
	{.label = "ENV-AUTH sasl user right", .from = "erp@other.nl",
	 .sasl = "erp-login", .rcpt = {"DMS@htpoort.nl"},
	 .text = H_ERP "To: DMS@htpoort.nl\r\n" H_REST H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-AUTH as Postfix: the sender's own account has no AGS, "
		  "the domain's account is not asked", .from = "erp@other.nl",
	 .sasl = "erp-login", .text = H_ERP H_TO H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:ENV-AUTH"},
	{.label = "ENV-AUTH as Postfix: another sender of the domain uses its account",
	 .from = "jan@other.nl", .text = "From: jan@other.nl\r\n" H_TO H_REST H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-SIZE the account's own limit", .from = "erp@other.nl",
	 .sasl = "erp-login", .rcpt = {"DMS@htpoort.nl"},
	 .text = H_ERP "To: DMS@htpoort.nl\r\n" H_REST
		 "Content-Type: text/plain\r\n\r\nx\r\n%SIZE%",
	 .want = HTG_REJECT, .want_findings = "warn:MIME-DISPOSITION reject:ENV-SIZE"},
	{.label = "HDR-FROM at a broker's domain the account does not name",
	 .from = "erp@example.com", .text = "From: Broker <decl@broker.example>\r\n" H_TO H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-FROM"},
	{.label = "HDR-FROM another address of the account (addresses)",
	 .from = "erp@other.nl", .sasl = "erp-login", .rcpt = {"DMS@htpoort.nl"},
	 .text = "From: Broker <decl@broker.example>\r\nTo: DMS@htpoort.nl\r\n" H_REST H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "HDR-FROM another address of the sender's domain (senders)",
	 .from = "erp@example.com", .text = GOOD,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-ENVIRONMENT preprod envelope, prod header",
	 .rcpt = {"AGS@msa-smtp.preprod.htpoort.nl"}, .text = GOOD,
	 .want = HTG_REJECT, .want_findings = "reject:ENV-ENVIRONMENT"},
	{.label = "ENV-NOTIFY single window without NOTIFY is fixed",
	 .rcpt = {"SINGLEWINDOW@htpoort.nl"},
	 .text = H_FROM "To: SINGLEWINDOW@htpoort.nl\r\n" H_REST H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = "fix:ENV-NOTIFY fix:ENV-ENVID"},
	{.label = "ENV-NOTIFY SUCCESS,DELAY on a standard stream is fine (RFC 3461)",
	 .notify = "SUCCESS,DELAY", .envid = "E1", .text = GOOD,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-NOTIFY NEVER with others is fixed", .notify = "NEVER,SUCCESS",
	 .envid = "E1", .text = GOOD,
	 .want = HTG_ACCEPT, .want_findings = "fix:ENV-NOTIFY"},
	{.label = "ENV-NOTIFY unknown keyword is fixed", .notify = "FAILURE,ALWAYS",
	 .text = GOOD, .want = HTG_ACCEPT, .want_findings = "fix:ENV-NOTIFY"},
	{.label = "ENV-NOTIFY DELAY to Single Window is fixed", .notify = "SUCCESS,FAILURE,DELAY",
	 .envid = "E1", .rcpt = {"SINGLEWINDOW@htpoort.nl"},
	 .text = H_FROM "To: SINGLEWINDOW@htpoort.nl\r\n" H_REST H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = "fix:ENV-NOTIFY"},
	{.label = "ENV-NOTIFY SUCCESS,FAILURE with ENVID is fine",
	 .notify = "SUCCESS,FAILURE", .envid = "E1", .text = GOOD,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "ENV-ENVID missing with NOTIFY=SUCCESS is fixed",
	 .notify = "SUCCESS", .text = GOOD,
	 .want = HTG_ACCEPT, .want_findings = "fix:ENV-ENVID"},
	{.label = "ENV-SIZE body over the limit",
	 .text = H_FROM H_TO H_REST
		 "Content-Type: text/plain\r\n\r\n"
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
		 "%SIZE%", .want = HTG_REJECT, .want_findings = "warn:MIME-DISPOSITION reject:ENV-SIZE"},
	{.label = "HDR-FROM two addresses",
	 .from = "jan@example.com",
	 .text = "From: a@example.com, b@example.com\r\n" H_TO H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-FROM"},
	{.label = "HDR-FROM missing", .from = "jan@example.com",
	 .text = H_TO H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-FROM"},
	{.label = "HDR-TO two addresses", .rcpt = {"AGS@htpoort.nl"},
	 .text = H_FROM "To: AGS@htpoort.nl, DMS@htpoort.nl\r\n" H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-TO"},
	{.label = "HDR-TO msa-smtp form in header", .rcpt = {"AGS@msa-smtp.htpoort.nl"},
	 .text = H_FROM "To: AGS@msa-smtp.htpoort.nl\r\n" H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-TO"},
	{.label = "HDR-TO other stream than envelope", .rcpt = {"DMS@htpoort.nl"},
	 .text = GOOD, .want = HTG_REJECT, .want_findings = "reject:HDR-TO"},
	{.label = "HDR-CC Cc present",
	 .text = H_FROM H_TO "Cc: boss@example.com\r\n" H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-CC"},
	{.label = "HDR-CC Bcc present",
	 .text = H_FROM H_TO "Bcc: boss@example.com\r\n" H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-CC"},
	{.label = "HDR-MSGID missing is fixed",
	 .text = H_FROM H_TO "Subject: s\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n" H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = "fix:HDR-MSGID"},
	{.label = "HDR-MSGID malformed",
	 .text = H_FROM H_TO "Subject: s\r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\n"
		 "Message-ID: no-brackets\r\n" H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-MSGID"},
	{.label = "HDR-MSGID twice",
	 .text = H_FROM H_TO H_REST "Message-ID: <x@y>\r\n" H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-MSGID"},
	{.label = "HDR-SUBJECT missing only warns",
	 .text = H_FROM H_TO "Date: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <a@b>\r\n" H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = "warn:HDR-SUBJECT"},
	{.label = "HDR-SUBJECT empty only warns",
	 .text = H_FROM H_TO "Subject:  \r\nDate: Tue, 24 Nov 2026 10:00:00 +0100\r\nMessage-ID: <a@b>\r\n" H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = "warn:HDR-SUBJECT"},
	{.label = "HDR-SUBJECT twice is refused",
	 .text = H_FROM H_TO "Subject: a\r\n" H_REST H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-SUBJECT"},
	{.label = "HDR-DATE missing",
	 .text = H_FROM H_TO "Subject: s\r\nMessage-ID: <a@b>\r\n" H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-DATE"},
	{.label = "HDR-DATE garbage",
	 .text = H_FROM H_TO "Subject: s\r\nDate: yesterday\r\nMessage-ID: <a@b>\r\n" H_EDI B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:HDR-DATE"},
	{.label = "MIME-SINGLE multipart/mixed",
	 .text = H_FROM H_TO H_REST "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "MIME-SINGLE empty body",
	 .text = H_FROM H_TO H_REST H_EDI "\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-SINGLE"},
	{.label = "MIME-TYPE text/html",
	 .text = H_FROM H_TO H_REST "Content-Type: text/html; charset=utf-8\r\n\r\n<p>x</p>\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-TYPE reject:MIME-DISPOSITION"},
	{.label = "MIME-TYPE Outlook's winmail.dat (Rich Text)",
	 .text = H_FROM H_TO H_REST "Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment; filename=\"winmail.dat\"\r\n" B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-TYPE"},
	{.label = "MIME-TYPE winmail.dat labelled octet-stream",
	 .text = H_FROM H_TO H_REST "Content-Type: application/octet-stream\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment; filename=\"winmail.dat\"\r\n" B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-TYPE"},
	{.label = "MIME-TYPE text/plain without disposition only warns",
	 .text = H_FROM H_TO H_REST "Content-Type: text/plain; charset=utf-8\r\n\r\nhallo\r\n",
	 .want = HTG_ACCEPT, .want_findings = "warn:MIME-DISPOSITION"},
	{.label = "MIME-CHARSET windows-1252",
	 .text = H_FROM H_TO H_REST "Content-Type: text/plain; charset=windows-1252\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nhallo\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-CHARSET"},
	{.label = "MIME-CHARSET cp1252",
	 .text = H_FROM H_TO H_REST "Content-Type: text/plain; charset=\"CP1252\"\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nhallo\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-CHARSET"},
	{.label = "MIME-CHARSET iso-8859-15 allowed",
	 .text = H_FROM H_TO H_REST "Content-Type: text/plain; charset=iso-8859-15\r\n"
		 "Content-Disposition: attachment; filename=a.txt\r\n\r\nhallo\r\n",
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "MIME-CTE 8bit",
	 .text = H_FROM H_TO H_REST "Content-Type: application/xml\r\n"
		 "Content-Transfer-Encoding: 8bit\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n\r\n<a/>\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-CTE"},
	{.label = "MIME-B64 invalid character",
	 .text = H_FROM H_TO H_REST H_EDI "\r\nVU5B*is=\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-B64"},
	{.label = "MIME-QP invalid escape",
	 .text = H_FROM H_TO H_REST "Content-Type: application/xml\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n\r\n<a>=ZZ</a>\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-QP"},
	{.label = "MIME-QP valid",
	 .text = H_FROM H_TO H_REST "Content-Type: application/xml\r\n"
		 "Content-Transfer-Encoding: quoted-printable\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n\r\n<a>caf=C3=A9</a>=\r\n\r\n",
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "MIME-7BIT high byte",
	 .text = H_FROM H_TO H_REST "Content-Type: application/xml\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n\r\n<a>caf\xc3\xa9</a>\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-7BIT"},
	{.label = "MIME-DISPOSITION missing for XML is added",
	 .text = H_FROM H_TO H_REST "Content-Type: application/xml\r\n\r\n<a/>\r\n",
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-DISPOSITION"},
	{.label = "MIME-DISPOSITION inline becomes attachment",
	 .text = H_FROM H_TO H_REST "Content-Type: application/pdf\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: inline; filename=a.pdf\r\n" B_B64,
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-DISPOSITION"},
	{.label = "MIME-DISPOSITION filename without extension is repaired",
	 .text = H_FROM H_TO H_REST H_EDI_NODISP
		 "Content-Disposition: attachment; filename=aangifte\r\n" B_B64,
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-DISPOSITION"},
	{.label = "MIME-DISPOSITION garbled is replaced",
	 .text = H_FROM H_TO H_REST H_EDI_NODISP "Content-Disposition: ;;==\r\n" B_B64,
	 .want = HTG_ACCEPT, .want_findings = "fix:MIME-DISPOSITION"},
	{.label = "MIME-DISPOSITION twice is refused",
	 .text = H_FROM H_TO H_REST H_EDI "Content-Disposition: attachment; filename=b.edi\r\n" B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-DISPOSITION"},
	{.label = "MIME-CTE with an RFC 822 comment",
	 .text = H_FROM H_TO H_REST H_EDI_NODISP_B64 "Content-Transfer-Encoding: base64 (preferred)\r\n"
		 "Content-Disposition: attachment; filename=a.edi\r\n" B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "MIME-Version twice with different comments is no conflict",
	 .text = H_FROM H_TO H_REST "MIME-Version: 1.0 (Apple Message framework v3731)\r\n" H_EDI B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "MIME-TYPE PDF to Single Window", .rcpt = {"SINGLEWINDOW@htpoort.nl"},
	 .notify = "SUCCESS,FAILURE", .envid = "E1",
	 .text = H_FROM "To: SINGLEWINDOW@htpoort.nl\r\n" H_REST "Content-Type: application/pdf\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment; filename=a.pdf\r\n" B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-TYPE"},
	{.label = "MIME-TYPE XML to Single Window", .rcpt = {"SINGLEWINDOW@htpoort.nl"},
	 .notify = "SUCCESS,FAILURE", .envid = "E1",
	 .text = H_FROM "To: SINGLEWINDOW@htpoort.nl\r\n" H_REST "Content-Type: application/xml\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment; filename=a.xml\r\n" B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "MIME-DISPOSITION control characters in the filename",
	 .text = H_FROM H_TO H_REST "Content-Type: application/pdf\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment;\r\n filename*=utf-8''aan%1B%5B31mgifte.pdf\r\n" B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-DISPOSITION"},
	{.label = "MIME-DISPOSITION RFC 2231 filename",
	 .text = H_FROM H_TO H_REST "Content-Type: application/pdf\r\n"
		 "Content-Transfer-Encoding: base64\r\n"
		 "Content-Disposition: attachment;\r\n filename*=utf-8''aangifte%20mei.pdf\r\n" B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "MIME-HEADER conflicting Content-Type",
	 .text = H_FROM H_TO H_REST H_EDI "Content-Type: application/xml\r\n" B_B64,
	 .want = HTG_REJECT, .want_findings = "reject:MIME-HEADER"},
	{.label = "MIME-HEADER same Content-Type twice is fine",
	 .text = H_FROM H_TO H_REST H_EDI "Content-Type: application/EDIFACT\r\n" B_B64,
	 .want = HTG_ACCEPT, .want_findings = ""},
	{.label = "MIME-HEADER unparseable Content-Type",
	 .text = H_FROM H_TO H_REST "Content-Type: garbage\r\n\r\nx\r\n",
	 .want = HTG_REJECT, .want_findings = "reject:MIME-HEADER"},
	{.label = "LIMIT too many headers",
	 .text = "%MANYHEADERS%", .want = HTG_REJECT, .want_findings = "reject:LIMIT"},
	{.label = "LF-only file reads like CRLF",
	 .text = "From: jan@example.com\nTo: AGS@htpoort.nl\nSubject: s\n"
		 "Date: Tue, 24 Nov 2026 10:00:00 +0100\nMessage-ID: <a@b>\n"
		 "Content-Type: application/edifact\nContent-Transfer-Encoding: base64\n"
		 "Content-Disposition: attachment; filename=a.edi\n\nVU5BOis=\n",
	 .want = HTG_ACCEPT, .want_findings = ""},
};

/* expand - replace %SIZE% and %MANYHEADERS% placeholders */
static char *
expand(const char *text)
{
	GString *s;
	int	i;

	if (strcmp(text, "%MANYHEADERS%") == 0) {
		s = g_string_new(H_FROM H_TO H_REST);
		for (i = 0; i < 60; i++)
			g_string_append_printf(s, "X-MS-Exchange-Test-%d: value\r\n", i);
		g_string_append(s, H_EDI B_B64);
		return (g_string_free(s, FALSE));
	}
	s = g_string_new(text);
	if (strstr(s->str, "%SIZE%")) {
		g_string_truncate(s, strstr(s->str, "%SIZE%") - s->str);
		for (i = 0; i < 60; i++)
			g_string_append(s, "yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n");
	}
	return (g_string_free(s, FALSE));
}

/* findings_string - "action:RULE ..." of a judged message */
static char *
findings_string(struct htg_msg *msg)
{
	const struct htg_finding *f;
	size_t	n = htg_msg_findings(msg, &f), i;
	GString *s = g_string_new(NULL);

	for (i = 0; i < n; i++)
		g_string_append_printf(s, "%s%s:%s", i ? " " : "",
				       action_name(f[i].action), rule_get(f[i].rule)->name);
	return (g_string_free(s, FALSE));
}

/* judge_case - run one table case */
static enum htg_verdict
judge_case(const struct tc *c, struct htg_msg *msg)
{
	char   *text = expand(c->text);
	FILE   *fp = fmemopen(text, strlen(text), "r");
	struct judge_envelope env;
	enum htg_verdict v;
	int	i;

	memset(&env, 0, sizeof(env));
	env.from = c->from;
	for (i = 0; i < 3 && c->rcpt[i]; i++)
		env.rcpt[env.nrcpt++] = c->rcpt[i];
	env.notify = c->notify;
	env.envid = c->envid;
	env.sasl_user = c->sasl;
	v = judge_stream(msg, fp, &env);
	fclose(fp);
	g_free(text);
	return (v);
}

START_TEST(test_rule_cases)
{
	const struct tc *c = &cases[_i];
	struct htg_msg *msg = htg_msg_new(cfgs[c->variant], c->flags);
	enum htg_verdict v = judge_case(c, msg);
	char   *got = findings_string(msg);

	ck_assert_msg(v == c->want, "%s: verdict %s, want %s (findings: %s)",
		      c->label, htg_verdict_name(v), htg_verdict_name(c->want), got);
	ck_assert_msg(strcmp(got, c->want_findings) == 0,
		      "%s: findings \"%s\", want \"%s\"", c->label, got,
		      c->want_findings);
	g_free(got);
	htg_msg_free(msg);
}
END_TEST

/* Fixes, replies and defer mode are checked on the engine directly. */
START_TEST(test_fix_values)
{
	struct htg_msg *msg = htg_msg_new(cfg, 0);
	char   *rargs[] = {"NOTIFY=DELAY", "ORCPT=rfc822;SINGLEWINDOW@htpoort.nl", NULL};

	htg_msg_mail(msg, "<jan@example.com>", NULL);
	ck_assert_int_eq(htg_msg_rcpt(msg, "<SINGLEWINDOW@htpoort.nl>", rargs), HTG_CONTINUE);
	ck_assert_str_eq(htg_msg_fix_notify(msg),
			 "NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;SINGLEWINDOW@htpoort.nl");
	ck_assert_ptr_nonnull(htg_msg_fix_envid(msg));
	ck_assert_msg(strncmp(htg_msg_fix_envid(msg), "htgate.", 7) == 0, "envid %s",
		      htg_msg_fix_envid(msg));
	htg_msg_free(msg);
}
END_TEST

/* to_ags - a message under c from jan@example.com, first recipient AGS */
static struct htg_msg *
to_ags(struct htg_cfg *c)
{
	struct htg_msg *msg = htg_msg_new(c, 0);

	htg_msg_mail(msg, "<jan@example.com>", NULL);
	htg_msg_rcpt(msg, "<AGS@htpoort.nl>", NULL);
	return (msg);
}

START_TEST(test_reply_format)
{
	struct htg_msg *msg = to_ags(cfg);
	struct htg_reply r;

	ck_assert_int_eq(htg_msg_rcpt(msg, "<DMS@htpoort.nl>", NULL), HTG_REJECT);
	ck_assert_int_eq(htg_msg_reply(msg, &r), 2);
	ck_assert_str_eq(r.code, "550");
	ck_assert_str_eq(r.xcode, "5.5.3");
	unit_assert_prefix(r.lines[0], "[HTG ENV-ONE-RCPT] A message to HTG");
	unit_assert_prefix(r.lines[1], "[HTG ENV-ONE-RCPT] Een bericht aan HTG");
	/* reported findings are not repeated */
	ck_assert_int_eq(htg_msg_reply(msg, &r), 0);
	/* the refused recipient is forgotten: the first one stays */
	ck_assert_str_eq(htg_msg_recipient(msg), "AGS@htpoort.nl");
	ck_assert_int_eq(htg_msg_recipient_count(msg), 1);
	htg_msg_free(msg);
}
END_TEST

START_TEST(test_defer_mode)
{
	struct htg_msg *msg = htg_msg_new(cfg, HTG_MSG_DEFER_ENVELOPE);
	const char *body = "VU5BOis=\r\n";

	htg_msg_mail(msg, "<jan@example.com>", NULL);
	ck_assert_int_eq(htg_msg_rcpt(msg, "<AGS@htpoort.nl>", NULL), HTG_CONTINUE);
	ck_assert_int_eq(htg_msg_rcpt(msg, "<DMS@htpoort.nl>", NULL), HTG_CONTINUE);
	ck_assert_int_eq(htg_msg_recipient_count(msg), 2);
	htg_msg_header(msg, "From", "jan@example.com");
	htg_msg_header(msg, "To", "AGS@htpoort.nl");
	htg_msg_header(msg, "Cc", "x@example.com");
	ck_assert_int_eq(htg_msg_eoh(msg), HTG_CONTINUE);
	ck_assert_int_eq(htg_msg_body(msg, (const unsigned char *) body, strlen(body)), HTG_CONTINUE);
	ck_assert_int_eq(htg_msg_eom(msg), HTG_REJECT);
	htg_msg_free(msg);
}
END_TEST

START_TEST(test_report_only)
{
	struct htg_msg *msg = to_ags(cfgs[V_REPORT_ONLY]);

	ck_assert_int_eq(htg_msg_rcpt(msg, "<AGS@htpoort.nl>", NULL), HTG_CONTINUE);
	htg_msg_free(msg);
}
END_TEST

/* egress: a recipient of another environment than the transport's */
START_TEST(test_egress_route)
{
	struct htg_msg *msg = htg_msg_new(cfg, HTG_MSG_EGRESS);
	const struct htg_env *prod = cfg_env_by_domain(cfg, "htpoort.nl", NULL);

	htg_msg_set_route(msg, prod);
	htg_msg_mail(msg, "<jan@example.com>", NULL);
	ck_assert_int_eq(htg_msg_rcpt(msg, "<AGS@msa-smtp.preprod.htpoort.nl>",
				      NULL), HTG_REJECT);
	ck_assert_int_eq(htg_msg_rcpt(msg, "<AGS@msa-smtp.htpoort.nl>", NULL),
			 HTG_CONTINUE);
	htg_msg_free(msg);
}
END_TEST

START_TEST(test_internal_tempfail)
{
	struct htg_msg *msg = htg_msg_new(cfg, 0);
	struct htg_reply r;

	ck_assert_int_eq(htg_msg_add_finding(msg, RULE_INTERNAL, HTG_STAGE_EOM,
					     "out of memory"), HTG_TEMPFAIL);
	htg_msg_reply(msg, &r);
	ck_assert_str_eq(r.code, "451");
	ck_assert_str_eq(r.xcode, "4.3.0");
	htg_msg_free(msg);
}
END_TEST

/* load_conf - a configuration from text, through a temporary file */
static struct htg_cfg *
load_conf(const char *text)
{
	char	path[] = "/tmp/htgate-test-XXXXXX", err[512];
	int	fd = mkstemp(path);
	struct htg_cfg *c;

	if (fd < 0 || write(fd, text, strlen(text)) < 0)
		abort();
	close(fd);
	c = cfg_load(path, err, sizeof(err));
	unlink(path);
	if (c == NULL) {
		fprintf(stderr, "test config: %s\n", err);
		abort();
	}
	return (c);
}

/* setup - load the test configurations once */
static void
setup(void)
{
	mimehdr_init();
	cfgs[V_DEFAULT] = load_conf(test_conf);
	cfgs[V_REPORT_ONLY] = load_conf(report_only_conf);
	cfgs[V_MIXED_WARN] = load_conf(mixed_warn_conf);
}

/* teardown - release them */
static void
teardown(void)
{
	int	i;

	for (i = 0; i < V_COUNT; i++)
		cfg_unref(cfgs[i]);
}

/* SMTP replies are US-ASCII (RFC 5321 4.2): so must every rule text be */
START_TEST(test_texts_ascii)
{
	int	id;
	const char *t;

	for (id = 0; id < RULE_COUNT; id++) {
		const struct htg_rule *r = rule_get((enum htg_rule_id) id);
		const char *texts[] = {r->text_en, r->text_nl, r->summary};
		size_t	k;

		for (k = 0; k < G_N_ELEMENTS(texts); k++)
			for (t = texts[k]; t && *t; t++)
				ck_assert_msg((unsigned char) *t < 128,
					      "%s: non-ASCII text \"%s\"",
					      r->name, texts[k]);
	}
	/* the hints for mail-client users go into the same replies */
	for (id = HTG_HINT_NONE + 1; id < HTG_HINT_COUNT; id++) {
		int	lang;

		for (lang = 0; lang < 2; lang++) {
			const char *h = hint_text((enum htg_hint) id, lang);

			ck_assert_msg(h != NULL && *h, "hint %d/%d missing", id, lang);
			ck_assert_msg(strlen(h) + 32 < HTG_REPLY_LINE, "hint too long: %s", h);
			for (t = h; *t; t++)
				ck_assert_msg((unsigned char) *t < 128,
					      "hint %d: non-ASCII text \"%s\"", id, h);
		}
	}
	ck_assert_ptr_null(hint_text(HTG_HINT_NONE, 0));
}
END_TEST

/* HDR-CC tells a mail-client user what to do, in both languages */
START_TEST(test_reply_hint)
{
	struct htg_msg *msg = to_ags(cfg);
	struct htg_reply r;

	htg_msg_header(msg, "From", "jan@example.com");
	htg_msg_header(msg, "To", "AGS@htpoort.nl");
	htg_msg_header(msg, "Cc", "boss@example.com");
	ck_assert_int_eq(htg_msg_eoh(msg), HTG_REJECT);
	ck_assert_int_ge(htg_msg_reply(msg, &r), 4);
	unit_assert_prefix(r.lines[0], "[HTG HDR-CC] Cc and Bcc");
	ck_assert_str_eq(r.lines[1], "[HTG HDR-CC] In your mail client, empty the Cc "
			 "and Bcc fields and send the message to the HTG address alone.");
	unit_assert_prefix(r.lines[3], "[HTG HDR-CC] Maak in uw mailprogramma");
	htg_msg_free(msg);
}
END_TEST

int
main(void)
{
	Suite  *s = suite_create("engine");
	TCase  *tc = unit_tcase(s, "rules", setup, teardown);
	const TTest *tests[] = {test_fix_values, test_reply_format,
		test_texts_ascii, test_reply_hint, test_defer_mode,
		test_report_only, test_egress_route, test_internal_tempfail};

	tcase_add_loop_test(tc, test_rule_cases, 0, G_N_ELEMENTS(cases));
	unit_add_tests(tc, tests, G_N_ELEMENTS(tests));
	return (unit_run(s, 0) ? 1 : 0);
}
