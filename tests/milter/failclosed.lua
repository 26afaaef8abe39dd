-- HTGATE_TEST_FAIL_AT=<at> (global "at" from run.sh): an internal error in
-- that callback must refuse with a reply (the temporary 451 4.3.0 is
-- checked in the log by run.sh), never let the message through.  At
-- connect, MAIL and a header htgate asks for no reply (SMFIP_NR_CONN,
-- NR_MAIL, NR_HDR; miltertest offers them): the error refuses at the
-- next step that has a reply, the first RCPT or the end of headers.
dofile(mtdir .. "/common.lua")
local conn = open({what = "connect (no reply)"})
mail(conn, SENDER)
want(conn, SMFIR_CONTINUE, "MAIL (no reply)")
local r = rcpt(conn, HTG_RCPT)
if at == "connect" or at == "mail" or at == "rcpt" then
	if r ~= SMFIR_REPLYCODE then fail("RCPT not refused after an error at " .. at) end
	return
end
local where = {header = "eoh", eoh = "eoh", body = "body", eom = "eom"}
expect_message(conn, good_headers(), nil, where[at], SMFIR_REPLYCODE,
    "internal error at " .. at)
close(conn)
