#!/bin/bash
# Dovecot 2.3 submission (dovecot-core, dovecot-submissiond): 24810 cleartext
# + STARTTLS, 24811 implicit TLS; PLAIN LOGIN CRAM-MD5 (alice/secret,
# required before MAIL); it relays every message to the project's aiosmtpd
# recorder on 24812 (tests/peers/aiosmtpd_server.py: it refuses local parts
# starting with "refuse" and stores the exact DATA bytes). User "tempfail"
# gets 454 4.7.0 (a passdb that fails temporarily).   dovecot.sh start|stop
source "$(dirname "$0")/../lib.sh"
NAME=dovecot PORT=${DOVECOT_PORT:-24810} TLSPORT=${DOVECOT_TLSPORT:-24811} RELAY=${DOVECOT_RELAY:-24812}
D=$RUNBASE/$NAME
case $1 in
stop) stop_dir "$D"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
need dovecot /usr/sbin/dovecot || exit 1
need dovecot-submissiond /usr/lib/dovecot/submission || exit 1
make_certs || exit 1
ports_free "$PORT" "$TLSPORT" "$RELAY" || exit 1
D=$(fresh_dir $NAME)
mkdir -p "$D/base" "$D/state" "$D/home"
# the recorder Dovecot relays to
setsid "$PY" "$REPO/tests/peers/aiosmtpd_server.py" --listen "127.0.0.1:$RELAY" --spool "$D/spool" --pipelining \
    >"$D/aiosmtpd.log" 2>&1 </dev/null &
remember_pid "$D" $!
wait_port "$RELAY" 20 $! "$D/aiosmtpd.log" || exit 1
echo "$ACCOUNT_USER:{PLAIN}$ACCOUNT_PASS:65534:65534::$D/home" >"$D/passwd"
# the first passdb: a checkpassword program that fails temporarily (111) for
# user "tempfail" (AUTH gets 454 4.7.0) and says "not mine" (1) for the
# others, which the passwd-file passdb then checks
cat >"$D/tempfail.sh" <<'EOT'
#!/bin/sh
user=$(head -c 512 <&3 | tr '\000' '\n' | head -n 1)
[ "$user" = tempfail ] && exit 111
exit 1
EOT
chmod 755 "$D/tempfail.sh"
cat >"$D/dovecot.conf" <<EOT
protocols = submission
base_dir = $D/base
state_dir = $D/state
log_path = $D/dovecot.log
listen = 127.0.0.1
hostname = localhost
ssl = yes
ssl_cert = <$CERT
ssl_key = <$KEY
disable_plaintext_auth = yes
auth_mechanisms = plain login cram-md5
mail_location = maildir:$D/home/Maildir
submission_relay_host = 127.0.0.1
submission_relay_port = $RELAY
submission_relay_trusted = yes
submission_max_mail_size = 40M
passdb {
  driver = checkpassword
  args = $D/tempfail.sh
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/passwd
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=$D/home
}
service submission-login {
  inet_listener submission {
    port = $PORT
  }
  inet_listener submissions {
    port = $TLSPORT
    ssl = yes
  }
}
service anvil {
  chroot =
}
EOT
/usr/sbin/dovecot -c "$D/dovecot.conf" >"$D/start.log" 2>&1 || { cat "$D/start.log" >&2; exit 1; }
remember_pid "$D" "file:$D/base/master.pid"
wait_port "$PORT" 20 "" "$D/dovecot.log" && wait_port "$TLSPORT" 20 "" "$D/dovecot.log" || exit 1
printf '%s\n' --name $NAME --store "$D/spool" --kind aiosmtpd --plain "$PORT" --starttls "$PORT" \
    --implicit "$TLSPORT" --ca "$CA" --strip "Received" --refused refused@example.org --auth-mode starttls \
    --login plain,starttls,implicit --tempfail-user tempfail >"$D/profile"
