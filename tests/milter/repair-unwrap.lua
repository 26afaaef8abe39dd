-- A Thunderbird message (text + text/xml attachment, base64) is unwrapped:
-- the attachment becomes the message (Content-Type relabelled
-- application/xml, its Content-Transfer-Encoding and Content-Disposition
-- added) and the body is replaced by the attachment's base64 lines.
dofile(mtdir .. "/common.lua")
local B = "------------0B1C2D3E4F"
local conn = start()
local h = good_headers({
	["Content-Type"] = "multipart/mixed;\r\n boundary=\"" .. B .. "\"",
	["Content-Transfer-Encoding"] = false,
	["Content-Disposition"] = false,
}, {{"User-Agent", "Mozilla Thunderbird"}})
expect_message(conn, h, {
	"This is a multi-part message in MIME format.\r\n",
	"--" .. B .. "\r\nContent-Type: text/plain; charset=UTF-8; format=flowed\r\n" ..
	"Content-Transfer-Encoding: 8bit\r\n\r\nBeste,\r\n\r\nIn de bijlage.\r\n\r\n",
	"--" .. B .. "\r\nContent-Type: text/xml; charset=UTF-8;\r\n name=\"AGS.xml\"\r\n" ..
	"Content-Disposition: attachment;\r\n filename=\"AGS.xml\"\r\n" ..
	"Content-Transfer-Encoding: base64\r\n\r\n" .. B64_XML .. "\r\n",
	"--" .. B .. "--\r\n"}, "eom", SMFIR_ACCEPT, "Thunderbird attachment")
expect_change(conn, true, "Content-Type not changed to application/xml",
    MT_HDRCHANGE, "Content-Type", "application/xml; charset=UTF-8; name=AGS.xml")
if not mt.eom_check(conn, MT_HDRINSERT, "Content-Transfer-Encoding", "base64")
    and not mt.eom_check(conn, MT_HDRADD, "Content-Transfer-Encoding", "base64") then
	fail("Content-Transfer-Encoding not added")
end
if not mt.eom_check(conn, MT_HDRINSERT, "Content-Disposition",
		    "attachment;\tfilename=\"AGS.xml\"")
    and not mt.eom_check(conn, MT_HDRADD, "Content-Disposition",
			 "attachment; filename=\"AGS.xml\"")
    and not mt.eom_check(conn, MT_HDRADD, "Content-Disposition",
			 "attachment; filename=AGS.xml") then
	fail("Content-Disposition not added")
end
expect_change(conn, true, "body not replaced by the attachment's base64",
    MT_BODYCHANGE, B64_XML)
close(conn)
