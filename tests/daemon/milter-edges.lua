-- tests/daemon/milter-edges.lua - htgate-milter paths the milter suite
-- does not take (run by daemon-edges.sh against a milter started with
-- -E production): every connection is an egress connection; the egress
-- identity leaves out the egress smtpd's own Received: header; a SASL
-- login at MAIL; a "%" in a reply text; a non-SMTP submission over IPv6
-- (client ::1, port 0).  Globals: sock, mtdir (tests/milter).
dofile(mtdir .. "/common.lua")

-- 1. -E: a plain client is egress; a conforming message passes, the
-- first Received: header naming this queue ID is not part of the identity
local conn = open()
ok(mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "erp"), "macro {auth_authen}")
mail(conn, SENDER)
ok(mt.macro(conn, SMFIC_RCPT, "{i}", "4EdgeQid1"), "macro {i}")
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("egress: RCPT refused") end
local stage, r = message(conn, good_headers(
	{["Message-ID"] = "<edge." .. os.time() .. "@example.com>"},
	{{"X-Edge", "1"}}), nil)
close(conn)

-- 2. the same with the egress smtpd's Received: header first
conn = open()
mail(conn, SENDER)
ok(mt.macro(conn, SMFIC_RCPT, "{i}", "4EdgeQid2"), "macro {i}")
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("egress 2: RCPT refused") end
local h = {{"Received", "from relay by egress with ESMTP id 4EdgeQid2"}}
for _, kv in ipairs(good_headers({["Message-ID"] = "<edge2." .. os.time() .. "@example.com>"})) do
	table.insert(h, kv)
end
stage, r = message(conn, h)
close(conn)

-- 3. a "%" in the reply (the To: address it names): escaped for libmilter
conn = open()
mail(conn, SENDER)
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("percent: RCPT refused") end
stage, r = message(conn, good_headers({To = "a%b@example.org"}))
expect_stage(stage, r, "eoh", SMFIR_REPLYCODE, "a To: with a percent sign")
close(conn)

-- 4. a non-SMTP submission announced over IPv6 (::1, port 0)
conn = mt.connect(sock, 50, 0.1)
if conn == nil then fail("cannot connect") end
ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
ok(mt.conninfo(conn, "localhost", "::1"), "conninfo ::1")
mt.getreply(conn)
close(conn)
