#!/usr/bin/env python3
"""tests/corpus/property.py - property test of the repairs: for random
attachments in random mail-client wrappings, unwrap and re-encode keep
the decoded bytes exactly, and every repaired message passes
htgate-check.

SYNOPSIS
    top_srcdir=... top_builddir=... python3 property.py [N [SEED]]
        (run by property.sh; N messages, default 200; SEED default
        PROPERTY_SEED or 20261124)

DESCRIPTION
    Each round draws an attachment (random binary bytes, text with CR LF
    lines in ASCII, UTF-8 or Latin-1, XML, EDIFACT; 1 byte to 300 KB; an
    empty file is no body part and refused, so none is drawn)
    and a wrapping the way a mail client writes one:

      thunderbird  multipart/mixed: a text part (7bit, 8bit or
                   quoted-printable, format=flowed), the attachment
      outlook      multipart/mixed: multipart/alternative (text/plain and
                   a large text/html, quoted-printable), the attachment
                   with Content-Description and size/creation-date
      apple        text, the attachment with an inline disposition and
                   x-unix-mode, text after it
      ios          an empty text, the attachment, "Verstuurd vanaf mijn
                   iPhone"
      single       no multipart: the file as the body, 8bit or binary
                   (re-encode only)

    with a random boundary, header folding, file name, stored line ends
    (LF or CR LF), and a transfer encoding for the attachment: base64,
    quoted-printable, or for text 7bit/8bit.  Text attachments may be
    labelled text/xml (then relabelled) and text bodies windows-1252 when
    they hold no byte 0x80-0x9F (then relabelled).  Every draw is
    repairable by the rules (one attachment, text within the limit).

    Then: htgate-check --fix -o OUT must accept; OUT's decoded body must
    equal the attachment as Python's email package decodes it from the
    original (read with CR LF line ends, as the milter sees it); OUT must
    be one part, base64 unless it was already 7bit-safe and untouched;
    and htgate-check must accept OUT again without planning a repair.
    One TAP line per property with the counts; the failing seeds and
    rounds are listed (rerun with the same SEED to reproduce).
OWNERSHIP
    tests/corpus.
"""

import base64
import email.quoprimime
import os
import random
import shutil
import sys
import tempfile

from repairlib import SRC, crlf, fix, parse, passes_again, payload, tap, the_file

TYPES = [("application/xml", "xml"), ("application/edifact", "edi"),
         ("application/pdf", "pdf"), ("application/zip", "zip"),
         ("application/octet-stream", "bin"), ("text/plain", "txt"),
         ("text/xml", "xml")]


def b64(data):
    t = base64.b64encode(data).decode()
    return "\r\n".join(t[i:i + 76] for i in range(0, len(t), 76))


def text_lines(rng, n, alphabet):
    """CR LF text of about n bytes from alphabet (a str)."""
    out, size = [], 0
    while size < n:
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 90)))
        out.append(line)
        size += len(line) + 2
    return "\r\n".join(out) + ("\r\n" if out and rng.random() < 0.8 else "")


def draw_content(rng):
    """(bytes, kind): kind 'binary' or 'text' (CR LF lines)."""
    n = rng.choice([0, 1, 2, 3, 57, 76, 100, 1000]) if rng.random() < 0.2 \
        else int(300 * 1024 * rng.random() ** 3)
    kind = rng.choice(["binary", "ascii", "utf8", "latin1", "xml", "edifact"])
    if kind == "binary":
        return bytes(rng.getrandbits(8) for _ in range(n)), "binary"
    if kind == "ascii":
        return text_lines(rng, n, "abcdefghij KLMNOP 0123456789.,;:'+?").encode(), "text"
    if kind == "utf8":
        return text_lines(rng, n, "abc d\u00e9\u00eb\u20ac\u00df x").encode("utf-8"), "text"
    if kind == "latin1":
        return text_lines(rng, n, "abc d\u00e9\u00eb\u00ff x").encode("latin-1"), "text"
    if kind == "xml":
        body = text_lines(rng, n, "abc <>=\"/ d\u00e9").encode("utf-8")
        return b'<?xml version="1.0" encoding="UTF-8"?>\r\n<a>\r\n' + body + b"</a>\r\n", "text"
    return (b"UNA:+.? '\r\nUNB+UNOC:3+8712345678901:14+HTG:ZZZ+261124:1403+1'\r\n"
            + text_lines(rng, n, "ABCDEFGH+:'?0123456789").encode()), "text"


def qp(data):
    """Quoted-printable with CR LF hard line breaks, lines of at most 76
    (quopri.encodestring can write 77 when a line ends in a space)."""
    return email.quoprimime.body_encode(data.decode("latin-1"), maxlinelen=76,
                                        eol="\r\n")


def encode_attachment(rng, data, kind):
    """(Content-Transfer-Encoding, body text) for the attachment."""
    choices = ["base64", "base64", "quoted-printable"]
    if kind == "text":
        if all(b < 0x80 for b in data) and all(len(l) <= 998 for l in data.split(b"\r\n")):
            choices.append("7bit")
        if all(len(l) <= 998 for l in data.split(b"\r\n")) and b"\r" not in data.replace(b"\r\n", b""):
            choices.append("8bit")
    cte = rng.choice(choices)
    if cte == "base64":
        return cte, b64(data)
    if cte == "quoted-printable":
        if kind == "binary":
            return "base64", b64(data)
        return cte, qp(data)
    return cte, data.decode("latin-1")


def fold(rng, name, params):
    """A header with parameters, folded at random."""
    out = name + ": " + params[0]
    for p in params[1:]:
        out += (";\r\n\t" if rng.random() < 0.4 else "; ") + p
    return out


def attachment_part(rng, data, kind, style):
    ctype, ext = rng.choice(TYPES)
    if kind == "binary" and ctype.startswith("text/"):
        ctype, ext = "application/octet-stream", "bin"
    fname = rng.choice(["AGS2026%06d" % rng.randint(0, 999999), "aangifte mei",
                        "decl_%d" % rng.randint(1, 99)]) + "." + ext
    params = [ctype]
    if ctype.startswith("text/"):
        cs = "UTF-8"
        if all(b < 0x80 or b > 0x9f for b in data) and rng.random() < 0.3:
            cs = "windows-1252"
        elif all(b < 0x80 for b in data) and rng.random() < 0.3:
            cs = "us-ascii"
        params.append('charset="%s"' % cs if rng.random() < 0.5 else "charset=%s" % cs)
    if style == "apple":
        params.append("x-unix-mode=0644")
    params.append('name="%s"' % fname)
    cte, body = encode_attachment(rng, data, kind)
    head = [fold(rng, "Content-Type", params)]
    if style == "outlook":
        head.append("Content-Description: %s" % fname)
        head.append('Content-Disposition: attachment; filename="%s"; size=%d;\r\n'
                    '\tcreation-date="Tue, 24 Nov 2026 13:39:58 GMT";\r\n'
                    '\tmodification-date="Tue, 24 Nov 2026 13:39:58 GMT"' % (fname, len(data)))
    elif style == "apple":
        head.append("Content-Disposition: inline;\r\n\tfilename=\"%s\"" % fname)
    else:
        head.append('Content-Disposition: attachment; filename="%s"' % fname)
    head.append("Content-Transfer-Encoding: %s" % cte)
    rng.shuffle(head)
    return "\r\n".join(head) + "\r\n\r\n" + body


def text_part(rng, text):
    cte = rng.choice(["7bit", "8bit", "quoted-printable"])
    raw = text.encode("utf-8")
    if cte == "7bit":
        raw = text.encode("ascii", "replace")
    body = qp(raw) if cte == "quoted-printable" else raw.decode("latin-1")
    return ("Content-Type: text/plain; charset=UTF-8; format=flowed\r\n"
            "Content-Transfer-Encoding: %s\r\n\r\n%s\r\n" % (cte, body))


HEAD = ("From: Jan de Vries <jan.devries@example.com>\r\nTo: AGS <AGS@htpoort.nl>\r\n"
        "Subject: Aangifte %d\r\nDate: Tue, 24 Nov 2026 10:12:45 +0100\r\n"
        "Message-ID: <prop.%d@example.com>\r\nMIME-Version: 1.0\r\n")


def wrap(rng, n, data, kind, style):
    """The message bytes (as a client would store them)."""
    head = HEAD % (n, n)
    b = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-_=") for _ in range(rng.randint(8, 40)))
    greeting = rng.choice(["Beste,\r\n\r\nIn de bijlage de aangifte.\r\n\r\nGroet,\r\nJan",
                           "Zie bijlage.", "", "Hallo \u00e9\u00eb,\r\nHierbij."])
    if style == "single":
        cte = "binary" if kind == "binary" or rng.random() < 0.3 else "8bit"
        ctype = "text/plain; charset=UTF-8" if kind == "text" else "application/octet-stream"
        body = data
        if cte == "8bit" or cte == "binary":
            # no bare CR or LF: Postfix hands the milter CR LF lines
            body = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n").replace(b"\n", b"\r\n")
        return (head + "Content-Type: %s\r\nContent-Transfer-Encoding: %s\r\n"
                "Content-Disposition: attachment; filename=f.%s\r\n\r\n"
                % (ctype, cte, "txt" if kind == "text" else "bin")).encode() + body, body
    att = attachment_part(rng, data, kind, style)
    parts = []
    if style == "thunderbird":
        parts = [text_part(rng, greeting), att]
    elif style == "outlook":
        a = "_000_" + b
        html = "<html><head><style>p {margin:0}</style></head><body>" + \
            "<p class=MsoNormal>%s</p>" % greeting * 30 + "</body></html>"
        alt = ('Content-Type: multipart/alternative;\r\n\tboundary="%s"\r\n\r\n'
               '--%s\r\nContent-Type: text/plain; charset="us-ascii"\r\n'
               'Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n'
               '--%s\r\nContent-Type: text/html; charset="us-ascii"\r\n'
               'Content-Transfer-Encoding: quoted-printable\r\n\r\n%s\r\n--%s--\r\n'
               % (a, a, qp(greeting.encode("ascii", "replace")), a,
                  qp(html.encode("ascii", "replace")), a))
        parts = [alt, att]
    elif style == "apple":
        parts = ["Content-Transfer-Encoding: 7bit\r\nContent-Type: text/plain;\r\n"
                 "\tcharset=us-ascii\r\n\r\nHallo,\r\n\r\n", att,
                 "Content-Transfer-Encoding: 7bit\r\nContent-Type: text/plain;\r\n"
                 "\tcharset=us-ascii\r\n\r\n\r\nGroet,\r\nMarieke\r\n"]
    else:
        parts = ["Content-Type: text/plain; charset=us-ascii\r\n"
                 "Content-Transfer-Encoding: 7bit\r\n\r\n\r\n", att,
                 "Content-Type: text/plain; charset=us-ascii\r\n"
                 "Content-Transfer-Encoding: 7bit\r\n\r\n\r\nVerstuurd vanaf mijn iPhone\r\n"]
    text = head + 'Content-Type: multipart/mixed;\r\n\tboundary="%s"\r\n\r\n' % b
    if rng.random() < 0.5:
        text += "This is a multi-part message in MIME format.\r\n"
    for p in parts:
        # the line break before a boundary belongs to the boundary
        text += "--%s\r\n%s\r\n" % (b, p)
    text += "--%s--\r\n" % b
    return bytes(ord(c) if ord(c) < 256 else ord("?") for c in text), data


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else int(os.environ.get("PROPERTY_SEED", "20261124"))
    tmp = tempfile.mkdtemp(prefix="htgate-property.")
    conf = os.path.join(tmp, "htgate.conf")
    with open(os.path.join(SRC, "tests", "corpus", "htgate.conf")) as f:
        # no size limit here: 300 KB attachments
        open(conf, "w").write("".join(l for l in f if not l.startswith("size_limit")))
    env = ["--from", "jan.devries@example.com", "--rcpt", "AGS@msa-smtp.htpoort.nl"]
    counts, failures = {}, {"accepted": [], "identical": [], "one part": [], "passes again": []}
    total_bytes = 0
    for i in range(n):
        rng = random.Random("%d.%d" % (seed, i))
        data, kind = draw_content(rng)
        style = rng.choice(["thunderbird", "outlook", "apple", "ios", "single"])
        if not data.strip(b"\r\n"):
            data = b"x\r\n"	# an empty file is no body part: refused
        stored, _ = wrap(rng, i, data, kind, style)
        if rng.random() < 0.3:
            stored = stored.replace(b"\r\n", b"\n")	# saved with LF line ends
        src, out = os.path.join(tmp, "in.eml"), os.path.join(tmp, "out.eml")
        open(src, "wb").write(stored)
        if os.path.exists(out):
            os.unlink(out)
        counts[style] = counts.get(style, 0) + 1
        total_bytes += len(data)
        r = fix(conf, env, src, out)
        label = "round %d (%s, %s, %d bytes)" % (i, style, kind, len(data))
        if r.returncode != 0 or not os.path.exists(out):
            failures["accepted"].append(label + ": " + r.stdout.decode(errors="replace")[-300:])
            shutil.copy(src, os.path.join(tmp, "failed-%d.eml" % i))
            continue
        orig = parse(crlf(stored))
        want = the_file(orig, orig.is_multipart())
        got = parse(open(out, "rb").read())
        if want is None or got.is_multipart():
            failures["one part"].append(label)
            continue
        if payload(got) != payload(want):
            failures["identical"].append(label)
            shutil.copy(src, os.path.join(tmp, "failed-%d.eml" % i))
            continue
        ok, again = passes_again(conf, env, out)
        if not ok:
            failures["passes again"].append(label + ": " + again[-300:])
    tap.diag("seed %d: %d messages (%s), %d attachment bytes" % (
        seed, n, ", ".join("%s %d" % kv for kv in sorted(counts.items())), total_bytes))
    for prop, what in (("accepted", "every wrapped attachment is repaired and accepted"),
                       ("one part", "every repaired message is one part"),
                       ("identical", "every repaired file decodes byte for byte as attached"),
                       ("passes again", "every repaired message passes htgate-check, no repair left")):
        bad = failures[prop]
        tap.check(not bad, "%s (%d of %d)" % (what, n - len(bad), n),
                  "\n".join(bad[:10]) + ("\nkept in %s" % tmp if bad else ""))
    if not any(failures.values()):
        shutil.rmtree(tmp)
    sys.exit(tap.end())


if __name__ == "__main__":
    main()
