#!/bin/bash
# featuremacros.sh - issue 15, "macOS and the BSDs": does the implementation
# part of smtp.h compile under the feature-macro sets each platform's build
# would use, and does the no-SIGPIPE guarantee survive them (MSG_NOSIGNAL on
# every send, or SO_NOSIGPIPE on the socket)?
#
# Linux rows use glibc's headers as they are. The other platforms are
# simulated as far as Linux headers allow: their predefined macros
# (__APPLE__ __MACH__, __FreeBSD__, __NetBSD__, __OpenBSD__; __linux__
# removed), and the visibility of MSG_NOSIGNAL and SO_NOSIGPIPE decided by
# that platform's rules (tests/ports/fm/sys/socket.h, from the feature
# macros as the program set them, captured by tests/ports/fm/features.h).
# Everything else (which functions are declared) stays glibc's, so a row
# that compiles here may still fail on the real system for other reasons.
# (GCC's own <stddef.h> includes <sys/_types.h> under __FreeBSD__ and
# <machine/ansi.h> under __NetBSD__: tests/ports/fm has empty stand-ins.)
#
# For each row: gcc -std=c99 -Wall -Wextra -pedantic -Werror -fsyntax-only
# of a file that defines SMTP_IMPLEMENTATION and includes smtp.h first (as
# the README says), then the same file preprocessed to see what MSG_NOSIGNAL
# and SO_NOSIGPIPE expand to after smtp.h (smtp.h turns a missing
# MSG_NOSIGNAL into 0). Run by make test (check-warnings). Exit 1 when a
# row does not compile, or compiles with no guard at all; a row where no
# guard is visible must stop at smtp.h's #error ("refused").
#   bash tests/ports/featuremacros.sh        (CC=clang to use clang)
set -u
cd "$(dirname "$0")/../.." || exit 1
CC=${CC:-gcc}
T=$(mktemp -d /tmp/featuremacros.XXXXXX) || exit 1
trap 'rm -rf "$T"' EXIT
cp smtp.h "$T/"
cat >"$T/probe.c" <<'EOF'
#define SMTP_IMPLEMENTATION
#include "smtp.h"
int fm_probe_msg_nosignal = MSG_NOSIGNAL;
#ifdef SO_NOSIGPIPE
int fm_probe_so_nosigpipe = SO_NOSIGPIPE;
#endif
EOF

SIM_COMMON="-U__linux__ -U__linux -Ulinux -U__gnu_linux__ -isystem tests/ports/fm"
declare -A SIM=(
    [linux]=""
    [macos]="$SIM_COMMON -DFM_SIM_darwin -D__APPLE__ -D__MACH__"
    [freebsd]="$SIM_COMMON -DFM_SIM_freebsd -D__FreeBSD__=14"
    [netbsd]="$SIM_COMMON -DFM_SIM_netbsd -D__NetBSD__"
    [openbsd]="$SIM_COMMON -DFM_SIM_openbsd -D__OpenBSD__"
)
# platform|flags (the program's own; "-" for none)
ROWS=(
    "linux|-" "linux|-std=gnu99" "linux|-D_POSIX_C_SOURCE=200809L" "linux|-D_POSIX_C_SOURCE=200112L"
    "linux|-D_XOPEN_SOURCE=700" "linux|-D_XOPEN_SOURCE=600" "linux|-D_DEFAULT_SOURCE" "linux|-D_GNU_SOURCE"
    "macos|-" "macos|-D_DARWIN_C_SOURCE" "macos|-D_POSIX_C_SOURCE=200809L" "macos|-D_POSIX_C_SOURCE=200112L"
    "macos|-D_XOPEN_SOURCE=700" "macos|-D_XOPEN_SOURCE=600" "macos|-D_POSIX_C_SOURCE=200809L -D_DARWIN_C_SOURCE"
    "freebsd|-" "freebsd|-D__BSD_VISIBLE=1" "freebsd|-D_POSIX_C_SOURCE=200112L" "freebsd|-D_XOPEN_SOURCE=700"
    "freebsd|-D_XOPEN_SOURCE=600"
    "netbsd|-" "netbsd|-D_NETBSD_SOURCE"
    "openbsd|-" "openbsd|-D_POSIX_C_SOURCE=200809L"
)

# smtp.h's own writes: every send() should pass MSG_NOSIGNAL, and no write() on a socket
# (POSIX: the Winsock block of >>platform, which raises no signal, is left out)
POSIX_SRC=$(awk '/---- Windows: Winsock 2/ { w = 1 } /---- POSIX/ { w = 0 } !w' smtp.h)
SENDS=$(grep -c '[^_a-z]send(' <<< "$POSIX_SRC")
SENDS_NOSIG=$(grep '[^_a-z]send(' <<< "$POSIX_SRC" | grep -c 'MSG_NOSIGNAL')
echo "featuremacros: $CC $($CC -dumpfullversion 2>/dev/null || $CC -dumpversion), smtp.h $(sed -n 's/.* - \(v[0-9.]*\) - .*/\1/p' smtp.h | head -1);" \
     "send() calls in smtp.h: $SENDS, with MSG_NOSIGNAL: $SENDS_NOSIG"
printf '%-8s %-45s %-9s %-14s %-13s %s\n' platform "program's flags" compiles MSG_NOSIGNAL SO_NOSIGPIPE "SIGPIPE guard"
bad=0; refused=0
for row in "${ROWS[@]}"; do
    plat=${row%%|*}; flags=${row#*|}; [ "$flags" = - ] && flags=""
    std=-std=c99
    case " $flags " in *" -std="*) std="" ;; esac
    # shellcheck disable=SC2086 # word splitting of the flag lists is meant
    if $CC $std -Wall -Wextra -pedantic -Werror -fsyntax-only ${SIM[$plat]} $flags "$T/probe.c" >"$T/err" 2>&1; then
        ok=yes
    else
        ok=NO
    fi
    # shellcheck disable=SC2086
    $CC $std -E -P ${SIM[$plat]} $flags "$T/probe.c" >"$T/pp" 2>/dev/null
    msg=$(sed -n 's/^int fm_probe_msg_nosignal = \(.*\);$/\1/p' "$T/pp")
    so=$(sed -n 's/^int fm_probe_so_nosigpipe = \(.*\);$/\1/p' "$T/pp")
    guard=""
    [ -n "$msg" ] && [ "$msg" != 0 ] && guard="MSG_NOSIGNAL"
    [ -n "$so" ] && guard="${guard:+$guard + }SO_NOSIGPIPE"
    if [ -z "$guard" ]; then
        # no guard visible: smtp.h must refuse to build (its #error), never build unprotected
        if [ $ok = NO ] && grep -q 'neither MSG_NOSIGNAL nor SO_NOSIGPIPE is visible' "$T/err"; then
            ok=refused; guard="none visible: the build stops (#error), as it should"
        else
            guard="NONE: a closed connection raises SIGPIPE"; bad=1
        fi
    fi
    [ $ok = NO ] && bad=1
    [ $ok = refused ] && refused=$((refused + 1))
    printf '%-8s %-45s %-9s %-14s %-13s %s\n' "$plat" "${flags:-(none)}" "$ok" "${msg:-?}" "${so:-absent}" "$guard"
    [ $ok = NO ] && sed -n '1,3s/^/           /p' "$T/err"
done
echo "featuremacros: ${#ROWS[@]} rows, $refused refused at build time (no guard visible), $([ $bad = 0 ] && echo 'every other row builds protected' || echo FAILED)"
exit $bad
