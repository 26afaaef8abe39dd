"""tests/milter/milterproto.py - the milter protocol, as far as the
Python clients of the tests speak it (tests/milter/nonsmtp-detect.py,
tests/milter/repair-client.py, tests/daemon/milter_v6.py): packets,
negotiation and the connect command.

    s, agreed = connect(path, timeout, client_info(host, port, addr)[, flags])
                                   socket after OPTNEG and CONNECT (the
                                   connect's reply not read)
    send(s, cmd, data); cmd, data = recv(s)      one packet each
    replies, last = second_rcpt(path, info)        MAIL and two HTG RCPTs

Negotiates milter protocol version 6 with every modification (0x1FF)
and by default no protocol flags, so every command gets a reply.
"""
import socket
import struct

SMFIC_OPTNEG, SMFIC_CONNECT, SMFIC_MAIL, SMFIC_RCPT, SMFIC_QUIT = b"O", b"C", b"M", b"R", b"Q"
SMFIC_HEADER, SMFIC_EOH = b"L", b"N"


def send(sock, cmd, data=b""):
    """one milter packet: length, command, data"""
    sock.sendall(struct.pack(">I", len(data) + 1) + cmd + data)


def recv(sock):
    """one milter packet: (command, data)"""
    def exact(n):
        buf = b""
        while len(buf) < n:
            chunk = sock.recv(n - len(buf))
            if not chunk:
                raise EOFError("milter closed the connection")
            buf += chunk
        return buf
    (n,) = struct.unpack(">I", exact(4))
    data = exact(n)
    return data[:1], data[1:]


def client_info(host, port, addr, family=b"4"):
    """the data of SMFIC_CONNECT: host name, family (4, 6 or L), port, address"""
    return host + b"\0" + family + struct.pack(">H", port) + addr + b"\0"


def connect(path, timeout, info, flags=0):
    """A connection to the milter at unix socket path: options negotiated
    (offering the protocol flags, SMFIP_*), the SMTP client info
    announced (its reply not read); the socket and the flags agreed"""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    send(s, SMFIC_OPTNEG, struct.pack(">III", 6, 0x1FF, flags))
    cmd, data = recv(s)
    if cmd != SMFIC_OPTNEG:
        raise AssertionError("option negotiation answered %r" % cmd)
    send(s, SMFIC_CONNECT, info)
    return s, struct.unpack(">III", data[:12])[2]


def second_rcpt(path, info):
    """Announce the client info, then MAIL FROM erp@example.com, RCPT TO
    AGS and a second HTG RCPT TO DMS: the reply commands to connect, MAIL
    and the first RCPT, and the reply command to the second RCPT"""
    s, _ = connect(path, 10, info)
    replies = [recv(s)[0]]
    send(s, SMFIC_MAIL, b"<erp@example.com>\0")
    replies.append(recv(s)[0])
    send(s, SMFIC_RCPT, b"<AGS@msa-smtp.htpoort.nl>\0")
    replies.append(recv(s)[0])
    send(s, SMFIC_RCPT, b"<DMS@msa-smtp.htpoort.nl>\0")
    last = recv(s)[0]
    send(s, SMFIC_QUIT)
    s.close()
    return replies, last
