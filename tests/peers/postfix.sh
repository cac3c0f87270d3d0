#!/bin/bash
# postfix.sh start DIR | stop DIR | status DIR
#
# A private Postfix instance rooted in DIR, listening on loopback only.
# See tests/peers/README.md. Ports (env, defaults):
#   PF_PLAIN=24526       plain SMTP, STARTTLS offered, AUTH only after STARTTLS
#   PF_SUBMISSION=24587  STARTTLS required (530 before it), AUTH after TLS
#   PF_IMPLICIT=24465    implicit TLS (wrapper mode), AUTH
#   PF_TLS13=24466       implicit TLS, TLS 1.3 only
#   PF_SMALL=24588       plain, advertising SIZE 100000 (smtpd's own message_size_limit)
#   PF_SHORT=24731       plain, smtpd_timeout=3s: an idle session is dropped after 3 s
#   PF_KEYS=rsa          server key: rsa | ec | both (both: OpenSSL picks by client)
#   PF_IPV4_ONLY=1       do not listen on [::1] (automatic when ::1 is absent)
# All listen on 127.0.0.1 and, when the loopback has ::1, on [::1] too.
# Also plain SMTP on a UNIX-domain socket, DIR/spool/public/smtpunix (as
# PF_PLAIN: STARTTLS offered, AUTH after it; smtpd takes a non-Internet
# client for localhost[127.0.0.1]; its deliveries say client_name=localhost).
# SASL user "alice", password "s3cret pass" (PLAIN LOGIN CRAM-MD5).
# Every accepted message is delivered, one recipient at a time, into DIR/mail,
# except to r00000@example.com ... r09999@example.com (tests/abuse.c's 10,000
# recipients): accepted and queued the same way, then discarded. Nothing
# reads those back, and 10,000 deliveries through deliver.sh cost a minute
# of both CPUs while the next tests run.
set -u

PF_PLAIN=${PF_PLAIN:-24526}
PF_SUBMISSION=${PF_SUBMISSION:-24587}
PF_IMPLICIT=${PF_IMPLICIT:-24465}
PF_TLS13=${PF_TLS13:-24466}
PF_SMALL=${PF_SMALL:-24588}
PF_SHORT=${PF_SHORT:-24731}
PF_KEYS=${PF_KEYS:-rsa}
PF_HOSTNAME=mail.test.local
SASL_USER=alice
SASL_PASS='s3cret pass'
START_TIMEOUT=120   # listening after start; generous: a busy machine

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)

die() { echo "postfix.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 start|stop|status DIR" >&2; exit 2; }

[ $# -eq 2 ] || usage
CMD=$1
case $CMD in start|stop|status) ;; *) usage ;; esac
[ -n "$2" ] || usage
if [ "$CMD" = start ]; then
    mkdir -p "$2" || die "cannot create $2"
fi
if [ ! -d "$2" ]; then
    [ "$CMD" = stop ] && exit 0
    echo stopped; exit 1
fi
DIR=$(cd "$2" && pwd -P) || die "bad DIR $2"
case $DIR in *[[:space:]\$\'\"\\,]*) die "DIR must not contain spaces, quotes, \$, \\ or commas: $DIR" ;; esac
CONF=$DIR/conf

# PID of our master if it runs, else nothing.
master_pid() {
    local f=$DIR/spool/pid/master.pid pid
    [ -r "$f" ] || return 1
    pid=$(awk '{print $1; exit}' "$f" 2>/dev/null)
    [ -n "$pid" ] && [ "$pid" -gt 1 ] 2>/dev/null || return 1
    alive_master "$pid" || return 1
    echo "$pid"
}

# PID is a live (not zombie) process named master. Here PID 1 may reap
# orphans late: an exited master can stay a zombie for a second or two.
alive_master() {
    local st
    st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    case $st in *"(master) "[!ZX]*) return 0 ;; esac
    return 1
}

do_stop() {
    local pid i
    pid=$(master_pid) || return 0
    if [ -f "$CONF/main.cf" ]; then
        timeout 20 postfix -c "$CONF" stop >/dev/null 2>&1
    else
        kill -TERM "$pid" 2>/dev/null
    fi
    # "postfix stop" returns at once; the master TERMs its process group
    # and exits. Wait for that; KILL stragglers (by PID/group) after 5 s.
    # Children (smtpd...) inherit the listening sockets: wait for them too.
    for i in $(seq 1 100); do
        if ! alive_master "$pid"; then
            # shellcheck disable=SC2009 # pgrep cannot tell zombies apart
            ps -o stat= -g "$pid" 2>/dev/null | grep -qv '^Z' || return 0
        fi
        [ "$i" = 100 ] && kill -KILL -- "-$pid" "$pid" 2>/dev/null
        sleep 0.05
    done
    return 0
}

if [ "$CMD" = stop ]; then
    do_stop
    exit 0
fi
if [ "$CMD" = status ]; then
    if pid=$(master_pid); then echo "running (master pid $pid)"; exit 0; fi
    echo stopped; exit 1
fi

# ---------------------------------------------------------------- start
for p in "$PF_PLAIN" "$PF_SUBMISSION" "$PF_IMPLICIT" "$PF_TLS13" "$PF_SMALL" "$PF_SHORT"; do
    case $p in ''|*[!0-9]*) die "bad port '$p'" ;; esac
done
case $PF_KEYS in rsa|ec|both) ;; *) die "PF_KEYS must be rsa, ec or both" ;; esac
for t in postfix postconf postmap saslpasswd2 openssl script ss; do
    command -v "$t" >/dev/null 2>&1 || die "missing $t (apt-get install postfix sasl2-bin libsasl2-modules openssl bsdutils iproute2)"
done
[ "$(id -u)" = 0 ] || die "must run as root"
id postfix >/dev/null 2>&1 || die "no 'postfix' user (install the postfix package)"
getent group postdrop >/dev/null || die "no 'postdrop' group (install the postfix package)"
ls /usr/lib/x86_64-linux-gnu/sasl2/libsasldb.so* /usr/lib/*/sasl2/libsasldb.so* >/dev/null 2>&1 ||
    die "no Cyrus sasldb plugin (apt-get install libsasl2-modules-db)"

do_stop   # starting twice = restart

busy=$(ss -Hltnp 2>/dev/null | awk -v P=" $PF_PLAIN $PF_SUBMISSION $PF_IMPLICIT $PF_TLS13 $PF_SMALL $PF_SHORT " '
    { n = split($4, a, ":"); if (index(P, " " a[n] " ")) print $4, $6 }')
[ -z "$busy" ] || die "port(s) already in use: $busy"

mkdir -p "$CONF/sasl" "$DIR/data" "$DIR/mail" || die "mkdir failed"
"$HERE/certs.sh" "$DIR/certs" || die "certs.sh failed"

# Fresh state on every start: empty queue, mailbox and log. The queue
# directory tree is kept: recreating it costs postfix start about 2 s.
for q in incoming active deferred hold maildrop bounce defer trace flush corrupt saved; do
    [ -d "$DIR/spool/$q" ] && find "$DIR/spool/$q" -mindepth 1 -delete
done
rm -rf "$DIR/mail"/* "$DIR/mail"/.tmp.* "$DIR/maillog"
rm -f "$DIR/spool/public/smtpunix"   # the start waits for a new one
mkdir -p "$DIR/spool" "$DIR/mail"
chown root:root "$DIR/spool"; chmod 755 "$DIR/spool"
chown nobody:nogroup "$DIR/mail"; chmod 777 "$DIR/mail"
chown postfix:postfix "$DIR/data"; chmod 700 "$DIR/data"

# The pipe runs as nobody and smtpd as postfix: they must reach DIR.
if ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -w "$DIR/mail" 2>/dev/null ||
   ! setpriv --reuid=postfix --regid=postfix --clear-groups test -x "$DIR/conf" 2>/dev/null; then
    die "users nobody/postfix cannot reach $DIR (a parent directory is not world-searchable?)"
fi

# [::1] too if the loopback has it (PF_IPV4_ONLY=1 forces IPv4 only).
if [ "${PF_IPV4_ONLY:-0}" != 1 ] && grep -qi '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
    INET_PROTOCOLS=all; ADDRS="127.0.0.1 [::1]"; MYNETWORKS="127.0.0.0/8 [::1]/128"
else
    INET_PROTOCOLS=ipv4; ADDRS="127.0.0.1"; MYNETWORKS="127.0.0.0/8"
fi

case $PF_KEYS in
    rsa) CHAIN="$DIR/certs/server.key, $DIR/certs/server.pem" ;;
    ec) CHAIN="$DIR/certs/server-ec.key, $DIR/certs/server-ec.pem" ;;
    both) CHAIN="$DIR/certs/server.key, $DIR/certs/server.pem, $DIR/certs/server-ec.key, $DIR/certs/server-ec.pem" ;;
esac

cat >"$CONF/main.cf" <<EOF
# Generated by tests/peers/postfix.sh; rewritten at every start.
compatibility_level = 3.6
queue_directory = $DIR/spool
data_directory = $DIR/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = $DIR/maillog
maillog_file_prefixes = /var, /dev/stdout, $DIR
myhostname = $PF_HOSTNAME
mydomain = test.local
myorigin = \$myhostname
mydestination = \$myhostname, localhost, localhost.localdomain, test.local, example.com, example.org
inet_interfaces = loopback-only
inet_protocols = $INET_PROTOCOLS
mynetworks = $MYNETWORKS
relay_domains =
biff = no
append_dot_mydomain = no
readme_directory = no
smtpd_banner = \$myhostname ESMTP Postfix (smtp.h tests)
smtpd_peername_lookup = no

# Every address, local or not, goes to the filesink pipe, one rcpt at a time.
local_recipient_maps =
alias_maps =
alias_database =
local_transport = filesink
default_transport = filesink
relay_transport = filesink
virtual_transport = filesink
filesink_destination_recipient_limit = 1
# tests/abuse.c's 10,000 recipients: discarded once queued (see the top of postfix.sh)
transport_maps = regexp:$CONF/transport
message_size_limit = 0
mailbox_size_limit = 0

smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access regexp:$CONF/recipient_access
# Tests may send many bad commands/recipients: no tarpit, no early hang-up.
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
smtpd_junk_command_limit = 100000

smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_sasl_authenticated_header = yes
smtpd_tls_auth_only = yes
smtpd_tls_security_level = may
smtpd_tls_chain_files = $CHAIN
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes
EOF

{
    echo "# service type private unpriv chroot wakeup maxproc command"
    for a in $ADDRS; do
        echo "$a:$PF_PLAIN inet n - n - - smtpd"
        echo "$a:$PF_SUBMISSION inet n - n - - smtpd -o smtpd_tls_security_level=encrypt"
        echo "$a:$PF_IMPLICIT inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt"
        echo "$a:$PF_TLS13 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes -o smtpd_tls_security_level=encrypt -o smtpd_tls_protocols=>=TLSv1.3 -o smtpd_tls_mandatory_protocols=>=TLSv1.3"
        echo "$a:$PF_SMALL inet n - n - - smtpd -o message_size_limit=100000"
        echo "$a:$PF_SHORT inet n - n - - smtpd -o smtpd_timeout=3s"
    done
    # public/smtpunix under the queue directory: master(5) names unix services
    # relative to it, private=n puts it in public/ (world-connectable socket)
    echo "smtpunix unix n - n - - smtpd -o syslog_name=postfix/smtpunix"
    cat <<EOF
pickup     unix  n       -       n       60      1       pickup
cleanup    unix  n       -       n       -       0       cleanup
qmgr       unix  n       -       n       300     1       qmgr
tlsmgr     unix  -       -       n       1000?   1       tlsmgr
rewrite    unix  -       -       n       -       -       trivial-rewrite
bounce     unix  -       -       n       -       0       bounce
defer      unix  -       -       n       -       0       bounce
trace      unix  -       -       n       -       0       bounce
verify     unix  -       -       n       -       1       verify
flush      unix  n       -       n       1000?   0       flush
proxymap   unix  -       -       n       -       -       proxymap
proxywrite unix  -       -       n       -       1       proxymap
smtp       unix  -       -       n       -       -       smtp
relay      unix  -       -       n       -       -       smtp
showq      unix  n       -       n       -       -       showq
error      unix  -       -       n       -       -       error
retry      unix  -       -       n       -       -       error
discard    unix  -       -       n       -       -       discard
anvil      unix  -       -       n       -       1       anvil
scache     unix  -       -       n       -       1       scache
postlog    unix-dgram n  -       n       -       1       postlogd
filesink   unix  -       n       n       -       -       pipe flags= user=nobody null_sender=
  argv=$DIR/deliver.sh \${queue_id} sender=\${sender} recipient=\${recipient} client=\${client_address} helo=\${client_helo} protocol=\${client_protocol} sasl_user=\${sasl_username} client_name=\${client_hostname}
EOF
} >"$CONF/master.cf"

cat >"$CONF/recipient_access" <<'EOF'
/^refuse[^@]*@/	550 5.1.1 refused by test rule
EOF
cat >"$CONF/transport" <<'EOF'
/^r[0-9]{5}@example\.com$/	discard:
EOF

# Debian's Postfix reads the Cyrus config from $config_directory/sasl/smtpd.conf.
cat >"$CONF/sasl/smtpd.conf" <<EOF
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $DIR/sasldb2
mech_list: PLAIN LOGIN CRAM-MD5
EOF

rm -f "$DIR/sasldb2" "$DIR/sasldb2-lock"
printf '%s\n' "$SASL_PASS" | saslpasswd2 -p -c -f "$DIR/sasldb2" -u "$PF_HOSTNAME" "$SASL_USER" ||
    die "saslpasswd2 failed"
chown root:postfix "$DIR/sasldb2" && chmod 640 "$DIR/sasldb2"

cat >"$DIR/deliver.sh" <<EOF
#!/bin/sh
# Generated by tests/peers/postfix.sh. Run by pipe(8) as nobody, one recipient
# per call: writes MAILDIR/QUEUEID.N.eml (message) then QUEUEID.N.env
# (envelope, one key=value per line). Both appear by rename, .env last.
M=$DIR/mail
EOF
cat >>"$DIR/deliver.sh" <<'EOF'
umask 022
qid=$1
shift
# Reserve the lowest free N: an O_EXCL create of the temporary file.
set -C
n=1
while :; do
    # temporary names end in .part, never in .eml/.env: a poller that
    # looks for "*.env" cannot pick up a file still being written
    t=$M/.tmp.$qid.$n
    if [ ! -e "$M/$qid.$n.eml" ] && { true >"$t.eml.part"; } 2>/dev/null; then
        [ -e "$M/$qid.$n.eml" ] || break
        rm -f "$t.eml.part"
    fi
    n=$((n + 1))
done
set +C
cat >|"$t.eml.part" || { rm -f "$t.eml.part"; exit 75; }
mv -f "$t.eml.part" "$M/$qid.$n.eml" || exit 75
# Postfix records an IPv6 client as "IPv6:::1": write the bare address.
for a; do
    case $a in client=IPv6:*) a=client=${a#client=IPv6:} ;; esac
    printf '%s\n' "$a"
done >|"$t.env.part" && mv -f "$t.env.part" "$M/$qid.$n.env" || exit 75
exit 0
EOF
chmod 755 "$DIR/deliver.sh"

# A main.cf modified in the last second or so makes "postfix start" wait
# about 2 s: backdate the generated files.
touch -d "@$(( $(date +%s) - 10 ))" "$CONF/main.cf" "$CONF/master.cf"

# postfix reports errors only on a terminal: give it one with script(1).
OUT=$(timeout 120 script -qec "postfix -c '$CONF' start" /dev/null 2>&1)
RC=$?
if [ $RC -ne 0 ]; then
    echo "postfix.sh: 'postfix -c $CONF start' failed (rc $RC):" >&2
    printf '%s\n' "$OUT" | tr -d '\r' >&2
    [ -f "$DIR/maillog" ] && { tail -n 20 "$DIR/maillog"; echo; } >&2
    do_stop
    exit 1
fi

# Wait until every listener is up.
want=""
for a in $ADDRS; do
    for p in "$PF_PLAIN" "$PF_SUBMISSION" "$PF_IMPLICIT" "$PF_TLS13" "$PF_SMALL" "$PF_SHORT"; do
        want="$want $a:$p"
    done
done
deadline=$((SECONDS + START_TIMEOUT))
while :; do
    have=$(ss -Hltn 2>/dev/null | awk '{print $4}')
    missing=""
    for w in $want; do
        printf '%s\n' "$have" | grep -qxF "$w" || missing="$missing $w"
    done
    [ -S "$DIR/spool/public/smtpunix" ] || missing="$missing unix:$DIR/spool/public/smtpunix"
    [ -z "$missing" ] && break
    if [ $SECONDS -ge $deadline ] || ! master_pid >/dev/null; then
        echo "postfix.sh: not listening on:$missing" >&2
        printf '%s\n' "$OUT" | tr -d '\r' >&2
        [ -f "$DIR/maillog" ] && { tail -n 20 "$DIR/maillog"; echo; } >&2
        do_stop
        exit 1
    fi
    sleep 0.05
done
exit 0
