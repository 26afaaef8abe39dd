-- A non-HTG recipient first, then an HTG one: ENV-MIXED at RCPT.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
if rcpt(conn, "<someone@example.org>") ~= SMFIR_CONTINUE then
	fail("non-HTG RCPT refused")
end
if rcpt(conn, HTG_RCPT) ~= SMFIR_REPLYCODE then
	fail("HTG recipient after a non-HTG one not refused")
end
close(conn)
