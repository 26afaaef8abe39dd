-- HDR-MSGID = fix: a message without Message-ID gets one added.
dofile(mtdir .. "/common.lua")
local conn = start()
expect_message(conn, good_headers({["Message-ID"] = false}), nil, "eom",
    SMFIR_ACCEPT, "message without Message-ID")
expect_change(conn, true, "no Message-ID header added", MT_HDRADD, "Message-ID")
local v = mt.getheader(conn, "Message-ID", 0)
if v == nil or not string.match(v, "^<[^@>]+@example%.com>$") then
	fail("added Message-ID is " .. tostring(v))
end
mt.echo("added Message-ID: " .. v)
close(conn)
