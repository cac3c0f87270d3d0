#!/usr/bin/env bash
# run-integration.sh - start the real peers on loopback, run the
# integration tests (the README's program and examples/ too) against them,
# stop the peers. Run from the top of the repository (make test does).
set -uo pipefail
cd "$(dirname "$0")/.."
B=tests/.build
export RUNDIR=${RUNDIR:-tests/.run}
mkdir -p "$RUNDIR"
source tests/servers.sh
trap servers_stop EXIT

export AIO_PORT=24525 AIO452_PORT=24527 PF_PLAIN=24526 HOSTILE_BASE=24600 AIO_NOUTF8=24528 AIO_SIZE=24529
export PF_SUBMISSION=24587 PF_IMPLICIT=24465 PF_TLS13=24466 PF_SHORT=24731
export AIOAUTH_PORT=24550 AIOAUTH_IMPLICIT=24551 AIOAUTH_PLAIN=24552 AIOAUTH_TWO=24553
export AIOTLS_PORT=24530 AIOTLS_IMPLICIT=24531 BADCERT_BASE=24540 CLIENTCERT_PORT=24536
export CERTS="$RUNDIR/certs"
have_ipv6 && export HAVE_IPV6=1

# test certificates (a CA, good and bad server certificates) and the pins of the self-signed one
bash tests/peers/certs.sh "$CERTS" || exit 1
PIN_SELFSIGNED_CERT=$(openssl x509 -in "$CERTS/selfsigned.pem" -outform DER | sha256sum | cut -c1-64)
PIN_SELFSIGNED_SPKI=$(openssl x509 -in "$CERTS/selfsigned.pem" -pubkey -noout | openssl pkey -pubin -outform DER |
                      sha256sum | cut -c1-64)
export PIN_SELFSIGNED_CERT PIN_SELFSIGNED_SPKI

# long lines (RFC 5321 says 1000; smtp_data_write passes what it is given) must arrive intact
start_aiosmtpd aiosmtpd "$AIO_PORT" --line-length-limit 1000000 || exit 1
start_aiosmtpd aiosmtpd452 "$AIO452_PORT" --max-rcpt 2 --pipelining || exit 1   # the pipelined 452 path
start_aiosmtpd aionoutf8 "$AIO_NOUTF8" --no-smtputf8 || exit 1
start_aiosmtpd aiosize "$AIO_SIZE" --size-limit 20000 || exit 1
start_hostile "$HOSTILE_BASE" --certs "$CERTS" || exit 1
start_postfix || exit 1
start_unix_peers || exit 1   # AIO_UNIX, AIO_UNIX_TLS, AIO_UNIX_IMPLICIT, PF_UNIX (tests/servers.sh)
start_proxies || exit 1
export SINK_PORT=24560
start_sink "$SINK_PORT" || exit 1
start_aiosmtpd readme 2525 || exit 1
# TLS: STARTTLS and implicit with the good certificate; one STARTTLS server per bad certificate
start_aiosmtpd aiotls "$AIOTLS_PORT" --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
    --implicit-listen "127.0.0.1:$AIOTLS_IMPLICIT" || exit 1
start_aiosmtpd aioclient "$CLIENTCERT_PORT" --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
    --tls-client-ca "$CERTS/ca.pem" || exit 1
# AUTH: user alice, password "s3cret pass", bearer token "good-token"
AUTHARGS=(--auth-user alice --auth-pass "s3cret pass")
start_aiosmtpd aioauth "$AIOAUTH_PORT" --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
    --implicit-listen "127.0.0.1:$AIOAUTH_IMPLICIT" "${AUTHARGS[@]}" --oauth-token good-token || exit 1
start_aiosmtpd aioauthplain "$AIOAUTH_PLAIN" "${AUTHARGS[@]}" --auth-plaintext || exit 1
start_aiosmtpd aioauthtwo "$AIOAUTH_TWO" --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
    "${AUTHARGS[@]}" --auth-mechs PLAIN,LOGIN || exit 1
# threads (ThreadSanitizer): its own spool, so every stored message is one of its 1600
export THREADS_PORT=24951 THREADS_MAILDIR="$RUNDIR/threads"
THREADS_IMPLICIT=(--implicit-listen "127.0.0.1:$THREADS_PORT")
have_ipv6 && THREADS_IMPLICIT+=(--implicit-listen "[::1]:$THREADS_PORT")
start_aiosmtpd threads 24950 --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
    "${THREADS_IMPLICIT[@]}" --pipelining || exit 1
# issue 16, sessions that last (tests/sessions.c): Postfix's PF_SHORT listener (smtpd_timeout=3s,
# tests/peers/postfix.sh), hostile.py's mail421_after_2 and vanish_after_data, and these:
#   AIOTOKEN: XOAUTH2/OAUTHBEARER, the accepted token read from a file at every AUTH;
#   AIOTOKEN_CLOSE: the same, and a refused token closes the connection;
#   AIOCOUNT: connections.log counts connections (pacing, messages per connection, idle NOOP);
#   AIOIDLE: closes a connection idle for 2 s without a word; DOVECOT_LMTP: Dovecot's lmtpd
export AIOTOKEN_PORT=24732 AIOTOKEN_CLOSE_PORT=24733 AIOCOUNT_PORT=24734 AIOIDLE_PORT=24735
export DOVECOT_LMTP_PORT=24730 OAUTH_TOKEN_FILE="$RUNDIR/oauth-token"
export CLOSED_PORT=24736   # nothing listens here: a refused connection
: >"$OAUTH_TOKEN_FILE"
start_aiosmtpd aiotoken "$AIOTOKEN_PORT" --oauth-token-file "$OAUTH_TOKEN_FILE" || exit 1
start_aiosmtpd aiotokenclose "$AIOTOKEN_CLOSE_PORT" --oauth-token-file "$OAUTH_TOKEN_FILE" \
    --oauth-close-on-failure || exit 1
start_aiosmtpd aiocount "$AIOCOUNT_PORT" --pipelining || exit 1
start_aiosmtpd aioidle "$AIOIDLE_PORT" --timeout 2 || exit 1
start_dovecot_lmtp || exit 1
k=0
for c in expired notyet wronghost selfsigned server; do
    start_aiosmtpd "badcert-$c" $((BADCERT_BASE + k)) --tls-cert "$CERTS/$c.pem" --tls-key "$CERTS/$c.key" || exit 1
    k=$((k + 1))
done
# hostile certificate chains (tests/peers/badcerts.sh), each served by evil_tls (BearSSL sends them as
# given): chain k of EVIL_CHAINS on EVIL_BASE+2k (implicit TLS) and EVIL_BASE+2k+1 (STARTTLS)
export BADCERTS="$RUNDIR/badcerts" EVIL_BASE=24700 EVIL_LOGDIR="$RUNDIR/evil"
export EVIL_CHAINS="good goodec big trailing trailing1 trailing600 rsa8192 hijack nc eku rsa1024 sha1 nosan wild wild2"
start_evil() {
    local name=$1 port=$2 f certs=()
    for f in "$BADCERTS/$name".[0-9].der; do certs+=(-c "$f"); done
    rm -f "$EVIL_LOGDIR/$name.ready" "$EVIL_LOGDIR/$name.log"
    $B/evil_tls -k "$BADCERTS/$name.key" "${certs[@]}" -i "$port" -s $((port + 1)) -n "$name" \
        -l "$EVIL_LOGDIR/$name.log" -r "$EVIL_LOGDIR/$name.ready" >"$RUNDIR/evil-$name.log" 2>&1 &
    SERVER_PIDS+=($!)
    wait_ready "$EVIL_LOGDIR/$name.ready" $! "evil-$name"
}
sh tests/peers/badcerts.sh "$BADCERTS" || exit 1
mkdir -p "$EVIL_LOGDIR"
k=0
for c in $EVIL_CHAINS; do
    start_evil "$c" $((EVIL_BASE + 2 * k)) || exit 1
    k=$((k + 1))
done

fail=0
# the README's program (its first C block), pasted as it stands: built by clang and gcc without a
# warning, run against a server on 127.0.0.1:2525, the message read back
mkdir -p "$B/readme"
$PY - <<'PYEOF' > "$B/readme/app.c"
import re
print(re.search(r"```c\n(.*?)```", open("README.md").read(), re.S).group(1), end="")
PYEOF
cp smtp.h "$B/readme/"
if clang -std=c99 -Wall -Wextra -pedantic -Werror "$B/readme/app.c" -o "$B/readme/app" -lbearssl &&
   gcc -std=c99 -Wall -Wextra -pedantic -Werror "$B/readme/app.c" -o "$B/readme/app" -lbearssl && "$B/readme/app" &&
   grep -q "^Subject: Hello" "$RUNDIR/readme/msg-0001.eml"; then
    echo "README program: built, sent, received"
else
    echo "FAIL README program"; fail=1
fi
echo "== examples/ (each run against these servers, what they received read back)"
bash tests/examples.sh || fail=1
# examples/tls.c against Postfix's implicit-TLS port, under valgrind memcheck (no sanitizers in examples)
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
if "${VG[@]}" $B/tls-example localhost "$PF_IMPLICIT" alice@example.com bob@example.com implicit "$RUNDIR/postfix/certs/ca.pem"; then
    echo "examples/tls under valgrind: sent, no memory errors"
else
    echo "FAIL examples/tls under valgrind"; fail=1
fi
if printf 'Subject: valgrind\n\nsmtp-send under memcheck\n' | "${VG[@]}" $B/smtp-send --host 127.0.0.1 --port "$AIO_PORT" \
       --security=none -f alice@example.com bob@example.com; then
    echo "smtp-send under valgrind: sent, no memory errors"
else
    echo "FAIL smtp-send under valgrind"; fail=1
fi
$B/integration || fail=1
echo "== TLS"
$B/tls || fail=1
echo "== hostile certificates (malformed DER, oversized keys, name constraints, EKU, weak keys and hashes, no SAN, wildcards)"
$B/certpolicy || fail=1
echo "== AUTH"
$B/auth || fail=1
echo "== proxies"
$B/proxy || fail=1
echo "== stepping: 100 sessions from one thread (smtp_send_start, smtp_step) to Postfix; a stalled server among them (issue 17)"
$B/stepping || fail=1
echo "== Unix-domain sockets (cfg.socket_path): aiosmtpd cleartext, STARTTLS, implicit; Postfix (issue 15)"
$B/transport || fail=1
echo "== the embedded profile (SMTP_SMALL: sizeof(smtp_session) <= 40 KB with TLS; issue 15)"
$B/small || fail=1
echo "== sessions that last: reconnects, token renewal, pacing, LMTP (issue 16)"
$B/sessions || fail=1
echo "== messages and extensions"
$B/mime || fail=1
echo "== caller abuse"
$B/abuse || fail=1
echo "== threads (ThreadSanitizer)"
$B/threads || fail=1
echo "== allocation"
$B/alloc || fail=1
echo "== smtp-send (and msmtp side by side)"
bash tests/cli.sh || fail=1
echo "== smtp-send as sendmail for real programs (mutt, s-nail, mailx, cron, git, PHP, Python; tests/sendmail)"
bash tests/sendmail/run.sh || fail=1
exit $fail
