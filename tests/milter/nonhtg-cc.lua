-- Mail that is not HTG-bound passes whatever it holds (here a Cc:):
-- accepted at the first header.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
if rcpt(conn, "<someone@example.org>") ~= SMFIR_CONTINUE then fail("RCPT refused") end
if rcpt(conn, "<other@foo.htpoort.nl>") ~= SMFIR_CONTINUE then fail("RCPT 2 refused") end
local stage, r = message(conn, {{"Cc", "boss@example.com"},
	{"Content-Type", "multipart/mixed; boundary=x"}})
expect_stage(stage, r, "header", SMFIR_ACCEPT, "non-HTG message")
close(conn)
