-- A non-SMTP submission (sendmail(1), defer mode) whose first recipient
-- is not HTG and whose second is, with To: AGS@htpoort.nl: refused at
-- end of message (ENV-MIXED), and the milter is still there for the
-- next message (it used to dereference NULL here and die).
dofile(mtdir .. "/common.lua")
for round = 1, 2 do
	local conn = open()
	mail(conn, SENDER)
	if rcpt(conn, "<boss@example.com>") ~= SMFIR_CONTINUE then
		fail("RCPT 1 refused in non-SMTP mode")
	end
	if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then
		fail("RCPT 2 refused in non-SMTP mode")
	end
	local stage, r = message(conn, good_headers())
	expect_stage(stage, r, "eom", SMFIR_REPLYCODE,
		     "non-SMTP message to a non-HTG and an HTG recipient")
	close(conn)
end
