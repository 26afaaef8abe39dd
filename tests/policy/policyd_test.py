#!/usr/bin/env python3
"""policyd_test.py - tests of htgate-policyd against the real daemon.

SYNOPSIS
    policyd_test.py rules|robust|spawn|sockmode
                                        (top_builddir, srcdir in environment)

DESCRIPTION
    Starts htgate-policyd (-f -l) from $top_builddir with a temporary
    htgate.conf on a unix socket and a loopback TCP port (10120-10139),
    speaks the Postfix policy protocol to it and checks every answer and
    the log.  Prints one TAP line per check (tests/tap.py); exits 1 if any
    check failed, 0 otherwise.  HTGATE_WRAPPER, if set, is a command line
    the daemon is started under (e.g. valgrind ...).  Everything started is stopped and the
    temporary directory removed, also on failure or interruption.  The
    daemon must exit 0 on SIGTERM and its log must hold no sanitizer
    report (the tests also run in an --enable-sanitizers build).

    sockmode starts the daemon on a unix socket only (no TCP port) under
    umask 022, 077 and 000 and checks that the socket is 0660 each time,
    and, as root, that a user who is only in the socket's group can
    speak to it while one who is not is refused.
"""

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import shlex
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import tap  # noqa: E402 - tests/tap.py

BUILD = os.environ.get("top_builddir", ".")
POLICYD = os.path.join(BUILD, "policy", "htgate-policyd")
WRAPPER = shlex.split(os.environ.get("HTGATE_WRAPPER", ""))
PORTS = {"rules": 10120, "robust": 10121, "spawn": 10122}
DEFAULT_ACTION = "DEFER_IF_PERMIT 4.3.0 test default action"

CONF = """\
[global]
language = en nl
size_limit = 1M
policy_default_action = %(default)s

[stream AGS]
profile = standard

[stream DMS]
profile = standard

[account plain]
mailbox = plain@htpoort.nl
senders = *@plain.example
streams = AGS DMS
rate = off

[account acme]
mailbox = acme@htpoort.nl
senders = *@acme.example
sasl_users = erp
streams = AGS
rate = off

[account rated]
mailbox = rated@htpoort.nl
senders = *@rated.example
streams = *
rate = defer
rate_limit = 2
rate_window = 60

[account warned]
mailbox = warned@htpoort.nl
senders = *@warned.example
streams = *
rate = warn
rate_limit = 1
rate_window = 60
"""

failures = 0
checks = 0


def check(cond, what, detail=""):
    """Record one check: one TAP line (tests/tap.py)."""
    global failures, checks
    tap.check(cond, what, detail)
    checks, failures = tap.checks(), tap.failures()
    return cond


def request(state="RCPT", **attrs):
    """A policy request as bytes (Postfix order: request first)."""
    lines = ["request=smtpd_access_policy", "protocol_state=" + state,
             "protocol_name=ESMTP", "client_address=127.0.0.1"]
    for k, v in attrs.items():
        lines.append("%s=%s" % (k, v))
    return ("\n".join(lines) + "\n\n").encode()


class Client:
    """One persistent policy connection."""

    def __init__(self, addr, timeout=10):
        if isinstance(addr, str):
            self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        else:
            self.s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(addr)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def reply(self):
        """Read one "action=...\\n\\n" answer; None on EOF."""
        while b"\n\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        ans, self.buf = self.buf.split(b"\n\n", 1)
        ans = ans.decode("utf-8", "replace")
        return ans[len("action="):] if ans.startswith("action=") else ans

    def ask(self, state="RCPT", **attrs):
        self.send(request(state, **attrs))
        return self.reply()

    def eof(self):
        """True if the server closed the connection (after answers)."""
        try:
            d = self.s.recv(65536)
            return d == b""
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.s.close()


class Daemon:
    """htgate-policyd started with -f -l on a temp config."""

    started = []    # every Daemon started (run_part stops them)

    def __init__(self, tmp, port):
        self.tmp = tmp
        self.conf = os.path.join(tmp, "htgate.conf")
        self.sock = os.path.join(tmp, "policy.sock")
        self.port = port
        self.log = os.path.join(tmp, "policyd.log")
        self.proc = None
        write_conf(self.conf)

    def start(self):
        Daemon.started.append(self)
        self.logf = open(self.log, "ab")
        self.proc = subprocess.Popen(
            WRAPPER + [POLICYD, "-f", "-l", "-c", self.conf,
                       "-p", "unix:" + self.sock,
                       "-p", "inet:127.0.0.1:%d" % self.port],
            stdin=subprocess.DEVNULL, stdout=self.logf, stderr=self.logf)
        for _ in range(100):
            if self.proc.poll() is not None:
                raise RuntimeError("htgate-policyd exited: " + self.logtext())
            if os.path.exists(self.sock):
                try:
                    Client(("127.0.0.1", self.port)).close()
                    return
                except OSError:
                    pass
            time.sleep(0.05)
        raise RuntimeError("htgate-policyd did not start: " + self.logtext())

    def logtext(self):
        with open(self.log, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_log(self, text, timeout=5):
        end = time.time() + timeout
        while time.time() < end:
            if text in self.logtext():
                return True
            time.sleep(0.05)
        return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM; returns the exit status (None if it had to be killed)."""
        if self.proc is None:
            return None
        rc = None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        else:
            rc = self.proc.returncode
        self.proc = None
        self.logf.close()
        return rc


def write_conf(path, default=DEFAULT_ACTION, extra=""):
    with open(path, "w") as f:
        f.write(CONF % {"default": default} + extra)


def htg(local, env="msa-smtp.htpoort.nl"):
    return "%s@%s" % (local, env)


def sanitizer_clean(d):
    log = d.logtext()
    return ("Sanitizer" not in log and "runtime error" not in log, log)


def test_rules(d):
    """Envelope rules, over the unix socket and the TCP port."""
    u = Client(d.sock)
    t = Client(("127.0.0.1", d.port))

    a = u.ask(instance="r1", sender="x@plain.example",
              recipient="bob@example.org")
    check(a == "DUNNO", "non-HTG recipient: DUNNO", a)
    a = u.ask(instance="r1", sender="x@plain.example",
              recipient="alice@example.net")
    check(a == "DUNNO", "second non-HTG recipient: DUNNO", a)
    a = u.ask("CONNECT")
    check(a == "DUNNO", "CONNECT: DUNNO", a)

    for c, name in ((u, "unix"), (t, "inet")):
        inst = "one-" + name
        a = c.ask(instance=inst, sender="x@plain.example",
                  recipient=htg("AGS"), queue_id="")
        check(a == "DUNNO", name + ": first HTG recipient: DUNNO", a)
        a = c.ask(instance=inst, sender="x@plain.example",
                  recipient=htg("DMS", "htpoort.nl"))
        check(a is not None and a.startswith("550 5.5.3 [HTG ENV-ONE-RCPT] ")
              and " / [HTG ENV-ONE-RCPT] Een bericht aan HTG" in a,
              name + ": second HTG recipient: 550 5.5.3 ENV-ONE-RCPT, en / nl",
              a)
        check(a is not None and "\n" not in a and len(a) < 2000,
              name + ": reply is one line", a)

    a = u.ask(instance="mix1", sender="x@plain.example", recipient=htg("AGS"))
    b = u.ask(instance="mix1", sender="x@plain.example",
              recipient="bob@example.org")
    check(a == "DUNNO" and b is not None
          and b.startswith("550 5.5.3 [HTG ENV-MIXED]"),
          "HTG then non-HTG: ENV-MIXED", "%s | %s" % (a, b))
    a = u.ask(instance="mix2", sender="x@plain.example",
              recipient="bob@example.org")
    b = u.ask(instance="mix2", sender="x@plain.example",
              recipient=htg("AGS", "htpoort.nl"))
    check(a == "DUNNO" and b is not None
          and b.startswith("550 5.5.3 [HTG ENV-MIXED]"),
          "non-HTG then HTG: ENV-MIXED", "%s | %s" % (a, b))
    a = u.ask(instance="mix2", sender="x@plain.example",
              recipient="carol@example.org")
    check(a == "DUNNO", "refused HTG recipient forgotten: next non-HTG DUNNO",
          a)

    a = u.ask(instance="st1", sender="x@plain.example", recipient=htg("FOO"))
    check(a is not None and a.startswith("550 5.1.1 [HTG ENV-STREAM]"),
          "unknown stream: 550 5.1.1 ENV-STREAM", a)
    a = u.ask(instance="st1", sender="x@plain.example", recipient=htg("AGS"))
    check(a == "DUNNO", "after a refused stream, a good HTG recipient: DUNNO",
          a)
    a = u.ask(instance="st2", sender="x@plain.example",
              recipient="AGS@foo.htpoort.nl")
    check(a == "DUNNO", "foo.htpoort.nl is not HTG-bound: DUNNO", a)

    a = u.ask(instance="au1", sender="stranger@nowhere.example",
              recipient=htg("AGS"))
    check(a is not None and a.startswith("550 5.7.1 [HTG ENV-AUTH]"),
          "sender without account: 550 5.7.1 ENV-AUTH", a)
    a = u.ask(instance="au2", sender="x@plain.example",
              recipient=htg("AGS"), sasl_username="whoever")
    check(a == "DUNNO", "account without sasl_users: any login: DUNNO", a)
    a = u.ask(instance="au3", sender="a@acme.example", recipient=htg("AGS"),
              sasl_username="mallory", sasl_method="PLAIN")
    check(a is not None and a.startswith("550 5.7.1 [HTG ENV-AUTH]"),
          "sasl_username not allowed for the sender: ENV-AUTH", a)
    a = u.ask(instance="au4", sender="a@acme.example", recipient=htg("AGS"),
              sasl_username="erp", sasl_method="PLAIN")
    check(a == "DUNNO", "sasl_username allowed: DUNNO", a)
    a = u.ask(instance="au5", sender="a@acme.example", recipient=htg("DMS"),
              sasl_username="erp")
    check(a is not None and a.startswith("550 5.7.1 [HTG ENV-AUTH]"),
          "stream not allowed for the account: ENV-AUTH", a)
    a = u.ask(instance="os1", sender="not-an-address", recipient=htg("AGS"))
    check(a is not None and a.startswith("550 5.1.7 [HTG ENV-ONE-SENDER]"),
          "sender not a full address: ENV-ONE-SENDER", a)

    # Size: MAIL FROM SIZE= at RCPT, the real size at END-OF-MESSAGE.
    a = u.ask(instance="sz1", sender="x@plain.example", recipient=htg("AGS"),
              size="2000000")
    check(a is not None and a.startswith("552 5.3.4 [HTG ENV-SIZE]"),
          "SIZE= above size_limit at RCPT: 552 5.3.4 ENV-SIZE", a)
    a = u.ask(instance="sz2", sender="x@plain.example", recipient=htg("AGS"),
              size="0", queue_id="")
    b = u.ask("DATA", instance="sz2", sender="x@plain.example",
              recipient=htg("AGS"), recipient_count="1", queue_id="QSZ2")
    c = u.ask("END-OF-MESSAGE", instance="sz2", sender="x@plain.example",
              recipient=htg("AGS"), recipient_count="1", size="1048577",
              queue_id="QSZ2")
    check(a == "DUNNO" and b == "DUNNO" and c is not None
          and c.startswith("552 5.3.4 [HTG ENV-SIZE]"),
          "size above size_limit at END-OF-MESSAGE: ENV-SIZE",
          "%s | %s | %s" % (a, b, c))
    a = u.ask(instance="sz3", sender="x@plain.example", recipient=htg("AGS"))
    b = u.ask("END-OF-MESSAGE", instance="sz3", sender="x@plain.example",
              recipient=htg("AGS"), recipient_count="1", size="1000",
              queue_id="QSZ3")
    check(a == "DUNNO" and b == "DUNNO", "small message at END-OF-MESSAGE: "
          "DUNNO", "%s | %s" % (a, b))
    check(d.wait_log("QSZ3: action=accept stage=eom"),
          "END-OF-MESSAGE decision logged with the queue ID")
    check(re.search(r"QSZ3: action=accept stage=eom .* size=1000 ",
                    d.logtext()) is not None,
          "END-OF-MESSAGE log line carries Postfix's size")
    check(d.wait_log("QSZ2: action=reject stage=eom rule=ENV-SIZE"),
          "ENV-SIZE decision logged with the queue ID")

    # recipient_count is checked again at DATA (recipients we never saw).
    a = u.ask(instance="dc1", sender="x@plain.example", recipient=htg("AGS"))
    b = u.ask("DATA", instance="dc1", sender="x@plain.example",
              recipient="", recipient_count="2")
    check(a == "DUNNO" and b is not None
          and b.startswith("550 5.5.3 [HTG ENV-ONE-RCPT]"),
          "recipient_count=2 at DATA: ENV-ONE-RCPT", "%s | %s" % (a, b))
    b = u.ask("DATA", instance="dc1", sender="x@plain.example",
              recipient="", recipient_count="2")
    check(b is not None and b.startswith("550 5.5.3 [HTG ENV-ONE-RCPT]"),
          "DATA sent again: refused again", b)
    # DATA/END-OF-MESSAGE without a RCPT request: judged from scratch.
    a = u.ask("END-OF-MESSAGE", instance="late1", sender="x@plain.example",
              recipient=htg("FOO", "htpoort.nl"), recipient_count="1",
              size="100")
    check(a is not None and a.startswith("550 5.1.1 [HTG ENV-STREAM]"),
          "END-OF-MESSAGE without RCPT request: envelope judged", a)
    a = u.ask("DATA", instance="late2", sender="x@plain.example",
              recipient="", recipient_count="3")
    check(a == "DUNNO", "DATA of an unknown transaction without recipient: "
          "DUNNO", a)

    # ENV-RATE: defer after rate_limit=2 messages per 60 s, per account.
    got = []
    for i in range(3):
        got.append(t.ask(instance="rate%d" % i, sender="ops@rated.example",
                         recipient=htg("AGS")))
    check(got[0] == "DUNNO" and got[1] == "DUNNO",
          "rate=defer: first two messages DUNNO", repr(got))
    check(got[2] is not None
          and got[2].startswith("DEFER_IF_PERMIT 4.7.0 [HTG ENV-RATE]"),
          "rate=defer: third message DEFER_IF_PERMIT ENV-RATE", got[2])
    a = t.ask(instance="rate2", sender="ops@rated.example",
              recipient="bob@example.org")
    check(a == "DUNNO", "deferred HTG recipient forgotten by the transaction",
          a)
    a = t.ask(instance="rate3", sender="ops@plain.example",
              recipient=htg("AGS"))
    check(a == "DUNNO", "rate is per account: another account DUNNO", a)

    # ENV-RATE warn: DUNNO, but a log line.
    a = t.ask(instance="w1", sender="ops@warned.example", recipient=htg("AGS"))
    b = t.ask(instance="w2", sender="ops@warned.example", recipient=htg("AGS"))
    check(a == "DUNNO" and b == "DUNNO", "rate=warn: DUNNO above the limit",
          "%s | %s" % (a, b))
    check(d.wait_log("rule=warn:ENV-RATE"), "rate=warn: logged as a warning")

    # One log line per decision, in the engine's key=value format.
    check(d.wait_log("NOQUEUE: action=reject stage=rcpt rule=ENV-ONE-RCPT "
                     "from=<x@plain.example> to=<AGS@msa-smtp.htpoort.nl> "
                     "stream=AGS env=production"),
          "ENV-ONE-RCPT logged: queue id, rule, sender, recipient, stream, env")
    check(d.wait_log("sasl_user=erp"), "SASL user logged")
    u.close()
    t.close()


def test_config_check(tmp):
    """-n: a good file exits 0, a bad one 1 with FILE:LINE: reason."""
    good = os.path.join(tmp, "good.conf")
    bad = os.path.join(tmp, "bad.conf")
    write_conf(good)
    write_conf(bad, extra="[account broken]\nrate = sometimes\n")
    r = subprocess.run([POLICYD, "-n", "-c", good], capture_output=True,
                       timeout=20)
    check(r.returncode == 0, "-n with a good configuration: exit 0",
          r.stderr.decode(errors="replace"))
    r = subprocess.run([POLICYD, "-n", "-c", bad], capture_output=True,
                       timeout=20)
    err = r.stderr.decode(errors="replace")
    check(r.returncode == 1 and (bad + ":") in err and "rate" in err,
          "-n with a bad configuration: exit 1, FILE:LINE: reason", err)
    r = subprocess.run([POLICYD, "-f", "-c", good], capture_output=True,
                       timeout=20)
    check(r.returncode == 2, "no -p and no -s: usage error (exit 2)",
          r.stderr.decode(errors="replace"))


def flood(addr, nbytes, result):
    """Send nbytes without a newline; record how the server ended it."""
    try:
        c = Client(addr, timeout=20)
        c.send(b"request=smtpd_access_policy\nx=")
        chunk = b"A" * 65536
        sent = 0
        try:
            while sent < nbytes:
                c.s.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        result["sent"] = sent
        try:
            result["reply"] = c.reply()
        except (ConnectionResetError, BrokenPipeError):
            result["reply"] = "reset"
        c.close()
    except Exception as e:  # noqa: BLE001 - recorded and checked
        result["error"] = repr(e)


def many_clients(addr, n, rounds, tag):
    """n persistent clients in parallel, each asking rounds times."""
    errors = []

    def worker(k):
        try:
            c = Client(addr, timeout=20)
            for r in range(rounds):
                inst = "mc-%s-%d-%d" % (tag, k, r)
                a = c.ask(instance=inst, sender="x@plain.example",
                          recipient=htg("AGS"))
                b = c.ask(instance=inst, sender="x@plain.example",
                          recipient=htg("DMS"))
                if a != "DUNNO" or b is None or "ENV-ONE-RCPT" not in b:
                    errors.append("%s: %s | %s" % (inst, a, b))
            c.close()
        except Exception as e:  # noqa: BLE001
            errors.append("client %d: %r" % (k, e))

    th = [threading.Thread(target=worker, args=(k,)) for k in range(n)]
    for x in th:
        x.start()
    for x in th:
        x.join(60)
    return errors


def test_robust(d):
    """Malformed input, hostile clients, concurrency, SIGHUP."""
    addr = ("127.0.0.1", d.port)
    # A client that stalls mid-request for the whole test.
    stall = Client(d.sock)
    stall.send(b"request=smtpd_access_policy\nprotocol_state=RC")

    c = Client(d.sock)
    a = c.ask(instance="x", sender="a@plain.example", recipient=htg("AGS"))
    check(a == "DUNNO", "baseline request: DUNNO", a)
    # Malformed requests: each gets the default action.
    for raw, what in (
            (b"protocol_state=RCPT\nsender=a@b.example\n\n",
             "no request= attribute"),
            (b"request=junk\nprotocol_state=RCPT\n\n", "request=junk"),
            (b"request=smtpd_access_policy\n\x00\x01\xff garbage\n\n",
             "NUL and control bytes"),
            (b"request=smtpd_access_policy\nno equals sign here\n\n",
             "line without '='"),
            (b"request=smtpd_access_policy\n" +
             b"".join(b"a%d=1\n" % i for i in range(150)) + b"\n",
             "150 attributes"),
            (b"\n", "empty request")):
        c.send(raw)
        a = c.reply()
        check(a == DEFAULT_ACTION, "%s: default action" % what, a)
    a = c.ask(instance="y", sender="a@plain.example", recipient=htg("AGS"))
    check(a == "DUNNO", "same connection still served after bad requests", a)
    # Pipelined requests in one write.
    c.send(request(instance="p1", sender="a@plain.example",
                   recipient=htg("AGS")) +
           request(instance="p1", sender="a@plain.example",
                   recipient=htg("DMS")) +
           request(instance="p2", sender="a@plain.example",
                   recipient="bob@example.org"))
    got = [c.reply(), c.reply(), c.reply()]
    check(got[0] == "DUNNO" and got[1] is not None and "ENV-ONE-RCPT" in got[1]
          and got[2] == "DUNNO", "pipelined requests answered in order",
          repr(got))
    # One byte at a time.
    for byte in request(instance="slow", sender="a@plain.example",
                        recipient=htg("AGS")):
        c.send(bytes([byte]))
    a = c.reply()
    check(a == "DUNNO", "request written one byte at a time", a)
    c.close()

    # Overlong line: default action, then the connection is closed.
    c = Client(d.sock)
    c.send(b"request=smtpd_access_policy\nsender=" + b"x" * 5000 + b"\n\n")
    a = c.reply()
    check(a == DEFAULT_ACTION, "5000-byte line: default action", a)
    check(c.eof(), "5000-byte line: connection closed")
    c.close()

    # 10 MB without a newline, while other clients are served.
    res = {}
    th = threading.Thread(target=flood, args=(addr, 10 * 1024 * 1024, res))
    th.start()
    o = Client(addr)
    a = o.ask(instance="during-flood", sender="a@plain.example",
              recipient=htg("AGS"))
    check(a == "DUNNO", "another client served during a 10 MB flood", a)
    o.close()
    th.join(60)
    check("error" not in res and res.get("reply") in (DEFAULT_ACTION, None,
                                                      "reset"),
          "10 MB without newline: default action or close, no hang",
          repr(res))
    check(d.wait_log("line longer than 4096 bytes"),
          "overlong line logged")

    # Disconnect in the middle of a request.
    c = Client(d.sock)
    c.send(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@")
    c.close()
    check(d.wait_log("disconnected in the middle of a request"),
          "disconnect mid-request logged")
    # Half-close after a complete request: still answered.
    c = Client(d.sock)
    c.send(request(instance="hc", sender="a@plain.example",
                   recipient=htg("AGS")))
    c.s.shutdown(socket.SHUT_WR)
    a = c.reply()
    check(a == "DUNNO", "request followed by half-close: answered", a)
    c.close()

    # 50 concurrent persistent clients, while the stalled one waits.
    t0 = time.time()
    errors = []
    groups = [threading.Thread(target=lambda a=a, t=t: errors.extend(
        many_clients(a, 25, 10, t))) for a, t in ((addr, "tcp"),
                                                   (d.sock, "unix"))]
    for g in groups:
        g.start()
    for g in groups:
        g.join(90)
    check(not errors, "50 concurrent persistent clients, 1000 requests",
          "; ".join(errors[:5]))
    check(time.time() - t0 < 30, "concurrent clients finish quickly",
          "%.1f s" % (time.time() - t0))

    # SIGHUP with a broken file keeps the old configuration...
    with open(d.conf, "a") as f:
        f.write("[global]\nbogus_key = 1\n")
    d.proc.send_signal(signal.SIGHUP)
    check(d.wait_log("config reload failed: "),
          "SIGHUP with a bad file: logged with the reason")
    check(d.alive(), "SIGHUP with a bad file: still running")
    c = Client(d.sock)
    a = c.ask(instance="h1", sender="a@plain.example", recipient=htg("AGS"))
    b = c.ask(instance="h1", sender="a@plain.example", recipient=htg("DMS"))
    check(a == "DUNNO" and b is not None and "ENV-ONE-RCPT" in b,
          "after a failed reload the old rules still apply", b)
    c.send(b"garbage\n\n")
    a = c.reply()
    check(a == DEFAULT_ACTION, "after a failed reload: old default action", a)
    # ...and a good one takes effect.
    write_conf(d.conf, default="DEFER_IF_PERMIT 4.3.0 reloaded default")
    d.proc.send_signal(signal.SIGHUP)
    check(d.wait_log("configuration reloaded"), "SIGHUP with a good file")
    c.send(b"garbage\n\n")
    a = c.reply()
    check(a == "DEFER_IF_PERMIT 4.3.0 reloaded default",
          "after a good reload the new configuration applies", a)
    c.close()
    # The stalled client never blocked anyone; it is still connected.
    stall.send(b"PT\ninstance=stall\nsender=a@plain.example\nrecipient=" +
               htg("AGS").encode() + b"\n\n")
    a = stall.reply()
    check(a == "DUNNO", "stalled client completes its request at the end", a)
    stall.close()
    check(d.alive(), "daemon alive after the hostile clients")


def test_spawn(tmp):
    """-s: one client on standard input/output (pipes and a socket)."""
    conf = os.path.join(tmp, "htgate.conf")
    log = os.path.join(tmp, "spawn.log")
    write_conf(conf)
    reqs = (request(instance="s1", sender="a@plain.example",
                    recipient=htg("AGS")) +
            request(instance="s1", sender="a@plain.example",
                    recipient=htg("DMS")) +
            b"junk\n\n" +
            request("END-OF-MESSAGE", instance="s1", sender="a@plain.example",
                    recipient=htg("AGS"), recipient_count="1", size="10",
                    queue_id="QSPAWN"))
    with open(log, "wb") as lf:
        r = subprocess.run(WRAPPER + [POLICYD, "-s", "-l", "-c", conf],
                           input=reqs,
                           stdout=subprocess.PIPE, stderr=lf, timeout=20)
    out = r.stdout.decode(errors="replace").split("\n\n")
    check(r.returncode == 0, "spawn over pipes: exit 0 at end of input",
          "rc=%d" % r.returncode)
    check(len(out) == 5 and out[0] == "action=DUNNO"
          and out[1].startswith("action=550 5.5.3 [HTG ENV-ONE-RCPT]")
          and out[2] == "action=" + DEFAULT_ACTION
          and out[3] == "action=DUNNO" and out[4] == "",
          "spawn over pipes: DUNNO, ENV-ONE-RCPT, default action, DUNNO",
          repr(out))
    with open(log, "rb") as lf:
        text = lf.read().decode(errors="replace")
    check("QSPAWN: action=accept stage=eom" in text,
          "spawn: decision logged to stderr", text[-500:])
    check("Sanitizer" not in text and "runtime error" not in text,
          "spawn: no sanitizer report", text[-2000:])

    # spawn(8) hands over a socket as stdin and stdout.
    a, b = socket.socketpair()
    with open(log, "ab") as lf:
        p = subprocess.Popen(WRAPPER + [POLICYD, "-s", "-l", "-c", conf],
                             stdin=b,
                             stdout=b, stderr=lf)
    b.close()
    a.settimeout(10)
    cl = Client.__new__(Client)
    cl.s, cl.buf = a, b""
    x = cl.ask(instance="s2", sender="a@plain.example", recipient=htg("AGS"))
    y = cl.ask(instance="s2", sender="a@plain.example",
               recipient="bob@example.org")
    check(x == "DUNNO" and y is not None and "ENV-MIXED" in y,
          "spawn over a socket: persistent connection, ENV-MIXED", y)
    a.close()
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = None
    check(rc == 0, "spawn over a socket: exit 0 when the client closes",
          repr(rc))


def sockmode_start(tmp, umask, tag):
    """htgate-policyd -f -l on tmp/TAG.sock under umask; (proc, sock, log)."""
    conf = os.path.join(tmp, "htgate.conf")
    sock = os.path.join(tmp, tag + ".sock")
    log = os.path.join(tmp, tag + ".log")
    if not os.path.exists(conf):
        write_conf(conf)
    with open(log, "wb") as lf:
        p = subprocess.Popen([POLICYD, "-f", "-l", "-c", conf,
                              "-p", "unix:" + sock],
                             stdin=subprocess.DEVNULL, stdout=lf, stderr=lf,
                             preexec_fn=lambda: os.umask(umask))
    for _ in range(200):
        if p.poll() is not None or os.path.exists(sock):
            break
        time.sleep(0.05)
    time.sleep(0.1)		# bind() done; chmod() and listen() follow
    return p, sock, log


def sockmode_stop(p):
    """SIGTERM and wait; the exit status or None."""
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            return None
    return p.returncode


def sockmode_client(sock, uid, gid):
    """Ask one question as uid:gid (no other groups); the answer or error."""
    code = ("import os,socket,sys\n"
            "os.setgroups([]); os.setgid(%d); os.setuid(%d)\n"
            "s=socket.socket(socket.AF_UNIX)\n"
            "s.settimeout(5)\n"
            "try:\n"
            "    s.connect(sys.argv[1])\n"
            "except OSError as e:\n"
            "    print('error', e.errno); sys.exit(0)\n"
            "s.sendall(sys.stdin.buffer.read())\n"
            "print(s.recv(4096).decode().strip())\n" % (gid, uid))
    r = subprocess.run([sys.executable, "-c", code, sock],
                       input=request(instance="m1", sender="a@plain.example",
                                     recipient=htg("AGS")),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=20)
    return r.stdout.decode(errors="replace").strip()


def test_sockmode(tmp):
    """The unix socket is 0660 whatever the umask (Postfix needs group rw)."""
    for umask in (0o022, 0o077, 0o000):
        p, sock, log = sockmode_start(tmp, umask, "u%03o" % umask)
        try:
            st = os.stat(sock)
            mode = stat.S_IMODE(st.st_mode)
            check(stat.S_ISSOCK(st.st_mode) and mode == 0o660,
                  "umask %03o: socket mode 0660" % umask, "%04o" % mode)
            if umask == 0o022 and os.geteuid() == 0:
                # The situation of Postfix: not the owner, in the group.
                os.chmod(tmp, 0o755)
                os.chown(sock, 0, 65534)
                a = sockmode_client(sock, 65534, 65534)
                check(a == "action=DUNNO",
                      "umask 022: a client in the socket's group is served", a)
                a = sockmode_client(sock, 65534, 65533)
                check(a == "error 13",
                      "umask 022: a client outside the group is refused", a)
        except OSError as e:
            check(False, "umask %03o: socket exists" % umask, repr(e))
        rc = sockmode_stop(p)
        with open(log, "rb") as f:
            text = f.read().decode(errors="replace")
        check(rc == 0, "umask %03o: clean exit 0" % umask,
              repr(rc) + " " + text[-1000:])
        check("Sanitizer" not in text and "runtime error" not in text,
              "umask %03o: no sanitizer report" % umask, text[-2000:])


def daemon_part(port, *tests, socket_removed=True, log_name="the log"):
    """A part of main() that runs tests on a Daemon on port: started,
    each test(d), then SIGTERM must give exit 0 (and remove the unix
    socket, if socket_removed) and the log (log_name) hold no sanitizer
    report."""
    def part(tmp):
        d = Daemon(tmp, port)
        d.start()
        for t in tests:
            t(d)
        rc = d.stop()
        check(rc == 0, "SIGTERM: clean exit 0", repr(rc))
        if socket_removed:
            check(not os.path.exists(d.sock), "unix socket removed at exit")
        ok, log = sanitizer_clean(d)
        check(ok, "no sanitizer report in %s" % log_name, log[-3000:])
    return part


def run_part(what, part, binaries=None, tmp_prefix="htg-policyd-"):
    """Run part(tmp) in a fresh temporary directory after checking that the
    binaries are built; a crash of the test is a failure; every Daemon
    started is stopped (its log shown after a failure) and the directory
    removed.  Returns tap.end()."""
    for b in binaries or (POLICYD,):
        if not os.access(b, os.X_OK):
            tap.not_ok("%s built" % b)
            return tap.end()
    tmp = tempfile.mkdtemp(prefix=tmp_prefix)
    try:
        part(tmp)
    except Exception as e:  # noqa: BLE001 - a crash of the test is a failure
        check(False, "test ran to the end", repr(e))
    finally:
        for d in Daemon.started:
            d.stop()
            if failures:
                tap.diag("---- policyd log (last 40 lines)")
                tap.diag("\n".join(d.logtext().splitlines()[-40:]))
        shutil.rmtree(tmp, ignore_errors=True)
    tap.diag("%s: %d checks, %d failed" % (what, checks, failures))
    return tap.end()


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "rules"
    parts = {"spawn": test_spawn, "sockmode": test_sockmode,
             "rules": daemon_part(PORTS["rules"], test_rules,
                                  lambda d: test_config_check(d.tmp)),
             "robust": daemon_part(PORTS["robust"], test_robust)}
    return run_part(what, parts[what])


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda s, f: sys.exit(1))
    sys.exit(main())
