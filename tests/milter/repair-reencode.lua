-- UTF-8 text sent 8bit is re-encoded as base64 of the same bytes; a
-- windows-1252 text without bytes 0x80-0x9F is relabelled ISO-8859-1
-- and its body left alone.
dofile(mtdir .. "/common.lua")
run_cases({
	{headers = good_headers({
		["Content-Type"] = "text/plain; charset=UTF-8",
		["Content-Transfer-Encoding"] = "8bit",
		["Content-Disposition"] = "attachment; filename=\"prijs.txt\"",
	 }), chunks = {"Prijs: 10 \226\130\172\r\n"}, what = "8bit UTF-8 text",
	 changes = {
		{true, "Content-Transfer-Encoding not changed to base64",
		 MT_HDRCHANGE, "Content-Transfer-Encoding", "base64"},
		{true, "body not re-encoded as base64 of the same bytes",
		 MT_BODYCHANGE, "UHJpanM6IDEwIOKCrA0K\r\n"}}},
	{headers = good_headers({
		["Message-ID"] = "<43.test@example.com>",
		["Content-Type"] = "text/plain; charset=\"windows-1252\"",
		["Content-Transfer-Encoding"] = "quoted-printable",
		["Content-Disposition"] = "attachment; filename=\"a.txt\"",
	 }), chunks = {"Caf=E9 Ren=E9e\r\n"}, what = "windows-1252 text",
	 changes = {
		{true, "charset not relabelled ISO-8859-1",
		 MT_HDRCHANGE, "Content-Type", "text/plain; charset=ISO-8859-1"},
		{false, "the body of a relabelled message was replaced", MT_BODYCHANGE}}},
})
