#!/usr/bin/env python3
"""tests/daemon/syslog_sink.py - a /dev/log stand-in for the tests.

  syslog_sink.py SOCKET OUTFILE
      binds a unix datagram socket at SOCKET (mode 0666) and appends each
      datagram it receives, as syslog(3) sent it ("<PRI>TIMESTAMP
      IDENT[PID]: text"), as one line to OUTFILE, until killed.
"""
import os
import socket
import sys


def main():
    path, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(out, "ab", buffering=0) as f:
        while True:
            data = s.recv(65536)
            f.write(data.replace(b"\n", b" ") + b"\n")


if __name__ == "__main__":
    main()
