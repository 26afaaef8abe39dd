-- What cannot be repaired is refused at end of message, naming the rule
-- and saying what to do in the mail client: two attachments (MIME-SINGLE),
-- Outlook's winmail.dat (MIME-TYPE), windows-1252 with a euro sign
-- (MIME-CHARSET: never transcoded).
dofile(mtdir .. "/common.lua")
local B = "b1"
-- mixed - a multipart/mixed header block and its body of parts
local function mixed(id, parts)
	local chunks = {}
	for _, p in ipairs(parts) do
		table.insert(chunks, "--" .. B .. "\r\n" .. p)
	end
	table.insert(chunks, "--" .. B .. "--\r\n")
	return good_headers({
		["Message-ID"] = id,
		["Content-Type"] = "multipart/mixed; boundary=" .. B,
		["Content-Transfer-Encoding"] = false,
		["Content-Disposition"] = false}), chunks
end
local xml = "Content-Type: application/xml; name=a.xml\r\n" ..
	"Content-Disposition: attachment; filename=a.xml\r\n" ..
	"Content-Transfer-Encoding: base64\r\n\r\n" .. B64_XML
local two_h, two_b = mixed("<44.test@example.com>", {
	"Content-Type: text/plain\r\n\r\nTwee bestanden.\r\n", xml, xml})
local tnef_h, tnef_b = mixed("<45.test@example.com>", {
	"Content-Type: text/plain\r\n\r\nZie bijlage.\r\n",
	"Content-Type: application/ms-tnef; name=\"winmail.dat\"\r\n" ..
	"Content-Disposition: attachment; filename=\"winmail.dat\"\r\n" ..
	"Content-Transfer-Encoding: base64\r\n\r\neJ8+IgEAAQaQCAAEAAAAAAABAAEAAQeQBgAIAAAA5AQAAAAAAADo\r\n"})
run_cases({
	{headers = two_h, chunks = two_b, code = SMFIR_REPLYCODE, what = "two attachments"},
	{headers = tnef_h, chunks = tnef_b, code = SMFIR_REPLYCODE, what = "winmail.dat"},
	{headers = good_headers({
		["Message-ID"] = "<46.test@example.com>",
		["Content-Type"] = "text/plain; charset=windows-1252",
		["Content-Transfer-Encoding"] = "quoted-printable",
		["Content-Disposition"] = "attachment; filename=\"a.txt\""}),
	 chunks = {"Prijs: =8012,50\r\n"}, code = SMFIR_REPLYCODE,
	 what = "windows-1252 with a euro sign"},
})
