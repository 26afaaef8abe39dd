-- HDR-MSGID = fix: a message without Message-ID gets one added.
dofile(mtdir .. "/common.lua")
local conn = start()
local stage, r = message(conn, good_headers({["Message-ID"] = false}))
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "message without Message-ID")
if not mt.eom_check(conn, MT_HDRADD, "Message-ID") then
	fail("no Message-ID header added")
end
local v = mt.getheader(conn, "Message-ID", 0)
if v == nil or not string.match(v, "^<[^@>]+@example%.com>$") then
	fail("added Message-ID is " .. tostring(v))
end
mt.echo("added Message-ID: " .. v)
close(conn)
