#!/usr/bin/env python3
"""tests/milter/nonsmtp-detect.py - non-SMTP auto-detection of htgate-milter.

miltertest always announces client port 12345, so this speaks the milter
protocol itself: Postfix's cleanup announces a non_smtpd_milters
submission as "localhost", 127.0.0.1, port 0.  Such a connection must get
CONTINUE for a second HTG recipient (decided at end of message); an SMTP
client (port 25000) must get a reply code (refused at RCPT).

usage: nonsmtp-detect.py SOCKET_PATH    exit 0 pass, 1 fail
"""
import sys

from milterproto import client_info, second_rcpt


def second_rcpt_reply(path, port):
    """the milter's reply to a second HTG RCPT from 127.0.0.1:port"""
    replies, last = second_rcpt(path, client_info(b"localhost", port, b"127.0.0.1"))
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
