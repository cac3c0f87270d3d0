#!/usr/bin/env bash
# prebuild.sh start | wait NAME - make test's work that needs no earlier
# step, started first, in the background, one after the other:
#   interop  tests/interop/deps.sh: what make interop-fast needs beyond
#            make deps (unpacked .debs, npm modules; mostly downloads)
#   ports    tests/ports/run.sh --build-only: s390x, i386 and musl with
#            PORTS_QUICK=1, then mingw (BearSSL from Debian's source, the
#            unit tests, the examples, wincheck). At the lowest priority
#            (nice 19): these builds use the CPU time the other steps leave
#            idle (the fuzz runs use one core, the integration tests wait
#            on servers) instead of adding two minutes at the end.
# Each holds a lock, tests/.build/prebuild-NAME.lock, until it is done;
# "wait NAME" blocks until then (raising the priority back to normal, when
# it may, since the step waiting needs it now). The steps that use them run
# the same scripts again: those redo only what is missing or out of date,
# and report what failed. Logs: tests/.build/prebuild-NAME.log (and
# prebuild.log: the background shell's own).
# UNIT_SRCS and WARN: as make test gives them to tests/ports/run.sh.
set -u
cd "$(dirname "$0")/.." || exit 2
B=tests/.build
mkdir -p "$B"

# renice_tree PID: PID and its descendants back to nice 0
renice_tree() {
    local c
    renice -n 0 -p "$1" >/dev/null 2>&1
    for c in $(pgrep -P "$1"); do renice_tree "$c"; done
}

case ${1:-} in
start)
    # both locks taken here, before the background job starts: a wait that
    # comes right after cannot slip in first. The job inherits them and
    # gives the interop one back as soon as that part is done.
    exec 8>"$B/prebuild-interop.lock" 9>"$B/prebuild-ports.lock"
    flock 8 && flock 9 || exit 1
    bash -c '
        bash tests/interop/deps.sh > tests/.build/prebuild-interop.log 2>&1
        exec 8>&-
        nice -n 19 bash -c "PORTS_QUICK=1 bash tests/ports/run.sh --build-only s390x i386 musl
                            bash tests/ports/run.sh --build-only mingw" > tests/.build/prebuild-ports.log 2>&1
    ' </dev/null >"$B/prebuild.log" 2>&1 &
    echo $! > "$B/prebuild.pid"
    echo "== started in the background (tests/prebuild.sh): make interop-fast's deps, then the builds of the ports steps at nice 19"
    ;;
wait)
    f=$B/prebuild-${2:?wait NAME}.lock
    [ -e "$f" ] || exit 0
    if ! flock -n "$f" true; then
        echo "   (waiting for the background work: $2, log $B/prebuild-$2.log)"
        pid=$(cat "$B/prebuild.pid" 2>/dev/null) && [ -n "$pid" ] && renice_tree "$pid"
        flock "$f" true
    fi
    ;;
*)
    echo "usage: $0 start | wait interop|ports" >&2; exit 2 ;;
esac
