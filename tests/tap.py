"""tests/tap.py - TAP output for the Python test suites (see tests/tap.sh).

SYNOPSIS
    sys.path.insert(0, os.path.join(srcdir, ".."))   # tests/ (or $srcdir)
    import tap
    tap.check(cond, label, detail="")   -> cond ("ok N - label" or
                                           "not ok N - label" + "# detail")
    tap.ok(label); tap.not_ok(label, *diag); tap.skip(label, reason)
    tap.diag(text)                      each line as "# ..."
    tap.skip_all(reason)                "1..0 # SKIP reason", exit 0
    tap.plan(n)                         the plan first (optional)
    tap.checks(), tap.failures()        counts so far
    sys.exit(tap.end())                 the plan (once); 0, or 1 after a
                                        failure

DESCRIPTION
    The same conventions as tests/tap.sh, read by automake's tap-driver.sh:
    one line per assertion, diagnostics as comments, the plan at the end
    unless plan() gave it first.  When a shell test that sourced tap.sh
    ran tap_export, $TAP_STATE names its counter file: this process then
    continues that numbering and leaves the plan to the shell.  end() runs
    at exit too, so an uncaught exception still ends with a "not ok"
    line and the plan.
OWNERSHIP
    tests/.
"""

import atexit
import os
import re
import sys

_state = os.environ.get("TAP_STATE") or None
if _state is not None and not os.path.isfile(_state):
    _state = None
_count = 0
_fails = 0
_planned = False
_ended = False


def _next(good):
    """Count one result; its number."""
    global _count, _fails
    if _state is not None:
        with open(_state, "r+") as f:
            n, nf = (int(x) for x in f.read().split())
            n += 1
            nf += 0 if good else 1
            f.seek(0)
            f.write("%d %d\n" % (n, nf))
            f.truncate()
        _count, _fails = n, nf
    else:
        _count += 1
        _fails += 0 if good else 1
    return _count


def _label(text):
    text = " ".join(str(text).splitlines())
    return re.sub(r"#(\s*(todo|skip))", r"\\#\1", text, flags=re.I)


def _out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def diag(text):
    """Comment lines."""
    for line in str(text).splitlines() or [""]:
        _out("# " + line)


def plan(n):
    global _planned
    _out("1..%d" % n)
    _planned = True


def ok(label):
    _out("ok %d - %s" % (_next(True), _label(label)))


def not_ok(label, *details):
    _out("not ok %d - %s" % (_next(False), _label(label)))
    for d in details:
        if d not in (None, ""):
            diag(d)


def check(cond, label, detail=""):
    """One assertion: ok when cond is true; detail is shown on failure."""
    if cond:
        ok(label)
    else:
        not_ok(label, detail)
    return cond


def skip(label, reason=""):
    _out("ok %d - %s # SKIP %s" % (_next(True), _label(label), reason))


def skip_all(reason):
    global _ended
    _out("1..0 # SKIP %s" % reason)
    _ended = True
    sys.exit(0)


def checks():
    return _count


def failures():
    return _fails


def end():
    """The plan (once, unless a parent shell prints it); 0 or 1."""
    global _ended
    if not _ended:
        _ended = True
        if _state is None and not _planned:
            _out("1..%d" % _count)
    return 1 if _fails else 0


def _at_exit():
    if _ended:
        return
    exc = getattr(sys, "last_value", None)
    if exc is not None:
        not_ok("%s ended with %r" % (os.path.basename(sys.argv[0]), exc))
    end()


atexit.register(_at_exit)
