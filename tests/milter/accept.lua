-- A conforming HTG message is accepted untouched.
dofile(mtdir .. "/common.lua")
local conn = open()
mail(conn, SENDER)
want(conn, SMFIR_CONTINUE, "MAIL")
-- Postfix sends {i} at EOH/EOM; libmilter finds a macro of any stage.
ok(mt.macro(conn, SMFIC_RCPT, "{i}", "4TestQid42"), "macro {i}")
expect_rcpt(conn, HTG_RCPT, SMFIR_CONTINUE, "RCPT refused")
expect_message(conn, good_headers(), nil, "eom", SMFIR_ACCEPT, "conforming message")
expect_change(conn, false, "a header was added", MT_HDRADD)
expect_change(conn, false, "the recipient was changed", MT_RCPTDELETE, HTG_RCPT)
close(conn)
