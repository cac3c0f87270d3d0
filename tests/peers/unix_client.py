#!/usr/bin/python3
"""Send one message over a Unix-domain socket with Python's smtplib: the
reference client that checks the Unix-socket peers (issue 15,
cfg.socket_path) before smtp.h can talk to them.

  /usr/bin/python3 tests/peers/unix_client.py SOCKET [--starttls | --implicit]
      [--ca CAFILE] [--server-name NAME] [--from A] [--to B] [--subject S]

Prints the server's EHLO reply and the final reply's queue id; exits 0 when
the message was accepted, 1 otherwise. TLS is verified against --ca (the
name checked is --server-name, default localhost: a Unix socket has no host
name of its own).
"""
import argparse
import smtplib
import socket
import ssl
import sys


class UnixSMTP(smtplib.SMTP):
    """smtplib.SMTP whose connect() opens the Unix socket PATH instead."""

    def __init__(self, path, server_name, context=None, implicit=False, **kw):
        self.path = path
        self.server_name = server_name
        self.context = context
        self.implicit = implicit
        super().__init__(**kw)

    def _get_socket(self, host, port, timeout):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
            s.settimeout(timeout)
        s.connect(self.path)
        if self.implicit:
            s = self.context.wrap_socket(s, server_hostname=self.server_name)
        return s


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("socket")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--starttls", action="store_true")
    g.add_argument("--implicit", action="store_true")
    p.add_argument("--ca")
    p.add_argument("--server-name", default="localhost")
    p.add_argument("--from", dest="sender", default="alice@example.com")
    p.add_argument("--to", default="bob@example.com")
    p.add_argument("--subject", default="over a Unix-domain socket")
    a = p.parse_args()
    ctx = None
    if a.starttls or a.implicit:
        ctx = ssl.create_default_context(cafile=a.ca)
    c = UnixSMTP(a.socket, a.server_name, ctx, a.implicit,
                 local_hostname="unixclient.example", timeout=30)
    # the host is only a label here; STARTTLS takes the name it checks and
    # sends (SNI) from _host, which only the constructor sets
    c._host = a.server_name
    code, greeting = c.connect(a.server_name, 25)
    print(f"greeting: {code} {greeting.decode(errors='replace')}")
    c.ehlo()
    if a.starttls:
        c.starttls(context=ctx)
        c.ehlo()
    print("ehlo: " + c.ehlo_resp.decode(errors="replace").replace("\n", " | "))
    msg = (f"From: {a.sender}\r\nTo: {a.to}\r\nSubject: {a.subject}\r\n\r\n"
           f"sent by tests/peers/unix_client.py over {a.socket}\r\n").encode()
    c.mail(a.sender)
    c.rcpt(a.to)
    code, reply = c.data(msg)
    print(f"data: {code} {reply.decode(errors='replace')}")
    c.quit()
    return 0 if code == 250 else 1


if __name__ == "__main__":
    sys.exit(main())
