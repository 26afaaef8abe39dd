#!/usr/bin/env python3
# agree-client.py - send each corpus message of expected.tsv (stdin) to an
# SMTP server with its envelope and print "file<TAB>verdict<TAB>code<TAB>rules"
# where verdict is accept/reject/tempfail, code the deciding reply code and
# rules the [HTG RULE] IDs its text names.  Used by milter-agree.sh.
import email
import email.policy
import email.utils
import re
import shlex
import smtplib
import sys

host, port, corpus = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def header_envelope(path):
    """As htgate-check without --from/--rcpt: From: and To: addresses."""
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.compat32)
    senders = email.utils.getaddresses(msg.get_all("From", []))
    rcpts = email.utils.getaddresses(msg.get_all("To", []))
    return {"from": senders[0][1] if senders else None,
            "rcpt": [a for _, a in rcpts if a], "notify": None, "envid": None}


def envelope(opts, path):
    """The envelope of one line: --from/--rcpt/--notify/--envid."""
    if opts == "-":
        return header_envelope(path)
    args = shlex.split(opts)
    env = {"from": None, "rcpt": [], "notify": None, "envid": None}
    i = 0
    while i < len(args):
        key, val = args[i][2:], args[i + 1]
        if key == "rcpt":
            env["rcpt"].append(val)
        else:
            env[key] = val
        i += 2
    if env["from"] is None or not env["rcpt"]:
        raise SystemExit("%s: no envelope in expected.tsv" % path)
    return env


def verdict_of(code, text):
    rules = " ".join(sorted(set(re.findall(r"\[HTG ([A-Z0-9-]+)\]", text))))
    kind = "accept" if code < 300 else "tempfail" if code < 500 else "reject"
    return kind, str(code), rules


def send(path, env):
    with open(path, "rb") as f:
        data = f.read()
    s = smtplib.SMTP(host, port, timeout=60)
    try:
        s.ehlo("erp.example.com")
        mopts = ["ENVID=" + env["envid"]] if env["envid"] else []
        sender = "" if env["from"] in ("", "<>") else env["from"]
        code, text = s.mail(sender, mopts)
        if code >= 400:
            return verdict_of(code, text.decode(errors="replace"))
        ropts = ["NOTIFY=" + env["notify"]] if env["notify"] else []
        accepted = 0
        for r in env["rcpt"]:
            code, text = s.rcpt(r, ropts)
            if code >= 400:
                return verdict_of(code, text.decode(errors="replace"))
            accepted += 1
        try:
            code, text = s.data(data)
        except smtplib.SMTPDataError as e:
            code, text = e.smtp_code, e.smtp_error
        return verdict_of(code, text.decode(errors="replace"))
    finally:
        try:
            s.quit()
        except smtplib.SMTPException:
            s.close()


for line in sys.stdin:
    if line.startswith("#") or not line.strip():
        continue
    name, opts = line.rstrip("\n").split("\t")[:2]
    path = corpus + "/" + name
    result = send(path, envelope(opts, path))
    print("\t".join((name,) + result), flush=True)
