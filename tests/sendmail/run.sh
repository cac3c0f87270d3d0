#!/usr/bin/env bash
# tests/sendmail/run.sh - examples/smtp-send as /usr/bin/sendmail for real
# programs (mutt, neomutt, s-nail, bsd-mailx, cron's argv, git send-email,
# PHP mail(), Python), side by side with msmtp, against aiosmtpd servers
# that record what they received (tests/sendmail/peer.py). Every check
# reads back what the server stored.
#
#   bash tests/sendmail/run.sh            (from the top of the repository;
#                                          make test runs it)
# Needs tests/.build/smtp-send (make tests/.build/smtp-send) and the
# packages of `make deps`. Ports 24900-24949. Prints "N passed, N failed".
# Never touches /usr/sbin/sendmail or /etc: each program is pointed at
# smtp-send through its own setting; /etc/msmtprc is tested in a private
# mount namespace.
set -u
cd "$(dirname "$0")/../.."
TOP=$(pwd -P)
SEND=$TOP/tests/.build/smtp-send
PY=/usr/bin/python3
RUNDIR=${RUNDIR:-$TOP/tests/.run}
mkdir -p "$RUNDIR"
RUNDIR=$(cd "$RUNDIR" && pwd -P)
R=$RUNDIR/sendmail
rm -rf "$R"; mkdir -p "$R"
T=$(mktemp -d)
export HOME=$T/home LANG=C.UTF-8 LC_ALL=C.UTF-8 TZ=UTC
unset XDG_CONFIG_HOME MAILRC
mkdir -p "$HOME"

PLAIN=24900 NO8BIT=24901 MAXRCPT=24902 AUTHP=24903 AUTHPLAIN=24904 STRICT=24905 SIZED=24906
pass=0; failn=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { failn=$((failn + 1)); echo "FAIL $1"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    [ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT

# start NAME PORT [peer options]: a recording server on 127.0.0.1:PORT, spool $R/NAME
start() {
    local name=$1 port=$2 i; shift 2
    $PY tests/sendmail/peer.py --listen "127.0.0.1:$port" --spool "$R/$name" --line-length-limit 1000000 "$@" \
        > "$R/$name.log" 2>&1 &
    PIDS+=($!)
    for i in $(seq 1 300); do
        [ -e "$R/$name/ready" ] && return 0
        kill -0 "$!" 2>/dev/null || break
        sleep 0.05
    done
    echo "cannot start $name:"; cat "$R/$name.log"; exit 1
}

[ -x "$SEND" ] || { echo "FAIL $SEND is not built (make tests/.build/smtp-send)"; echo "0 passed, 1 failed"; exit 1; }
# a copy of our own: the shared build directory may be rebuilt while this runs
mkdir -p "$T/bin" && cp "$SEND" "$T/bin/smtp-send" && SEND=$T/bin/smtp-send
start plain $PLAIN --pipelining
start no8bit $NO8BIT --no-8bitmime
start maxrcpt $MAXRCPT --max-rcpt 1000
start authp $AUTHP --auth-user alice --auth-pass secret
start authplain $AUTHPLAIN --auth-user alice --auth-pass secret --auth-mechs PLAIN
start strict $STRICT --line-length-limit 1001   # aiosmtpd's own limit: a line over 1000 octets is refused
start sized $SIZED --size-limit 20000

count() { ls "$R/$1"/msg-*.json 2>/dev/null | wc -l; }
last() { ls "$R/$1"/msg-*.json 2>/dev/null | sort | tail -1; }
# newmsg SPOOL N0: the .eml of the message after N0, or fails (60 s at most: calm on a busy machine)
newmsg() {
    local end=$((SECONDS + 60)) n
    while [ $SECONDS -lt $end ]; do
        n=$(count "$1"); [ "$n" -gt "$2" ] && { printf '%s/msg-%04d.eml' "$R/$1" $(($2 + 1)); return 0; }
        sleep 0.02
    done
    return 1
}
# js FILE.eml EXPR: a Python expression over the message's JSON (d)
js() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1][:-4]+".json")); print(eval(sys.argv[2]))' "$1" "$2"; }
# lf FILE: the stored message with CRLF turned into LF
lf() { sed 's/\r$//' "$1"; }
export PY; export -f js lf

# the configuration most tests use
RC=$T/msmtprc
cat > "$RC" <<CONF
defaults
tls off
logfile $T/send.log

account base
host 127.0.0.1
port $PLAIN
from alice@example.com

account default : base
aliases $T/aliases

account other
host 127.0.0.1
port $PLAIN
from other@example.org
tls off

account auth
host 127.0.0.1
port $AUTHP
tls off
from alice@example.com
user alice
password secret
CONF
chmod 600 "$RC"
printf '# aliases\nroot: admin@example.com\npostmaster: root\nteam: bob@example.com, carol@example.com\n' > "$T/aliases"
S=("$SEND" -C "$RC")

echo "== the command line: every flag programs pass to sendmail"
FLAGSETS=(
  "--" "-i" "-oi" "-oem" "-oee" "-odi" "-odb" "-om" "-m" "-n" "-v" "-B8BITMIME" "-B7BIT" "-bm" "-G"
  "-L tag" "-Ltag" "-O DeliveryMode=b" "-h 17" "-V envid-1" "-N never" "-N success,failure" "-R hdrs" "-R full"
  "-F Alice_Example" "-X $T/x.log" "-f alice@example.com" "-falice@example.com" "-r alice@example.com" "-U"
  "-Am" "-o i" "-i -oi -oem --" "-ti" "-FCronDaemon -i -B8BITMIME -oem"
)
for fl in "${FLAGSETS[@]}"; do
    n0=$(count plain)
    # shellcheck disable=SC2086
    printf 'Subject: flags %s\n\nbody\n' "$fl" | "${S[@]}" $fl bob@example.com > "$T/out" 2>&1; rc=$?
    f=$(newmsg plain "$n0") && got=$(js "$f" 'd["rcpt_tos"]') || got=none
    check "accepted: smtp-send $fl bob@example.com (exit $rc, delivered to $got)" \
        [ $rc = 0 -a "$got" = "['bob@example.com']" ]
done
"${S[@]}" -Z bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "an unknown flag exits 64 (EX_USAGE)" [ $rc = 64 ]
check "... with a message naming it" grep -q -- "unknown option -Z" "$T/err"
"${S[@]}" --no-such-thing=1 bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "an unknown long option exits 64 and names it" bash -c "[ $rc = 64 ] && grep -q -- '--no-such-thing' '$T/err'"
"${S[@]}" -bs < /dev/null 2> "$T/err"; rc=$?
check "-bs (SMTP on standard input) is refused with 64 and says why" bash -c "[ $rc = 64 ] && grep -q -- '-bs' '$T/err'"
check "-bp: there is no queue, exit 0" bash -c "'$SEND' -bp | grep -q 'queue is empty'"
check "-q: there is no queue, exit 0" "$SEND" -q
check "--version" bash -c "'$SEND' --version | grep -q '^smtp-send '"
check "--help names the exit codes" bash -c "'$SEND' --help | grep -q '75 try again later'"
check "-F sets the name of an added From" grep -q '^From: Alice_Example <alice@example.com>' "$R/plain/msg-0025.eml"
check "-X writes the log there" grep -q 'exitcode=EX_OK' "$T/x.log"
"${S[@]}" -P bob@example.com > "$T/pretend" < /dev/null; rc=$?
check "-P/--pretend prints the settings (exit 0)" bash -c "[ $rc = 0 ] && grep -q '^host = 127.0.0.1' '$T/pretend' && grep -q '^port = $PLAIN' '$T/pretend'"
"${S[@]}" -a auth -P > "$T/pretend" < /dev/null
check "--pretend hides the password" bash -c "grep -q '^password = \\*$' '$T/pretend' && ! grep -q secret '$T/pretend'"
"${S[@]}" --serverinfo > "$T/info"; rc=$?
check "--serverinfo: capabilities and greeting" bash -c "[ $rc = 0 ] && grep -q 8BITMIME '$T/info' && grep -q 'aiosmtpd.test' '$T/info' && grep -q PIPELINING '$T/info'"
"${S[@]}" -a auth --serverinfo > "$T/info"
check "--serverinfo: AUTH mechanisms" grep -q 'CRAM-MD5 ' "$T/info"
n0=$(count plain)
printf 'From: Reader <reader@example.net>\nSubject: rcpt from header\n\nx\n' | "${S[@]}" --read-envelope-from bob@example.com
f=$(newmsg plain "$n0")
check "--read-envelope-from: the From header's address is the envelope sender" [ "$(js "$f" 'd["mail_from"]')" = reader@example.net ]
n0=$(count plain)
printf 'Subject: file/account\n\nx\n' | "$SEND" --file="$RC" --account=other bob@example.com
f=$(newmsg plain "$n0")
check "--file and --account" [ "$(js "$f" 'd["mail_from"]')" = other@example.org ]
n0=$(count plain)
printf 'Subject: select by -f\n\nx\n' | "${S[@]}" -f other@example.org bob@example.com
f=$(newmsg plain "$n0")
check "-f without -a selects the account whose from matches" [ "$(js "$f" 'd["mail_from"]')" = other@example.org ]
n0=$(count plain)
printf 'Subject: long options\n\nx\n' | "${S[@]}" --remove-bcc-headers=off --set-date-header=off --set-msgid-header=off \
    --data-timeout=30 --timeout 20 --domain=client.test -t <<'MSG'
To: bob@example.com
Bcc: keep@example.com
Subject: keep bcc

x
MSG
f=$(newmsg plain "$n0")
check "--remove-bcc-headers=off keeps Bcc" grep -q '^Bcc: keep@example.com' "$f"
check "--set-date-header=off and --set-msgid-header=off add neither" bash -c "! grep -qi '^Date:\|^Message-ID:' '$f'"
check "--domain is the EHLO name; --data-timeout is an option" [ "$(js "$f" 'd["helo"]')" = client.test ]
n0=$(count plain)
printf 'From: Old <old@example.com>\nTo: a@example.com, b@example.com\nCc: c@example.com\nSubject: u\n\nx\n' |
    "${S[@]}" --set-from-header=on --undisclosed-recipients -t
f=$(newmsg plain "$n0")
check "--set-from-header=on replaces From" bash -c "grep -q '^From: alice@example.com' '$f' && ! grep -q 'Old' '$f'"
check "--undisclosed-recipients: To is undisclosed-recipients:; (no To, Cc)" \
    bash -c "grep -q '^To: undisclosed-recipients:;' '$f' && ! grep -q '^Cc:\|[ <]a@example.com' '$f'"   # not the Message-ID's <...a@example.com>
check "... and every recipient got it" [ "$(js "$f" 'sorted(d["rcpt_tos"])')" = "['a@example.com', 'b@example.com', 'c@example.com']" ]
n0=$(count authp)
printf 'Subject: eval\n\nx\n' | "$SEND" --host 127.0.0.1 --port $AUTHP --tls=off --user alice --passwordeval='echo secret' \
    -f alice@example.com bob@example.com
f=$(newmsg authp "$n0")
check "--passwordeval: the command's output is the password (CRAM-MD5 in cleartext)" [ "$(js "$f" 'd["auth"]')" = alice ]

echo "== the message"
n0=$(count plain)
printf 'Subject: 8bit\nFrom: alice@example.com\n\nGr\xc3\xbc\xc3\x9fe \xe2\x82\xac\n' | "${S[@]}" bob@example.com; rc=$?
f=$(newmsg plain "$n0")
check "8-bit body: sent with BODY=8BITMIME to a server that offers it" \
    bash -c "[ $rc = 0 ] && [ \"\$(js '$f' 'd[\"mail_options\"]')\" = \"['BODY=8BITMIME']\" ]"
check "... the bytes arrive unchanged" grep -q $'^Gr\xc3\xbc\xc3\x9fe \xe2\x82\xac' "$f"
n0=$(count no8bit)
printf 'Subject: 8bit\n\nGr\xc3\xbc\xc3\x9fe\n' | "${S[@]}" --port $NO8BIT bob@example.com 2> "$T/err"; rc=$?
check "8-bit to a server without 8BITMIME: exit 65 (EX_DATAERR)" [ $rc = 65 ]
check "... saying why" grep -qi "8-bit" "$T/err"
sleep 0.2
check "... and nothing was stored" [ "$(count no8bit)" = "$n0" ]
n0=$(count no8bit)
printf 'Subject: ascii\n\nplain\n' | "${S[@]}" --port $NO8BIT bob@example.com
f=$(newmsg no8bit "$n0")
check "7-bit to a server without 8BITMIME: sent, no BODY=" [ "$(js "$f" 'd["mail_options"]')" = "[]" ]
n0=$(count plain)
printf 'Subject: utf8 address\n\nx\n' | "${S[@]}" $'j\xc3\xb6rg@b\xc3\xbccher.example'; rc=$?
f=$(newmsg plain "$n0")
check "a UTF-8 recipient goes with SMTPUTF8 when offered" \
    bash -c "[ $rc = 0 ] && js '$f' 'd[\"mail_options\"]' | grep -q SMTPUTF8 && [ \"\$(js '$f' 'd[\"smtputf8\"]')\" = True ]"
n0=$(count plain)
printf 'Subject: no headers added here\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <keep@example.com>\nFrom: Me <me@example.com>\n\nx\n' |
    "${S[@]}" bob@example.com
f=$(newmsg plain "$n0")
check "existing Date, Message-ID, From are untouched" \
    bash -c "[ \"\$(lf '$f')\" = \"\$(printf 'Subject: no headers added here\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <keep@example.com>\nFrom: Me <me@example.com>\n\nx')\" ]"
n0=$(count plain)
printf 'Subject: added\n\nx\n' | "${S[@]}" -F 'Zoë Example' bob@example.com
f=$(newmsg plain "$n0")
check "missing Date, Message-ID, From are added (From with -F's name, RFC 2047)" \
    bash -c "grep -q '^Date: [A-Z][a-z][a-z], [0-9][0-9] [A-Z][a-z][a-z] 20[0-9][0-9] ' '$f' && grep -q '^Message-ID: <[0-9a-f]\{32\}@example.com>' '$f' && grep -q '^From: =?UTF-8?B?Wm/DqyBFeGFtcGxl?= <alice@example.com>' '$f'"
n0=$(count plain)
printf 'To: bob@example.com\nBcc: hidden@example.com,\n  hidden2@example.com\nSubject: bcc without -t\n\nx\n' | "${S[@]}" bob@example.com
f=$(newmsg plain "$n0")
check "Bcc (with its folded lines) removed also without -t" bash -c "! grep -q 'hidden' '$f'"
check "... and without -t the Bcc addresses are not recipients" [ "$(js "$f" 'd["rcpt_tos"]')" = "['bob@example.com']" ]

echo "== -t: RFC 5322 address lists"
n0=$(count plain)
"${S[@]}" -t <<'MSG'
From: Alice <alice@example.com>
To: "Smith, John" <john@example.com>, bob@example.com (Bob Jones),
	"Quoted <not@this.one>" <quoted@example.com>,
 Team: carol@example.com, Dave <dave@example.com>;, undisclosed-recipients:;
Cc: (comment first) eve@example.com, "Frank \"F\" Doe"
    <frank@example.com>, <angle@example.com>, =?UTF-8?Q?J=C3=B6rg?= <joerg@example.com>
Bcc: hidden@example.com
Subject: RFC 5322 forms

body
MSG
rc=$?
f=$(newmsg plain "$n0")
check "-t: quoted names with commas and angle brackets, comments, groups, folding" \
    [ "$rc $(js "$f" 'sorted(d["rcpt_tos"])')" = "0 ['angle@example.com', 'bob@example.com', 'carol@example.com', 'dave@example.com', 'eve@example.com', 'frank@example.com', 'hidden@example.com', 'joerg@example.com', 'john@example.com', 'quoted@example.com']" ]
check "-t: the Bcc header is not sent" bash -c "! grep -q hidden '$f'"
n0=$(count plain)
printf 'To: undisclosed-recipients:;\nBcc: only@example.com\nSubject: only bcc\n\nx\n' | "${S[@]}" -t
f=$(newmsg plain "$n0")
check "-t: undisclosed-recipients:; and a Bcc" [ "$(js "$f" 'd["rcpt_tos"]')" = "['only@example.com']" ]
# a 9000-byte To header: the address at the end must arrive whole (not victim@example.co)
$PY - "$T/long.eml" <<'PYEOF'
import sys
addrs = ["user%03d@example.com" % i for i in range(440)]
to = "To: " + ", ".join(addrs[:-1]) + ", victim@example.com"
assert len(to) > 9000, len(to)
open(sys.argv[1], "w").write("From: alice@example.com\n" + to + "\nSubject: long To\n\nbody\n")
PYEOF
n0=$(count strict)
"${S[@]}" --port $STRICT -t < "$T/long.eml"; rc=$?
f=$(newmsg strict "$n0")
check "-t: a To header over 9000 bytes: every address, the last one whole" \
    [ "$rc $(js "$f" 'len(d["rcpt_tos"]), d["rcpt_tos"][-1]')" = "0 (440, 'victim@example.com')" ]
check "... folded under 1000 octets a line for a server that allows no more, the same addresses once unfolded" \
    $PY - "$f" "$T/long.eml" <<'PYEOF'
import email, sys
a = email.message_from_bytes(open(sys.argv[1], "rb").read())
b = email.message_from_bytes(open(sys.argv[2], "rb").read())
unfold = lambda v: " ".join(v.replace("\r\n", "\n").replace("\n", "").split())
longest = max(len(l) for l in open(sys.argv[1], "rb").read().split(b"\r\n"))
sys.exit(0 if unfold(a["To"]) == unfold(b["To"]) and longest <= 998 else 1)
PYEOF
# 1500 recipients; the server takes 1000 per transaction (452 after that)
$PY - "$T/many.eml" <<'PYEOF'
import sys
to = ",\n ".join("r%04d@example.com" % i for i in range(1500))
open(sys.argv[1], "w").write("From: alice@example.com\nTo: " + to + "\nSubject: 1500\n\nbody\n")
PYEOF
n0=$(count maxrcpt)
"${S[@]}" --port $MAXRCPT -t < "$T/many.eml"; rc=$?
f1=$(newmsg maxrcpt "$n0"); f2=$(newmsg maxrcpt $((n0 + 1)))
check "-t: 1500 recipients through a server that takes 1000 per transaction (452): exit 0" [ $rc = 0 ]
check "... 1000 + 500 recipients in two transactions, every one once" bash -c "$PY - '$f1' '$f2' <<'PYEOF'
import json, sys
a = json.load(open(sys.argv[1][:-4] + '.json'))['rcpt_tos']; b = json.load(open(sys.argv[2][:-4] + '.json'))['rcpt_tos']
want = ['r%04d@example.com' % i for i in range(1500)]
sys.exit(0 if sorted(a + b) == want and sorted([len(a), len(b)]) == [500, 1000] else 1)
PYEOF"
check "... the same bytes in both" cmp -s "$f1" "$f2"
n0=$(count plain)
printf 'To: bob@example.com\nSubject: headers only, no empty line' | "${S[@]}" -t; rc=$?
f=$(newmsg plain "$n0")
check "-t: a message of headers only, without an empty line or final newline" \
    bash -c "[ $rc = 0 ] && grep -q '^Subject: headers only, no empty line' '$f' && [ \"\$(js '$f' 'd[\"rcpt_tos\"]')\" = \"['bob@example.com']\" ]"
n0=$(count plain)
printf 'To: team\nCc: root\nSubject: aliases\n\nx\n' | "${S[@]}" -t
f=$(newmsg plain "$n0")
check "aliases map unqualified recipients (recursively)" \
    [ "$(js "$f" 'sorted(d["rcpt_tos"])')" = "['admin@example.com', 'bob@example.com', 'carol@example.com']" ]
c0=$(wc -l < "$R/plain/commands.log")
printf 'Subject: x\n\nx\n' | "${S[@]}" -a other root 2> "$T/err"; rc=$?
check "an unqualified recipient without an alias: refused before sending (exit 67, EX_NOUSER, as sendmail's 'User unknown')" [ $rc = 67 ]
check "... no connection was made" [ "$(wc -l < "$R/plain/commands.log")" = "$c0" ]
check "... with a message naming the aliases key" grep -q "'aliases' key" "$T/err"

echo "== all or nothing, and the exit codes"
n0=$(count plain)
printf 'Subject: one refused\n\nx\n' | "${S[@]}" bob@example.com tempfail@example.com 2> "$T/err"; rc=$?
sleep 0.3
check "a 450 on one of two recipients: exit 75 (EX_TEMPFAIL)" [ $rc = 75 ]
check "... nothing delivered" [ "$(count plain)" = "$n0" ]
check "... RSET instead of DATA" bash -c "tail -3 '$R/plain/commands.log' | grep -q '\"RSET\"' && ! tail -3 '$R/plain/commands.log' | grep -q '\"DATA\"'"
check "... the error names the recipient" grep -q "tempfail@example.com" "$T/err"
printf 'Subject: refused\n\nx\n' | "${S[@]}" bob@example.com refused@example.com 2> /dev/null; rc=$?
sleep 0.2
check "a 550 on one of two recipients: exit 69 (EX_UNAVAILABLE), nothing delivered" \
    [ "$rc $(count plain)" = "69 $n0" ]
printf 'Subject: data 451\n\nx\n' | "${S[@]}" datafail@example.com 2> /dev/null; rc=$?
check "451 at the end of data: exit 75" [ $rc = 75 ]
printf 'Subject: data 554\n\nx\n' | "${S[@]}" datarefuse@example.com 2> /dev/null; rc=$?
check "554 at the end of data: exit 69" [ $rc = 69 ]
printf 'Subject: x\n\nx\n' | "$SEND" --host 127.0.0.1 --port 24949 --tls=off -f a@example.com b@example.com 2> /dev/null; rc=$?
check "no server listening: exit 75 (try later)" [ $rc = 75 ]
printf 'Subject: x\n\nx\n' | "${S[@]}" -a auth --password wrong bob@example.com 2> "$T/err"; rc=$?
check "a refused login: exit 77 (EX_NOPERM)" [ $rc = 77 ]
printf 'Subject: x\n\nx\n' | "${S[@]}" -a auth --port $AUTHPLAIN --allow-cleartext-auth --password tempfail bob@example.com 2> "$T/err"; rc=$?
check "a temporary AUTH failure (454): exit 75, not 77" [ $rc = 75 ]
n0=$(count authplain)
printf 'Subject: x\n\nx\n' | "${S[@]}" -a auth --port $AUTHPLAIN bob@example.com 2> "$T/err"; rc=$?
check "only PLAIN offered without TLS: no login attempted, exit 69 (not 77)" [ $rc = 69 ]
check "... and the message says how to allow it" grep -q "allow-cleartext-auth" "$T/err"
printf 'Subject: x\n\nx\n' | "${S[@]}" -a auth --port $AUTHPLAIN --allow-cleartext-auth bob@example.com; rc=$?
f=$(newmsg authplain "$n0")
check "--allow-cleartext-auth: PLAIN without TLS, delivered" bash -c "[ $rc = 0 ] && [ \"\$(js '$f' 'd[\"auth_mech\"]')\" = PLAIN ]"
printf 'account default\nport 99999\n' > "$T/bad"; chmod 600 "$T/bad"
"$SEND" -C "$T/bad" bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "a bad configuration: exit 78 (EX_CONFIG), naming file and line" bash -c "[ $rc = 78 ] && grep -q '$T/bad:2' '$T/err'"
"$SEND" -C "$T/nonexistent" bob@example.com < /dev/null 2> /dev/null; rc=$?
check "a missing -C file: exit 78" [ $rc = 78 ]
printf 'Subject: x\n\nx\n' | "${S[@]}" 2> /dev/null; rc=$?
check "no recipients: exit 64 (EX_USAGE)" [ $rc = 64 ]

echo "== configuration files as msmtp finds them"
n0=$(count plain)
mkdir -p "$T/xdg/msmtp"
sed 's/^from alice@example.com/from xdg@example.com/' "$RC" > "$T/xdg/msmtp/config"; chmod 600 "$T/xdg/msmtp/config"
printf 'Subject: xdg\n\nx\n' | XDG_CONFIG_HOME=$T/xdg "$SEND" bob@example.com; rc=$?
f=$(newmsg plain "$n0")
check "\$XDG_CONFIG_HOME/msmtp/config when there is no ~/.msmtprc" [ "$rc $(js "$f" 'd["mail_from"]')" = "0 xdg@example.com" ]
mkdir -p "$HOME/.config/msmtp"
sed 's/^from alice@example.com/from dotconfig@example.com/' "$RC" > "$HOME/.config/msmtp/config"; chmod 600 "$HOME/.config/msmtp/config"
n0=$(count plain)
printf 'Subject: ~/.config\n\nx\n' | "$SEND" bob@example.com
f=$(newmsg plain "$n0")
check "~/.config/msmtp/config when XDG_CONFIG_HOME is unset" [ "$(js "$f" 'd["mail_from"]')" = dotconfig@example.com ]
sed 's/^from alice@example.com/from home@example.com/' "$RC" > "$HOME/.msmtprc"; chmod 600 "$HOME/.msmtprc"
n0=$(count plain)
printf 'Subject: ~/.msmtprc\n\nx\n' | XDG_CONFIG_HOME=$T/xdg "$SEND" bob@example.com
f=$(newmsg plain "$n0")
check "~/.msmtprc comes first" [ "$(js "$f" 'd["mail_from"]')" = home@example.com ]
rm -rf "$HOME/.msmtprc" "$HOME/.config"
# a private /etc/msmtprc: an overlay on /etc in a mount namespace of our own
mkdir -p "$T/etc-upper" "$T/etc-work"
cat > "$T/etc-upper/msmtprc" <<CONF
account default
host 127.0.0.1
port $AUTHP
tls off
from system@example.com
user alice
password secret
CONF
chmod 644 "$T/etc-upper/msmtprc"   # world-readable with a password: fine for the root-owned system file
n0=$(count authp)
if unshare -m sh -c "mount -t overlay overlay -o lowerdir=/etc,upperdir=$T/etc-upper,workdir=$T/etc-work /etc &&
      printf 'Subject: system file\n\nx\n' | '$SEND' bob@example.com" 2> "$T/err"; then
    f=$(newmsg authp "$n0")
    check "/etc/msmtprc (root-owned, mode 644, with a password) when there is no user file" \
        [ "$(js "$f" 'd["mail_from"], d["auth"]')" = "('system@example.com', 'alice')" ]
else
    bad "/etc/msmtprc in a private mount namespace: $(cat "$T/err")"
fi
check "... the real /etc has no msmtprc from this test" [ ! -e /etc/msmtprc ] 
n0=$(count plain)
printf 'account default\nhost 127.0.0.1\nport %s\ntls off\nfrom %%U@%%H.example\ndomain %%H.test\n' $PLAIN > "$T/pct"; chmod 600 "$T/pct"
printf 'Subject: substitutions\n\nx\n' | "$SEND" -C "$T/pct" bob@example.com
f=$(newmsg plain "$n0")
check "%U and %H in from and domain" [ "$(js "$f" 'd["mail_from"], d["helo"]')" = "('$(id -un)@$(hostname).example', '$(hostname).test')" ]
n0=$(count authp)
printf 'Subject: --host\n\nx\n' | "${S[@]}" -a auth --host 127.0.0.1 --port $AUTHP --tls=off -f alice@example.com bob@example.com; rc=$?
f=$(newmsg authp "$n0")
check "--host uses no account data: no login with the account's credentials" \
    bash -c "[ $rc = 0 ] && [ \"\$(js '$f' 'd[\"auth\"]')\" = None ]"
n0=$(count authp)
printf 'Subject: account\n\nx\n' | "${S[@]}" -a auth bob@example.com
f=$(newmsg authp "$n0")
check "... while the account itself logs in" [ "$(js "$f" 'd["auth"]')" = alice ]
n0=$(count plain)
printf 'Subject: dsn\n\nx\n' | "${S[@]}" -R hdrs -V 'id+1=x' -N success,failure bob@example.com
f=$(newmsg plain "$n0")
check "-R and -V: RET and ENVID (xtext) on MAIL FROM" [ "$(js "$f" 'd["mail_options"]')" = "['BODY=8BITMIME', 'RET=HDRS', 'ENVID=id+2B1+3Dx']" ]
if grep -q 'smtp_rcpt_to_opts' smtp.h; then
    check "-N: NOTIFY on every RCPT" [ "$(js "$f" 'd["rcpt_options"]')" = "['NOTIFY=SUCCESS,FAILURE']" ]
else
    echo "skip -N NOTIFY on RCPT: smtp.h has no smtp_rcpt_to_opts yet"
fi

echo "== every configuration key is a long option"
# the keys are smtp.h's smtp_config_keys(); tests/sendmail/keys.c also
# checks that smtp_settings_set takes no key the table leaves out
if cc -std=c99 -o "$T/keys" tests/sendmail/keys.c -lbearssl 2> "$T/keys.err"; then
    "$T/keys" > "$T/keys.txt"
    grep -o '"[a-z][a-z0-9_]*"' smtp.h | tr -d '"' | sort -u | "$T/keys" --check > "$T/keys.check"
    check "smtp_config_keys() lists every key smtp_settings_set takes ($(wc -l < "$T/keys.txt") keys; data_timeout among them)" \
        bash -c "grep -qx data_timeout '$T/keys.txt' && [ \"\$(cat '$T/keys.check')\" = 'accepted $(wc -l < "$T/keys.txt")' ]"
    missing=""
    for k in $(cat "$T/keys.txt"); do
        for o in "${k//_/-}" "$k"; do   # --data-timeout and --data_timeout
            (cd "$T" && "$SEND" --host 127.0.0.1 --pretend "--$o=1" bob@example.com < /dev/null > /dev/null 2> "$T/err")
            grep -q "unknown option" "$T/err" && missing="$missing --$o"
        done
    done
    check "every one of the $(wc -l < "$T/keys.txt") keys smtp.h accepts is an option of smtp-send, - or _ alike${missing:+ (missing:$missing)}" \
        [ -z "$missing" ]
    # the manual's CONFIG FILE section lists the same keys (printed from the table: they must not drift)
    sed -n '/^   CONFIG FILE$/,/^   [A-Z][A-Z]/p' smtp.h > "$T/manual-keys"
    unmanned=""
    for k in $(cat "$T/keys.txt"); do grep -qE "(^       $k: |[ ,]$k[,.])" "$T/manual-keys" || unmanned="$unmanned $k"; done
    extra=$(grep -oE '^       [a-z_0-9]+:' "$T/manual-keys" | tr -d ' :' | grep -vxFf "$T/keys.txt" | tr '\n' ' ')
    check "the manual's CONFIG FILE section names every key, and no other${unmanned:+ (missing:$unmanned)}${extra:+ (unknown: $extra)}" \
        [ -z "$unmanned" -a -z "$extra" ]
else bad "tests/sendmail/keys.c does not build: $(head -3 "$T/keys.err")"; fi
n0=$(count plain)
printf 'Subject: pipeline\n\nx\n' | "${S[@]}" --pipeline-messages --data-timeout 30 bob@example.com; rc=$?
f=$(newmsg plain "$n0")
check "--pipeline-messages and --data-timeout 30: accepted, delivered" [ "$rc $(js "$f" 'd["rcpt_tos"]')" = "0 ['bob@example.com']" ]
# --socket (msmtp's socket key, cfg.socket_path): the session goes over the Unix socket
if [ -n "${AIO_UNIX:-}" ]; then
    u0=$(ls "$RUNDIR/aiounix"/msg-*.json 2>/dev/null | wc -l)
    printf 'Subject: over a unix socket\n\nx\n' | "${S[@]}" --socket="$AIO_UNIX" --tls=off bob@example.com 2> "$T/err"; rc=$?
    ujs=$(ls "$RUNDIR/aiounix"/msg-*.json 2>/dev/null | tail -1)
    check "--socket=PATH: delivered over the Unix socket, not to host and port" \
        bash -c "[ $rc = 0 ] && [ \$(ls '$RUNDIR/aiounix'/msg-*.json | wc -l) = $((u0 + 1)) ] && grep -q 'unix:$AIO_UNIX' '$ujs'"
fi
"${S[@]}" --socket="$T/none.sock" bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "--socket to no socket: not sent (exit $rc), the path named" bash -c "[ $rc != 0 ] && grep -q -- '$T/none.sock' '$T/err'"
"${S[@]}" --protocol=lmtp bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "--protocol=lmtp: exit 64, the message names the key" bash -c "[ $rc = 64 ] && grep -q -- '--protocol=lmtp: only smtp' '$T/err'"
for kv in "protocol lmtp"; do
    printf 'account default\nhost 127.0.0.1\nport %s\ntls off\nfrom alice@example.com\n%s\n' $PLAIN "$kv" > "$T/refused"; chmod 600 "$T/refused"
    c0=$(wc -l < "$R/plain/commands.log")
    printf 'Subject: x\n\nx\n' | "$SEND" -C "$T/refused" bob@example.com 2> "$T/err"; rc=$?
    check "'$kv' in the file: exit 78 (never ignored), naming the key" bash -c "[ $rc = 78 ] && grep -q '${kv%% *} \"${kv#* }\"' '$T/err'"
    check "... and no connection was made" [ "$(wc -l < "$R/plain/commands.log")" = "$c0" ]
done
"${S[@]}" --tls-sha1-fingerprint=00:11 bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "--tls-sha1-fingerprint: refused (64), not silently ignored: only SHA-256 pins" bash -c "[ $rc = 64 ] && grep -q 'SHA-256' '$T/err'"
n0=$(count plain)
printf 'Subject: --eval\n\nx\n' | "$SEND" --host 127.0.0.1 --eval="echo port $PLAIN" --eval='printf "tls off\nport 1\n"' -f alice@example.com bob@example.com; rc=$?
f=$(newmsg plain "$n0")
check "--eval=CMD: its first output line is an option (port and tls from two commands)" [ "$rc $(js "$f" 'd["rcpt_tos"]')" = "0 ['bob@example.com']" ]

echo "== eval in the configuration file (msmtp: the line is the command's first output line)"
cat > "$T/evalrc" <<CONF
defaults
eval echo tls off

eval echo "account evald"
eval printf 'host 127.0.0.1\nhost 192.0.2.1\n'
eval echo port $AUTHP
eval head -c 20 > /dev/null; echo "from evald@example.com"
eval echo "# a comment: nothing"
auth cram-md5
user alice
eval echo password secret
CONF
chmod 644 "$T/evalrc"   # its password comes from eval: no permission check (as msmtp)
n0=$(count authp)
printf 'Subject: eval\n\nthe body is intact\n' | "$SEND" -C "$T/evalrc" -a evald bob@example.com 2> "$T/err"; rc=$?
f=$(newmsg authp "$n0") || f=/dev/null
check "eval: account, host (first line only), port, from and password from commands; mode 644 allowed" \
    [ "$rc $(js "$f" 'd["mail_from"], d["auth"]' 2>/dev/null)" = "0 ('evald@example.com', 'alice')" ]
check "... a command that reads standard input does not eat the message (it gets /dev/null)" \
    bash -c "lf '$f' | grep -q '^Subject: eval\$' && lf '$f' | grep -q '^the body is intact\$'"
sed 's/^eval head -c 20.*/from evald@example.com/' "$T/evalrc" > "$T/evalrc-msmtp"; chmod 600 "$T/evalrc-msmtp"
n0=$(count authp)
printf 'Subject: eval\n\nx\n' | msmtp -C "$T/evalrc-msmtp" -a evald bob@example.com; rc=$?
f=$(newmsg authp "$n0") || f=/dev/null
check "... msmtp reads the same eval lines the same way" [ "$rc $(js "$f" 'd["mail_from"], d["auth"]' 2>/dev/null)" = "0 ('evald@example.com', 'alice')" ]
printf 'password literal\n' >> "$T/evalrc"
"$SEND" -C "$T/evalrc" -a evald bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "a password written in the file itself (mode 644): exit 78, as msmtp" bash -c "[ $rc = 78 ] && grep -q 'evalrc: holds a password but can be read by others (mode 644)' '$T/err'"
printf 'account default\nhost 127.0.0.1\neval true\n' > "$T/evalbad"; chmod 600 "$T/evalbad"
"$SEND" -C "$T/evalbad" bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "eval of a command that prints nothing: exit 78, naming file and line" bash -c "[ $rc = 78 ] && grep -q 'evalbad:3: eval: cannot read output of' '$T/err'"
printf 'account default\nhost 127.0.0.1\neval echo eval echo x\n' > "$T/evalbad"
"$SEND" -C "$T/evalbad" bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "eval printing another eval line: exit 78" bash -c "[ $rc = 78 ] && grep -q 'evalbad:3: eval: the output' '$T/err'"
printf 'account default\nhost 127.0.0.1\neval echo port 99999\n' > "$T/evalbad"
mkdir -p "$T/tmpd"
TMPDIR=$T/tmpd "$SEND" -C "$T/evalbad" bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "a bad value from eval: exit 78, the library names the real file and line" bash -c "[ $rc = 78 ] && grep -q '$T/evalbad:3: port' '$T/err'"
check "... the private copy (in \$TMPDIR) is gone" [ -z "$(ls -A "$T/tmpd")" ]

echo "== the password from .netrc (msmtp: ~/.netrc, then /etc/netrc)"
printf 'account default\nhost 127.0.0.1\nport %s\ntls off\nfrom alice@example.com\nauth cram-md5\nuser alice\n' $AUTHP > "$T/nopw"; chmod 600 "$T/nopw"
cat > "$HOME/.netrc" <<'NETRC'
machine other.example login alice password wrong1
default login alice password wrong2
machine 127.0.0.1 login bob password wrong3
macdef init
  machine 127.0.0.1 login alice password in-a-macro

# the entry that matches, over several lines
machine 127.0.0.1
    login alice
    password "secret"
NETRC
n0=$(count authp)
printf 'Subject: netrc\n\nx\n' | "$SEND" -C "$T/nopw" bob@example.com; rc=$?
f=$(newmsg authp "$n0") || f=/dev/null
check "~/.netrc: the entry for this machine and login (not another machine's, login's, default, nor a macro's)" \
    [ "$rc $(js "$f" 'd["auth"]' 2>/dev/null)" = "0 alice" ]
n0=$(count authp)
printf 'Subject: netrc\n\nx\n' | msmtp -C "$T/nopw" bob@example.com; rc=$?
f=$(newmsg authp "$n0") || f=/dev/null
check "... msmtp finds the same password" [ "$rc $(js "$f" 'd["auth"]' 2>/dev/null)" = "0 alice" ]
rm -f "$HOME/.netrc"
"$SEND" -C "$T/nopw" bob@example.com < /dev/null 2> "$T/err"; rc=$?
check "a user without a password anywhere: exit 78, saying where one can be given" bash -c "[ $rc = 78 ] && grep -q 'no password for 127.0.0.1.*netrc' '$T/err'"
mkdir -p "$T/etc-netrc" "$T/etc-netrc-work"
printf 'machine 127.0.0.1 login alice password secret\n' > "$T/etc-netrc/netrc"
n0=$(count authp)
if unshare -m sh -c "mount -t overlay overlay -o lowerdir=/etc,upperdir=$T/etc-netrc,workdir=$T/etc-netrc-work /etc &&
      printf 'Subject: /etc/netrc\n\nx\n' | '$SEND' -C '$T/nopw' bob@example.com" 2> "$T/err"; then
    f=$(newmsg authp "$n0")
    check "/etc/netrc when ~/.netrc has no entry" [ "$(js "$f" 'd["auth"]')" = alice ]
else bad "/etc/netrc in a private mount namespace: $(cat "$T/err")"; fi
printf 'machine 127.0.0.1 login alice password wrong\n' > "$HOME/.netrc"
unshare -m sh -c "mount -t overlay overlay -o lowerdir=/etc,upperdir=$T/etc-netrc,workdir=$T/etc-netrc-work /etc &&
      printf 'Subject: x\n\nx\n' | '$SEND' -C '$T/nopw' bob@example.com" 2> "$T/err"; rc=$?
check "... ~/.netrc comes first (its wrong password: login refused, 77)" [ $rc = 77 ]
check "... the real /etc has no netrc from this test" [ ! -e /etc/netrc ]
rm -f "$HOME/.netrc"

echo "== SIZE declared when standard input is a file"
printf 'From: alice@example.com\nTo: bob@example.com\nBcc: hidden@example.com\nSubject: size\n\nCRLF\r\nbare CR\rbare LF\n.a dot line\n' > "$T/size.eml"
head -c 3000 /dev/urandom | base64 >> "$T/size.eml"
printf 'no final newline' >> "$T/size.eml"
n0=$(count sized)
"$SEND" --host 127.0.0.1 --port $SIZED --tls=off -t < "$T/size.eml"; rc=$?
f=$(newmsg sized "$n0") || f=/dev/null
check "a regular file: SIZE= on MAIL FROM is the exact size the server stored (headers added, Bcc removed, CRLF, no final newline)" \
    [ "$rc $(js "$f" '[o for o in d["mail_options"] if o.startswith("SIZE=")]' 2>/dev/null)" = "0 ['SIZE=$(wc -c < "$f")']" ]
n0=$(count sized)
cat "$T/size.eml" | "$SEND" --host 127.0.0.1 --port $SIZED --tls=off -t; rc=$?
f=$(newmsg sized "$n0") || f=/dev/null
check "... through a pipe the size is unknown: no SIZE=" bash -c "[ $rc = 0 ] && ! js '$f' 'd[\"mail_options\"]' | grep -q SIZE"
{ printf 'Subject: too big\n\n'; head -c 30000 /dev/urandom | base64; } > "$T/big2.eml"
n0=$(count sized); c0=$(wc -l < "$R/sized/commands.log")
"$SEND" --host 127.0.0.1 --port $SIZED --tls=off -f alice@example.com bob@example.com < "$T/big2.eml" 2> "$T/err"; rc=$?
check "a file over the server's SIZE: exit 69 before MAIL FROM, saying so" \
    bash -c "[ $rc = 69 ] && grep -q 'takes at most 20000 (SIZE); nothing was sent' '$T/err' && ! tail -n +$((c0 + 1)) '$R/sized/commands.log' | grep -q 'MAIL FROM'"
check "... nothing stored" [ "$(count sized)" = "$n0" ]

echo "== --serverinfo, as msmtp prints it"
for port in $PLAIN $SIZED; do
    "$SEND" --host 127.0.0.1 --port $port --tls=off --serverinfo > "$T/ours" 2>&1; rc=$?
    msmtp --host 127.0.0.1 --port $port --tls=off --serverinfo > "$T/theirs" 2>&1
    check "--serverinfo (port $port): the greeting line, then every line msmtp prints (its first aside)" \
        bash -c "[ $rc = 0 ] && sed -n 2p '$T/ours' | grep -q '^    aiosmtpd.test' && [ -z \"\$(tail -n +2 '$T/theirs' | grep -vxFf '$T/ours')\" ]"
done
check "... SIZE as msmtp words it" grep -qx '        Maximum message size is 20000 bytes = 19.53 KiB' "$T/ours"
check "... the EHLO reply as the server wrote it" grep -qx '    250 HELP' "$T/ours"

echo "== the log line, as msmtp writes it"
: > "$T/send.log"
printf 'Subject: log\n\nx\n' | "${S[@]}" bob@example.com carol@example.com
printf 'Subject: log\n\nx\n' | msmtp -C "$RC" bob@example.com carol@example.com
printf 'Subject: log\n\nx\n' | "${S[@]}" tempfail@example.com 2> /dev/null
printf 'Subject: log\n\nx\n' | msmtp -C "$RC" tempfail@example.com 2> /dev/null
norm() { sed -n "${1}p" "$T/send.log" | sed -E 's/^[A-Z][a-z]{2} [0-9]{2} [0-9:]{8} //; s/msg-[0-9]+/msg-N/; s/mailsize=[0-9]+/mailsize=N/; s/errormsg=.*exitcode=.*/.../'; }
check "a sent message: the same log line as msmtp's (time, size, queue id aside)" [ "$(norm 1)" = "$(norm 2)" ]
check "a refused one too (up to errormsg; msmtp exits 69 on a 450, smtp-send 75)" [ "$(norm 3)" = "$(norm 4)" ]
check "... exitcode=EX_TEMPFAIL for the 450" bash -c "sed -n 3p '$T/send.log' | grep -q 'exitcode=EX_TEMPFAIL$'"
check "the line is msmtp's" grep -q "^[A-Z][a-z][a-z] [0-9][0-9] [0-9:]* host=127.0.0.1 tls=off auth=off from=alice@example.com recipients=bob@example.com,carol@example.com mailsize=[0-9]* smtpstatus=250 smtpmsg='250 2.0.0 OK queued as msg-[0-9]*' exitcode=EX_OK$" "$T/send.log"

echo "== byte for byte with msmtp (same input, same file)"
cmpmsmtp() {   # NAME ARGS... < input: both programs, stored messages compared (Date/Message-ID lines they add masked)
    local name=$1; shift
    cat > "$T/in"
    local n0 a b
    n0=$(count plain); "${S[@]}" "$@" < "$T/in"; a=$(newmsg plain "$n0") || { bad "$name: smtp-send stored nothing"; return; }
    n0=$(count plain); msmtp -C "$RC" "$@" < "$T/in"; b=$(newmsg plain "$n0") || { bad "$name: msmtp stored nothing"; return; }
    sed -E 's/^Date: .*/Date: X/; s/^Message-ID: .*/Message-ID: X/' "$a" > "$T/a"
    sed -E 's/^Date: .*/Date: X/; s/^Message-ID: .*/Message-ID: X/' "$b" > "$T/b"
    check "same bytes as msmtp: $name" cmp "$T/a" "$T/b"
    check "same recipients as msmtp: $name" [ "$(js "$a" 'sorted(d["rcpt_tos"]), d["mail_from"]')" = "$(js "$b" 'sorted(d["rcpt_tos"]), d["mail_from"]')" ]
}
printf 'From: Alice <alice@example.com>\nTo: Bob <bob@example.com>\nDate: Sat, 21 Nov 2026 10:00:00 +0000\nMessage-ID: <x@example.com>\nSubject: plain\n\n.leading dot\n..two\nbody\n' | cmpmsmtp "a complete message" bob@example.com
printf 'To: bob@example.com\nCc: carol@example.com\nBcc: eve@example.com\nSubject: -t\n\nx\n' | cmpmsmtp "-t with Bcc, headers added" -t
printf 'Subject: CRLF\r\nTo: bob@example.com\r\n\r\nline one\r\nline two\r\n' | cmpmsmtp "CRLF input" -t
printf 'Subject: no final newline\n\nlast line' | cmpmsmtp "no final newline" bob@example.com
printf 'To: bob@example.com\nSubject: 8bit \xc3\xa9\n\n\xc3\xa9t\xc3\xa9\n' | cmpmsmtp "8-bit" -t -i -oi
printf 'To: "Smith, John" <john@example.com>, bob@example.com (Bob)\nSubject: forms\n\nx\n' | cmpmsmtp "quoted names and comments" -t

echo "== real programs pointed at smtp-send"
MUTTRC=$T/muttrc
printf 'set sendmail="%s -C %s -oem -oi"\nset from="alice@example.com"\nset use_from=yes\nset charset="utf-8"\nset send_charset="utf-8"\n' "$SEND" "$RC" > "$MUTTRC"
for prog in mutt neomutt; do
    if ! command -v $prog > /dev/null; then bad "$prog is not installed (make deps)"; continue; fi
    n0=$(count plain)
    printf 'Hello from %s, gr\xc3\xbc\xc3\x9fe\n' $prog | $prog -n -F "$MUTTRC" -s "$prog batch" -c carol@example.com -b hidden@example.com bob@example.com; rc=$?
    f=$(newmsg plain "$n0") || f=/dev/null
    check "$prog in batch mode (sendmail=\"smtp-send -oem -oi\"): delivered to To, Cc and Bcc" \
        [ "$rc $(js "$f" 'sorted(d["rcpt_tos"])' 2>/dev/null)" = "0 ['bob@example.com', 'carol@example.com', 'hidden@example.com']" ]
    check "... UTF-8 body intact, with BODY=8BITMIME, no Bcc header" \
        bash -c "grep -q $'gr\xc3\xbc\xc3\x9fe' '$f' && js '$f' 'd[\"mail_options\"]' | grep -q 8BITMIME && ! grep -qi '^Bcc:' '$f' && grep -q '^Subject: $prog batch' '$f'"
done
if command -v s-nail > /dev/null; then
    n0=$(count plain)
    echo "snail body" | s-nail -n -S mta="$SEND" -S mta-arguments="-C $RC" -S from=alice@example.com -S sendwait \
        -s "s-nail" -c carol@example.com -b hidden@example.com bob@example.com; rc=$?
    f=$(newmsg plain "$n0") || f=/dev/null
    check "s-nail (mta=smtp-send, -i --): To, Cc, Bcc delivered, no Bcc header" \
        bash -c "[ \"$rc \$(js '$f' 'sorted(d[\"rcpt_tos\"])')\" = \"0 ['bob@example.com', 'carol@example.com', 'hidden@example.com']\" ] && ! grep -qi '^Bcc:' '$f' && grep -q '^Message-ID:' '$f'"
else bad "s-nail is not installed (make deps)"; fi
if command -v bsd-mailx > /dev/null; then
    # its sendmail option is a path without arguments: the settings come from ~/.msmtprc
    printf 'set sendmail=%s\n' "$SEND" > "$T/mailrc"
    cp "$RC" "$HOME/.msmtprc"
    n0=$(count plain)
    echo "mailx body" | MAILRC=$T/mailrc bsd-mailx -s "bsd-mailx" -c carol@example.com -b hidden@example.com bob@example.com; rc=$?
    f=$(newmsg plain "$n0") || f=/dev/null
    check "bsd-mailx (mail -s -c -b; sendmail option): To, Cc, Bcc delivered" \
        [ "$rc $(js "$f" 'sorted(d["rcpt_tos"])' 2>/dev/null)" = "0 ['bob@example.com', 'carol@example.com', 'hidden@example.com']" ]
    check "... Date and Message-ID added, Bcc removed" \
        bash -c "grep -q '^Date:' '$f' && grep -q '^Message-ID:' '$f' && ! grep -qi '^Bcc:' '$f'"
    rm -f "$HOME/.msmtprc"
else bad "bsd-mailx is not installed (make deps)"; fi
# cron: Debian's cron runs "sendmail -FCronDaemon -i -B8BITMIME -oem MAILTO" with these headers
n0=$(count plain)
printf 'From: root (Cron Daemon)\nTo: root\nSubject: Cron <root@host> echo t\xc3\xa9st\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\nX-Cron-Env: <SHELL=/bin/sh>\n\nt\xc3\xa9st\n' |
    "${S[@]}" -FCronDaemon -i -B8BITMIME -oem root; rc=$?
f=$(newmsg plain "$n0") || f=/dev/null
check "cron's exact argv (-FCronDaemon -i -B8BITMIME -oem root): root via aliases, 8-bit body" \
    bash -c "[ \"$rc \$(js '$f' 'd[\"rcpt_tos\"], d[\"mail_from\"], d[\"mail_options\"]')\" = \"0 (['admin@example.com'], 'alice@example.com', ['BODY=8BITMIME'])\" ] && grep -q $'^t\xc3\xa9st' '$f' && grep -q '^From: root (Cron Daemon)' '$f'"
if [ -x /usr/lib/git-core/git-send-email ] && perl -MMail::Address -e 1 2> /dev/null; then
    G=$T/git; mkdir -p "$G"
    (cd "$G" && git init -q && git config user.name 'Jörg Ünicode' && git config user.email joerg@example.com &&
     echo base > base.txt && git add base.txt && git commit -qm base &&
     printf 'Grüße aus Köln\n' > f.txt && git add f.txt && git commit -qm 'Ärger: a UTF-8 patch' && git format-patch -q -1 -o p)
    n0=$(count plain)
    (cd "$G" && git -c sendemail.sendmailcmd="$SEND -C $RC" send-email --to=bob@example.com --confirm=never --quiet p/*.patch) > /dev/null; rc=$?
    f=$(newmsg plain "$n0") || f=/dev/null
    check "git send-email (sendemail.sendmailcmd) with a UTF-8 patch: delivered with BODY=8BITMIME" \
        bash -c "[ $rc = 0 ] && js '$f' 'd[\"mail_options\"]' | grep -q 8BITMIME && grep -q $'^+Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln' '$f'"
    check "... the patch applies from what the server stored" bash -c "cd '$G' && git reset -q --hard HEAD~1 && sed 's/\r$//' '$f' | git am -q && [ \"\$(cat f.txt)\" = 'Grüße aus Köln' ]"
else bad "git send-email does not run (make deps: git-email, libmailtools-perl)"; fi
if command -v php > /dev/null; then
    n0=$(count plain)
    php -n -d sendmail_path="$SEND -C $RC -t -i" -r 'exit(mail("bob@example.com", "S\u{fc}bject", "B\u{f6}dy\nline 2", "From: alice@example.com\r\nCc: carol@example.com") ? 0 : 1);'; rc=$?
    f=$(newmsg plain "$n0") || f=/dev/null
    check "PHP mail() with sendmail_path=\"smtp-send -t -i\": delivered, 8-bit, Date and Message-ID added" \
        bash -c "[ \"$rc \$(js '$f' 'sorted(d[\"rcpt_tos\"])')\" = \"0 ['bob@example.com', 'carol@example.com']\" ] && grep -q '^Date:' '$f' && grep -q '^Message-ID:' '$f' && grep -q $'^B\xc3\xb6dy' '$f'"
else bad "php is not installed (make deps)"; fi
n0=$(count plain)
$PY - "$SEND" "$RC" <<'PYEOF'; rc=$?
import subprocess, sys
from email.message import EmailMessage
m = EmailMessage()
m["From"] = "Alice <alice@example.com>"; m["To"] = "Bob <bob@example.com>"; m["Bcc"] = "hidden@example.com"
m["Subject"] = "Grüße from Python"
m.set_content("Grüße, Python's email\n.a dot line\n")
sys.exit(subprocess.run([sys.argv[1], "-C", sys.argv[2], "-t", "-oi"], input=m.as_bytes()).returncode)
PYEOF
f=$(newmsg plain "$n0") || f=/dev/null
check "Python email + smtp-send -t -oi: parsed back, Bcc got it, no Bcc header" $PY - "$f" "$rc" <<'PYEOF'
import email, email.policy, json, sys
m = email.message_from_bytes(open(sys.argv[1], 'rb').read(), policy=email.policy.default)
d = json.load(open(sys.argv[1][:-4] + '.json'))
ok = sys.argv[2] == '0' and m['Subject'] == 'Grüße from Python' and m.get_content().replace("\r\n", "\n") == "Grüße, Python's email\n.a dot line\n"
ok = ok and sorted(d['rcpt_tos']) == ['bob@example.com', 'hidden@example.com'] and m['Bcc'] is None and m['Date'] and m['Message-ID']
sys.exit(0 if ok else 1)
PYEOF

echo "== streaming: 100 MB through -t"
$PY - "$T/big.eml" <<'PYEOF'
import sys
with open(sys.argv[1], "wb") as f:
    f.write(b"From: alice@example.com\nTo: bob@example.com\nBcc: carol@example.com\nSubject: big\nDate: Mon, 01 Jan 2024 00:00:00 +0000\nMessage-ID: <big@example.com>\n\n")
    line = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ 100 MB through smtp-send -t\n"
    f.write(line * (100 * 1024 * 1024 // len(line)))
PYEOF
n0=$(count plain)
cat "$T/big.eml" | /usr/bin/time -v "${S[@]}" -t 2> "$T/time"; rc=$?
rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$T/time")
echo "     peak RSS for 100 MB: ${rss} KB ($(awk -F': ' '/Elapsed/ {print $2}' "$T/time") wall)"
f=$(newmsg plain "$n0") || f=/dev/null
check "100 MB through -t: exit 0, peak RSS ${rss} KB < 16 MB" [ "$rc" = 0 -a "${rss:-99999}" -lt 16384 ]
check "... every byte arrived (Bcc removed)" bash -c "[ \"\$(sed 's/\r\$//' '$f' | sha256sum)\" = \"\$(grep -v '^Bcc:' '$T/big.eml' | sha256sum)\" ]"
rm -f "$T/big.eml" "$f"

echo "== make install / make uninstall (DESTDIR, PREFIX)"
D=$T/dest
if make -s install DESTDIR="$D" PREFIX=/usr > "$T/install.log" 2>&1; then
    check "make install: include/smtp.h, bin/smtp-send, share/man/man1/smtp-send.1, lib/pkgconfig/smtp.pc" \
        bash -c "[ -f '$D/usr/include/smtp.h' -a -x '$D/usr/bin/smtp-send' -a -f '$D/usr/share/man/man1/smtp-send.1' -a -f '$D/usr/lib/pkgconfig/smtp.pc' ]"
    check "the installed smtp-send runs" bash -c "'$D/usr/bin/smtp-send' --version | grep -q smtp-send"
    check "the installed man page renders (man -l)" bash -c "MANWIDTH=80 man -l '$D/usr/share/man/man1/smtp-send.1' 2>/dev/null | grep -q 'EXIT STATUS'"
    printf '#define SMTP_IMPLEMENTATION\n#include <smtp.h>\nint main(void) { return smtp_result_str(SMTP_OK)[0] ? 0 : 1; }\n' > "$T/pc.c"
    check "a program builds with pkg-config --cflags --libs smtp" bash -c \
        "cc -std=c99 \$(PKG_CONFIG_PATH='$D/usr/lib/pkgconfig' pkg-config --define-prefix --cflags smtp 2>/dev/null || echo -I'$D/usr/include') '$T/pc.c' -o '$T/pc' \$(PKG_CONFIG_PATH='$D/usr/lib/pkgconfig' pkg-config --libs smtp) && '$T/pc'"
    make -s uninstall DESTDIR="$D" PREFIX=/usr > /dev/null 2>&1
    check "make uninstall removes every file" [ -z "$(find "$D" -type f)" ]
else
    bad "make install: $(tail -3 "$T/install.log")"
fi

echo "$pass passed, $failn failed"
[ $failn = 0 ]
