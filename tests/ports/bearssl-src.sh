#!/bin/bash
# bearssl-src.sh CACHE: Debian's bearssl source package, unpacked once into
# CACHE/bearssl-src (idempotent: nothing to do once CACHE/bearssl-src/.ok
# exists). apt-get source needs deb-src lines; rather than add them to the
# system's sources, this runs apt with a private source list derived from
# the system's Debian entries (same mirrors and suites, Types deb-src) and a
# private lists/cache directory under CACHE/apt. /etc is never written, and
# the system's package lists are untouched.
set -eu
CACHE=$(realpath -m "$1")
SRC=$CACHE/bearssl-src
[ -f "$SRC/.ok" ] && exit 0
APT=$CACHE/apt
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial" "$APT/parts.d" "$CACHE/dl"

# The system's Debian entries as deb-src (one-line and deb822 formats).
{
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\/debian\(-security\)\?\/\?[[:space:]].*\)$/deb-src \1\2/p' "$f"
    done
} > "$APT/sources.list"
for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    # keep stanzas whose URIs end in /debian or /debian-security; Types -> deb-src
    awk 'BEGIN { RS = ""; ORS = "\n\n" }
         /URIs:[^\n]*\/debian(-security)?\/?([ \t\n]|$)/ && !/Enabled:[ \t]*no/ {
             gsub(/Types:[^\n]*/, "Types: deb-src"); print }' "$f"
done > "$APT/parts.d/debian-src.sources"
if ! grep -q deb-src "$APT/sources.list" "$APT/parts.d/debian-src.sources"; then
    echo "bearssl-src.sh: no Debian entry in the system's apt sources to derive deb-src from" >&2
    exit 1
fi
APTOPT=(-o Dir::Etc::SourceList="$APT/sources.list" -o Dir::Etc::SourceParts="$APT/parts.d"
        -o Dir::State::Lists="$APT/lists" -o Dir::Cache="$APT/cache"
        -o APT::Sandbox::User=root)
apt-get -qq "${APTOPT[@]}" update
rm -rf "$CACHE/dl"/*
(cd "$CACHE/dl" && apt-get -qq "${APTOPT[@]}" source --download-only bearssl)
rm -rf "$SRC"
dpkg-source --no-check -x "$CACHE/dl"/bearssl_*.dsc "$SRC" >/dev/null
# the lists and the download are only needed once (dpkg-source also left
# a link to the orig tarball beside the unpacked tree)
rm -rf "$APT" "$CACHE/dl" "$CACHE"/bearssl_*.orig.tar.*
touch "$SRC/.ok"
