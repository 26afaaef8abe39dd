-- HTGATE_TEST_FAIL_AT=<at> on a non-SMTP connection (htgate-milter -N,
-- global "at" from run.sh).  Postfix forbids refusing the simulated MAIL
-- and RCPT of sendmail(1) mail, so an internal error there is kept and
-- decides later; it must still refuse the message, never let it pass as
-- "not HTG-bound" because the recipient was never judged.  An error at
-- connect leaves no connection context: the first RCPT is refused (the
-- mail stays queued at the relay: not lost, not passed).
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
local r = rcpt(conn, HTG_RCPT)
if at == "connect" then
	if r ~= SMFIR_REPLYCODE then fail("RCPT not refused after an error at connect") end
	return
end
if r ~= SMFIR_CONTINUE then
	fail("non-SMTP RCPT refused after an error at " .. at .. " (Postfix forbids it)")
end
ok(mt.data(conn), "DATA")
r = mt.getreply(conn)
if r ~= SMFIR_CONTINUE then
	fail("DATA answered " .. tostring(r) .. " after an error at " .. at ..
	    ": the message passed unchecked")
end
local where = {mail = "eom", rcpt = "eoh", header = "eom", eoh = "eoh",
	body = "body", eom = "eom"}
expect_message(conn, good_headers(), nil, where[at], SMFIR_REPLYCODE,
    "non-SMTP internal error at " .. at)
close(conn)
