#!/usr/bin/python3
"""A scripted misbehaving SMTP server: faults that no real server makes.

  /usr/bin/python3 tests/peers/hostile.py --host 127.0.0.1 --base-port 24600 --log DIR \
      [--certs CERTDIR | --no-tls]
  /usr/bin/python3 tests/peers/hostile.py --list

Scenario k listens on base-port + k (the table below; offsets are stable,
new scenarios are only ever appended). One thread per connection. Every byte
received is logged, raw and flushed as it arrives, to
  DIR/<scenario>.log       all connections of that scenario, appended
  DIR/<scenario>.<N>.log   connection N (1, 2, ...) of that scenario alone
and connection events go to DIR/events.log (JSON lines). Scenarios that
take messages record each one in DIR/<scenario>.messages (JSON lines, see
record_message). DIR/ready is written once every port is bound.
SIGTERM/SIGINT end the process promptly.

TLS scenarios (14-22) use certificates from CERTDIR (default DIR/certs),
made there by certs.sh first if needed. On a TLS connection the logs hold
the plaintext before the handshake and the decrypted bytes after it.
"""

import argparse
import errno
import json
import os
import select
import signal
import socket
import ssl
import struct
import subprocess
import sys
import threading
import time
import warnings

STOP = threading.Event()
IO_SLICE = 0.05            # longest time any loop waits without checking STOP
HOLD = 60.0                # how long "hold the socket" scenarios keep it
MAX_LINE = 1 << 20         # a command line longer than this ends the session

NORMAL_EHLO = b"250-hostile\r\n250 8BITMIME\r\n"
GREETING = b"220 hostile ESMTP\r\n"


class Closed(Exception):
    """The client closed or reset the connection, or we are stopping."""


class Logs:
    def __init__(self, directory):
        self.dir = directory
        self.lock = threading.Lock()
        self.counters = {}
        self.events = open(os.path.join(directory, "events.log"), "a")

    def next_conn(self, scenario):
        with self.lock:
            n = self.counters.get(scenario, 0) + 1
            self.counters[scenario] = n
            return n

    def event(self, **obj):
        obj["t"] = round(time.time(), 6)
        with self.lock:
            self.events.write(json.dumps(obj) + "\n")
            self.events.flush()

    def message(self, scenario, obj):
        obj["t"] = round(time.time(), 6)
        with self.lock:
            with open(os.path.join(self.dir, scenario + ".messages"), "a") as f:
                f.write(json.dumps(obj) + "\n")


class Conn:
    """A client connection: buffered reads that log every byte on arrival.

    Plaintext at first; after handshake() everything goes through TLS (an
    ssl.SSLObject over memory BIOs, so the socket stays non-blocking and
    every wait still checks STOP). `buf`, the logs and bytes_in/bytes_out
    then hold the decrypted bytes; the TLS records themselves are not logged.
    """

    def __init__(self, sock, peer, scenario, logs):
        self.sock = sock
        self.peer = peer
        self.scenario = scenario
        self.logs = logs
        self.n = logs.next_conn(scenario)
        self.buf = bytearray()
        self.eof = False            # no more application data will come
        self.raw_eof = False        # the socket gave EOF or a reset
        self.reset_seen = False
        self.bytes_in = 0
        self.bytes_out = 0
        self.closed = False
        self.tls = None             # ssl.SSLObject once handshake() started
        self.in_handshake = False
        self.inbio = self.outbio = None
        self._flushing = False
        self.all_log = open(os.path.join(logs.dir, scenario + ".log"), "ab")
        self.one_log = open(os.path.join(logs.dir, "%s.%d.log" % (scenario, self.n)), "wb")
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.event("open", peer=list(peer[:2]))

    def event(self, what, **kw):
        self.logs.event(scenario=self.scenario, conn=self.n, event=what,
                        bytes_in=self.bytes_in, bytes_out=self.bytes_out, **kw)

    def _got(self, data):
        self.bytes_in += len(data)
        self.buf += data
        # The shared log is appended under a lock so that concurrent
        # connections do not split each other's chunks.
        with self.logs.lock:
            self.all_log.write(data)
            self.all_log.flush()
        self.one_log.write(data)
        self.one_log.flush()

    def _recv_raw(self):
        """One recv() from the socket: bytes; b"" at EOF or reset (recorded
        in raw_eof / reset_seen); None if there was nothing after all."""
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError as e:
            self.raw_eof = True
            self.reset_seen = True
            self.eof = True
            self.event("reset_by_client", error=errno.errorcode.get(e.errno, str(e)))
            return b""
        if not data:
            self.raw_eof = True
        return data

    def _feed(self, data):
        """Raw bytes from the socket into the TLS engine (b"" = EOF)."""
        if data:
            self.inbio.write(data)
        else:
            self.inbio.write_eof()

    def _tls_read(self):
        """Move decrypted bytes from the TLS engine to buf (and the logs)."""
        while not self.eof:
            try:
                data = self.tls.read(65536)
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                return
            except ssl.SSLZeroReturnError:
                data = b""
            except ssl.SSLError as e:
                self.eof = True
                if (isinstance(e, ssl.SSLEOFError)
                        or getattr(e, "reason", None) == "UNEXPECTED_EOF_WHILE_READING"):
                    if not self.reset_seen:       # EOF without close_notify
                        self.event("eof_from_client", close_notify=False)
                else:
                    self.event("tls_error", error=str(e))
                return
            if not data:                      # close_notify
                self.eof = True
                if not self.reset_seen:
                    self.event("eof_from_client", close_notify=True)
                return
            self._got(data)

    def _flush_tls(self):
        """Send what the TLS engine has produced (records, alerts)."""
        if self.tls is None or self._flushing:
            return
        self._flushing = True
        try:
            while self.outbio.pending:
                self._send_raw(self.outbio.read(), count=False)
        finally:
            self._flushing = False

    def pump(self, timeout):
        """Wait up to timeout for input; read and log what is there.
        Returns True if something (data or EOF) arrived."""
        if self.eof:
            if timeout > 0:
                STOP.wait(timeout)
            return False
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        data = self._recv_raw()
        if data is None:
            return False
        if self.tls is None:
            if data:
                self._got(data)
            elif not self.eof:
                self.eof = True
                self.event("eof_from_client")
            return True
        self._feed(data)
        if not self.in_handshake:
            self._tls_read()
            if self.raw_eof and not self.eof:     # should not happen; never spin
                self.eof = True
                self.event("eof_from_client")
            self._flush_tls()
        return True

    def wait(self, seconds, until=None):
        """Read and log for `seconds` (or until until() is true).
        Stops early on STOP. Returns False if the client went away first."""
        deadline = time.monotonic() + seconds
        while not STOP.is_set():
            if until is not None and until():
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return True
            if self.eof:
                return False
            self.pump(min(left, IO_SLICE))
        raise Closed()

    def readline(self):
        """One line (through LF) or raise Closed."""
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if self.eof or STOP.is_set() or len(self.buf) > MAX_LINE:
                raise Closed()
            self.pump(IO_SLICE)

    def send(self, data):
        """Send everything (through TLS once it is up), logging input that
        arrives meanwhile."""
        if self.tls is None:
            self._send_raw(data, count=True)
            return
        try:
            self.tls.write(data)
        except ssl.SSLError as e:
            self.event("send_failed", error=str(e))
            raise Closed()
        self.bytes_out += len(data)
        self._flush_tls()

    def _send_raw(self, data, count):
        view = memoryview(data)
        while view:
            if STOP.is_set():
                raise Closed()
            r, w, _ = select.select([] if self.raw_eof else [self.sock], [self.sock], [], IO_SLICE)
            if r:
                self.pump(0)
            if w:
                try:
                    n = self.sock.send(view)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as e:
                    self.event("send_failed", error=errno.errorcode.get(e.errno, str(e)))
                    raise Closed()
                if count:
                    self.bytes_out += n
                view = view[n:]

    def trickle(self, data, interval):
        """Send data one byte at a time, `interval` seconds apart."""
        for i in range(len(data)):
            self.send(data[i:i + 1])
            if i + 1 < len(data):
                self.wait(interval)

    # --- TLS -----------------------------------------------------------

    def _raw_first(self, timeout):
        """The next raw bytes from the socket (at least one), not logged.
        Raises Closed on EOF, STOP or timeout."""
        deadline = time.monotonic() + timeout
        while not STOP.is_set() and not self.raw_eof:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            r, _, _ = select.select([self.sock], [], [], min(left, IO_SLICE))
            if not r:
                continue
            data = self._recv_raw()
            if data:
                return data
            if data == b"" and not self.reset_seen:
                self.eof = True
                self.event("eof_from_client")
        raise Closed()

    def starttls(self, ctx):
        """Call after answering STARTTLS with 220. Plaintext the client sent
        after the STARTTLS line (already logged) is discarded, as RFC 3207
        wants, unless it starts like a TLS record. If the client then goes on
        in plaintext instead of a handshake, those bytes are logged and
        False is returned (the caller stays in plaintext); otherwise the
        server handshake runs and True is returned."""
        initial = b""
        if self.buf:
            if self.buf[0] == 0x16:
                initial = bytes(self.buf)
                self.event("early_tls_bytes", bytes=len(initial))
            else:
                self.event("discarded_before_tls", bytes=len(self.buf))
            self.buf.clear()
        if not initial:
            initial = self._raw_first(HOLD)
            if initial[0] != 0x16:
                self.event("plaintext_after_starttls")
                self._got(initial)
                return False
        self.handshake(ctx, initial)
        return True

    def handshake(self, ctx, initial=b""):
        """Server side TLS handshake (raw bytes already read go in
        `initial`). On failure: alert, event, close, raise Closed."""
        self.inbio, self.outbio = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inbio, self.outbio, server_side=True)
        self.in_handshake = True
        if initial:
            self._feed(initial)
        deadline = time.monotonic() + HOLD
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as e:
                self._handshake_failed(str(e))
            self._send_raw(self.outbio.read(), count=False)
            if STOP.is_set() or time.monotonic() > deadline:
                self._handshake_failed("timeout")
            if self.raw_eof:
                self._feed(b"")
                continue
            r, _, _ = select.select([self.sock], [], [], IO_SLICE)
            if r:
                data = self._recv_raw()
                if data is not None:
                    self._feed(data)
        self.in_handshake = False
        self._flush_tls()
        self.event("tls_handshake_done", version=self.tls.version(),
                   cipher=self.tls.cipher()[0], sni=getattr(self.tls, "sni", None))
        self._tls_read()        # application data that came with the handshake

    def _handshake_failed(self, error):
        self.event("tls_handshake_failed", error=error)
        try:
            if self.outbio.pending:               # the alert, if any
                self._send_raw(self.outbio.read(), count=False)
            self.sock.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + 1.0     # let the alert arrive
            while not self.raw_eof and not STOP.is_set() and time.monotonic() < deadline:
                r, _, _ = select.select([self.sock], [], [], IO_SLICE)
                if r:
                    self._recv_raw()
        except (OSError, Closed):
            pass
        self.eof = True
        self._close()
        raise Closed()

    # --- closing -------------------------------------------------------

    def reset(self):
        """Abort with RST (SO_LINGER 0)."""
        if self.closed:
            return
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.event("server_reset")
        self._close()

    def finish(self, drain=2.0):
        """Normal close: FIN first (after a TLS close_notify), then read
        (and log) until the client closes or `drain` seconds pass, so that
        unread input never turns our FIN into a RST."""
        if self.closed:
            return
        try:
            if self.tls is not None and not self.in_handshake:
                try:
                    self.tls.unwrap()             # queues close_notify
                except (ssl.SSLError, ValueError):
                    pass
                self._flush_tls()
            self.sock.shutdown(socket.SHUT_WR)
            self.event("server_fin")
            deadline = time.monotonic() + drain
            while not self.eof and not STOP.is_set() and time.monotonic() < deadline:
                self.pump(IO_SLICE)
        except (OSError, Closed):
            pass
        self._close()

    def _close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass
        self.event("closed")
        self.all_log.close()
        self.one_log.close()


# --- the normal minimal server ---------------------------------------------

class Normal:
    """A minimal correct SMTP state machine. Scenarios override the hooks."""

    ehlo_reply = NORMAL_EHLO

    def __init__(self, conn):
        self.c = conn
        self.msgs = 0

    def greet(self):
        self.c.send(GREETING)

    def on_ehlo(self, line):
        self.c.send(self.ehlo_reply)

    def on_helo(self, line):
        self.c.send(b"250 hostile\r\n")

    def on_data(self):
        """After 354: read the message up to CRLF.CRLF and answer it."""
        body = self.read_body()
        self.msgs += 1
        self.on_message(body)

    def on_message(self, body):
        self.c.send(b"250 2.0.0 Ok: queued as H%05d\r\n" % self.msgs)

    def on_quit(self):
        self.c.send(b"221 2.0.0 Bye\r\n")
        self.c.finish()

    def read_body(self):
        """Body bytes (still dot-stuffed) up to the terminating CRLF.CRLF.
        What follows the terminator stays buffered (pipelining)."""
        c = self.c
        start = 0
        while True:
            # The CRLF ending the DATA line counts as the start of a line,
            # so a body starting with ".\r\n" is the empty message.
            if c.buf[:3] == b".\r\n":
                del c.buf[:3]
                return b""
            i = c.buf.find(b"\r\n.\r\n", start)
            if i >= 0:
                body = bytes(c.buf[:i + 2])      # keep the last line's CRLF
                del c.buf[:i + 5]
                return body
            start = max(0, len(c.buf) - 4)
            if c.eof or STOP.is_set():
                raise Closed()
            c.pump(IO_SLICE)

    def dispatch(self, line):
        verb = line.split(None, 1)[0].upper() if line.strip() else b""
        if verb == b"EHLO":
            self.on_ehlo(line)
        elif verb == b"HELO":
            self.on_helo(line)
        elif verb == b"MAIL":
            self.c.send(b"250 2.1.0 Ok\r\n")
        elif verb == b"RCPT":
            self.c.send(b"250 2.1.5 Ok\r\n")
        elif verb == b"DATA":
            self.c.send(b"354 End data with <CR><LF>.<CR><LF>\r\n")
            self.on_data()
        elif verb in (b"RSET", b"NOOP"):
            self.c.send(b"250 2.0.0 Ok\r\n")
        elif verb == b"QUIT":
            self.on_quit()
            return False
        else:
            self.c.send(b"502 5.5.2 Error: command not recognized\r\n")
        return True

    def run(self):
        self.greet()
        while not self.c.closed:
            line = self.c.readline()
            if not self.dispatch(line):
                break


# --- scenarios -------------------------------------------------------------

class Silent(Normal):
    def run(self):
        self.c.wait(HOLD)          # returns early if the client leaves


class Trickle(Normal):
    REPLY = (b"250-hostile trickles this reply one byte at a time\r\n"
             + b"250-" + b"x" * 70 + b"\r\n"
             + b"250-" + b"y" * 70 + b"\r\n"
             + b"250-" + b"z" * 70 + b"\r\n"
             + b"250 8BITMIME\r\n")
    first = True

    def dispatch(self, line):
        if self.first:
            self.first = False
            self.c.trickle(self.REPLY, 0.1)
            return True
        return super().dispatch(line)


class LongLine(Normal):
    ehlo_reply = b"250-" + b"x" * 100000 + b"\r\n250 OK\r\n"


class DropInData(Normal):
    def on_data(self):
        c = self.c     # everything buffered after the DATA line is body
        c.wait(HOLD, until=lambda: len(c.buf) > 0)       # first body byte
        if not c.buf:
            raise Closed()
        c.wait(0.2, until=lambda: len(c.buf) >= 65536)
        c.reset()
        raise Closed()


class CloseAfter354(Normal):
    def on_data(self):
        self.c.finish(drain=10.0)
        raise Closed()


class Greet554(Normal):
    def greet(self):
        self.c.send(b"554 5.3.2 no service here\r\n")

    def dispatch(self, line):
        if line.strip().upper() == b"QUIT":
            return super().dispatch(line)
        self.c.send(b"503 5.5.1 Error: bad sequence, only QUIT now\r\n")
        return True


class TrickleGreeting(Normal):
    GREETING = (b"220-hostile.test ESMTP this greeting arrives one byte at a time\r\n"
                + b"220-" + b"g" * 60 + b"\r\n"
                + b"220-" + b"h" * 50 + b"\r\n"
                + b"220 ok\r\n")

    def greet(self):
        self.c.trickle(self.GREETING, 0.1)


class EndlessMultiline(Normal):
    def on_ehlo(self, line):
        chunk = b"250-xxxxxxxx\r\n" * 4096
        while True:
            self.c.send(chunk)        # raises Closed once the client is gone


class BadCode(Normal):
    ehlo_reply = b"2x0 what\r\n"


class CodeOutOfRange(Normal):
    ehlo_reply = b"999 no\r\n"


class QuitNeverAnswered(Normal):
    def on_quit(self):
        self.c.wait(HOLD)


class ExtraReplies(Normal):
    def greet(self):
        self.c.send(b"220 hi\r\n250 unsolicited\r\n")


class MixedCodes(Normal):
    ehlo_reply = b"250-a\r\n251 b\r\n"


class NoEhlo(Normal):
    def on_ehlo(self, line):
        self.c.send(b"502 5.5.1 command not implemented\r\n")


def header_value(body, name):
    """The first header `name` of a message (unfolded), as text, or ""."""
    head = body.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    want = name.lower() + b":"
    for i, line in enumerate(lines):
        if line.lower().startswith(want):
            value = line[len(want):]
            for cont in lines[i + 1:]:
                if not cont[:1] in (b" ", b"\t"):
                    break
                value += cont
            return value.strip().decode("utf-8", "backslashreplace")
    return ""


def record_message(conn, body, number, replied):
    """One line in DIR/<scenario>.messages for a message whose end of data
    arrived: {"conn": N (the connection, 1, 2, ...), "msg": the message's
    number on that connection, "subject": its Subject header, "size": body
    bytes (dot-stuffed, CRLF), "replied": whether the server answered it}."""
    conn.logs.message(conn.scenario, {"conn": conn.n, "msg": number,
                                      "subject": header_value(body, b"Subject"),
                                      "size": len(body), "replied": replied})


class Mail421After2(Normal):
    """Two messages per connection: the third MAIL FROM gets 421 and the
    connection is closed (a server's per-connection limit, or a restart)."""

    LIMIT = 2

    def dispatch(self, line):
        verb = line.split(None, 1)[0].upper() if line.strip() else b""
        if verb == b"MAIL" and self.msgs >= self.LIMIT:
            self.c.event("mail_421", msgs=self.msgs)
            self.c.send(b"421 4.7.0 hostile: %d messages on this connection, closing\r\n" % self.msgs)
            self.c.finish()
            return False
        return super().dispatch(line)

    def on_message(self, body):
        record_message(self.c, body, self.msgs, True)
        super().on_message(body)


class VanishAfterData(Normal):
    """A message whose Subject contains "vanish" is taken (recorded) and the
    connection closed before the reply to its end of data; others normal."""

    def on_message(self, body):
        if "vanish" in header_value(body, b"Subject").lower():
            record_message(self.c, body, self.msgs, False)
            self.c.event("close_before_data_reply", msgs=self.msgs)
            self.c.finish()
            raise Closed()
        record_message(self.c, body, self.msgs, True)
        super().on_message(body)


class StallFinal(Normal):
    """Normal, but the end of each message is never answered: the socket is
    held (HOLD) with the message read (issue 17: one stalled session among
    many stepped from one thread)."""

    def on_message(self, body):
        self.c.event("stall_final", msgs=self.msgs)
        self.c.wait(HOLD)          # returns early if the client leaves
        raise Closed()


# --- TLS scenarios (14-22): contexts made in main() from --certs ----------

CTX = {}        # "server", "tls11", "tls13", "chain20" -> ssl.SSLContext
STARTTLS_EHLO = b"250-hostile\r\n250-STARTTLS\r\n250 8BITMIME\r\n"


class StartTLS(Normal):
    """Normal, plus STARTTLS: `ehlo_reply` before TLS, `ehlo_after_tls`
    after it. If the client answers the 220 with plaintext instead of a
    handshake, the session simply goes on in plaintext."""

    ehlo_reply = STARTTLS_EHLO
    ehlo_after_tls = NORMAL_EHLO
    starttls_reply = b"220 2.0.0 Ready to start TLS\r\n"

    def on_ehlo(self, line):
        self.c.send(self.ehlo_after_tls if self.c.tls else self.ehlo_reply)

    def on_starttls(self):
        self.c.send(self.starttls_reply)
        self.c.starttls(CTX["server"])

    def dispatch(self, line):
        verb = line.split(None, 1)[0].upper() if line.strip() else b""
        if verb == b"STARTTLS":
            if self.c.tls:
                self.c.send(b"503 5.5.1 Error: TLS already active\r\n")
            else:
                self.on_starttls()
            return True
        return super().dispatch(line)


class StartTLSInject(StartTLS):
    starttls_reply = b"220 ready\r\n250 injected\r\n"     # one send()


class NoStartTLS(Normal):
    ehlo_reply = b"250-hostile\r\n250 8BITMIME\r\n"


class StartTLSDifferentAuth(StartTLS):
    ehlo_reply = b"250-hostile\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n"
    ehlo_after_tls = b"250-hostile\r\n250 AUTH CRAM-MD5\r\n"

    def dispatch(self, line):
        words = line.split()
        if words and words[0].upper() == b"AUTH":
            mech = words[1].upper() if len(words) > 1 else b""
            self.c.event("auth", mechanism=mech.decode("ascii", "replace"),
                         tls=self.c.tls is not None)
            if not self.c.tls:
                self.c.send(b"530 5.7.0 Must issue a STARTTLS command first\r\n")
            elif mech != b"CRAM-MD5":
                self.c.send(b"504 5.5.4 Mechanism not offered\r\n")
            else:
                # "<12345.67890@hostile>"; any answer but "*" is accepted
                self.c.send(b"334 PDEyMzQ1LjY3ODkwQGhvc3RpbGU+\r\n")
                if self.c.readline().strip() == b"*":
                    self.c.send(b"501 5.7.0 Authentication aborted\r\n")
                else:
                    self.c.send(b"235 2.7.0 Authentication successful\r\n")
            return True
        return super().dispatch(line)


class TLSStall(Normal):
    def run(self):
        self.c.wait(HOLD)          # logs the raw ClientHello; never answers


class ImplicitTLS(Normal):
    ctx = "server"

    def run(self):
        self.c.handshake(CTX[self.ctx])
        super().run()


class TLS11Only(ImplicitTLS):
    ctx = "tls11"


class TLS13Only(ImplicitTLS):
    ctx = "tls13"


class Chain20(ImplicitTLS):
    ctx = "chain20"


class StartTLSThenSilent(StartTLS):
    starttls_reply = b"220 go ahead\r\n"

    def on_starttls(self):
        self.c.send(self.starttls_reply)
        self.c.wait(HOLD)          # logs the raw handshake bytes, never answers
        raise Closed()


# Offsets are part of the interface: only ever append.
SCENARIOS = [
    ("silent", Silent, "accept, send nothing, hold the socket 60 s"),
    ("trickle", Trickle, "greet; answer the first command with a ~300-byte 250- reply, 1 byte/100 ms"),
    ("longline", LongLine, "greet; EHLO reply is one 100 KB line then 250 OK"),
    ("drop_in_data", DropInData, "normal until DATA; after body bytes (64 KB or 200 ms) RST, no reply"),
    ("close_after_354", CloseAfter354, "normal until DATA; FIN right after 354"),
    ("greet_554", Greet554, "554 greeting; 503 to everything but QUIT (221)"),
    ("trickle_greeting", TrickleGreeting, "~200-byte multi-line 220 greeting, 1 byte/100 ms; then normal"),
    ("endless_multiline", EndlessMultiline, "greet; EHLO reply is 250-xxxxxxxx lines forever"),
    ("bad_code", BadCode, "greet; EHLO reply '2x0 what'; then normal"),
    ("code_out_of_range", CodeOutOfRange, "greet; EHLO reply '999 no'; then normal"),
    ("quit_never_answered", QuitNeverAnswered, "normal, but QUIT is never answered (socket held 60 s)"),
    ("extra_replies", ExtraReplies, "greeting '220 hi' + unsolicited '250' in one write; then normal"),
    ("mixed_codes", MixedCodes, "greet; EHLO reply '250-a' then '251 b'; then normal"),
    ("no_ehlo", NoEhlo, "greet; EHLO gets 502, HELO 250; then normal"),
    # 14..22: TLS. Those in TLS_SCENARIOS need certificates (--certs); the
    # others here only speak plaintext (or read raw TLS bytes).
    ("starttls_inject", StartTLSInject, "EHLO offers STARTTLS; its reply is '220 ready' + '250 injected' in one write; then TLS, normal"),
    ("no_starttls", NoStartTLS, "EHLO without STARTTLS (250-hostile, 250 8BITMIME); normal"),
    ("starttls_different_auth", StartTLSDifferentAuth, "AUTH PLAIN LOGIN before STARTTLS, AUTH CRAM-MD5 after; normal"),
    ("tls_stall", TLSStall, "implicit TLS port: reads the ClientHello, never answers (60 s)"),
    ("tls11_only", TLS11Only, "implicit TLS 1.1 only (SECLEVEL=0); then normal"),
    ("tls13_only", TLS13Only, "implicit TLS 1.3 only; then normal"),
    ("chain20", Chain20, "implicit TLS with a 20-certificate chain (chain20.pem); then normal"),
    ("starttls_then_silent", StartTLSThenSilent, "EHLO offers STARTTLS; '220 go ahead', then no handshake (60 s)"),
    ("implicit_normal", ImplicitTLS, "implicit TLS with server.pem; then normal"),
    # 23..: issue 16 (sessions that last); messages in DIR/<scenario>.messages
    ("mail421_after_2", Mail421After2, "normal, but the 3rd MAIL FROM on a connection gets 421 and a close"),
    ("vanish_after_data", VanishAfterData, "normal; a message with 'vanish' in its Subject: close after its end of data, no reply"),
    # 25..: issue 17 (stepping)
    ("stall_final", StallFinal, "normal until the end of data, which is never answered (socket held 60 s)"),
]
TLS_SCENARIOS = {"starttls_inject", "starttls_different_auth", "tls11_only",
                 "tls13_only", "chain20", "implicit_normal"}
CERTS_SH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "certs.sh")


def make_contexts(certs):
    """The server contexts of the TLS scenarios, from a certs.sh directory."""
    def remember_sni(sslobj, server_name, _ctx):
        sslobj.sni = server_name

    def ctx(stem, lo=None, hi=None):
        c = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        c.load_cert_chain(os.path.join(certs, stem + ".pem"), os.path.join(certs, stem + ".key"))
        c.sni_callback = remember_sni
        # So that an EOF without close_notify is told apart from one with it.
        c.options &= ~getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)    # TLSv1_1
            if lo is not None:
                c.minimum_version = lo
            if hi is not None:
                c.maximum_version = hi
        if lo is not None and lo <= ssl.TLSVersion.TLSv1_1:
            # OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 based) above security level 0.
            c.set_ciphers("DEFAULT:@SECLEVEL=0")
        return c

    CTX["server"] = ctx("server")
    CTX["tls11"] = ctx("server", ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_1)
    CTX["tls13"] = ctx("server", ssl.TLSVersion.TLSv1_3)
    CTX["chain20"] = ctx("chain20")


def serve_conn(sock, peer, name, cls, logs):
    conn = Conn(sock, peer, name, logs)
    try:
        cls(conn).run()
    except Closed:
        pass
    except Exception as e:          # never let one connection kill the server
        conn.event("error", error=repr(e))
    finally:
        if not conn.closed:
            if conn.eof or STOP.is_set():
                conn._close()
            else:
                conn.finish()


def accept_loop(lsock, name, cls, logs):
    while not STOP.is_set():
        r, _, _ = select.select([lsock], [], [], IO_SLICE * 2)
        if not r:
            continue
        try:
            sock, peer = lsock.accept()
        except OSError:
            continue
        threading.Thread(target=serve_conn, args=(sock, peer, name, cls, logs),
                         name=f"{name}-conn", daemon=True).start()
    lsock.close()


def print_table(base):
    for k, (name, _, desc) in enumerate(SCENARIOS):
        port = "" if base is None else f"{base + k:<6} "
        tag = " [certs]" if name in TLS_SCENARIOS else ""
        print(f"{k:<3} {port}{name:<23} {desc}{tag}")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--base-port", type=int, default=24600)
    p.add_argument("--log", help="log directory (created)")
    p.add_argument("--list", action="store_true", help="print the scenario table and exit")
    p.add_argument("--certs", metavar="DIR",
                   help="certs.sh directory for the TLS scenarios (certs.sh is run on it: "
                        "it is made if missing); default LOG/certs")
    p.add_argument("--no-tls", action="store_true",
                   help="do not start the scenarios that need certificates")
    args = p.parse_args()
    if args.list:
        print_table(args.base_port)
        return 0
    if not args.log:
        p.error("--log DIR is required")
    os.makedirs(args.log, exist_ok=True)
    try:
        os.unlink(os.path.join(args.log, "ready"))
    except FileNotFoundError:
        pass
    logs = Logs(args.log)

    tls = not args.no_tls
    if tls:
        certs = args.certs or os.path.join(args.log, "certs")
        r = subprocess.run(["sh", CERTS_SH, certs], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        try:
            if r.returncode != 0:
                raise RuntimeError(r.stdout.decode(errors="replace").strip())
            make_contexts(certs)
        except Exception as e:
            print(f"hostile: no certificates ({e}); TLS scenarios not started",
                  file=sys.stderr, flush=True)
            tls = False
    if not tls:
        skipped = [f"{k} {name}" for k, (name, _, _) in enumerate(SCENARIOS)
                   if name in TLS_SCENARIOS]
        print("hostile: not listening for " + ", ".join(skipped), file=sys.stderr, flush=True)

    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listeners = []
    for k, (name, cls, _) in enumerate(SCENARIOS):
        if name in TLS_SCENARIOS and not tls:
            continue
        s = socket.socket(family, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((args.host, args.base_port + k))
        except OSError as e:
            sys.exit(f"hostile: cannot bind {args.host}:{args.base_port + k} ({name}): {e}")
        s.listen(64)
        s.setblocking(False)       # accept() must not block if the client is gone
        listeners.append((s, name, cls))

    signal.signal(signal.SIGTERM, lambda *_: STOP.set())
    signal.signal(signal.SIGINT, lambda *_: STOP.set())

    threads = []
    for s, name, cls in listeners:
        t = threading.Thread(target=accept_loop, args=(s, name, cls, logs),
                             name=f"{name}-accept", daemon=True)
        t.start()
        threads.append(t)

    with open(os.path.join(args.log, "ready"), "w") as f:
        f.write(f"{os.getpid()}\n")
    print("READY", flush=True)

    while not STOP.wait(0.5):
        pass
    # Every loop checks STOP at least every IO_SLICE seconds; give them a
    # moment to close their sockets, then leave (threads are daemons).
    deadline = time.monotonic() + 1.0
    for t in threading.enumerate():
        if t is not threading.current_thread() and t.daemon:
            t.join(max(0.0, deadline - time.monotonic()))
    try:
        os.unlink(os.path.join(args.log, "ready"))
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
