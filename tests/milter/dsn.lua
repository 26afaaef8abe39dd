-- A genuine delivery status notification (null sender, multipart/report
-- of delivery-status with a message/delivery-status part) to HTG passes
-- untouched.
dofile(mtdir .. "/common.lua")
local conn = start("<>")
local stage, r = message(conn, dsn_headers({
	["Content-Type"] = "multipart/report; report-type=delivery-status;\r\n boundary=\"ABC\"",
}), {"This is a MIME-encapsulated message.\r\n\r\n--ABC\r\n",
    "Content-Type: text/plain\r\n\r\nYour answer could not be delivered.\r\n",
    "--ABC\r\nContent-Type: message/delivery-status\r\n\r\n",
    "Reporting-MTA: dns; relay.example.com\r\n\r\nFinal-Recipient: rfc822; jan@example.com\r\n",
    "Action: failed\r\nStatus: 5.1.1\r\n\r\n--ABC\r\nContent-Type: text/rfc822-headers\r\n\r\n",
    "Subject: AGS response\r\n\r\n--ABC--\r\n"})
if r ~= SMFIR_ACCEPT then fail("DSN not accepted (" .. stage .. ")") end
expect_change(conn, false, "a header was added to a DSN", MT_HDRADD)
close(conn)
