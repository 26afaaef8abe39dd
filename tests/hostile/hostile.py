"""hostile.py - hostile input against htgate-check and htgate-policyd.

SYNOPSIS
    hostile.py check|policyd    (top_srcdir, top_builddir, srcdir in env)

DESCRIPTION
    check: a table of hostile messages (header and body lines far beyond
    RFC limits, thousands of headers, deeply nested and unterminated
    multiparts, NUL bytes, invalid UTF-8 and RFC 2047 words in
    addresses, control characters in values that are echoed) judged by
    htgate-check with tests/corpus/htgate.conf.  Each must be refused
    (exit 1) by the expected rule, with bounded memory (peak RSS of the
    checker), no crash or sanitizer report, and output free of raw
    control characters.
    policyd: htgate-policyd (started as tests/policy/policyd_test.py
    does, whose helpers are reused) gets a 100 MB line without a newline
    (must be cut off early, peak RSS bounded, others still served) and
    requests whose values hold CR, ESC and BEL that end up in the reply
    and the log line (must be escaped: one reply line, no raw control
    byte in reply or log).
    Prints one TAP line per check (tests/tap.py; numbered on from the
    calling hostile.sh); exit 1 if any failed.
OWNERSHIP
    tests/hostile (hardening).  Temporary files are removed at exit.
"""

import json
import os
import subprocess
import sys
import tempfile
import threading
import time

SRCDIR = os.environ.get("srcdir", os.path.dirname(os.path.abspath(__file__)) + "/..")
sys.path.insert(0, os.path.join(SRCDIR, "policy"))
import policyd_test as pt  # noqa: E402 - reuse its daemon, client, check()
import tap  # noqa: E402 - tests/tap.py (on the path through policyd_test)

TOP_SRC = os.environ.get("top_srcdir", os.path.join(SRCDIR, ".."))
BUILD = os.environ.get("top_builddir", ".")
CHECK = os.path.join(BUILD, "tools", "htgate-check")
POLICYD = os.path.join(BUILD, "policy", "htgate-policyd")
CONF = os.path.join(TOP_SRC, "tests", "corpus", "htgate.conf")
OK_MSG = open(os.path.join(TOP_SRC, "tests", "corpus", "edifact-ok.eml"),
              "rb").read().replace(b"\r\n", b"\n")
HEAD, _, BODY = OK_MSG.partition(b"\n\n")
FROM, RCPT = "erp@example.com", "AGS@msa-smtp.htpoort.nl"
PORT = 10128


def asan(path):
    """True if the binary links a sanitizer runtime (bigger RSS bound)."""
    r = subprocess.run(["ldd", path], capture_output=True)
    return b"libasan" in r.stdout or b"libubsan" in r.stdout


def rss_bound(path):
    return (512 if asan(path) else 64) * 1024  # KB


def replace_header(name, value):
    """The good message with header NAME's value replaced by VALUE."""
    out = []
    for line in HEAD.split(b"\n"):
        if line.lower().startswith(name.lower() + b":"):
            line = name + b": " + value
        out.append(line)
    return b"\n".join(out)


def multipart(parts_head):
    """The good message's header without its MIME fields, plus parts_head."""
    keep = [h for h in HEAD.split(b"\n")
            if not h.lower().startswith((b"content-", b"mime-"))]
    return b"\n".join(keep) + b"\nMIME-Version: 1.0\n" + parts_head


# label, message bytes (callable), extra htgate-check args, expected rule
CASES = [
    ("1 MB header line", lambda: b"X-Long: " + b"a" * (1 << 20) + b"\n" + OK_MSG,
     [], "LIMIT"),
    ("5 MB header folded 100000 times",
     lambda: b"X-Fold: a\n" + b" b\n" * 100000 + OK_MSG, [], "LIMIT"),
    ("200 KB line in a 7bit body",
     lambda: replace_header(b"Content-Transfer-Encoding", b"7bit")
     + b"\n\n" + b"a" * 200000 + b"\n", [], "MIME-7BIT"),
    ("10 MB base64 body without a line break",
     lambda: HEAD + b"\n\n" + b"QUFB" * (10 << 18), [], "MIME-B64"),
    ("20000 headers",
     lambda: b"".join(b"X-H%d: v\n" % i for i in range(20000)) + OK_MSG,
     [], "LIMIT"),
    ("2000 nested multiparts",
     lambda: multipart(b"".join(
         b"Content-Type: multipart/mixed; boundary=\"b%d\"\n\n--b%d\n" % (i, i)
         for i in range(2000)) + b"x\n"), [], "MIME-SINGLE"),
    ("unterminated multipart",
     lambda: multipart(b"Content-Type: multipart/mixed; boundary=\"zz\"\n\n"
                       b"--zz\nContent-Type: text/plain\n\nno end boundary\n"),
     [], "MIME-SINGLE"),
    ("NUL byte in the body",
     lambda: HEAD + b"\n\n" + BODY[:40] + b"\0" + BODY[40:], [], "MIME-B64"),
    ("invalid UTF-8 and an RFC 2047 word in From:",
     lambda: replace_header(b"From", b"=?utf-8?b?/w0KQmNjOiB4QHkK?= \xff\xfe "
                            b"<erp\xc3\x28@example.com>") + b"\n\n" + BODY,
     [], "HDR-FROM"),
    ("RFC 2047 CR LF and control bytes in To:",
     lambda: replace_header(b"To", b"=?utf-8?q?A=0D=0AX-Evil:_1?= "
                            b"<AG\x1bS\r\x07@htpoort.nl>") + b"\n\n" + BODY,
     [], "HDR-TO"),
    ("control bytes in the envelope (echoed in the reply)",
     lambda: OK_MSG, ["--rcpt", "AG\x1b[31mS\r\n\x07@msa-smtp.htpoort.nl"],
     "ENV-STREAM"),
    ("binary garbage instead of a header",
     lambda: bytes(range(256)) * 64, [], None),
    ("NUL byte in a header value",
     lambda: replace_header(b"Subject", b"declaration\0 2026") + b"\n\n" + BODY,
     [], "MIME-HEADER"),
]


def run_check(path, extra, want_json):
    """htgate-check on PATH: (exit status, stdout, stderr, peak RSS KB)."""
    args = [CHECK, "-c", CONF, "--from", FROM]
    if "--rcpt" not in extra:
        args += ["--rcpt", RCPT]
    args += extra + (["--json"] if want_json else []) + [path]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return p.returncode, out.read(), err.read(), ru.ru_maxrss


def raw_controls(data):
    """Bytes below 0x20 other than LF and TAB, and DEL."""
    return sorted({c for c in data if (c < 0x20 and c not in (9, 10)) or c == 127})


def test_check(tmp):
    bound = rss_bound(CHECK)
    for label, make, extra, rule in CASES:
        path = os.path.join(tmp, "msg.eml")
        with open(path, "wb") as f:
            f.write(make())
        rc, out, err, rss = run_check(path, extra, False)
        pt.check(rc == 1, label + ": refused (exit 1)", "exit %d %r" % (rc, err[-300:]))
        pt.check(rss <= bound, label + ": peak RSS %d KB <= %d KB" % (rss, bound))
        pt.check(b"Sanitizer" not in err and b"runtime error" not in err,
                 label + ": no sanitizer report", err[-1000:].decode(errors="replace"))
        bad = raw_controls(out + err)
        pt.check(not bad, label + ": no raw control byte in the output",
                 "bytes %r in %r" % (bad, out[:300]))
        rc2, jout, _, _ = run_check(path, extra, True)
        try:
            found = {x["rule"] for x in json.loads(jout).get("findings", [])}
        except ValueError as e:
            found = {"bad JSON: %s" % e}
        pt.check(rc2 == rc and (rule is None or rule in found),
                 label + ": rule %s" % (rule or "any"), "got %r" % sorted(found))
    # The echoed envelope must show the control bytes escaped, not dropped.
    rc, out, _, _ = run_check(path_of(tmp, OK_MSG), CASES[10][2], False)
    pt.check(b"\\x1b" in out and b"\\x0d" in out,
             "echoed control bytes are shown escaped (\\x1b, \\x0d)", out[:400])


def path_of(tmp, data):
    path = os.path.join(tmp, "plain.eml")
    with open(path, "wb") as f:
        f.write(data)
    return path


def vm_hwm(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def test_policyd(d):
    bound = rss_bound(POLICYD)
    addr = ("127.0.0.1", d.port)
    res = {}
    t0 = time.time()
    th = threading.Thread(target=pt.flood, args=(d.sock, 100 * 1024 * 1024, res))
    th.start()
    c = pt.Client(addr)
    a = c.ask(instance="during", sender="a@plain.example", recipient=pt.htg("AGS"))
    pt.check(a == "DUNNO", "another client served during a 100 MB flood", a)
    c.close()
    th.join(120)
    pt.check(not th.is_alive() and "error" not in res
             and res.get("reply") in (pt.DEFAULT_ACTION, None, "reset"),
             "100 MB without a newline: cut off (default action or close)", repr(res))
    pt.check(res.get("sent", 1 << 30) < 100 * 1024 * 1024 or time.time() - t0 < 60,
             "100 MB flood ends in bounded time", "%.1f s" % (time.time() - t0))
    hwm = vm_hwm(d.proc.pid)
    pt.check(0 < hwm <= bound, "policyd peak RSS %d KB <= %d KB" % (hwm, bound))

    # Control characters in values that are echoed into reply and log.
    c = pt.Client(d.sock)
    evil = {"instance": "ctl\x1b", "sender": "a\x1b[31m\x07@plain.example",
            "recipient": "EV\x1bIL\r\x07@msa-smtp.htpoort.nl"}
    c.send(pt.request(**evil))
    a = c.reply()
    pt.check(a is not None and not raw_controls(a.encode()) and "\n" not in a,
             "reply with control bytes in the request: one clean line", repr(a))
    a = c.ask(instance="after", sender="a@plain.example", recipient=pt.htg("AGS"))
    pt.check(a == "DUNNO", "connection still served after it", a)
    c.close()
    time.sleep(0.3)
    log = open(d.log, "rb").read()
    pt.check(b"\x1b" not in log and b"\x07" not in log and b"\r" not in log,
             "log has no raw ESC, BEL or CR",
             repr([l for l in log.split(b"\n") if b"\x1b" in l or b"\r" in l][:3]))
    pt.check(d.alive(), "daemon alive after the hostile clients")


def main():
    what = sys.argv[1] if len(sys.argv) > 1 else "check"
    part = test_check if what == "check" else pt.daemon_part(
        PORT, test_policyd, socket_removed=False, log_name="the policyd log")
    return pt.run_part("hostile " + what, part, binaries=(CHECK, POLICYD),
                       tmp_prefix="htg-hostile-")


if __name__ == "__main__":
    sys.exit(main())
