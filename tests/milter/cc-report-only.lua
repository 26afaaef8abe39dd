-- With report_only = yes a Cc: is only logged: the message passes.
dofile(mtdir .. "/common.lua")
run_cases({{headers = good_headers(nil, {{"Cc", "boss@example.com"}}),
	    what = "message with Cc, report only"}})
