/*
 * NAME
 *	rules - the rule table: IDs, stages, default actions, reply texts
 * DESCRIPTION
 *	One row per rule of shared/htg-rules.md (Envelope, Header and Body
 *	tables) plus four of htgate's own: ENV-ADDRESS (an HTG address
 *	written in a form Postfix rewrites, or a recipient at the egress
 *	stage that is not an HTG address), MIME-HEADER (a header that
 *	decides the MIME reading is ambiguous or unparseable), LIMIT (a
 *	bound on peer input was exceeded) and INTERNAL (htgate itself
 *	failed: always a temporary failure).  doc/rules.md is the human
 *	version of this table; tests/doc/check-rules-doc.sh keeps them in step.
 *	MIME-SINGLE, MIME-TYPE, MIME-CHARSET, MIME-CTE and MIME-7BIT are
 *	fixable since issue 11 (repairs, engine_repair.c and repair.c); their
 *	default stays reject, as HTG refuses such messages.  The hint table
 *	holds the sentence a reply adds for a mail-client user (rules.h).
 * OWNERSHIP
 *	Static, read-only.
 */
#include "config.h"

#include <string.h>
#include <strings.h>

#include "rules.h"

#define MSA5	"MSA §5 Tabel 3"
#define MSA5H	"MSA §5 Tabel 4"
#define MSA5B	"MSA §5 Tabel 5"

static const struct htg_rule rule_table[RULE_COUNT] = {
	[RULE_ENV_ONE_RCPT] = {RULE_ENV_ONE_RCPT, "ENV-ONE-RCPT", HTG_STAGE_RCPT,
		HTG_ACT_REJECT, 0, "550", "5.5.3", MSA5,
		"An HTG-bound message has exactly one envelope recipient.",
		"A message to HTG may have only one recipient (%s); send one message per recipient.",
		"Een bericht aan HTG mag maar 1 ontvanger hebben (%s); stuur per ontvanger een apart bericht."},
	[RULE_ENV_MIXED] = {RULE_ENV_MIXED, "ENV-MIXED", HTG_STAGE_RCPT,
		HTG_ACT_REJECT, 0, "550", "5.5.3", "MSA §5",
		"HTG and non-HTG recipients cannot share one message.",
		"HTG and non-HTG recipients cannot be combined in one message (%s); send the HTG message separately.",
		"HTG- en andere ontvangers kunnen niet in 1 bericht (%s); stuur het bericht aan HTG apart."},
	[RULE_ENV_ONE_SENDER] = {RULE_ENV_ONE_SENDER, "ENV-ONE-SENDER", HTG_STAGE_RCPT,
		HTG_ACT_REJECT, 0, "550", "5.1.7", "MSA §5 Tabel 3, §3.6",
		"Exactly one originator, given as a full address.",
		"The sender must be one full e-mail address (%s).",
		"De afzender moet 1 volledig e-mailadres zijn (%s)."},
	[RULE_ENV_STREAM] = {RULE_ENV_STREAM, "ENV-STREAM", HTG_STAGE_RCPT,
		HTG_ACT_REJECT, 0, "550", "5.1.1", "MSA §2.1, §3.7",
		"The recipient's local part is a stream this company is connected to.",
		"Unknown HTG message stream (%s); check the address in the interface agreement.",
		"Onbekende HTG-berichtsoort (%s); controleer het adres in de koppelvlakafspraak."},
	[RULE_ENV_ENVIRONMENT] = {RULE_ENV_ENVIRONMENT, "ENV-ENVIRONMENT", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 0, "550", "5.1.0", "MSA §5 Tabel 3-4",
		"Envelope recipient and To: header name the same HTG environment.",
		"Envelope recipient and To: header point to different HTG environments (%s).",
		"Envelope-ontvanger en To:-header verwijzen naar verschillende HTG-omgevingen (%s)."},
	[RULE_ENV_ENVID] = {RULE_ENV_ENVID, "ENV-ENVID", HTG_STAGE_RCPT,
		HTG_ACT_FIX, 1, "550", "5.5.4", MSA5,
		"A delivery receipt (NOTIFY=SUCCESS) needs a unique ENVID on MAIL FROM.",
		"The envelope ID is missing or not unique (%s); give a unique ENVID= on MAIL FROM.",
		"Het envelope-ID ontbreekt of is niet uniek (%s); geef een uniek ENVID= mee bij MAIL FROM."},
	[RULE_ENV_NOTIFY] = {RULE_ENV_NOTIFY, "ENV-NOTIFY", HTG_STAGE_RCPT,
		HTG_ACT_FIX, 1, "550", "5.5.4", "MSA §2.2.2, SW DSN",
		"NOTIFY is SUCCESS and/or FAILURE or NEVER; Single Window demands SUCCESS,FAILURE.",
		"Wrong DSN request (%s).",
		"Onjuiste DSN-aanvraag (%s)."},
	[RULE_ENV_AUTH] = {RULE_ENV_AUTH, "ENV-AUTH", HTG_STAGE_RCPT,
		HTG_ACT_REJECT, 0, "550", "5.7.1", "MSA §2.2.1, SW",
		"The sender is authorised for the stream by a configured account.",
		"This sender may not use this HTG stream (%s).",
		"Deze afzender mag deze HTG-berichtsoort niet gebruiken (%s)."},
	[RULE_ENV_SIZE] = {RULE_ENV_SIZE, "ENV-SIZE", HTG_STAGE_BODY,
		HTG_ACT_REJECT, 0, "552", "5.3.4", "MSA §2.2.1, §3.8",
		"Message size within the limit handed out with the account.",
		"The message is too large for HTG (%s).",
		"Het bericht is te groot voor HTG (%s)."},
	[RULE_ENV_RATE] = {RULE_ENV_RATE, "ENV-RATE", HTG_STAGE_RCPT,
		HTG_ACT_WARN, 0, "450", "4.7.0", "MSA §1.3",
		"Low-frequency interface: on average at most one message per minute.",
		"Too many messages to HTG in a short time (%s); try again later.",
		"Te veel berichten aan HTG in korte tijd (%s); probeer het later opnieuw."},
	[RULE_ENV_ADDRESS] = {RULE_ENV_ADDRESS, "ENV-ADDRESS", HTG_STAGE_RCPT,
		HTG_ACT_REJECT, 0, "550", "5.1.3", "htgate (MSA §5 Tabel 3)",
		"An HTG recipient is written plainly as STREAM@domain; at egress every recipient is an HTG address.",
		"Write the HTG address plainly as STREAM@htpoort.nl (%s).",
		"Schrijf het HTG-adres zonder omwegen als BERICHTSOORT@htpoort.nl (%s)."},
	[RULE_HDR_FROM] = {RULE_HDR_FROM, "HDR-FROM", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 0, "550", "5.6.0", MSA5H ", SW",
		"From: present, one address: the sender or an address of the same HTG account.",
		"The From: header must hold exactly one address, the sender's or one HTG knows for this account (%s).",
		"De From:-header moet precies 1 adres bevatten, dat van de afzender of een adres dat HTG voor dit account kent (%s)."},
	[RULE_HDR_TO] = {RULE_HDR_TO, "HDR-TO", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 0, "550", "5.6.0", MSA5H,
		"To: present, exactly one address: <stream>@htpoort.nl matching the envelope.",
		"The To: header must hold exactly one address, the stream's HTG address (%s).",
		"De To:-header moet precies 1 adres bevatten: het HTG-adres van de berichtsoort (%s)."},
	[RULE_HDR_CC] = {RULE_HDR_CC, "HDR-CC", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 0, "550", "5.6.0", MSA5H,
		"No Cc: and no Bcc: (a message has one recipient).",
		"Cc and Bcc are not allowed in a message to HTG (%s); remove them.",
		"Cc en Bcc zijn niet toegestaan in een bericht aan HTG (%s); verwijder ze."},
	[RULE_HDR_MSGID] = {RULE_HDR_MSGID, "HDR-MSGID", HTG_STAGE_HEADER,
		HTG_ACT_FIX, 1, "550", "5.6.0", MSA5H,
		"Message-ID: present once, well-formed and unique.",
		"The Message-ID header is missing, malformed or not unique (%s).",
		"De Message-ID-header ontbreekt, is onjuist of is niet uniek (%s)."},
	[RULE_HDR_SUBJECT] = {RULE_HDR_SUBJECT, "HDR-SUBJECT", HTG_STAGE_HEADER,
		HTG_ACT_WARN, 0, "550", "5.6.0", MSA5H,
		"Subject: once; missing or empty only warns (HTG passes it on as it is).",
		"The message needs one non-empty Subject: header (%s).",
		"Het bericht moet 1 niet-lege Subject:-header hebben (%s)."},
	[RULE_HDR_DATE] = {RULE_HDR_DATE, "HDR-DATE", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 0, "550", "5.6.0", MSA5H,
		"Date: present once, a valid RFC 5322 date.",
		"The message needs one valid Date: header (%s).",
		"Het bericht moet 1 geldige Date:-header hebben (%s)."},
	[RULE_MIME_SINGLE] = {RULE_MIME_SINGLE, "MIME-SINGLE", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 1, "550", "5.6.1", MSA5B ", SW DSN",
		"Exactly one body part: not multipart, not empty; fix: a mail client's one attachment beside a short text becomes the body.",
		"A message to HTG must have exactly one body part (%s); send the file itself as the message body, not as an attachment beside a text.",
		"Een bericht aan HTG moet precies 1 body part hebben (%s); verstuur het bestand zelf als berichtinhoud, niet als bijlage naast een tekst."},
	[RULE_MIME_TYPE] = {RULE_MIME_TYPE, "MIME-TYPE", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 1, "550", "5.6.1", MSA5B ", SW",
		"Content-Type one of text/plain, application/edifact, xml, pdf, zip, octet-stream; Single Window: text/plain, edifact, xml; fix: text/xml becomes application/xml.",
		"Content-Type not allowed by HTG (%s); use text/plain, application/edifact, application/xml, application/pdf, application/zip or application/octet-stream.",
		"Content-Type niet toegestaan door HTG (%s); gebruik text/plain, application/edifact, application/xml, application/pdf, application/zip of application/octet-stream."},
	[RULE_MIME_CHARSET] = {RULE_MIME_CHARSET, "MIME-CHARSET", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 1, "550", "5.6.0", MSA5B,
		"No Windows code pages (CPxxxx, windows-125x); us-ascii, UTF-8, ISO-8859-1/15 are safe; fix: windows-125x relabelled where the bytes mean the same.",
		"Character set not allowed by HTG (%s); use UTF-8, ISO-8859-1, ISO-8859-15 or us-ascii.",
		"Tekenset niet toegestaan door HTG (%s); gebruik UTF-8, ISO-8859-1, ISO-8859-15 of us-ascii."},
	[RULE_MIME_CTE] = {RULE_MIME_CTE, "MIME-CTE", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 1, "550", "5.6.0", MSA5B ", SW DSN",
		"Content-Transfer-Encoding base64, quoted-printable or 7bit (missing means 7bit); fix: 8bit and binary re-encoded as base64.",
		"Content-Transfer-Encoding not allowed by HTG (%s); use base64 (preferred) or quoted-printable.",
		"Content-Transfer-Encoding niet toegestaan door HTG (%s); gebruik base64 (voorkeur) of quoted-printable."},
	[RULE_MIME_B64] = {RULE_MIME_B64, "MIME-B64", HTG_STAGE_BODY,
		HTG_ACT_REJECT, 0, "550", "5.6.0", "SW DSN",
		"A base64 body is valid base64.",
		"The body is not valid base64 (%s).",
		"De berichtinhoud is geen geldige base64 (%s)."},
	[RULE_MIME_QP] = {RULE_MIME_QP, "MIME-QP", HTG_STAGE_BODY,
		HTG_ACT_REJECT, 0, "550", "5.6.0", "SW DSN",
		"A quoted-printable body is valid quoted-printable.",
		"The body is not valid quoted-printable (%s).",
		"De berichtinhoud is geen geldige quoted-printable (%s)."},
	[RULE_MIME_7BIT] = {RULE_MIME_7BIT, "MIME-7BIT", HTG_STAGE_BODY,
		HTG_ACT_REJECT, 1, "550", "5.6.0", MSA5B ", SW DSN",
		"A 7bit body has no byte above 127, no NUL, lines of at most 998 octets; fix: under a declared 8-bit charset re-encoded as base64.",
		"The body is not valid 7bit data (%s); send it base64-encoded.",
		"De berichtinhoud is geen geldige 7bit-data (%s); verstuur het base64-gecodeerd."},
	[RULE_MIME_DISPOSITION] = {RULE_MIME_DISPOSITION, "MIME-DISPOSITION", HTG_STAGE_HEADER,
		HTG_ACT_FIX, 1, "550", "5.6.0", MSA5B,
		"Content-Disposition: attachment; filename=<name>.<ext> (else HTG names it .txt); added or repaired by default.",
		"The body needs Content-Disposition: attachment; filename=<name>.<ext> (%s), or HTG stores it as .txt.",
		"De berichtinhoud heeft Content-Disposition: attachment; filename=<naam>.<extensie> nodig (%s), anders slaat HTG het op als .txt."},
	[RULE_MIME_HEADER] = {RULE_MIME_HEADER, "MIME-HEADER", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 0, "550", "5.6.0", "SW DSN (unparseable MIME)",
		"A MIME header is given once and parses; conflicting repeats are never guessed.",
		"A MIME header is ambiguous or cannot be parsed (%s).",
		"Een MIME-header is dubbelzinnig of onleesbaar (%s)."},
	[RULE_LIMIT] = {RULE_LIMIT, "LIMIT", HTG_STAGE_HEADER,
		HTG_ACT_REJECT, 0, "552", "5.3.4", "htgate",
		"Bounds on header count, header size and line length.",
		"The message exceeds a limit of the mail relay (%s).",
		"Het bericht overschrijdt een limiet van de mailserver (%s)."},
	[RULE_INTERNAL] = {RULE_INTERNAL, "INTERNAL", HTG_STAGE_CONNECT,
		HTG_ACT_TEMPFAIL, 0, "451", "4.3.0", "htgate",
		"htgate could not check the message: temporary failure, the sender retries.",
		"The message could not be checked (%s); it will be retried later.",
		"Het bericht kon niet worden gecontroleerd (%s); het wordt later opnieuw geprobeerd."},
};

/*
 * The hints: one sentence each, what to do in a mail client (Outlook,
 * Thunderbird, Apple Mail), in English and Dutch.  US-ASCII only.
 */
static const char *const hint_table[HTG_HINT_COUNT][2] = {
	[HTG_HINT_PLAIN_TEXT] = {
		"In your mail client, switch this message to plain text (not HTML) and send it again.",
		"Zet dit bericht in uw mailprogramma op platte tekst (geen HTML) en verstuur het opnieuw."},
	[HTG_HINT_ONE_FILE] = {
		"Attach exactly one file and send every other file in a message of its own.",
		"Voeg precies 1 bestand toe en stuur elk ander bestand in een eigen bericht."},
	[HTG_HINT_SHORT_TEXT] = {
		"Keep the message text to a short greeting or leave it empty, and put everything else in the attached file.",
		"Houd de berichttekst bij een korte groet of laat hem leeg, en zet al het andere in het bijgevoegde bestand."},
	[HTG_HINT_ATTACH] = {
		"Attach the one file meant for HTG to the message and send it again.",
		"Voeg het ene bestand voor HTG als bijlage toe en verstuur het bericht opnieuw."},
	[HTG_HINT_TNEF] = {
		"In Outlook, send this message as HTML or plain text, not as Rich Text (Format Text > HTML; for all messages: File > Options > Mail > Compose messages in HTML).",
		"Verstuur dit bericht in Outlook als HTML of platte tekst, niet als Rich Text (Tekst opmaken > HTML; voor alle berichten: Bestand > Opties > E-mail > Berichten opstellen in HTML)."},
	[HTG_HINT_NO_CC] = {
		"In your mail client, empty the Cc and Bcc fields and send the message to the HTG address alone.",
		"Maak in uw mailprogramma de velden CC en BCC leeg en stuur het bericht alleen aan het HTG-adres."},
	[HTG_HINT_UTF8] = {
		"In your mail client, set the encoding of outgoing messages to Unicode (UTF-8) (Outlook: File > Options > Advanced > International options).",
		"Stel in uw mailprogramma de codering van uitgaande berichten in op Unicode (UTF-8) (Outlook: Bestand > Opties > Geavanceerd > Internationale opties)."},
	[HTG_HINT_NO_SIGN] = {
		"In your mail client, send this message without signing or encrypting it.",
		"Verstuur dit bericht in uw mailprogramma zonder het te ondertekenen of te versleutelen."},
	[HTG_HINT_FILE_TYPE] = {
		"Attach the declaration file itself (EDIFACT, XML, PDF, ZIP or plain text), not a document, image or forwarded mail.",
		"Voeg het aangiftebestand zelf toe (EDIFACT, XML, PDF, ZIP of platte tekst), geen document, afbeelding of doorgestuurde mail."},
	[HTG_HINT_NO_UNWRAP] = {
		"A mail client always puts a text beside an attachment, which this relay does not remove: send the file from the system that made it.",
		"Een mailprogramma zet altijd een tekst naast een bijlage en deze mailserver haalt die niet weg: verstuur het bestand vanuit het systeem dat het maakte."},
};

/* hint_text - the hint sentence in a language (0 en, 1 nl); NULL: none */
const char *
hint_text(enum htg_hint hint, int lang)
{
	if ((unsigned) hint >= HTG_HINT_COUNT || lang < 0 || lang > 1)
		return (NULL);
	return (hint_table[hint][lang]);
}

/* rule_get - row of one rule */
const struct htg_rule *
rule_get(enum htg_rule_id id)
{
	if ((int) id < 0 || id >= RULE_COUNT)
		return (NULL);
	return (&rule_table[id]);
}

/* rule_by_name - row of a rule by its ID, case-insensitive */
const struct htg_rule *
rule_by_name(const char *name)
{
	int	i;

	for (i = 0; i < RULE_COUNT; i++)
		if (strcasecmp(rule_table[i].name, name) == 0)
			return (&rule_table[i]);
	return (NULL);
}

static const char *const action_names[] = {
	[HTG_ACT_NONE] = "ignore",
	[HTG_ACT_WARN] = "warn",
	[HTG_ACT_FIX] = "fix",
	[HTG_ACT_TEMPFAIL] = "tempfail",
	[HTG_ACT_REJECT] = "reject",
};

/* action_name - keyword of an action */
const char *
action_name(enum htg_action action)
{
	if ((unsigned) action >= sizeof(action_names) / sizeof(action_names[0]))
		return ("?");
	return (action_names[action]);
}

/* action_parse - action from its keyword; -1 if unknown */
int
action_parse(const char *name, enum htg_action *out)
{
	unsigned i;

	for (i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
		if (strcasecmp(action_names[i], name) == 0) {
			*out = (enum htg_action) i;
			return (0);
		}
	}
	return (-1);
}

static const char *const stage_names[] = {
	[HTG_STAGE_CONNECT] = "connect",
	[HTG_STAGE_MAIL] = "mail",
	[HTG_STAGE_RCPT] = "rcpt",
	[HTG_STAGE_HEADER] = "header",
	[HTG_STAGE_BODY] = "body",
	[HTG_STAGE_EOM] = "eom",
};

/* stage_name - keyword of a stage */
const char *
stage_name(enum htg_stage stage)
{
	if ((unsigned) stage >= sizeof(stage_names) / sizeof(stage_names[0]))
		return ("?");
	return (stage_names[stage]);
}
