-- tests/daemon/milter-edges2.lua - htgate-milter paths the milter suite
-- does not take, against a milter without -E (run by daemon-edges.sh):
-- {daemon_name} "htgate-egress" alone (egress for any environment); an
-- egress {daemon_name} naming an environment the configuration lacks
-- (no message can start: the first RCPT is refused temporarily); a
-- message to a recipient that is not HTG's (accepted at DATA); an MTA that
-- offers too few modifications; headers without a message.
-- Globals: sock, mtdir.
dofile(mtdir .. "/common.lua")

-- open_as - a connection announced with {daemon_name} name
function open_as(name)
	local conn = mt.connect(sock, 50, 0.1)
	if conn == nil then fail("cannot connect to " .. tostring(sock)) end
	ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
	ok(mt.macro(conn, SMFIC_CONNECT, "{daemon_name}", name), "macro")
	ok(mt.conninfo(conn, "localhost", "127.0.0.1"), "conninfo")
	return conn
end

-- 1. "htgate-egress": egress for any environment
local conn = open_as("htgate-egress")
want(conn, SMFIR_CONTINUE, "connect")
mail(conn, SENDER)
want(conn, SMFIR_CONTINUE, "MAIL")
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("any: RCPT refused") end
close(conn)

-- 2. an egress for an environment the configuration does not have: no
-- message can start; MAIL gets no reply (SMFIP_NR_MAIL, as Postfix
-- offers), so the first RCPT refuses temporarily
conn = open_as("htgate-egress-mars")
want(conn, SMFIR_CONTINUE, "connect")
mail(conn, SENDER)
local r = rcpt(conn, HTG_RCPT)
if r ~= SMFIR_REPLYCODE and r ~= SMFIR_TEMPFAIL then
	fail("egress for mars: RCPT not refused (" .. tostring(r) .. ")")
end
close(conn)

-- 3. a message to a recipient that is not HTG's: accepted untouched at
-- DATA (every recipient is known by then)
conn = mt.connect(sock, 50, 0.1)
if conn == nil then fail("cannot connect") end
ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
ok(mt.conninfo(conn, "client.example.com", "192.0.2.10"), "conninfo")
mail(conn, SENDER)
if rcpt(conn, "<bob@example.org>") ~= SMFIR_CONTINUE then fail("non-HTG RCPT refused") end
ok(mt.data(conn), "DATA")
r = mt.getreply(conn)
if r ~= SMFIR_ACCEPT then fail("non-HTG message not accepted at DATA (" .. tostring(r) .. ")") end
close(conn)

-- 4. an MTA that offers too few modifications: htgate warns (fixes
-- cannot be made) and judges on
conn = mt.connect(sock, 50, 0.1)
if conn == nil then fail("cannot connect") end
ok(mt.negotiate(conn, 6, 0, 0), "negotiate: no actions, no steps")
ok(mt.conninfo(conn, "client.example.com", "192.0.2.10"), "conninfo")
want(conn, SMFIR_CONTINUE, "connect")
close(conn)

-- 5. an egress for an unknown environment that sends headers without a
-- recipient: the end of headers refuses (no message to judge)
conn = open_as("htgate-egress-mars")
want(conn, SMFIR_CONTINUE, "connect")
mail(conn, SENDER)
ok(mt.header(conn, "Subject", "x"), "header")
mt.getreply(conn)
ok(mt.eoh(conn), "eoh")
r = mt.getreply(conn)
if r ~= SMFIR_REPLYCODE and r ~= SMFIR_TEMPFAIL then
	fail("headers without a message: end of headers not refused (" .. tostring(r) .. ")")
end
close(conn)
