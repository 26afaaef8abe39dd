-- Mail that is not HTG-bound passes whatever it holds (here a Cc:):
-- accepted at DATA, before any header is sent.
dofile(mtdir .. "/common.lua")
local conn = session(SENDER, {
	{"<someone@example.org>", SMFIR_CONTINUE, "RCPT refused"},
	{"<other@foo.htpoort.nl>", SMFIR_CONTINUE, "RCPT 2 refused"},
})
ok(mt.data(conn), "data")
want(conn, SMFIR_ACCEPT, "DATA of a non-HTG message")
close(conn)
