#!/bin/sh
# certs.sh DIR: make the test PKI in DIR. Idempotent: nothing to do once
# DIR/.certs-v2 exists (written last). A DIR made by an older certs.sh (it
# has ca.pem but no .certs-v2) keeps its CA and files and only gets the
# newer files added. Quiet on success; prints openssl's output on failure.
#
#   ca.pem / ca.key                 test CA (RSA 2048, CA:TRUE)
#   server.pem / server.key         RSA 2048, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   server-ec.pem / server-ec.key   P-256, same SANs
#   expired.pem / expired.key       localhost, valid 2020-01-01 .. 2021-01-01
#   notyet.pem / notyet.key         localhost, valid 2099-01-01 .. 2100-01-01
#   wronghost.pem / wronghost.key   SAN DNS:wrong.example only
#   selfsigned.pem / selfsigned.key localhost, self-signed (not from the CA)
#   --- added in v2 ---
#   client.pem / client.key         client cert, RSA 2048, CN=smtp-client,
#                                   extendedKeyUsage clientAuth, signed by the CA
#   client-ec.pem / client-ec.key   client cert, P-256, CN=smtp-client-ec, clientAuth
#   server-fullchain.pem            server.pem followed by ca.pem (leaf + root)
#   chain20.pem / chain20.key       P-256 server cert with the server SANs; the
#                                   file holds 20 certificates: the leaf, then
#                                   intermediates 1..19 (each signed by the
#                                   next one, the 19th by the CA)
#
# All keys are unencrypted PKCS#8 PEM; all certificates except
# server-fullchain.pem and chain20.pem are single PEM leaf certificates (no
# chain; the CA is ca.pem).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
DIR=$1
MARK=.certs-v2                  # bump (and check the new files) when adding files
[ -f "$DIR/$MARK" ] && exit 0

mkdir -p "$DIR"
# Serialize concurrent runs on the same DIR (they would mix two CAs).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.certs.lock"
    flock 9
    [ -f "$DIR/$MARK" ] && exit 0
fi
W=$(mktemp -d "$DIR/.certs.XXXXXX")
LOG=$W/log
trap 'rm -rf "$W"' EXIT
fail() {
    echo "certs.sh: $*" >&2
    cat "$W"/*log >&2 2>/dev/null || true
    exit 1
}

# v1 is complete when ca.pem is there (it was moved last): keep that CA.
OLD=0
if [ -f "$DIR/ca.pem" ] && [ -f "$DIR/ca.key" ]; then
    OLD=1
    cp "$DIR/ca.pem" "$DIR/ca.key" "$W/"
fi

mkdir "$W/db"
: >"$W/db/index.txt"
echo 1000 >"$W/db/serial"
cat >"$W/openssl.cnf" <<EOF
[ ca ]
default_ca = testca
[ testca ]
dir = $W/db
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
certificate = $W/ca.pem
private_key = $W/ca.key
default_md = sha256
default_days = 3650
policy = anything
unique_subject = no
copy_extensions = none
email_in_dn = no
[ anything ]
organizationName = optional
commonName = supplied
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ rsa_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[ ec_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[ wrong_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:wrong.example
[ self_server ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
[ client ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ intermediate ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
EOF
CNF=$W/openssl.cnf

eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" >>"$LOG" 2>&1 || fail "key $1"; }

# RSA key generation is most of the time: make all the keys at once.
RSA="client"
[ $OLD = 1 ] || RSA="ca server expired notyet wronghost selfsigned client"
PIDS=""
for n in $RSA; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$W/$n.key" \
        >"$W/$n.keylog" 2>&1 &
    PIDS="$PIDS $!"
done
for p in $PIDS; do
    wait "$p" || fail "RSA key generation"
done

# name cn ext [extra openssl ca options...]: CSR for W/name.key, signed by the CA
sign() {
    n=$1 cn=$2 ext=$3
    shift 3
    openssl req -new -config "$CNF" -key "$W/$n.key" -subj "/O=smtp.h tests/CN=$cn" \
        -out "$W/$n.csr" >>"$LOG" 2>&1 || fail "csr $n"
    openssl ca -batch -notext -config "$CNF" -extensions "$ext" \
        -in "$W/$n.csr" -out "$W/$n.pem" "$@" >>"$LOG" 2>&1 || fail "sign $n"
}

# name cn ext issuer-stem: W/name.pem for W/name.key in one step, random serial
issue() {
    openssl req -new -config "$CNF" -key "$W/$1.key" -subj "/O=smtp.h tests/CN=$2" \
        -x509 -CA "$W/$4.pem" -CAkey "$W/$4.key" -extensions "$3" -days 3650 -sha256 \
        -out "$W/$1.pem" >>"$LOG" 2>&1 || fail "issue $1"
}

V1="server server-ec expired notyet wronghost selfsigned"
if [ $OLD = 0 ]; then
    openssl req -x509 -new -config "$CNF" -key "$W/ca.key" -sha256 -days 3650 \
        -subj "/O=smtp.h tests/CN=smtp.h test CA" -extensions v3_ca \
        -out "$W/ca.pem" >>"$LOG" 2>&1 || fail "ca"

    sign server localhost rsa_server
    eckey "$W/server-ec.key"
    sign server-ec localhost ec_server
    sign expired localhost rsa_server -startdate 20200101000000Z -enddate 20210101000000Z
    sign notyet localhost rsa_server -startdate 20990101000000Z -enddate 21000101000000Z
    sign wronghost wrong.example wrong_server
    openssl req -x509 -new -config "$CNF" -key "$W/selfsigned.key" -sha256 -days 3650 \
        -subj "/O=smtp.h tests/CN=localhost" -extensions self_server \
        -out "$W/selfsigned.pem" >>"$LOG" 2>&1 || fail "selfsigned"
    cat "$W/server.pem" "$W/ca.pem" >"$W/server-fullchain.pem"
else
    cat "$DIR/server.pem" "$DIR/ca.pem" >"$W/server-fullchain.pem"
fi

# --- v2 ---
issue client smtp-client client ca
eckey "$W/client-ec.key"
issue client-ec smtp-client-ec client ca

# chain20: i19 signed by the CA, i18 by i19, ..., i1 by i2, the leaf by i1.
up=ca
i=19
while [ $i -ge 1 ]; do
    eckey "$W/i$i.key"
    issue "i$i" "smtp.h chain20 intermediate $i" intermediate "$up"
    up=i$i
    i=$((i - 1))
done
eckey "$W/chain20.key"
issue chain20 localhost ec_server i1
mv "$W/chain20.pem" "$W/chain20-leaf.pem"
{
    cat "$W/chain20-leaf.pem"
    i=1
    while [ $i -le 19 ]; do
        cat "$W/i$i.pem"
        i=$((i + 1))
    done
} >"$W/chain20.pem"

NEW="client client-ec chain20"
if [ $OLD = 0 ]; then
    for n in $V1; do
        chmod 644 "$W/$n.key" "$W/$n.pem"
        mv -f "$W/$n.key" "$W/$n.pem" "$DIR/"
    done
    chmod 644 "$W/ca.key" "$W/ca.pem"
    mv -f "$W/ca.key" "$DIR/"
    mv -f "$W/ca.pem" "$DIR/"   # its presence means "the v1 files are complete"
fi
for n in $NEW; do
    chmod 644 "$W/$n.key" "$W/$n.pem"
    mv -f "$W/$n.key" "$W/$n.pem" "$DIR/"
done
chmod 644 "$W/server-fullchain.pem"
mv -f "$W/server-fullchain.pem" "$DIR/"
: >"$DIR/$MARK"                 # last: everything is there
