#!/usr/bin/env python3
"""tests/corpus/repaired.py - every repaired corpus message delivers the
file byte for byte, and passes htgate-check as it leaves.

SYNOPSIS
    top_srcdir=... top_builddir=... python3 repaired.py
        (run by repaired.sh, which gives the TAP numbering)

DESCRIPTION
    For each line of expected.tsv that expects a repair (accept with a
    fix of MIME-SINGLE, MIME-TYPE, MIME-CHARSET, MIME-CTE or MIME-7BIT):

    1. htgate-check --fix -o OUT writes the message as it would leave the
       relay (exit 0).
    2. The file the sender meant is found in the original with Python's
       own email package, not htgate's code: for an unwrap, the one leaf
       part with a file name; otherwise the message itself.  The original
       is read with CR LF line ends, as Postfix hands it to the milter.
    3. OUT is one part (not multipart); re-encoded where the original was
       not base64 and the message was unwrapped or 8-bit; its decoded
       content equals the file's, byte for byte; a text/xml is now
       application/xml with the same charset; a windows-125x charset is
       gone.
    4. htgate-check judges OUT again with the same envelope: accepted,
       and no further repair is planned (a repair converges in one step).

    One TAP line per message and check (tests/tap.py).
OWNERSHIP
    tests/corpus.
"""

import os
import shlex
import subprocess
import sys
import tempfile

from repairlib import (REPAIRS, SRC, crlf, fix, parse, passes_again, payload,
                       tap, the_file)

DIR = os.path.join(SRC, "tests", "corpus")
CONF = os.path.join(DIR, "htgate.conf")


def check_one(name, opts, findings, tmp):
    fixes = [f.split(":", 1)[1] for f in findings.split() if f.startswith("fix:")]
    out = os.path.join(tmp, name)
    args = shlex.split(opts) if opts != "-" else []
    r = fix(CONF, args, os.path.join(DIR, name), out)
    if not tap.check(r.returncode == 0 and os.path.isfile(out),
                     "%s: htgate-check --fix -o writes it" % name,
                     r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")):
        return
    with open(os.path.join(DIR, name), "rb") as f:
        orig = parse(crlf(f.read()))
    with open(out, "rb") as f:
        rep = parse(f.read())
    unwrapped = "MIME-SINGLE" in fixes
    want = the_file(orig, unwrapped)
    if not tap.check(want is not None, "%s: the attached file found" % name):
        return
    tap.check(not rep.is_multipart(), "%s: leaves as one part" % name,
              rep.get_content_type())
    got, exp = payload(rep), payload(want)
    tap.check(got == exp, "%s: decoded bytes identical (%d bytes)" % (name, len(exp)),
              "got %d bytes, want %d; first difference at %s" % (
                  len(got), len(exp),
                  next((i for i, (a, b) in enumerate(zip(got, exp)) if a != b),
                       min(len(got), len(exp)))))
    cte = (rep.get("Content-Transfer-Encoding") or "7bit").strip().lower()
    wcte = (want.get("Content-Transfer-Encoding") or "7bit").strip().lower()
    if (unwrapped and wcte != "base64") or "MIME-CTE" in fixes or "MIME-7BIT" in fixes:
        tap.check(cte == "base64", "%s: re-encoded as base64" % name, cte)
    if "MIME-TYPE" in fixes:
        tap.check(want.get_content_type() == "text/xml"
                  and rep.get_content_type() == "application/xml"
                  and rep.get_param("charset") == want.get_param("charset"),
                  "%s: text/xml relabelled application/xml, charset kept" % name,
                  "%s -> %s" % (want.get("Content-Type"), rep.get("Content-Type")))
    if "MIME-CHARSET" in fixes:
        cs = (rep.get_param("charset") or "").lower()
        tap.check(cs in ("us-ascii", "iso-8859-1"),
                  "%s: charset relabelled (%s)" % (name, cs),
                  "%s -> %s" % (want.get_param("charset"), cs))
        if cs == "us-ascii":
            tap.check(max(exp, default=0) < 0x80, "%s: us-ascii content is ASCII" % name)
        else:
            tap.check(not any(0x80 <= b <= 0x9f for b in exp),
                      "%s: no byte 0x80-0x9F under ISO-8859-1" % name)
    ok, again = passes_again(CONF, args, out)
    tap.check(ok, "%s: the repaired message passes htgate-check, no repair left" % name,
              again)


def main():
    tmp = tempfile.mkdtemp(prefix="htgate-repaired.")
    n = 0
    with open(os.path.join(DIR, "expected.tsv")) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, opts, verdict, findings = line.rstrip("\n").split("\t")[:4]
            if verdict != "accept" or not any(
                    "fix:%s" % rule in findings.split() for rule in REPAIRS):
                continue
            n += 1
            check_one(name, opts, findings, tmp)
    tap.check(n >= 10, "at least 10 repaired corpus messages (%d)" % n)
    subprocess.run(["rm", "-rf", tmp])
    sys.exit(tap.end())


if __name__ == "__main__":
    main()
