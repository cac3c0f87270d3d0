#!/bin/bash
# OpenSMTPD 6.8.0p2 (opensmtpd; unpacked, it conflicts with Postfix):
# 24850 cleartext + STARTTLS, 24851 implicit TLS (smtps), AUTH (only after
# TLS) against a file table (alice/secret). Refuses refused@... and
# nobody@...; delivers into one maildir as nobody. Its fixed paths
# (/var/spool/smtpd, /run/smtpd.sock, /usr/libexec/opensmtpd) are private
# mounts in its own namespace (private-etc.sh).   opensmtpd.sh start|stop
# TLS: with Debian 12's OpenSSL 3 every handshake fails on the server side
# (alert 80 internal_error, log "SSL routines::internal error"); the TLS
# cells are then n/a, not FAIL, and the rest runs in cleartext. (A P-256
# key fails too: "SSL routines::EVP lib".)
source "$(dirname "$0")/../lib.sh"
NAME=opensmtpd PORT=${OPENSMTPD_PORT:-24850} TLSPORT=${OPENSMTPD_TLSPORT:-24851}
D=$RUNBASE/$NAME
case $1 in
stop) stop_dir "$D"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
SMTPD=$X/opensmtpd/usr/sbin/smtpd
need opensmtpd "$SMTPD" || exit 1
need "OpenSMTPD's spool mount point" /var/spool/smtpd || exit 1
getent passwd opensmtpd >/dev/null || { ilog "no user opensmtpd: run tests/interop/deps.sh"; exit 1; }
make_certs || exit 1
ports_free "$PORT" "$TLSPORT" || exit 1
D=$(fresh_dir $NAME)
mkdir -p "$D/spool" "$D/run" "$D/maildir"
chmod 711 "$D/spool"
chown nobody "$D/maildir"
private_etc "$D"
# its key must not be readable by others
install -m 600 "$KEY" "$D/server.key"
echo "$ACCOUNT_USER $(openssl passwd -6 "$ACCOUNT_PASS")" >"$D/creds"
echo "@example.org nobody" >"$D/vusers"
chmod 640 "$D/creds"
chgrp opensmtpd "$D/creds"
cat >"$D/smtpd.conf" <<EOT
pki localhost cert "$CERT"
pki localhost key "$D/server.key"
table creds file:$D/creds
table vusers file:$D/vusers
listen on 127.0.0.1 port $PORT tls pki localhost hostname localhost auth-optional <creds>
listen on 127.0.0.1 port $TLSPORT smtps pki localhost hostname localhost auth-optional <creds>
action "deliver" maildir "$D/maildir" user nobody virtual <vusers>
match from any for any rcpt-to regex "^(nobody|refused)[^@]*@" reject
match auth from any for any rcpt-to regex "^(nobody|refused)[^@]*@" reject
match from any for any action "deliver"
match auth from any for any action "deliver"
EOT
PRIVATE_MOUNTS="$D/spool:/var/spool/smtpd $D/run:/run $X/opensmtpd/usr/libexec:/usr/libexec" \
    setsid sh "$INTEROP/private-etc.sh" "$D" "$SMTPD" -d -f "$D/smtpd.conf" >"$D/server.log" 2>&1 </dev/null &
remember_pid "$D" $!
for p in "$PORT" "$TLSPORT"; do wait_port "$p" 20 $! "$D/server.log" || exit 1; done
printf '%s\n' --name $NAME --store "$D/maildir" --kind maildir --plain "$PORT" --starttls "$PORT" \
    --implicit "$TLSPORT" --ca "$CA" --strip "Received,Return-Path,Delivered-To" --lf --refused refused@example.org \
    --main plain --auth-mode starttls \
    --tls-broken "server TLS broken (OpenSMTPD 6.8 with OpenSSL 3: alert 80)" >"$D/profile"
