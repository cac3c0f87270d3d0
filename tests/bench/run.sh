#!/bin/bash
# run.sh - `make bench`: smtp.h against the reference clients, on loopback.
#
# N messages (2000) of about 1 KB, one recipient each, over ONE connection:
#   plain  to Postfix's smtp-sink: smtp.h, smtp-source -d, curl -K (N
#          transfers, connection reused), Python smtplib
#   TLS    implicit TLS to tests/bench/tls_sink (BearSSL server mode):
#          smtp.h, curl smtps://, smtplib.SMTP_SSL (smtp-source has no TLS)
#   and    the same clients in cleartext to tls_sink -P, to tell the TLS
#          cost from the sink's; smtp.h with BDAT and with DATA to
#          tls_sink -P -C (CHUNKING offered)
# Every peer sends the same message: the one smtp.h composes, captured once
# (msg.eml); run.sh checks that the sink received the same bytes from each.
# Each client runs RUNS times, interleaved; the best wall-clock time counts
# (process start included, for every client alike). Then reconnect costs,
# syscalls per message (perf, else strace, when present), results.md.
#
# Parallel sessions (issue 17): PAR_S connections (100) at once, PAR_M
# messages (100) on each, to smtp-sink: bench_parallel -m threads (a thread
# and a blocking session each), smtp-source -d -s PAR_S -m PAR_S*PAR_M,
# bench_parallel -m step (one thread, the step API, waiting in poll(); -e:
# epoll; "n/a" when smtp.h has no step API), the opt-in -m step -P
# (cfg.pipeline_messages, labelled as such, not counted for the target),
# and bench_floor (no library: smtp.h's wire pattern over raw sockets, the
# best any client of that pattern can do against this sink). Each run
# also records the sink's CPU time (/proc/PID/schedstat), to show whether
# the sink was the limit; once with sink and client on one CPU, once with
# the sink on the second CPU. A counted warm-up run checks PAR_S sessions
# and every message arrived; listen-queue overflows are counted; then one
# run of each under perf stat counts syscalls per message on both sides.
#
# Placement: sinks and clients are pinned to one CPU, the idlest when the
# run starts (BENCH_PIN=one, the default), because on a small VM where
# the scheduler puts the two ends of a loopback connection decides the
# figures: on one core a round trip costs a context switch, across cores
# a wake-up of the other vCPU (about 50 us here), and the placement
# changes from run to run. One more section pins the sink to a second CPU
# on purpose: every round trip then crosses cores, a stand-in for a real
# network. BENCH_PIN=none leaves everything to the scheduler.
#
# Environment: BENCH_N (2000), BENCH_RUNS (7), BENCH_RECONNECTS (200),
# BENCH_PIN (one|none), BENCH_PAR_SESSIONS (100), BENCH_PAR_PER (100),
# BENCH_OUT (tests/bench/results.md), B (tests/.build), RUNDIR
# (tests/.run). Ports 24701-24713 on 127.0.0.1. Everything started is
# stopped by PID.
set -u
cd "$(dirname "$0")/../.." || exit 1

B=${B:-tests/.build}
BIN=$B/bench
RUNDIR=${RUNDIR:-tests/.run}
W=$RUNDIR/bench
N=${BENCH_N:-2000}
RUNS=${BENCH_RUNS:-7}
PIN_MODE=${BENCH_PIN:-one}
RECONN=${BENCH_RECONNECTS:-200}
OUT=${BENCH_OUT:-tests/bench/results.md}
PY=/usr/bin/python3
P_SINK=24701      # smtp-sink, timed runs
P_SINKC=24702     # smtp-sink -c, the counted warm-up run of each client
P_DUMP=24703      # smtp-sink -D, one message from each client, compared
P_SPLIT=24704     # smtp-sink on a second CPU, clients on the first
P_TLS=24711       # tls_sink, implicit TLS
P_TLSP=24712      # tls_sink -P, cleartext
P_CHUNK=24713     # tls_sink -P -C, cleartext, CHUNKING offered
P_PAR=24705       # smtp-sink, parallel sessions, on the clients' CPU
P_PARS=24706      # smtp-sink, parallel sessions, on a second CPU
PAR_S=${BENCH_PAR_SESSIONS:-100}
PAR_M=${BENCH_PAR_PER:-100}
PAR_N=$((PAR_S * PAR_M))
# smtp-sink serves at most -m connections at once (default 256; the rest
# wait in the listen queue) and listens with the backlog given last
SINK_MAXCONN=$(( PAR_S > 256 ? PAR_S : 256 ))
SINK_BACKLOG=$(( PAR_S > 1000 ? PAR_S : 1000 ))
FROM=bench@example.com
TO=sink@example.com
HELO=bench.example.com
T_START=$(date +%s)

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "bench: $*" >&2; exit 1; }

for t in smtp-sink smtp-source curl ss "$PY" "$BIN/bench_smtph" "$BIN/bench_parallel" "$BIN/bench_floor" "$BIN/tls_sink" "$BIN/timeit"; do
    command -v "$t" >/dev/null 2>&1 || fail "missing $t (make bench runs make deps and builds $BIN)"
done
for p in $P_SINK $P_SINKC $P_DUMP $P_SPLIT $P_TLS $P_TLSP $P_CHUNK $P_PAR $P_PARS; do
    [ -z "$(ss -Hltn "( sport = :$p )" 2>/dev/null)" ] || fail "port $p is in use"
done

rm -rf "${W:?}/run" "$W/dump" "$W"/curl-*.cfg
mkdir -p "$W/run" "$W/dump"
chmod 777 "$W/dump"     # smtp-sink writes it as nobody
bash tests/peers/certs.sh "$W/certs" || fail "certs.sh failed"
CERTS=$W/certs
CA=$CERTS/ca.pem

# wait_listen PORT PID NAME
wait_listen() {
    local i
    for i in $(seq 1 200); do
        [ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ] && return 0
        kill -0 "$2" 2>/dev/null || { cat "$W/run/$3.log" >&2; fail "$3 exited"; }
        sleep 0.05
    done
    fail "$3 not listening on $1 after 10 s"
}

# ---- placement: the two idlest CPUs over 1 s ----
cpu_rank() {
    local a b
    a=$(grep '^cpu[0-9]' /proc/stat); sleep 1; b=$(grep '^cpu[0-9]' /proc/stat)
    paste -d' ' <(echo "$a") <(echo "$b") | awk '{ n = NF / 2
        busy = ($(n + 2) + $(n + 3) + $(n + 4) + $(n + 7) + $(n + 8) + $(n + 9)) - ($2 + $3 + $4 + $7 + $8 + $9)
        sub(/^cpu/, "", $1); print busy, $1 }' | sort -n | awk '{ print $2 }' | tr '\n' ' '
}
read -r CPU_A CPU_B _ <<<"$(cpu_rank)"
P=()       # the prefix that pins a sink or a client
PB=()      # the sink of the split section
if command -v taskset >/dev/null 2>&1; then
    [ "$PIN_MODE" = one ] && P=(taskset -c "$CPU_A")
    [ -n "${CPU_B:-}" ] && PB=(taskset -c "$CPU_B")
fi

SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)   # smtp-sink refuses to run as root without -u
# -a: no AUTH in EHLO (smtp-sink would answer any AUTH with 250). PIPELINING,
# 8BITMIME, ENHANCEDSTATUSCODES, DSN stay advertised, as a real server does.
"${P[@]}" smtp-sink "${SINK_USER[@]}" -a 127.0.0.1:$P_SINK 1000 >"$W/run/sink.log" 2>&1 &
PIDS+=($!); wait_listen $P_SINK $! sink
"${P[@]}" smtp-sink "${SINK_USER[@]}" -a -c -m $SINK_MAXCONN 127.0.0.1:$P_SINKC $SINK_BACKLOG >"$W/run/sinkc.log" 2>&1 &
PIDS+=($!); wait_listen $P_SINKC $! sinkc
smtp-sink "${SINK_USER[@]}" -a -D "$W/dump/all" 127.0.0.1:$P_DUMP 1000 >"$W/run/dump.log" 2>&1 &
PIDS+=($!); wait_listen $P_DUMP $! dump
if [ ${#PB[@]} -gt 0 ]; then
    "${PB[@]}" smtp-sink "${SINK_USER[@]}" -a 127.0.0.1:$P_SPLIT 1000 >"$W/run/split.log" 2>&1 &
    PIDS+=($!); wait_listen $P_SPLIT $! split
fi
"${P[@]}" smtp-sink "${SINK_USER[@]}" -a -m $SINK_MAXCONN 127.0.0.1:$P_PAR $SINK_BACKLOG >"$W/run/par.log" 2>&1 &
PIDS+=($!); wait_listen $P_PAR $! par; PAR_SINK_PID=$!
PARS_SINK_PID=""
if [ ${#PB[@]} -gt 0 ]; then
    "${PB[@]}" smtp-sink "${SINK_USER[@]}" -a -m $SINK_MAXCONN 127.0.0.1:$P_PARS $SINK_BACKLOG >"$W/run/pars.log" 2>&1 &
    PIDS+=($!); wait_listen $P_PARS $! pars; PARS_SINK_PID=$!
fi
"${P[@]}" "$BIN/tls_sink" -a 127.0.0.1 -p $P_TLS -c "$CERTS/server.pem" -k "$CERTS/server.key" 2>"$W/run/tls.log" &
PIDS+=($!); wait_listen $P_TLS $! tls
"${P[@]}" "$BIN/tls_sink" -a 127.0.0.1 -p $P_TLSP -P 2>"$W/run/tlsp.log" &
PIDS+=($!); wait_listen $P_TLSP $! tlsp
"${P[@]}" "$BIN/tls_sink" -a 127.0.0.1 -p $P_CHUNK -P -C 2>"$W/run/chunk.log" &
PIDS+=($!); wait_listen $P_CHUNK $! chunk

# ---- the message: smtp.h composes it; the others send the same bytes ----
"$BIN/bench_smtph" -p $P_DUMP -n 1 -d "$W/msg.eml" >/dev/null || fail "bench_smtph could not send to smtp-sink"
tr -d '\r' <"$W/msg.eml" >"$W/msg.lf"     # smtp-source -F adds CRLF to each line
MSG_BYTES=$(wc -c <"$W/msg.eml")

# curl: one process, N transfers; connections are reused between them
curl_cfg() {   # curl_cfg FILE URL CAFILE-or-"" COUNT (made once)
    [ -f "$1" ] && return
    {
        echo "silent"; echo "show-error"; echo "fail-early"
        echo "mail-from = \"$FROM\""; echo "mail-rcpt = \"$TO\""
        [ -n "$3" ] && echo "cacert = \"$3\""
        local i
        for ((i = 0; i < $4; i++)); do
            echo "url = \"$2\""; echo "upload-file = \"$W/msg.eml\""
        done
    } >"$1"
}

# cmd CLIENT PORT COUNT: the command line of one client, in CMD
cmd() {
    local c=$1 port=$2 n=$3
    case $c in
        smtph)      CMD=("$BIN/bench_smtph" -p "$port" -n "$n" -c 100) ;;
        smtph-send) CMD=("$BIN/bench_smtph" -p "$port" -n "$n" -c 0) ;;
        smtph-b10)  CMD=("$BIN/bench_smtph" -p "$port" -n "$n" -c 10) ;;
        smtph-ball) CMD=("$BIN/bench_smtph" -p "$port" -n "$n" -c "$n") ;;
        smtph-data) CMD=("$BIN/bench_smtph" -p "$port" -n "$n" -c 100 -k) ;;
        smtph-pipe) CMD=("$BIN/bench_smtph" -p "$port" -n "$n" -c 100 -P) ;;
        smtph-tls)      CMD=("$BIN/bench_smtph" -p "$port" -n "$n" -c 100 -t -a "$CA") ;;
        smtph-send-tls) CMD=("$BIN/bench_smtph" -p "$port" -n "$n" -c 0 -t -a "$CA") ;;
        smtp-source) CMD=(smtp-source -d -m "$n" -M "$HELO" -f "$FROM" -t "$TO" -F "$W/msg.lf" "127.0.0.1:$port") ;;
        curl)       curl_cfg "$W/curl-$port-$n.cfg" "smtp://127.0.0.1:$port/$HELO" "" "$n"
                    CMD=(curl -K "$W/curl-$port-$n.cfg") ;;
        curl-tls)   curl_cfg "$W/curl-$port-$n-tls.cfg" "smtps://127.0.0.1:$port/$HELO" "$CA" "$n"
                    CMD=(curl -K "$W/curl-$port-$n-tls.cfg") ;;
        python)     CMD=("$PY" tests/bench/smtplib_client.py 127.0.0.1 "$port" "$n" "$W/msg.eml") ;;
        python-tls) CMD=("$PY" tests/bench/smtplib_client.py 127.0.0.1 "$port" "$n" "$W/msg.eml" "$CA") ;;
        # parallel sessions: COUNT is the total; PAR_S sessions of COUNT / PAR_S
        par-threads) CMD=("$BIN/bench_parallel" -p "$port" -m threads -s "$PAR_S" -n $((n / PAR_S)) -c 100) ;;
        par-step)    CMD=("$BIN/bench_parallel" -p "$port" -m step -s "$PAR_S" -n $((n / PAR_S)) -c 100) ;;
        par-step-epoll) CMD=("$BIN/bench_parallel" -p "$port" -m step -e -s "$PAR_S" -n $((n / PAR_S)) -c 100) ;;
        par-step-pipe)  CMD=("$BIN/bench_parallel" -p "$port" -m step -P -s "$PAR_S" -n $((n / PAR_S)) -c 100) ;;
        par-floor)   CMD=("$BIN/bench_floor" -p "$port" -s "$PAR_S" -n $((n / PAR_S)) -f "$W/msg.eml") ;;
        par-source)  CMD=(smtp-source -d -s "$PAR_S" -m "$n" -M "$HELO" -f "$FROM" -t "$TO" -F "$W/msg.lf" "127.0.0.1:$port") ;;
    esac
}

# ---- 1. the same message from every client (smtp-sink -D) ----
# bench_parallel -m step exits 3 while smtp.h has no step API: its row is "n/a"
"$BIN/bench_parallel" -p $P_DUMP -m step -s 1 -n 1 >/dev/null 2>"$W/run/dump-par-step.err"
case $? in
    0) HAVE_STEP=1 ;;
    3) HAVE_STEP=0 ;;
    *) cat "$W/run/dump-par-step.err" >&2; fail "bench_parallel -m step could not send to smtp-sink" ;;
esac
for c in smtp-source curl python; do
    cmd $c $P_DUMP 1
    "${CMD[@]}" >/dev/null 2>"$W/run/dump-$c.err" || { cat "$W/run/dump-$c.err" >&2; fail "$c could not send to smtp-sink"; }
done
"$BIN/bench_parallel" -p $P_DUMP -m threads -s 1 -n 1 >/dev/null 2>"$W/run/dump-par-threads.err" ||
    { cat "$W/run/dump-par-threads.err" >&2; fail "bench_parallel -m threads could not send to smtp-sink"; }
"$BIN/bench_floor" -p $P_DUMP -s 1 -n 1 -f "$W/msg.eml" >/dev/null 2>"$W/run/dump-par-floor.err" ||
    { cat "$W/run/dump-par-floor.err" >&2; fail "bench_floor could not send to smtp-sink"; }
DUMPED=$((6 + HAVE_STEP))   # bench_smtph, the three above, bench_parallel (-m threads, -m step), bench_floor
sleep 0.2
SAME=$("$PY" - "$W/dump/all" "$DUMPED" <<'EOF'
import sys, re
text = open(sys.argv[1], 'rb').read().decode('ascii', 'replace')
msgs = [m for m in re.split(r'(?m)^X-Client-Addr: ', text) if m.strip()]
bodies = []
for m in msgs:
    lines = m.split('\n')
    i = next(k for k, l in enumerate(lines) if l.startswith('Received: from'))
    body = [l for l in lines[i + 3:] if not l.startswith(('Date: ', 'Message-ID: '))]
    bodies.append('\n'.join(body).rstrip('\n'))
print('yes' if len(bodies) == int(sys.argv[2]) and len(set(bodies)) == 1 else 'NO (%d messages, %d different)' % (len(bodies), len(set(bodies))))
EOF
)
[ "$SAME" = yes ] || fail "the clients did not send the same message: $SAME (see $W/dump/all)"

# ---- 2. a counted warm-up run of each client: N messages, ONE session
# (PAR_N messages in PAR_S sessions for the parallel ones) ----
sink_counts() { tr '\r' '\n' <"$W/run/sinkc.log" | grep 'sess=' | tail -1; }
counted() {   # counted CLIENT COUNT SESSIONS
    local c=$1 n=$2 sess=$3 before after b_sess b_msg a_sess a_msg i rc
    before=$(sink_counts); b_sess=$(echo "$before" | sed -n 's/.*sess=\([0-9]*\).*/\1/p'); b_msg=$(echo "$before" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p')
    cmd "$c" $P_SINKC "$n"
    "${P[@]}" "${CMD[@]}" >/dev/null 2>"$W/run/warm-$c.err"; rc=$?
    case $c in par-step*) [ $rc = 3 ] && return 0 ;; esac   # no step API in this smtp.h: n/a
    [ $rc = 0 ] || { cat "$W/run/warm-$c.err" >&2; fail "$c failed in the warm-up run"; }
    for i in $(seq 1 40); do
        after=$(sink_counts)
        a_sess=$(echo "$after" | sed -n 's/.*sess=\([0-9]*\).*/\1/p'); a_msg=$(echo "$after" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p')
        [ "$(( ${a_sess:-0} - ${b_sess:-0} ))" = "$sess" ] && [ "$(( ${a_msg:-0} - ${b_msg:-0} ))" = "$n" ] && break
        sleep 0.05
    done
    [ "$(( ${a_sess:-0} - ${b_sess:-0} ))" = "$sess" ] && [ "$(( ${a_msg:-0} - ${b_msg:-0} ))" = "$n" ] ||
        fail "$c: smtp-sink counted $(( ${a_sess:-0} - ${b_sess:-0} )) sessions and $(( ${a_msg:-0} - ${b_msg:-0} )) messages, expected $sess and $n"
}
for c in smtph smtph-send smtp-source curl python; do counted $c "$N" 1; done
T_PARWARM=$(date +%s.%N)
for c in par-threads par-source par-floor par-step par-step-epoll par-step-pipe; do counted $c "$PAR_N" "$PAR_S"; done
T_PARWARM=$(awk -v a="$T_PARWARM" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# ---- 3. timed runs, interleaved ----
PLAIN=(smtph smtph-pipe smtph-send smtph-b10 smtph-ball smtp-source curl python)
TLSP=(smtph smtp-source curl python)
TLS=(smtph-tls smtph-send-tls curl-tls python-tls)
CHUNK=(smtph smtph-data smtph-send)
SPLIT=()
[ ${#PB[@]} -gt 0 ] && SPLIT=(smtph smtph-send smtp-source curl python)
PAR=(par-threads par-source par-floor)
[ "$HAVE_STEP" = 1 ] && PAR=(par-step par-step-epoll par-step-pipe "${PAR[@]}")
# busy_pct: CPU use by everything else, over 1 s while nothing of ours runs
busy_pct() {
    local a b
    a=($(head -1 /proc/stat)); sleep 1; b=($(head -1 /proc/stat))
    awk -v u="$(( (b[1] + b[2] + b[3] + b[6] + b[7] + b[8]) - (a[1] + a[2] + a[3] + a[6] + a[7] + a[8]) ))" \
        -v i="$(( (b[4] + b[5]) - (a[4] + a[5]) ))" 'BEGIN { printf "%.0f", (u + i) ? 100 * u / (u + i) : 0 }'
}
BUSY_START=$(busy_pct)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
echo "bench: $N messages of $MSG_BYTES bytes, one connection each run, best of $RUNS (other processes: $BUSY_START% CPU)"
echo "bench: and $PAR_N messages over $PAR_S connections at once (parallel sessions), each client $RUNS times"
timed() {   # timed TAG CLIENT PORT [CPU]
    local pin=("${P[@]}")
    [ $# -gt 3 ] && pin=(taskset -c "$4")
    cmd "$2" "$3" "$N"
    "${pin[@]}" "$BIN/timeit" "$W/run/$1.times" "${CMD[@]}" >>"$W/run/$1.out" 2>>"$W/run/$1.err" ||
        { cat "$W/run/$1.err" >&2; fail "$2 failed (port $3)"; }
}
# ptimed TAG CLIENT PORT SINK_PID [CPU]: a parallel-sessions run; the sink's
# CPU time over the run (ns, /proc/PID/schedstat) goes to TAG.sink
sink_ns() { cut -d' ' -f1 "/proc/$1/schedstat"; }
PAR_SECS=0
ptimed() {
    local pin=("${P[@]}") a b t0 t1
    [ $# -gt 4 ] && pin=(taskset -c "$5")
    cmd "$2" "$3" "$PAR_N"
    t0=$(date +%s.%N); a=$(sink_ns "$4")
    "${pin[@]}" "$BIN/timeit" "$W/run/$1.times" "${CMD[@]}" >>"$W/run/$1.out" 2>>"$W/run/$1.err" ||
        { cat "$W/run/$1.err" >&2; fail "$2 failed (port $3)"; }
    b=$(sink_ns "$4"); t1=$(date +%s.%N)
    echo "$((b - a))" >>"$W/run/$1.sink"
    PAR_SECS=$(awk -v s="$PAR_SECS" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", s + b - a }')
}
# listen-queue overflows and drops on this host (or netns) during the timed runs
listen_drops() { awk '/^TcpExt:/ { if (!h) { split($0, k); h = 1 } else { split($0, v)
    for (i = 2; i <= NF; i++) if (k[i] == "ListenOverflows" || k[i] == "ListenDrops") n += v[i]; print n + 0 } }' /proc/net/netstat; }
DROPS_START=$(listen_drops)
for r in $(seq 1 "$RUNS"); do
    for c in "${PAR[@]}"; do ptimed "par1-$c" "$c" $P_PAR "$PAR_SINK_PID"; done
    [ -n "$PARS_SINK_PID" ] && for c in "${PAR[@]}"; do ptimed "par2-$c" "$c" $P_PARS "$PARS_SINK_PID" "$CPU_A"; done
    for c in "${PLAIN[@]}"; do timed "plain-$c" "$c" $P_SINK; done
    for c in "${TLSP[@]}"; do timed "tlsp-$c" "$c" $P_TLSP; done
    for c in "${TLS[@]}"; do timed "tls-$c" "$c" $P_TLS; done
    for c in "${CHUNK[@]}"; do timed "chunk-$c" "$c" $P_CHUNK; done
    for c in "${SPLIT[@]}"; do timed "split-$c" "$c" $P_SPLIT "$CPU_A"; done
    printf '.'
done
echo
DROPS_END=$(listen_drops)
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY_END=$(busy_pct)
sleep 0.2
got=$(grep -c " msgs=$N " "$W/run/tls.log")
[ "$got" = "$(( RUNS * ${#TLS[@]} ))" ] || fail "tls_sink saw $got connections with $N messages, expected $(( RUNS * ${#TLS[@]} ))"
got=$(grep -c " msgs=$N plain" "$W/run/tlsp.log")
[ "$got" = "$(( RUNS * ${#TLSP[@]} ))" ] || fail "tls_sink -P saw $got connections with $N messages, expected $(( RUNS * ${#TLSP[@]} ))"
got=$(grep -c " msgs=$N plain" "$W/run/chunk.log")
[ "$got" = "$(( RUNS * ${#CHUNK[@]} ))" ] || fail "tls_sink -P -C saw $got connections with $N messages, expected $(( RUNS * ${#CHUNK[@]} ))"
grep -q 'body=BDAT' "$W/run/chunk-smtph.out" && ! grep -q 'body=BDAT' "$W/run/chunk-smtph-data.out" ||
    fail "smtp.h did not use BDAT with tls_sink -C, or used it despite no_chunking"

# stats TAG: "best_rate median_rate cpu_ms_of_best"
stats() {
    sort -n "$W/run/$1.times" | awk -v n="$N" '{ w[NR] = $1; c[NR] = ($2 + $3) * 1000 }
        END { m = (NR % 2) ? w[(NR + 1) / 2] : (w[NR / 2] + w[NR / 2 + 1]) / 2;
              printf "%.0f %.0f %.1f\n", n / w[1], n / m, c[1] }'
}
# pstats TAG (parallel sessions): "best_rate median_rate client_cpu_us/msg
# sink_cpu_us/msg client_busy_% sink_busy_%", all but the first the
# medians over the runs (busy: CPU time over the run's wall clock)
pstats() {
    paste -d' ' "$W/run/$1.times" "$W/run/$1.sink" | awk -v n="$PAR_N" '
        function med(a, k,   i, j, t) { for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
                                       return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
        { k++; w[k] = $1; c[k] = ($2 + $3) * 1e6 / n; s[k] = $5 / 1e3 / n; b[k] = 100 * $5 / 1e9 / $1
          cb[k] = 100 * ($2 + $3) / $1; if (k == 1 || $1 < best) best = $1 }
        END { printf "%.0f %.0f %.1f %.1f %.0f %.0f\n", n / best, n / med(w, k), med(c, k), med(s, k), med(cb, k), med(b, k) }'
}

# ---- 4. reconnects: open + 1 message + close, RECONN times ----
best_reconnect() {   # best_reconnect ARGS...: best ms per connection of 3
    local i best=""
    for i in 1 2 3; do
        local ms
        ms=$("${P[@]}" "$BIN/bench_smtph" -r "$RECONN" "$@" | sed -n 's/.*ms_per_conn=\([0-9.]*\).*/\1/p')
        [ -n "$ms" ] || return 1
        best=$(awk -v a="$ms" -v b="${best:-1e9}" 'BEGIN { printf "%.3f", a < b ? a : b }')
    done
    echo "$best"
}
RC_PLAIN=$(best_reconnect -p $P_SINK) || fail "bench_smtph -r failed (smtp-sink)"
RC_TLSP=$(best_reconnect -p $P_TLSP) || fail "bench_smtph -r failed (tls_sink -P)"
RC_TLS=$(best_reconnect -p $P_TLS -t -a "$CA") || fail "bench_smtph -r -t failed (tls_sink)"
# -R: a TLS session cache (cfg.tls_cache); bench_smtph fails unless all but the first resumed
RC_RES=$(best_reconnect -p $P_TLS -t -a "$CA" -R) || fail "bench_smtph -r -t -R failed: sessions not resumed"
RES_SEEN=$(grep -c 'resumed=1' "$W/run/tls.log")
[ "$RES_SEEN" = "$(( 3 * (RECONN - 1) ))" ] || fail "tls_sink saw $RES_SEEN resumed sessions, expected $(( 3 * (RECONN - 1) ))"

# ---- 5. syscalls per message: runs of 200 and 400, the difference / 200 ----
# perf stat counts syscall tracepoints without slowing the client (strace
# does, and then fewer reads find nothing there); strace -c is the fallback.
SC_CLIENTS=(smtph smtph-send smtp-source curl python)
SYSCALLS=""
SC_HOW=""
EV_W="sendto write sendmsg writev"; EV_R="recvfrom read recvmsg readv"
EV_P="poll ppoll select pselect6 epoll_wait epoll_pwait"
if command -v perf >/dev/null 2>&1 && perf stat -e raw_syscalls:sys_enter -x, -o /dev/null true >/dev/null 2>&1; then
    SC_HOW=perf
    PERF_EV=(-e raw_syscalls:sys_enter -e context-switches)
    for e in $EV_W $EV_R $EV_P; do PERF_EV+=(-e "syscalls:sys_enter_$e"); done
    for e in $EV_R; do PERF_EV+=(-e "syscalls:sys_exit_$e" --filter 'ret == -11'); done
    for c in "${SC_CLIENTS[@]}"; do
        for n in 200 400; do
            cmd $c $P_SINK $n
            "${P[@]}" perf stat -x, -o "$W/run/perf-$c-$n" "${PERF_EV[@]}" "${CMD[@]}" >/dev/null 2>&1 || fail "perf stat $c failed"
        done
        row=$(awk -F, -v ew=" $EV_W " -v er=" $EV_R " -v ep=" $EV_P " '
            FNR == 1 { f++ }
            NF > 3 && $1 ~ /^[0-9]+$/ {
                ev = $3; k = ""
                if (ev == "raw_syscalls:sys_enter") k = "t"
                else if (ev == "context-switches") k = "cs"
                else if (ev ~ /^syscalls:sys_exit_/) k = "e"
                else { sub(/^syscalls:sys_enter_/, "", ev)
                       if (index(ew, " " ev " ")) k = "w"; else if (index(er, " " ev " ")) k = "r"; else if (index(ep, " " ev " ")) k = "p" }
                if (k != "") v[f, k] += $1 }
            END { d = 200; t = (v[2, "t"] - v[1, "t"]) / d; w = (v[2, "w"] - v[1, "w"]) / d
                  r = (v[2, "r"] - v[1, "r"]) / d; p = (v[2, "p"] - v[1, "p"]) / d
                  printf "%.1f | %.1f | %.1f (%.1f) | %.1f | %.1f | %.1f", t, w, r, (v[2, "e"] - v[1, "e"]) / d, p,
                         t - w - r - p, (v[2, "cs"] - v[1, "cs"]) / d }' "$W/run/perf-$c-200" "$W/run/perf-$c-400")
        SYSCALLS+=$'\n'"| $c | $row |"
    done
elif command -v strace >/dev/null 2>&1; then
    SC_HOW=strace
    for c in "${SC_CLIENTS[@]}"; do
        for n in 200 400; do
            cmd $c $P_SINK $n
            "${P[@]}" strace -f -c -o "$W/run/strace-$c-$n" "${CMD[@]}" >/dev/null 2>&1 || fail "strace $c failed"
        done
        row=$(awk -v ew=" $EV_W " -v er=" $EV_R " -v ep=" $EV_P " '
            FNR == 1 { f++ }
            /^ *[0-9.]+ +[0-9.]+ +[0-9]+ +[0-9]+/ && $NF != "total" {
                ev = $NF; calls = $4; errs = (NF == 6) ? $5 : 0; k = "o"
                if (index(ew, " " ev " ")) k = "w"
                else if (index(er, " " ev " ")) { k = "r"; v[f, "e"] += errs }
                else if (index(ep, " " ev " ")) k = "p"
                v[f, k] += calls; v[f, "t"] += calls }
            END { d = 200
                  printf "%.1f | %.1f | %.1f (%.1f) | %.1f | %.1f | —", (v[2, "t"] - v[1, "t"]) / d, (v[2, "w"] - v[1, "w"]) / d,
                         (v[2, "r"] - v[1, "r"]) / d, (v[2, "e"] - v[1, "e"]) / d, (v[2, "p"] - v[1, "p"]) / d,
                         (v[2, "o"] - v[1, "o"]) / d }' "$W/run/strace-$c-200" "$W/run/strace-$c-400")
        SYSCALLS+=$'\n'"| $c | $row |"
    done
fi

# ---- 5b. parallel sessions: syscalls per message on both sides, one run
# each (perf stat on the client, and on the sink by PID meanwhile), sink and
# client on one CPU; counts over the whole run / PAR_N, so connection setup
# is in (about 0.2 per message) ----
PSYSCALLS=""
if [ "$SC_HOW" = perf ]; then
    PEV=(-e raw_syscalls:sys_enter)
    for e in $EV_W $EV_R $EV_P; do PEV+=(-e "syscalls:sys_enter_$e"); done
    for e in $EV_R; do PEV+=(-e "syscalls:sys_exit_$e" --filter 'ret == -11'); done
    psc_row() {   # psc_row FILE: "total | writes | reads (EAGAIN) | waits | other"
        awk -F, -v n="$PAR_N" -v ew=" $EV_W " -v er=" $EV_R " -v ep=" $EV_P " '
            NF > 3 && $1 ~ /^[0-9]+$/ {
                ev = $3; k = ""
                if (ev == "raw_syscalls:sys_enter") k = "t"
                else if (ev ~ /^syscalls:sys_exit_/) k = "e"
                else { sub(/^syscalls:sys_enter_/, "", ev)
                       if (index(ew, " " ev " ")) k = "w"; else if (index(er, " " ev " ")) k = "r"; else if (index(ep, " " ev " ")) k = "p" }
                if (k != "") v[k] += $1 }
            END { printf "%.1f | %.1f | %.1f (%.1f) | %.2f | %.1f", v["t"] / n, v["w"] / n, v["r"] / n, v["e"] / n, v["p"] / n,
                         (v["t"] - v["w"] - v["r"] - v["p"]) / n }' "$1"
    }
    for c in "${PAR[@]}"; do
        cmd "$c" $P_PAR "$PAR_N"
        perf stat -x, -o "$W/run/psc-$c-sink" "${PEV[@]}" -p "$PAR_SINK_PID" >/dev/null 2>&1 &
        PERF_PID=$!; PIDS+=("$PERF_PID")
        sleep 0.5   # attached
        "${P[@]}" perf stat -x, -o "$W/run/psc-$c-client" "${PEV[@]}" "${CMD[@]}" >/dev/null 2>&1 || fail "perf stat $c failed"
        kill -INT "$PERF_PID"; wait "$PERF_PID" 2>/dev/null
        PSYSCALLS+=$'\n'"| $c | $(psc_row "$W/run/psc-$c-client") | $(psc_row "$W/run/psc-$c-sink") |"
    done
fi

# ---- 6. the report ----
declare -A RATE MED CPU
declare -A PCPU PSINK PBUSY PCBUSY
for tag in $(cd "$W/run" && ls ./*.times | sed 's|^\./||; s|\.times$||'); do
    case $tag in
        par[12]-*) read -r RATE[$tag] MED[$tag] PCPU[$tag] PSINK[$tag] PCBUSY[$tag] PBUSY[$tag] <<<"$(pstats "$tag")" ;;
        *) read -r RATE[$tag] MED[$tag] CPU[$tag] <<<"$(stats "$tag")" ;;
    esac
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() {   # row LABEL TAG REF_TAG COMMAND
    local r="—"
    [ -n "$3" ] && r="$(ratio "${RATE[$3]}" "${RATE[$2]}")×"
    local c="\`$4\`"
    [ -z "$4" ] && c=""
    echo "| $1 | ${RATE[$2]} | ${MED[$2]} | ${CPU[$2]} | $r | $c |"
}
HDR="| client | msgs/s (best of $RUNS) | msgs/s (median) | CPU ms, best run | smtp.h ÷ client | command |"$'\n'"|---|---:|---:|---:|---:|---|"
R_SRC=$(ratio "${RATE[plain-smtph]}" "${RATE[plain-smtp-source]}")
R_CURL=$(ratio "${RATE[plain-smtph]}" "${RATE[plain-curl]}")
R_TCURL=$(ratio "${RATE[tls-smtph-tls]}" "${RATE[tls-curl-tls]}")
SPLIT_SRC=""; SPLIT_CURL=""
if [ ${#SPLIT[@]} -gt 0 ]; then
    SPLIT_SRC=" (across CPUs: $(ratio "${RATE[split-smtph]}" "${RATE[split-smtp-source]}")×)"
    SPLIT_CURL=" (across CPUs: $(ratio "${RATE[split-smtph]}" "${RATE[split-curl]}")×)"
fi
# cpuratio CLIENT: smtp-source's client + sink CPU per message over CLIENT's (one CPU, medians)
cpuratio() { awk -v a="${PCPU[par1-par-source]}" -v b="${PSINK[par1-par-source]}" -v c="${PCPU[par1-$1]}" -v d="${PSINK[par1-$1]}" \
    'BEGIN { printf "%.2f", (a + b) / (c + d) }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t) ? "met" : "NOT met" }'; }
# parallel sessions: one table per placement (par1: sink on the clients' CPU, par2: on another)
PHDR="| client | msgs/s (best of $RUNS) | msgs/s (median) | client CPU µs/msg | sink CPU µs/msg | busy: client / sink | msgs/s ÷ smtp-source (best, median) | command |"$'\n'"|---|---:|---:|---:|---:|---:|---:|---|"
prow() {   # prow LABEL PLACEMENT CLIENT COMMAND
    local t="$2-$3" r
    if [ "${3#par-step}" != "$3" ] && [ "$HAVE_STEP" != 1 ]; then
        echo "| $1 | n/a (issue 17: step API not yet in smtp.h) | | | | | | \`$4\` |"
        return
    fi
    r="—"
    [ "$3" != par-source ] && r="$(ratio "${RATE[$t]}" "${RATE[$2-par-source]}")×, $(ratio "${MED[$t]}" "${MED[$2-par-source]}")×"
    echo "| $1 | ${RATE[$t]} | ${MED[$t]} | ${PCPU[$t]} | ${PSINK[$t]} | ${PCBUSY[$t]} % / ${PBUSY[$t]} % | $r | \`$4\` |"
}
ptable() {   # ptable PLACEMENT
    prow "smtp.h, 1 thread, step API, $PAR_S sessions, poll()" "$1" par-step "bench_parallel -p PORT -m step -s $PAR_S -n $PAR_M -c 100"
    prow "smtp.h, 1 thread, step API, $PAR_S sessions, epoll" "$1" par-step-epoll "bench_parallel -p PORT -m step -e -s $PAR_S -n $PAR_M -c 100"
    prow "smtp.h, $PAR_S threads, a blocking session each (smtp_send_batch × $PAR_M)" "$1" par-threads "bench_parallel -p PORT -m threads -s $PAR_S -n $PAR_M -c 100"
    prow "smtp-source -d -s $PAR_S (Postfix, one process)" "$1" par-source "smtp-source -d -s $PAR_S -m $PAR_N -M $HELO -f $FROM -t $TO -F msg.lf 127.0.0.1:PORT"
    prow "reference, no library: raw sockets and epoll, smtp.h's default wire pattern (2 writes per message), nothing composed" "$1" par-floor "bench_floor -p PORT -s $PAR_S -n $PAR_M -f msg.eml"
    prow "opt-in, not the default: smtp.h, 1 thread, step API, poll(), cfg.pipeline_messages" "$1" par-step-pipe "bench_parallel -p PORT -m step -P -s $PAR_S -n $PAR_M -c 100"
}
pkgv() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
T_END=$(date +%s)

{
echo "# smtp.h benchmark results"
echo
echo "Written by \`make bench\` (tests/bench/run.sh) on $(date -u '+%Y-%m-%d %H:%M UTC'); the run took $((T_END - T_START)) s."
echo
echo "## Machine"
echo
echo "- CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores online"
echo "- Memory: $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo); kernel $(uname -r); Debian $(cat /etc/debian_version)"
echo "- Peers: postfix (smtp-sink, smtp-source) $(pkgv postfix); curl $(pkgv curl) ($(curl --version | head -1 | grep -o 'OpenSSL/[0-9.]*')); Python $("$PY" -c 'import sys; print(sys.version.split()[0])') (python3 $(pkgv python3)); libbearssl-dev $(pkgv libbearssl-dev); gcc $(pkgv gcc-12)"
if [ ${#P[@]} -gt 0 ]; then
    echo "- Placement: every sink and client pinned to CPU $CPU_A (the idlest when the run started; \`taskset\`)."
else
    echo "- Placement: left to the scheduler (BENCH_PIN=$PIN_MODE)."
fi
echo "- Other processes used $BUSY_START% of the CPUs just before the timed runs and $BUSY_END% just after"
echo "  (1 s samples of /proc/stat; load average $LOAD_START, then $LOAD_END). Client and sink share the"
echo "  $(nproc) cores with whatever else runs, and every other process shows in the figures: compare runs"
echo "  made on a quiet machine (near 0%)."
echo
echo "## Method"
echo
echo "- $N messages of $MSG_BYTES bytes (the message smtp.h composes: Date, From, To, Subject, Message-ID,"
echo "  MIME headers and a 10-line text body), one recipient each, over one connection, then QUIT."
echo "  The other clients send that same file; run.sh checks that smtp-sink received the same bytes from"
echo "  each client (apart from smtp.h's own Date and Message-ID) and, in a counted warm-up run, that"
echo "  every client used one session for all $N messages."
echo "- Wall clock from fork to exit (process start, connect, TLS handshake, EHLO, QUIT included) for every"
echo "  client alike, $RUNS runs per client interleaved, best run reported (median beside it); CPU is"
echo "  user+sys of the client process in its best run. The ratio is smtp.h's best rate over the client's."
echo "- smtp.h: \`bench_smtph\` (-O2, no sanitizers), \`smtp_send_batch\` in calls of 100 messages unless"
echo "  said otherwise; TLS verified against the test CA (trust store loaded once), TLS 1.2."
echo "- Sinks: Postfix's \`smtp-sink -u nobody -a 127.0.0.1:$P_SINK 1000\` (advertises PIPELINING; \`-a\` drops"
echo "  its fake AUTH); \`tests/bench/tls_sink\` (BearSSL server, RSA-2048 certificate, replies flushed when the"
echo "  input holds no complete line, as Postfix's smtpd does), with implicit TLS or \`-P\` in cleartext."
echo
echo "## Cleartext, to Postfix's smtp-sink"
echo
echo "$HDR"
row "smtp.h, smtp_send_batch × 100 (default: pipelined within each transaction)" plain-smtph "" "bench_smtph -p PORT -n $N -c 100"
row "smtp.h, smtp_send_batch × 100, cfg.pipeline_messages (opt-in)" plain-smtph-pipe plain-smtph "bench_smtph -p PORT -n $N -c 100 -P"
row "smtp.h, smtp_send_batch × 10" plain-smtph-b10 plain-smtph "bench_smtph -p PORT -n $N -c 10"
row "smtp.h, smtp_send_batch × $N (one call)" plain-smtph-ball plain-smtph "bench_smtph -p PORT -n $N -c $N"
row "smtp.h, smtp_send one at a time" plain-smtph-send plain-smtph "bench_smtph -p PORT -n $N -c 0"
row "smtp-source -d (Postfix)" plain-smtp-source plain-smtph "smtp-source -d -m $N -M $HELO -f $FROM -t $TO -F msg.lf 127.0.0.1:PORT"
row "curl -K, $N transfers" plain-curl plain-smtph "curl -K curl.cfg  (url = smtp://127.0.0.1:PORT/$HELO + upload-file = msg.eml, × $N)"
row "Python smtplib" plain-python plain-smtph "python3 smtplib_client.py 127.0.0.1 PORT $N msg.eml"
echo
echo "## Cleartext, to tls_sink -P (the TLS sink without TLS)"
echo
echo "$HDR"
row "smtp.h, smtp_send_batch × 100" tlsp-smtph "" "bench_smtph -p PORT -n $N -c 100"
row "smtp-source -d" tlsp-smtp-source tlsp-smtph ""
row "curl -K" tlsp-curl tlsp-smtph ""
row "Python smtplib" tlsp-python tlsp-smtph ""
echo
echo "## Implicit TLS, to tls_sink (BearSSL)"
echo
echo "$HDR"
row "smtp.h, smtp_send_batch × 100" tls-smtph-tls "" "bench_smtph -p PORT -n $N -c 100 -t -a ca.pem"
row "smtp.h, smtp_send one at a time" tls-smtph-send-tls tls-smtph-tls "bench_smtph -p PORT -n $N -c 0 -t -a ca.pem"
row "curl -K, $N transfers" tls-curl-tls tls-smtph-tls "curl -K curl-tls.cfg  (url = smtps://127.0.0.1:PORT/$HELO, cacert = ca.pem)"
row "Python smtplib.SMTP_SSL" tls-python-tls tls-smtph-tls "python3 smtplib_client.py 127.0.0.1 PORT $N msg.eml ca.pem"
echo
echo "smtp-source has no TLS. Cipher suites: $(grep -o 'suite=0x[0-9A-F]*' "$W/run/tls.log" | sort | uniq -c | awk '{ printf "%s%s × %s", sep, $2, $1; sep = ", " }')"
echo "(0xC02F = ECDHE-RSA-AES128-GCM-SHA256, smtp.h; 0xC030 = ECDHE-RSA-AES256-GCM-SHA384, curl and Python)."
echo
echo "## BDAT (CHUNKING) against DATA, cleartext, to tls_sink -P -C"
echo
echo "$HDR"
row "smtp.h, smtp_send_batch × 100, BDAT" chunk-smtph "" "bench_smtph -p PORT -n $N -c 100"
row "smtp.h, smtp_send_batch × 100, DATA (no_chunking)" chunk-smtph-data chunk-smtph "bench_smtph -p PORT -n $N -c 100 -k"
row "smtp.h, smtp_send one at a time, BDAT" chunk-smtph-send chunk-smtph "bench_smtph -p PORT -n $N -c 0"
echo
if [ ${#SPLIT[@]} -gt 0 ]; then
    echo "## Cleartext, to smtp-sink on another CPU (sink on CPU $CPU_B, client on CPU $CPU_A)"
    echo
    echo "Every round trip wakes the other vCPU: $(awk -v r="${RATE[split-smtph]}" 'BEGIN { printf "%.0f", 1e6 / r }') µs per message for smtp.h (one round trip each) against"
    echo "$(awk -v r="${RATE[plain-smtph]}" 'BEGIN { printf "%.0f", 1e6 / r }') µs on one core: a stand-in for a network, where round trips cost more than the work."
    echo
    echo "$HDR"
    row "smtp.h, smtp_send_batch × 100" split-smtph "" "taskset -c $CPU_A bench_smtph -p PORT -n $N -c 100"
    row "smtp.h, smtp_send one at a time" split-smtph-send split-smtph ""
    row "smtp-source -d" split-smtp-source split-smtph ""
    row "curl -K" split-curl split-smtph ""
    row "Python smtplib" split-python split-smtph ""
    echo
fi
echo "## Parallel sessions: $PAR_S connections × $PAR_M messages ($PAR_N), cleartext, to smtp-sink (issue 17)"
echo
echo "$PAR_S sessions open at once, $PAR_M messages of $MSG_BYTES bytes on each (the message of the tables above), then QUIT."
echo "Rates from the wall clock of the whole process (timeit), $RUNS runs interleaved with the rows above. Client CPU:"
echo "user+sys of the client process (all its threads) ÷ $PAR_N messages, median of the runs. Sink CPU: smtp-sink's own CPU"
echo "time over the run (/proc/PID/schedstat) ÷ $PAR_N. Busy: each one's CPU time ÷ the run's wall clock (a sink at 100 %"
echo "would be the limit; on one CPU the two add up to at most 100 %). smtp-sink: \`-a -m $SINK_MAXCONN 127.0.0.1:PORT $SINK_BACKLOG\` (at most -m connections served at once, backlog"
echo "$SINK_BACKLOG); a counted warm-up run (smtp-sink -c) saw $PAR_S sessions and $PAR_N messages from each client; listen-queue"
echo "overflows and drops during the timed runs (TcpExt ListenOverflows + ListenDrops): $((DROPS_END - DROPS_START)). These rows took"
echo "$(awk -v a="$PAR_SECS" -v b="$T_PARWARM" 'BEGIN { printf "%.0f s of the run (%.0f s timed, %.0f s warm-up)", a + b, a, b }')."
echo
if [ ${#P[@]} -gt 0 ]; then echo "### Sink and clients on one CPU (CPU $CPU_A)"; else echo "### Sink and clients placed by the scheduler"; fi
echo
echo "$PHDR"
ptable par1
echo
if [ -n "$PARS_SINK_PID" ]; then
    echo "### Sink on another CPU (sink on CPU $CPU_B, client on CPU $CPU_A)"
    echo
    echo "$PHDR"
    ptable par2
    echo
fi
if [ -n "$PSYSCALLS" ]; then
    echo "### Syscalls per message, both sides (sink and client on one CPU)"
    echo
    echo "One run of each, counted by \`perf stat\` on the syscall tracepoints: the client, and smtp-sink (by PID) during"
    echo "that run; totals ÷ $PAR_N (connection setup and QUIT included). Reads that found nothing (EAGAIN) in brackets;"
    echo "waits: poll, epoll_wait, select. par-step = poll(), par-step-epoll = epoll, par-step-pipe = poll() with"
    echo "cfg.pipeline_messages (opt-in), par-threads = $PAR_S threads, par-source = smtp-source -d -s $PAR_S, par-floor = bench_floor."
    echo
    echo "| client | client: syscalls/msg | writes | reads (EAGAIN) | waits | other | sink: syscalls/msg | writes | reads (EAGAIN) | waits | other |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|$PSYSCALLS"
    echo
fi
echo "## Targets"
echo
echo "- cleartext, smtp.h ≥ 2 × smtp-source: **$R_SRC×, $(verdict "$R_SRC" 2)**$SPLIT_SRC"
echo "- cleartext, smtp.h ≥ 3 × curl: **$R_CURL×, $(verdict "$R_CURL" 3)**$SPLIT_CURL"
echo "- implicit TLS, smtp.h ≥ 3 × curl: **$R_TCURL×, $(verdict "$R_TCURL" 3)**"
if [ "$HAVE_STEP" = 1 ]; then
    R_ST=$(ratio "${RATE[par1-par-step]}" "${RATE[par1-par-threads]}"); R_SS=$(ratio "${RATE[par1-par-step]}" "${RATE[par1-par-source]}")
    R_SSM=$(ratio "${MED[par1-par-step]}" "${MED[par1-par-source]}")
    R_ET=$(ratio "${RATE[par1-par-step-epoll]}" "${RATE[par1-par-threads]}"); R_ES=$(ratio "${RATE[par1-par-step-epoll]}" "${RATE[par1-par-source]}")
    R_ESM=$(ratio "${MED[par1-par-step-epoll]}" "${MED[par1-par-source]}")
    R_PS=$(ratio "${RATE[par1-par-step-pipe]}" "${RATE[par1-par-source]}"); R_PSM=$(ratio "${MED[par1-par-step-pipe]}" "${MED[par1-par-source]}")
    echo "- $PAR_S sessions, one thread (step API, poll) ≥ $PAR_S threads: **$R_ST×, $(verdict "$R_ST" 1)**; ≥ 2 × smtp-source -s $PAR_S: **$R_SS× (median $R_SSM×), $(verdict "$R_SS" 2)** (one CPU, default config; by CPU per message $(cpuratio par-step)×)"
    echo "- the same with epoll: ≥ $PAR_S threads: **$R_ET×, $(verdict "$R_ET" 1)**; ≥ 2 × smtp-source: **$R_ES× (median $R_ESM×), $(verdict "$R_ES" 2)** (by CPU per message $(cpuratio par-step-epoll)×)"
    echo "- not counted for the target, opt-in: cfg.pipeline_messages (poll) $R_PS× smtp-source (median $R_PSM×; by CPU per message $(cpuratio par-step-pipe)×)"
    echo "- what the default wire pattern allows against this sink, with no library work at all (bench_floor): $(ratio "${RATE[par1-par-floor]}" "${RATE[par1-par-source]}")× smtp-source (median $(ratio "${MED[par1-par-floor]}" "${MED[par1-par-source]}")×; by CPU per message $(cpuratio par-floor)×)"
    echo
    echo "On one CPU the rate is 1 / (client + sink CPU per message) when nothing else runs there; \"by CPU per message\" is"
    echo "that ratio, smtp-source's client + sink CPU (medians) over the row's, which other work on the CPU disturbs less than"
    echo "the rates do (client and sink busy shares in the table add up to about 100 % when nothing else ran on that CPU)."
else
    echo "- $PAR_S sessions, one thread (step API) ≥ $PAR_S threads and ≥ 2 × smtp-source -s $PAR_S: n/a (issue 17: step API not yet in smtp.h)"
fi
echo
echo "## Reconnects (smtp.h: open, one message, close; $RECONN times, best of 3)"
echo
echo "| connection | ms per connection | handshake cost |"
echo "|---|---:|---:|"
echo "| cleartext, smtp-sink | $RC_PLAIN | — |"
echo "| cleartext, tls_sink -P | $RC_TLSP | — |"
echo "| implicit TLS, full handshake (RSA-2048, ECDHE P-256) | $RC_TLS | $(awk -v a="$RC_TLS" -v b="$RC_TLSP" 'BEGIN { printf "%.3f ms", a - b }') |"
echo "| implicit TLS, resumed session (cfg.tls_cache) | $RC_RES | $(awk -v a="$RC_RES" -v b="$RC_TLSP" 'BEGIN { printf "%.3f ms", a - b }') |"
echo
echo "Resumption saves **$(awk -v a="$RC_TLS" -v b="$RC_RES" 'BEGIN { printf "%.3f ms per connection (%.1f × faster reconnects)", a - b, a / b }')**."
echo "Commands: \`bench_smtph -p PORT -r $RECONN [-t -a ca.pem [-R]]\`; with -R every connection after the first"
echo "resumed (smtp_tls_resumed, and tls_sink counted $RES_SEEN resumed handshakes over the 3 runs)."
echo
echo "## Syscalls per message (cleartext, smtp-sink)"
echo
if [ -n "$SC_HOW" ]; then
    if [ "$SC_HOW" = perf ]; then
        echo "Counted by \`perf stat\` on the syscall tracepoints (the client is not slowed), over runs of 200"
        echo "and of 400 messages; the difference divided by 200, so start-up and connection setup drop out."
        echo "Reads that found nothing (EAGAIN) in brackets; context switches of the client process last."
    else
        echo "Counted by \`strace -f -c\` over runs of 200 and of 400 messages; the difference divided by 200."
        echo "strace slows the client, so replies are often there when it reads: an untraced run sees more"
        echo "EAGAIN reads and polls than shown here (perf was not available)."
    fi
    echo
    echo "| client | syscalls/msg | writes | reads (EAGAIN) | poll/epoll/select | other | context switches/msg |"
    echo "|---|---:|---:|---:|---:|---:|---:|$SYSCALLS"
    echo
    echo "smtph = smtp_send_batch × 100, smtph-send = smtp_send one at a time."
else
    echo "Neither perf nor strace is installed: skipped."
fi
echo
if [ -f tests/bench/notes.md ]; then
    cat tests/bench/notes.md
fi
} >"$OUT"

echo
sed -n '/^## Cleartext, to Postfix/,/^## Syscalls/p' "$OUT" | grep -v '^## Syscalls'
echo "bench: written to $OUT"
