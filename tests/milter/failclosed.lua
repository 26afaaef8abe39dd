-- HTGATE_TEST_FAIL_AT=<at> (global "at" from run.sh): an internal error in
-- that callback must refuse with a reply (the temporary 451 4.3.0 is
-- checked in the log by run.sh), never let the message through.
dofile(mtdir .. "/common.lua")
local conn = mt.connect(sock, 50, 0.1)
if conn == nil then fail("cannot connect to " .. tostring(sock)) end
ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
ok(mt.conninfo(conn, "client.example.com", "192.0.2.10"), "conninfo")
if at == "connect" then
	want(conn, SMFIR_REPLYCODE, "connect")
	return
end
want(conn, SMFIR_CONTINUE, "connect")
mail(conn, SENDER)
if at == "mail" then
	want(conn, SMFIR_REPLYCODE, "MAIL")
	return
end
want(conn, SMFIR_CONTINUE, "MAIL")
local r = rcpt(conn, HTG_RCPT)
if at == "rcpt" then
	if r ~= SMFIR_REPLYCODE then fail("RCPT not refused") end
	return
end
local stage, r2 = message(conn, good_headers())
local where = {header = "header", eoh = "eoh", body = "body", eom = "eom"}
expect_stage(stage, r2, where[at], SMFIR_REPLYCODE, "internal error at " .. at)
close(conn)
