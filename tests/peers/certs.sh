#!/bin/sh
# certs.sh DIR: make the test PKI in DIR (idempotent: nothing to do if
# DIR/ca.pem exists). Quiet on success; prints openssl's output on failure.
#
#   ca.pem / ca.key                 test CA (RSA 2048, CA:TRUE)
#   server.pem / server.key         RSA 2048, SAN DNS:localhost, IP:127.0.0.1, IP:::1
#   server-ec.pem / server-ec.key   P-256, same SANs
#   expired.pem / expired.key       localhost, valid 2020-01-01 .. 2021-01-01
#   notyet.pem / notyet.key         localhost, valid 2099-01-01 .. 2100-01-01
#   wronghost.pem / wronghost.key   SAN DNS:wrong.example only
#   selfsigned.pem / selfsigned.key localhost, self-signed (not from the CA)
#
# All keys are unencrypted PKCS#8 PEM; all certificates are single PEM leaf
# certificates (no chain; the CA is ca.pem).
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
DIR=$1
[ -f "$DIR/ca.pem" ] && exit 0

mkdir -p "$DIR"
W=$(mktemp -d "$DIR/.certs.XXXXXX")
LOG=$W/log
trap 'rm -rf "$W"' EXIT
fail() {
    echo "certs.sh: $*" >&2
    cat "$LOG" >&2 2>/dev/null || true
    exit 1
}

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
EOF
CNF=$W/openssl.cnf

rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$1" >>"$LOG" 2>&1 || fail "key $1"; }
eckey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" >>"$LOG" 2>&1 || fail "key $1"; }

# name cn ext [extra openssl ca options...]: CSR for W/name.key, signed by the CA
sign() {
    n=$1 cn=$2 ext=$3
    shift 3
    openssl req -new -config "$CNF" -key "$W/$n.key" -subj "/O=smtp.h tests/CN=$cn" \
        -out "$W/$n.csr" >>"$LOG" 2>&1 || fail "csr $n"
    openssl ca -batch -notext -config "$CNF" -extensions "$ext" \
        -in "$W/$n.csr" -out "$W/$n.pem" "$@" >>"$LOG" 2>&1 || fail "sign $n"
}

rsakey "$W/ca.key"
openssl req -x509 -new -config "$CNF" -key "$W/ca.key" -sha256 -days 3650 \
    -subj "/O=smtp.h tests/CN=smtp.h test CA" -extensions v3_ca \
    -out "$W/ca.pem" >>"$LOG" 2>&1 || fail "ca"

rsakey "$W/server.key"
sign server localhost rsa_server
eckey "$W/server-ec.key"
sign server-ec localhost ec_server
rsakey "$W/expired.key"
sign expired localhost rsa_server -startdate 20200101000000Z -enddate 20210101000000Z
rsakey "$W/notyet.key"
sign notyet localhost rsa_server -startdate 20990101000000Z -enddate 21000101000000Z
rsakey "$W/wronghost.key"
sign wronghost wrong.example wrong_server
rsakey "$W/selfsigned.key"
openssl req -x509 -new -config "$CNF" -key "$W/selfsigned.key" -sha256 -days 3650 \
    -subj "/O=smtp.h tests/CN=localhost" -extensions self_server \
    -out "$W/selfsigned.pem" >>"$LOG" 2>&1 || fail "selfsigned"

for n in server server-ec expired notyet wronghost selfsigned; do
    chmod 644 "$W/$n.key" "$W/$n.pem"
    mv -f "$W/$n.key" "$W/$n.pem" "$DIR/"
done
chmod 644 "$W/ca.key" "$W/ca.pem"
mv -f "$W/ca.key" "$DIR/"
mv -f "$W/ca.pem" "$DIR/"   # last: its presence means "complete"
