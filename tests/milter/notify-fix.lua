-- ENV-NOTIFY = fix: NOTIFY=NEVER,FAILURE is not allowed (RFC 3461: NEVER
-- stands alone); the recipient is deleted and added again with the valid
-- values (smfi_addrcpt_par).  DELAY alone would be fine on a standard
-- stream.
dofile(mtdir .. "/common.lua")
-- miltertest cannot see smfi_addrcpt_par (SMFIR_ADDRCPT_PAR): run.sh checks the log.
run_cases({{from = {SENDER, "ENVID=abc123"}, rcpt_args = {"NOTIFY=NEVER,FAILURE"},
	    headers = good_headers(), what = "NOTIFY=NEVER,FAILURE",
	    changes = {{true, "recipient not deleted", MT_RCPTDELETE, HTG_RCPT}}}})
