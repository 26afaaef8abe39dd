-- A non-SMTP submission (sendmail(1), defer mode) whose first recipient
-- is not HTG and whose second is, with To: AGS@htpoort.nl: refused at
-- end of message (ENV-MIXED), and the milter is still there for the
-- next message (it used to dereference NULL here and die).
dofile(mtdir .. "/common.lua")
for round = 1, 2 do
	local conn = session(SENDER, {
		{"<boss@example.com>", SMFIR_CONTINUE, "RCPT 1 refused in non-SMTP mode"},
		{HTG_RCPT, SMFIR_CONTINUE, "RCPT 2 refused in non-SMTP mode"},
	})
	expect_message(conn, good_headers(), nil, "eom", SMFIR_REPLYCODE,
	    "non-SMTP message to a non-HTG and an HTG recipient")
	close(conn)
end
