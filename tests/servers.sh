# servers.sh - sourced by the test and demo scripts: start and stop the
# real peers on loopback, each in its own directory under $RUNDIR, every
# one stopped by its PID on exit (trap servers_stop EXIT).
RUNDIR=${RUNDIR:-tests/.run}
PY=/usr/bin/python3           # Debian's python3: it sees python3-aiosmtpd
SERVER_PIDS=()
POSTFIX_DIR=""

have_ipv6() { ip -6 addr show dev lo 2>/dev/null | grep -q '::1'; }

# wait_ready FILE PID NAME: until FILE exists (120 s: a busy machine), or the server died
wait_ready() {
    local end=$((SECONDS + 120))
    while [ $SECONDS -lt $end ]; do
        [ -e "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || { echo "servers.sh: $3 exited; its log:" >&2; cat "$RUNDIR/$3.log" >&2; return 1; }
        sleep 0.05
    done
    echo "servers.sh: $3 not ready after 120 s; its log:" >&2; cat "$RUNDIR/$3.log" >&2
    return 1
}

# start_aiosmtpd NAME PORT [options...]: 127.0.0.1 (and ::1) on PORT, spool $RUNDIR/NAME
start_aiosmtpd() {
    local name=$1 port=$2; shift 2
    local listen=(--listen "127.0.0.1:$port")
    have_ipv6 && listen+=(--listen "[::1]:$port")
    rm -rf "${RUNDIR:?}/$name"
    $PY tests/peers/aiosmtpd_server.py "${listen[@]}" --spool "$RUNDIR/$name" "$@" \
        >"$RUNDIR/$name.log" 2>&1 &
    SERVER_PIDS+=($!)
    wait_ready "$RUNDIR/$name/ready" $! "$name"
}

# start_aiosmtpd_unix NAME [options...]: on Unix-domain sockets only (give
# --unix PATH and/or --implicit-unix PATH), spool $RUNDIR/NAME
start_aiosmtpd_unix() {
    local name=$1; shift
    rm -rf "${RUNDIR:?}/$name"
    $PY tests/peers/aiosmtpd_server.py --spool "$RUNDIR/$name" "$@" >"$RUNDIR/$name.log" 2>&1 &
    SERVER_PIDS+=($!)
    wait_ready "$RUNDIR/$name/ready" $! "$name"
}

# start_hostile BASE_PORT [options...]
start_hostile() {
    local base=$1; shift
    rm -rf "${RUNDIR:?}/hostile"; mkdir -p "$RUNDIR/hostile"
    $PY tests/peers/hostile.py --host 127.0.0.1 --base-port "$base" --log "$RUNDIR/hostile" "$@" \
        >"$RUNDIR/hostile.log" 2>&1 &
    SERVER_PIDS+=($!)
    wait_ready "$RUNDIR/hostile/ready" $! hostile
}

start_postfix() {
    POSTFIX_DIR="$RUNDIR/postfix"
    bash tests/peers/postfix.sh stop "$POSTFIX_DIR" >/dev/null 2>&1
    rm -rf "${POSTFIX_DIR:?}/mail"
    bash tests/peers/postfix.sh start "$POSTFIX_DIR"
}

# start_sink PORT: our discarding SMTP sink (tests/bench/tls_sink.c without TLS)
start_sink() {
    rm -f "$RUNDIR/sink.ready"
    tests/.build/bench/tls_sink -a 127.0.0.1 -p "$1" -P -r "$RUNDIR/sink.ready" >"$RUNDIR/sink.log" 2>&1 &
    SERVER_PIDS+=($!)
    wait_ready "$RUNDIR/sink.ready" $! sink
}

# start_unix_peers: SMTP on Unix-domain sockets (issue 15, cfg.socket_path),
# after start_postfix and with $CERTS made (tests/peers/certs.sh). Exports
# the socket paths (absolute):
#   AIO_UNIX           aiosmtpd, cleartext (PIPELINING advertised), spool $RUNDIR/aiounix
#   AIO_UNIX_TLS       aiosmtpd, STARTTLS offered, spool $RUNDIR/aiounixtls
#   AIO_UNIX_IMPLICIT  the same aiosmtpd, implicit TLS (certs.sh's server.pem: localhost)
#   PF_UNIX            Postfix's smtpd, as PF_PLAIN (postfix.sh), deliveries in $RUNDIR/postfix/mail
start_unix_peers() {
    local dir
    dir=$(cd "$RUNDIR" && pwd -P) || return 1
    export AIO_UNIX="$dir/aiounix.sock" AIO_UNIX_TLS="$dir/aiounixtls.sock"
    export AIO_UNIX_IMPLICIT="$dir/aiounixtls-implicit.sock" PF_UNIX="$dir/postfix/spool/public/smtpunix"
    [ -S "$PF_UNIX" ] || { echo "servers.sh: no Postfix socket $PF_UNIX (start_postfix first)" >&2; return 1; }
    start_aiosmtpd_unix aiounix --unix "$AIO_UNIX" --pipelining || return 1
    start_aiosmtpd_unix aiounixtls --unix "$AIO_UNIX_TLS" --implicit-unix "$AIO_UNIX_IMPLICIT" \
        --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key"
}

# start_dovecot_lmtp: Dovecot's LMTP server (tests/peers/dovecot_lmtp.sh) in
# $RUNDIR/dovecot on $DOVECOT_LMTP_PORT (24730); mailboxes anna, bert, carl
DOVECOT_DIR=""
start_dovecot_lmtp() {
    DOVECOT_DIR="$RUNDIR/dovecot"
    bash tests/peers/dovecot_lmtp.sh start "$DOVECOT_DIR"
}

PROXIES_DIR=""
start_proxies() {
    PROXIES_DIR="$RUNDIR/proxies"
    bash tests/peers/proxies.sh start "$PROXIES_DIR"
}

servers_stop() {
    local p
    for p in "${SERVER_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${SERVER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    SERVER_PIDS=()
    [ -n "$POSTFIX_DIR" ] && bash tests/peers/postfix.sh stop "$POSTFIX_DIR" >/dev/null 2>&1
    POSTFIX_DIR=""
    [ -n "$PROXIES_DIR" ] && bash tests/peers/proxies.sh stop "$PROXIES_DIR" >/dev/null 2>&1
    PROXIES_DIR=""
    [ -n "$DOVECOT_DIR" ] && bash tests/peers/dovecot_lmtp.sh stop "$DOVECOT_DIR" >/dev/null 2>&1
    DOVECOT_DIR=""
}
