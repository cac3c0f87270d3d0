#!/usr/bin/python3
"""A real aiosmtpd (1.4) SMTP server that records exactly what it received.

Run it with Debian's interpreter (the one that sees python3-aiosmtpd):

  /usr/bin/python3 tests/peers/aiosmtpd_server.py --listen 127.0.0.1:24525 \
      [--listen [::1]:24525 ...] [--unix PATH ...] --spool DIR [--max-rcpt N] \
      [--tls-cert CERT --tls-key KEY] [--implicit-listen HOST:PORT ...] \
      [--implicit-unix PATH ...] \
      [--tls-client-ca CAFILE] [--tls-min VER] [--tls-max VER] \
      [--auth-user U --auth-pass P] [--oauth-token TOKEN | --oauth-token-file FILE] \
      [--oauth-close-on-failure] [--auth-mechs LIST] [--require-starttls] [--auth-required] [--auth-plaintext] [--no-dsn] \
      [--pipelining] [--timeout S] [--line-length-limit N] [--verbose]

Spool layout (see tests/peers/SERVERS.md):
  DIR/ready          written once every listener is bound (also prints READY)
  DIR/msg-NNNN.eml   envelope.original_content: DATA bytes, dot-unstuffed,
                     CRLF kept, final ".\r\n" removed
  DIR/msg-NNNN.json  envelope and session facts; renamed into place after the
                     .eml, so a poller that sees the .json can read both
  DIR/commands.log   one JSON object per command line received:
                     {"peer": [ip, port], "line": "..."}
  DIR/auth.log       one JSON object per AUTH continuation line (334 answers)
  DIR/auth-attempts.log  one JSON object per AUTH command and its outcome
  DIR/connections.log  one JSON object per connection opened and per one lost
"""

import argparse
import asyncio
import base64
import binascii
import hmac
import json
import logging
import os
import re
import secrets
import signal
import ssl
import sys
import time
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword, MISSING

HOSTNAME = "aiosmtpd.test"
DSN_PARAMS = {"RET", "ENVID", "NOTIFY", "ORCPT"}
_DEFAULT = object()
PASSWORD_MECHS = ("PLAIN", "LOGIN", "CRAM-MD5")
TOKEN_MECHS = ("XOAUTH2", "OAUTHBEARER")
ALL_MECHS = PASSWORD_MECHS + TOKEN_MECHS
# The errors a bad bearer token gets, as Gmail (XOAUTH2) and RFC 7628 3.2.2
# (OAUTHBEARER) send them: base64 of this JSON after "334 ".
XOAUTH2_ERROR = (b'{"status":"401","schemes":"Bearer",'
                 b'"scope":"https://mail.google.com/"}')
OAUTHBEARER_ERROR = (b'{"status":"invalid_token","scope":"smtp",'
                     b'"openid-configuration":'
                     b'"https://example.test/.well-known/openid-configuration"}')
TLS_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def peer_pair(peer):
    """[ip, port] of a TCP peer; None for a Unix-domain one (its peername is
    "" or a path: the listener, "unix:PATH", tells those apart)."""
    if not peer or isinstance(peer, (str, bytes)):
        return None
    return [peer[0], peer[1]]


def client_cert_cn(sslobj):
    """Subject CN of the verified client certificate, or None."""
    try:
        cert = sslobj.getpeercert()
    except (ValueError, ssl.SSLError):
        return None
    if not cert:
        return None
    for rdn in cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return None


def text_of(raw):
    """Command line bytes -> str for JSON (UTF-8; invalid bytes as \\xNN)."""
    return raw.decode("utf-8", errors="backslashreplace")


def parse_hostport(s):
    if s.startswith("["):
        host, _, rest = s[1:].partition("]")
        if not rest.startswith(":"):
            raise argparse.ArgumentTypeError(f"bad address {s!r}")
        port = rest[1:]
    else:
        host, _, port = s.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"bad address {s!r}, want HOST:PORT or [V6]:PORT")
    return host, int(port)


def fmt_addr(host, port):
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def bearer_token(value):
    """b"Bearer TOKEN" -> b"TOKEN" (the scheme is case-insensitive), else None."""
    scheme, sp, token = value.partition(b" ")
    if not sp or scheme.lower() != b"bearer" or not token:
        return None
    return token


def parse_kvpairs(body):
    """b"k=v\x01k=v\x01" (each pair ended by ^A) -> dict, or None if malformed
    or a key repeats."""
    if not body:
        return {}
    if not body.endswith(b"\x01"):
        return None
    out = {}
    for pair in body[:-1].split(b"\x01"):
        key, eq, value = pair.partition(b"=")
        if not eq or not re.fullmatch(rb"[A-Za-z]+", key) or key in out:
            return None
        out[key] = value
    return out


def parse_xoauth2(blob):
    """Google's "user=" U ^A "auth=Bearer " T ^A ^A -> (user, token) or None."""
    if not blob.endswith(b"\x01\x01"):
        return None
    kv = parse_kvpairs(blob[:-1])
    if kv is None or set(kv) != {b"user", b"auth"}:
        return None
    token = bearer_token(kv[b"auth"])
    if token is None:
        return None
    return kv[b"user"], token


def parse_oauthbearer(blob):
    """RFC 7628 3.1: gs2-header ^A *(key=value ^A) ^A -> (authzid or None,
    {key: value}, with b"token" for the bearer token) or None if malformed.
    The gs2 header is "n," or "y," then [ "a=" saslname ] ","; the
    channel-binding flag "p=..." is refused (OAUTHBEARER has none)."""
    head, sep, rest = blob.partition(b"\x01")
    if not sep or not rest.endswith(b"\x01"):
        return None
    fields = head.split(b",")
    if len(fields) != 3 or fields[0] not in (b"n", b"y") or fields[2] != b"":
        return None
    authzid = None
    if fields[1]:
        if not fields[1].startswith(b"a="):
            return None
        name = fields[1][2:]
        # saslname (RFC 5801): "," and "=" travel as =2C and =3D; no other "="
        if not name or not re.fullmatch(rb"(?:[^=]|=2C|=3D)*", name):
            return None
        authzid = name.replace(b"=2C", b",").replace(b"=3D", b"=")
    kv = parse_kvpairs(rest[:-1])
    if kv is None or b"auth" not in kv:
        return None
    if b"port" in kv and not re.fullmatch(rb"[0-9]+", kv[b"port"]):
        return None
    token = bearer_token(kv[b"auth"])
    if token is None:
        return None
    kv[b"token"] = token
    return authzid, kv


class Recorder:
    """Everything written to the spool directory."""

    def __init__(self, spool):
        self.spool = spool
        os.makedirs(spool, exist_ok=True)
        self.counter = 0
        # Continue numbering if the spool already holds messages.
        for name in os.listdir(spool):
            if name.startswith("msg-") and name.endswith(".json"):
                try:
                    self.counter = max(self.counter, int(name[4:-5]))
                except ValueError:
                    pass
        self.commands = open(os.path.join(spool, "commands.log"), "a", encoding="utf-8")
        self.auth = open(os.path.join(spool, "auth.log"), "a", encoding="utf-8")
        self.attempts = open(os.path.join(spool, "auth-attempts.log"), "a", encoding="utf-8")
        self.connections = open(os.path.join(spool, "connections.log"), "a", encoding="utf-8")

    def _log(self, f, obj):
        f.write(json.dumps(obj) + "\n")
        f.flush()

    def command(self, peer, raw, **extra):
        line = raw
        if line.endswith(b"\n"):
            line = line[:-1]
            if line.endswith(b"\r"):
                line = line[:-1]
            else:
                extra["bare_lf"] = True
        else:
            extra["no_eol"] = True
        obj = {"peer": peer_pair(peer), "line": text_of(line)}
        obj.update(extra)
        self._log(self.commands, obj)

    def connection(self, event, peer, listener):
        self._log(self.connections, {"event": event, "peer": peer_pair(peer),
                                     "listener": listener, "time": time.time()})

    def auth_attempt(self, peer, mech, ok, token):
        self._log(self.attempts, {"peer": peer_pair(peer), "mech": mech, "ok": ok,
                                  "token": token})

    def auth_line(self, peer, raw):
        self._log(self.auth, {"peer": peer_pair(peer), "line": text_of(raw.rstrip(b"\r\n"))})

    def _atomic_write(self, name, data):
        path = os.path.join(self.spool, name)
        tmp = os.path.join(self.spool, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
        os.rename(tmp, path)

    def message(self, content, meta):
        self.counter += 1
        stem = "msg-%04d" % self.counter
        self._atomic_write(stem + ".eml", content)
        meta = dict(meta, id=stem, size=len(content))
        self._atomic_write(stem + ".json",
                           (json.dumps(meta, indent=1, ensure_ascii=False) + "\n")
                           .encode("utf-8", errors="backslashreplace"))
        return stem


class RecordingSMTP(SMTP):
    """aiosmtpd.smtp.SMTP that logs every command line it reads.

    aiosmtpd 1.4 reads command lines in _handle_client with
    `self._reader.readuntil()` (no argument), DATA lines with
    `readuntil(b'\\r\\n')` and AUTH continuation lines with `readline()`
    (which calls `readuntil(b'\\n')` with an explicit argument). We wrap the
    reader's methods once the stream is connected: only argument-less
    readuntil() calls are command lines.
    """

    def __init__(self, handler, *, recorder, dsn=True, pipelining=False,
                 listener="", **kw):
        self.recorder = recorder
        self.dsn = dsn
        self.pipelining = pipelining
        self.listener = listener
        self._overrun = None     # bytes of a too-long command line so far
        self._raw_arg = None     # MAIL/RCPT argument with its original case
        self.bearer_token = None # the token of the current AUTH, for auth-attempts.log
        self.handler_obj = handler
        super().__init__(handler, **kw)

    def _client_connected_cb(self, reader, writer):
        super()._client_connected_cb(reader, writer)
        orig_readuntil = reader.readuntil
        orig_readline = reader.readline
        orig_read = reader.read
        rec = self.recorder

        def peer():
            return self.session.peer if self.session else None

        async def readuntil(separator=_DEFAULT):
            if separator is not _DEFAULT:
                return await orig_readuntil(separator)
            try:
                line = await orig_readuntil()
            except asyncio.LimitOverrunError:
                if self._overrun is None:
                    self._overrun = b""
                raise
            except asyncio.IncompleteReadError as e:
                if e.partial or self._overrun:
                    rec.command(peer(), (self._overrun or b"") + e.partial,
                                eof=True)
                self._overrun = None
                raise
            if self._overrun is not None:
                rec.command(peer(), self._overrun + line, too_long=True)
                self._overrun = None
            else:
                rec.command(peer(), line)
            return line

        async def read(n=-1):
            data = await orig_read(n)
            if self._overrun is not None:
                self._overrun += data
            return data

        async def readline():
            line = await orig_readline()
            rec.auth_line(peer(), line)
            return line

        reader.readuntil = readuntil
        reader.readline = readline
        reader.read = read

    def connection_made(self, transport):
        if self._original_transport is not None and self.transport is not None:
            # TLS is up after STARTTLS: aiosmtpd now discards whatever
            # plaintext followed the STARTTLS line (RFC 3207 4.2). Record it.
            leftover = bytes(self._reader._buffer)
            for raw in leftover.splitlines(keepends=True):
                self.recorder.command(self.session.peer if self.session else None,
                                      raw, discarded_before_tls=True)
        else:
            self.recorder.connection("open", transport.get_extra_info("peername"),
                                     self.listener)
        super().connection_made(transport)

    def connection_lost(self, error):
        self.recorder.connection("lost", self.session.peer if self.session else None,
                                 self.listener)
        super().connection_lost(error)

    def _getparams(self, params):
        result = super()._getparams(params)
        if result is not None:
            # aiosmtpd answers 555 to any parameter it does not know; accept
            # the DSN ones (RFC 3461) and AUTH= (RFC 4954) and just record them.
            for key in list(result):
                if (self.dsn and key in DSN_PARAMS) or key == "AUTH":
                    del result[key]
        return result

    async def smtp_AUTH(self, arg):
        before = self.session.authenticated if self.session else None
        self.bearer_token = None          # set by the token mechanisms
        await super().smtp_AUTH(arg)
        words = (arg or "").split()
        ok = bool(self.session and self.session.authenticated and not before)
        if ok:
            # the mechanism that authenticated the session, for the .json
            self.session.auth_mech = words[0]
        token = self.bearer_token
        self.recorder.auth_attempt(self.session.peer if self.session else None,
                                   words[0].upper() if words else "", ok,
                                   None if token is None else text_of(token))
        if (not ok and token is not None and self.handler_obj.oauth_close_on_failure
                and self.transport is not None):
            # a refused bearer token ends the connection (after the 535)
            self.transport.close()

    async def smtp_MAIL(self, arg):
        self._raw_arg = arg
        return await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        self._raw_arg = arg
        return await super().smtp_RCPT(arg)

    def raw_params(self, keyword):
        """Parameters of the current MAIL/RCPT line, case preserved."""
        arg = self._raw_arg or ""
        arg = self._strip_command_keyword(keyword, arg) or ""
        _, rest = self._getaddr(arg)
        return (rest or "").split()


class Handler:
    def __init__(self, recorder, max_rcpt=None, auth_user=None, auth_pass=None,
                 oauth_token=None, offered=(), oauth_token_file=None,
                 oauth_close_on_failure=False):
        self.recorder = recorder
        self.max_rcpt = max_rcpt
        self.auth_user = auth_user.encode() if auth_user is not None else None
        self.auth_pass = auth_pass.encode() if auth_pass is not None else None
        self.oauth_token = oauth_token.encode() if oauth_token is not None else None
        self.oauth_token_file = oauth_token_file   # read at every AUTH
        self.oauth_close_on_failure = oauth_close_on_failure
        self.offered = list(offered)     # the AUTH line, in this order

    # --- EHLO: advertise DSN; AUTH lists the offered mechanisms only -------
    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname     # the 5-arg hook must set it itself
        out = []
        for r in responses:
            if r.startswith("250-AUTH"):
                mechs = [m for m in self.offered if m in server._auth_methods]
                if not mechs:
                    continue
                r = "250-AUTH " + " ".join(mechs)
            out.append(r)
        if server.dsn:
            out.insert(len(out) - 1, "250-DSN")
        if server.pipelining:
            out.insert(len(out) - 1, "250-PIPELINING")
        return out

    # --- envelope -------------------------------------------------------
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.mail_from = address
        envelope.mail_options.extend(server.raw_params("FROM:"))
        envelope.rcpt_options_by_rcpt = []
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.rpartition("@")[0] if "@" in address else address
        if local.lstrip('"').lower().startswith("refuse"):
            return f"550 5.1.1 <{address}>: Recipient address rejected"
        if self.max_rcpt is not None and len(envelope.rcpt_tos) >= self.max_rcpt:
            return "452 4.5.3 Too many recipients"
        opts = server.raw_params("TO:")
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(opts)
        if not hasattr(envelope, "rcpt_options_by_rcpt"):
            envelope.rcpt_options_by_rcpt = []
        envelope.rcpt_options_by_rcpt.append(opts)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        tls = None
        client_cert = None
        transport = server.transport
        sslobj = transport.get_extra_info("ssl_object") if transport else None
        if sslobj is not None:
            tls = {"version": sslobj.version(), "cipher": sslobj.cipher()[0],
                   "sni": getattr(sslobj, "sni_name", None)}
            client_cert = client_cert_cn(sslobj)
        auth = None
        auth_mech = None
        if session.authenticated:
            auth_mech = getattr(session, "auth_mech", None)
            if isinstance(session.auth_data, LoginPassword):
                auth = session.auth_data.login.decode("utf-8", errors="backslashreplace")
        meta = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "mail_options": list(envelope.mail_options),
            "rcpt_options": list(envelope.rcpt_options),
            "rcpt_options_by_rcpt": getattr(envelope, "rcpt_options_by_rcpt", []),
            "peer": peer_pair(session.peer),
            "helo": session.host_name,
            "esmtp": bool(session.extended_smtp),
            "smtputf8": bool(envelope.smtp_utf8),
            "tls": tls,
            "client_cert": client_cert,
            "auth": auth,
            "auth_mech": auth_mech,
            "listener": server.listener,
            "time": time.time(),
        }
        stem = self.recorder.message(envelope.original_content, meta)
        return f"250 2.0.0 OK queued as {stem}"

    # --- AUTH -----------------------------------------------------------
    def authenticator(self, server, session, envelope, mechanism, auth_data):
        ok = (self.auth_user is not None
              and isinstance(auth_data, LoginPassword)
              and hmac.compare_digest(auth_data.login, self.auth_user)
              and hmac.compare_digest(auth_data.password, self.auth_pass))
        if ok:
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False: let smtp_AUTH answer 535 5.7.8
        return AuthResult(success=False, handled=False)

    async def auth_CRAM__MD5(self, server, args):
        if len(args) > 1:      # CRAM-MD5 takes no initial response
            await server.push("501 5.5.4 CRAM-MD5 takes no initial response")
            return AuthResult(success=False, handled=True)
        challenge = f"<{secrets.randbelow(10**12)}.{int(time.time())}@{HOSTNAME}>".encode()
        resp = await server.challenge_auth(challenge)
        if resp is MISSING:        # '*' or bad base64: already answered
            return AuthResult(success=False, handled=True)
        user, _, digest = resp.rpartition(b" ")
        ok = False
        if self.auth_user is not None and user:
            want = hmac.new(self.auth_pass, challenge, "md5").hexdigest().encode()
            ok = (hmac.compare_digest(user, self.auth_user)
                  and hmac.compare_digest(digest.lower(), want))
        if ok:
            return AuthResult(success=True,
                              auth_data=LoginPassword(user, b""))
        return AuthResult(success=False, handled=False)

    # --- bearer tokens: XOAUTH2 and OAUTHBEARER (RFC 7628) ------------------
    async def _initial_response(self, server, args):
        """The decoded initial response: the AUTH argument, or the answer to
        an empty "334 " when there was none. None: already answered (501)."""
        if len(args) > 1:
            if args[1] == "=":             # RFC 4954: "=" is an empty response
                return b""
            try:
                return base64.b64decode(args[1].encode(), validate=True)
            except (binascii.Error, ValueError):
                await server.push("501 5.5.2 Can't decode base64")
                return None
        resp = await server.challenge_auth(b"")
        return None if resp is MISSING else resp   # '*' / bad base64: answered

    def _accepted_token(self):
        if self.oauth_token_file is None:
            return self.oauth_token
        try:
            with open(self.oauth_token_file, "rb") as f:
                return f.read().strip()
        except OSError:
            return None

    def _token_ok(self, user, token):
        want = self._accepted_token()
        if not want or not hmac.compare_digest(token, want):
            return False
        if self.auth_user is None:
            return True
        return user is not None and hmac.compare_digest(user, self.auth_user)

    async def _token_error(self, server, error_json):
        """Send the 334 error; return the client's answer line without its
        line end, or None at EOF (nothing more to answer)."""
        await server.push(b"334 " + base64.b64encode(error_json))
        line = await server._reader.readline()     # logged to auth.log
        if not line.endswith(b"\n"):
            return None
        return line.rstrip(b"\r\n")

    async def auth_XOAUTH2(self, server, args):
        blob = await self._initial_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        parsed = parse_xoauth2(blob)
        if parsed is None:
            await server.push("501 5.5.2 Malformed XOAUTH2 response")
            return AuthResult(success=False, handled=True)
        user, token = parsed
        server.bearer_token = token
        if self._token_ok(user, token):
            return AuthResult(success=True, auth_data=LoginPassword(user, b""))
        answer = await self._token_error(server, XOAUTH2_ERROR)
        if answer is None:
            return AuthResult(success=False, handled=True)
        if answer == b"":
            return AuthResult(success=False, handled=False,
                              message="535 5.7.8 Username and Password not accepted")
        if answer == b"*":
            await server.push("501 5.7.0 Auth aborted")
        else:
            await server.push("501 5.5.2 Expected an empty line after the XOAUTH2 error")
        return AuthResult(success=False, handled=True)

    async def auth_OAUTHBEARER(self, server, args):
        blob = await self._initial_response(server, args)
        if blob is None:
            return AuthResult(success=False, handled=True)
        parsed = parse_oauthbearer(blob)
        if parsed is None:
            await server.push("501 5.5.2 Malformed OAUTHBEARER response")
            return AuthResult(success=False, handled=True)
        user, kv = parsed
        server.bearer_token = kv[b"token"]
        if self._token_ok(user, kv[b"token"]):
            return AuthResult(success=True,
                              auth_data=LoginPassword(user or b"", b""))
        answer = await self._token_error(server, OAUTHBEARER_ERROR)
        if answer is None:
            return AuthResult(success=False, handled=True)
        try:
            ok = base64.b64decode(answer, validate=True) == b"\x01"
        except (binascii.Error, ValueError):
            ok = False
        if ok:
            return AuthResult(success=False, handled=False,
                              message="535 5.7.8 invalid token")
        if answer == b"*":
            await server.push("501 5.7.0 Auth aborted")
        else:
            await server.push("501 5.5.2 Expected AQ== (^A) after the OAUTHBEARER error")
        return AuthResult(success=False, handled=True)


async def main(args):
    log = logging.getLogger("mail.log")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="aiosmtpd_server: %(message)s")
    # aiosmtpd itself sets the deprecated session.login_data on every
    # successful AUTH and then warns about it: drop that noise.
    log.addFilter(lambda r: "login_data is deprecated" not in r.getMessage())
    recorder = Recorder(args.spool)
    try:
        os.unlink(os.path.join(args.spool, "ready"))
    except FileNotFoundError:
        pass
    handler = Handler(recorder, args.max_rcpt, args.auth_user, args.auth_pass,
                      args.oauth_token, args.offered, args.oauth_token_file,
                      args.oauth_close_on_failure)

    ctx = None
    if args.tls_cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)

        def remember_sni(sslobj, server_name, _ctx):
            try:
                sslobj.sni_name = server_name
            except AttributeError:
                pass
            return None
        ctx.sni_callback = remember_sni
        if args.tls_client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(cafile=args.tls_client_ca)
        lo = TLS_VERSIONS.get(args.tls_min)
        hi = TLS_VERSIONS.get(args.tls_max)
        with warnings.catch_warnings():
            # TLSv1 and TLSv1_1 are deprecated in Python's ssl: that is the point.
            warnings.simplefilter("ignore", DeprecationWarning)
            if hi is not None:
                if lo is None and hi < ctx.minimum_version:
                    lo = ssl.TLSVersion.MINIMUM_SUPPORTED
                ctx.maximum_version = hi
            if lo is not None:
                ctx.minimum_version = lo
        if any(v is not None and v <= ssl.TLSVersion.TLSv1_1 for v in (lo, hi)):
            # OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 based) above security level 0.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if (args.implicit_listen or args.implicit_unix) and ctx is None:
        sys.exit("--implicit-listen and --implicit-unix need --tls-cert and --tls-key")

    loop = asyncio.get_running_loop()
    exclude = args.exclude

    if args.line_length_limit:
        RecordingSMTP.line_length_limit = args.line_length_limit
    def factory(implicit, listener):
        def make():
            return RecordingSMTP(
                handler, recorder=recorder, dsn=not args.no_dsn,
                pipelining=args.pipelining, listener=listener,
                hostname=HOSTNAME, data_size_limit=args.size_limit, enable_SMTPUTF8=not args.no_smtputf8,
                tls_context=None if implicit else ctx,
                require_starttls=args.require_starttls and not implicit,
                auth_required=args.auth_required,
                # auth_require_tls only counts STARTTLS as TLS.
                auth_require_tls=(not implicit and ctx is not None
                                  and not args.auth_plaintext),
                authenticator=handler.authenticator,
                auth_exclude_mechanism=exclude,
                timeout=args.timeout,
                loop=loop)
        return make

    servers = []
    try:
        for host, port in args.listen:
            servers.append(await loop.create_server(
                factory(False, fmt_addr(host, port)), host=host, port=port,
                reuse_address=True))
        for host, port in args.implicit_listen:
            servers.append(await loop.create_server(
                factory(True, "implicit:" + fmt_addr(host, port)), host=host, port=port,
                ssl=ctx, reuse_address=True))
        # Unix-domain sockets (issue 15: cfg.socket_path): a stale socket file
        # from an earlier run is replaced; the file is removed at exit.
        for path in args.unix:
            servers.append(await loop.create_unix_server(
                factory(False, "unix:" + path), path=path))
        for path in args.implicit_unix:
            servers.append(await loop.create_unix_server(
                factory(True, "implicit-unix:" + path), path=path, ssl=ctx))
    except OSError as e:
        sys.exit(f"aiosmtpd_server: cannot listen: {e}")

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    with open(os.path.join(args.spool, "ready"), "w") as f:
        f.write(f"{os.getpid()}\n")
    print("READY", flush=True)
    log.info("listening")

    await stop.wait()
    try:
        os.unlink(os.path.join(args.spool, "ready"))
    except FileNotFoundError:
        pass
    for s in servers:
        s.close()
    for path in args.unix + args.implicit_unix:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    # Drop open client connections too (asyncio.run cancels their tasks).
    for s in servers:
        try:
            await asyncio.wait_for(s.wait_closed(), 0.5)
        except asyncio.TimeoutError:
            pass


def cli():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--listen", action="append", type=parse_hostport, default=[],
                   metavar="HOST:PORT", help="plain SMTP (+STARTTLS if a cert is given)")
    p.add_argument("--implicit-listen", action="append", type=parse_hostport,
                   default=[], metavar="HOST:PORT", help="implicit TLS (smtps)")
    p.add_argument("--unix", action="append", default=[], metavar="PATH",
                   help="plain SMTP (+STARTTLS if a cert is given) on a Unix-domain socket")
    p.add_argument("--implicit-unix", action="append", default=[], metavar="PATH",
                   help="implicit TLS on a Unix-domain socket")
    p.add_argument("--spool", required=True)
    p.add_argument("--max-rcpt", type=int, default=None)
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--tls-client-ca", metavar="CAFILE",
                   help="require a client certificate signed by CAFILE (both TLS kinds)")
    p.add_argument("--tls-min", choices=sorted(TLS_VERSIONS), metavar="VER",
                   help="lowest TLS version accepted: 1.0, 1.1, 1.2 or 1.3")
    p.add_argument("--tls-max", choices=sorted(TLS_VERSIONS), metavar="VER",
                   help="highest TLS version accepted: 1.0, 1.1, 1.2 or 1.3")
    p.add_argument("--auth-user")
    p.add_argument("--auth-pass")
    p.add_argument("--oauth-token", metavar="TOKEN",
                   help="offer XOAUTH2 and OAUTHBEARER; this bearer token (and "
                        "--auth-user, if given) authenticates")
    p.add_argument("--oauth-token-file", metavar="FILE",
                   help="like --oauth-token, but the accepted token is FILE's content "
                        "(white space stripped), read again at every AUTH; a missing or "
                        "empty file accepts no token")
    p.add_argument("--oauth-close-on-failure", action="store_true",
                   help="close the connection after the 535 to a refused bearer token")
    p.add_argument("--auth-mechs", metavar="LIST",
                   help="comma-separated mechanisms to offer, in this EHLO order "
                        "(e.g. PLAIN,LOGIN); the others get 504")
    p.add_argument("--auth-plaintext", action="store_true",
                   help="offer AUTH on the plain listener before STARTTLS")
    p.add_argument("--auth-required", action="store_true",
                   help="530 to MAIL/RCPT/DATA until authenticated")
    p.add_argument("--require-starttls", action="store_true",
                   help="530 to commands other than EHLO/NOOP/QUIT/STARTTLS before TLS")
    p.add_argument("--no-dsn", action="store_true",
                   help="do not advertise DSN nor accept RET/ENVID/NOTIFY/ORCPT")
    p.add_argument("--size-limit", type=int, default=None,
                   help="advertise and enforce SIZE (bytes); default: no limit")
    p.add_argument("--no-smtputf8", action="store_true",
                   help="do not offer SMTPUTF8")
    p.add_argument("--pipelining", action="store_true",
                   help="advertise PIPELINING (aiosmtpd copes with it but does not say so)")
    p.add_argument("--timeout", type=float, default=300,
                   help="idle timeout per connection, seconds (default 300)")
    p.add_argument("--line-length-limit", type=int, default=None,
                   help="longest line accepted, CRLF included (aiosmtpd's default: 1001); "
                        "raise it to receive bodies with very long lines")
    p.add_argument("--verbose", action="store_true")
    args = p.parse_args()
    if not (args.listen or args.implicit_listen or args.unix or args.implicit_unix):
        p.error("need at least one --listen, --implicit-listen, --unix or --implicit-unix")
    if bool(args.tls_cert) != bool(args.tls_key):
        p.error("--tls-cert and --tls-key go together")
    if (args.tls_client_ca or args.tls_min or args.tls_max) and not args.tls_cert:
        p.error("--tls-client-ca, --tls-min and --tls-max need --tls-cert and --tls-key")
    if (args.tls_min and args.tls_max
            and TLS_VERSIONS[args.tls_min] > TLS_VERSIONS[args.tls_max]):
        p.error("--tls-min is above --tls-max")
    if args.oauth_token is not None and args.oauth_token_file is not None:
        p.error("--oauth-token and --oauth-token-file exclude each other")
    if (args.auth_user is None) != (args.auth_pass is None):
        p.error("--auth-user and --auth-pass go together")
    if args.oauth_token is not None and (not args.oauth_token
                                         or any(c in args.oauth_token for c in "\x01 \r\n")):
        p.error("--oauth-token must be non-empty, without spaces or control characters")
    # Mechanisms: PLAIN LOGIN CRAM-MD5 need --auth-user/--auth-pass,
    # XOAUTH2 OAUTHBEARER --oauth-token. Without --auth-mechs every usable
    # one is offered (sorted, as aiosmtpd does); PLAIN and LOGIN stay
    # implemented (535) even when unusable, as before.
    usable = ((PASSWORD_MECHS if args.auth_user is not None else ())
              + (TOKEN_MECHS if args.oauth_token is not None
                 or args.oauth_token_file is not None else ()))
    if args.auth_mechs is not None:
        offered = []
        for m in args.auth_mechs.upper().split(","):
            m = m.strip()
            if not m or m in offered:
                continue
            if m not in ALL_MECHS:
                p.error(f"--auth-mechs: unknown mechanism {m!r} "
                        f"(known: {','.join(ALL_MECHS)})")
            if m not in usable:
                p.error(f"--auth-mechs: {m} needs "
                        + ("--oauth-token" if m in TOKEN_MECHS
                           else "--auth-user and --auth-pass"))
            offered.append(m)
        if not offered:
            p.error("--auth-mechs: no mechanism given")
        args.exclude = [m for m in ALL_MECHS if m not in offered]
    else:
        offered = sorted(usable)
        args.exclude = [m for m in ALL_MECHS
                        if m not in usable and m not in ("PLAIN", "LOGIN")]
    args.offered = offered
    if offered and not args.tls_cert:
        args.auth_plaintext = True       # otherwise AUTH could never be offered
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
