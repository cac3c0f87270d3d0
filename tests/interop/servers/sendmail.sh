#!/bin/bash
# sendmail 8.17 (sendmail-bin, sendmail-cf; unpacked, they conflict with
# Postfix): 24870 cleartext + STARTTLS, 24871 implicit TLS (M=s). AUTH
# PLAIN LOGIN CRAM-MD5 through Cyrus SASL's sasldb (alice/secret, realm
# sendmail.test), offered before STARTTLS too. access refuses
# refused@example.org; mailertable sends example.org to the "store" mailer
# ($D/deliver.sh). Its own namespace (private-etc.sh): private resolv.conf
# and hosts (no DNS wait), and a private copy of the SASL plugin directory
# with Sendmail.conf over /usr/lib/x86_64-linux-gnu/sasl2 (Cyrus reads
# Sendmail.conf from there; /etc/sasl2 is not touched).
#   sendmail.sh start|stop
source "$(dirname "$0")/../lib.sh"
NAME=sendmail PORT=${SENDMAIL_PORT:-24870} TLSPORT=${SENDMAIL_TLSPORT:-24871}
D=$RUNBASE/$NAME
case $1 in
stop) stop_dir "$D"; exit 0 ;;
start) ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
SM=$X/sendmail-bin/usr/libexec/sendmail/sendmail
MAKEMAP=$X/sendmail-bin/usr/libexec/sendmail/makemap
CFM4=$X/sendmail-cf/usr/share/sendmail/cf/m4/cf.m4
SASLDIR=/usr/lib/x86_64-linux-gnu/sasl2
need sendmail "$SM" || exit 1
need sendmail-cf "$CFM4" || exit 1
need m4 /usr/bin/m4 || exit 1
need saslpasswd2 /usr/sbin/saslpasswd2 || exit 1
need "Cyrus SASL plugins" "$SASLDIR/libplain.so" || exit 1
make_certs || exit 1
ports_free "$PORT" "$TLSPORT" || exit 1
D=$(fresh_dir $NAME)
mkdir -p "$D/queue" "$D/sasl2"
chmod 700 "$D/queue"
write_deliver "$D"
private_etc "$D"
install -m 600 "$KEY" "$D/server.key"
: >"$D/aliases"
: >"$D/statistics"
cp -a "$SASLDIR"/. "$D/sasl2/"
cat >"$D/sasl2/Sendmail.conf" <<EOT
pwcheck_method: auxprop
auxprop_plugin: sasldb
sasldb_path: $D/sasl2/sasldb2
mech_list: PLAIN LOGIN CRAM-MD5
EOT
echo "$ACCOUNT_PASS" | saslpasswd2 -p -c -f "$D/sasl2/sasldb2" -u sendmail.test "$ACCOUNT_USER" || exit 1
chmod 640 "$D/sasl2/sasldb2"
printf 'Connect:127.0.0.1\tRELAY\nTo:refused@example.org\tERROR:"550 5.1.1 no such user"\nTo:refused2@example.org\tERROR:"550 5.1.1 no such user"\n' >"$D/access"
printf 'example.org\tstore:example.org\n' >"$D/mailertable"
# host names from the hosts file only: no DNS, so nothing is deferred for it
printf 'hosts files\naliases files\n' >"$D/service.switch"
cat >"$D/sendmail.mc" <<EOT
divert(-1)
divert(0)dnl
include(\`$CFM4')dnl
VERSIONID(\`smtp.h interop')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`sendmail.test')dnl
define(\`QUEUE_DIR', \`$D/queue')dnl
define(\`confPID_FILE', \`$D/sendmail.pid')dnl
define(\`ALIAS_FILE', \`$D/aliases')dnl
define(\`STATUS_FILE', \`$D/statistics')dnl
define(\`confHELP_FILE', \`$D/helpfile')dnl
define(\`confCW_FILE', \`-o $D/local-host-names')dnl
define(\`confCT_FILE', \`-o $D/trusted-users')dnl
define(\`confDEF_USER_ID', \`daemon:daemon')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confCACERT_PATH', \`$CERTS')dnl
define(\`confCACERT', \`$CA')dnl
define(\`confSERVER_CERT', \`$CERT')dnl
define(\`confSERVER_KEY', \`$D/server.key')dnl
define(\`confDELIVERY_MODE', \`interactive')dnl
define(\`confDONT_BLAME_SENDMAIL', \`GroupWritableDirPathSafe,MapInUnsafeDirPath,WriteMapToHardLink,FileDeliveryToSymlink,ForwardFileInUnsafeDirPathSafe,NonRootSafeAddr,TrustStickyBit,GroupReadableKeyFile,GroupReadableSASLDBFile')dnl
define(\`confAUTH_MECHANISMS', \`PLAIN LOGIN CRAM-MD5')dnl
TRUST_AUTH_MECH(\`PLAIN LOGIN CRAM-MD5')dnl
define(\`confAUTH_OPTIONS', \`A')dnl
define(\`confTO_IDENT', \`0s')dnl
dnl never queue or refuse for the load average (a busy test machine has 20+)
define(\`confQUEUE_LA', \`10000')dnl
define(\`confREFUSE_LA', \`10000')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`confSERVICE_SWITCH_FILE', \`$D/service.switch')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
FEATURE(\`access_db', \`hash -T<TMPF> $D/access')dnl
dnl after access_db, or it is silently left out (m4 only warns)
FEATURE(\`blocklist_recipients')dnl
FEATURE(\`mailertable', \`hash -o $D/mailertable')dnl
DAEMON_OPTIONS(\`Port=$PORT, Addr=127.0.0.1, Name=MTA')dnl
DAEMON_OPTIONS(\`Port=$TLSPORT, Addr=127.0.0.1, Name=SMTPS, M=s')dnl
MAILER(\`local')dnl
MAILER(\`smtp')dnl
MAILER_DEFINITIONS
Mstore, P=$D/deliver.sh, F=sDFMnq8, S=EnvFromSMTP/HdrFromSMTP, R=EnvToSMTP, A=deliver.sh \$u@\$h, U=daemon:daemon
EOT
m4 "$D/sendmail.mc" >"$D/sendmail.cf" 2>"$D/m4.log" || { cat "$D/m4.log" >&2; exit 1; }
[ -s "$D/m4.log" ] && { ilog "m4 complained about sendmail.mc:"; cat "$D/m4.log" >&2; exit 1; }
for m in access mailertable; do
    "$MAKEMAP" -C "$D/sendmail.cf" hash "$D/$m" <"$D/$m" || exit 1
done
T0=$(( $(date +%s%N) / 1000000 ))
PRIVATE_MOUNTS="$D/sasl2:$SASLDIR" setsid sh "$INTEROP/private-etc.sh" "$D" \
    "$SM" -C "$D/sendmail.cf" -bD -L sm-interop >"$D/server.log" 2>&1 </dev/null &
remember_pid "$D" $!
for p in "$PORT" "$TLSPORT"; do wait_port "$p" 150 $! "$D/server.log" || exit 1; done
echo "sendmail listened after $(( $(date +%s%N) / 1000000 - T0 )) ms" >>"$D/server.log"
printf '%s\n' --name $NAME --store "$D/store" --kind files --plain "$PORT" --starttls "$PORT" \
    --implicit "$TLSPORT" --ca "$CA" --strip "Received" --lf --refused refused@example.org --auth-mode starttls >"$D/profile"
