-- Spellings that Postfix's rewriting turns into an HTG address are
-- HTG-bound and refused at RCPT (ENV-ADDRESS), each in its own message.
dofile(mtdir .. "/common.lua")
local forms = {
	"<AGS@msa-smtp.htpoort.nl.>",
	"<AGS@htpoort.nl.>",
	"<AGS%msa-smtp.htpoort.nl@[127.0.0.1]>",
	"<AGS%msa-smtp.htpoort.nl@example.com>",
	"<msa-smtp.htpoort.nl!AGS>",
	"<@relay.example.com:AGS@msa-smtp.htpoort.nl>",
	"<\"AGS\"@msa-smtp.htpoort.nl>",
}
for _, f in ipairs(forms) do
	close(session(SENDER, {{f, SMFIR_REPLYCODE, "RCPT " .. f .. " not refused"}}))
end
-- ... while case alone changes nothing.
close(session(SENDER, {{"<ags@MSA-SMTP.HTPOORT.NL>", SMFIR_CONTINUE,
    "RCPT in other case refused"}}))
