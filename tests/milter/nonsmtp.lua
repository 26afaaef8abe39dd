-- A non-SMTP submission (htgate-milter -N) is never refused at RCPT: a
-- second HTG recipient passes RCPT and the message is refused at end of
-- message (ENV-ONE-RCPT).
dofile(mtdir .. "/common.lua")
local conn = session(SENDER, {
	{HTG_RCPT, SMFIR_CONTINUE, "RCPT 1 refused"},
	{"<DMS@msa-smtp.htpoort.nl>", SMFIR_CONTINUE, "RCPT 2 refused in non-SMTP mode"},
})
expect_message(conn, good_headers(), nil, "eom", SMFIR_REPLYCODE,
    "non-SMTP message with two recipients")
close(conn)
