-- A Cc: header refuses an HTG message at end of headers (HDR-CC).
dofile(mtdir .. "/common.lua")
local conn = start()
local stage, r = message(conn, good_headers(nil, {{"Cc", "boss@example.com"}}))
expect_stage(stage, r, "eoh", SMFIR_REPLYCODE, "message with Cc")
close(conn)
