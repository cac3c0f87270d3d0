#!/bin/bash
# deps.sh - install the Debian packages `make ports` needs (idempotent, like
# make deps): cross compilers with their libc, qemu-user, musl-gcc, tcc,
# mingw-w64 and wine64, dpkg-dev for dpkg-source. Nothing in /etc changes.
set -eu
PKGS=(qemu-user
      gcc-s390x-linux-gnu libc6-dev-s390x-cross
      gcc-powerpc-linux-gnu libc6-dev-powerpc-cross
      gcc-arm-linux-gnueabihf libc6-dev-armhf-cross
      gcc-i686-linux-gnu libc6-dev-i386-cross
      musl-tools tcc
      gcc-mingw-w64-x86-64 mingw-w64-x86-64-dev wine wine64
      dpkg-dev xz-utils python3 python3-aiosmtpd openssl)
missing=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "ports deps: installing ${missing[*]}"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
