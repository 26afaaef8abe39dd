-- UTF-8 text sent 8bit is re-encoded as base64 of the same bytes; a
-- windows-1252 text without bytes 0x80-0x9F is relabelled ISO-8859-1
-- and its body left alone.
dofile(mtdir .. "/common.lua")
local conn = start()
local stage, r = message(conn, good_headers({
	["Content-Type"] = "text/plain; charset=UTF-8",
	["Content-Transfer-Encoding"] = "8bit",
	["Content-Disposition"] = "attachment; filename=\"prijs.txt\"",
}), {"Prijs: 10 \226\130\172\r\n"})
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "8bit UTF-8 text")
if not mt.eom_check(conn, MT_HDRCHANGE, "Content-Transfer-Encoding", "base64") then
	fail("Content-Transfer-Encoding not changed to base64")
end
if not mt.eom_check(conn, MT_BODYCHANGE, "UHJpanM6IDEwIOKCrA0K\r\n") then
	fail("body not re-encoded as base64 of the same bytes")
end
close(conn)

conn = start()
stage, r = message(conn, good_headers({
	["Message-ID"] = "<43.test@example.com>",
	["Content-Type"] = "text/plain; charset=\"windows-1252\"",
	["Content-Transfer-Encoding"] = "quoted-printable",
	["Content-Disposition"] = "attachment; filename=\"a.txt\"",
}), {"Caf=E9 Ren=E9e\r\n"})
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "windows-1252 text")
if not mt.eom_check(conn, MT_HDRCHANGE, "Content-Type",
		    "text/plain; charset=ISO-8859-1") then
	fail("charset not relabelled ISO-8859-1")
end
if mt.eom_check(conn, MT_BODYCHANGE) then
	fail("the body of a relabelled message was replaced")
end
close(conn)
