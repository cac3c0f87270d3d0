#!/usr/bin/python3
"""tests/peers/aiosmtpd_server.py with a few more behaviours for the smtp-send tests.

Same options and spool as aiosmtpd_server.py, plus:
  --no-8bitmime      do not advertise 8BITMIME (nor SMTPUTF8, which implies it)
Always on here:
  RCPT to a local part starting with "tempfail"  -> 450 4.2.0 (try later)
  end of data when a recipient starts "datafail" -> 451 4.3.0 (nothing stored)
  end of data when a recipient starts "datarefuse" -> 554 5.6.0 (nothing stored)
  AUTH with the password "tempfail"              -> 454 4.7.0
Run with Debian's /usr/bin/python3.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "peers"))
import aiosmtpd_server as base  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

NO_8BITMIME = "--no-8bitmime" in sys.argv
if NO_8BITMIME:
    sys.argv.remove("--no-8bitmime")

orig_ehlo = base.Handler.handle_EHLO
orig_rcpt = base.Handler.handle_RCPT
orig_data = base.Handler.handle_DATA
orig_auth = base.Handler.authenticator


async def handle_EHLO(self, server, session, envelope, hostname, responses):
    out = await orig_ehlo(self, server, session, envelope, hostname, responses)
    if NO_8BITMIME:
        out = [r for r in out if r[4:] not in ("8BITMIME", "SMTPUTF8")]
    return out


async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
    local = address.rpartition("@")[0] if "@" in address else address
    if local.lower().startswith("tempfail"):
        return f"450 4.2.0 <{address}>: mailbox busy, try again later"
    return await orig_rcpt(self, server, session, envelope, address, rcpt_options)


async def handle_DATA(self, server, session, envelope):
    for r in envelope.rcpt_tos:
        if r.lower().startswith("datafail"):
            return "451 4.3.0 Local error in processing, try again later"
        if r.lower().startswith("datarefuse"):
            return "554 5.6.0 Message content refused"
    return await orig_data(self, server, session, envelope)


def authenticator(self, server, session, envelope, mechanism, auth_data):
    if isinstance(auth_data, LoginPassword) and auth_data.password == b"tempfail":
        return AuthResult(success=False, handled=False,
                          message="454 4.7.0 Temporary authentication failure")
    return orig_auth(self, server, session, envelope, mechanism, auth_data)


base.Handler.handle_EHLO = handle_EHLO
base.Handler.handle_RCPT = handle_RCPT
base.Handler.handle_DATA = handle_DATA
base.Handler.authenticator = authenticator

if __name__ == "__main__":
    base.cli()
