#!/bin/bash
# run.sh [SERVER...]: the interoperability matrix (issue 18). For each
# server: start it (tests/interop/servers/NAME.sh start), run the matrix
# client against it with the profile the start script wrote, stop it. Then
# print one table (rows: servers, columns: checks), the notes behind every
# cell that is not "ok", and AUTO's time to connect on each port.
# Exit status 1 when any cell is FAIL (or a server did not start).
#
#   MATRIX=path/to/matrix   the client (default tests/.build/interop-matrix)
#   INTEROP_RUN=dir         where servers keep their files (tests/.run/interop)
# Default servers: all eight. `make interop-fast` runs dovecot haraka chasquid.
# run.sh --report RESULTS.tsv [SERVER...] prints the table of a run again.
set -u
source "$(dirname "$0")/lib.sh"
cd "$REPO" || exit 1
ALL=(exim dovecot nodemailer haraka chasquid opensmtpd msmtpd sendmail)
REPORT_ONLY=""   # run.sh --report RESULTS.tsv [SERVER...]: print the table of an earlier run again
if [ "${1:-}" = --report ] && [ $# -ge 2 ]; then REPORT_ONLY=$2; shift 2; fi
SERVERS=("$@")
[ ${#SERVERS[@]} -gt 0 ] || SERVERS=("${ALL[@]}")
for s in "${SERVERS[@]}"; do
    [ -f "$INTEROP/servers/$s.sh" ] || { ilog "no server $s (have: ${ALL[*]})"; exit 2; }
done
MATRIX=${MATRIX:-$REPO/tests/.build/interop-matrix}
CHECKS=(plain starttls implicit auth-plain auth-login auth-cram badpass auth-454 auth-538 batch20 5mb utf8 refused all-refused auto-implicit auto-starttls)
RESULTS=$RUNBASE/results.tsv
CURRENT=""

# report: the table, the notes and AUTO's times from $RESULTS
report() {
echo
if [ -n "$REPORT_ONLY" ]; then
    BUILT="results of $RESULTS"
elif [ "$MATRIX" = "$REPO/tests/.build/interop-matrix" ]; then
    REV=$(git log -1 --format=%h -- smtp.h 2>/dev/null)
    git diff --quiet -- smtp.h 2>/dev/null || REV="$REV + uncommitted changes"
    BUILT="smtp.h of the working tree ($REV)"
else
    BUILT="the client $MATRIX"
fi
echo "Interoperability matrix, $(date -u '+%Y-%m-%d %H:%M UTC'), $BUILT"
awk -F'\t' -v checks="${CHECKS[*]}" -v servers="${SERVERS[*]}" '
$1 == "CELL" {
    v = $4; if (v == "FAIL") v = "FAIL(" $5 ")";
    cell[$2, $3] = v
    if ($4 == "FAIL") notes[++nn] = $2 "/" $3 ": " $5 ($6 != "" ? " -- " $6 : "")
    if ($4 == "n/a") {
        why = $5; sub(/ -- .*/, "", why)   # the reason without the error detail that follows it
        if (!(why in na)) naorder[++nna] = why
        na[why] = na[why] (na[why] != "" ? ", " : "") $2 "/" $3
    }
}
$1 == "TIME" { time[$2, $3] = $4; tmode[$2, $3] = $5 }
END {
    nc = split(checks, C, " "); ns = split(servers, S, " ")
    w0 = length("server"); for (i = 1; i <= ns; i++) if (length(S[i]) > w0) w0 = length(S[i])
    for (j = 1; j <= nc; j++) {
        W[j] = length(C[j])
        for (i = 1; i <= ns; i++) { v = ((S[i], C[j]) in cell) ? cell[S[i], C[j]] : "-"; if (length(v) > W[j]) W[j] = length(v) }
    }
    line = sprintf("%-" w0 "s", "server"); for (j = 1; j <= nc; j++) line = line sprintf(" | %-" W[j] "s", C[j]); print line
    line = ""; for (k = 0; k < w0; k++) line = line "-"
    for (j = 1; j <= nc; j++) { line = line "-+-"; for (k = 0; k < W[j]; k++) line = line "-" }
    print line
    for (i = 1; i <= ns; i++) {
        line = sprintf("%-" w0 "s", S[i])
        for (j = 1; j <= nc; j++) { v = ((S[i], C[j]) in cell) ? cell[S[i], C[j]] : "-"; line = line sprintf(" | %-" W[j] "s", v) }
        print line
    }
    if (nn) { print ""; print "Failures:"; for (k = 1; k <= nn; k++) print "  " notes[k] }
    if (nna) { print ""; print "Not applicable:"; for (k = 1; k <= nna; k++) print "  " naorder[k] ": " na[naorder[k]] }
    print ""
    print "AUTO (default timeouts): time to a usable session"
    printf "  %-" w0 "s  %-22s  %-22s\n", "server", "implicit-TLS port", "STARTTLS port"
    for (i = 1; i <= ns; i++) {
        a = ((S[i], "auto-implicit") in time) ? time[S[i], "auto-implicit"] " ms (" tmode[S[i], "auto-implicit"] ")" : "n/a"
        b = ((S[i], "auto-starttls") in time) ? time[S[i], "auto-starttls"] " ms (" tmode[S[i], "auto-starttls"] ")" : "n/a"
        printf "  %-" w0 "s  %-22s  %-22s\n", S[i], a, b
    }
}' "$RESULTS"
}

# count: the closing line, and the exit status (1 when any cell is FAIL)
count() {
    local fails oks na
    fails=$(awk -F'\t' '$1 == "CELL" && $4 == "FAIL"' "$RESULTS" | wc -l)
    oks=$(awk -F'\t' '$1 == "CELL" && $4 == "ok"' "$RESULTS" | wc -l)
    na=$(awk -F'\t' '$1 == "CELL" && $4 == "n/a"' "$RESULTS" | wc -l)
    echo "interop: $oks passed, $fails failed, $na skipped"
    [ "$fails" -eq 0 ]
}

if [ -n "$REPORT_ONLY" ]; then
    RESULTS=$REPORT_ONLY
    [ -f "$RESULTS" ] || { ilog "no file $RESULTS"; exit 2; }
    report
    echo
    count
    exit
fi
[ -x "$MATRIX" ] || { ilog "no matrix client at $MATRIX (make tests/.build/interop-matrix)"; exit 1; }
mkdir -p "$RUNBASE"
: >"$RESULTS"

cleanup() {
    [ -n "$CURRENT" ] && bash "$INTEROP/servers/$CURRENT.sh" stop
    CURRENT=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ms() { echo $(( $(date +%s%N) / 1000000 )); }
T0=$(ms)
make_certs || exit 1

declare -A START_MS RUN_MS
for s in "${SERVERS[@]}"; do
    echo "== $s" >&2
    t=$(ms)
    CURRENT=$s   # stopped on exit even when its start fails halfway
    bash "$INTEROP/servers/$s.sh" start; rc=$?
    START_MS[$s]=$(( $(ms) - t ))
    D=$RUNBASE/$s
    if [ "$rc" != 0 ] || [ ! -f "$D/profile" ]; then
        for c in "${CHECKS[@]}"; do
            printf 'CELL\t%s\t%s\tFAIL\tno server\tthe server did not start (see %s)\n' "$s" "$c" "$D" >>"$RESULTS"
        done
    else
        mapfile -t PROFILE <"$D/profile"
        t=$(ms)
        # every wait inside is bounded; this bounds the client as a whole too
        timeout -k 10 900 "$MATRIX" "${PROFILE[@]}" --log "$D/matrix.log" >"$D/matrix.out" 2>"$D/matrix.err"
        mrc=$?
        RUN_MS[$s]=$(( $(ms) - t ))
        cat "$D/matrix.out" >>"$RESULTS"
        if [ -s "$D/matrix.err" ] || { [ $mrc -ne 0 ] && [ $mrc -ne 1 ]; }; then
            ilog "matrix for $s exited $mrc:"; tail -n 20 "$D/matrix.err" >&2
            printf 'CELL\t%s\tclient\tFAIL\tclient exit %s\tsee %s/matrix.err\n' "$s" "$mrc" "$D" >>"$RESULTS"
        fi
    fi
    bash "$INTEROP/servers/$s.sh" stop
    CURRENT=""
    echo "   started in ${START_MS[$s]} ms, checks in ${RUN_MS[$s]:-0} ms" >&2
done
TOTAL=$(( $(ms) - T0 ))

report
echo
for s in "${SERVERS[@]}"; do printf '  %-10s started in %6d ms, checks in %6d ms\n' "$s" "${START_MS[$s]:-0}" "${RUN_MS[$s]:-0}"; done
echo "  total $((TOTAL / 1000)) s; results in $RESULTS, logs in $RUNBASE/<server>/"
count
