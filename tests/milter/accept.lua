-- A conforming HTG message is accepted untouched.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
want(conn, SMFIR_CONTINUE, "MAIL")
-- Postfix sends {i} at EOH/EOM; libmilter finds a macro of any stage.
ok(mt.macro(conn, SMFIC_RCPT, "{i}", "4TestQid42"), "macro {i}")
if rcpt(conn, HTG_RCPT) ~= SMFIR_CONTINUE then fail("RCPT refused") end
local stage, r = message(conn, good_headers())
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "conforming message")
if mt.eom_check(conn, MT_HDRADD) then fail("a header was added") end
if mt.eom_check(conn, MT_RCPTDELETE, HTG_RCPT) then fail("the recipient was changed") end
close(conn)
