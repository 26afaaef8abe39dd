-- A windows-1252 charset is refused: MIME-CHARSET.
dofile(mtdir .. "/common.lua")
local conn = start()
local h = good_headers({
	["Content-Type"] = "text/plain; charset=windows-1252",
	["Content-Transfer-Encoding"] = "quoted-printable",
	["Content-Disposition"] = "attachment; filename=\"decl.txt\"",
})
local stage, r = message(conn, h, {"Caf=E9\r\n"})
expect_stage(stage, r, "eoh", SMFIR_REPLYCODE, "windows-1252 message")
close(conn)
