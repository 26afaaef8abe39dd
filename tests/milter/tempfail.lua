-- With HTGATE_TEST_FAIL_AT=eoh the milter fails closed: a temporary
-- failure with a reply (451 4.3.0, checked in the log by run.sh).
dofile(mtdir .. "/common.lua")
run_cases({{headers = good_headers(), stage = "eoh", code = SMFIR_REPLYCODE,
	    what = "internal error at EOH"}})
