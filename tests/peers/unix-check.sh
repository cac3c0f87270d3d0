#!/bin/bash
# unix-check.sh - start the Unix-domain-socket peers the way
# tests/run-integration.sh does (tests/servers.sh: start_postfix,
# start_unix_peers) and check each with Python's smtplib
# (tests/peers/unix_client.py): a message sent over each socket must be
# in that server's spool, read back. Not part of make test (it checks the
# peers, not smtp.h); run it in a private network namespace:
#   unshare -n bash -c 'ip link set lo up; RUNDIR=/tmp/unix-run bash tests/peers/unix-check.sh'
set -u
cd "$(dirname "$0")/../.." || exit 1
export RUNDIR=${RUNDIR:-tests/.run}
mkdir -p "$RUNDIR"
source tests/servers.sh
trap servers_stop EXIT
export CERTS="$RUNDIR/certs"
bash tests/peers/certs.sh "$CERTS" || exit 1
start_postfix || exit 1
start_unix_peers || exit 1
fail=0
# check NAME SPOOL_GLOB CLIENT_ARGS...: one message, its Subject found in the spool within 10 s
check() {
    local name=$1 glob=$2 subject i f; shift 2
    subject="unix-check $name $$ $RANDOM"
    if ! $PY tests/peers/unix_client.py "$@" --subject "$subject" >"$RUNDIR/unix-check-$name.out" 2>&1; then
        echo "FAIL $name: $(tail -1 "$RUNDIR/unix-check-$name.out")"; fail=1; return
    fi
    for i in $(seq 1 200); do
        for f in $glob; do
            [ -f "$f" ] && grep -q "^Subject: $subject" "$f" && { echo "ok   $name: delivered, $f"; return; }
        done
        sleep 0.05
    done
    echo "FAIL $name: accepted, but not in $glob"; fail=1
}
CA="$CERTS/ca.pem"
check aiosmtpd-plain "$RUNDIR/aiounix/msg-*.eml" "$AIO_UNIX"
check aiosmtpd-starttls "$RUNDIR/aiounixtls/msg-*.eml" "$AIO_UNIX_TLS" --starttls --ca "$CA"
check aiosmtpd-implicit "$RUNDIR/aiounixtls/msg-*.eml" "$AIO_UNIX_IMPLICIT" --implicit --ca "$CA"
check postfix-plain "$RUNDIR/postfix/mail/*.eml" "$PF_UNIX"
check postfix-starttls "$RUNDIR/postfix/mail/*.eml" "$PF_UNIX" --starttls --ca "$RUNDIR/postfix/certs/ca.pem"
# what the servers recorded about the Unix-socket client
$PY - "$RUNDIR"/aiounix*/msg-*.json <<'PYEOF'
import json, sys
for f in sys.argv[1:]:
    m = json.load(open(f))
    print("     aiosmtpd %s: listener %s, peer %s, tls %s" % (m["id"], m["listener"], m["peer"], (m["tls"] or {}).get("version")))
PYEOF
grep -h 'client_name=' "$RUNDIR"/postfix/mail/*.env | sort | uniq -c | sed 's/^ */     postfix .env: /'
echo "AIO_UNIX=$AIO_UNIX"; echo "AIO_UNIX_TLS=$AIO_UNIX_TLS"; echo "AIO_UNIX_IMPLICIT=$AIO_UNIX_IMPLICIT"; echo "PF_UNIX=$PF_UNIX"
exit $fail
