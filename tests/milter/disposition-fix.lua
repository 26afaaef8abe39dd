-- MIME-DISPOSITION = fix (the default): an XML body without
-- Content-Disposition gets "attachment; filename=..." added, an inline
-- one gets it changed, so HTG does not name the file .txt.
dofile(mtdir .. "/common.lua")
local conn = start()
local stage, r = message(conn, good_headers({["Content-Disposition"] = false}))
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "XML without Content-Disposition")
if not mt.eom_check(conn, MT_HDRADD, "Content-Disposition",
		    "attachment; filename=\"message.xml\"") then
	fail("Content-Disposition not added")
end
close(conn)

conn = start()
stage, r = message(conn, good_headers({["Content-Disposition"] = "inline; filename=decl.xml",
				       ["Message-ID"] = "<43.test@example.com>"}))
expect_stage(stage, r, "eom", SMFIR_ACCEPT, "XML with an inline disposition")
if not mt.eom_check(conn, MT_HDRCHANGE, "Content-Disposition",
		    "attachment; filename=\"decl.xml\"") then
	fail("Content-Disposition not changed to attachment")
end
close(conn)
