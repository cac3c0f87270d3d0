#!/bin/bash
# bearssl-build.sh SRC OUT CC [AR] [-- CFLAGS...]: BearSSL's src/**/*.c,
# compiled with CC into OUT/libbearssl.a, headers in OUT/include.
# Idempotent: nothing to do once OUT/.ok exists. Two compilers at a time.
set -eu
SRC=$1 OUT=$2 CCX=$3 ARX=${4:-ar}
shift 3; [ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
[ -f "$OUT/.ok" ] && exit 0
rm -rf "$OUT"; mkdir -p "$OUT/obj" "$OUT/include"
cp "$SRC"/inc/*.h "$OUT/include/"
export SRC OUT CCX
find "$SRC/src" -name '*.c' | sort | \
    xargs -P 2 -I{} sh -c 'o="$OUT/obj/$(echo "{}" | sed "s|^$SRC/src/||; s|/|_|g; s|\.c$|.o|")"; \
        $CCX -O2 -I"$SRC/inc" -I"$SRC/src" '"$*"' -c "{}" -o "$o" || exit 255'
$ARX rcs "$OUT/libbearssl.a" "$OUT"/obj/*.o
rm -rf "$OUT/obj"
touch "$OUT/.ok"
