#!/bin/bash
# transcripts.sh A B - the bytes the client wrote to tests/fake.h's peer in
# two unit runs (UNIT_TRANSCRIPT), test by test: the blocking calls (A) and
# the same tests stepped with smtp_step (B) must agree byte for byte. What
# differs by design between two sessions is masked first: the Date header
# and the 16-hex-digit session nonce (Message-ID, MIME boundaries).
set -u
[ -s "$1" ] && [ -s "$2" ] || { echo "transcripts: $1 or $2 is missing or empty"; exit 1; }
mask() { LC_ALL=C sed -e 's/^Date: .*/Date: (masked)/' -e 's/[0-9a-f]\{16\}/(nonce)/g' "$1"; }
a=$(mktemp) b=$(mktemp)
trap 'rm -f "$a" "$b"' EXIT
mask "$1" > "$a"; mask "$2" > "$b"
tests=$(grep -c '^=== ' "$a")
if ! cmp -s "$a" "$b"; then
    first=$(LC_ALL=C diff "$a" "$b" | head -1 | sed 's/[acd].*//; s/,.*//')
    echo "transcripts: the stepped run sent other bytes than the blocking run; first difference near line $first, in test:"
    LC_ALL=C head -n "$first" "$a" | grep '^=== ' | tail -1
    LC_ALL=C diff "$a" "$b" | head -20
    exit 1
fi
echo "transcripts: $tests test sessions, $(wc -c < "$a") bytes, equal in both runs"
