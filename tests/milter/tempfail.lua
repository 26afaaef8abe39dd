-- With HTGATE_TEST_FAIL_AT=eoh the milter fails closed: a temporary
-- failure with a reply (451 4.3.0, checked in the log by run.sh).
dofile(mtdir .. "/common.lua")
local conn = start()
local stage, r = message(conn, good_headers())
expect_stage(stage, r, "eoh", SMFIR_REPLYCODE, "internal error at EOH")
close(conn)
