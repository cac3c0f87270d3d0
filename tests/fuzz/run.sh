#!/usr/bin/env bash
# run.sh - runs the libFuzzer targets one after the other (make fuzz,
# make fuzz-smoke). Usage: run.sh BUILD_DIR SECONDS target...
# For each target: the inputs in tests/fuzz/regress/<target>-* are replayed
# first (each is a crash once found: it must pass now); then the fuzzer
# runs for SECONDS on a fresh copy of tests/fuzz/corpus/<target> in
# BUILD_DIR/corpus (the committed corpus never grows). Crashes land in
# BUILD_DIR/crashes/, logs in BUILD_DIR/logs/. One summary line per target
# with executions and coverage (libFuzzer's final stats); exit status 1
# when any target crashed or a regression input failed.
# FUZZ_OPTS in the environment adds libFuzzer options.
set -u
fz=$1; secs=$2; shift 2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$fz/corpus" "$fz/crashes" "$fz/logs"
opts="-max_len=20000 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 ${FUZZ_OPTS:-}"
fail=0
summary=""
for t in "$@"; do
    bin="$fz/fuzz_$t"; log="$fz/logs/$t.log"; corp="$fz/corpus/$t"
    status=""
    # regressions
    regs=$(ls "$here/regress/$t"-* 2>/dev/null || true)
    nreg=0
    if [ -n "$regs" ]; then
        nreg=$(echo "$regs" | wc -l)
        if ! "$bin" $regs > "$fz/logs/$t.regress.log" 2>&1; then
            status="REGRESSION FAILED (see $fz/logs/$t.regress.log); "
            fail=1
        fi
    fi
    # the campaign, on a copy of the seeds
    rm -rf "$corp"; mkdir -p "$corp"
    cp "$here/corpus/$t"/* "$corp"/ 2>/dev/null || true
    echo "== fuzz_$t: ${secs}s (log: $log)"
    "$bin" -max_total_time="$secs" $opts -artifact_prefix="$fz/crashes/$t-" "$corp" > "$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
    cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
    corpn=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\).*/\1/p')
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    if [ $rc -ne 0 ]; then
        art=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -1)
        why=$(grep -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant failed' "$log" | sed 's/^==[0-9]*==//')
        status="${status}CRASH: ${why:-exit $rc} -> ${art:-see $log}"
        fail=1
    fi
    [ -n "$status" ] || status=ok
    line=$(printf '%-14s execs %-10s cov %-5s ft %-6s corpus %-5s exec/s %-7s regress %-3s %s' \
           "fuzz_$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corpn:-?}" "${eps:-?}" "$nreg" "$status")
    echo "   $line"
    summary="$summary$line"$'\n'
done
echo "== fuzz summary (${secs}s per target)"
printf '%s' "$summary"
exit $fail
