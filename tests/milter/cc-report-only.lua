-- With report_only = yes a Cc: is only logged: the message passes.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("RCPT refused") end
local stage, r = message(conn, good_headers(nil, {{"Cc", "boss@example.com"}}))
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "message with Cc, report only")
close(conn)
