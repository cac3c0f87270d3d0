#!/usr/bin/env bash
# check_sessions_peers.sh: start the peers of issue 16 (tests/sessions.c) as
# tests/run-integration.sh does, check them with Python's SMTP/LMTP clients
# and raw sockets (check_sessions_peers.py), stop them. Run from the top of
# the repository, as root, best in a private network namespace:
#   unshare -n bash -c 'ip link set lo up; RUNDIR=/tmp/x bash tests/peers/check_sessions_peers.sh'
set -uo pipefail
cd "$(dirname "$0")/../.."
export RUNDIR=${RUNDIR:-tests/.run}
mkdir -p "$RUNDIR"
source tests/servers.sh
trap servers_stop EXIT
export HOSTILE_BASE=24600 PF_SHORT=24731 DOVECOT_LMTP_PORT=24730
export AIOTOKEN_PORT=24732 AIOTOKEN_CLOSE_PORT=24733 AIOCOUNT_PORT=24734 AIOIDLE_PORT=24735
export OAUTH_TOKEN_FILE="$RUNDIR/oauth-token"
: >"$OAUTH_TOKEN_FILE"
start_hostile "$HOSTILE_BASE" --no-tls || exit 1
start_postfix || exit 1
start_aiosmtpd aiotoken "$AIOTOKEN_PORT" --oauth-token-file "$OAUTH_TOKEN_FILE" || exit 1
start_aiosmtpd aiotokenclose "$AIOTOKEN_CLOSE_PORT" --oauth-token-file "$OAUTH_TOKEN_FILE" \
    --oauth-close-on-failure || exit 1
start_aiosmtpd aiocount "$AIOCOUNT_PORT" --pipelining || exit 1
start_aiosmtpd aioidle "$AIOIDLE_PORT" --timeout 2 || exit 1
start_dovecot_lmtp || exit 1
$PY tests/peers/check_sessions_peers.py
