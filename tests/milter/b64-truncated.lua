-- Base64 whose last quantum is cut short, in several chunks: valid in
-- every chunk, refused at end of message (MIME-B64).
dofile(mtdir .. "/common.lua")
run_cases({{headers = good_headers(), chunks = {
		"PD94bWwgdmVyc2lvbj0iMS4wIj8+\r\n",
		"PGE+aHRnYXRlIHRl\r\n",
		"c3Q8L2E+Cg\r\n"},
	code = SMFIR_REPLYCODE, what = "truncated base64"}})
