#!/usr/bin/env python3
"""tests/milter/nr-threads.py - the no-reply steps belong to the connection.

Postfix agrees with the milter not to wait for a reply at connect, MAIL
and each header (SMFIP_NR_CONN, NR_MAIL, NR_HDR).  Debian's libmilter
hands a session's commands to any thread of its worker pool, so the
agreement must be kept per connection, not per thread: a reply the MTA
did not ask for is read as the answer to its next command.  This opens
sessions one at a time on a fresh milter (whose pool has idle threads
that never saw a negotiation), then many at once, each pausing between
commands (so that its next command goes back to the pool), and checks that every session gets
exactly one reply, to RCPT and to end of headers, and nothing else.

usage: nr-threads.py SOCKET_PATH [SESSIONS]    exit 0 pass, 1 fail
"""
import select
import struct
import sys
import threading
import time

from milterproto import (SMFIC_EOH, SMFIC_HEADER, SMFIC_MAIL, SMFIC_QUIT,
                         SMFIC_RCPT, client_info, connect, recv, send)

SMFIP_NR_HDR, SMFIP_NR_CONN, SMFIP_NR_MAIL = 0x80, 0x1000, 0x4000
NR = SMFIP_NR_HDR | SMFIP_NR_CONN | SMFIP_NR_MAIL


def unasked(s):
    """a packet waiting on s that nobody asked for, or None"""
    r, _, _ = select.select([s], [], [], 0.1)
    return recv(s)[0] if r else None


def session(path, n, pause, errors):
    """one SMTP session as Postfix runs it, with pauses"""
    try:
        s, agreed = connect(path, 20, client_info(b"client%d.example.com" % n,
                                                  25000 + n, b"192.0.2.10"), NR)
        if agreed & NR != NR:
            raise AssertionError("no-reply steps agreed 0x%x" % agreed)
        steps = [("connect", None, None),
                 ("MAIL", SMFIC_MAIL, b"<erp@example.com>\0"),
                 ("RCPT", SMFIC_RCPT, b"<AGS@msa-smtp.htpoort.nl>\0"),
                 ("header", SMFIC_HEADER, b"Subject\0hallo\0"),
                 ("end of headers", SMFIC_EOH, b"")]
        for what, cmd, data in steps:
            time.sleep(pause)
            if cmd is not None:
                send(s, cmd, data)
            if what in ("RCPT", "end of headers"):
                got = recv(s)[0]
                if got not in (b"c", b"y", b"t", b"r", b"a"):
                    raise AssertionError("%s answered %r" % (what, got))
            else:
                extra = unasked(s)
                if extra is not None:
                    raise AssertionError("a reply %r to %s, which has none"
                                         % (extra, what))
        send(s, SMFIC_QUIT)
        s.close()
    except (AssertionError, OSError, EOFError, struct.error) as e:
        errors.append("session %d: %s" % (n, e))


def main():
    path = sys.argv[1]
    sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    errors = []
    for n in range(6):                  # one at a time: idle workers wait
        session(path, n, 0.05, errors)
    threads = [threading.Thread(target=session,
                                args=(path, n, 0.05 * (n % 4), errors))
               for n in range(6, 6 + sessions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        print("FAIL: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
