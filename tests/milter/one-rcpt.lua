-- A second HTG recipient is refused at RCPT (ENV-ONE-RCPT, 5.5.3); the
-- first one stays and the message goes on.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("first RCPT refused") end
if rcpt(conn, "<DMS@msa-smtp.htpoort.nl>") ~= SMFIR_REPLYCODE then
	fail("second HTG recipient not refused with a reply")
end
local stage, r = message(conn, good_headers())
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "message after the refused RCPT")
close(conn)
