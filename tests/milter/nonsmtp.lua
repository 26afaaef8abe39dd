-- A non-SMTP submission (htgate-milter -N) is never refused at RCPT: a
-- second HTG recipient passes RCPT and the message is refused at end of
-- message (ENV-ONE-RCPT).
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("RCPT 1 refused") end
if rcpt(conn, "<DMS@msa-smtp.htpoort.nl>") ~= SMFIR_CONTINUE then
	fail("RCPT 2 refused in non-SMTP mode")
end
local stage, r = message(conn, good_headers())
expect_stage(stage, r, "eom", SMFIR_REPLYCODE, "non-SMTP message with two recipients")
close(conn)
