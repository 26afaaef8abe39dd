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

-- open - connect, negotiate and announce an SMTP client
function open()
	local conn = mt.connect(sock, 50, 0.1)
	if conn == nil then
		fail("cannot connect to the milter at " .. tostring(sock))
	end
	local err = mt.negotiate(conn, nil, nil, nil)
	if err ~= nil then fail("negotiate: " .. err) end
	err = mt.conninfo(conn, "client.example.com", "192.0.2.10")
	if err ~= nil then fail("conninfo: " .. err) end
	want(conn, SMFIR_CONTINUE, "connect")
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

-- start - connect, MAIL FROM (from, default SENDER) and one RCPT TO (to,
-- default HTG_RCPT, with ESMTP arguments) that must be accepted
function start(from, to, ...)
	local conn = open()
	mail(conn, from or SENDER)
	if rcpt(conn, to or HTG_RCPT, ...) ~= SMFIR_CONTINUE then
		fail("RCPT " .. (to or HTG_RCPT) .. " refused")
	end
	return conn
end

-- good_headers - a conforming HTG header block, changed by overrides:
-- overrides[name] = value replaces, = false removes; extra is appended.
function good_headers(overrides, extra)
	local h = {
		{"From", "ERP <erp@example.com>"},
		{"To", "AGS@htpoort.nl"},
		{"Subject", "AGS declaration 42"},
		{"Date", "Tue, 24 Nov 2026 10:00:00 +0100"},
		{"Message-ID", "<42.test@example.com>"},
		{"MIME-Version", "1.0"},
		{"Content-Type", "application/xml"},
		{"Content-Transfer-Encoding", "base64"},
		{"Content-Disposition", "attachment; filename=\"decl.xml\""},
	}
	local out = {}
	overrides = overrides or {}
	for _, kv in ipairs(h) do
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

-- close - polite disconnect
function close(conn)
	mt.disconnect(conn)
end
