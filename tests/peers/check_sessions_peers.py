#!/usr/bin/python3
"""Checks the peers of issue 16 (tests/sessions.c) with Python's own SMTP and
LMTP clients and raw sockets, so that a peer bug is not taken for a library
bug. Run by tests/peers/check_sessions_peers.sh, which starts the peers
(the ports and files of tests/run-integration.sh come in the environment).
Prints one line per check; exits 1 if any failed."""

import base64
import glob
import json
import os
import smtplib
import socket
import sys
import time

RUNDIR = os.environ["RUNDIR"]
HOSTILE = int(os.environ.get("HOSTILE_BASE", "24600"))
FAILED = []
STAMP = str(time.time())


def check(what, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + what + ("" if cond else "   " + str(detail)))
    if not cond:
        FAILED.append(what)


def port(name, default):
    return int(os.environ.get(name, default))


class Raw:
    """A line-oriented client on a raw socket: replies exactly as sent."""

    def __init__(self, p):
        self.s = socket.create_connection(("127.0.0.1", p), timeout=30)
        self.f = self.s.makefile("rb")

    def reply(self):
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                return lines or None
            lines.append(line.decode().rstrip("\r\n"))
            if line[3:4] != b"-":
                return lines

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()

    def rest(self):
        """Everything until EOF (None if the peer reset)."""
        out = b""
        try:
            while True:
                d = self.s.recv(4096)
                if not d:
                    return out
                out += d
        except OSError:
            return None


def jsonl(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def wait_for(pred, secs=30):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    return pred()


# ---- Dovecot LMTP ----------------------------------------------------------
def dovecot_lmtp():
    p = port("DOVECOT_LMTP_PORT", 24730)
    mail = os.path.join(RUNDIR, "dovecot", "mail")
    marker = "lmtp-check-" + STAMP
    c = Raw(p)
    check("lmtp: greeting 220", c.reply()[0].startswith("220 "))
    lhlo = c.cmd("LHLO client.test")
    check("lmtp: LHLO 250 with PIPELINING", lhlo[-1].startswith("250 ") and any("PIPELINING" in l for l in lhlo), lhlo)
    ehlo = Raw(p)
    ehlo.reply()
    r = ehlo.cmd("EHLO client.test")
    check("lmtp: EHLO is refused (LMTP wants LHLO)", r[0][:1] == "5", r)
    check("lmtp: MAIL 250", c.cmd("MAIL FROM:<alice@example.com>")[0].startswith("250 "))
    rc = {}
    for u in ("anna@lmtp.test", "nobody@lmtp.test", "bert@example.org", "carl@lmtp.test"):
        rc[u] = c.cmd("RCPT TO:<%s>" % u)[0]
    check("lmtp: RCPT anna 250", rc["anna@lmtp.test"].startswith("250 2.1.5"), rc)
    check("lmtp: RCPT bert (another domain) 250", rc["bert@example.org"].startswith("250 2.1.5"), rc)
    check("lmtp: RCPT carl 250 (quota is checked after data)", rc["carl@lmtp.test"].startswith("250 2.1.5"), rc)
    check("lmtp: RCPT unknown mailbox 550 5.1.1", rc["nobody@lmtp.test"].startswith("550 5.1.1 <nobody@lmtp.test>"), rc)
    check("lmtp: DATA 354", c.cmd("DATA")[0].startswith("354"))
    body = ("From: alice@example.com\r\nSubject: %s\r\n\r\n" % marker) + ("x" * 70 + "\r\n") * 170   # 12 KB
    c.s.sendall(body.encode() + b".\r\n")
    finals = [c.reply() for _ in range(3)]
    flat = [f[0] if f else None for f in finals]
    check("lmtp: one reply per accepted recipient, in RCPT order: anna 250",
          flat[0] and flat[0].startswith("250 2.0.0 <anna@lmtp.test>"), flat)
    check("lmtp: bert 250", flat[1] and flat[1].startswith("250 2.0.0 <bert@example.org>"), flat)
    check("lmtp: carl 552 5.2.2 over quota", flat[2] and flat[2].startswith("552 5.2.2 <carl@lmtp.test>"), flat)
    check("lmtp: QUIT 221", c.cmd("QUIT")[0].startswith("221"))

    def holds(user):
        n = 0
        for f in glob.glob(os.path.join(mail, user, "new", "*")) + glob.glob(os.path.join(mail, user, "cur", "*")):
            with open(f, errors="replace") as fh:
                n += marker in fh.read()
        return n
    check("lmtp: anna's maildir holds it once", wait_for(lambda: holds("anna") == 1, 10), holds("anna"))
    check("lmtp: bert's maildir holds it once", holds("bert") == 1, holds("bert"))
    check("lmtp: carl's maildir does not", holds("carl") == 0, holds("carl"))
    # a message small enough for carl's quota (8 KB) goes in
    small = Raw(p)
    small.reply()
    small.cmd("LHLO client.test")
    small.cmd("MAIL FROM:<alice@example.com>")
    small.cmd("RCPT TO:<carl@lmtp.test>")
    small.cmd("DATA")
    small.s.sendall(("Subject: small %s\r\n\r\nsmall\r\n.\r\n" % marker).encode())
    r = small.reply()
    check("lmtp: a small message fits carl's quota", r and r[0].startswith("250 2.0.0 <carl@lmtp.test>"), r)
    # Python's LMTP client (it reads one reply after the data, for the first recipient)
    lm = smtplib.LMTP("127.0.0.1", p)
    try:
        refused = lm.sendmail("alice@example.com", ["anna@lmtp.test", "nobody@lmtp.test"],
                              "Subject: smtplib %s\r\n\r\nvia smtplib.LMTP\r\n" % marker)
        check("smtplib.LMTP: the unknown mailbox is refused, anna accepted",
              list(refused) == ["nobody@lmtp.test"] and refused["nobody@lmtp.test"][0] == 550, refused)
    finally:
        lm.quit()


# ---- Postfix with smtpd_timeout=3s -----------------------------------------
def postfix_short():
    p = port("PF_SHORT", 24731)
    c = Raw(p)
    c.reply()
    c.cmd("EHLO client.test")
    t = time.monotonic()
    rest = c.rest()
    took = time.monotonic() - t
    check("postfix PF_SHORT: idle 3 s, then '421 4.4.2 ... timeout exceeded' and a close",
          rest is not None and rest.startswith(b"421 4.4.2 ") and b"timeout exceeded" in rest, rest)
    check("postfix PF_SHORT: after about 3 s", 2.5 <= took <= 10, took)
    s = smtplib.SMTP("127.0.0.1", p)
    s.ehlo("client.test")
    time.sleep(4)
    try:
        s.sendmail("alice@example.com", ["bob@example.com"], "Subject: idle\r\n\r\nafter idle\r\n")
        got = None
    except smtplib.SMTPSenderRefused as e:
        got = e.smtp_code
    except smtplib.SMTPServerDisconnected:
        got = "disconnected"
    check("postfix PF_SHORT: smtplib's MAIL after the idle reads the waiting 421", got == 421, got)
    marker = "pf-short-" + STAMP
    s = smtplib.SMTP("127.0.0.1", p)
    s.sendmail("alice@example.com", ["bob@example.com"], "Subject: %s\r\n\r\nquick\r\n" % marker)
    s.quit()

    def found():
        for f in glob.glob(os.path.join(RUNDIR, "postfix", "mail", "*.eml")):
            with open(f, errors="replace") as fh:
                if marker in fh.read():
                    return True
        return False
    check("postfix PF_SHORT: a prompt session delivers", wait_for(found, 30))


# ---- hostile.py 23 and 24 --------------------------------------------------
def hostile():
    msgs = os.path.join(RUNDIR, "hostile", "mail421_after_2.messages")
    before = len(jsonl(msgs))
    s = smtplib.SMTP("127.0.0.1", HOSTILE + 23)
    s.ehlo("client.test")
    codes = []
    for i in range(3):
        try:
            s.sendmail("a@example.com", ["b@example.com"], "Subject: m421 %d %s\r\n\r\nx\r\n" % (i, STAMP))
            codes.append(250)
        except smtplib.SMTPSenderRefused as e:
            codes.append(e.smtp_code)
        except smtplib.SMTPServerDisconnected:
            codes.append("disconnected")
    check("hostile 23: two messages, then 421 at MAIL FROM", codes == [250, 250, 421], codes)
    new = jsonl(msgs)[before:]
    check("hostile 23: both recorded, on one connection, numbered 1 and 2",
          len(new) == 2 and new[0]["conn"] == new[1]["conn"] and [m["msg"] for m in new] == [1, 2]
          and new[1]["subject"] == "m421 1 " + STAMP, new)
    msgs = os.path.join(RUNDIR, "hostile", "vanish_after_data.messages")
    before = len(jsonl(msgs))
    s = smtplib.SMTP("127.0.0.1", HOSTILE + 24)
    s.ehlo("client.test")
    s.sendmail("a@example.com", ["b@example.com"], "Subject: kept %s\r\n\r\nx\r\n" % STAMP)
    try:
        s.sendmail("a@example.com", ["b@example.com"], "Subject: vanish %s\r\n\r\nx\r\n" % STAMP)
        got = 250
    except smtplib.SMTPServerDisconnected:
        got = "disconnected"
    check("hostile 24: a 'vanish' message gets no reply, the connection closes", got == "disconnected", got)
    new = jsonl(msgs)[before:]
    check("hostile 24: both recorded, the vanished one with replied false",
          [(m["subject"], m["replied"]) for m in new] == [("kept " + STAMP, True), ("vanish " + STAMP, False)], new)


# ---- aiosmtpd: tokens from a file, connections.log, idle close ------------
def xoauth2(user, token):
    return base64.b64encode(b"user=%s\x01auth=Bearer %s\x01\x01" % (user, token)).decode()


def oauthbearer(user, token):
    return base64.b64encode(b"n,a=%s,\x01auth=Bearer %s\x01\x01" % (user, token)).decode()


def aiosmtpd():
    tf = os.environ["OAUTH_TOKEN_FILE"]
    p = port("AIOTOKEN_PORT", 24732)
    log = os.path.join(RUNDIR, "aiotoken", "auth-attempts.log")
    before = len(jsonl(log))
    with open(tf, "w") as f:
        f.write("tok-A\n")
    c = Raw(p)
    c.reply()
    e = c.cmd("EHLO client.test")
    check("aiotoken: AUTH OAUTHBEARER XOAUTH2 offered in cleartext", "250-AUTH OAUTHBEARER XOAUTH2" in e, e)
    r = c.cmd("AUTH XOAUTH2 " + xoauth2(b"alice", b"tok-B"))
    check("aiotoken: a wrong token gets the 334 JSON error", r[0].startswith("334 "), r)
    r = c.cmd("")
    check("aiotoken: then 535", r[0].startswith("535 "), r)
    r = c.cmd("AUTH XOAUTH2 " + xoauth2(b"alice", b"tok-A"))
    check("aiotoken: the file's token is accepted (same connection)", r[0].startswith("235 "), r)
    c.cmd("QUIT")
    with open(tf, "w") as f:
        f.write("tok-C\n")
    c = Raw(p)
    c.reply()
    c.cmd("EHLO client.test")
    r = c.cmd("AUTH OAUTHBEARER " + oauthbearer(b"alice", b"tok-A"))
    r2 = c.cmd("AQ==")
    check("aiotoken: after the file changed, the old token is refused (OAUTHBEARER 334, 535)",
          r[0].startswith("334 ") and r2[0].startswith("535 "), (r, r2))
    r = c.cmd("AUTH OAUTHBEARER " + oauthbearer(b"alice", b"tok-C"))
    check("aiotoken: the new one accepted", r[0].startswith("235 "), r)
    c.cmd("QUIT")
    att = jsonl(log)[before:]
    check("aiotoken: auth-attempts.log has the 4 attempts, their tokens and outcomes",
          [(a["mech"], a["token"], a["ok"]) for a in att] ==
          [("XOAUTH2", "tok-B", False), ("XOAUTH2", "tok-A", True),
           ("OAUTHBEARER", "tok-A", False), ("OAUTHBEARER", "tok-C", True)], att)
    # the closing variant
    p = port("AIOTOKEN_CLOSE_PORT", 24733)
    c = Raw(p)
    c.reply()
    c.cmd("EHLO client.test")
    r = c.cmd("AUTH XOAUTH2 " + xoauth2(b"alice", b"tok-A"))
    r2 = c.cmd("")
    rest = c.rest()
    check("aiotokenclose: a refused token gets 535, then the connection closes",
          r[0].startswith("334") and r2 and r2[0].startswith("535 ") and rest == b"", (r, r2, rest))
    c = Raw(p)
    c.reply()
    c.cmd("EHLO client.test")
    r = c.cmd("AUTH XOAUTH2 " + xoauth2(b"alice", b"tok-C"))
    check("aiotokenclose: a good token on a new connection: 235", r[0].startswith("235 "), r)
    c.cmd("QUIT")
    # connections.log
    p = port("AIOCOUNT_PORT", 24734)
    log = os.path.join(RUNDIR, "aiocount", "connections.log")
    before = [x for x in jsonl(log) if x["event"] == "open"]
    for i in range(3):
        s = smtplib.SMTP("127.0.0.1", p)
        s.sendmail("a@example.com", ["b@example.com"], "Subject: count %d\r\n\r\nx\r\n" % i)
        s.quit()
    opened = wait_for(lambda: len([x for x in jsonl(log) if x["event"] == "open"]) - len(before) >= 3 and
                      len([x for x in jsonl(log) if x["event"] == "open"]) - len(before), 5)
    check("aiocount: connections.log: 3 connections opened", opened == 3, opened)
    # aioidle: silent close after 2 s
    c = Raw(port("AIOIDLE_PORT", 24735))
    c.reply()
    c.cmd("EHLO client.test")
    t = time.monotonic()
    rest = c.rest()
    took = time.monotonic() - t
    check("aioidle: idle 2 s, then a close without a reply", rest == b"" and 1.5 <= took <= 10, (rest, took))


for f in (dovecot_lmtp, postfix_short, hostile, aiosmtpd):
    try:
        f()
    except Exception as e:      # a peer that is not there at all
        check(f.__name__ + " ran", False, repr(e))
print("%d failed" % len(FAILED))
sys.exit(1 if FAILED else 0)
