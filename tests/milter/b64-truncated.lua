-- Base64 whose last quantum is cut short, in several chunks: valid in
-- every chunk, refused at end of message (MIME-B64).
dofile(mtdir .. "/common.lua")
local conn = start()
local stage, r = message(conn, good_headers(), {
	"PD94bWwgdmVyc2lvbj0iMS4wIj8+\r\n",
	"PGE+aHRnYXRlIHRl\r\n",
	"c3Q8L2E+Cg\r\n"})
expect_stage(stage, r, "eom", SMFIR_REPLYCODE, "truncated base64")
close(conn)
