#!/usr/bin/python3
"""security_parse.py - reads one message (RFC 5322, CRLF or LF) on stdin
and prints what a real mail reader makes of it, for tests/security.c.
Python's own parser (email.policy.default: the RFC 5322 header registry,
quoted strings, quoted-pairs, RFC 2047 words, MIME) is the reader.

  security_parse.py addrs   one line per address of From, Sender, To, Cc,
                            Reply-To:  ADDR <header> <hex addr_spec> <hex display name>
                            (hex of the UTF-8 bytes; "-" for an empty field)
  security_parse.py mime    one line per MIME part, depth first:
                            PART <depth> <content type> <hex boundary or -> <hex Content-ID or -> <hex decoded payload or ->
                            and one line per declared parameter of its Content-Type:
                            PARAM <hex name> <hex value>
Both modes end with DEFECT <where> <name> lines for every defect the parser
recorded, then END. Exit status 0 unless the input could not be read.

  security_parse.py serve   many messages, one start-up: reads "MODE LENGTH\n"
                            and LENGTH bytes, answers as above, until EOF."""
import sys
import email
import email.policy
import email.utils


def hx(s):
    if s is None or s == "":
        return "-"
    if isinstance(s, str):
        s = s.encode("utf-8", "surrogateescape")
    return s.hex()


def analyse(mode, raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    out = []
    defects = [("message", type(d).__name__) for d in msg.defects]
    if mode == "addrs":
        for name in ("From", "Sender", "To", "Cc", "Reply-To"):
            for h in msg.get_all(name) or []:
                defects += [(name, type(d).__name__) for d in getattr(h, "defects", ())]
                for a in getattr(h, "addresses", ()):
                    out.append("ADDR %s %s %s" % (name, hx(a.addr_spec), hx(a.display_name)))
    else:
        def walk(part, depth):
            nonlocal defects
            defects += [("part%d" % depth, type(d).__name__) for d in part.defects]
            ctype = part.get_content_type()
            boundary = part.get_param("boundary") if part.is_multipart() else None
            cid = part.get("Content-ID")
            payload = None if part.is_multipart() else part.get_payload(decode=True)
            out.append("PART %d %s %s %s %s" % (depth, ctype, hx(boundary), hx(str(cid) if cid else None),
                                                  hx(payload)))
            for k, v in (part.get_params() or [])[1:]:
                out.append("PARAM %s %s" % (hx(k), hx(email.utils.collapse_rfc2231_value(v))))
            if part.is_multipart():
                for sub in part.get_payload():
                    walk(sub, depth + 1)
        walk(msg, 0)
    for where, name in defects:
        out.append("DEFECT %s %s" % (where, name))
    out.append("END")
    return "\n".join(out) + "\n"


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "addrs"
    if mode != "serve":
        sys.stdout.write(analyse(mode, sys.stdin.buffer.read()))
        return
    inp = sys.stdin.buffer
    while True:
        head = inp.readline()
        if not head:
            return
        what, n = head.split()
        raw = inp.read(int(n))
        try:
            sys.stdout.write(analyse(what.decode(), raw))
        except Exception as e:   # the reader gave up: say so, keep serving
            sys.stdout.write("ERROR %s: %s\nEND\n" % (type(e).__name__, str(e).replace("\n", " ")))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
