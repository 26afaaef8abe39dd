-- Invalid base64 in the middle of a body sent in several chunks is
-- refused (MIME-B64) before or at end of message.
dofile(mtdir .. "/common.lua")
local conn = start()
local stage, r = message(conn, good_headers(), {
	"PD94bWwgdmVyc2lvbj0iMS4wIj8+\r\n",
	"PGE+aHRn!!!ZSB0ZXN0PC9hPgo=\r\n",
	"PD94bWwgdmVyc2lvbj0iMS4wIj8+\r\n"})
if r ~= SMFIR_REPLYCODE or (stage ~= "body" and stage ~= "eom") then
	fail("bad base64 decided at " .. stage .. " with " .. tostring(r))
end
close(conn)
