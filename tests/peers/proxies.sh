#!/bin/bash
# proxies.sh start DIR | stop DIR
#
# Real proxies on loopback only, for the proxy tests; see tests/peers/PROXIES.md.
# Ports (env, defaults); each on 127.0.0.1 and, when lo has ::1, on [::1]:
#   PROXY_SOCKS5=24580         Dante, SOCKS5, username/password required
#                              (user proxyuser, password "proxy pass")
#   PROXY_SOCKS4=24581         Dante, SOCKS4 (no authentication)
#   PROXY_SOCKS5_NOAUTH=24582  Dante, SOCKS5 without authentication
#   PROXY_SOCKS4A=24583        Twisted's SOCKS4/4a server (socks4a_twisted.py);
#                              every request in DIR/socks4a-requests.log
#   PROXY_HTTP=24584           tinyproxy, CONNECT, BasicAuth proxyuser proxypass
#   PROXY_HTTP_NOAUTH=24585    tinyproxy, CONNECT, no authentication
#   PROXY_IPV4_ONLY=1          do not listen on [::1]
# start: stops a previous run in DIR, (re)creates the system account proxyuser,
# writes the configurations, starts everything and waits (120 s at most) until
# every port accepts connections; exit 0 when all is up, else prints the logs
# and exits 1 (having stopped what it started). stop: kills each by its
# recorded PID (its own process group); always exits 0.
set -u

PROXY_SOCKS5=${PROXY_SOCKS5:-24580}
PROXY_SOCKS4=${PROXY_SOCKS4:-24581}
PROXY_SOCKS5_NOAUTH=${PROXY_SOCKS5_NOAUTH:-24582}
PROXY_SOCKS4A=${PROXY_SOCKS4A:-24583}
PROXY_HTTP=${PROXY_HTTP:-24584}
PROXY_HTTP_NOAUTH=${PROXY_HTTP_NOAUTH:-24585}
SOCKS_USER=proxyuser
SOCKS_PASS='proxy pass'
HTTP_USER=proxyuser
HTTP_PASS=proxypass      # tinyproxy's parser takes only [-a-z0-9._] here: no space
START_TIMEOUT=120   # generous: a busy machine
PY=/usr/bin/python3

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
NAMES="dante-socks5 dante-socks4 dante-socks5-noauth socks4a tinyproxy tinyproxy-noauth"

die() { echo "proxies.sh: $*" >&2; exit 1; }
usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }

if [ $# -ne 2 ] || [ -z "$2" ]; then usage; fi
CMD=$1
case $CMD in start|stop) ;; *) usage ;; esac
if [ "$CMD" = start ]; then
    mkdir -p "$2" || die "cannot create $2"
fi
if [ ! -d "$2" ]; then
    exit 0    # stop: nothing was started there
fi
DIR=$(cd "$2" && pwd -P) || die "bad DIR $2"
case $DIR in *[[:space:]\"\'\\\$]*) die "DIR must not contain spaces, quotes, \$ or \\: $DIR" ;; esac

IPV6=0
if [ -z "${PROXY_IPV4_ONLY:-}" ] && ip -6 addr show dev lo 2>/dev/null | grep -q '::1/128'; then
    IPV6=1
fi

# ---------------------------------------------------------------- stop
# Any live (not zombie) process in process group $1? PID 1 here may reap
# orphans late, so exited processes can linger a while as zombies.
group_alive() {
    ps -e -o pgid=,stat= 2>/dev/null | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}

stop_one() {
    local f=$DIR/$1.pid pid _
    [ -r "$f" ] || return 0
    pid=$(head -n1 "$f" 2>/dev/null)
    rm -f "$f"
    case $pid in ''|*[!0-9]*) return 0 ;; esac
    [ "$pid" -gt 1 ] || return 0
    # Each peer was started with setsid: its PID is its process group.
    group_alive "$pid" || return 0
    kill -TERM -- "-$pid" 2>/dev/null
    for _ in $(seq 1 50); do
        group_alive "$pid" || return 0
        sleep 0.1
    done
    kill -KILL -- "-$pid" 2>/dev/null
    for _ in $(seq 1 20); do
        group_alive "$pid" || return 0
        sleep 0.1
    done
    return 0
}

do_stop() {
    local n
    for n in $NAMES; do stop_one "$n"; done
    return 0
}

if [ "$CMD" = stop ]; then
    do_stop
    exit 0
fi

# ---------------------------------------------------------------- start
do_stop

for b in danted tinyproxy; do
    command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || [ -x "/usr/bin/$b" ] ||
        die "$b not found: apt-get install -y dante-server tinyproxy python3-twisted"
done
DANTED=$(command -v danted || echo /usr/sbin/danted)
TINYPROXY=$(command -v tinyproxy || echo /usr/bin/tinyproxy)
$PY -c 'import twisted.protocols.socks' 2>/dev/null ||
    die "Twisted not importable by $PY: apt-get install -y python3-twisted"

PORTS="$PROXY_SOCKS5 $PROXY_SOCKS4 $PROXY_SOCKS5_NOAUTH $PROXY_SOCKS4A $PROXY_HTTP $PROXY_HTTP_NOAUTH"
for p in $PORTS; do
    case $p in ''|*[!0-9]*) die "bad port '$p'" ;; esac
done
# shellcheck disable=SC2086 # word splitting wanted
[ "$(printf '%s\n' $PORTS | sort -u | wc -l)" -eq 6 ] || die "ports must differ: $PORTS"

# can_connect HOST PORT: something accepts connections there
can_connect() {
    # shellcheck disable=SC2016 # expanded by the inner bash
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" 2>/dev/null
}
for p in $PORTS; do
    if can_connect 127.0.0.1 "$p" || { [ $IPV6 = 1 ] && can_connect ::1 "$p"; }; then
        die "port $p is already in use (another run? set PROXY_* to other ports)"
    fi
done

# The SOCKS5 account: a system user (Dante's "username" method checks the
# system password database). Created if missing; the password is always reset.
if ! id -u "$SOCKS_USER" >/dev/null 2>&1; then
    useradd -M -s /usr/sbin/nologin "$SOCKS_USER" || die "useradd $SOCKS_USER failed"
fi
echo "$SOCKS_USER:$SOCKS_PASS" | chpasswd || die "chpasswd for $SOCKS_USER failed"

# Dante writes its logs as root (opened before dropping to nobody); tinyproxy
# opens its log after dropping to nobody: DIR must be reachable by nobody.
chmod 755 "$DIR"

# dante_conf NAME PORT METHOD PROXYPROTOCOL
dante_conf() {
    local name=$1 port=$2 method=$3 proto=$4 f=$DIR/$1.conf
    {
        echo "# written by tests/peers/proxies.sh"
        echo "logoutput: $DIR/$name.log"
        echo "internal: 127.0.0.1 port = $port"
        [ $IPV6 = 1 ] && echo "internal: ::1 port = $port"
        echo "external: 127.0.0.1"
        [ $IPV6 = 1 ] && echo "external: ::1"
        echo "socksmethod: $method"
        echo "clientmethod: none"
        echo "user.privileged: root"
        echo "user.unprivileged: nobody"
        echo "timeout.negotiate: 30"
        echo "timeout.io: 0"
        echo
        echo "client pass {"
        echo "    from: 0/0 to: 0/0"
        echo "    log: error"
        echo "}"
        echo
        echo "socks pass {"
        echo "    from: 0/0 to: 0/0"
        echo "    command: connect"
        echo "    proxyprotocol: $proto"
        [ "$method" = username ] && echo "    socksmethod: username"
        echo "    log: error connect disconnect"
        echo "}"
        echo
        echo "socks block {"
        echo "    from: 0/0 to: 0/0"
        echo "    log: error connect"
        echo "}"
    } >"$f"
}

# tinyproxy_conf NAME PORT [USER PASS]
tinyproxy_conf() {
    local name=$1 port=$2 f=$DIR/$1.conf
    {
        echo "# written by tests/peers/proxies.sh"
        echo "User nobody"
        echo "Group nogroup"
        echo "Port $port"
        echo "Listen 127.0.0.1"
        [ $IPV6 = 1 ] && echo "Listen ::1"
        echo "Timeout 600"
        echo "LogFile \"$DIR/$name.log\""
        echo "LogLevel Info"
        echo "PidFile \"$DIR/$name.tinyproxy-pid\""
        echo "MaxClients 100"
        # No Allow/Deny lines (= every client allowed; it listens on loopback
        # only): tinyproxy 1.11.1 reads a garbage peer address for the first
        # IPv6 client after an IPv4 one, and "Allow ::1" then answers 403.
        # No ConnectPort line: CONNECT to any port.
        [ $# -ge 4 ] && echo "BasicAuth $3 $4"
    } >"$f"
    : >"$DIR/$name.log"
    chown nobody "$DIR/$name.log"
}

# launch NAME CMD...: own session and process group; PID recorded in DIR/NAME.pid
launch() {
    local name=$1; shift
    setsid "$@" >"$DIR/$name.out" 2>&1 </dev/null &
    echo $! >"$DIR/$name.pid"
}

rm -f "$DIR"/*.log "$DIR"/*.out "$DIR"/*.conf "$DIR"/*-pid "$DIR"/socks4a.ready
dante_conf dante-socks5 "$PROXY_SOCKS5" username socks_v5
dante_conf dante-socks4 "$PROXY_SOCKS4" none socks_v4
dante_conf dante-socks5-noauth "$PROXY_SOCKS5_NOAUTH" none socks_v5
tinyproxy_conf tinyproxy "$PROXY_HTTP" "$HTTP_USER" "$HTTP_PASS"
tinyproxy_conf tinyproxy-noauth "$PROXY_HTTP_NOAUTH"

for n in dante-socks5 dante-socks4 dante-socks5-noauth; do
    launch "$n" "$DANTED" -f "$DIR/$n.conf" -p "$DIR/$n.danted-pid" -N 1
done
s4a_listen=(--listen "127.0.0.1:$PROXY_SOCKS4A")
[ $IPV6 = 1 ] && s4a_listen+=(--listen "[::1]:$PROXY_SOCKS4A")
launch socks4a "$PY" "$HERE/socks4a_twisted.py" "${s4a_listen[@]}" \
    --requests "$DIR/socks4a-requests.log" --ready "$DIR/socks4a.ready"
launch tinyproxy "$TINYPROXY" -d -c "$DIR/tinyproxy.conf"
launch tinyproxy-noauth "$TINYPROXY" -d -c "$DIR/tinyproxy-noauth.conf"

port_of() {
    case $1 in
        dante-socks5) echo "$PROXY_SOCKS5" ;;
        dante-socks4) echo "$PROXY_SOCKS4" ;;
        dante-socks5-noauth) echo "$PROXY_SOCKS5_NOAUTH" ;;
        socks4a) echo "$PROXY_SOCKS4A" ;;
        tinyproxy) echo "$PROXY_HTTP" ;;
        tinyproxy-noauth) echo "$PROXY_HTTP_NOAUTH" ;;
    esac
}

fail() {
    local n
    trap '' PIPE      # a closed stderr must not stop us before we exit 1
    do_stop           # first, so that nothing is left running whatever happens
    echo "proxies.sh: $*" >&2
    for n in $NAMES; do
        echo "---- $n (port $(port_of "$n")): $DIR/$n.out" >&2
        tail -n 20 "$DIR/$n.out" >&2 2>/dev/null
        if [ -s "$DIR/$n.log" ]; then
            echo "---- $DIR/$n.log" >&2
            tail -n 20 "$DIR/$n.log" >&2
        fi
    done
    exit 1
}

# Wait until every port accepts connections on every address.
pending=$NAMES
deadline=$((SECONDS + START_TIMEOUT))
while [ -n "$pending" ]; do
    left=""
    for n in $pending; do
        pid=$(cat "$DIR/$n.pid")
        group_alive "$pid" || fail "$n (pid $pid) exited during start"
        p=$(port_of "$n")
        if can_connect 127.0.0.1 "$p" && { [ $IPV6 = 0 ] || can_connect ::1 "$p"; }; then
            continue
        fi
        left="$left $n"
    done
    pending=$left
    [ -z "$pending" ] && break
    [ $SECONDS -ge $deadline ] && fail "not listening after ${START_TIMEOUT} s:$pending"
    sleep 0.1
done
exit 0
