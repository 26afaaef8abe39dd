#!/usr/bin/env python3
"""tests/daemon/milter_v6.py - htgate-milter's non-SMTP detection for a
client announced over IPv6 or a unix socket (miltertest cannot): "::1"
port 0 is a non_smtpd_milters submission (a second HTG RCPT continues,
decided at end of message); "::1" port 25000 and a unix-socket client
are SMTP clients (refused at RCPT); and a sender longer than the milter
keeps (1024 bytes; miltertest itself cannot send one) is judged, not
a crash.  Speaks the milter protocol with tests/milter/nonsmtp-detect.py's
send() and recv().

usage: milter_v6.py SOCKET_PATH        exit 0 pass, 1 fail
"""
import importlib.util
import os
import socket
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "nonsmtp_detect", os.path.join(HERE, "..", "milter", "nonsmtp-detect.py"))
nd = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(nd)


def second_rcpt_reply(path, info):
    """the reply to a second HTG RCPT after SMFIC_CONNECT data info"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    nd.send(s, nd.SMFIC_OPTNEG, struct.pack(">III", 6, 0x1FF, 0))
    assert nd.recv(s)[0] == b"O"
    nd.send(s, nd.SMFIC_CONNECT, info)
    nd.recv(s)
    for rcpt in (b"", b"<AGS@msa-smtp.htpoort.nl>\0"):
        if rcpt:
            nd.send(s, nd.SMFIC_RCPT, rcpt)
        else:
            nd.send(s, nd.SMFIC_MAIL, b"<erp@example.com>\0")
        nd.recv(s)
    nd.send(s, nd.SMFIC_RCPT, b"<DMS@msa-smtp.htpoort.nl>\0")
    last = nd.recv(s)[0]
    nd.send(s, nd.SMFIC_QUIT)
    s.close()
    return last


def long_sender_reply(path):
    """the reply to MAIL FROM with a sender longer than the milter keeps"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    nd.send(s, nd.SMFIC_OPTNEG, struct.pack(">III", 6, 0x1FF, 0))
    assert nd.recv(s)[0] == b"O"
    nd.send(s, nd.SMFIC_CONNECT, b"client\0" + b"4" + struct.pack(">H", 25000)
            + b"192.0.2.10\0")
    nd.recv(s)
    nd.send(s, nd.SMFIC_MAIL, b"<" + b"a" * 1100 + b"@example.com>\0")
    nd.send(s, nd.SMFIC_RCPT, b"<AGS@msa-smtp.htpoort.nl>\0")
    last = nd.recv(s)[0]
    nd.send(s, nd.SMFIC_QUIT)
    s.close()
    return last


def main():
    path, ok = sys.argv[1], True
    got = long_sender_reply(path)
    if got not in (b"c", b"y", b"t"):
        print("FAIL: a 1100-byte sender: RCPT got %r" % got)
        ok = False
    cases = [
        ("::1 port 0 (non-SMTP)", b"localhost\0" + b"6" + struct.pack(">H", 0) + b"::1\0", b"c"),
        ("::1 port 25000 (SMTP)", b"localhost\0" + b"6" + struct.pack(">H", 25000) + b"::1\0", b"y"),
        ("a unix-socket client (SMTP)", b"localhost\0" + b"L" + struct.pack(">H", 0) + b"/x\0", b"y"),
    ]
    for label, info, want in cases:
        got = second_rcpt_reply(path, info)
        if got != want:
            print("FAIL: %s: second HTG RCPT got %r, expected %r" % (label, got, want))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
