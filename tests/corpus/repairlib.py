"""tests/corpus/repairlib.py - what property.py and repaired.py share:
the paths and tests/tap.py, Python's own reading of a message (the email
package, not htgate's code), htgate-check --fix and the judgement of the
repaired message.

    crlf(data)                  every line end CR LF, as the milter sees it
    parse(data)                 an email.message (compat32)
    the_file(msg, unwrapped)    the part the sender attached, or None
    payload(part)               its decoded bytes
    fix(conf, args, src, out)   htgate-check --fix -o out: CompletedProcess
    passes_again(conf, args, out)
                                (accepted with no repair left, the JSON)
OWNERSHIP
    tests/corpus.
"""

import email
import email.policy
import os
import subprocess
import sys

SRC = os.environ["top_srcdir"]
BUILD = os.environ["top_builddir"]
sys.path.insert(0, os.path.join(SRC, "tests"))
import tap  # noqa: E402,F401 - tests/tap.py, for the scripts

CHECK = os.path.join(BUILD, "tools", "htgate-check")
REPAIRS = ("MIME-SINGLE", "MIME-TYPE", "MIME-CHARSET", "MIME-CTE", "MIME-7BIT")


def crlf(data):
    """Every line end CR LF (bare LF gets a CR), as the milter sees it."""
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def parse(data):
    return email.message_from_bytes(data, policy=email.policy.compat32)


def the_file(msg, unwrapped):
    """The part the sender attached (Python's reading), or None: the
    message itself unless unwrapped, else its one leaf part with a file
    name."""
    if not unwrapped:
        return msg
    named = [p for p in msg.walk()
             if not p.is_multipart() and p.get_filename()]
    return named[0] if len(named) == 1 else None


def payload(part):
    data = part.get_payload(decode=True)
    return data if data is not None else b""


def fix(conf, args, src, out):
    """htgate-check --fix -o out of src with the envelope args."""
    return subprocess.run([CHECK, "-c", conf, "--fix", "-o", out] + args + [src],
                          capture_output=True)


def passes_again(conf, args, out):
    """htgate-check judges the repaired message out again with the same
    envelope: (accepted and no further repair planned, its JSON)."""
    r = subprocess.run([CHECK, "-c", conf, "--json"] + args + [out],
                       capture_output=True)
    again = r.stdout.decode(errors="replace")
    return (r.returncode == 0 and not any(
        '"rule": "%s", "action": "fix"' % rule in again for rule in REPAIRS),
        again)
