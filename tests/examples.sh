#!/usr/bin/env bash
# examples.sh - every program in examples/ (but smtp-send: tests/cli.sh)
# against the real servers run-integration.sh started on loopback, each
# pointed there with its optional arguments (see the end of each example),
# and what the servers received read back: envelope, headers, TLS, login,
# peer address, proxy logs. The examples' hard-coded values are used as they
# stand where a local server can take them (hello, transcript, cleartext,
# bind-address: 127.0.0.1:2525, the "readme" server).
# Environment: RUNDIR, CERTS and the ports from run-integration.sh.
# Prints "examples: N passed, N failed"; exit 1 when any failed.
set -u
B=tests/.build
PY=/usr/bin/python3
PROXY_SOCKS5=${PROXY_SOCKS5:-24580} PROXY_HTTP=${PROXY_HTTP:-24584}
CA=$CERTS/ca.pem
pass=0; failn=0
ok()   { pass=$((pass + 1)); [ "${TEST_VERBOSE:-}" = 1 ] && echo "ok   $1"; }
bad()  { failn=$((failn + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

count_msgs() { ls "$RUNDIR/$1"/msg-*.json 2>/dev/null | wc -l; }
last_json() { ls "$RUNDIR/$1"/msg-*.json 2>/dev/null | sort | tail -1; }
# waits for spool $1 to hold $2 messages: 120 s at most (a busy machine)
wait_count() { local end=$((SECONDS + 120)); while [ $SECONDS -lt $end ]; do [ "$(count_msgs "$1")" -ge "$2" ] && return 0; sleep 0.05; done; return 1; }
# jcheck SPOOL PYTHON-EXPR: the expression holds for the newest message of SPOOL
# (d: its .json as a dict, eml: its bytes); on failure both are shown
jcheck() {
    local j; j=$(last_json "$1")
    [ -n "$j" ] || { echo "  no message in $RUNDIR/$1"; return 1; }
    $PY - "$j" "$2" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
eml = open(sys.argv[1][:-5] + ".eml", "rb").read()
if not eval(sys.argv[2]):
    print("  expected:", sys.argv[2]); print("  json:", json.dumps(d)); print("  eml head:", eml[:400])
    sys.exit(1)
PYEOF
}
# run NAME EXPECTED-EXIT CMD...: runs it, stdout+stderr in $T/NAME.out; checks the exit status
run() {
    local name=$1 want=$2 rc; shift 2
    "$@" >"$T/$name.out" 2>&1; rc=$?
    if [ "$rc" = "$want" ]; then ok "$name exits $want"; else bad "$name exits $rc, not $want"; sed 's/^/  | /' "$T/$name.out"; fi
}
says() { grep -q -- "$2" "$T/$1.out" || { echo "  $1 did not print '$2':"; sed 's/^/  | /' "$T/$1.out"; return 1; }; }
# sent SPOOL N0 NAME: exactly one new message (N0 + 1) reached SPOOL
sent() {
    wait_count "$1" $(($2 + 1)) && [ "$(count_msgs "$1")" = $(($2 + 1)) ] ||
        { echo "  $3: $RUNDIR/$1 holds $(count_msgs "$1") messages, expected $(($2 + 1))"; return 1; }
}

# sent_k SPOOL N0 K: exactly K new messages reached SPOOL
sent_k() {
    wait_count "$1" $(($2 + $3)) && [ "$(count_msgs "$1")" = $(($2 + $3)) ] ||
        { echo "  $RUNDIR/$1 holds $(count_msgs "$1") messages, expected $(($2 + $3))"; return 1; }
}

# --- hello.c: the README's program, as it stands (127.0.0.1:2525), then pointed elsewhere
n=$(count_msgs readme)
run hello 0 $B/hello
check "hello: one message at 127.0.0.1:2525" sent readme "$n" hello
check "hello: envelope and headers as in the program" jcheck readme \
    'd["mail_from"] == "alice@example.com" and d["rcpt_tos"] == ["bob@example.com"] and b"\r\nSubject: Hello\r\n" in eml and eml.endswith(b"\r\n\r\nIt works.\r\n") and d["tls"] is None'
n=$(count_msgs aiosmtpd)
run hello-args 0 $B/hello 127.0.0.1 "$AIO_PORT" carol@example.com dave@example.com erin@example.com
check "hello HOST PORT FROM TO TO: received" sent aiosmtpd "$n" hello-args
check "hello HOST PORT FROM TO TO: both recipients" jcheck aiosmtpd \
    'd["mail_from"] == "carol@example.com" and d["rcpt_tos"] == ["dave@example.com", "erin@example.com"]'

# --- many-sessions.c: sessions stepped from one poll() loop (smtp_send_start, smtp_step);
# 20 sessions x 5 messages here (the issue's 100 x 10 runs in tests/stepping.c against Postfix)
n=$(count_msgs aiosmtpd)
run many-sessions 0 $B/ex-many-sessions 127.0.0.1 "$AIO_PORT" 20 5
check "many-sessions: it counts 100 messages sent" says many-sessions "20 sessions, 100 messages sent, 0 failed"
check "many-sessions: 100 messages reached the server, no more" sent_k aiosmtpd "$n" 100

# --- custom-transport.c: the session over its stdin and stdout (cfg.transport), here a
# connection bash opened (/dev/tcp), as socat or ssh would carry it
n=$(count_msgs aiosmtpd)
run custom-transport 0 bash -c "exec 3<>/dev/tcp/127.0.0.1/$AIO_PORT && exec $B/ex-custom-transport <&3 >&3"
check "custom-transport: one message over its standard input and output" sent aiosmtpd "$n" custom-transport
check "custom-transport: envelope, subject and body as in the program" jcheck aiosmtpd \
    'd["mail_from"] == "alice@example.com" and d["rcpt_tos"] == ["bob@example.com"] and b"\r\nSubject: Over a pipe\r\n" in eml and eml.endswith(b"\r\n\r\nIt works over any stream.\r\n")'
run custom-transport-closed 1 bash -c "exec $B/ex-custom-transport < /dev/null > /dev/null"
check "custom-transport: a stream that ends at once is an error, named" says custom-transport-closed "closed"

# --- transcript.c: the conversation on stdout, and the message the server stored
n=$(count_msgs readme)
run transcript 0 $B/transcript
check "transcript: received" sent readme "$n" transcript
check "transcript: commands, replies and the body printed" bash -c \
    'f=$1; grep -q "^C: MAIL FROM:<alice@example.com>" "$f" && grep -q "^C: RCPT TO:<bob@example.com>" "$f" &&
     grep -q "^S: 250 2.0.0 OK queued as msg-" "$f" && grep -q "^Subject: Hello from smtp.h" "$f" &&
     grep -q "^C: QUIT" "$f" && grep -q "^S: 221" "$f"' _ "$T/transcript.out"
check "transcript: the message as printed" jcheck readme \
    'b"\r\nSubject: Hello from smtp.h\r\n" in eml and b"sent by examples/transcript.c." in eml'
n=$(count_msgs aiosmtpd)
SUBJECT="from the environment" TEXT=$'.dot line\nend\n' run transcript-env 0 $B/transcript 127.0.0.1 "$AIO_PORT" a@example.com b@example.com
check "transcript SUBJECT, TEXT: received" sent aiosmtpd "$n" transcript-env
check "transcript SUBJECT, TEXT: dot stuffed on the wire, unstuffed at the server" bash -c \
    'grep -q "^\.\.dot line" "$1"' _ "$T/transcript-env.out"
check "transcript SUBJECT, TEXT: stored" jcheck aiosmtpd \
    'b"\r\nSubject: from the environment\r\n" in eml and eml.endswith(b"\r\n\r\n.dot line\r\nend\r\n")'

# --- cleartext.c: per-recipient results; aiosmtpd refuses local parts starting with "refuse"
n=$(count_msgs readme)
run cleartext 0 $B/ex-cleartext
check "cleartext: received at 127.0.0.1:2525" sent readme "$n" cleartext
check "cleartext: both recipients in the envelope" jcheck readme \
    'd["rcpt_tos"] == ["bob@example.com", "carol@example.com"] and d["tls"] is None'
check "cleartext: both reported accepted" bash -c \
    'grep -q "^bob@example.com: accepted (250 2.0.0" "$1" && grep -q "^carol@example.com: accepted (250 2.0.0" "$1"' _ "$T/cleartext.out"
n=$(count_msgs aiosmtpd)
run cleartext-partial 1 $B/ex-cleartext 127.0.0.1 "$AIO_PORT" alice@example.com bob@example.com refuse-me@example.com
check "cleartext, one refused: the other got it" sent aiosmtpd "$n" cleartext-partial
check "cleartext, one refused: envelope" jcheck aiosmtpd 'd["rcpt_tos"] == ["bob@example.com"]'
check "cleartext, one refused: each result printed" bash -c \
    'grep -q "^bob@example.com: accepted (250" "$1" && grep -q "^refuse-me@example.com: refused (550 5.1.1" "$1" &&
     grep -q "some recipients were refused" "$1"' _ "$T/cleartext-partial.out"

# --- starttls.c: STARTTLS then AUTH inside; a server without STARTTLS gets nothing
n=$(count_msgs aioauth)
run starttls 0 $B/ex-starttls localhost "$AIOAUTH_PORT" "$CA"
check "starttls: received" sent aioauth "$n" starttls
check "starttls: over TLS, logged in, not the implicit listener" jcheck aioauth \
    'd["tls"] and d["tls"]["version"] == "TLSv1.2" and d["auth"] == "alice" and not d["listener"].startswith("implicit:")'
check "starttls: prints the negotiated version" says starttls "STARTTLS to localhost:$AIOAUTH_PORT: TLSv1.2"
n=$(count_msgs aiosmtpd)
run starttls-none 1 $B/ex-starttls 127.0.0.1 "$AIO_PORT" "$CA"
check "starttls to a server without STARTTLS: refused in words" says starttls-none "does not offer STARTTLS"
run hello-after 0 $B/hello 127.0.0.1 "$AIO_PORT"
check "starttls to a server without STARTTLS: nothing delivered" sent aiosmtpd "$n" starttls-none
check "starttls to a server without STARTTLS: the one message is hello's" jcheck aiosmtpd 'b"\r\nSubject: Hello\r\n" in eml'

# --- implicit-tls.c
n=$(count_msgs aioauth)
run implicit-tls 0 $B/ex-implicit-tls localhost "$AIOAUTH_IMPLICIT" "$CA"
check "implicit-tls: received" sent aioauth "$n" implicit-tls
check "implicit-tls: on the implicit listener, TLS, logged in" jcheck aioauth \
    'd["listener"].startswith("implicit:") and d["tls"]["version"] == "TLSv1.2" and d["auth"] == "alice" and b"Subject: Hello over implicit TLS" in eml'

# --- auto.c: the mode found on a STARTTLS port and on an implicit-TLS port
n=$(count_msgs aiotls)
run auto-starttls 0 $B/ex-auto localhost "$AIOTLS_PORT" "$CA"
check "auto, STARTTLS port: received" sent aiotls "$n" auto-starttls
check "auto, STARTTLS port: over STARTTLS" jcheck aiotls 'd["tls"] and not d["listener"].startswith("implicit:")'
check "auto, STARTTLS port: says so" says auto-starttls "AUTO chose STARTTLS on port $AIOTLS_PORT"
n=$(count_msgs aiotls)
run auto-implicit 0 $B/ex-auto localhost "$AIOTLS_IMPLICIT" "$CA"
check "auto, implicit port: received" sent aiotls "$n" auto-implicit
check "auto, implicit port: over implicit TLS" jcheck aiotls 'd["tls"] and d["listener"].startswith("implicit:")'
check "auto, implicit port: says so" says auto-implicit "AUTO chose implicit TLS on port $AIOTLS_IMPLICIT"

# --- tls.c: a private CA trusted (ca_file); a certificate for another name refused
n=$(count_msgs aiotls)
run tls 0 $B/tls-example localhost "$AIOTLS_IMPLICIT" alice@example.com bob@example.com implicit "$CA"
check "tls, private CA: received" sent aiotls "$n" tls
check "tls, private CA: over implicit TLS" jcheck aiotls \
    'd["tls"] and d["listener"].startswith("implicit:") and d["rcpt_tos"] == ["bob@example.com"] and b"Subject: Hello over TLS" in eml'
WRONGHOST_PORT=$((BADCERT_BASE + 2))     # run-integration.sh: expired notyet wronghost ...
n=$(count_msgs badcert-wronghost)
run tls-wronghost 1 $B/tls-example localhost "$WRONGHOST_PORT" alice@example.com bob@example.com starttls "$CA"
check "tls, certificate for another name: SMTP_ERR_CERT in words" says tls-wronghost "certificate verification failed"
check "tls, certificate for another name: nothing delivered" [ "$(count_msgs badcert-wronghost)" = "$n" ]

# --- socks5.c: through Dante with username/password, TLS end to end
n=$(count_msgs aiotls)
dante_log=$RUNDIR/proxies/dante-socks5.log
dl0=$(wc -l < "$dante_log")
run socks5 0 $B/ex-socks5 127.0.0.1 "$PROXY_SOCKS5" localhost "$AIOTLS_PORT" "$CA"
check "socks5: received" sent aiotls "$n" socks5
check "socks5: over TLS" jcheck aiotls 'd["tls"] and b"Subject: Hello through SOCKS5" in eml'
aio_peer_port=$($PY -c 'import json, sys; print(json.load(open(sys.argv[1]))["peer"][1])' "$(last_json aiotls)")
check "socks5: Dante logged in proxyuser and made the connection the server saw" bash -c \
    'tail -n +$(($2 + 1)) "$1" | grep "username%proxyuser@" | grep -q -E "\.$3 [^ ]*\.$4\b"' _ "$dante_log" "$dl0" "$aio_peer_port" "$AIOTLS_PORT"

# --- http-proxy.c: through tinyproxy with Basic credentials
n=$(count_msgs aiotls)
tiny_log=$RUNDIR/proxies/tinyproxy.log
tl0=$(wc -l < "$tiny_log")
run http-proxy 0 $B/ex-http-proxy 127.0.0.1 "$PROXY_HTTP" localhost "$AIOTLS_PORT" "$CA"
check "http-proxy: received" sent aiotls "$n" http-proxy
check "http-proxy: over TLS" jcheck aiotls 'd["tls"] and b"Subject: Hello through an HTTP proxy" in eml'
check "http-proxy: tinyproxy took the CONNECT" bash -c \
    'tail -n +$(($2 + 1)) "$1" | grep -q "CONNECT localhost:$3 HTTP/1.1"' _ "$tiny_log" "$tl0" "$AIOTLS_PORT"

# --- cram-md5.c: CRAM-MD5 only, in cleartext and inside TLS; a wrong password refused
n=$(count_msgs aioauthplain)
run cram-md5 0 $B/ex-cram-md5 127.0.0.1 "$AIOAUTH_PLAIN" none
check "cram-md5, cleartext: received" sent aioauthplain "$n" cram-md5
check "cram-md5, cleartext: logged in with CRAM-MD5" jcheck aioauthplain \
    'd["auth_mech"] == "CRAM-MD5" and d["auth"] == "alice" and d["tls"] is None'
check "cram-md5: lists what the server offers" says cram-md5 "server offers: PLAIN LOGIN CRAM-MD5"
n=$(count_msgs aioauth)
run cram-md5-tls 0 $B/ex-cram-md5 localhost "$AIOAUTH_PORT" "$CA"
check "cram-md5, TLS: received" sent aioauth "$n" cram-md5-tls
check "cram-md5, TLS: CRAM-MD5 though PLAIN is offered" jcheck aioauth \
    'd["auth_mech"] == "CRAM-MD5" and d["auth"] == "alice" and d["tls"]'
n=$(count_msgs aioauthplain)
run cram-md5-wrong 1 $B/ex-cram-md5 127.0.0.1 "$AIOAUTH_PLAIN" none "wrong password"
check "cram-md5, wrong password: the server's 535 shown" says cram-md5-wrong "server said: 535 5.7.8"
check "cram-md5, wrong password: SMTP_ERR_AUTH" says cram-md5-wrong "authentication failed"
check "cram-md5, wrong password: nothing delivered" [ "$(count_msgs aioauthplain)" = "$n" ]

# --- tls-versions.c: the safe setter connects (TLS 1.2), the unsafe one never reaches the server
cl0=$(wc -l < "$RUNDIR/aiotls/commands.log")
run tls-versions 0 $B/ex-tls-versions localhost "$AIOTLS_IMPLICIT" "$CA"
check "tls-versions: safe setter connected with TLS 1.2" says tls-versions "safe setter: connected with TLSv1.2"
check "tls-versions: unsafe setter refused" says tls-versions "unsafe setter: not supported"
check "tls-versions: one connection reached the server (EHLO and QUIT from one peer)" $PY - "$RUNDIR/aiotls/commands.log" "$cl0" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]).read().splitlines()[int(sys.argv[2]):]]
peers = {tuple(l["peer"]) for l in lines}
cmds = [l["line"].split()[0].upper() for l in lines]
sys.exit(0 if len(peers) == 1 and cmds[0] == "EHLO" and cmds[-1] == "QUIT" else 1)
PYEOF

# --- bind-address.c: the server sees the chosen source address; a bind that fails is SMTP_ERR_CONNECT
n=$(count_msgs readme)
run bind-address 0 $B/ex-bind-address
check "bind-address: received at 127.0.0.1:2525" sent readme "$n" bind-address
check "bind-address: from 127.0.0.2" jcheck readme 'd["peer"][0] == "127.0.0.2"'
n=$(count_msgs aiosmtpd)
run bind-address-args 0 $B/ex-bind-address 127.0.0.3 0 127.0.0.1 "$AIO_PORT"
check "bind-address LOCAL 0 HOST PORT: received" sent aiosmtpd "$n" bind-address-args
check "bind-address LOCAL 0 HOST PORT: from 127.0.0.3" jcheck aiosmtpd 'd["peer"][0] == "127.0.0.3"'
run bind-address-busy 1 $B/ex-bind-address 127.0.0.1 "$AIO_PORT" 127.0.0.1 "$AIO_PORT"
check "bind-address to a port in use: SMTP_ERR_CONNECT" says bind-address-busy "connection failed"

# --- config-file.c: an msmtp account with inheritance, passwordeval and a note
cat > "$T/msmtprc" <<CONF
defaults
tls off
logfile $T/msmtp.log

account base
host 127.0.0.1
port $AIOAUTH_PLAIN
from carol@example.com

account work : base
auth on
user alice
passwordeval printf 's3cret pass\n'
CONF
chmod 600 "$T/msmtprc"
n=$(count_msgs aioauthplain)
run config-file 0 $B/ex-config-file "$T/msmtprc" work
check "config-file: received" sent aioauthplain "$n" config-file
check "config-file: the account's from, login by passwordeval (CRAM-MD5 outside TLS)" jcheck aioauthplain \
    'd["mail_from"] == "carol@example.com" and d["rcpt_tos"] == ["bob@example.com"] and d["auth"] == "alice" and d["auth_mech"] == "CRAM-MD5" and b"\r\nFrom: carol@example.com\r\n" in eml'
check "config-file: the logfile key noted" says config-file "logfile"
printf 'account work\nhost 127.0.0.1\nport %s\ntls offf\n' "$AIO_PORT" > "$T/bad"
n=$(count_msgs aiosmtpd)
run config-file-bad 1 $B/ex-config-file "$T/bad" work
check "config-file, bad value: file, line and key named" says config-file-bad "$T/bad:4"
check "config-file, bad value: nothing sent" [ "$(count_msgs aiosmtpd)" = "$n" ]

# --- stream-body.c: a 2 MB .eml streamed; what the server stored is the file with CRLF line ends
$PY - "$T/big.eml" <<'PYEOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("From: alice@example.com\nTo: bob@example.com\nSubject: streamed\n\n")
    for i in range(40000):
        f.write(".a line that starts with a dot %d\n" % i if i % 7 == 0 else "line %d of a long body, %s\n" % (i, "x" * (i % 60)))
    f.write(".\nlast line\n")
PYEOF
n=$(count_msgs aiosmtpd)
CANCEL_AFTER=100000 run stream-cancel 1 $B/ex-stream-body 127.0.0.1 "$AIO_PORT" "$T/big.eml"
check "stream-body, cancelled: SMTP_ERR_ABORTED" says stream-cancel "cancelled by the progress callback"
run stream-body 0 $B/ex-stream-body 127.0.0.1 "$AIO_PORT" "$T/big.eml"
check "stream-body: one message (the cancelled one never arrived)" sent aiosmtpd "$n" stream-body
check "stream-body: stored byte for byte (LF became CRLF, dots unstuffed by the server)" jcheck aiosmtpd \
    'eml == open("'"$T/big.eml"'", "rb").read().replace(b"\n", b"\r\n") and d["rcpt_tos"] == ["bob@example.com"]'
run stream-missing 1 $B/ex-stream-body 127.0.0.1 "$AIO_PORT" "$T/does-not-exist.eml"
check "stream-body, no such file: says so" says stream-missing "does-not-exist.eml: No such file"

echo "examples: $pass passed, $failn failed"
[ $failn = 0 ]
