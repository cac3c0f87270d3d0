#!/bin/bash
# nodemailer smtp-server 3.21 (npm), tests/interop/servers/nodemailer.js:
# 24820 cleartext + STARTTLS, 24821 implicit TLS; PLAIN LOGIN CRAM-MD5 in
# cleartext too (allowInsecureAuth); 24822 like 24820 but AUTH before
# STARTTLS gets 538; refuses refused@...; stores the DATA stream as it came.
#   nodemailer.sh start|stop
source "$(dirname "$0")/../lib.sh"
NAME=nodemailer PORT=${NODEMAILER_PORT:-24820} TLSPORT=${NODEMAILER_TLSPORT:-24821} PORT538=${NODEMAILER_PORT538:-24822}
D=$RUNBASE/$NAME
case $1 in
stop) stop_dir "$D"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
need smtp-server "$NODE_MODULES/smtp-server/package.json" || exit 1
make_certs || exit 1
ports_free "$PORT" "$TLSPORT" "$PORT538" || exit 1
D=$(fresh_dir $NAME)
mkdir -p "$D/store"
NODE_PATH=$NODE_MODULES setsid node "$INTEROP/servers/nodemailer.js" "$PORT" "$TLSPORT" "$CERT" "$KEY" "$D/store" "$PORT538" \
    >"$D/server.log" 2>&1 </dev/null &
remember_pid "$D" $!
for p in "$PORT" "$TLSPORT" "$PORT538"; do wait_port "$p" 20 $! "$D/server.log" || exit 1; done
printf '%s\n' --name $NAME --store "$D/store" --kind files --plain "$PORT" --starttls "$PORT" \
    --implicit "$TLSPORT" --ca "$CA" --strip "" --refused refused@example.org --auth-mode starttls --port-538 "$PORT538" >"$D/profile"
