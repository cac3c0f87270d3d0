#!/bin/bash
# Haraka 3.3 (npm): 24830 cleartext + STARTTLS, 24831 implicit TLS (smtps);
# plugins tls, auth/flat_file (alice/secret: PLAIN LOGIN CRAM-MD5, offered
# in cleartext from 127.0.0.1), and servers/haraka-store.js (refuses
# refused@..., stores the message as it came).   haraka.sh start|stop
source "$(dirname "$0")/../lib.sh"
NAME=haraka PORT=${HARAKA_PORT:-24830} TLSPORT=${HARAKA_TLSPORT:-24831}
D=$RUNBASE/$NAME
case $1 in
stop) stop_dir "$D"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
HARAKA=$NODE_MODULES/.bin/haraka
need Haraka "$HARAKA" || exit 1
make_certs || exit 1
ports_free "$PORT" "$TLSPORT" || exit 1
D=$(fresh_dir $NAME)
"$HARAKA" -i "$D/haraka" >"$D/init.log" 2>&1 || { cat "$D/init.log" >&2; exit 1; }
C=$D/haraka/config
mkdir -p "$D/store"
cat >"$C/smtp.ini" <<EOT
listen=127.0.0.1:$PORT,127.0.0.1:$TLSPORT
smtps_port=$TLSPORT
nodes=0
EOT
# Haraka makes DH parameters at start (tens of seconds) unless given some
[ -s "$CERTS/dhparams.pem" ] || openssl dhparam -dsaparam -out "$CERTS/dhparams.pem" 2048 2>/dev/null || exit 1
printf 'key=%s\ncert=%s\ndhparam=%s\n' "$KEY" "$CERT" "$CERTS/dhparams.pem" >"$C/tls.ini"
echo localhost >"$C/me"
echo localhost >"$C/host_list"
printf 'tls\nauth/flat_file\nstore\n' >"$C/plugins"
printf '[core]\nmethods=PLAIN,LOGIN,CRAM-MD5\n\n[users]\n%s=%s\n' "$ACCOUNT_USER" "$ACCOUNT_PASS" >"$C/auth_flat_file.ini"
printf '[main]\nlevel=info\n' >"$C/log.ini"
cp "$INTEROP/servers/haraka-store.js" "$D/haraka/plugins/store.js"
INTEROP_STORE=$D/store setsid "$HARAKA" -c "$D/haraka" >"$D/server.log" 2>&1 </dev/null &
remember_pid "$D" $!
wait_port "$PORT" 30 $! "$D/server.log" && wait_port "$TLSPORT" 30 $! "$D/server.log" || exit 1
printf '%s\n' --name $NAME --store "$D/store" --kind files --plain "$PORT" --starttls "$PORT" \
    --implicit "$TLSPORT" --ca "$CA" --strip "Received,Authentication-Results" --refused refused@example.org --auth-mode starttls >"$D/profile"
