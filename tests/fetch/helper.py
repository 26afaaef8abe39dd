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
  helper.py pop3 PORT CERT KEY MAILDIR USER PWFILE FLAGDIR LOGFILE
      a POP3 server without UIDL (RFC 1939 makes it optional): STLS (TLS
      1.3, CERT and KEY), CAPA, AUTH PLAIN or USER/PASS for USER with the
      first line of PWFILE, STAT, LIST, RETR (dot-stuffed, CR LF), DELE,
      RSET, NOOP and QUIT, which deletes the messages marked DELE from
      MAILDIR/new; UIDL is answered with -ERR.  Every command is logged
      to LOGFILE (PASS and AUTH data as "(secret)").  Files in FLAGDIR
      change the next session: "cut", QUIT drops the connection without
      committing the deletions; "baduidl", UIDL is offered and names the
      first message with an identifier RFC 1939 does not allow; "inject",
      the answer to STLS comes with a second line in the same packet
      (data before the TLS handshake); "badgreet", "longgreet": a
      greeting that is not +OK, or 10000 bytes long; "closetls", the
      connection closes right after +OK to STLS; "nocapa", "noplain",
      "authrefuse", "authodd": CAPA refused, no SASL PLAIN, AUTH PLAIN
      refused, AUTH PLAIN answered with +OK at once; "systemp", a login
      refused with [SYS/TEMP]; "vanish", RETR answered with -ERR;
      "liesize", LIST says 10 octets for every message; "stall", LIST
      is never answered.
The tests poll the port to see that a helper is ready.
"""
import base64
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


class Pop3:
    """One POP3 session of the pop3 helper (see the module's doc)."""

    def __init__(self, c, ctx, maildir, user, pwfile, flagdir, logfile):
        self.c, self.ctx, self.user = c, ctx, user
        self.maildir, self.flagdir, self.logfile = maildir, flagdir, logfile
        with open(pwfile) as f:
            self.password = f.readline().rstrip("\r\n")
        self.f = c.makefile("rwb", buffering=0)
        self.tls = self.authed = False
        self.login = None
        self.msgs, self.deleted = [], set()

    def flag(self, name):
        return os.path.exists(os.path.join(self.flagdir, name))

    def log(self, text):
        with open(self.logfile, "a") as log:
            log.write(text + "\n")

    def send(self, line):
        self.f.write(line.encode() + b"\r\n")

    def load(self):
        new = os.path.join(self.maildir, "new")
        for name in sorted(os.listdir(new)):
            path = os.path.join(new, name)
            with open(path, "rb") as f:
                data = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            self.msgs.append((path, data))

    def logged_in(self):
        if self.flag("systemp"):
            self.send("-ERR [SYS/TEMP] try again later")
            return
        self.authed = True
        self.load()
        self.send("+OK logged in")

    def run(self):
        if self.flag("badgreet"):
            self.send("HELLO this is not POP3")
            return
        self.send("+OK helper POP3 without UIDL" +
                  ("x" * 10000 if self.flag("longgreet") else ""))
        while True:
            line = self.f.readline()
            if not line:
                return              # connection lost: nothing deleted
            verb, _, arg = line.decode("ascii", "replace").rstrip("\r\n").partition(" ")
            verb = verb.upper()
            self.log("%s %s" % (verb, "(secret)" if verb == "PASS" else arg))
            if self.command(verb, arg):
                return

    def command(self, verb, arg):
        """One command; True when the session ends."""
        if verb == "STLS" and not self.tls:
            if self.flag("inject"):
                self.c.sendall(b"+OK begin TLS\r\n+OK injected\r\n")
            else:
                self.send("+OK begin TLS")
            if self.flag("closetls"):
                return True
            self.c = self.ctx.wrap_socket(self.c, server_side=True)
            self.f = self.c.makefile("rwb", buffering=0)
            self.tls = True
        elif verb == "CAPA" and self.flag("nocapa"):
            self.send("-ERR no CAPA here")
        elif verb == "CAPA":
            caps = (["USER"] + ([] if self.flag("noplain") else ["SASL PLAIN"])
                    + (["UIDL"] if self.flag("baduidl") else []))
            for cap in ["+OK"] + caps + (["STLS"] if not self.tls else []) + ["."]:
                self.send(cap)
        elif verb == "QUIT":
            if self.flag("cut"):
                self.log("(cut: nothing committed)")
                return True
            for n in self.deleted:
                os.unlink(self.msgs[n - 1][0])
            self.send("+OK bye")
            return True
        elif not self.tls:
            self.send("-ERR STLS first")
        elif verb == "AUTH" and self.flag("authrefuse"):
            self.send("-ERR AUTH not here")
        elif verb == "AUTH" and self.flag("authodd"):
            self.send("+OK what")
        elif verb == "AUTH" and arg.upper() == "PLAIN":
            self.send("+ ")
            data = base64.b64decode(self.f.readline().strip()).split(b"\0")
            self.log("AUTH data (secret)")
            if data[1:] == [self.user.encode(), self.password.encode()]:
                self.logged_in()
            else:
                self.send("-ERR [AUTH] authentication failed")
        elif verb == "USER":
            self.login = arg
            self.send("+OK")
        elif verb == "PASS":
            if self.login == self.user and arg == self.password:
                self.logged_in()
            else:
                self.send("-ERR [AUTH] authentication failed")
        elif not self.authed:
            self.send("-ERR log in first")
        else:
            self.transaction(verb, arg)
        return False

    def transaction(self, verb, arg):
        """The commands of the TRANSACTION state."""
        live = [(n, d) for n, (_, d) in enumerate(self.msgs, 1)
                if n not in self.deleted]
        n = int(arg) if arg.isdigit() else 0
        if verb in ("RETR", "DELE") and not any(m == n for m, _ in live):
            self.send("-ERR no such message")
        elif verb == "STAT":
            self.send("+OK %d %d" % (len(live), sum(len(d) for _, d in live)))
        elif verb == "LIST" and self.flag("stall"):
            time.sleep(3)     # the client gave up after -t 2
        elif verb == "LIST":
            self.send("+OK")
            for m, d in live:
                self.send("%d %d" % (m, 10 if self.flag("liesize") else len(d)))
            self.send(".")
        elif verb == "RETR" and self.flag("vanish"):
            self.send("-ERR no such message any more")
        elif verb == "UIDL" and self.flag("baduidl"):
            self.send("+OK")
            for m, _ in live:
                self.send("%d %s" % (m, "bad uidl" if m == 1 else "uid-%d" % m))
            self.send(".")
        elif verb == "RETR":
            self.send("+OK")
            for line in self.msgs[n - 1][1].split(b"\r\n")[:-1]:
                self.f.write((b"." if line.startswith(b".") else b"") + line + b"\r\n")
            self.send(".")
        elif verb == "DELE":
            self.deleted.add(n)
            self.send("+OK marked")
        elif verb == "RSET":
            self.deleted.clear()
            self.send("+OK")
        elif verb == "NOOP":
            self.send("+OK")
        else:
            self.send("-ERR unknown command")


def pop3(port, cert, key, maildir, user, pwfile, flagdir, logfile):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(cert, key)
    serve_each(listener(port), lambda c: Pop3(c, ctx, maildir, user, pwfile,
                                              flagdir, logfile).run())


def main():
    mode = sys.argv[1]
    if mode == "nostls":
        nostls(int(sys.argv[2]), sys.argv[3])
    elif mode == "tls12":
        tls12(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    elif mode == "pop3":
        pop3(int(sys.argv[2]), *sys.argv[3:10])
    elif mode == "proxy":
        stall = int(sys.argv[5]) if len(sys.argv) > 5 else None
        Proxy(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], stall).serve()
    else:
        sys.exit("unknown mode")


if __name__ == "__main__":
    main()
