-- MIME-DISPOSITION = fix (the default): an XML body without
-- Content-Disposition gets "attachment; filename=..." added, an inline
-- one gets it changed, so HTG does not name the file .txt.
dofile(mtdir .. "/common.lua")
run_cases({
	{headers = good_headers({["Content-Disposition"] = false}),
	 what = "XML without Content-Disposition",
	 changes = {{true, "Content-Disposition not added", MT_HDRADD,
		     "Content-Disposition", "attachment; filename=\"message.xml\""}}},
	{headers = good_headers({["Content-Disposition"] = "inline; filename=decl.xml",
				 ["Message-ID"] = "<43.test@example.com>"}),
	 what = "XML with an inline disposition",
	 changes = {{true, "Content-Disposition not changed to attachment",
		     MT_HDRCHANGE, "Content-Disposition", "attachment; filename=\"decl.xml\""}}},
})
