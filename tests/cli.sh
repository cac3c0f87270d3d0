#!/usr/bin/env bash
# cli.sh - examples/smtp-send against the real servers started by
# run-integration.sh (aiosmtpd, Postfix), side by side with msmtp itself.
# Sourced environment: RUNDIR, ports. Prints "N passed, N failed".
set -u
B=tests/.build
SEND=$B/smtp-send
PY=/usr/bin/python3
pass=0; failn=0
ok()   { pass=$((pass + 1)); [ "${TEST_VERBOSE:-}" = 1 ] && echo "ok   $1"; }
bad()  { failn=$((failn + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

last_msg() { ls "$RUNDIR/$1"/msg-*.json 2>/dev/null | sort | tail -1; }
count_msgs() { ls "$RUNDIR/$1"/msg-*.json 2>/dev/null | wc -l; }
# waits for the spool to hold N messages: 120 s at most (calm on a busy machine)
wait_count() { local end=$((SECONDS + 120)); while [ $SECONDS -lt $end ]; do [ "$(count_msgs "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

# a file both msmtp and smtp-send accept: defaults, two accounts, inheritance
cat > "$T/msmtprc" <<CONF
defaults
tls off
logfile $T/msmtp.log

account base
host 127.0.0.1
port $AIO_PORT
from alice@example.com

account work : base
domain client.test

account default : work
CONF
chmod 600 "$T/msmtprc"

cat > "$T/msg" <<'MSG'
From: Alice <alice@example.com>
To: Bob <bob@example.com>, carol@example.com
Cc: dave@example.com
Bcc: Eve <eve@example.com>
Subject: smtp-send -t
Date: Sat, 21 Nov 2026 10:00:00 +0000
Message-ID: <cli-test@example.com>

.a line with a leading dot
body
MSG

# -t: Bcc gets it, no copy carries the Bcc header
n0=$(count_msgs aiosmtpd)
$SEND -C "$T/msmtprc" -a work -t < "$T/msg"; rc=$?
check "smtp-send -t exits 0" [ $rc = 0 ]
wait_count aiosmtpd $((n0 + 1))
j=$(last_msg aiosmtpd); e=${j%.json}.eml
check "smtp-send -t: To, Cc and Bcc recipients" $PY -c '
import json, sys; d = json.load(open(sys.argv[1]))
sys.exit(0 if sorted(d["rcpt_tos"]) == ["bob@example.com", "carol@example.com", "dave@example.com", "eve@example.com"] else 1)' "$j"
check "smtp-send -t: no Bcc header in what the server got" bash -c "! grep -qi '^Bcc:' '$e' && ! grep -q 'Eve' '$e'"
check "smtp-send -t: HELO name from the inherited account" grep -q '"helo": "client.test"' "$j"
cp "$e" "$T/ours.eml"

# msmtp with the same file and the same command line: the same bytes arrive
n0=$(count_msgs aiosmtpd)
msmtp -C "$T/msmtprc" -a work -t < "$T/msg"; rc=$?
check "msmtp accepts the same file and command line" [ $rc = 0 ]
wait_count aiosmtpd $((n0 + 1))
j=$(last_msg aiosmtpd)
check "smtp-send and msmtp deliver the same message" cmp -s "$T/ours.eml" "${j%.json}.eml"

# -f and recipients as arguments, settings from long options only
n0=$(count_msgs aiosmtpd)
printf 'Subject: args\n\nhello\n' | $SEND --host 127.0.0.1 --port "$AIO_PORT" --security=none -f env@example.com x@example.com
check "smtp-send with long options" [ $? = 0 ]
wait_count aiosmtpd $((n0 + 1))
check "smtp-send -f sets the envelope sender" grep -q '"mail_from": "env@example.com"' "$(last_msg aiosmtpd)"

# --url with STARTTLS and CRAM-MD5 through Postfix; a wrong password is EX_NOPERM (77)
$SEND --url "smtp://alice:s3cret%20pass@localhost:$PF_SUBMISSION/client.test?auth=cram-md5&tls_trust_file=$RUNDIR/postfix/certs/ca.pem" \
      -f alice@example.com bob@example.net --subject "via URL" --body "cram through postfix" </dev/null
check "smtp-send --url STARTTLS + CRAM-MD5 to Postfix" [ $? = 0 ]
$SEND --url "smtp://alice:wrong@localhost:$PF_SUBMISSION?tls_trust_file=$RUNDIR/postfix/certs/ca.pem" \
      -f alice@example.com bob@example.net --subject x --body y </dev/null 2>"$T/err"
rc=$?
check "a wrong password exits 77 (EX_NOPERM)" [ $rc = 77 ]
check "... and says why" grep -q "535" "$T/err"
# a bad config file: EX_CONFIG (78), naming file and line
printf 'account default\nport 99999\n' > "$T/bad"; chmod 600 "$T/bad"
$SEND -C "$T/bad" x@example.com </dev/null 2>"$T/err"; rc=$?
check "a bad config exits 78 (EX_CONFIG)" [ $rc = 78 ]
check "... naming file and line" grep -q "$T/bad:2: port" "$T/err"
$SEND --frobnicate 1 2>/dev/null; rc=$?
check "an unknown option exits 64 (EX_USAGE)" [ $rc = 64 ]
$SEND --help | grep -q "Exit status"
check "--help" [ $? = 0 ]
# -v shows the conversation, never the password
$SEND -v --url "smtp://alice:s3cret%20pass@localhost:$PF_SUBMISSION?tls_trust_file=$RUNDIR/postfix/certs/ca.pem" \
      -f alice@example.com bob@example.net --subject v --body v </dev/null 2>"$T/verbose"
check "-v prints the conversation" grep -q -- "--> AUTH PLAIN <credentials>" "$T/verbose"
check "-v hides the password" bash -c "! grep -q 's3cret' '$T/verbose' && ! grep -q 'AGFsaWNl' '$T/verbose'"

# --serverinfo over STARTTLS (Postfix): the TLS lines, and every capability line msmtp prints
$SEND --url "smtp://localhost:$PF_SUBMISSION?tls_trust_file=$RUNDIR/postfix/certs/ca.pem" --serverinfo > "$T/info" 2>&1
check "--serverinfo over STARTTLS: TLS version, cipher suite, STARTTLS" \
    bash -c "grep -q '^TLS session parameters:' '$T/info' && grep -q '^    TLSv1.2, .* (STARTTLS)' '$T/info' && grep -qx '    STARTTLS:' '$T/info'"
check "... how the certificate was checked" grep -qx '        the chain leads to a trusted CA and the certificate names the host' "$T/info"
check "... AUTH after TLS (Postfix offers it only there)" grep -q '^        PLAIN .*LOGIN' "$T/info"
msmtp --host localhost --port "$PF_SUBMISSION" --tls=on --tls-starttls=on --tls-trust-file="$RUNDIR/postfix/certs/ca.pem" \
      --serverinfo > "$T/msmtp-info" 2>&1
check "... the certificate's SHA-256 fingerprint, as msmtp prints it" \
    bash -c "l=\$(grep -m1 '^        SHA256: ' '$T/msmtp-info') && [ -n \"\$l\" ] && grep -qxF \"\$l\" '$T/info'"
check "... its subject, issuer, validity, key and names" \
    bash -c "grep -qx '    Subject:' '$T/info' && grep -q '^        Activation time: 20[0-9-]* [0-9:]* UTC' '$T/info' && grep -q '^        DNS:' '$T/info' && grep -qE '^        (RSA|EC) ' '$T/info'"
check "... every line msmtp prints from Capabilities: on (its certificate lines aside)" \
    bash -c "[ -z \"\$(sed -n '/^Capabilities:/,\$p' '$T/msmtp-info' | grep -v 'SCRAM\|GSSAPI\|DIGEST\|NTLM\|EXTERNAL' | grep -vxFf '$T/info')\" ]"

# --attach: a multipart message whose attachment decodes to the file's bytes
head -c 100000 /dev/urandom > "$T/blob.bin"
n0=$(count_msgs aiosmtpd)
$SEND --host 127.0.0.1 --port "$AIO_PORT" --security=none -f alice@example.com bob@example.com \
      --subject "with a file" --body "see attached" --attach "$T/blob.bin" </dev/null
check "smtp-send --attach exits 0" [ $? = 0 ]
wait_count aiosmtpd $((n0 + 1))
j=$(last_msg aiosmtpd)
check "the attachment arrives intact (Python's email parser)" $PY -c '
import email, email.policy, sys
m = email.message_from_bytes(open(sys.argv[1], "rb").read(), policy=email.policy.default)
parts = list(m.iter_attachments())
ok = len(parts) == 1 and parts[0].get_filename() == "blob.bin" and parts[0].get_content() == open(sys.argv[2], "rb").read()
ok = ok and m.get_body(("plain",)).get_content().strip() == "see attached"
sys.exit(0 if ok else 1)' "${j%.json}.eml" "$T/blob.bin"

echo "$pass passed, $failn failed"
[ $failn = 0 ]
