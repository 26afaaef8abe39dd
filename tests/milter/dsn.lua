-- A delivery status notification (null sender, multipart/report) to HTG
-- passes untouched.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, "<>")
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("RCPT refused") end
local stage, r = message(conn, {
	{"From", "MAILER-DAEMON@relay.example.com"},
	{"To", "AGS@htpoort.nl"},
	{"Subject", "Undelivered Mail Returned to Sender"},
	{"MIME-Version", "1.0"},
	{"Content-Type", "multipart/report; report-type=delivery-status;\r\n boundary=\"ABC\""},
}, {"--ABC\r\n\r\nbounce\r\n--ABC--\r\n"})
if r ~= SMFIR_ACCEPT then fail("DSN not accepted (" .. stage .. ")") end
if mt.eom_check(conn, MT_HDRADD) then fail("a header was added to a DSN") end
close(conn)
