-- tests/milter/common.lua - helpers shared by the htgate-milter scripts.
-- Globals from run.sh (miltertest -D): sock (the milter socket).
-- Every check raises an error, so miltertest exits non-zero on a failure.

B64_XML = "PD94bWwgdmVyc2lvbj0iMS4wIj8+PGE+aHRnYXRlIHRlc3Q8L2E+Cg==\r\n"
HTG_RCPT = "<AGS@msa-smtp.htpoort.nl>"
SENDER = "<erp@example.com>"

-- fail - stop the script with a message
function fail(what)
	mt.echo("FAIL: " .. what)	-- miltertest does not print errors
	error("FAIL: " .. what, 0)
end

-- open - connect, negotiate and announce an SMTP client.  client, all
-- optional: host and addr (default client.example.com, 192.0.2.10),
-- macros ({stage, name, value} each, sent before the connect) and what
-- (the name of the connect check)
function open(client)
	client = client or {}
	local conn = mt.connect(sock, 50, 0.1)
	if conn == nil then
		fail("cannot connect to the milter at " .. tostring(sock))
	end
	ok(mt.negotiate(conn, nil, nil, nil), "negotiate")
	for _, m in ipairs(client.macros or {}) do
		ok(mt.macro(conn, m[1], m[2], m[3]), "macro " .. m[2])
	end
	ok(mt.conninfo(conn, client.host or "client.example.com",
	    client.addr or "192.0.2.10"), "conninfo")
	want(conn, SMFIR_CONTINUE, client.what or "connect")
	return conn
end

-- want - the last reply must be the given SMFIR_* code
function want(conn, code, what)
	local got = mt.getreply(conn)
	if got ~= code then
		fail(string.format("%s: milter replied %s, expected %s", what,
		    tostring(got), tostring(code)))
	end
end

-- ok - a miltertest call must succeed
function ok(err, what)
	if err ~= nil then fail(what .. ": " .. tostring(err)) end
end

-- mail - MAIL FROM with optional ESMTP arguments
function mail(conn, from, ...)
	ok(mt.mailfrom(conn, from, ...), "mailfrom " .. from)
end

-- rcpt - RCPT TO; returns the milter's reply
function rcpt(conn, to, ...)
	ok(mt.rcptto(conn, to, ...), "rcptto " .. to)
	return mt.getreply(conn)
end

-- expect_rcpt - RCPT TO (with ESMTP arguments) must get the reply code;
-- what names the failure
function expect_rcpt(conn, to, code, what, ...)
	if rcpt(conn, to, ...) ~= code then fail(what) end
end

-- session - open(client), MAIL FROM from (default SENDER; or a table: the
-- address and its ESMTP arguments) and RCPT TO each of rcpts, a list of
-- {address, reply code wanted, what names the failure, ESMTP args...}
function session(from, rcpts, client)
	local conn = open(client)
	if type(from) == "table" then
		mail(conn, table.unpack(from))
	else
		mail(conn, from or SENDER)
	end
	for _, r in ipairs(rcpts or {}) do
		expect_rcpt(conn, r[1], r[2], r[3], table.unpack(r, 4))
	end
	return conn
end

-- start - session with one RCPT TO (to, default HTG_RCPT, with ESMTP
-- arguments) that must be accepted
function start(from, to, ...)
	to = to or HTG_RCPT
	return session(from, {{to, SMFIR_CONTINUE, "RCPT " .. to .. " refused", ...}})
end

-- edit_headers - the header block base ({name, value} pairs) changed by
-- overrides: overrides[name] = value replaces, = false removes; extra
-- ({name, value} pairs) is appended
function edit_headers(base, overrides, extra)
	local out = {}
	overrides = overrides or {}
	for _, kv in ipairs(base) do
		local v = overrides[kv[1]]
		if v == nil then
			table.insert(out, kv)
		elseif v then
			table.insert(out, {kv[1], v})
		end
	end
	for _, kv in ipairs(extra or {}) do
		table.insert(out, kv)
	end
	return out
end

-- good_headers - a conforming HTG header block, edited (edit_headers)
function good_headers(overrides, extra)
	return edit_headers({
		{"From", "ERP <erp@example.com>"},
		{"To", "AGS@htpoort.nl"},
		{"Subject", "AGS declaration 42"},
		{"Date", "Tue, 24 Nov 2026 10:00:00 +0100"},
		{"Message-ID", "<42.test@example.com>"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "application/xml"},
		{"Content-Transfer-Encoding", "base64"},
		{"Content-Disposition", "attachment; filename=\"decl.xml\""},
	}, overrides, extra)
end

-- dsn_headers - the header block of a delivery status notification to
-- HTG (multipart/report, boundary ABC), edited (edit_headers)
function dsn_headers(overrides, extra)
	return edit_headers({
		{"From", "MAILER-DAEMON@relay.example.com"},
		{"To", "AGS@htpoort.nl"},
		{"Subject", "Undelivered Mail Returned to Sender"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "multipart/report; report-type=delivery-status; boundary=\"ABC\""},
	}, overrides, extra)
end

-- headers - send a header block; returns the first reply other than
-- CONTINUE (the milter decided), or SMFIR_CONTINUE
function headers(conn, list)
	for _, kv in ipairs(list) do
		ok(mt.header(conn, kv[1], kv[2]), "header " .. kv[1])
		local r = mt.getreply(conn)
		if r ~= SMFIR_CONTINUE then return r end
	end
	return SMFIR_CONTINUE
end

-- body - send body chunks; returns the first reply other than CONTINUE
function body(conn, chunks)
	for _, c in ipairs(chunks) do
		ok(mt.bodystring(conn, c), "body chunk")
		local r = mt.getreply(conn)
		if r ~= SMFIR_CONTINUE then return r end
	end
	return SMFIR_CONTINUE
end

-- message - headers, end of headers, body and end of message as far as
-- the milter lets it go; returns the stage that decided and its reply
function message(conn, hdrs, chunks)
	local r = headers(conn, hdrs)
	if r ~= SMFIR_CONTINUE then return "header", r end
	ok(mt.eoh(conn), "eoh")
	r = mt.getreply(conn)
	if r ~= SMFIR_CONTINUE then return "eoh", r end
	r = body(conn, chunks or {B64_XML})
	if r ~= SMFIR_CONTINUE then return "body", r end
	ok(mt.eom(conn), "eom")
	return "eom", mt.getreply(conn)
end

-- expect_stage - message() must have decided at stage with reply code
function expect_stage(stage, r, want_stage, want_code, what)
	if stage ~= want_stage or r ~= want_code then
		fail(string.format("%s: decided at %s with %s, expected %s with %s",
		    what, stage, tostring(r), want_stage, tostring(want_code)))
	end
end

-- expect_message - message() must decide at stage with reply code
function expect_message(conn, hdrs, chunks, stage, code, what)
	local got, r = message(conn, hdrs, chunks)
	expect_stage(got, r, stage, code, what)
end

-- expect_change - after end of message: mt.eom_check(conn, ...) must be
-- made (true: the milter made that change, false: it did not); what
-- names the failure
function expect_change(conn, made, what, ...)
	if (mt.eom_check(conn, ...) and true or false) ~= made then
		fail(what)
	end
end

-- run_cases - each case a message of its own: start(c.from, nil,
-- ESMTP arguments c.rcpt_args...), message
-- (c.headers, c.chunks) decided at c.stage (default eom) with c.code
-- (default SMFIR_ACCEPT), what names it; then each of c.changes,
-- {made, what, mt.eom_check arguments...} (expect_change)
function run_cases(cases)
	for _, c in ipairs(cases) do
		local conn = start(c.from, nil, table.unpack(c.rcpt_args or {}))
		expect_message(conn, c.headers, c.chunks, c.stage or "eom",
		    c.code or SMFIR_ACCEPT, c.what)
		for _, ch in ipairs(c.changes or {}) do
			expect_change(conn, table.unpack(ch))
		end
		close(conn)
	end
end

-- close - polite disconnect
function close(conn)
	mt.disconnect(conn)
end
