-- The egress role ({daemon_name} htgate-egress-production, as the
-- generated egress smtpd sets it): every message is judged on the
-- envelope Postfix delivers.
dofile(mtdir .. "/common.lua")

-- a connection from the egress smtpd of production
local EGRESS = {host = "localhost", addr = "127.0.0.1",
	macros = {{SMFIC_CONNECT, "{daemon_name}", "htgate-egress-production"}}}

-- 1. an alias's target: the envelope is HTG, the To: header names the alias
local conn = session(SENDER, {{HTG_RCPT, SMFIR_CONTINUE, "alias: RCPT refused"}}, EGRESS)
expect_message(conn, good_headers({To = "Customs <customs@example.com>"}), nil,
    "eoh", SMFIR_REPLYCODE, "alias target with To: customs@example.com")
close(conn)

-- 2. a recipient that is not HTG never leaves by an HTG transport
close(session(SENDER, {{"<boss@example.com>", SMFIR_REPLYCODE,
    "non-HTG recipient accepted at egress"}}, EGRESS))

-- 3. a preprod recipient routed to the production transport
close(session(SENDER, {{"<AGS@msa-smtp.preprod.htpoort.nl>", SMFIR_REPLYCODE,
    "preprod recipient accepted by the production egress"}}, EGRESS))

-- 4. a conforming message written to AGS@htpoort.nl leaves as
-- AGS@msa-smtp.htpoort.nl, with its original ORCPT
conn = session(SENDER, {{"<AGS@htpoort.nl>", SMFIR_CONTINUE, "conforming: RCPT refused",
    "ORCPT=rfc822;AGS@htpoort.nl"}}, EGRESS)
expect_message(conn, good_headers({["Message-ID"] = "<egress." .. os.time() .. "@example.com>"}),
    nil, "eom", SMFIR_ACCEPT, "conforming message at egress")
expect_change(conn, true, "the header-form recipient was not removed",
    MT_RCPTDELETE, "<AGS@htpoort.nl>")
-- miltertest cannot see smfi_addrcpt_par (SMFIR_ADDRCPT_PAR): run.sh
-- checks the log for the recipient added with its ORCPT.
close(conn)

-- 5. an egress smtpd of an environment htgate.conf no longer has (removed
-- and reloaded while Postfix still routes to it): deferred, never passed
close(session(SENDER, {{HTG_RCPT, SMFIR_REPLYCODE,
    "egress of an unknown environment accepted a recipient"}},
    {host = "localhost", addr = "127.0.0.1",
     macros = {{SMFIC_CONNECT, "{daemon_name}", "htgate-egress-mars"}}}))
