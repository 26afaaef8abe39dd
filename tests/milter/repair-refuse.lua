-- What cannot be repaired is refused at end of message, naming the rule
-- and saying what to do in the mail client: two attachments (MIME-SINGLE),
-- Outlook's winmail.dat (MIME-TYPE), windows-1252 with a euro sign
-- (MIME-CHARSET: never transcoded).
dofile(mtdir .. "/common.lua")
local B = "b1"
local function mixed(id, parts)
	local conn = start()
	local chunks = {}
	for _, p in ipairs(parts) do
		table.insert(chunks, "--" .. B .. "\r\n" .. p)
	end
	table.insert(chunks, "--" .. B .. "--\r\n")
	local stage, r = message(conn, good_headers({
		["Message-ID"] = id,
		["Content-Type"] = "multipart/mixed; boundary=" .. B,
		["Content-Transfer-Encoding"] = false,
		["Content-Disposition"] = false}), chunks)
	return conn, stage, r
end
local xml = "Content-Type: application/xml; name=a.xml\r\n" ..
	"Content-Disposition: attachment; filename=a.xml\r\n" ..
	"Content-Transfer-Encoding: base64\r\n\r\n" .. B64_XML
local conn, stage, r = mixed("<44.test@example.com>", {
	"Content-Type: text/plain\r\n\r\nTwee bestanden.\r\n", xml, xml})
expect_stage(stage, r, "eom", SMFIR_REPLYCODE, "two attachments")
close(conn)
conn, stage, r = mixed("<45.test@example.com>", {
	"Content-Type: text/plain\r\n\r\nZie bijlage.\r\n",
	"Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n" ..
	"Content-Disposition: attachment; filename=\"winmail.dat\"\r\n" ..
	"Content-Transfer-Encoding: base64\r\n\r\neJ8+IgEAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADo\r\n"})
expect_stage(stage, r, "eom", SMFIR_REPLYCODE, "winmail.dat")
close(conn)
conn = start()
stage, r = message(conn, good_headers({
	["Message-ID"] = "<46.test@example.com>",
	["Content-Type"] = "text/plain; charset=windows-1252",
	["Content-Transfer-Encoding"] = "quoted-printable",
	["Content-Disposition"] = "attachment; filename=\"a.txt\""}),
	{"Prijs: =8012,50\r\n"})
expect_stage(stage, r, "eom", SMFIR_REPLYCODE, "windows-1252 with a euro sign")
close(conn)
