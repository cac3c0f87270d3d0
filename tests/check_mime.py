#!/usr/bin/python3
"""check_mime.py MESSAGE SPEC.json

Parses a delivered message with Python's email package (the default
policy, as a mail reader would) and compares it with what was sent:
SPEC = {"subject": str, "text": str, "html": str or null,
        "attachments": [{"filename": str, "file": path, "inline": bool}]}.
Every part must be there: the decoded subject, the text and HTML
(line ends aside), each attachment's filename and exact bytes, and no
line over 998 octets. Exit 0 when all hold."""
import email
import email.policy
import json
import re
import sys

raw = open(sys.argv[1], "rb").read()
spec = json.load(open(sys.argv[2]))
problems = []
for i, line in enumerate(re.split(rb"\r?\n", raw)):
    if len(line) > 998:
        problems.append(f"line {i + 1}: {len(line)} octets")
msg = email.message_from_bytes(raw, policy=email.policy.default)
if str(msg["subject"]) != spec["subject"]:
    problems.append(f"subject {str(msg['subject'])!r}")

def norm(t):
    return t.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")

plain = msg.get_body(("plain",))
if plain is None or norm(plain.get_content()) != norm(spec["text"]):
    problems.append("text part differs or is missing")
if spec.get("html") is not None:
    html = msg.get_body(("html",))
    if html is None or norm(html.get_content()) != norm(spec["html"]):
        problems.append("html part differs or is missing")
parts = {}
for part in msg.walk():
    if part.get_filename():
        parts[part.get_filename()] = part
for a in spec["attachments"]:
    p = parts.get(a["filename"])
    if p is None:
        problems.append(f"no part named {a['filename']!r} (have {list(parts)})")
        continue
    want = open(a["file"], "rb").read()
    got = p.get_payload(decode=True)
    if got != want:
        problems.append(f"{a['filename']!r}: {len(got)} bytes, want {len(want)} (first difference at "
                        f"{next((i for i, (x, y) in enumerate(zip(got, want)) if x != y), min(len(got), len(want)))})")
    if a.get("inline") and p.get_content_disposition() != "inline":
        problems.append(f"{a['filename']!r} is not inline")
for p in problems:
    print("  check_mime:", p)
sys.exit(1 if problems else 0)
