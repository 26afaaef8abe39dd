#!/usr/bin/env python3
"""tests/fetch/helper.py - small network helpers for the htgate-fetch tests.

  helper.py nostls PORT LOGFILE
      fake POP3 server that refuses STLS; records every line the client
      sends into LOGFILE (to prove no credentials are sent in clear).
  helper.py tls12 PORT CERT KEY LOGFILE
      after "+OK" to STLS speaks TLS 1.2 at most (client must refuse).
  helper.py proxy LISTEN_PORT TARGET_PORT FLAGDIR [stall_after]
      TCP proxy.  Closes both sides when FLAGDIR/cut appears.  With
      stall_after=N (SMTP), after N server lines containing "queued as"
      every new session gets no replies: FLAGDIR/stalled is created,
      holding the stalled client's address and port ("127.0.0.1 PORT",
      so a test can tell which process is stalled), and the session is
      closed when FLAGDIR/release appears (later sessions are forwarded
      normally).
The tests poll the port to see that a helper is ready.
"""
import os
import socket
import ssl
import sys
import threading
import time


def listener(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(8)
    return s


def serve_each(srv, handler, *args):
    """Handle connections one after the other; a probe that connects and
    closes at once (the tests' wait_port) must not kill the helper."""
    while True:
        c, _ = srv.accept()
        try:
            handler(c, *args)
        except (OSError, ssl.SSLError):
            pass
        finally:
            c.close()


def nostls(port, logfile):
    serve_each(listener(port), nostls_session, logfile)


def nostls_session(c, logfile):
    f = c.makefile("rwb", buffering=0)
    f.write(b"+OK fake POP3 without STLS\r\n")
    with open(logfile, "ab") as log:
        for line in f:
            log.write(line)
            log.flush()
            cmd = line.strip().upper()
            if cmd == b"QUIT":
                f.write(b"+OK bye\r\n")
                break
            if cmd == b"CAPA":
                f.write(b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n")
                continue
            f.write(b"-ERR not supported\r\n")
    c.close()


def tls12(port, cert, key, logfile):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    serve_each(listener(port), tls12_session, ctx, logfile)


def tls12_session(c, ctx, logfile):
    c.sendall(b"+OK fake POP3, TLS 1.2 only\r\n")
    line = c.recv(1024)
    if not line:
        return
    with open(logfile, "ab") as log:
        log.write(line)
    c.sendall(b"+OK begin TLS\r\n")
    try:
        t = ctx.wrap_socket(c, server_side=True)
        data = t.recv(1024)
        with open(logfile, "ab") as log:
            log.write(b"TLS-DATA " + data)
        t.close()
    except (ssl.SSLError, OSError) as e:
        with open(logfile, "ab") as log:
            log.write(("handshake failed: %s\n" % e).encode())
        c.close()


class Proxy:
    def __init__(self, lport, tport, flagdir, stall_after):
        self.tport = tport
        self.flagdir = flagdir
        self.stall_after = stall_after
        self.queued = 0
        self.srv = listener(lport)

    def flag(self, name):
        return os.path.exists(os.path.join(self.flagdir, name))

    def serve(self):
        while True:
            c, peer = self.srv.accept()
            u = socket.create_connection(("127.0.0.1", self.tport))
            threading.Thread(target=self.session, args=(c, u, peer),
                             daemon=True).start()

    def session(self, c, u, peer):
        done = threading.Event()
        stall = (self.stall_after is not None
                 and self.queued >= self.stall_after
                 and not self.flag("release"))
        if stall:
            tmp = os.path.join(self.flagdir, "stalled.tmp")
            with open(tmp, "w") as f:
                f.write("%s %d\n" % peer[:2])
            os.rename(tmp, os.path.join(self.flagdir, "stalled"))
        for a, b, up in ((c, u, False), (u, c, True)):
            threading.Thread(target=self.pump, args=(a, b, up, done, stall),
                             daemon=True).start()
        while not done.is_set():
            if self.flag("cut"):
                break
            if stall and self.flag("release"):
                break
            time.sleep(0.05)
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def pump(self, src, dst, from_server, done, stall):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if from_server and stall:
                    continue        # swallow: the client sees no reply
                dst.sendall(data)
                if from_server and self.stall_after is not None:
                    self.queued += data.count(b"queued as")
        except OSError:
            pass
        done.set()


def main():
    mode = sys.argv[1]
    if mode == "nostls":
        nostls(int(sys.argv[2]), sys.argv[3])
    elif mode == "tls12":
        tls12(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    elif mode == "proxy":
        stall = int(sys.argv[5]) if len(sys.argv) > 5 else None
        Proxy(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], stall).serve()
    else:
        sys.exit("unknown mode")


if __name__ == "__main__":
    main()
