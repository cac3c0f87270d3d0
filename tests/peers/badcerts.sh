#!/bin/sh
# badcerts.sh DIR: hostile and policy-breaking server certificate chains
# for tests/certpolicy.c, served by tests/peers/evil_tls.c (BearSSL sends
# each entry as given, so malformed bytes go out unchanged). Idempotent:
# nothing to do once DIR/.badcerts-v1 exists (written last). Quiet on
# success; prints openssl's output on failure. Needs openssl and python3.
#
#   root.pem root.key         the test CA (RSA 2048, sha256): the only trust anchor
#   inter.pem                 intermediate CA (pathlen 0) under the root
#   nc-inter.pem              intermediate CA with a NON-critical nameConstraints
#                             extension: permitted DNS:other.test only
# Chains, for each NAME: NAME.key (PKCS#8 PEM), NAME.0.der (the leaf entry
# as evil_tls sends it), NAME.1.der (intermediate, when there is one),
# NAME.pem (the chain as PEM, where it is well-formed DER),
# NAME.sha256 (SHA-256 of the leaf's DER, hex: a pin), and for the
# malformed ones NAME.entry.sha256 (SHA-256 of the entry as sent).
# Every leaf is for localhost (SAN DNS:localhost, IP:127.0.0.1) unless said:
#   good          RSA 2048 leaf + intermediate: must be accepted
#   goodec        P-256 leaf + intermediate: must be accepted
#   trailing      a valid leaf (signed by the root) whose entry is its DER
#                 followed by 300 garbage bytes
#   trailing1     the same with 1 garbage byte
#   trailing600   the same with 600 garbage bytes
#   nc            leaf for localhost + nc-inter (whose constraint permits
#                 only other.test)
#   eku           extendedKeyUsage clientAuth only (non-critical)
#   rsa1024       RSA 1024-bit leaf key
#   sha1          leaf signed with sha1WithRSAEncryption
#   nosan         CN=localhost, no subjectAltName
#   wild          SAN DNS:*.test only (for host example.test: refused)
#   wild2         SAN DNS:*.example.test only (for host mx.example.test: accepted)
#   rsa8192       a CA-signed leaf whose key is an 8192-bit RSA public key
#                 (its modulus, 1024 bytes, is more than BearSSL's decoder
#                 keeps: BR_X509_BUFSIZE_KEY 520); the modulus is random and
#                 the server signs with another key: the client must stop
#                 at the certificate
#   big           a valid leaf longer than 8192 bytes (a 9000-byte comment
#                 extension): must be accepted
#   hijack        rsa8192's leaf with a 9600-byte modulus (signature no longer
#                 valid), its bytes placed for smtp.h v0.6 on x86-64: v0.6
#                 pushes every 256-byte piece of the leaf into a
#                 br_x509_decoder, which after its LIMIT_EXCEEDED error (the
#                 modulus is longer than its 520-byte buffer) goes on storing
#                 the modulus past pkey_data: over the SHA-256 context, the
#                 ee copy, smtp__x509's fields and the TLS transport's
#                 function pointers (s->tls.lower), here 0x41414141 (read),
#                 0x42424242 (write), 0x43434343 (close). Offsets from
#                 pkey_data measured on v0.6: ee_len +8832, index +8844,
#                 lower +8920, iobuf +8968. On another layout it is just a
#                 malformed certificate that must be refused
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
DIR=$1
MARK=.badcerts-v1
[ -f "$DIR/$MARK" ] && exit 0
mkdir -p "$DIR"
if command -v flock >/dev/null 2>&1; then
    exec 9>"$DIR/.badcerts.lock"
    flock 9
    [ -f "$DIR/$MARK" ] && exit 0
fi
W=$(mktemp -d "$DIR/.work.XXXXXX")
LOG=$W/log
trap 'rm -rf "$W"' EXIT
fail() {
    echo "badcerts.sh: $*" >&2
    cat "$W"/*log >&2 2>/dev/null || true
    exit 1
}
PY=/usr/bin/python3
[ -x $PY ] || PY=python3

cat >"$W/ext.cnf" <<'EOF'
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ nc_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
nameConstraints = permitted;DNS:other.test
[ leaf ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[ leaf_ec ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[ leaf_eku ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:localhost, IP:127.0.0.1
[ leaf_nosan ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ leaf_wild ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:*.test
[ leaf_wild2 ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:*.example.test
EOF
CNF=$W/ext.cnf
# the big leaf: the leaf profile plus a 9000-character comment
{
    echo "[ leaf_big ]"
    sed -n '/^\[ leaf \]/,/^subjectAltName/p' "$CNF" | sed 1d
    printf 'nsComment = "%s"\n' "$($PY -c 'print("x" * 9000)')"
} >>"$CNF"

rsakey() { openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:"$2" -out "$W/$1.key" >"$W/$1.keylog" 2>&1; }
# Keys: RSA ones in parallel (two at a time: the machine is shared); one RSA
# 2048 key serves every RSA 2048 leaf.
rsakey root 2048 & p1=$!
rsakey inter 2048 & p2=$!
wait $p1 || fail "key root"; wait $p2 || fail "key inter"
rsakey nc-inter 2048 & p1=$!
rsakey leaf 2048 & p2=$!
wait $p1 || fail "key nc-inter"; wait $p2 || fail "key leaf"
rsakey rsa1024 1024 || fail "key rsa1024"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$W/goodec.key" >>"$LOG" 2>&1 || fail "key ec"

openssl req -x509 -new -config "$CNF" -key "$W/root.key" -sha256 -days 3650 \
    -subj "/O=smtp.h badcerts/CN=smtp.h badcerts root" -extensions root -out "$W/root.pem" >>"$LOG" 2>&1 ||
    fail "root"

SERIAL=$(( $(date +%s) % 100000 * 100 ))
# issue OUT KEY ISSUER EXT CN [openssl x509 options...]: W/OUT.pem, KEY's key, signed by ISSUER
issue() {
    out=$1 key=$2 iss=$3 ext=$4 cn=$5
    shift 5
    SERIAL=$((SERIAL + 1))
    openssl req -new -config "$CNF" -key "$W/$key.key" -subj "/O=smtp.h badcerts/CN=$cn" \
        -out "$W/$out.csr" >>"$LOG" 2>&1 || fail "csr $out"
    openssl x509 -req -in "$W/$out.csr" -CA "$W/$iss.pem" -CAkey "$W/$iss.key" -set_serial "$SERIAL" \
        -extfile "$CNF" -extensions "$ext" -days 3650 -sha256 "$@" -out "$W/$out.pem" >>"$LOG" 2>&1 ||
        fail "sign $out"
}
issue inter inter root inter "smtp.h badcerts intermediate"
issue nc-inter nc-inter root nc_inter "smtp.h badcerts constrained intermediate"

der() { openssl x509 -in "$W/$1.pem" -outform DER -out "$W/$2" >>"$LOG" 2>&1 || fail "der $1"; }
sha() { sha256sum "$1" | cut -c1-64; }
# chain NAME KEY LEAFSTEM [INTERSTEM]: NAME.key, NAME.0.der, [NAME.1.der], NAME.pem, NAME.sha256
chain() {
    n=$1 k=$2 leaf=$3 int=${4:-}
    cp "$W/$k.key" "$W/out-$n.key"
    der "$leaf" "out-$n.0.der"
    cp "$W/$leaf.pem" "$W/out-$n.pem"
    if [ -n "$int" ]; then
        der "$int" "out-$n.1.der"
        cat "$W/$int.pem" >>"$W/out-$n.pem"
    fi
    sha "$W/out-$n.0.der" >"$W/out-$n.sha256"
}

issue good leaf inter leaf localhost
chain good leaf good inter
issue goodec goodec inter leaf_ec localhost
chain goodec goodec goodec inter

issue plain leaf root leaf localhost
for g in 300 1 600; do
    n=trailing; [ $g = 300 ] || n=trailing$g
    chain "$n" leaf plain
    # the leaf's DER, then g garbage bytes (0xA5) inside the same Certificate entry
    $PY -c "import sys; sys.stdout.buffer.write(b'\xa5' * $g)" >>"$W/out-$n.0.der"
    rm -f "$W/out-$n.pem"
    sha "$W/out-$n.0.der" >"$W/out-$n.entry.sha256"
done

issue ncleaf leaf nc-inter leaf localhost
chain nc leaf ncleaf nc-inter
issue eku leaf root leaf_eku localhost
chain eku leaf eku
issue rsa1024 rsa1024 root leaf localhost
chain rsa1024 rsa1024 rsa1024
issue sha1 leaf root leaf localhost -sha1
chain sha1 leaf sha1
issue nosan leaf root leaf_nosan localhost
chain nosan leaf nosan
issue wild leaf root leaf_wild "*.test"
chain wild leaf wild
issue wild2 leaf root leaf_wild2 "*.example.test"
chain wild2 leaf wild2
issue big leaf root leaf_big localhost
chain big leaf big

# rsa8192: an RSA public key with a random odd 8192-bit modulus (e = 65537),
# put into a CA-signed certificate with -force_pubkey
$PY - "$W/rsa8192.pub.der" <<'EOF'
import os, sys
def tlv(tag, body):
    n = len(body)
    if n < 0x80: l = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big"); l = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + l + body
m = bytearray(os.urandom(1024)); m[0] |= 0x80; m[-1] |= 1
rsa = tlv(0x30, tlv(0x02, b"\x00" + bytes(m)) + tlv(0x02, b"\x01\x00\x01"))
alg = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
open(sys.argv[1], "wb").write(tlv(0x30, alg + tlv(0x03, b"\x00" + rsa)))
EOF
openssl pkey -pubin -inform DER -in "$W/rsa8192.pub.der" -out "$W/rsa8192.pub.pem" >>"$LOG" 2>&1 || fail "rsa8192 pub"
issue rsa8192 leaf root leaf localhost -force_pubkey "$W/rsa8192.pub.pem"
chain rsa8192 leaf rsa8192

# hijack: rsa8192's leaf with its modulus replaced (see above)
$PY - "$W/out-rsa8192.0.der" "$W/out-hijack.0.der" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
def hdr(b, i):                       # tag, content start, content length
    l = b[i + 1]; j = i + 2
    if l & 0x80:
        k = l & 0x7F; l = int.from_bytes(b[j:j + k], "big"); j += k
    return b[i], j, l
def tlv(tag, body):
    n = len(body)
    if n < 0x80: l = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big"); l = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + l + body
def children(b, start, length):
    out, i = [], start
    while i < start + length:
        t, s, l = hdr(b, i); out.append(b[i:s + l]); i = s + l
    return out
_, c0, cl = hdr(d, 0)
tbs, sigalg, sig = children(d, c0, cl)
_, t0, tl = hdr(tbs, 0)
fields = children(tbs, t0, tl)       # [0] version, serial, sigalg, issuer, validity, subject, spki, [3]
def build(body):
    rsa = tlv(0x30, tlv(0x02, b"\x00" + body) + tlv(0x02, b"\x01\x00\x01"))
    alg = tlv(0x30, tlv(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
    f = list(fields); f[6] = tlv(0x30, alg + tlv(0x03, b"\x00" + rsa))
    return tlv(0x30, tlv(0x30, b"".join(f)) + sigalg + sig)
LM = 9600
probe = build(b"\x11" * LM)
M = probe.index(b"\x02\x82" + (LM + 1).to_bytes(2, "big") + b"\x00") + 4   # the 0x00 before the modulus
# The decoder keeps modulus bytes 0..519 in pkey_data, fails on byte 520 and
# stores it at pkey_data+520 on the next push; the rest of that piece is
# skipped; from the next 256-byte boundary B on, byte k goes to pkey_data+521+k.
B = ((M + 1 + 520) // 256 + 1) * 256
jB = B - (M + 1)
END = 8968                            # iobuf: stop after its first byte
tgt = bytearray(END + 1 - 521)
def put(off, data): tgt[off - 521:off - 521 + len(data)] = data
put(8832, struct.pack("<Q", 0x10000))  # ee_len: past ee, so no copy into it
put(8840, struct.pack("<i", 1))        # ee_over
put(8844, struct.pack("<i", 1))        # index != 0: no further pushes (nothing else runs wild)
put(8864, struct.pack("<i", 1))        # chain_seen
put(8920, struct.pack("<Q", 0x41414141))   # lower.read
put(8928, struct.pack("<Q", 0x42424242))   # lower.write
put(8936, struct.pack("<Q", 0x43434343))   # lower.close
put(END, b"\x16")                      # iobuf[0]: the record type it held
body = bytearray(b"\x11" * LM)
body[jB:jB + len(tgt)] = tgt
out = build(bytes(body))
assert len(out) == len(probe)
open(sys.argv[2], "wb").write(out)
EOF
[ -s "$W/out-hijack.0.der" ] || fail "hijack"
cp "$W/leaf.key" "$W/out-hijack.key"
sha "$W/out-hijack.0.der" >"$W/out-hijack.sha256"

cp "$W/root.pem" "$W/out-root.pem"; cp "$W/root.key" "$W/out-root.key"
cp "$W/inter.pem" "$W/out-inter.pem"; cp "$W/nc-inter.pem" "$W/out-nc-inter.pem"
for f in "$W"/out-*; do
    b=${f##*/out-}
    chmod 644 "$f"
    mv -f "$f" "$DIR/$b"
done
: >"$DIR/$MARK"
