-- MAIL FROM:<> with a multipart/report that is no delivery report (an
-- EDIFACT part and an .exe where the delivery status belongs) is refused
-- at end of message (ENV-ONE-SENDER); so is one with a Cc (HDR-CC).
dofile(mtdir .. "/common.lua")
run_cases({
	{from = "<>", headers = dsn_headers(), chunks = {
		"--ABC\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
		"--ABC\r\nContent-Type: application/edifact\r\n\r\nUNA:+.? '\r\n",
		"--ABC\r\nContent-Type: application/octet-stream; name=x.exe\r\n\r\nTVo=\r\n--ABC--\r\n"},
	 code = SMFIR_REPLYCODE, what = "fake delivery report"},
	{from = "<>", headers = dsn_headers({Subject = false, ["MIME-Version"] = false},
					    {{"Cc", "boss@example.com"}}),
	 chunks = {"--ABC\r\n\r\nx\r\n--ABC\r\nContent-Type: message/delivery-status\r\n\r\nx\r\n--ABC--\r\n"},
	 stage = "eoh", code = SMFIR_REPLYCODE, what = "delivery report with a Cc"},
})
