#!/bin/bash
# chasquid 1.11 (chasquid): 24840 SMTP (cleartext + STARTTLS, no AUTH),
# 24841 submission (STARTTLS, AUTH PLAIN required), 24842 submission over
# TLS (implicit, AUTH required). Domain example.org with users alice
# (password secret), bob, carol; other local parts get 550. Delivery through
# $D/deliver.sh (the message on stdin). No DNS: a private resolv.conf.
#   chasquid.sh start|stop
source "$(dirname "$0")/../lib.sh"
NAME=chasquid PORT=${CHASQUID_PORT:-24840} SUBPORT=${CHASQUID_SUBPORT:-24841} TLSPORT=${CHASQUID_TLSPORT:-24842}
D=$RUNBASE/$NAME
case $1 in
stop) stop_dir "$D"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
need chasquid /usr/bin/chasquid || exit 1
make_certs || exit 1
ports_free "$PORT" "$SUBPORT" "$TLSPORT" || exit 1
D=$(fresh_dir $NAME)
C=$D/conf
mkdir -p "$C/certs/localhost" "$C/domains/example.org" "$D/data"
cp "$CERT" "$C/certs/localhost/fullchain.pem"
cp "$KEY" "$C/certs/localhost/privkey.pem"
write_deliver "$D"
private_etc "$D"
cat >"$C/chasquid.conf" <<EOT
hostname: "localhost"
smtp_address: "127.0.0.1:$PORT"
submission_address: "127.0.0.1:$SUBPORT"
submission_over_tls_address: "127.0.0.1:$TLSPORT"
mail_delivery_agent_bin: "$D/deliver.sh"
mail_delivery_agent_args: "%to%"
data_dir: "$D/data"
mail_log_path: "$D/mail.log"
EOT
for u in "$ACCOUNT_USER" bob carol; do
    chasquid-util -C="$C" user-add "$u@example.org" --password="$ACCOUNT_PASS" >>"$D/setup.log" 2>&1 ||
        { cat "$D/setup.log" >&2; exit 1; }
done
setsid sh "$INTEROP/private-etc.sh" "$D" /usr/bin/chasquid -config_dir "$C" -logfile "$D/chasquid.log" >"$D/server.log" 2>&1 </dev/null &
remember_pid "$D" $!
for p in "$PORT" "$SUBPORT" "$TLSPORT"; do wait_port "$p" 20 $! "$D/chasquid.log" || exit 1; done
printf '%s\n' --name $NAME --store "$D/store" --kind files --plain "$PORT" --starttls "$PORT" \
    --implicit "$TLSPORT" --auth-port "$SUBPORT" --user "$ACCOUNT_USER@example.org" --ca "$CA" --strip "Received,Received-SPF" --lf \
    --refused refused@example.org --auth-mode starttls --login implicit >"$D/profile"
