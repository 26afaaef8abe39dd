-- ENV-ENVID = fix: NOTIFY=SUCCESS without ENVID gets an ENVID through
-- smfi_chgfrom (checked in the milter's log by run.sh, since miltertest
-- cannot inspect a sender change).
dofile(mtdir .. "/common.lua")
run_cases({{from = {SENDER, "RET=HDRS"}, rcpt_args = {"NOTIFY=SUCCESS,FAILURE"},
	    headers = good_headers(), what = "NOTIFY=SUCCESS without ENVID",
	    changes = {{false, "recipient changed needlessly", MT_RCPTDELETE, HTG_RCPT}}}})
