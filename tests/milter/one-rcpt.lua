-- A second HTG recipient is refused at RCPT (ENV-ONE-RCPT, 5.5.3); the
-- first one stays and the message goes on.
dofile(mtdir .. "/common.lua")
local conn = session(SENDER, {
	{HTG_RCPT, SMFIR_CONTINUE, "first RCPT refused"},
	{"<DMS@msa-smtp.htpoort.nl>", SMFIR_REPLYCODE,
	 "second HTG recipient not refused with a reply"},
})
expect_message(conn, good_headers(), nil, "eom", SMFIR_ACCEPT,
    "message after the refused RCPT")
close(conn)
