#!/usr/bin/env python3
"""load-client.py - the SMTP side of bench/load.

Sends COUNT messages to the relay on 127.0.0.1:PORT over CONC concurrent
sessions, as a company's mail clients would: conforming EDIFACT
declarations and non-conforming ones (Cc, multipart, windows-1252, broken
base64), sizes 1 KB to MAX bytes (90 % below 64 KB, the rest log-uniform
up to MAX).  A temporary failure (4xx, dropped connection) is retried
after a second, as an MTA would, up to 30 times.  Every message gets a
unique Message-ID <load.N.TAG@erp.example.com>.

Writes PROGRESS (the number of messages with a final answer) while it
runs and prints one line per message at the end:
    N <TAB> kind <TAB> final code <TAB> attempts <TAB> first reply line
"""
import base64
import os
import queue
import random
import smtplib
import sys
import threading
import time

PORT, COUNT, CONC, MAXSIZE = (int(a) for a in sys.argv[1:5])
PROGRESS, TAG = sys.argv[5], sys.argv[6]
KINDS = ["good"] * 6 + ["cc", "multipart", "cp1252", "badb64"]
MAX_ATTEMPTS = 30


def size_of(rng):
    if rng.random() < 0.9:
        return rng.randint(1024, 64 * 1024)
    return int(64 * 1024 * (MAXSIZE / (64 * 1024)) ** rng.random())


def b64_lines(raw):
    text = base64.b64encode(raw).decode()
    return "\r\n".join(text[i:i + 76] for i in range(0, len(text), 76))


def message(n, kind, size):
    """One message of about size bytes; kind decides how it breaks a rule."""
    rng = random.Random(n)
    raw = rng.randbytes(max(16, size * 3 // 4))
    msgid = "<load.%d.%s@erp.example.com>" % (n, TAG)
    head = ["Date: %s" % time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
            "From: ERP Export <erp@example.com>", "To: AGS@htpoort.nl",
            "Subject: AGS declaration load %d" % n, "Message-ID: %s" % msgid,
            "MIME-Version: 1.0"]
    if kind == "cc":
        head.append("Cc: archive@example.com")
    if kind == "multipart":
        # two attachments: one beside a text would be unwrapped (issue 11)
        head += ['Content-Type: multipart/mixed; boundary="b%d"' % n, ""]
        att = ("--b%d\r\nContent-Type: application/edifact\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n" % (n, b64_lines(raw)))
        body = ("--b%d\r\nContent-Type: text/plain\r\n\r\nSee attachments.\r\n"
                "%s%s--b%d--\r\n" % (n, att, att, n))
        return msgid, "\r\n".join(head) + "\r\n" + body
    if kind == "cp1252":
        head += ["Content-Type: text/plain; charset=windows-1252",
                 "Content-Transfer-Encoding: base64",
                 'Content-Disposition: attachment; filename="decl%d.txt"' % n, ""]
    else:
        head += ["Content-Type: application/edifact",
                 "Content-Transfer-Encoding: base64",
                 'Content-Disposition: attachment; filename="AGS%d.edi"' % n, ""]
    body = b64_lines(raw)
    if kind == "badb64":
        mid = len(body) // 2
        body = body[:mid] + "*" + body[mid + 1:]
    return msgid, "\r\n".join(head) + "\r\n" + body + "\r\n"


def send_once(text):
    """One SMTP transaction: (code, first reply line)."""
    try:
        s = smtplib.SMTP("127.0.0.1", PORT, timeout=120)
    except OSError as e:
        return 421, "connect: %s" % e
    try:
        s.ehlo("erp.example.com")
        code, msg = s.mail("erp@example.com")
        if code == 250:
            code, msg = s.rcpt("AGS@htpoort.nl")
        if code == 250:
            try:
                code, msg = s.data(text.encode())
            except smtplib.SMTPDataError as e:
                code, msg = e.smtp_code, e.smtp_error
        return code, msg.decode(errors="replace").split("\n")[0]
    except (smtplib.SMTPException, OSError) as e:
        return 421, "dropped: %s" % e
    finally:
        try:
            s.quit()
        except (smtplib.SMTPException, OSError):
            s.close()


def main():
    work = queue.Queue()
    for n in range(COUNT):
        kind = KINDS[n % len(KINDS)]
        work.put((n, kind, size_of(random.Random(n * 7919)), 0))
    results, lock = {}, threading.Lock()

    def worker():
        while True:
            try:
                n, kind, size, attempts = work.get(timeout=2)
            except queue.Empty:
                with lock:
                    if len(results) >= COUNT:
                        return
                continue
            _, text = message(n, kind, size)
            code, line = send_once(text)
            attempts += 1
            if 400 <= code < 500 and attempts < MAX_ATTEMPTS:
                time.sleep(1)
                work.put((n, kind, size, attempts))
                continue
            with lock:
                results[n] = (kind, code, attempts, line)
                if len(results) % 50 == 0 or len(results) == COUNT:
                    with open(PROGRESS + ".tmp", "w") as f:
                        f.write("%d\n" % len(results))
                    os.replace(PROGRESS + ".tmp", PROGRESS)

    threads = [threading.Thread(target=worker) for _ in range(CONC)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in sorted(results):
        kind, code, attempts, line = results[n]
        print("%d\t%s\t%d\t%d\t%s" % (n, kind, code, attempts, line.replace("\t", " ")))


main()
