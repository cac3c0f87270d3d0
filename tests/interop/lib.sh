# lib.sh - sourced by tests/interop/run.sh and the server scripts.
# Paths, the test CA, port polling and stopping by PID.
INTEROP=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)     # tests/interop
REPO=$(cd "$INTEROP/../.." && pwd)
CACHE=${INTEROP_CACHE:-$INTEROP/.cache}                 # unpacked .debs, node_modules (gitignored)
RUNBASE=${INTEROP_RUN:-$REPO/tests/.run/interop}        # one directory per server, logs and stores
CERTS=$RUNBASE/certs
PY=/usr/bin/python3
NODE_MODULES=$CACHE/node/node_modules
X=$CACHE                                                # the unpacked packages: $X/<package>/...
ACCOUNT_USER=alice
ACCOUNT_PASS=secret

ilog() { echo "interop: $*" >&2; }

# make_certs: the test CA and server certificate (tests/peers/certs.sh)
make_certs() {
    sh "$REPO/tests/peers/certs.sh" "$CERTS" || return 1
    CERT=$CERTS/server.pem KEY=$CERTS/server.key CA=$CERTS/ca.pem
}

# listening PORT: true when something listens on 127.0.0.1:PORT
listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# wait_port PORT SECONDS PID LOGFILE: until PORT listens; fails (printing
# the log's tail) when PID exits first or SECONDS pass. PID may be empty.
wait_port() {
    local port=$1 secs=$2 pid=$3 logf=$4 end
    end=$(( $(date +%s%N) / 1000000 + secs * 1000 ))
    while ! listening "$port"; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            ilog "the server exited before listening on $port; the end of $logf:"
            tail -n 25 "$logf" >&2 2>/dev/null
            return 1
        fi
        if [ $(( $(date +%s%N) / 1000000 )) -ge "$end" ]; then
            ilog "nothing listens on $port after $secs s; the end of $logf:"
            tail -n 25 "$logf" >&2 2>/dev/null
            return 1
        fi
        sleep 0.1
    done
}

# ports_free PORT...: refuse to start over something else
ports_free() {
    local p
    for p in "$@"; do
        if listening "$p"; then ilog "port $p is already in use"; return 1; fi
    done
}

# remember_pid DIR PID: stop_dir DIR will stop it
remember_pid() { echo "$2" >>"$1/pids"; }

# stop_pid PID: SIGTERM, up to 10 s, then SIGKILL. Only this PID.
stop_pid() {
    local pid=$1 i
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ilog "PID $pid ignored SIGTERM for 10 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null
    return 0
}

# stop_dir DIR: every PID in DIR/pids (pid files named there too), newest first
stop_dir() {
    local dir=$1 line pids=()
    [ -f "$dir/pids" ] || return 0
    while read -r line; do
        case $line in
            file:*) [ -f "${line#file:}" ] && pids=("$(head -n1 "${line#file:}")" "${pids[@]}") ;;
            *) pids=("$line" "${pids[@]}") ;;
        esac
    done <"$dir/pids"
    for line in "${pids[@]}"; do stop_pid "$line"; done
    rm -f "$dir/pids"
}

# fresh_dir NAME: an empty run directory for one server (stopping what ran there)
fresh_dir() {
    local d=$RUNBASE/$1
    stop_dir "$d"
    rm -rf "$d"
    mkdir -p "$d"
    chmod 755 "$RUNBASE" "$d"
    echo "$d"
}

# write_deliver DIR: DIR/deliver.sh writes stdin to DIR/store/msg-*.eml
# (through a dot name, so a reader never sees half a file). The store is
# world-writable: the servers deliver as nobody, daemon or their own user.
write_deliver() {
    local d=$1
    mkdir -p "$d/store"
    chmod 1777 "$d/store"
    cat >"$d/deliver.sh" <<EOF
#!/bin/sh
# delivery for the interop matrix: the message on stdin, arguments logged
t=\$(mktemp "$d/store/.in.XXXXXX") || exit 75
cat >"\$t" || exit 75
chmod 644 "\$t"
echo "\$(date +%s.%N) \$*" >>"$d/store/.deliveries.log"
mv "\$t" "$d/store/msg-\${t##*.}.eml"
EOF
    chmod 755 "$d/deliver.sh"
}

# need NAME PATH: a clear message when an install step is missing
need() {
    if [ ! -e "$2" ]; then
        ilog "$1 is missing ($2): run make interop-deps (bash tests/interop/deps.sh)"
        return 1
    fi
}

# private_etc DIR: DIR/etc/resolv.conf (a resolver on 127.0.0.1, where none
# listens: every DNS query fails at once and nothing leaves the machine) and
# DIR/etc/hosts (localhost and this host's name), for servers started through
# tests/interop/private-etc.sh DIR CMD... (a mount namespace where the two
# files are bind-mounted over /etc's; the real /etc is untouched).
private_etc() {
    mkdir -p "$1/etc"
    echo "nameserver 127.0.0.1" >"$1/etc/resolv.conf"
    printf '127.0.0.1 localhost\n127.0.1.1 %s.localdomain %s\n::1 localhost\n' \
        "$(hostname)" "$(hostname)" >"$1/etc/hosts"
}
