#!/usr/bin/env python3
"""tests/daemon/milter_v6.py - htgate-milter's non-SMTP detection for a
client announced over IPv6 or a unix socket (miltertest cannot): "::1"
port 0 is a non_smtpd_milters submission (a second HTG RCPT continues,
decided at end of message); "::1" port 25000 and a unix-socket client
are SMTP clients (refused at RCPT); and a sender longer than the milter
keeps (1024 bytes; miltertest itself cannot send one) is judged, not
a crash.  Speaks the milter protocol with tests/milter/milterproto.py.

usage: milter_v6.py SOCKET_PATH        exit 0 pass, 1 fail
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "milter"))
from milterproto import (SMFIC_MAIL, SMFIC_QUIT, SMFIC_RCPT,  # noqa: E402
                         client_info, connect, recv, second_rcpt, send)


def long_sender_reply(path):
    """the reply to MAIL FROM with a sender longer than the milter keeps"""
    s, _ = connect(path, 10, client_info(b"client", 25000, b"192.0.2.10"))
    recv(s)
    send(s, SMFIC_MAIL, b"<" + b"a" * 1100 + b"@example.com>\0")
    send(s, SMFIC_RCPT, b"<AGS@msa-smtp.htpoort.nl>\0")
    last = recv(s)[0]
    send(s, SMFIC_QUIT)
    s.close()
    return last


def main():
    path, ok = sys.argv[1], True
    got = long_sender_reply(path)
    if got not in (b"c", b"y", b"t"):
        print("FAIL: a 1100-byte sender: RCPT got %r" % got)
        ok = False
    cases = [
        ("::1 port 0 (non-SMTP)", client_info(b"localhost", 0, b"::1", b"6"), b"c"),
        ("::1 port 25000 (SMTP)", client_info(b"localhost", 25000, b"::1", b"6"), b"y"),
        ("a unix-socket client (SMTP)", client_info(b"localhost", 0, b"/x", b"L"), b"y"),
    ]
    for label, info, want in cases:
        got = second_rcpt(path, info)[1]
        if got != want:
            print("FAIL: %s: second HTG RCPT got %r, expected %r" % (label, got, want))
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
