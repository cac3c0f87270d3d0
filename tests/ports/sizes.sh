#!/bin/bash
# sizes.sh - issue 15's "Must show" numbers for tests/ports/README.md:
# sizeof(smtp_session) in the default and the SMTP_SMALL profile, with TLS
# and with SMTP_NO_TLS (and the default with SMTP_TLS_MONO=0, full duplex), and the size
# of the implementation compiled alone (a file that defines
# SMTP_IMPLEMENTATION and includes smtp.h, nothing else: BearSSL and libc
# not counted) at -Os and -O2: .text, and the read-only data beside it.
#   bash tests/ports/sizes.sh          (CC=clang to use clang; x86_64 here)
set -eu
cd "$(dirname "$0")/../.."
CC=${CC:-gcc}
T=$(mktemp -d /tmp/sizes.XXXXXX)
trap 'rm -rf "$T"' EXIT
printf '#include "smtp.h"\n#include <stdio.h>\nint main(void) { printf("%%zu\\n", sizeof(smtp_session)); return 0; }\n' > "$T/size.c"
printf '#define SMTP_IMPLEMENTATION\n#include "smtp.h"\n' > "$T/impl.c"
BUILDS=("default|" "SMTP_NO_TLS|-DSMTP_NO_TLS" "SMTP_SMALL|-DSMTP_SMALL" "SMTP_SMALL + SMTP_NO_TLS|-DSMTP_SMALL -DSMTP_NO_TLS"
        "SMTP_TLS_MONO=0|-DSMTP_TLS_MONO=0")
echo "$($CC --version | head -1), $(uname -m)"
echo
echo "| build | sizeof(smtp_session) | .text -Os | .rodata* -Os | .text -O2 | .rodata* -O2 |"
echo "|---|---|---|---|---|---|"
for b in "${BUILDS[@]}"; do
    name=${b%%|*} def=${b#*|}
    # shellcheck disable=SC2086
    $CC -std=c99 -I. $def -o "$T/size" "$T/size.c"
    row="| $name | $("$T/size") |"
    for o in -Os -O2; do
        # shellcheck disable=SC2086
        $CC -std=c99 -I. $o $def -c "$T/impl.c" -o "$T/impl.o"
        row="$row $(size -A "$T/impl.o" | awk '$1 == ".text" { t += $2 } $1 ~ /^\.rodata/ { r += $2 } END { printf "%d | %d |", t, r }')"
    done
    echo "$row"
done
