#!/usr/bin/python3
"""Twisted's own SOCKS4/SOCKS4a server (twisted.protocols.socks, the code
behind `twist3 socks`), plus a record of every request.

    /usr/bin/python3 tests/peers/socks4a_twisted.py --listen 127.0.0.1:24583 \
        [--listen [::1]:24583] --requests DIR/socks4a-requests.log [--ready FILE]

`twist3 socks` logs only the resolved address (and its --log option crashes
on Python 3 as soon as data is relayed: it calls string.join), so a test
could not tell whether a client sent the host name (SOCKS4a) or resolved it
itself (SOCKS4). The protocol here is Twisted's SOCKSv4 unchanged; the
subclass only watches: it notes the request bytes as they come in and
writes one JSON line per request to --requests when Twisted sends its reply:

    {"socks": "4a", "host": "localhost", "addr": "127.0.0.1", "port": 24526,
     "userid": "", "command": 1, "reply": 90, "peer": "127.0.0.1"}

socks: "4" (address in the request) or "4a" (0.0.0.x + host name); host:
the name as sent (null for SOCKS4); addr: the address Twisted connects to
(the resolved one for 4a; null if the name did not resolve); reply: 90
granted, 91 rejected or failed (name not resolved, connection refused).
Twisted's own log (twisted.python.log) goes to stdout.
"""
import argparse
import json
import os
import socket
import struct
import sys

from twisted.internet import reactor
from twisted.protocols import socks
from twisted.python import log


class RecordingSOCKSv4(socks.SOCKSv4):
    requests_path = None

    def connectionMade(self):
        super().connectionMade()
        self._seen = b""
        self._req = None
        self._addr = None
        self._logged = False

    def dataReceived(self, data):
        if not self.otherConn and self._req is None:
            self._seen += data
            self._parse()
        super().dataReceived(data)

    def _parse(self):
        # Same framing as Twisted's: VN CD DSTPORT DSTIP USERID\0 [HOST\0]
        b = self._seen
        if len(b) < 9 or b"\0" not in b[8:]:
            return
        ver, cmd, port = struct.unpack("!BBH", b[:4])
        ip = b[4:8]
        userid, rest = b[8:].split(b"\0", 1)
        host = None
        if ip[:3] == b"\0\0\0" and ip[3:] != b"\0":
            if b"\0" not in rest:
                return
            host = rest.split(b"\0", 1)[0].decode("latin-1")
        self._req = {
            "socks": "4a" if host is not None else "4",
            "host": host,
            "addr": None if host is not None else socket.inet_ntoa(ip),
            "port": port,
            "userid": userid.decode("latin-1"),
            "command": cmd,
            "version": ver,
        }

    def authorize(self, code, server, port, user):
        self._addr = server if isinstance(server, str) else server.decode("latin-1")
        return super().authorize(code, server, port, user)

    def makeReply(self, reply, version=0, port=0, ip="0.0.0.0"):
        if not self._logged and self._req is not None and self.requests_path:
            self._logged = True
            rec = dict(self._req)
            if self._addr is not None:
                rec["addr"] = self._addr
            if rec["version"] == 4:
                del rec["version"]
            rec["reply"] = reply
            rec["peer"] = self.transport.getPeer().host
            with open(self.requests_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
        super().makeReply(reply, version, port, ip)


class RecordingFactory(socks.SOCKSv4Factory):
    def buildProtocol(self, addr):
        # logging=None: Twisted's data logger is broken on Python 3.
        return RecordingSOCKSv4(None, reactor)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", action="append", required=True,
                    metavar="HOST:PORT", help="127.0.0.1:24583 or [::1]:24583")
    ap.add_argument("--requests", required=True,
                    help="file that gets one JSON line per request")
    ap.add_argument("--ready", help="file written once every port listens")
    a = ap.parse_args()

    RecordingSOCKSv4.requests_path = os.path.abspath(a.requests)
    open(RecordingSOCKSv4.requests_path, "a").close()
    log.startLogging(sys.stdout)
    factory = RecordingFactory(None)
    for spec in a.listen:
        host, _, port = spec.rpartition(":")
        host = host.strip("[]")
        reactor.listenTCP(int(port), factory, interface=host)
    if a.ready:
        with open(a.ready, "w") as f:
            f.write("%d\n" % os.getpid())
    reactor.run()  # SIGTERM/SIGINT stop the reactor


if __name__ == "__main__":
    main()
