#!/bin/bash
# Exim 4.96 (exim4-daemon-heavy, GnuTLS; unpacked, it conflicts with
# Postfix): 24800 cleartext + STARTTLS, 24801 implicit TLS. AUTH PLAIN,
# LOGIN, CRAM-MD5 for alice/secret, offered before STARTTLS too. RCPT ACL
# refuses local parts starting with "refused"; everything else goes to one
# maildir ($D/maildir, CRLF line ends: use_crlf). No DNS (private
# resolv.conf and hosts, host_lookup off).   exim.sh start|stop
source "$(dirname "$0")/../lib.sh"
NAME=exim PORT=${EXIM_PORT:-24800} TLSPORT=${EXIM_TLSPORT:-24801}
D=$RUNBASE/$NAME
case $1 in
stop) stop_dir "$D"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
EXIM=$X/exim4-daemon-heavy/usr/sbin/exim4
need exim4 "$EXIM" || exit 1
getent passwd Debian-exim >/dev/null || { ilog "no user Debian-exim: run tests/interop/deps.sh"; exit 1; }
make_certs || exit 1
ports_free "$PORT" "$TLSPORT" || exit 1
D=$(fresh_dir $NAME)
mkdir -p "$D/spool" "$D/log" "$D/maildir"
chown Debian-exim:Debian-exim "$D/spool" "$D/log" "$D/maildir"
private_etc "$D"
cat >"$D/exim.conf" <<EOT
exim_path = $EXIM
spool_directory = $D/spool
log_file_path = $D/log/%slog
exim_user = Debian-exim
exim_group = Debian-exim
primary_hostname = localhost
qualify_domain = example.org
daemon_smtp_ports = $PORT : $TLSPORT
tls_on_connect_ports = $TLSPORT
local_interfaces = <; 127.0.0.1
tls_certificate = $CERT
tls_privatekey = $KEY
host_lookup =
rfc1413_hosts =
keep_environment =
tls_advertise_hosts = *
auth_advertise_hosts = *
pipelining_advertise_hosts = *
chunking_advertise_hosts = *
dsn_advertise_hosts = *
smtputf8_advertise_hosts = *
message_size_limit = 50M
# deliver every message at once (the default queues those after the 10th of a connection)
smtp_accept_queue_per_connection = 0
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_rcpt:
  deny    local_parts = ^refused
          message = no such user
  accept

begin routers

store:
  driver = accept
  transport = maildir_store

begin transports

maildir_store:
  driver = appendfile
  directory = $D/maildir
  maildir_format
  use_crlf
  user = Debian-exim
  mode = 0644

begin authenticators

plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = \${if and {{eq{\$auth2}{$ACCOUNT_USER}}{eq{\$auth3}{$ACCOUNT_PASS}}}}
  server_set_id = \$auth2

login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = \${if and {{eq{\$auth1}{$ACCOUNT_USER}}{eq{\$auth2}{$ACCOUNT_PASS}}}}
  server_set_id = \$auth1

cram:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = \${if eq{\$auth1}{$ACCOUNT_USER}{$ACCOUNT_PASS}fail}
  server_set_id = \$auth1
EOT
chmod 644 "$D/exim.conf"
# -bd daemonizes: the daemon stays in the private mount namespace; its PID is in exim.pid
sh "$INTEROP/private-etc.sh" "$D" "$EXIM" -C "$D/exim.conf" -bd -oP "$D/exim.pid" >"$D/server.log" 2>&1 </dev/null ||
    { cat "$D/server.log" "$D/log/paniclog" >&2 2>/dev/null; exit 1; }
remember_pid "$D" "file:$D/exim.pid"
for p in "$PORT" "$TLSPORT"; do wait_port "$p" 20 "" "$D/log/mainlog" || exit 1; done
printf '%s\n' --name $NAME --store "$D/maildir" --kind maildir --plain "$PORT" --starttls "$PORT" \
    --implicit "$TLSPORT" --ca "$CA" --strip "Received" --refused refused@example.org --auth-mode starttls >"$D/profile"
