-- A windows-1252 charset is refused: MIME-CHARSET.
dofile(mtdir .. "/common.lua")
run_cases({{headers = good_headers({
		["Content-Type"] = "text/plain; charset=windows-1252",
		["Content-Transfer-Encoding"] = "quoted-printable",
		["Content-Disposition"] = "attachment; filename=\"decl.txt\"",
	}), chunks = {"Caf=E9\r\n"},
	stage = "eoh", code = SMFIR_REPLYCODE, what = "windows-1252 message"}})
