#!/usr/bin/python3
"""check_message.py MESSAGE_FILE EXPECTED_TEXT_FILE

Parses a message as a mail reader would (Python's email package, the
default policy) and checks what smtp.h's composer promises:
  - no line over 998 octets (RFC 5322 2.1.1);
  - the Subject, decoded, equals $CHECK_SUBJECT;
  - no Bcc header and no bcc address in the headers;
  - the text part, decoded, equals the expected text, line ends aside
    (CRLF, CR, LF all count as one line end; the writer ends the last line).
Exits 0 when all hold, 1 with the reasons otherwise."""
import email
import email.policy
import os
import re
import sys

raw = open(sys.argv[1], "rb").read()
expected = open(sys.argv[2], "rb").read().decode("utf-8")
problems = []

for i, line in enumerate(re.split(rb"\r?\n", raw)):
    if len(line) > 998:
        problems.append(f"line {i + 1} has {len(line)} octets")

msg = email.message_from_bytes(raw, policy=email.policy.default)
want_subject = os.environ.get("CHECK_SUBJECT")
if want_subject is not None and str(msg["subject"]) != want_subject:
    problems.append(f"subject {str(msg['subject'])!r} != {want_subject!r}")
if msg["bcc"] is not None:
    problems.append("a Bcc header is present")
head = raw.split(b"\n\n", 1)[0] if b"\r\n\r\n" not in raw else raw.split(b"\r\n\r\n", 1)[0]
if b"hidden@" in head:
    problems.append("a bcc address is in the headers")
if msg.get_content_type() != "text/plain" or msg.get_content_charset() != "utf-8":
    problems.append(f"content type {msg.get_content_type()} charset {msg.get_content_charset()}")

def norm(t):
    return t.replace("\r\n", "\n").replace("\r", "\n")

got = norm(msg.get_content())
want = norm(expected)
if not want.endswith("\n"):
    want += "\n"
if got != want:
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            break
    else:
        i = min(len(got), len(want))
    problems.append(f"text differs at {i}: got {got[max(0, i - 20):i + 20]!r}, "
                    f"want {want[max(0, i - 20):i + 20]!r} (lengths {len(got)}, {len(want)})")

for p in problems:
    print("  check_message:", p)
sys.exit(1 if problems else 0)
