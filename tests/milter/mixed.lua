-- A non-HTG recipient first, then an HTG one: ENV-MIXED at RCPT.
dofile(mtdir .. "/common.lua")
close(session(SENDER, {
	{"<someone@example.org>", SMFIR_CONTINUE, "non-HTG RCPT refused"},
	{HTG_RCPT, SMFIR_REPLYCODE, "HTG recipient after a non-HTG one not refused"},
}))
