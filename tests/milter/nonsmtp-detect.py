#!/usr/bin/env python3
"""tests/milter/nonsmtp-detect.py - non-SMTP auto-detection of htgate-milter.

miltertest always announces client port 12345, so this speaks the milter
protocol itself: Postfix's cleanup announces a non_smtpd_milters
submission as "localhost", 127.0.0.1, port 0.  Such a connection must get
CONTINUE for a second HTG recipient (decided at end of message); an SMTP
client (port 25000) must get a reply code (refused at RCPT).

usage: nonsmtp-detect.py SOCKET_PATH    exit 0 pass, 1 fail
"""
import socket
import struct
import sys

SMFIC_OPTNEG, SMFIC_CONNECT, SMFIC_MAIL, SMFIC_RCPT, SMFIC_QUIT = b"O", b"C", b"M", b"R", b"Q"


def send(sock, cmd, data=b""):
    """one milter packet: length, command, data"""
    sock.sendall(struct.pack(">I", len(data) + 1) + cmd + data)


def recv(sock):
    """one milter packet: (command, data)"""
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            raise EOFError("milter closed the connection")
        head += chunk
    (n,) = struct.unpack(">I", head)
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError("milter closed the connection")
        data += chunk
    return data[:1], data[1:]


def second_rcpt_reply(path, port):
    """the milter's reply to a second HTG RCPT from 127.0.0.1:port"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    send(s, SMFIC_OPTNEG, struct.pack(">III", 6, 0x1FF, 0))
    cmd, _ = recv(s)
    assert cmd == b"O", cmd
    send(s, SMFIC_CONNECT, b"localhost\0" + b"4" + struct.pack(">H", port) + b"127.0.0.1\0")
    replies = [recv(s)[0]]
    send(s, SMFIC_MAIL, b"<erp@example.com>\0")
    replies.append(recv(s)[0])
    send(s, SMFIC_RCPT, b"<AGS@msa-smtp.htpoort.nl>\0")
    replies.append(recv(s)[0])
    send(s, SMFIC_RCPT, b"<DMS@msa-smtp.htpoort.nl>\0")
    last = recv(s)[0]
    send(s, SMFIC_QUIT)
    s.close()
    if replies != [b"c", b"c", b"c"]:
        raise AssertionError("connect/MAIL/RCPT replies %r" % replies)
    return last


def main():
    path = sys.argv[1]
    ok = True
    got = second_rcpt_reply(path, 0)
    if got != b"c":
        print("FAIL: port 0 (non-SMTP) second HTG RCPT got %r, expected continue" % got)
        ok = False
    got = second_rcpt_reply(path, 25000)
    if got != b"y":
        print("FAIL: SMTP client second HTG RCPT got %r, expected a reply code" % got)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
