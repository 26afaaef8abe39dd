-- A Thunderbird attachment (multipart/mixed) is refused: MIME-SINGLE.
dofile(mtdir .. "/common.lua")
run_cases({{headers = good_headers({
		["Content-Type"] = "multipart/mixed;\r\n boundary=\"------------0B1C2D3E4F\"",
		["Content-Transfer-Encoding"] = false,
		["Content-Disposition"] = false,
	}, {{"User-Agent", "Mozilla Thunderbird"}}), chunks = {
		"This is a multi-part message in MIME format.\r\n",
		"--------------0B1C2D3E4F\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n",
		"--------------0B1C2D3E4F--\r\n"},
	stage = "eoh", code = SMFIR_REPLYCODE, what = "multipart/mixed message"}})
