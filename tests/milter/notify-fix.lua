-- ENV-NOTIFY = fix: NOTIFY=NEVER,FAILURE is not allowed (RFC 3461: NEVER
-- stands alone); the recipient is deleted and added again with the valid
-- values (smfi_addrcpt_par).  DELAY alone would be fine on a standard
-- stream.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER, "ENVID=abc123")
if rcpt(conn, HTG_RCPT, "NOTIFY=NEVER,FAILURE") ~= SMFIR_CONTINUE then
	fail("RCPT refused")
end
local stage, r = message(conn, good_headers())
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "NOTIFY=NEVER,FAILURE")
if not mt.eom_check(conn, MT_RCPTDELETE, HTG_RCPT) then fail("recipient not deleted") end
-- miltertest cannot see smfi_addrcpt_par (SMFIR_ADDRCPT_PAR): run.sh checks the log.
close(conn)
