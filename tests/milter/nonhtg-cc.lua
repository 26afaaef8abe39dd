-- Mail that is not HTG-bound passes whatever it holds (here a Cc:):
-- accepted at DATA, before any header is sent.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
if rcpt(conn, "<someone@example.org>") ~= SMFIR_CONTINUE then fail("RCPT refused") end
if rcpt(conn, "<other@foo.htpoort.nl>") ~= SMFIR_CONTINUE then fail("RCPT 2 refused") end
ok(mt.data(conn), "data")
want(conn, SMFIR_ACCEPT, "DATA of a non-HTG message")
close(conn)
