#!/usr/bin/python3
"""winstep_spool.py SPOOL OUT: every message tests/ports/winstep.c says it
sent (its lines "sent tls|clear SUBJECT" in OUT) is in aiosmtpd's SPOOL
exactly once: from winstep@ports.test, to rcpt@ports.test alone, with that
Subject, over TLS or not as said, its body intact (winstep.c's make_text:
"SUBJECT: N lines", then N numbered lines); and the spool holds nothing
else from winstep@ports.test. Last line printed: "ok (...)" or what was
wrong."""
import collections, email, glob, json, sys

FROM, TO = "winstep@ports.test", ["rcpt@ports.test"]
PAD = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWX"


def body_ok(subj, msg):
    """The text as make_text wrote it (line ends aside); its line count."""
    lines = msg.get_payload(decode=True).decode("ascii").replace("\r\n", "\n").split("\n")
    head = subj + ": "
    if not lines or not lines[0].startswith(head) or not lines[0].endswith(" lines"):
        return None
    n = int(lines[0][len(head):-len(" lines")])
    want = ["line %06d %s" % (i, PAD) for i in range(n)]
    return n if lines[1:] in (want, want + [""]) else None


spool, out = sys.argv[1:]
sent = {}
for line in open(out, encoding="utf-8", errors="replace"):
    w = line.rstrip("\r\n").split(" ", 2)
    if len(w) == 3 and w[0] == "sent" and w[1] in ("tls", "clear"):
        if w[2] in sent:
            print("WRONG: winstep.exe reports", w[2], "sent twice")
            sys.exit(1)
        sent[w[2]] = w[1] == "tls"
got = collections.defaultdict(list)     # Subject -> [(json path, over TLS, body_ok)]
for j in sorted(glob.glob(spool + "/msg-*.json")):
    m = json.load(open(j))
    if m["mail_from"] != FROM:
        continue
    msg = email.message_from_bytes(open(j[:-5] + ".eml", "rb").read())
    if m["rcpt_tos"] != TO or FROM not in msg["From"]:
        print("WRONG: envelope or From in", j)
        sys.exit(1)
    got[msg["Subject"]].append((j, m["tls"] is not None, body_ok(msg["Subject"], msg)))
bad = []
big = 0
for subj, tls in sorted(sent.items()):
    if len(got[subj]) != 1:
        bad.append("%s: %d times in the spool" % (subj, len(got[subj])))
    elif got[subj][0][2] is None:
        bad.append("%s: the body is not what was sent (%s)" % (subj, got[subj][0][0][:-5] + ".eml"))
    elif got[subj][0][1] != tls:
        bad.append("%s: %s, said %s (%s)" % (subj, "TLS" if got[subj][0][1] else "cleartext",
                                             "TLS" if tls else "cleartext", got[subj][0][0]))
    else:
        big += got[subj][0][2] > 100
for subj in sorted(set(got) - set(sent)):
    bad.append("%s: in the spool %d times, not reported sent" % (subj, len(got[subj])))
for b in bad[:20]:
    print(b)
if not sent:
    print("WRONG: no message reported sent in", out)
    sys.exit(1)
if bad:
    print("WRONG: %d of %d messages (first above)" % (len(bad), len(sent)))
    sys.exit(1)
print("ok (%d messages, each once in the spool and intact, %d over STARTTLS, %d of 2 MB)"
      % (len(sent), sum(sent.values()), big))
