#!/usr/bin/env bash
# demo.sh - make demo: start a real SMTP server (aiosmtpd) on loopback,
# send one message with examples/transcript.c, print the SMTP conversation
# and the message exactly as the server stored it, stop the server.
set -uo pipefail
cd "$(dirname "$0")/.."
export RUNDIR=${RUNDIR:-tests/.run}
mkdir -p "$RUNDIR"
source tests/servers.sh
trap servers_stop EXIT
PORT=${DEMO_PORT:-24625}

start_aiosmtpd demo "$PORT" || exit 1
echo "== aiosmtpd is listening on 127.0.0.1:$PORT; sending with examples/transcript.c"
echo
SUBJECT="Hello from smtp.h — ünïcödé too" \
TEXT=$'Hi Bob,\n\nthis message went through smtp.h.\n.A line that starts with a dot is stuffed on the wire.\n' \
    tests/.build/transcript 127.0.0.1 "$PORT" "Alice <alice@example.com>" "Bob <bob@example.com>" || exit 1
echo
echo "== the message as the server received it ($RUNDIR/demo/msg-0001.eml):"
echo
end=$((SECONDS + 120)); while [ $SECONDS -lt $end ]; do [ -e "$RUNDIR/demo/msg-0001.json" ] && break; sleep 0.05; done
cat "$RUNDIR/demo/msg-0001.eml" | tr -d '\r'
echo
$PY -c 'import json, sys; d = json.load(open(sys.argv[1]))
print("== envelope: MAIL FROM", d["mail_from"], "RCPT TO", " ".join(d["rcpt_tos"]), "from", d["peer"][0])' "$RUNDIR/demo/msg-0001.json"
