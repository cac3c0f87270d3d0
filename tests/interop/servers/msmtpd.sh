#!/bin/bash
# msmtpd 1.8.23 (msmtp-mta; unpacked, it replaces /usr/sbin/sendmail):
# 24860 without AUTH, 24861 with AUTH required (PLAIN, cleartext: msmtpd has
# no TLS at all) for alice/secret. It accepts every recipient and pipes each
# message to $D/deliver.sh.   msmtpd.sh start|stop
source "$(dirname "$0")/../lib.sh"
NAME=msmtpd PORT=${MSMTPD_PORT:-24860} AUTHPORT=${MSMTPD_AUTHPORT:-24861}
D=$RUNBASE/$NAME
case $1 in
stop) stop_dir "$D"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
MSMTPD=$X/msmtp-mta/usr/bin/msmtpd
need msmtpd "$MSMTPD" || exit 1
ports_free "$PORT" "$AUTHPORT" || exit 1
D=$(fresh_dir $NAME)
write_deliver "$D"
setsid "$MSMTPD" --interface=127.0.0.1 --port="$PORT" --log="$D/msmtpd.log" \
    --command="$D/deliver.sh -f %F --" >"$D/server.log" 2>&1 </dev/null &
remember_pid "$D" $!
wait_port "$PORT" 20 $! "$D/server.log" || exit 1
setsid "$MSMTPD" --interface=127.0.0.1 --port="$AUTHPORT" --log="$D/msmtpd-auth.log" \
    --command="$D/deliver.sh -f %F --" --auth="$ACCOUNT_USER,echo $ACCOUNT_PASS" >"$D/server-auth.log" 2>&1 </dev/null &
remember_pid "$D" $!
wait_port "$AUTHPORT" 20 $! "$D/server-auth.log" || exit 1
printf '%s\n' --name $NAME --store "$D/store" --kind files --plain "$PORT" --auth-port "$AUTHPORT" \
    --strip "Received" --lf --main plain --auth-mode plain >"$D/profile"
