-- ENV-ENVID = fix: NOTIFY=SUCCESS without ENVID gets an ENVID through
-- smfi_chgfrom (checked in the milter's log by run.sh, since miltertest
-- cannot inspect a sender change).
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER, "RET=HDRS")
if rcpt(conn, HTG_RCPT, "NOTIFY=SUCCESS,FAILURE") ~= SMFIR_CONTINUE then
	fail("RCPT refused")
end
local stage, r = message(conn, good_headers())
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "NOTIFY=SUCCESS without ENVID")
if mt.eom_check(conn, MT_RCPTDELETE, HTG_RCPT) then fail("recipient changed needlessly") end
close(conn)
