"""smtplib_client.py - the Python side of `make bench` (tests/bench/run.sh).

One smtplib connection, N x sendmail() of the same message file (CRLF
line ends, as smtp.h put it on the wire), then QUIT. Run with Debian's
/usr/bin/python3.

usage: smtplib_client.py HOST PORT N MESSAGE_FILE [CA_FILE]
  with CA_FILE: implicit TLS (SMTP_SSL), the server verified against it
"""
import smtplib
import ssl
import sys


def main():
    host, port, n, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    ca = sys.argv[5] if len(sys.argv) > 5 else None
    with open(path, 'rb') as f:
        msg = f.read()
    if ca:
        ctx = ssl.create_default_context(cafile=ca)
        s = smtplib.SMTP_SSL(host, port, local_hostname='bench.example.com', context=ctx)
    else:
        s = smtplib.SMTP(host, port, local_hostname='bench.example.com')
    for _ in range(n):
        refused = s.sendmail('bench@example.com', ['sink@example.com'], msg)
        if refused:
            sys.exit('refused: %r' % (refused,))
    s.quit()


if __name__ == '__main__':
    main()
