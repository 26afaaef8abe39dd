-- With report_only = yes a Cc: is only logged: the message passes.
dofile(mtdir .. "/common.lua")
local conn = start()
local stage, r = message(conn, good_headers(nil, {{"Cc", "boss@example.com"}}))
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "message with Cc, report only")
close(conn)
