-- The egress role ({daemon_name} htgate-egress-production, as the
-- generated egress smtpd sets it): every message is judged on the
-- envelope Postfix delivers.
dofile(mtdir .. "/common.lua")

-- open_egress - a connection from the egress smtpd of production
function open_egress()
	local conn = mt.connect(sock, 50, 0.1)
	if conn == nil then fail("cannot connect to " .. tostring(sock)) end
	ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
	ok(mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", "htgate-egress-production"),
	   "macro")
	ok(mt.conninfo(conn, "localhost", "127.0.0.1"), "conninfo")
	want(conn, SMFIR_CONTINUE, "connect")
	return conn
end

-- 1. an alias's target: the envelope is HTG, the To: header names the alias
local conn = open_egress()
mail(conn, SENDER)
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("alias: RCPT refused") end
local stage, r = message(conn, good_headers({To = "Customs <customs@example.com>"}))
expect_stage(stage, r, "eoh", SMFIR_REPLYCODE, "alias target with To: customs@example.com")
close(conn)

-- 2. a recipient that is not HTG never leaves by an HTG transport
conn = open_egress()
mail(conn, SENDER)
if rcpt(conn, "<boss@example.com>") ~= SMFIR_REPLYCODE then
	fail("non-HTG recipient accepted at egress")
end
close(conn)

-- 3. a preprod recipient routed to the production transport
conn = open_egress()
mail(conn, SENDER)
if rcpt(conn, "<AGS@msa-smtp.preprod.htpoort.nl>") ~= SMFIR_REPLYCODE then
	fail("preprod recipient accepted by the production egress")
end
close(conn)

-- 4. a conforming message written to AGS@htpoort.nl leaves as
-- AGS@msa-smtp.htpoort.nl, with its original ORCPT
conn = open_egress()
mail(conn, SENDER)
if rcpt(conn, "<AGS@htpoort.nl>", "ORCPT=rfc822;AGS@htpoort.nl") ~= SMFIR_CONTINUE then
	fail("conforming: RCPT refused")
end
stage, r = message(conn, good_headers({["Message-ID"] = "<egress." .. os.time() .. "@example.com>"}))
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "conforming message at egress")
if not mt.eom_check(conn, MT_RCPTDELETE, "<AGS@htpoort.nl>") then
	fail("the header-form recipient was not removed")
end
-- miltertest cannot see smfi_addrcpt_par (SMFIR_ADDRCPT_PAR): run.sh
-- checks the log for the recipient added with its ORCPT.
close(conn)
