#!/bin/bash
# deps.sh: what `make interop` needs beyond `make deps`. Idempotent; quiet
# when everything is there.
#  - Debian packages that install beside Postfix: dovecot-core,
#    dovecot-submissiond, chasquid, m4 (sendmail's .mc), and the libraries
#    the unpacked Exim needs (libmariadb3, libspf2-2); nodejs and npm when
#    there is no node.
#  - Packages that conflict with Postfix (they provide mail-transport-agent
#    or replace /usr/sbin/sendmail) are never installed: apt-get download +
#    dpkg-deb -x into tests/interop/.cache/<package>/ (gitignored):
#    exim4-daemon-heavy, opensmtpd, sendmail-base, sendmail-bin,
#    sendmail-cf, msmtp-mta.
#  - npm: smtp-server and Haraka at the versions of package-lock.json, into
#    tests/interop/.cache/node/node_modules.
#  - Run-as users: Debian-exim; opensmtpd and opensmtpq (as opensmtpd's
#    postinst makes them), and OpenSMTPD's empty directories
#    /var/lib/opensmtpd/empty and /var/spool/smtpd.
set -eu
source "$(dirname "$0")/lib.sh"
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

APT=(dovecot-core dovecot-submissiond chasquid m4 libmariadb3 libspf2-2)
command -v node >/dev/null 2>&1 || APT+=(nodejs)
command -v npm >/dev/null 2>&1 || APT+=(npm)
missing=()
for p in "${APT[@]}"; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    ilog "installing ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

UNPACK=(exim4-daemon-heavy opensmtpd sendmail-base sendmail-bin sendmail-cf msmtp-mta)
mkdir -p "$CACHE/deb"
for p in "${UNPACK[@]}"; do
    [ -f "$CACHE/$p/.version" ] && continue   # rm -rf tests/interop/.cache to take newer ones
    want=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^ *Candidate: //p')
    if [ -z "$want" ] || [ "$want" = "(none)" ]; then
        $SUDO apt-get update -qq
        want=$(apt-cache policy "$p" | sed -n 's/^ *Candidate: //p')
    fi
    ilog "unpacking $p $want into $CACHE/$p"
    rm -rf "$CACHE/$p" "$CACHE/deb/${p}_"*.deb
    # _apt cannot write into a directory below /root-owned paths: download as is
    (cd "$CACHE/deb" && apt-get download -q "$p=$want" >/dev/null 2>&1 || apt-get download -q "$p" >/dev/null)
    dpkg-deb -x "$CACHE/deb/${p}_"*.deb "$CACHE/$p"
    echo "$want" >"$CACHE/$p/.version"
done
if ldd "$CACHE/exim4-daemon-heavy/usr/sbin/exim4" | grep -q 'not found'; then
    ilog "exim4 lacks libraries:"; ldd "$CACHE/exim4-daemon-heavy/usr/sbin/exim4" | grep 'not found' >&2; exit 1
fi

N=$CACHE/node
if ! cmp -s "$INTEROP/package-lock.json" "$N/package-lock.json" || [ ! -d "$N/node_modules/Haraka" ] ||
   [ ! -d "$N/node_modules/smtp-server" ]; then
    ilog "npm: smtp-server and Haraka into $N"
    mkdir -p "$N"
    cp "$INTEROP/package.json" "$INTEROP/package-lock.json" "$N/"
    (cd "$N" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

getent passwd Debian-exim >/dev/null || $SUDO useradd -r -M -s /usr/sbin/nologin Debian-exim
for u in opensmtpd opensmtpq; do
    getent group "$u" >/dev/null || $SUDO addgroup --quiet --system "$u"
    getent passwd "$u" >/dev/null || $SUDO adduser --quiet --system --home /var/lib/opensmtpd/empty \
        --no-create-home --disabled-password --ingroup "$u" "$u"
done
# OpenSMTPD's fixed paths: the users' chroot and the spool mount point
# (opensmtpd.sh mounts a private spool there, in its own namespace)
$SUDO mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd
exit 0
