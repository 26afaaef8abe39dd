-- A Cc: header refuses an HTG message at end of headers (HDR-CC).
dofile(mtdir .. "/common.lua")
run_cases({{headers = good_headers(nil, {{"Cc", "boss@example.com"}}),
	    stage = "eoh", code = SMFIR_REPLYCODE, what = "message with Cc"}})
