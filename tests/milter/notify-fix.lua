-- ENV-NOTIFY = fix: NOTIFY=DELAY,FAILURE is not allowed; the recipient is
-- deleted and added again with the valid values (smfi_addrcpt_par).
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER, "ENVID=abc123")
if rcpt(conn, HTG_RCPT, "NOTIFY=DELAY,FAILURE") ~= SMFIR_CONTINUE then
	fail("RCPT refused")
end
local stage, r = message(conn, good_headers())
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "NOTIFY=DELAY,FAILURE")
if not mt.eom_check(conn, MT_RCPTDELETE, HTG_RCPT) then fail("recipient not deleted") end
-- miltertest cannot see smfi_addrcpt_par (SMFIR_ADDRCPT_PAR): run.sh checks the log.
close(conn)
