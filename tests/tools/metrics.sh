#!/usr/bin/env bash
# metrics.sh - make metrics: structural figures of the smtp.h in this tree,
# for notes (issue 14: before and after a restructuring). Not a test: it
# asserts nothing about the figures, only that the measuring runs worked.
#
#   a) smtp_session: top-level members (declarations, and fields: `int a, b;`
#      is one declaration, two fields; a nested struct is one field), its
#      largest members, sizeof in the default and the SMTP_NO_TLS build
#   b) function lengths: the ten longest function definitions in smtp.h
#      (default and SMTP_NO_TLS builds, preprocessed by gcc, so #if is
#      resolved as the compiler sees it), and how many exceed 60 lines
#   c) `duplicates` on smtp.h alone, when the command is installed
#   d) stack: the largest frames (gcc -fstack-usage), the worst static path
#      from smtp_open and smtp_send (gcc -fcallgraph-info=su), and the
#      stack measured while they run against aiosmtpd on loopback
#      (tests/tools/stackuse.c), in a private network namespace
#
# No function of the implementation is named here or in metrics.py: only
# smtp_session, smtp_open and smtp_send. Needs what `make deps` installs
# (gcc, python3-aiosmtpd, openssl, libbearssl-dev, iproute2).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
ROOT=$PWD
H=smtp.h
B=tests/.build/metrics
PY=/usr/bin/python3
M=tests/tools/metrics.py
CC=${METRICS_CC:-gcc}
export RUNDIR=${METRICS_RUNDIR:-$ROOT/tests/.run/metrics}

# ---- the measuring half, run inside a private network namespace --------
if [ "${1:-}" = "--measure-inside" ]; then
    ip link set lo up || exit 1
    source tests/servers.sh
    trap servers_stop EXIT
    CERTS=$RUNDIR/certs
    AUTH=(--auth-user alice --auth-pass "s3cret pass")
    IMPL=(--implicit-listen 127.0.0.1:24992)
    have_ipv6 && IMPL+=(--implicit-listen "[::1]:24992")
    start_aiosmtpd mclear 24990 "${AUTH[@]}" --auth-plaintext >/dev/null || exit 1
    start_aiosmtpd mtls 24991 --tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server.key" \
        "${IMPL[@]}" "${AUTH[@]}" >/dev/null || exit 1
    fail=0
    for opt in O2 O0; do
        if ! "$B/stackuse-$opt" "$CERTS/ca.pem" "$RUNDIR/attachment.bin" \
                cleartext=24990 starttls=24991 implicit=24992 > "$B/stackuse-$opt.out"; then
            echo "stackuse -$opt failed" >&2; fail=1
        fi
    done
    # the scenarios did what they say: every message recorded with its mechanism, over TLS or not
    $PY - "$RUNDIR" <<'EOF' || fail=1
import glob, json, sys
d = sys.argv[1]
def recs(spool):
    return [json.load(open(p)) for p in sorted(glob.glob(d + "/" + spool + "/msg-*.json"))]
clear, tls = recs("mclear"), recs("mtls")
# 3 runs of each scenario, -O2 and -O0: 6 messages each
ok = (len(clear) == 6 and all(r["auth_mech"] == "CRAM-MD5" and r["tls"] is None for r in clear) and
      len(tls) == 12 and all(r["tls"] for r in tls) and
      sum(1 for r in tls if r["auth_mech"] == "PLAIN") == 6 and sum(1 for r in tls if r["auth_mech"] is None) == 6)
if not ok:
    print("metrics: the servers did not record what the scenarios should send: %d cleartext, %d TLS"
          % (len(clear), len(tls)), file=sys.stderr)
    sys.exit(1)
EOF
    exit $fail
fi

t0=$SECONDS
rm -rf "$B"; mkdir -p "$B" "$RUNDIR"
head=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
last=$(git log -1 --format=%h -- "$H" 2>/dev/null || echo "?")
changed=""; git diff --quiet HEAD -- "$H" 2>/dev/null || changed=", with uncommitted changes"
echo "smtp.h metrics: HEAD $head (smtp.h last changed in $last$changed), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "  smtp.h: $(wc -l < "$H") lines, sha256 $(sha256sum "$H" | cut -c1-12); $($CC --version | head -1)"

# the slow compiles of d) run in the background while a) to c) go on
printf '#define SMTP_IMPLEMENTATION\n#include "../../../smtp.h"\n' > "$B/impl.c"
(
    for opt in O2 O0; do
        $CC -std=c99 -$opt -c -fstack-usage -fcallgraph-info=su "$B/impl.c" -o "$B/su-$opt.o" || exit 1
    done
) > "$B/build-su.log" 2>&1 &
su_pid=$!
# measured: no sanitizers (they move locals and add redzones); -z now (see stackuse.c)
(
    for opt in O2 O0; do
        $CC -std=c99 -D_GNU_SOURCE -Wall -Wextra -g -$opt -Wl,-z,now -o "$B/stackuse-$opt" \
            tests/tools/stackuse.c -lbearssl -lpthread || exit 1
    done
) > "$B/build-stackuse.log" 2>&1 &
stackuse_pid=$!

# ---- a) smtp_session ----------------------------------------------------
echo
echo "== a) smtp_session"
printf '#include "../../../smtp.h"\n' > "$B/hdr.c"
for build in default SMTP_NO_TLS; do
    def=""; [ $build = SMTP_NO_TLS ] && def=-DSMTP_NO_TLS
    $CC -std=c99 $def -E "$B/hdr.c" -o "$B/hdr-$build.i" || exit 1
    $PY $M struct "$B/hdr-$build.i" > "$B/struct-$build.txt" || exit 1
    {
        printf '#include "../../../smtp.h"\n#include <stdio.h>\n#include <stddef.h>\n'
        printf '#define F(m) printf("%%zu %%zu %%s\\n", sizeof(((smtp_session *)0)->m), offsetof(smtp_session, m), #m);\n'
        printf 'int main(void)\n{\n    printf("sizeof %%zu\\n", sizeof(smtp_session));\n'
        sed -n 's/^name \([A-Za-z_][A-Za-z_0-9]*\)$/    F(\1)/p' "$B/struct-$build.txt"
        printf '    return 0;\n}\n'
    } > "$B/size-$build.c"
    if ! $CC -std=c99 $def -o "$B/size-$build" "$B/size-$build.c" 2>"$B/size-$build.log"; then
        # a member the sizeof program cannot name (a bit-field): sizeof alone
        printf '#include "../../../smtp.h"\n#include <stdio.h>\nint main(void) { printf("sizeof %%zu\\n", sizeof(smtp_session)); return 0; }\n' \
            > "$B/size-$build.c"
        $CC -std=c99 $def -o "$B/size-$build" "$B/size-$build.c" || exit 1
    fi
    "$B/size-$build" > "$B/size-$build.txt" || exit 1
    printf '  %-12s %2d declarations, %2d fields, sizeof(smtp_session) = %d bytes\n' "$build:" \
        "$(sed -n 's/^declarations //p' "$B/struct-$build.txt")" "$(sed -n 's/^fields //p' "$B/struct-$build.txt")" \
        "$(sed -n 's/^sizeof //p' "$B/size-$build.txt")"
done
echo "  largest members (default build; bytes, offset):"
grep -v '^sizeof' "$B/size-default.txt" | sort -k1,1nr -k2,2n | head -8 | awk '{ printf "    %6d  @%-6d %s\n", $1, $2, $3 }'
grep -v '^sizeof' "$B/size-default.txt" | awk '$1 < 64 { n++ } { sum += $1 }
    END { printf "  members under 64 bytes: %d; all members named: %d bytes (the rest of sizeof is padding)\n", n, sum }' 

# ---- b) function lengths ------------------------------------------------
echo
echo "== b) function lengths (default and SMTP_NO_TLS builds)"
$CC -std=c99 -E "$B/impl.c" -o "$B/impl-default.i" || exit 1
$CC -std=c99 -DSMTP_NO_TLS -E "$B/impl.c" -o "$B/impl-notls.i" || exit 1
$PY $M functions "$H" "$B/impl-default.i" "$B/impl-notls.i" || exit 1

# ---- c) duplicates ------------------------------------------------------
echo
echo "== c) duplicates (smtp.h alone)"
if command -v duplicates >/dev/null 2>&1; then
    # outside any git checkout: there --repo would read only what git tracks
    dup=$(mktemp -d /tmp/smtp-metrics-dup.XXXXXX) || exit 1
    cp "$H" "$dup/"
    duplicates --repo "$dup" --most 40 > "$B/dup.txt" 2>&1
    rm -rf "$dup"
    pairs=$(sed -n '1s/^\([0-9][0-9]*\) pairs\{0,1\} .*/\1/p' "$B/dup.txt")
    [ -n "$pairs" ] || { grep -q '^no duplicates' "$B/dup.txt" && pairs=0; }
    echo "  pairs: ${pairs:-?}"
    sed 's/^/  /' "$B/dup.txt"
else
    echo "  skipped: the duplicates command is not installed"
fi

# ---- d) stack -----------------------------------------------------------
echo
echo "== d) stack"
wait $su_pid || { cat "$B/build-su.log" >&2; exit 1; }
wait $stackuse_pid || { cat "$B/build-stackuse.log" >&2; exit 1; }
for opt in O2 O0; do
    echo "  frames, gcc -$opt -fstack-usage:"
    $PY $M su "$H" 10 "$B/su-$opt.su" | sed 's/^/  /' || exit 1
done
for opt in O2 O0; do
    echo "  worst static path, gcc -$opt -fcallgraph-info=su (frames include the return address):"
    $PY $M callgraph "$B/su-$opt.ci" smtp_open smtp_send | sed 's/^/  /' || exit 1
done

echo "  measured (tests/tools/stackuse.c; deepest of 3 runs, bytes below the calling frame):"
bash tests/peers/certs.sh "$RUNDIR/certs" || exit 1
ns=""
if unshare -n true 2>/dev/null; then ns="unshare -n"
elif unshare -rn true 2>/dev/null; then ns="unshare -rn"
fi
if [ -z "$ns" ]; then
    echo "    skipped: no private network namespace (unshare -n) here"
elif $ns bash "$0" --measure-inside; then
    printf '    %-10s %22s %22s\n' scenario "smtp_open -O2 / -O0" "smtp_send -O2 / -O0"
    awk 'NR == FNR { o0[$1] = $2; s0[$1] = $3; next }
         $1 != "calibration" { printf "    %-10s %10d / %-10d %10d / %-10d\n", $1, $2, o0[$1], $3, s0[$1] }' \
        "$B/stackuse-O0.out" "$B/stackuse-O2.out"
    echo "    calibration: a frame writing $(awk '/^calibration/ { print $3 " bytes measured as " $2 }' "$B/stackuse-O2.out") (-O2)"
    echo "    cleartext: AUTH CRAM-MD5, text+html+64 KB file; starttls: AUTH PLAIN, text+file; implicit: no AUTH, text+html+file"
else
    echo "metrics: the stack measurement failed" >&2
    exit 1
fi
echo
echo "(make metrics: $((SECONDS - t0)) s)"
