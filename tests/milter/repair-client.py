#!/usr/bin/env python3
"""tests/milter/repair-client.py - send a stored message to htgate-milter
as Postfix would and write the message as the milter changed it.

usage: repair-client.py SOCKET IN.eml OUT.eml [FROM [RCPT]]

Speaks the milter protocol itself (miltertest's body replacement smashes
its stack above about 1 KB): negotiates every modification, announces an
SMTP client, sends MAIL, RCPT, each header, end of headers, the body in
64 KB chunks with CR LF line ends and end of message, then collects the
modifications (add, change and delete header; replace body) up to the
final reply, applies them to the message and writes OUT.  Prints the
final reply ("accept", "continue", "reject 550 ...", "tempfail ...") and
one line per modification; exit 0 when the message was accepted.
"""
import struct
import sys

from milterproto import client_info, connect, recv, send

CHUNK = 65535


def split_message(raw):
    """(list of [name, value], body) with CR LF line ends, as Postfix."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    head, _, body = raw.partition(b"\r\n\r\n")
    headers = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and headers:
            headers[-1][1] += b"\r\n" + line
        else:
            name, _, value = line.partition(b":")
            headers.append([name, value[1:] if value[:1] == b" " else value])
    return headers, body


def expect(sock, what):
    cmd, data = recv(sock)
    if cmd != b"c":
        raise SystemExit("%s: milter replied %r %r" % (what, cmd, data[:200]))


def run(path, raw, sender, rcpt):
    headers, body = split_message(raw)
    s, _ = connect(path, 120, client_info(b"client.example.com", 25000, b"192.0.2.10"))
    expect(s, "connect")
    send(s, b"M", b"<" + sender + b">\0")
    expect(s, "MAIL")
    send(s, b"R", b"<" + rcpt + b">\0")
    expect(s, "RCPT")
    for name, value in headers:
        send(s, b"L", name + b"\0" + value + b"\0")
        expect(s, "header " + name.decode(errors="replace"))
    send(s, b"N")
    expect(s, "end of headers")
    for i in range(0, len(body), CHUNK):
        send(s, b"B", body[i:i + CHUNK])
        expect(s, "body")
    send(s, b"E")
    newbody, mods = None, []
    while True:
        cmd, data = recv(s)
        if cmd == b"h":
            name, value = data.rstrip(b"\0").split(b"\0", 1)
            headers.append([name, value])
            mods.append("addheader %s" % name.decode())
        elif cmd == b"m":
            (index,) = struct.unpack(">I", data[:4])
            name, value = data[4:].rstrip(b"\0").split(b"\0", 1) \
                if data[4:].rstrip(b"\0").count(b"\0") else (data[4:].rstrip(b"\0"), b"")
            seen = 0
            for h in headers:
                if h[0].lower() == name.lower():
                    seen += 1
                    if seen == index:
                        h[1] = value if value else None
                        break
            else:
                if value:
                    headers.append([name, value])
            mods.append("chgheader %s %d %s" % (name.decode(), index,
                                                "(deleted)" if not value else "set"))
        elif cmd == b"b":
            if newbody is None:
                mods.append("replacebody")
            newbody = (newbody or b"") + data
        elif cmd in (b"e", b"-", b"+", b"2", b"i"):
            mods.append("envelope %r" % cmd)
        else:
            final = {b"a": "accept", b"c": "continue", b"t": "tempfail",
                     b"r": "reject"}.get(cmd, None)
            if final is None and cmd == b"y":
                final = data.rstrip(b"\0").decode(errors="replace")
            send(s, b"Q")
            s.close()
            break
    out = b"".join(h[0] + b": " + h[1] + b"\r\n" for h in headers if h[1] is not None)
    return final, mods, out + b"\r\n" + (newbody if newbody is not None else body)


def main():
    sock, src, dst = sys.argv[1:4]
    sender = (sys.argv[4] if len(sys.argv) > 4 else "erp@example.com").encode()
    rcpt = (sys.argv[5] if len(sys.argv) > 5 else "AGS@msa-smtp.htpoort.nl").encode()
    with open(src, "rb") as f:
        final, mods, out = run(sock, f.read(), sender, rcpt)
    with open(dst, "wb") as f:
        f.write(out)
    print(final)
    for m in mods:
        print(m)
    return 0 if final == "accept" else 1


if __name__ == "__main__":
    sys.exit(main())
