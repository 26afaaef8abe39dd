#!/usr/bin/env python3
"""tests/daemon/policyd_edges.py - htgate-policyd paths the other suites
do not take (run by daemon-edges.sh, which passes the TAP numbering).

  policyd_edges.py POLICYD TMPDIR PORT

Starts htgate-policyd -f -l on a unix socket and on [::1]:PORT (when the
host has IPv6), then: fills the transaction table (4096: one transaction
per connection that ends without END-OF-MESSAGE) so that the oldest is
forgotten; asks requests without an instance (an anonymous transaction
of one request) and without protocol_state (DUNNO); connects over IPv6;
and opens more clients than the daemon takes (1000), which are refused
while the others are served.  The daemon must exit 0 on SIGTERM.
"""
import os
import resource
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "policy"))
import tap  # noqa: E402 - tests/tap.py
from policyd_test import Client, request  # noqa: E402 - the policy suite's

POLICYD, TMP, PORT = sys.argv[1], sys.argv[2], int(sys.argv[3])
SOCK = os.path.join(TMP, "edges.sock")
LOG = os.path.join(TMP, "edges.log")
CONF = os.path.join(TMP, "edges.conf")
TXN_MAX = 4096
CLIENTS_MAX = 1000


def logged(text, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        with open(LOG) as f:
            if text in f.read():
                return True
        time.sleep(0.05)
    return False


def have_ipv6():
    try:
        s = socket.socket(socket.AF_INET6)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def main():
    with open(CONF, "w") as f:
        f.write("[global]\nlanguage = en\n[stream AGS]\n"
                "[account a]\nsenders = *@example.com\n")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(4096, soft), max(4096, hard)))
    args = [POLICYD, "-f", "-l", "-v", "-c", CONF, "-p", "unix:" + SOCK]
    ipv6 = have_ipv6()
    if ipv6:
        args += ["-p", "inet:[::1]:%d" % PORT]
    log = open(LOG, "w")
    proc = subprocess.Popen(args, stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    try:
        tap.check(logged("ready:"), "policyd_edges: the daemon started")
        edges(ipv6)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = None
        log.close()
    tap.check(rc == 0, "policyd_edges: SIGTERM, exit 0", "rc=%r" % rc)


def edges(ipv6):
    # One transaction per connection; the connection ends, its
    # transaction stays until the idle time: the table fills up.
    for i in range(TXN_MAX + 1):
        c = Client(SOCK)
        c.ask(instance="fill-%d" % i, sender="erp@example.com",
              recipient="AGS@msa-smtp.htpoort.nl")
        c.close()
    tap.check(logged("transaction table full (%d): forgetting the oldest"
                     % TXN_MAX), "a full transaction table forgets the oldest")
    c = Client(SOCK)
    a = c.ask(sender="erp@example.com", recipient="AGS@msa-smtp.htpoort.nl")
    tap.check(a == "DUNNO", "a request without instance is judged on its "
              "own", a)
    a = c.ask("END-OF-MESSAGE", sender="erp@example.com",
              recipient="AGS@msa-smtp.htpoort.nl", size="100",
              recipient_count="1")
    tap.check(a == "DUNNO", "END-OF-MESSAGE without instance", a)
    c.send(b"request=smtpd_access_policy\nsender=erp@example.com\n\n")
    a = c.reply()
    tap.check(a == "DUNNO", "a request without protocol_state: DUNNO", a)
    c.close()
    if ipv6:
        s = socket.create_connection(("::1", PORT), timeout=5)
        s.sendall(request(instance="v6", sender="erp@example.com",
                          recipient="bob@example.org"))
        a = s.recv(4096).decode()
        tap.check(a == "action=DUNNO\n\n", "a client over IPv6 is served", a)
        s.close()
        tap.check(logged("[::1]"), "the IPv6 client is named in the log")
    else:
        tap.skip("a client over IPv6 is served", "no IPv6 on this host")
        tap.skip("the IPv6 client is named in the log", "no IPv6")
    clients = []
    try:
        for _ in range(CLIENTS_MAX + 5):
            clients.append(Client(SOCK))
        tap.check(logged("too many clients (%d): connection refused"
                         % CLIENTS_MAX), "more than %d clients: refused"
                  % CLIENTS_MAX)
        a = clients[0].ask(instance="c0", sender="erp@example.com",
                           recipient="bob@example.org")
        tap.check(a == "DUNNO", "the clients within the limit are served", a)
    finally:
        for c in clients:
            c.close()


if __name__ == "__main__":
    main()
    sys.exit(tap.end())
