-- MAIL FROM:<> with a multipart/report that is no delivery report (an
-- EDIFACT part and an .exe where the delivery status belongs) is refused
-- at end of message (ENV-ONE-SENDER); so is one with a Cc (HDR-CC).
dofile(mtdir .. "/common.lua")
local conn = start("<>")
local stage, r = message(conn, {
	{"From", "MAILER-DAEMON@relay.example.com"},
	{"To", "AGS@htpoort.nl"},
	{"Subject", "Undelivered Mail Returned to Sender"},
	{"MIME-Version", "1.0"},
	{"Content-Type", "multipart/report; report-type=delivery-status; boundary=\"ABC\""},
}, {"--ABC\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
    "--ABC\r\nContent-Type: application/edifact\r\n\r\nUNA:+.? '\r\n",
    "--ABC\r\nContent-Type: application/octet-stream; name=x.exe\r\n\r\nTVo=\r\n--ABC--\r\n"})
expect_stage(stage, r, "eom", SMFIR_REPLYCODE, "fake delivery report")
close(conn)

conn = start("<>")
stage, r = message(conn, {
	{"From", "MAILER-DAEMON@relay.example.com"},
	{"To", "AGS@htpoort.nl"},
	{"Cc", "boss@example.com"},
	{"Content-Type", "multipart/report; report-type=delivery-status; boundary=\"ABC\""},
}, {"--ABC\r\n\r\nx\r\n--ABC\r\nContent-Type: message/delivery-status\r\n\r\nx\r\n--ABC--\r\n"})
expect_stage(stage, r, "eoh", SMFIR_REPLYCODE, "delivery report with a Cc")
close(conn)
