#!/usr/bin/env bash
# run-integration.sh - start the real peers on loopback, run the
# integration tests (and the README's quick-start program) against them,
# stop the peers. Run from the top of the repository (make test does).
set -uo pipefail
cd "$(dirname "$0")/.."
B=tests/.build
export RUNDIR=${RUNDIR:-tests/.run}
mkdir -p "$RUNDIR"
source tests/servers.sh
trap servers_stop EXIT

export AIO_PORT=24525 AIO452_PORT=24527 PF_PLAIN=24526 HOSTILE_BASE=24600
have_ipv6 && export HAVE_IPV6=1

# long lines (RFC 5321 says 1000; smtp_data_write passes what it is given) must arrive intact
start_aiosmtpd aiosmtpd "$AIO_PORT" --line-length-limit 1000000 || exit 1
start_aiosmtpd aiosmtpd452 "$AIO452_PORT" --max-rcpt 2 || exit 1
start_hostile "$HOSTILE_BASE" || exit 1
start_postfix || exit 1
start_aiosmtpd readme 2525 || exit 1

fail=0
# the README's program, pasted as it stands, against a server on 127.0.0.1:2525
mkdir -p "$B/readme"
$PY - <<'PYEOF' > "$B/readme/app.c"
import re
print(re.search(r"```c\n(.*?)```", open("README.md").read(), re.S).group(1), end="")
PYEOF
cp smtp.h "$B/readme/"
if cc -std=c99 -Wall -Wextra -pedantic -Werror "$B/readme/app.c" -o "$B/readme/app" && "$B/readme/app" &&
   grep -q "^Subject: Hello" "$RUNDIR/readme/msg-0001.eml"; then
    echo "README program: built, sent, received"
else
    echo "FAIL README program"; fail=1
fi
# the README's quick start, as pasted (examples/hello.c)
if $B/hello 127.0.0.1 "$AIO_PORT" alice@example.com bob@example.com; then
    echo "examples/hello: sent"
else
    echo "FAIL examples/hello"; fail=1
fi
$B/integration || fail=1
exit $fail
